// @ts-check
/**
 * SRP-6a arithmetic (RFC 5054) with BigInt, as docs/protocol.md §4 states
 * it: k = H(N ‖ PAD(g)), u = H(PAD(A) ‖ PAD(B)), x = H(s ‖ H(I ‖ ":" ‖ P)),
 * K = H(S), M1 = H(H(N) xor H(PAD(g)) ‖ H(I) ‖ s ‖ A ‖ B ‖ K),
 * M2 = H(A ‖ M1 ‖ K), with A and B unpadded inside M1 and M2.
 *
 * BigInt arithmetic is not constant-time; docs/security.md says what that
 * means for the browser.
 * @module
 */

import { concat, utf8, WireError } from './bytes.js';
import { digest } from './primitives.js';

/** @typedef {import('./suites.js').Suite} Suite */

/** @param {Uint8Array} bytes */
export function toBig(bytes) {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * Big-endian bytes of `n`: trimmed of leading zeros, or left-padded to `len`.
 * @param {bigint} n
 * @param {number} [len]
 */
export function fromBig(n, len) {
  let hex = n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (n === 0n) hex = '';
  const raw = new Uint8Array(hex.length / 2);
  for (let i = 0; i < raw.length; i++) raw[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (len === undefined) return raw;
  if (raw.length > len) throw new RangeError('number longer than its field');
  const out = new Uint8Array(len);
  out.set(raw, len - raw.length);
  return out;
}

/**
 * @param {bigint} base
 * @param {bigint} exp
 * @param {bigint} mod
 */
export function modPow(base, exp, mod) {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/** @param {Suite} suite */
function padG(suite) {
  return fromBig(suite.g, suite.modulusLen);
}

/** @param {Suite} suite @param {...Uint8Array} parts */
async function H(suite, ...parts) {
  return digest(suite.srpHash, concat(...parts));
}

/** @param {Suite} suite */
export async function computeK(suite) {
  return toBig(await H(suite, fromBig(suite.N), padG(suite)));
}

/** @param {Suite} suite @param {Uint8Array} identity @param {Uint8Array} secret @param {Uint8Array} salt */
export async function computeX(suite, identity, secret, salt) {
  const inner = await H(suite, identity, utf8(':'), secret);
  return toBig(await H(suite, salt, inner));
}

/** The verifier g^x, padded to the modulus length. @param {Suite} suite @param {Uint8Array} identity @param {Uint8Array} secret @param {Uint8Array} salt */
export async function computeVerifier(suite, identity, secret, salt) {
  const x = await computeX(suite, identity, secret, salt);
  return fromBig(modPow(suite.g, x, suite.N), suite.modulusLen);
}

/** A = g^a, padded. @param {Suite} suite @param {Uint8Array} a */
export function clientPublic(suite, a) {
  return fromBig(modPow(suite.g, toBig(a), suite.N), suite.modulusLen);
}

/** B = k·v + g^b mod N, padded. @param {Suite} suite @param {Uint8Array} b @param {Uint8Array} v */
export async function serverPublic(suite, b, v) {
  const k = await computeK(suite);
  const B = (k * toBig(v) + modPow(suite.g, toBig(b), suite.N)) % suite.N;
  return fromBig(B, suite.modulusLen);
}

/**
 * A padded public value as the protocol accepts it: exactly the modulus
 * length, below N, nonzero; returned without leading zeros.
 * @param {Suite} suite @param {Uint8Array} padded @param {string} name
 */
export function canonicalPublic(suite, padded, name) {
  if (padded.length !== suite.modulusLen) throw new WireError(name, 'not the modulus length');
  const n = toBig(padded);
  if (n >= suite.N || n === 0n) throw new WireError(name, 'illegal public value');
  return fromBig(n);
}

/** @param {Suite} suite @param {Uint8Array} aTrim @param {Uint8Array} bTrim */
export async function computeU(suite, aTrim, bTrim) {
  return toBig(await H(suite, fromBig(toBig(aTrim), suite.modulusLen), fromBig(toBig(bTrim), suite.modulusLen)));
}

/** @param {Suite} suite @param {Uint8Array} identity @param {Uint8Array} salt @param {Uint8Array} aTrim @param {Uint8Array} bTrim @param {Uint8Array} K */
async function computeM1(suite, identity, salt, aTrim, bTrim, K) {
  const hN = await H(suite, fromBig(suite.N));
  const hG = await H(suite, padG(suite));
  const xor = hN.map((byte, i) => byte ^ hG[i]);
  return H(suite, xor, await H(suite, identity), salt, aTrim, bTrim, K);
}

/**
 * @typedef {object} SrpResult
 * @property {Uint8Array} m1  the client's proof
 * @property {Uint8Array} m2  the server's proof
 * @property {Uint8Array} key K = H(S)
 * @property {Uint8Array} premaster S, trimmed
 */

/**
 * The client's side, from its ephemeral `a` and the server's padded B.
 * @param {Suite} suite @param {Uint8Array} a @param {Uint8Array} identity @param {Uint8Array} secret
 * @param {Uint8Array} salt @param {Uint8Array} bPadded
 * @returns {Promise<SrpResult>}
 */
export async function clientProcess(suite, a, identity, secret, salt, bPadded) {
  const bTrim = canonicalPublic(suite, bPadded, 'B');
  const aBig = toBig(a);
  const aTrim = fromBig(modPow(suite.g, aBig, suite.N));
  const u = await computeU(suite, aTrim, bTrim);
  const k = await computeK(suite);
  const x = await computeX(suite, identity, secret, salt);
  const gx = modPow(suite.g, x, suite.N);
  const base = (((toBig(bTrim) - k * gx) % suite.N) + suite.N) % suite.N;
  const S = fromBig(modPow(base, aBig + u * x, suite.N));
  const K = await H(suite, S);
  const m1 = await computeM1(suite, identity, salt, aTrim, bTrim, K);
  const m2 = await H(suite, aTrim, m1, K);
  return { m1, m2, key: K, premaster: S };
}

/**
 * The server's side, from its ephemeral `b`, the verifier and the client's padded A.
 * @param {Suite} suite @param {Uint8Array} identity @param {Uint8Array} salt @param {Uint8Array} b
 * @param {Uint8Array} v @param {Uint8Array} aPadded
 * @returns {Promise<SrpResult>}
 */
export async function serverProcess(suite, identity, salt, b, v, aPadded) {
  const aTrim = canonicalPublic(suite, aPadded, 'A');
  const bTrim = fromBig(toBig(await serverPublic(suite, b, v)));
  const u = await computeU(suite, aTrim, bTrim);
  const S = fromBig(modPow((toBig(aTrim) * modPow(toBig(v), u, suite.N)) % suite.N, toBig(b), suite.N));
  const K = await H(suite, S);
  const m1 = await computeM1(suite, identity, salt, aTrim, bTrim, K);
  const m2 = await H(suite, aTrim, m1, K);
  return { m1, m2, key: K, premaster: S };
}
