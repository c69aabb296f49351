// @ts-check
/**
 * Key deliveries (docs/protocol.md §5): the leader wraps each epoch's group
 * key for each member under a key bound to suite, flags, epoch and
 * recipient, so a delivery cannot be re-addressed or re-numbered.
 * @module
 */

import { concat, Reader, u32, utf8, wipe, WireError } from './bytes.js';
import { aesKwUnwrap, aesKwWrap, hkdf } from './primitives.js';
import { suiteById } from './suites.js';

/** @typedef {import('./suites.js').Suite} Suite */

export const DELIVERY = 0x05;
const REVOKE_PREVIOUS = 0x01;

/**
 * @typedef {object} Delivery
 * @property {Suite} suite
 * @property {number} epoch
 * @property {number} recipient
 * @property {boolean} revokePrevious
 * @property {Uint8Array} bytes the encoded delivery
 */

/** @param {Suite} suite @param {number} flags @param {number} epoch @param {number} recipient @param {Uint8Array} memberSecret */
function kek(suite, flags, epoch, recipient, memberSecret) {
  const info = concat(new Uint8Array([suite.id, flags]), u32(epoch), u32(recipient));
  return hkdf(utf8('FH1 key wrap'), memberSecret, info, suite.keyLen);
}

/**
 * @param {Suite} suite @param {Uint8Array} memberSecret @param {number} epoch
 * @param {number} recipient @param {boolean} revokePrevious @param {Uint8Array} groupKey
 * @returns {Promise<Delivery>}
 */
export async function wrap(suite, memberSecret, epoch, recipient, revokePrevious, groupKey) {
  const flags = revokePrevious ? REVOKE_PREVIOUS : 0;
  const k = await kek(suite, flags, epoch, recipient, memberSecret);
  try {
    const wrapped = await aesKwWrap(k, groupKey);
    const bytes = concat(new Uint8Array([DELIVERY, suite.id, flags]), u32(epoch), u32(recipient), wrapped);
    return { suite, epoch, recipient, revokePrevious, bytes };
  } finally {
    wipe(k);
  }
}

/** @param {Uint8Array} bytes */
export function decode(bytes) {
  const r = new Reader(bytes);
  if (r.u8('type') !== DELIVERY) throw new WireError('type', 'not a key delivery');
  const id = r.u8('suite');
  const suite = suiteById(id);
  if (!suite) throw new WireError('suite', `unknown suite ${id}`);
  const flags = r.u8('flags');
  if (flags & ~REVOKE_PREVIOUS) throw new WireError('flags', 'reserved bits set');
  const epoch = r.u32('epoch');
  const recipient = r.u32('recipient');
  const wrapped = r.take('wrapped key', suite.keyLen + 8);
  r.finish();
  return { suite, flags, epoch, recipient, wrapped, revokePrevious: (flags & REVOKE_PREVIOUS) !== 0 };
}

/**
 * Unwrap a decoded delivery with the member secret; throws when the
 * integrity check fails (wrong secret, or any header field changed).
 * @param {Uint8Array} memberSecret @param {ReturnType<typeof decode>} d
 */
export async function unwrap(memberSecret, d) {
  const k = await kek(d.suite, d.flags, d.epoch, d.recipient, memberSecret);
  try {
    return await aesKwUnwrap(k, d.wrapped);
  } catch {
    throw new WireError('wrapped key', 'integrity check failed');
  } finally {
    wipe(k);
  }
}
