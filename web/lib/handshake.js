// @ts-check
/**
 * The join handshake of docs/protocol.md §4: Hello, Challenge, Proof and
 * Confirm, the transcript hash and the key schedule, for both roles. The
 * SRP client knows the secret; the SRP server holds only a verifier.
 * Sans-IO: each step takes the peer's bytes and returns the bytes to send.
 * @module
 */

import { concat, equalBytes, fromHex, Reader, toHex, u32, utf8, wipe, WireError } from './bytes.js';
import { digest, hkdf, hmac } from './primitives.js';
import { systemRandom } from './random.js';
import * as srp from './srp.js';
import { DEFAULT_SUITES, suiteById } from './suites.js';

/** @typedef {import('./suites.js').Suite} Suite */
/** @typedef {import('./random.js').RandomSource} RandomSource */

const VERSION = 1;
export const HELLO = 0x01;
export const CHALLENGE = 0x02;
export const PROOF = 0x03;
export const CONFIRM = 0x04;
const MAX_OFFERED = 8;
const SALT_LEN = 32;
const EPHEMERAL_LEN = 32;
export const MAX_FAILED_PROOFS = 3;

/** A refused handshake, with a reason a caller can branch on. */
export class HandshakeError extends Error {
  /** @param {'wrong_secret' | 'transcript_mismatch' | 'server_proof' | 'locked' | 'no_common_suite' | 'unknown_identity' | 'malformed' | 'suite_not_offered'} code @param {string} [detail] */
  constructor(code, detail) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'HandshakeError';
    this.code = code;
  }
}

/** @param {Uint8Array} identity */
export function identityOk(identity) {
  return identity.length >= 1 && identity.length <= 128 && identity.every((b) => b >= 0x21 && b <= 0x7e);
}

/** @param {Suite[]} suites @param {Uint8Array} identity */
export function encodeHello(suites, identity) {
  return concat(new Uint8Array([HELLO, VERSION, suites.length, ...suites.map((s) => s.id), identity.length]), identity);
}

/** @param {Uint8Array} bytes */
export function decodeHello(bytes) {
  const r = new Reader(bytes);
  if (r.u8('type') !== HELLO) throw new WireError('type', 'not a Hello');
  const version = r.u8('version');
  if (version !== VERSION) throw new WireError('version', `unsupported ${version}`);
  const offered = r.short('suites', 1, MAX_OFFERED);
  /** @type {Suite[]} */
  const suites = [];
  for (const id of offered) {
    const suite = suiteById(id);
    if (!suite) continue;
    if (suites.includes(suite)) throw new WireError('suites', 'a suite is offered twice');
    suites.push(suite);
  }
  const identity = r.short('identity', 1, 128);
  if (!identityOk(identity)) throw new WireError('identity', 'must be printable ASCII without spaces');
  r.finish();
  return { suites, identity };
}

/** @param {Suite} suite @param {Uint8Array} salt @param {Uint8Array} bPub */
function encodeChallenge(suite, salt, bPub) {
  return concat(new Uint8Array([CHALLENGE, suite.id, salt.length]), salt, bPub);
}

/** @param {Uint8Array} bytes */
export function decodeChallenge(bytes) {
  const r = new Reader(bytes);
  if (r.u8('type') !== CHALLENGE) throw new WireError('type', 'not a Challenge');
  const id = r.u8('suite');
  const suite = suiteById(id);
  if (!suite) throw new WireError('suite', `unknown suite ${id}`);
  const salt = r.short('salt', 16, 64);
  const bPub = r.take('B', suite.modulusLen);
  r.finish();
  return { suite, salt, bPub };
}

/** @param {Suite} suite @param {Uint8Array} bytes */
function decodeProof(suite, bytes) {
  const r = new Reader(bytes);
  if (r.u8('type') !== PROOF) throw new WireError('type', 'not a Proof');
  const aPub = r.take('A', suite.modulusLen);
  const m1 = r.take('M1', suite.srpHashLen);
  const finished = r.take('client finished', 32);
  r.finish();
  return { aPub, m1, finished };
}

/** @param {Suite} suite @param {Uint8Array} bytes */
function decodeConfirm(suite, bytes) {
  const r = new Reader(bytes);
  if (r.u8('type') !== CONFIRM) throw new WireError('type', 'not a Confirm');
  const m2 = r.take('M2', suite.srpHashLen);
  const finished = r.take('server finished', 32);
  r.finish();
  return { m2, finished };
}

/** TH(m1, …, mn) of §4.2. @param {...Uint8Array} messages */
export function transcriptHash(...messages) {
  /** @type {Uint8Array[]} */
  const parts = [utf8('FH1 handshake transcript')];
  for (const m of messages) parts.push(u32(m.length), m);
  return digest('SHA-256', concat(...parts));
}

