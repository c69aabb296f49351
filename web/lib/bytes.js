// @ts-check
/**
 * Byte helpers shared by every module of the end-to-end layer: hex, UTF-8,
 * big-endian integers, concatenation and a length-independent compare.
 * @module
 */

/** A typed error for malformed input, carrying the field that was wrong. */
export class WireError extends Error {
  /**
   * @param {string} field
   * @param {string} reason
   */
  constructor(field, reason) {
    super(`${field}: ${reason}`);
    this.name = 'WireError';
    this.field = field;
  }
}

/** @param {Uint8Array} bytes */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** @param {string} hex */
export function fromHex(hex) {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new WireError('hex', 'not an even number of hex digits');
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** @param {string} text */
export function utf8(text) {
  return encoder.encode(text);
}

/**
 * Decode UTF-8, refusing invalid sequences.
 * @param {Uint8Array} bytes
 */
export function fromUtf8(bytes) {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new WireError('text', 'not valid UTF-8');
  }
}

/** @param {...Uint8Array} parts */
export function concat(...parts) {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @param {number} value */
export function u16(value) {
  return new Uint8Array([(value >>> 8) & 0xff, value & 0xff]);
}

/** @param {number} value */
export function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

/** @param {bigint} value */
export function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value));
  return out;
}

/**
 * Compare two byte strings in time that depends only on their lengths.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrite a buffer that held a secret. @param {Uint8Array | undefined | null} bytes */
export function wipe(bytes) {
  if (bytes) bytes.fill(0);
}

/** base64url without padding. @param {Uint8Array} bytes */
export function toBase64Url(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {string} text */
export function fromBase64Url(text) {
  if (/[^A-Za-z0-9_-]/.test(text)) throw new WireError('base64url', 'unexpected character');
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let bin;
  try {
    bin = atob(padded);
  } catch {
    throw new WireError('base64url', 'not base64url');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * A cursor over received bytes; every read checks the length first.
 */
export class Reader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** @param {string} field @param {number} len */
  take(field, len) {
    if (len < 0 || this.at + len > this.bytes.length) throw new WireError(field, 'truncated');
    const out = this.bytes.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }

  /** @param {string} field */
  u8(field) {
    return this.take(field, 1)[0];
  }

  /** @param {string} field */
  u16(field) {
    this.take(field, 2);
    return this.view.getUint16(this.at - 2);
  }

  /** @param {string} field */
  u32(field) {
    this.take(field, 4);
    return this.view.getUint32(this.at - 4);
  }

  /** @param {string} field */
  i32(field) {
    this.take(field, 4);
    return this.view.getInt32(this.at - 4);
  }

  /** @param {string} field */
  u64(field) {
    this.take(field, 8);
    return this.view.getBigUint64(this.at - 8);
  }

  /** A one-byte length, then that many bytes, within [min, max]. @param {string} field @param {number} min @param {number} max */
  short(field, min, max) {
    const len = this.u8(field);
    if (len < min || len > max) throw new WireError(field, `length ${len} outside ${min}..${max}`);
    return this.take(field, len);
  }

  rest() {
    return this.take('rest', this.bytes.length - this.at);
  }

  remaining() {
    return this.bytes.length - this.at;
  }

  /** Refuse trailing bytes. */
  finish() {
    if (this.at !== this.bytes.length) throw new WireError('message', 'trailing bytes');
  }
}
