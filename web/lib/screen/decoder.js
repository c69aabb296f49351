// @ts-check
/**
 * Applies screen updates to the viewer's picture (an RGBA buffer), as the
 * Rust reference decoder does: every operation is prepared — JPEG tiles
 * decoded by the browser (`createImageBitmap`), H.264 pictures by
 * WebCodecs — and checked before any pixel changes, so a refused update
 * leaves the picture as it was; after one, only a keyframe is taken.
 * @module
 */

import { WireError } from '../bytes.js';
import { CACHE_MAX_AREA, CACHE_SLOTS } from './wire.js';

/** @typedef {import('./wire.js').Update} Update */
/** @typedef {import('./wire.js').Rect} Rect */

/** Decode a JPEG into RGBA of exactly `rect`'s size. @param {Uint8Array} data @param {Rect} rect */
async function jpegPixels(data, rect) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (data.slice())], { type: 'image/jpeg' }));
  } catch {
    throw new WireError('jpeg tile', 'not a JPEG the browser can decode');
  }
  try {
    if (bitmap.width !== rect.w || bitmap.height !== rect.h) throw new WireError('jpeg tile', 'size differs from its rectangle');
    const canvas = new OffscreenCanvas(rect.w, rect.h);
    const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.drawImage(bitmap, 0, 0);
    return new Uint8Array(ctx.getImageData(0, 0, rect.w, rect.h).data.buffer);
  } finally {
    bitmap.close();
  }
}

/** One H.264 stream over a rectangle, decoded by WebCodecs. */
class VideoStream {
  /** @param {Rect} rect @param {Uint8Array} firstUnit */
  constructor(rect, firstUnit) {
    if (typeof VideoDecoder === 'undefined') throw new WireError('video', 'this browser has no WebCodecs');
    this.rect = rect;
    /** @type {((f: VideoFrame) => void)[]} */
    this.waiting = [];
    this.failed = '';
    const sps = findSps(firstUnit);
    if (!sps) throw new WireError('video', 'new stream without an SPS');
    const hex = (/** @type {number} */ b) => b.toString(16).padStart(2, '0');
    this.decoder = new VideoDecoder({
      output: (frame) => {
        const w = this.waiting.shift();
        if (w) w(frame);
        else frame.close();
      },
      error: (e) => {
        this.failed = String(e);
      },
    });
    try {
      this.decoder.configure({ codec: `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`, optimizeForLatency: true });
    } catch (e) {
      throw new WireError('video', `the browser cannot decode this stream: ${e}`);
    }
    this.key = true;
  }

  /** @param {Uint8Array} unit @returns {Promise<Uint8Array>} RGBA of the rectangle */
  async decode(unit) {
    if (this.failed) throw new WireError('video', this.failed);
    const frame = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new WireError('video', 'no picture from the decoder')), 2000);
      this.waiting.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
      try {
        this.decoder.decode(new EncodedVideoChunk({ type: this.key ? 'key' : 'delta', timestamp: 0, data: unit }));
      } catch (e) {
        clearTimeout(timer);
        reject(new WireError('video', String(e)));
      }
      this.key = false;
    });
    try {
      if (frame.displayWidth !== this.rect.w || frame.displayHeight !== this.rect.h) {
        throw new WireError('video', 'picture size differs from its rectangle');
      }
      const canvas = new OffscreenCanvas(this.rect.w, this.rect.h);
      const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d'));
      ctx.drawImage(frame, 0, 0);
      return new Uint8Array(ctx.getImageData(0, 0, this.rect.w, this.rect.h).data.buffer);
    } finally {
      frame.close();
    }
  }

  close() {
    try {
      this.decoder.close();
    } catch {
      /* closed */
    }
  }
}

/** The SPS NAL unit of an Annex B access unit. @param {Uint8Array} au */
function findSps(au) {
  for (let i = 0; i + 4 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && (au[i + 3] & 0x1f) === 7) return au.subarray(i + 3, i + 8);
  }
  return null;
}

