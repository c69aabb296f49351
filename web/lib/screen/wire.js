// @ts-check
/**
 * The screen stream's messages (docs/protocol.md §9), parsed exactly as
 * the Rust reference (`crates/screen/src/wire.rs`) parses them: updates
 * with their operations and zlib section, cursor shape and position, and
 * the viewer's Ack and Refresh. Anything else is refused.
 * @module
 */

import { concat, fromUtf8, Reader, u32, WireError } from '../bytes.js';

export const UPDATE = 0x01;
export const CURSOR_SHAPE = 0x02;
export const CURSOR_POSITION = 0x03;
export const MONITORS = 0x04;
export const ACK = 0x10;
export const REFRESH = 0x11;
const FLAG_KEYFRAME = 0x01;
const VIDEO_NEW_STREAM = 0x01;
export const MAX_PIXELS = 1 << 25;
const MAX_UNPACKED = 3 * MAX_PIXELS + (4 << 20);
const MAX_CURSOR = 256;
export const CACHE_SLOTS = 512;
export const CACHE_MAX_AREA = 64 * 64;

/**
 * @typedef {{ x: number, y: number, w: number, h: number }} Rect
 * @typedef {{ op: 'copy', src: Rect, dx: number, dy: number }
 *   | { op: 'solid', rect: Rect, rgb: number }
 *   | { op: 'palette', rect: Rect, colours: number[], indices: Uint8Array }
 *   | { op: 'raw', rect: Rect, rgb: Uint8Array }
 *   | { op: 'jpeg', rect: Rect, data: Uint8Array }
 *   | { op: 'video', rect: Rect, newStream: boolean, data: Uint8Array }
 *   | { op: 'cached', rect: Rect, slot: number }} Op
 * @typedef {{ keyframe: boolean, seq: number, width: number, height: number, ops: Op[] }} Update
 * @typedef {{ kind: 'update', update: Update }
 *   | { kind: 'cursor_shape', id: number, width: number, height: number, hotX: number, hotY: number, rgba: Uint8Array }
 *   | { kind: 'cursor_position', id: number, x: number, y: number, visible: boolean }
 *   | { kind: 'monitors', monitors: { name: string, rect: Rect, primary: boolean }[] }
 *   | { kind: 'ack', seq: number }
 *   | { kind: 'refresh' }} ScreenMessage
 */

/** @param {Reader} r @param {number} width @param {number} height */
function rect(r, width, height) {
  const x = r.u16('x');
  const y = r.u16('y');
  const w = r.u16('w');
  const h = r.u16('h');
  return checked({ x, y, w, h }, width, height);
}

/** @param {Rect} q @param {number} width @param {number} height */
function checked(q, width, height) {
  if (q.w === 0 || q.h === 0 || q.x + q.w > width || q.y + q.h > height) {
    throw new WireError('rectangle', `${q.w}×${q.h} at ${q.x},${q.y} outside ${width}×${height}`);
  }
  return q;
}

/** @param {number} colours */
function indexBits(colours) {
  return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
}

/** @param {number} w @param {number} bits */
function packedRow(w, bits) {
  return Math.ceil((w * bits) / 8);
}

/**
 * zlib-decompress exactly `len` bytes (a longer or shorter result is
 * refused), with the browser's own inflater.
 * @param {Uint8Array} packed @param {number} len
 */
export async function unzlib(packed, len) {
  if (len === 0 && packed.length === 0) return new Uint8Array(0);
  const stream = new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (packed.slice())]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const out = new Uint8Array(len);
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > len) throw new WireError('zlib section', 'longer than declared');
      out.set(value, at);
      at += value.length;
    }
  } catch (e) {
    if (e instanceof WireError) throw e;
    throw new WireError('zlib section', 'corrupt');
  } finally {
    reader.releaseLock();
  }
  if (at !== len) throw new WireError('zlib section', 'shorter than declared');
  return out;
}

/** @param {Uint8Array} c @param {number} at */
const rgbAt = (c, at) => (c[at] << 16) | (c[at + 1] << 8) | c[at + 2];

