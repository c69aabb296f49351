// The browser's screen decoder on streams written by `fernhand bench
// browser`: node test/decode-bench.mjs DIR. DIR holds manifest.json, and
// per sequence NAME.stream (updates, each behind a 4-byte length) and
// NAME.final (the reference decoder's last picture, RGB). Prints one JSON
// object: per sequence the time per update (parse, apply, paint), its p99,
// and how many pictures differed from the reference.
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (!dir) throw new Error('usage: decode-bench.mjs DIR');

const browser = await launch();
try {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => console.error(`[page] ${m.text()}`));
  await page.route('http://localhost/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>decode</title>' });
    const [root, rel] = path.startsWith('/web/') ? [web, path.slice(5)] : path.startsWith('/data/') ? [dir, path.slice(6)] : [null, ''];
    if (!root || normalize(rel).startsWith('..')) return route.fulfill({ status: 404, body: '' });
    const type = rel.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
    return route.fulfill({ contentType: type, body: await readFile(join(root, rel)) });
  });
  await page.goto('http://localhost/');
  const results = await page.evaluate(async () => {
    const { decode } = await import('/web/lib/screen/wire.js');
    const { ScreenDecoder } = await import('/web/lib/screen/decoder.js');
    const hex = (/** @type {ArrayBuffer} */ b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
    const manifest = await (await fetch('/data/manifest.json')).json();
    /** @type {Record<string, any>} */
    const out = {};
    for (const seq of manifest.sequences) {
      const stream = new Uint8Array(await (await fetch(`/data/${seq.name}.stream`)).arrayBuffer());
      const view = new DataView(stream.buffer);
      const decoder = new ScreenDecoder();
      const canvas = document.createElement('canvas');
      const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
      const times = [];
      let mismatches = 0;
      let exact = 0;
      let at = 0;
      let i = 0;
      while (at < stream.length) {
        const len = view.getUint32(at);
        const bytes = stream.subarray(at + 4, at + 4 + len);
        at += 4 + len;
        const t0 = performance.now();
        const m = await decode(bytes);
        if (m.kind !== 'update') throw new Error('not an update');
        await decoder.apply(m.update);
        if (canvas.width !== decoder.width || canvas.height !== decoder.height) {
          canvas.width = decoder.width;
          canvas.height = decoder.height;
        }
        const d = decoder.dirty;
        if (d) ctx.putImageData(decoder.imageData(), 0, 0, d.x, d.y, d.w, d.h);
        times.push(performance.now() - t0);
        const check = seq.checks[i++];
        if (check.exact) {
          exact++;
          const rgb = new Uint8Array((decoder.pixels.length / 4) * 3);
          for (let p = 0, q = 0; p < decoder.pixels.length; p += 4, q += 3) {
            rgb[q] = decoder.pixels[p];
            rgb[q + 1] = decoder.pixels[p + 1];
            rgb[q + 2] = decoder.pixels[p + 2];
          }
          if (hex(await crypto.subtle.digest('SHA-256', rgb)) !== check.sha256) mismatches++;
        }
      }
      // The last picture: within the rounding of the browser's own JPEG and
      // H.264 decoders (they are not the Rust ones).
      const ref = new Uint8Array(await (await fetch(`/data/${seq.name}.final`)).arrayBuffer());
      let maxDiff = 0;
      let far = 0;
      for (let p = 0, q = 0; q < ref.length; p += 4, q += 3) {
        const d = Math.max(Math.abs(decoder.pixels[p] - ref[q]), Math.abs(decoder.pixels[p + 1] - ref[q + 1]), Math.abs(decoder.pixels[p + 2] - ref[q + 2]));
        if (d > maxDiff) maxDiff = d;
        if (d > 24) far++;
      }
      if (ref.length !== (decoder.pixels.length / 4) * 3 || far > ref.length / 3 / 1000) mismatches++;
      const sorted = [...times].sort((a, b) => a - b);
      out[seq.name] = {
        updates: times.length,
        ms_per_update: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
        p99_ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
        exact_checks: exact,
        final_max_diff: maxDiff,
        final_far_pixels: far,
        mismatches,
      };
    }
    return out;
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  await browser.close();
}