/** @param {number} rgb @returns {[number, number, number]} */
const split = (rgb) => [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];

export class ScreenDecoder {
  constructor() {
    this.width = 0;
    this.height = 0;
    /** RGBA, row-major */
    this.pixels = new Uint8ClampedArray(0);
    /** @type {number | null} */
    this.lastSeq = null;
    /** @type {VideoStream | null} */
    this.video = null;
    /** @type {(({ w: number, h: number, rgba: Uint8Array }) | undefined)[]} */
    this.cache = new Array(CACHE_SLOTS);
    this.cacheNext = 0;
    this.outOfStep = false;
    /** What the last applied update changed (its bounding box), or null. @type {Rect | null} */
    this.dirty = null;
    /** An ImageData over `pixels`, for painting without a copy. @type {ImageData | null} */
    this.image = null;
  }

  /** The picture as ImageData (shares the pixels). */
  imageData() {
    if (!this.image || this.image.data !== this.pixels) {
      this.image = new ImageData(this.pixels, Math.max(1, this.width), Math.max(1, this.height));
    }
    return this.image;
  }

  /** Apply an update; throws (and keeps the picture) when it is refused. @param {Update} u */
  async apply(u) {
    if (this.outOfStep && !u.keyframe) throw new WireError('update', 'waiting for a keyframe after a refused update');
    try {
      await this.tryApply(u);
      this.outOfStep = false;
    } catch (e) {
      this.outOfStep = true;
      throw e;
    }
  }

