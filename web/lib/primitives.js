// @ts-check
/**
 * The primitives, all through WebCrypto (never written by hand): SHA-1/256,
 * HMAC, HKDF-SHA-256, AES Key Wrap (RFC 3394) and AES-CTR with a 32-bit
 * block counter. Every function takes and returns bytes.
 * @module
 */

const subtle = globalThis.crypto.subtle;

/** @param {Uint8Array} bytes */
function buf(bytes) {
  // WebCrypto wants an ArrayBuffer-backed view; copy shared or offset views.
  return /** @type {Uint8Array<ArrayBuffer>} */ (bytes.slice());
}

/**
 * @param {'SHA-256' | 'SHA-1'} hash
 * @param {Uint8Array} data
 */
export async function digest(hash, data) {
  return new Uint8Array(await subtle.digest(hash, buf(data)));
}

/**
 * @param {'SHA-256' | 'SHA-1'} hash
 * @param {Uint8Array} key
 * @param {Uint8Array} data
 */
export async function hmac(hash, key, data) {
  const k = await hmacKey(hash, key);
  return new Uint8Array(await subtle.sign('HMAC', k, buf(data)));
}

/**
 * An HMAC key object, for a key used many times.
 * @param {'SHA-256' | 'SHA-1'} hash
 * @param {Uint8Array} key
 */
export function hmacKey(hash, key) {
  if (key.length === 0) throw new RangeError('HMAC key is empty');
  return subtle.importKey('raw', buf(key), { name: 'HMAC', hash }, false, ['sign']);
}

/**
 * @param {CryptoKey} key
 * @param {Uint8Array} data
 */
export async function hmacWith(key, data) {
  return new Uint8Array(await subtle.sign('HMAC', key, buf(data)));
}

/**
 * HKDF-SHA-256 (RFC 5869), extract then expand.
 * @param {Uint8Array} salt
 * @param {Uint8Array} ikm
 * @param {Uint8Array} info
 * @param {number} length
 */
export async function hkdf(salt, ikm, info, length) {
  const key = await subtle.importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** @param {Uint8Array} kek */
function kwKey(kek, /** @type {KeyUsage[]} */ usages) {
  return subtle.importKey('raw', buf(kek), 'AES-KW', false, usages);
}

/**
 * AES Key Wrap with the default IV. The wrapped key travels as an
 * extractable HMAC key because WebCrypto only wraps key objects, and HMAC
 * keys take any length.
 * @param {Uint8Array} kek
 * @param {Uint8Array} keyData  a multiple of 8 bytes, at least 16
 */
export async function aesKwWrap(kek, keyData) {
  const wrapping = await kwKey(kek, ['wrapKey']);
  const inner = await subtle.importKey(
    'raw',
    buf(keyData),
    { name: 'HMAC', hash: 'SHA-256', length: keyData.length * 8 },
    true,
    ['sign'],
  );
  return new Uint8Array(await subtle.wrapKey('raw', inner, wrapping, 'AES-KW'));
}

/**
 * AES Key Unwrap; throws when the integrity check fails.
 * @param {Uint8Array} kek
 * @param {Uint8Array} wrapped
 */
export async function aesKwUnwrap(kek, wrapped) {
  const unwrapping = await kwKey(kek, ['unwrapKey']);
  const inner = await subtle.unwrapKey(
    'raw',
    buf(wrapped),
    unwrapping,
    'AES-KW',
    { name: 'HMAC', hash: 'SHA-256', length: (wrapped.length - 8) * 8 },
    true,
    ['sign'],
  );
  return new Uint8Array(await subtle.exportKey('raw', inner));
}

/**
 * An AES-CTR key object.
 * @param {Uint8Array} key 16 or 32 bytes
 */
export function ctrKey(key) {
  return subtle.importKey('raw', buf(key), 'AES-CTR', false, ['encrypt']);
}

/**
 * AES-CTR over `data` from the 16-byte counter block, the last 32 bits
 * counting (encryption and decryption are the same).
 * @param {CryptoKey} key
 * @param {Uint8Array} counter
 * @param {Uint8Array} data
 */
export async function aesCtrWith(key, counter, data) {
  const out = await subtle.encrypt({ name: 'AES-CTR', counter: buf(counter), length: 32 }, key, buf(data));
  return new Uint8Array(out);
}

/**
 * @param {Uint8Array} key
 * @param {Uint8Array} counter
 * @param {Uint8Array} data
 * @param {number} [counterBits]
 */
export async function aesCtr(key, counter, data, counterBits = 32) {
  const k = await ctrKey(key);
  const out = await subtle.encrypt(
    { name: 'AES-CTR', counter: buf(counter), length: counterBits },
    k,
    buf(data),
  );
  return new Uint8Array(out);
}