/** @param {Reader} r @returns {Promise<Update>} */
async function update(r) {
  const flags = r.u8('flags');
  if (flags & ~FLAG_KEYFRAME) throw new WireError('flags', 'reserved bits');
  const seq = r.u32('seq');
  const width = r.u16('width');
  const height = r.u16('height');
  const pixels = width * height;
  if (pixels > MAX_PIXELS) throw new WireError('picture', 'too large');
  let painted = 0;
  const count = r.u16('op count');
  const packedLen = r.u32('packed length');
  const unpackedLen = r.u32('unpacked length');
  if (unpackedLen > MAX_UNPACKED) throw new WireError('section', 'too large');
  /** @type {(Op | { op: 'palette?', rect: Rect, n: number } | { op: 'raw?', rect: Rect })[]} */
  const pending = [];
  let need = 0;
  for (let i = 0; i < count; i++) {
    const code = r.u8('op');
    switch (code) {
      case 0x01: {
        const src = rect(r, width, height);
        const dx = r.u16('dst x');
        const dy = r.u16('dst y');
        checked({ x: dx, y: dy, w: src.w, h: src.h }, width, height);
        pending.push({ op: 'copy', src, dx, dy });
        break;
      }
      case 0x02: {
        const q = rect(r, width, height);
        pending.push({ op: 'solid', rect: q, rgb: rgbAt(r.take('colour', 3), 0) });
        break;
      }
      case 0x03: {
        const q = rect(r, width, height);
        const n = r.u8('colours') + 1;
        painted += q.w * q.h;
        need += n * 3 + packedRow(q.w, indexBits(n)) * q.h;
        pending.push({ op: 'palette?', rect: q, n });
        break;
      }
      case 0x04: {
        const q = rect(r, width, height);
        painted += q.w * q.h;
        need += q.w * q.h * 3;
        pending.push({ op: 'raw?', rect: q });
        break;
      }
      case 0x05: {
        const q = rect(r, width, height);
        painted += q.w * q.h;
        const len = r.u32('jpeg length');
        pending.push({ op: 'jpeg', rect: q, data: r.take('jpeg', len) });
        break;
      }
      case 0x06: {
        const q = rect(r, width, height);
        if (q.w % 2 || q.h % 2) throw new WireError('video rectangle', 'odd side');
        painted += q.w * q.h;
        const vflags = r.u8('video flags');
        if (vflags & ~VIDEO_NEW_STREAM) throw new WireError('video flags', 'reserved bits');
        const len = r.u32('video length');
        pending.push({ op: 'video', rect: q, newStream: (vflags & VIDEO_NEW_STREAM) !== 0, data: r.take('video', len) });
        break;
      }
      case 0x07: {
        const q = rect(r, width, height);
        painted += q.w * q.h;
        const slot = r.u16('slot');
        if (slot >= CACHE_SLOTS || q.w * q.h > CACHE_MAX_AREA) throw new WireError('cache slot', 'no such slot');
        pending.push({ op: 'cached', rect: q, slot });
        break;
      }
      default:
        throw new WireError('op', `unknown ${code}`);
    }
    if (painted > pixels) throw new WireError('picture', 'painted more than once');
  }
  if (need !== unpackedLen) throw new WireError('section', 'size differs from what the operations need');
  const packed = r.take('section', packedLen);
  r.finish();
  const section = await unzlib(packed, unpackedLen);
  let at = 0;
  /** @param {number} n */
  const next = (n) => {
    const out = section.subarray(at, at + n);
    at += n;
    return out;
  };
  /** @type {Op[]} */
  const ops = [];
  for (const p of pending) {
    if (p.op === 'palette?') {
      const c = next(p.n * 3);
      const colours = [];
      for (let i = 0; i < p.n; i++) colours.push(rgbAt(c, 3 * i));
      const bits = indexBits(p.n);
      const row = packedRow(p.rect.w, bits);
      const data = next(row * p.rect.h);
      const indices = new Uint8Array(p.rect.w * p.rect.h);
      const mask = (1 << bits) - 1;
      for (let y = 0; y < p.rect.h; y++) {
        for (let x = 0; x < p.rect.w; x++) {
          const bit = x * bits;
          const byte = data[y * row + (bit >> 3)];
          const v = (byte >> (8 - bits - (bit & 7))) & mask;
          if (v >= p.n) throw new WireError('palette', 'index past the palette');
          indices[y * p.rect.w + x] = v;
        }
      }
      ops.push({ op: 'palette', rect: p.rect, colours, indices });
    } else if (p.op === 'raw?') {
      ops.push({ op: 'raw', rect: p.rect, rgb: next(p.rect.w * p.rect.h * 3) });
    } else {
      ops.push(p);
    }
  }
  return { keyframe: (flags & FLAG_KEYFRAME) !== 0, seq, width, height, ops };
}

/** @param {Uint8Array} bytes @returns {Promise<ScreenMessage>} */
export async function decode(bytes) {
  const r = new Reader(bytes);
  const kind = r.u8('kind');
  /** @type {ScreenMessage} */
  let m;
  switch (kind) {
    case UPDATE:
      return { kind: 'update', update: await update(r) };
    case CURSOR_SHAPE: {
      const id = r.u32('id');
      const width = r.u16('width');
      const height = r.u16('height');
      const hotX = r.u16('hot x');
      const hotY = r.u16('hot y');
      if (!width || !height || width > MAX_CURSOR || height > MAX_CURSOR || hotX >= width || hotY >= height) {
        throw new WireError('cursor', 'bad shape');
      }
      const len = r.u32('cursor length');
      const packed = r.take('cursor', len);
      r.finish();
      return { kind: 'cursor_shape', id, width, height, hotX, hotY, rgba: await unzlib(packed, width * height * 4) };
    }
    case CURSOR_POSITION: {
      const id = r.u32('id');
      const x = r.u16('x');
      const y = r.u16('y');
      const v = r.u8('visible');
      if (v > 1) throw new WireError('visible', 'reserved');
      m = { kind: 'cursor_position', id, x, y, visible: v === 1 };
      break;
    }
    case MONITORS: {
      const count = r.u8('monitor count');
      if (count < 1 || count > 16) throw new WireError('monitors', 'count');
      const monitors = [];
      for (let i = 0; i < count; i++) {
        const rect = { x: r.u16('x'), y: r.u16('y'), w: r.u16('w'), h: r.u16('h') };
        if (rect.w === 0 || rect.h === 0) throw new WireError('monitors', 'empty monitor');
        const primary = r.u8('primary');
        if (primary > 1) throw new WireError('primary', 'reserved');
        const name = fromUtf8(r.short('monitor name', 0, 64));
        monitors.push({ name, rect, primary: primary === 1 });
      }
      m = { kind: 'monitors', monitors };
      break;
    }
    case ACK:
      m = { kind: 'ack', seq: r.u32('seq') };
      break;
    case REFRESH:
      m = { kind: 'refresh' };
      break;
    default:
      throw new WireError('screen message', `unknown kind ${kind}`);
  }
  r.finish();
  return m;
}

/** The viewer's acknowledgement of update `seq`. @param {number} seq */
export function encodeAck(seq) {
  return concat(new Uint8Array([ACK]), u32(seq));
}

/** The viewer's request for a keyframe. */
export function encodeRefresh() {
  return new Uint8Array([REFRESH]);
}