/** The key schedule of §4.2. */
class Schedule {
  /** @param {Uint8Array} key K @param {Uint8Array} thHc */
  constructor(key, thHc) {
    this.key = key;
    this.thHc = thHc;
  }

  async clientFinished() {
    const k = await hkdf(this.thHc, this.key, utf8('FH1 client finished'), 32);
    return hmac('SHA-256', k, this.thHc);
  }

  /** @param {Uint8Array} thFull */
  async serverFinished(thFull) {
    const k = await hkdf(this.thHc, this.key, utf8('FH1 server finished'), 32);
    return hmac('SHA-256', k, thFull);
  }

  /** @param {Uint8Array} thFull */
  memberSecret(thFull) {
    return hkdf(this.thHc, this.key, concat(utf8('FH1 member secret'), thFull), 32);
  }

  wipe() {
    wipe(this.key);
  }
}

/**
 * A finished handshake: the suite, the peer's identity, the member secret
 * both sides share, and th_full (a fingerprint users may compare).
 * @typedef {object} Established
 * @property {Suite} suite
 * @property {Uint8Array} identity
 * @property {Uint8Array} memberSecret
 * @property {Uint8Array} transcriptHash
 */

/** The SRP client: the side that knows the secret. */
export class ClientHandshake {
  /**
   * @param {Suite[]} suites offered, in preference order
   * @param {Uint8Array} identity
   * @param {Uint8Array} secret
   * @returns {{ handshake: ClientHandshake, hello: Uint8Array }}
   */
  static start(suites, identity, secret, rng = systemRandom) {
    if (!identityOk(identity)) throw new HandshakeError('malformed', 'identity');
    if (suites.length < 1 || suites.length > MAX_OFFERED) throw new HandshakeError('malformed', 'suite list');
    const hello = encodeHello(suites, identity);
    return { handshake: new ClientHandshake(suites, identity, secret.slice(), hello, rng), hello };
  }

  /** @private @param {Suite[]} suites @param {Uint8Array} identity @param {Uint8Array} secret @param {Uint8Array} hello @param {RandomSource} rng */
  constructor(suites, identity, secret, hello, rng) {
    this.suites = suites;
    this.identity = identity;
    this.secret = secret;
    this.hello = hello;
    this.rng = rng;
    /** @type {{suite: Suite, schedule: Schedule, m2: Uint8Array, thFull: Uint8Array} | null} */
    this.pending = null;
  }

  /** @param {Uint8Array} challenge @returns {Promise<Uint8Array>} the Proof */
  async onChallenge(challenge) {
    const c = decodeChallenge(challenge);
    if (!this.suites.includes(c.suite)) throw new HandshakeError('suite_not_offered');
    const a = new Uint8Array(EPHEMERAL_LEN);
    this.rng.fill('srp client ephemeral a', a);
    try {
      const aPub = srp.clientPublic(c.suite, a);
      const result = await srp.clientProcess(c.suite, a, this.identity, this.secret, c.salt, c.bPub);
      const thHc = await transcriptHash(this.hello, challenge);
      const schedule = new Schedule(result.key, thHc);
      const proof = concat(new Uint8Array([PROOF]), aPub, result.m1, await schedule.clientFinished());
      const thFull = await transcriptHash(this.hello, challenge, proof);
      this.pending = { suite: c.suite, schedule, m2: result.m2, thFull };
      wipe(result.premaster);
      return proof;
    } finally {
      wipe(a);
      wipe(this.secret);
    }
  }

  /** @param {Uint8Array} confirm @returns {Promise<Established>} */
  async onConfirm(confirm) {
    const p = this.pending;
    if (!p) throw new HandshakeError('malformed', 'Confirm before Challenge');
    this.pending = null;
    try {
      const c = decodeConfirm(p.suite, confirm);
      if (!equalBytes(c.m2, p.m2)) throw new HandshakeError('server_proof');
      if (!equalBytes(c.finished, await p.schedule.serverFinished(p.thFull))) {
        throw new HandshakeError('transcript_mismatch');
      }
      return {
        suite: p.suite,
        identity: this.identity,
        memberSecret: await p.schedule.memberSecret(p.thFull),
        transcriptHash: p.thFull,
      };
    } finally {
      p.schedule.wipe();
    }
  }
}

/** One identity's verifiers, one per accepted suite, under one salt. */
export class Verifier {
  /**
   * @param {Suite[]} suites the policy
   * @param {Uint8Array} identity
   * @param {Uint8Array} secret
   */
  static async create(suites, identity, secret, rng = systemRandom) {
    if (!identityOk(identity)) throw new HandshakeError('malformed', 'identity');
    const salt = new Uint8Array(SALT_LEN);
    rng.fill('srp salt', salt);
    /** @type {Map<number, Uint8Array>} */
    const verifiers = new Map();
    for (const suite of suites) verifiers.set(suite.id, await srp.computeVerifier(suite, identity, secret, salt));
    return new Verifier(identity, salt, verifiers);
  }

