// @ts-check
/**
 * Sealed packets (docs/protocol.md §6) and the group state that seals and
 * opens them: per-epoch group keys, per-sender packet keys, sequence
 * numbers and replay windows. The receiver checks, in order: length,
 * version, suite, flags, reflection, epoch, replay, tag (constant time) —
 * and only then decrypts. A refused packet changes nothing.
 * @module
 */

import { concat, equalBytes, u16, u32, u64, utf8, wipe, WireError } from './bytes.js';
import { decompress, MAX_PLAINTEXT_LEN } from './lz4.js';
import { aesCtrWith, ctrKey, hkdf, hmacKey, hmacWith } from './primitives.js';
import { ReplayWindow } from './replay.js';

/** @typedef {import('./suites.js').Suite} Suite */

export const HEADER_LEN = 19;
const VERSION = 1;
const FLAG_COMPRESSED = 0x01;
const MAX_AAD_LEN = 0xffff;
const MAX_SENDERS = 256;

/** A packet refused on opening. */
export class OpenError extends Error {
  /** @param {'too_short' | 'too_long' | 'version' | 'suite' | 'flags' | 'reflected' | 'unknown_epoch' | 'replayed' | 'bad_tag' | 'compression' | 'too_many_senders' | 'aad'} code @param {string} [detail] */
  constructor(code, detail) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'OpenError';
    this.code = code;
  }
}

/**
 * @typedef {object} SenderKeys
 * @property {CryptoKey} enc
 * @property {CryptoKey} mac
 */

/** @param {Suite} suite @param {Uint8Array} groupKey @param {number} epoch @param {number} sender @returns {Promise<SenderKeys>} */
async function deriveSenderKeys(suite, groupKey, epoch, sender) {
  const info = concat(new Uint8Array([suite.id]), u32(epoch), u32(sender));
  const okm = await hkdf(utf8('FH1 packet keys'), groupKey, info, suite.keyLen + suite.macKeyLen);
  try {
    return {
      enc: await ctrKey(okm.subarray(0, suite.keyLen)),
      mac: await hmacKey(suite.macHash, okm.subarray(suite.keyLen)),
    };
  } finally {
    wipe(okm);
  }
}

/** @param {number} sender @param {bigint} seq */
function counterBlock(sender, seq) {
  return concat(u32(sender), u64(seq), new Uint8Array(4));
}

/** @param {Suite} suite @param {SenderKeys} keys @param {Uint8Array} aad @param {Uint8Array} headerAndCiphertext */
async function tag(suite, keys, aad, headerAndCiphertext) {
  const full = await hmacWith(keys.mac, concat(u16(aad.length), aad, headerAndCiphertext));
  return full.subarray(0, suite.tagLen);
}

/**
 * @typedef {object} Opened
 * @property {number} sender
 * @property {number} epoch
 * @property {bigint} seq
 * @property {Uint8Array} plaintext
 */

/**
 * @typedef {object} Epoch
 * @property {number} number
 * @property {Uint8Array} key
 * @property {SenderKeys} own
 * @property {bigint} nextSeq
 * @property {Map<number, {keys: SenderKeys, window: ReplayWindow}>} senders
 */

/** The keys of the current (and previous) epoch, for one member. */
export class GroupState {
  /** @param {Suite} suite @param {number} me */
  constructor(suite, me) {
    this.suite = suite;
    this.me = me;
    /** @type {Epoch | null} */
    this.current = null;
    /** @type {Epoch | null} */
    this.previous = null;
  }

  get epoch() {
    return this.current ? this.current.number : 0;
  }

  /**
   * Install an epoch's key; 'duplicate' for an exact repeat of the current.
   * @param {number} epoch @param {Uint8Array} key @param {boolean} revokePrevious
   * @returns {Promise<'new' | 'duplicate'>}
   */
  async install(epoch, key, revokePrevious) {
    if (this.current) {
      if (epoch === this.current.number && equalBytes(this.current.key, key)) return 'duplicate';
      if (epoch <= this.current.number) {
        throw new WireError('epoch', `stale epoch ${epoch} (current ${this.current.number})`);
      }
    }
    const own = await deriveSenderKeys(this.suite, key, epoch, this.me);
    const fresh = { number: epoch, key, own, nextSeq: 0n, senders: new Map() };
    const old = this.current;
    this.current = fresh;
    if (revokePrevious && old) wipe(old.key);
    if (this.previous) wipe(this.previous.key);
    this.previous = revokePrevious ? null : old;
    return 'new';
  }

