// @ts-check
/**
 * The two roles of a session's key management (docs/protocol.md §5): the
 * leader, who makes a group key per epoch and delivers it to every member,
 * and a member, who installs deliveries and seals and opens packets.
 * @module
 */

import { WireError } from './bytes.js';
import * as delivery from './delivery.js';
import { GroupState } from './packet.js';
import { systemRandom } from './random.js';

/** @typedef {import('./suites.js').Suite} Suite */
/** @typedef {import('./handshake.js').Established} Established */
/** @typedef {import('./delivery.js').Delivery} Delivery */

export const MAX_MEMBERS = 64;

export class Leader {
  /** @param {Suite} suite @param {number} me */
  static async create(suite, me, rng = systemRandom) {
    const leader = new Leader(suite, me, rng);
    await leader.nextEpoch(false);
    return leader;
  }

  /**
   * Take over a session as its new leader (a hand-over): keep this
   * member's keys of the current epoch and learn the other members'
   * secrets from the old leader; the caller then starts a new epoch
   * without the old leader.
   * @param {GroupState} group this member's state @param {Map<number, Uint8Array>} members
   */
  static adopt(group, members, rng = systemRandom) {
    const leader = new Leader(group.suite, group.me, rng);
    leader.group = group;
    for (const [id, secret] of members) if (id !== group.me) leader.members.set(id, secret);
    return leader;
  }

  /** The member secrets, to hand the session over. */
  exportMembers() {
    return new Map(this.members);
  }

  /** @private @param {Suite} suite @param {number} me @param {import('./random.js').RandomSource} rng */
  constructor(suite, me, rng) {
    this.suite = suite;
    this.group = new GroupState(suite, me);
    /** @type {Map<number, Uint8Array>} member id → member secret, in admission order */
    this.members = new Map();
    this.rng = rng;
    this.revokedPrevious = false;
  }

  get id() {
    return this.group.me;
  }

  get epoch() {
    return this.group.epoch;
  }

  /** @param {number} id @param {Established} established @returns {Promise<Delivery[]>} */
  async admit(id, established) {
    if (established.suite !== this.suite) throw new WireError('suite', 'member joined with another suite');
    if (id === this.id || this.members.has(id)) throw new WireError('member', `duplicate member ${id}`);
    if (this.members.size >= MAX_MEMBERS) throw new WireError('member', 'too many members');
    this.members.set(id, established.memberSecret);
    try {
      return await this.nextEpoch(false);
    } catch (e) {
      this.members.delete(id);
      throw e;
    }
  }

  /** @param {number} id @returns {Promise<Delivery[]>} */
  async remove(id) {
    const secret = this.members.get(id);
    if (!secret) throw new WireError('member', `unknown member ${id}`);
    this.members.delete(id);
    return this.nextEpoch(true);
  }

  rekey() {
    return this.nextEpoch(false);
  }

  /** The current key again, for a member that asks (KeyRequest, Sync). @param {number} id */
  async redeliver(id) {
    const secret = this.members.get(id);
    const current = this.group.current;
    if (!secret || !current) throw new WireError('member', `unknown member ${id}`);
    return delivery.wrap(this.suite, secret, current.number, id, this.revokedPrevious, current.key);
  }

  /** Start a new epoch; `revokePrevious` when someone left. @param {boolean} revokePrevious */
  async nextEpoch(revokePrevious) {
    const epoch = this.group.epoch + 1;
    const key = new Uint8Array(this.suite.keyLen);
    this.rng.fill('group key', key);
    const ids = [...this.members.keys()].sort((a, b) => a - b);
    /** @type {Delivery[]} */
    const out = [];
    for (const id of ids) {
      const secret = /** @type {Uint8Array} */ (this.members.get(id));
      out.push(await delivery.wrap(this.suite, secret, epoch, id, revokePrevious, key));
    }
    await this.group.install(epoch, key, revokePrevious);
    this.revokedPrevious = revokePrevious;
    return out;
  }

  /** @param {Uint8Array} aad @param {Uint8Array} plaintext */
  seal(aad, plaintext) {
    return this.group.seal(aad, plaintext);
  }

  /** @param {Uint8Array} aad @param {Uint8Array} sealed */
  open(aad, sealed) {
    return this.group.open(aad, sealed);
  }
}

export class Member {
  /** @param {Established} established */
  constructor(established) {
    this.suite = established.suite;
    this.secret = established.memberSecret;
    /** @type {GroupState | null} */
    this.group = null;
  }

  /** This member's id, known from its first delivery. */
  get id() {
    return this.group ? this.group.me : null;
  }

  get epoch() {
    return this.group ? this.group.epoch : 0;
  }

  /** Install a delivery; returns its epoch. @param {Uint8Array} bytes */
  async accept(bytes) {
    const d = delivery.decode(bytes);
    if (d.suite !== this.suite) throw new WireError('suite', 'delivery for another suite');
    if (this.group && d.recipient !== this.group.me) {
      throw new WireError('recipient', `delivery for member ${d.recipient}, not ${this.group.me}`);
    }
    const key = await delivery.unwrap(this.secret, d);
    const group = this.group ?? new GroupState(this.suite, d.recipient);
    await group.install(d.epoch, key, d.revokePrevious);
    this.group = group;
    return d.epoch;
  }

  /** @param {Uint8Array} aad @param {Uint8Array} plaintext */
  seal(aad, plaintext) {
    if (!this.group) throw new Error('no group key yet');
    return this.group.seal(aad, plaintext);
  }

  /** @param {Uint8Array} aad @param {Uint8Array} sealed */
  open(aad, sealed) {
    if (!this.group) throw new Error('no group key yet');
    return this.group.open(aad, sealed);
  }
}
