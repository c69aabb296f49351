// @ts-check
/**
 * Runs every official vector of crypto-test-vectors.json through the same
 * functions the end-to-end layer uses, and reports each result.
 * @module
 */

import { fromHex, toHex, utf8 } from '../lib/bytes.js';
import { aesCtr, aesKwUnwrap, aesKwWrap, hmac } from '../lib/primitives.js';
import * as srp from '../lib/srp.js';
import { SUITES } from '../lib/suites.js';

/**
 * @typedef {object} VectorResult
 * @property {string} name
 * @property {'pass' | 'fail' | 'unsupported'} outcome
 * @property {string} [detail]
 */

/** @param {string} hex */
const h = (hex) => toHex(fromHex(hex));

/**
 * @param {any} v the parsed vectors file
 * @returns {Promise<VectorResult[]>}
 */
export async function runVectors(v) {
  /** @type {VectorResult[]} */
  const results = [];
  /** @param {string} name @param {() => Promise<[string, string][]>} run */
  const check = async (name, run) => {
    try {
      const pairs = await run();
      const bad = pairs.filter(([got, want]) => got !== want);
      results.push(
        bad.length === 0
          ? { name, outcome: 'pass' }
          : { name, outcome: 'fail', detail: bad.map(([g, w]) => `got ${g} want ${w}`).join('; ') },
      );
    } catch (e) {
      // Chromium's WebCrypto refuses 192-bit AES keys (NotSupportedError /
      // OperationError on import); that is reported as such, not as a pass.
      const err = /** @type {Error} */ (e);
      const unsupported = /192|NotSupported|OperationError|DataError/.test(`${err.name} ${err.message}`);
      results.push({ name, outcome: unsupported ? 'unsupported' : 'fail', detail: `${err.name}: ${err.message}` });
    }
  };

  for (const c of v.rfc3394_aes_key_wrap) {
    await check(`RFC 3394 §${c.section} (KEK ${c.kek.length * 4} bits, key ${c.key_data.length * 4} bits)`, async () => {
      const kek = fromHex(c.kek);
      const wrapped = await aesKwWrap(kek, fromHex(c.key_data));
      const unwrapped = await aesKwUnwrap(kek, fromHex(c.wrapped));
      return [
        [toHex(wrapped), h(c.wrapped)],
        [toHex(unwrapped), h(c.key_data)],
      ];
    });
  }
  for (const c of v.sp800_38a_aes_ctr) {
    await check(`SP 800-38A ${c.name}`, async () => {
      // The vectors' counter block increments across 128 bits; their four
      // blocks never carry out of the low 32, so the 32-bit counter of the
      // protocol gives the same keystream.
      const out = await aesCtr(fromHex(c.key), fromHex(c.initial_counter), fromHex(c.plaintext));
      const back = await aesCtr(fromHex(c.key), fromHex(c.initial_counter), fromHex(c.ciphertext));
      return [
        [toHex(out), h(c.ciphertext)],
        [toHex(back), h(c.plaintext)],
      ];
    });
  }
  for (const c of v.hmac) {
    await check(`HMAC ${c.name}`, async () => {
      const full = await hmac(c.hash === 'sha1' ? 'SHA-1' : 'SHA-256', fromHex(c.key), fromHex(c.data));
      const want = h(c.mac);
      // Truncated vectors compare the leading bytes.
      return [[toHex(full).slice(0, want.length), want]];
    });
  }
  const s = v.rfc5054_srp6a_appendix_b;
  await check(`SRP-6a ${s.group}`, async () => {
    const suite = { ...SUITES[2], N: BigInt('0x' + s.N), g: BigInt(s.g) };
    const I = utf8(s.I);
    const P = utf8(s.P);
    const salt = fromHex(s.s);
    const a = fromHex(s.a);
    const b = fromHex(s.b);
    const v2 = await srp.computeVerifier(suite, I, P, salt);
    const A = srp.clientPublic(suite, a);
    const B = await srp.serverPublic(suite, b, v2);
    const u = await srp.computeU(suite, srp.fromBig(srp.toBig(A)), srp.fromBig(srp.toBig(B)));
    const client = await srp.clientProcess(suite, a, I, P, salt, B);
    const server = await srp.serverProcess(suite, I, salt, b, v2, A);
    /** @param {bigint} n @param {number} [len] */
    const hexOf = (n, len) => toHex(srp.fromBig(n, len));
    return [
      [toHex(srp.fromBig(suite.N)), h(s.N)],
      [hexOf(await srp.computeK(suite), 20), h(s.k)],
      [hexOf(await srp.computeX(suite, I, P, salt), 20), h(s.x)],
      [toHex(v2), h(s.v)],
      [toHex(A), h(s.A)],
      [toHex(B), h(s.B)],
      [hexOf(u, 20), h(s.u)],
      [toHex(srp.fromBig(srp.toBig(client.premaster), 128)), h(s.premaster_secret_S)],
      [toHex(srp.fromBig(srp.toBig(server.premaster), 128)), h(s.premaster_secret_S)],
      [toHex(client.m1), toHex(server.m1)],
    ];
  });
  return results;
}
