// Helpers for the browser tests: TOTP codes (RFC 6238, as an
// authenticator app makes them), waiting, child processes whose output
// lines a test reads, an XWD reader for the X server's own picture, and
// the README's screenshots.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createInterface } from 'node:readline';

/** @param {string} secret base32 @param {number} [at] ms */
export function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @type {import('node:readline').Interface | null} */
let lines = null;
/** @type {((line: string) => void)[]} */
const waiting = [];

/**
 * Ask the Rust side of the test to do or check something (a line
 * `@@ <what>` on the output); resolves when it answers on the input.
 * @param {string} what
 */
export async function ask(what) {
  if (!lines) {
    const { createInterface } = await import('node:readline');
    lines = createInterface({ input: process.stdin });
    lines.on('line', (l) => waiting.shift()?.(l));
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    process.stdout.write(`@@ ${what}\n`);
  });
}

/**
 * Poll `check` until it returns a truthy value or `ms` pass.
 * @template T @param {string} what @param {() => Promise<T> | T} check @param {number} [ms]
 * @returns {Promise<T>}
 */
export async function until(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${last})` : ''}`);
    await sleep(100);
  }
}

/** A child process whose output lines can be awaited. */
export class Child {
  /** @param {string} name @param {string} cmd @param {string[]} args @param {Record<string, string>} env */
  constructor(name, cmd, args, env) {
    this.name = name;
    this.lines = [];
    /** @type {((line: string) => void)[]} */
    this.waiters = [];
    this.proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      console.error(`[${name}] ${line}`);
      this.lines.push(line);
      for (const w of this.waiters.splice(0)) w(line);
    });
  }

  /** @param {string} what @param {(line: string) => boolean} want @param {number} [ms] */
  async line(what, want, ms = 30000) {
    return until(`${this.name}: ${what}`, () => this.lines.find(want), ms);
  }

  /** @param {string} text */
  send(text) {
    this.proc.stdin.write(`${text}\n`);
  }

  kill() {
    this.proc.kill('SIGKILL');
  }
}

/**
 * Parse an XWD dump of a 24/32-bit TrueColor screen into RGBA.
 * @param {Buffer} buf
 */
export function parseXwd(buf) {
  const u = (i) => buf.readUInt32BE(i * 4);
  const headerSize = u(0);
  const width = u(4);
  const height = u(5);
  const byteOrder = u(7);
  const bitsPerPixel = u(11);
  const bytesPerLine = u(12);
  const redMask = u(14);
  const ncolors = u(19);
  if (bitsPerPixel !== 32) throw new Error(`XWD with ${bitsPerPixel} bits per pixel`);
  const data = headerSize + ncolors * 12;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = data + y * bytesPerLine + x * 4;
      const px = byteOrder === 0 ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
      const o = (y * width + x) * 4;
      if (redMask === 0xff0000) {
        rgba[o] = (px >> 16) & 255;
        rgba[o + 1] = (px >> 8) & 255;
        rgba[o + 2] = px & 255;
      } else {
        rgba[o] = px & 255;
        rgba[o + 1] = (px >> 8) & 255;
        rgba[o + 2] = (px >> 16) & 255;
      }
      rgba[o + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/**
 * A screenshot for the README under `FERNHAND_SCREENSHOTS`, when the run
 * asks for them: from the top of the page, the viewport or the whole page.
 * @param {import('playwright-core').Page} page @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
export async function shot(page, name, { fullPage = false } = {}) {
  const dir = process.env.FERNHAND_SCREENSHOTS;
  if (!dir) return;
  const { mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  mkdirSync(dir, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage });
}