  /** @private @param {Update} u */
  async tryApply(u) {
    const resized = u.width !== this.width || u.height !== this.height;
    /** @type {({ kind: 'copy', src: Rect, dx: number, dy: number } | { kind: 'fill', rect: Rect, rgb: number } | { kind: 'pixels', rect: Rect, rgba: Uint8Array })[]} */
    const ready = [];
    /** @type {{ slot: number, entry: { w: number, h: number, rgba: Uint8Array } }[]} */
    const staged = [];
    let next = u.keyframe ? 0 : this.cacheNext;
    /** @type {VideoStream | null} */
    let newVideo = null;
    try {
      for (const o of u.ops) {
        switch (o.op) {
          case 'copy':
            ready.push({ kind: 'copy', src: o.src, dx: o.dx, dy: o.dy });
            break;
          case 'solid':
            ready.push({ kind: 'fill', rect: o.rect, rgb: o.rgb });
            break;
          case 'palette': {
            const n = o.rect.w * o.rect.h;
            const rgba = new Uint8Array(n * 4);
            const table = o.colours.map(split);
            for (let i = 0; i < n; i++) {
              const c = table[o.indices[i]];
              rgba[4 * i] = c[0];
              rgba[4 * i + 1] = c[1];
              rgba[4 * i + 2] = c[2];
              rgba[4 * i + 3] = 255;
            }
            if (n <= CACHE_MAX_AREA) {
              staged.push({ slot: next, entry: { w: o.rect.w, h: o.rect.h, rgba } });
              next = (next + 1) % CACHE_SLOTS;
            }
            ready.push({ kind: 'pixels', rect: o.rect, rgba });
            break;
          }
          case 'cached': {
            let entry;
            for (let i = staged.length - 1; i >= 0; i--) {
              if (staged[i].slot === o.slot) {
                entry = staged[i].entry;
                break;
              }
            }
            if (!entry && !u.keyframe) entry = this.cache[o.slot];
            if (!entry || entry.w !== o.rect.w || entry.h !== o.rect.h) throw new WireError('cache', `slot ${o.slot} does not hold that rectangle`);
            ready.push({ kind: 'pixels', rect: o.rect, rgba: entry.rgba });
            break;
          }
          case 'raw': {
            const n = o.rect.w * o.rect.h;
            const rgba = new Uint8Array(n * 4);
            for (let i = 0; i < n; i++) {
              rgba[4 * i] = o.rgb[3 * i];
              rgba[4 * i + 1] = o.rgb[3 * i + 1];
              rgba[4 * i + 2] = o.rgb[3 * i + 2];
              rgba[4 * i + 3] = 255;
            }
            ready.push({ kind: 'pixels', rect: o.rect, rgba });
            break;
          }
          case 'jpeg':
            ready.push({ kind: 'pixels', rect: o.rect, rgba: await jpegPixels(o.data, o.rect) });
            break;
          case 'video': {
            if (o.newStream) {
              newVideo?.close();
              newVideo = new VideoStream(o.rect, o.data);
            }
            const stream = newVideo ?? (resized ? null : this.video);
            if (!stream || stream.rect.x !== o.rect.x || stream.rect.y !== o.rect.y || stream.rect.w !== o.rect.w || stream.rect.h !== o.rect.h) {
              throw new WireError('video', 'picture without its stream');
            }
            ready.push({ kind: 'pixels', rect: o.rect, rgba: await stream.decode(o.data) });
            break;
          }
        }
      }
    } catch (e) {
      newVideo?.close();
      throw e;
    }
    if (resized) {
      this.width = u.width;
      this.height = u.height;
      this.pixels = new Uint8ClampedArray(u.width * u.height * 4);
      for (let i = 3; i < this.pixels.length; i += 4) this.pixels[i] = 255;
      this.video?.close();
      this.video = null;
    }
    if (newVideo) {
      this.video?.close();
      this.video = newVideo;
    }
    if (u.keyframe) {
      this.cache = new Array(CACHE_SLOTS);
      this.cacheNext = 0;
    }
    for (const s of staged) {
      this.cache[this.cacheNext] = s.entry;
      this.cacheNext = (this.cacheNext + 1) % CACHE_SLOTS;
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -1;
    let y1 = -1;
    for (const r of ready) {
      const q = r.kind === 'copy' ? { x: r.dx, y: r.dy, w: r.src.w, h: r.src.h } : r.rect;
      x0 = Math.min(x0, q.x);
      y0 = Math.min(y0, q.y);
      x1 = Math.max(x1, q.x + q.w);
      y1 = Math.max(y1, q.y + q.h);
    }
    this.dirty = resized ? { x: 0, y: 0, w: u.width, h: u.height } : x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    for (const r of ready) {
      if (r.kind === 'copy') this.copy(r.src, r.dx, r.dy);
      else if (r.kind === 'fill') this.fill(r.rect, r.rgb);
      else this.paste(r.rect, r.rgba);
    }
    this.lastSeq = u.seq;
  }

  /** @private @param {Rect} src @param {number} dx @param {number} dy */
  copy(src, dx, dy) {
    const tmp = new Uint8ClampedArray(src.w * src.h * 4);
    for (let y = 0; y < src.h; y++) {
      const from = ((src.y + y) * this.width + src.x) * 4;
      tmp.set(this.pixels.subarray(from, from + src.w * 4), y * src.w * 4);
    }
    this.paste({ x: dx, y: dy, w: src.w, h: src.h }, tmp);
  }

  /** @private @param {Rect} r @param {number} rgb */
  fill(r, rgb) {
    const [cr, cg, cb] = split(rgb);
    for (let y = r.y; y < r.y + r.h; y++) {
      let at = (y * this.width + r.x) * 4;
      for (let x = 0; x < r.w; x++, at += 4) {
        this.pixels[at] = cr;
        this.pixels[at + 1] = cg;
        this.pixels[at + 2] = cb;
        this.pixels[at + 3] = 255;
      }
    }
  }

  /** @private @param {Rect} r @param {Uint8Array | Uint8ClampedArray} rgba */
  paste(r, rgba) {
    for (let y = 0; y < r.h; y++) {
      this.pixels.set(rgba.subarray(y * r.w * 4, (y + 1) * r.w * 4), ((r.y + y) * this.width + r.x) * 4);
    }
  }
}