  /**
   * Seal `plaintext` under the current epoch. The browser sends bodies
   * uncompressed (allowed for every channel).
   * @param {Uint8Array} aad @param {Uint8Array} plaintext
   */
  async seal(aad, plaintext) {
    if (plaintext.length > MAX_PLAINTEXT_LEN) throw new RangeError('packet body too large');
    if (aad.length > MAX_AAD_LEN) throw new RangeError('aad too long');
    const epoch = this.current;
    if (!epoch) throw new Error('no group key yet');
    const seq = epoch.nextSeq;
    if (seq === 0xffffffffffffffffn) throw new Error('sequence numbers exhausted');
    epoch.nextSeq = seq + 1n;
    const header = concat(new Uint8Array([VERSION, this.suite.id, 0]), u32(epoch.number), u32(this.me), u64(seq));
    const ciphertext = await aesCtrWith(epoch.own.enc, counterBlock(this.me, seq), plaintext);
    const body = concat(header, ciphertext);
    return concat(body, await tag(this.suite, epoch.own, aad, body));
  }

  /** @param {Uint8Array} aad @param {Uint8Array} sealed @returns {Promise<Opened>} */
  async open(aad, sealed) {
    const suite = this.suite;
    if (aad.length > MAX_AAD_LEN) throw new OpenError('aad');
    const min = HEADER_LEN + suite.tagLen;
    if (sealed.length < min) throw new OpenError('too_short');
    if (sealed.length > min + MAX_PLAINTEXT_LEN) throw new OpenError('too_long');
    if (sealed[0] !== VERSION) throw new OpenError('version');
    if (sealed[1] !== suite.id) throw new OpenError('suite');
    const flags = sealed[2];
    if (flags & ~FLAG_COMPRESSED) throw new OpenError('flags');
    const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const epochNo = view.getUint32(3);
    const sender = view.getUint32(7);
    const seq = view.getBigUint64(11);
    if (sender === this.me) throw new OpenError('reflected');
    const epoch = [this.current, this.previous].find((e) => e && e.number === epochNo);
    if (!epoch) throw new OpenError('unknown_epoch', String(epochNo));
    if (seq === 0xffffffffffffffffn) throw new OpenError('replayed');
    let known = epoch.senders.get(sender);
    if (known && !known.window.isFresh(seq)) throw new OpenError('replayed');
    const keys = known ? known.keys : await deriveSenderKeys(suite, epoch.key, epoch.number, sender);
    const body = sealed.subarray(0, sealed.length - suite.tagLen);
    const expected = await tag(suite, keys, aad, body);
    if (!equalBytes(expected, sealed.subarray(sealed.length - suite.tagLen))) throw new OpenError('bad_tag');
    // Decrypt only after the tag; check the window again (another open may
    // have marked this number while we awaited).
    if (known && !known.window.isFresh(seq)) throw new OpenError('replayed');
    if (!known) {
      known = epoch.senders.get(sender);
      if (!known) {
        if (epoch.senders.size >= MAX_SENDERS) throw new OpenError('too_many_senders');
        known = { keys, window: new ReplayWindow() };
        epoch.senders.set(sender, known);
      } else if (!known.window.isFresh(seq)) {
        throw new OpenError('replayed');
      }
    }
    const clear = await aesCtrWith(keys.enc, counterBlock(sender, seq), body.subarray(HEADER_LEN));
    let plaintext = clear;
    if (flags & FLAG_COMPRESSED) {
      try {
        plaintext = decompress(clear);
      } catch (e) {
        throw new OpenError('compression', String(e));
      }
    }
    known.window.mark(seq);
    return { sender, epoch: epochNo, seq, plaintext };
  }
}