  /** As JSON-safe hex, to hand a session over. */
  toJSON() {
    return { identity: toHex(this.identity), salt: toHex(this.salt), verifiers: [...this.verifiers].map(([id, v]) => [id, toHex(v)]) };
  }

  /** @param {{ identity: string, salt: string, verifiers: [number, string][] }} j */
  static fromJSON(j) {
    const identity = fromHex(j.identity);
    if (!identityOk(identity)) throw new HandshakeError('malformed', 'identity');
    return new Verifier(identity, fromHex(j.salt), new Map(j.verifiers.map(([id, v]) => [Number(id), fromHex(v)])));
  }

  /** @private @param {Uint8Array} identity @param {Uint8Array} salt @param {Map<number, Uint8Array>} verifiers */
  constructor(identity, salt, verifiers) {
    this.identity = identity;
    this.salt = salt;
    this.verifiers = verifiers;
  }
}

/**
 * The SRP server: holds verifiers, answers Hellos, checks Proofs, and
 * refuses every join after MAX_FAILED_PROOFS wrong ones.
 */
export class VerifierStore {
  /** @param {Suite[]} [suites] the policy, in preference order */
  constructor(suites = DEFAULT_SUITES, rng = systemRandom) {
    this.suites = suites;
    this.rng = rng;
    /** @type {Verifier[]} */
    this.verifiers = [];
    this.failures = 0;
  }

  /** @param {Verifier} verifier */
  insert(verifier) {
    this.verifiers = this.verifiers.filter((v) => !equalBytes(v.identity, verifier.identity));
    this.verifiers.push(verifier);
  }

  get locked() {
    return this.failures >= MAX_FAILED_PROOFS;
  }

  /**
   * @param {Uint8Array} hello
   * @returns {Promise<{ pending: ServerPending, challenge: Uint8Array }>}
   */
  async respond(hello) {
    if (this.locked) throw new HandshakeError('locked');
    let decoded;
    try {
      decoded = decodeHello(hello);
    } catch (e) {
      throw new HandshakeError('malformed', String(e));
    }
    const suite = this.suites.find((s) => decoded.suites.includes(s));
    if (!suite) throw new HandshakeError('no_common_suite');
    const verifier = this.verifiers.find((v) => equalBytes(v.identity, decoded.identity));
    if (!verifier) throw new HandshakeError('unknown_identity');
    const v = verifier.verifiers.get(suite.id);
    if (!v) throw new HandshakeError('no_common_suite');
    const b = new Uint8Array(EPHEMERAL_LEN);
    this.rng.fill('srp server ephemeral b', b);
    const bPub = await srp.serverPublic(suite, b, v);
    const challenge = encodeChallenge(suite, verifier.salt, bPub);
    return { pending: { suite, identity: verifier.identity, salt: verifier.salt, v, b, hello, challenge }, challenge };
  }

  /**
   * @param {ServerPending} pending
   * @param {Uint8Array} proof
   * @returns {Promise<{ confirm: Uint8Array, established: Established }>}
   */
  async finish(pending, proof) {
    if (this.locked) throw new HandshakeError('locked');
    const { suite } = pending;
    try {
      let p;
      try {
        p = decodeProof(suite, proof);
      } catch (e) {
        throw new HandshakeError('malformed', String(e));
      }
      const result = await srp.serverProcess(suite, pending.identity, pending.salt, pending.b, pending.v, p.aPub);
      wipe(result.premaster);
      if (!equalBytes(result.m1, p.m1)) {
        this.failures += 1;
        throw new HandshakeError('wrong_secret');
      }
      const thHc = await transcriptHash(pending.hello, pending.challenge);
      const schedule = new Schedule(result.key, thHc);
      try {
        if (!equalBytes(await schedule.clientFinished(), p.finished)) {
          this.failures += 1;
          throw new HandshakeError('transcript_mismatch');
        }
        const thFull = await transcriptHash(pending.hello, pending.challenge, proof);
        const confirm = concat(new Uint8Array([CONFIRM]), result.m2, await schedule.serverFinished(thFull));
        return {
          confirm,
          established: {
            suite,
            identity: pending.identity,
            memberSecret: await schedule.memberSecret(thFull),
            transcriptHash: thFull,
          },
        };
      } finally {
        schedule.wipe();
      }
    } finally {
      wipe(pending.b);
    }
  }
}

/**
 * @typedef {object} ServerPending
 * @property {Suite} suite
 * @property {Uint8Array} identity
 * @property {Uint8Array} salt
 * @property {Uint8Array} v
 * @property {Uint8Array} b
 * @property {Uint8Array} hello
 * @property {Uint8Array} challenge
 */
