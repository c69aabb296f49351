// @ts-check
/**
 * Decompression of packet bodies (docs/protocol.md §6): an original length
 * (4 bytes) then an LZ4 block. Bounded: the claimed length must be nonzero,
 * at most the packet limit and at most 255 × the block length, and the
 * block must produce exactly that many bytes. The browser never compresses
 * what it sends (a sender may always send a body as is).
 * @module
 */

import { WireError } from './bytes.js';

export const MAX_PLAINTEXT_LEN = 8 * 1024 * 1024;

/** @param {Uint8Array} body */
export function decompress(body) {
  if (body.length < 4) throw new WireError('compressed body', 'too short');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const len = view.getUint32(0);
  const block = body.subarray(4);
  if (len === 0 || len > MAX_PLAINTEXT_LEN || len > 255 * block.length) {
    throw new WireError('compressed body', `original length ${len} refused`);
  }
  const out = new Uint8Array(len);
  let i = 0;
  let o = 0;
  const bad = () => new WireError('compressed body', 'malformed LZ4 block');
  while (i < block.length) {
    const token = block[i++];
    let lit = token >>> 4;
    if (lit === 15) {
      for (;;) {
        if (i >= block.length) throw bad();
        const b = block[i++];
        lit += b;
        if (b !== 255) break;
      }
    }
    if (i + lit > block.length || o + lit > len) throw bad();
    out.set(block.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i === block.length) break; // the last sequence has literals only
    if (i + 2 > block.length) throw bad();
    const offset = block[i] | (block[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > o) throw bad();
    let mlen = (token & 15) + 4;
    if ((token & 15) === 15) {
      for (;;) {
        if (i >= block.length) throw bad();
        const b = block[i++];
        mlen += b;
        if (b !== 255) break;
      }
    }
    if (o + mlen > len) throw bad();
    for (let k = 0; k < mlen; k++, o++) out[o] = out[o - offset];
  }
  if (o !== len) throw bad();
  return out;
}
