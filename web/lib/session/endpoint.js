// @ts-check
/**
 * One member's protocol state machine (the browser's port of
 * `fernhand_protocol::Endpoint`): the join handshake on either side, keys,
 * reliable streams, acknowledgements, resend requests and the roster.
 * Sans-IO: the caller feeds it frames and the time (milliseconds) and takes
 * frames to send (`transmit`) and events (`events`). Its methods are async
 * because WebCrypto is; callers run them one at a time, in order.
 * @module
 */

import { equalBytes, fromHex, toHex } from '../bytes.js';
import { Leader, Member } from '../group.js';
import { ClientHandshake, HandshakeError, Verifier, VerifierStore } from '../handshake.js';
import { OpenError } from '../packet.js';
import { DEFAULT_SUITES } from '../suites.js';
import * as frames from './frames.js';
import * as msg from './messages.js';
import { InStream, OutStream } from './streams.js';

/** @typedef {import('../suites.js').Suite} Suite */
/** @typedef {import('./messages.js').Message} Message */
/** @typedef {import('./messages.js').Roster} Roster */
/** @typedef {import('./messages.js').RosterEntry} RosterEntry */

const HELLO = 0x01;
const CHALLENGE = 0x02;
const PROOF = 0x03;
const CONFIRM = 0x04;
const KEY_REQUEST = 0x06;
const POKE = 0x07;
const KNOCK = 0x08;
const JOIN_REFUSED = 0x7f;
const POKE_EVERY = 500;
const HELLO_PATIENCE = 5000;

export const CONFIG = Object.freeze({
  sendWindow: 8 * 1024 * 1024,
  ackEvery: 32,
  ackDelay: 50,
  maxHeldBytes: 16 * 1024 * 1024,
  syncInterval: 200,
});

/** Why a join was refused (the byte after 7F). */
export const REFUSALS = /** @type {Record<number, string>} */ ({
  1: 'wrong_secret',
  2: 'locked',
  3: 'no_common_suite',
  4: 'malformed',
  5: 'unknown_identity',
  6: 'other',
});

/** @param {unknown} e */
function refusalByte(e) {
  const code = e instanceof HandshakeError ? e.code : 'other';
  switch (code) {
    case 'wrong_secret':
    case 'transcript_mismatch':
      return 1;
    case 'locked':
      return 2;
    case 'no_common_suite':
      return 3;
    case 'malformed':
      return 4;
    case 'unknown_identity':
      return 5;
    default:
      return 6;
  }
}

/**
 * @typedef {{ type: 'established', transcriptHash: Uint8Array }
 *   | { type: 'keyed', epoch: number }
 *   | { type: 'member_admitted', id: number }
 *   | { type: 'join_refused', reason: string }
 *   | { type: 'join_failed', from: number, error: string }
 *   | { type: 'roster', roster: Roster }
 *   | { type: 'received', from: number, message: Message }
 *   | { type: 'dropped', from: number, reason: string }} EndpointEvent
 */

/** @param {number | 'all'} target */
const streamOf = (target) => (target === 'all' ? msg.STREAM_BROADCAST : msg.STREAM_DIRECT);

export class Endpoint {
  /**
   * The leader of an attended session: holds the verifiers of the secrets
   * it handed out, makes the keys.
   * @param {Uint8Array} session @param {number} me @param {Suite} suite @param {VerifierStore} verifiers
   */
  static async leader(session, me, suite, verifiers) {
    const ep = new Endpoint(session, me, me);
    ep.leader = await Leader.create(suite, me);
    ep.verifiers = verifiers;
    ep.roles.set(me, { id: me, role: 'leader', permissions: [] });
    ep.noteEpoch(ep.leader.epoch);
    return ep;
  }

  /**
   * A member joining with a secret; its Hello is queued at once.
   * @param {Uint8Array} session @param {number} me @param {number} leader
   * @param {Uint8Array} identity @param {Uint8Array} secret @param {Suite[]} [suites]
   */
  static joiner(session, me, leader, identity, secret, suites = DEFAULT_SUITES) {
    const ep = new Endpoint(session, me, leader);
    ep.join = { identity, secret: secret.slice(), suites, client: null };
    ep.startJoin();
    return ep;
  }

  /** @private @param {Uint8Array} session @param {number} me @param {number} leaderId */
  constructor(session, me, leaderId) {
    this.session = session;
    this.me = me;
    this.leaderId = leaderId;
    /** @type {Leader | null} */
    this.leader = null;
    /** @type {VerifierStore | null} */
    this.verifiers = null;
    /** @type {Map<number, import('../handshake.js').ServerPending>} */
    this.pending = new Map();
    /** @type {Map<number, RosterEntry>} */
    this.roles = new Map();
    /** @type {{ device: number, identity: Uint8Array, secret: Uint8Array, suites: Suite[], client: ClientHandshake | null, awaiting: boolean, admitted: boolean, helloAt: number | null, lastPoke: number | null } | null} */
    this.device = null;
    /** @type {{ identity: Uint8Array, secret: Uint8Array, suites: Suite[], client: ClientHandshake | null } | null} */
    this.join = null;
    /** @type {Member | null} */
    this.member = null;
    /** @type {Roster | null} */
    this.roster = null;
    /** @type {Set<number>} */
    this.known = new Set();
    /** @type {Map<number, bigint>} */
    this.joinPoints = new Map();
    /** @type {Map<number, bigint>} */
    this.epochStarts = new Map();
    /** @type {Map<number | 'all', OutStream>} */
    this.out = new Map();
    /** @type {Map<number, bigint>} */
    this.broadcastAcked = new Map();
    /** @type {Map<string, InStream<{ type: number, body: Uint8Array }>>} */
    this.inbound = new Map();
    /** @type {{ target: number | 'all', message: Message }[]} */
    this.queued = [];
    /** @type {Uint8Array[]} frames for the relay */
    this.transmit = [];
    /** @type {EndpointEvent[]} */
    this.events = [];
    this.unacked = 0;
    /** @type {number | null} */
    this.ackDeadline = null;
    this.syncDue = false;
    /** @type {number | null} */
    this.lastSync = null;
    /** @type {Set<number> | null} */
    this.heardSinceResync = null;
  }

  get isLeader() {
    return this.leader !== null;
  }

  /** The current epoch, or 0 before the first key. */
  get epoch() {
    if (this.leader) return this.leader.epoch;
    return this.member ? this.member.epoch : 0;
  }

  /** Bytes of reliable messages not yet acknowledged. */
  get unackedBytes() {
    let n = 0;
    for (const o of this.out.values()) n += o.bytes;
    return n;
  }

  get canSend() {
    return this.unackedBytes < CONFIG.sendWindow;
  }

  /** When `handleTimeout` should run next (ms), or null. */
  pollTimeout() {
    const times = [];
    if (this.ackDeadline !== null) times.push(this.ackDeadline);
    if (this.syncDue) times.push(this.lastSync === null ? 0 : this.lastSync + CONFIG.syncInterval);
    const poke = this.nextPoke();
    if (poke !== null) times.push(poke);
    return times.length ? Math.min(...times) : null;
  }

  /** @param {number} now */
  async handleTimeout(now) {
    if (this.ackDeadline !== null && now >= this.ackDeadline) await this.sendAck();
    if (this.syncDue) await this.requestResend(now);
    const poke = this.nextPoke();
    if (poke !== null && now >= poke) {
      if (this.device && this.device.helloAt !== null) this.restartDeviceJoin(now);
      else this.pokeDevice(now);
    }
  }

  /** After a reconnect without resume: say where we stand. @param {number} now */
  async resync(now) {
    this.restartDeviceJoin(now);
    if (this.epoch === 0) {
      if (this.join && !this.member) this.startJoin();
      else if (!this.leader) this.requestKey();
      return;
    }
    this.lastSync = null;
    this.heardSinceResync = new Set();
    await this.requestResend(now);
  }

  /**
   * Send a message to a member or to all (`0`). Before this member has a
   * key, messages wait.
   * @param {number} target @param {Message} message
   */
  async send(target, message) {
    const t = msg.typeOf(message);
    if (t === msg.T.ROSTER || t === msg.T.ACK || t === msg.T.SYNC || t === msg.T.STREAM_START) {
      throw new Error(`${message.type} is sent by the endpoint itself`);
    }
    const to = target === frames.ALL_MEMBERS ? 'all' : target;
    if (this.epoch === 0) {
      this.queued.push({ target: to, message });
      return;
    }
    await this.sendReliable(to, message);
  }

  /** Feed a data frame from the relay. @param {Uint8Array} bytes @param {number} now */
  async handleFrame(bytes, now) {
    let frame;
    try {
      frame = frames.parseFrame(bytes);
    } catch (e) {
      this.drop(0, `malformed frame: ${e}`);
      return;
    }
    if (frame.type !== 'data') {
      this.drop(0, 'relay control frame given to the endpoint');
      return;
    }
    const { envelope, payload } = frame;
    if (!equalBytes(envelope.session, this.session)) return this.drop(envelope.sender, 'frame for another session');
    if (envelope.target !== frames.ALL_MEMBERS && envelope.target !== this.me) {
      return this.drop(envelope.sender, 'frame addressed to another member');
    }
    if (envelope.sender === this.me) return this.drop(envelope.sender, 'frame claims to come from this member');
    if (envelope.kind === frames.KIND_HANDSHAKE) await this.onHandshake(envelope.sender, payload, now);
    else if (envelope.kind === frames.KIND_KEY_DELIVERY) await this.onDelivery(envelope.sender, payload, now);
    else await this.onSealed(envelope, payload, now);
  }

  /** @private @param {number} from @param {string} reason */
  drop(from, reason) {
    this.events.push({ type: 'dropped', from, reason });
  }

  /** @private @param {number} kind @param {number} to @param {Uint8Array} payload */
  pushFrame(kind, to, payload) {
    const envelope = { cls: frames.CLASS_RELIABLE, kind, session: this.session, sender: this.me, target: to };
    this.transmit.push(frames.dataFrame(envelope, payload));
  }

  // ---- joining -------------------------------------------------------

  /** @private */
  startJoin() {
    const j = this.join;
    if (!j) return;
    const { handshake, hello } = ClientHandshake.start(j.suites, j.identity, j.secret);
    j.client = handshake;
    this.pushFrame(frames.KIND_HANDSHAKE, this.leaderId, hello);
  }

  /** @private */
  requestKey() {
    const payload = new Uint8Array(5);
    payload[0] = KEY_REQUEST;
    new DataView(payload.buffer).setUint32(1, this.epoch);
    this.pushFrame(frames.KIND_HANDSHAKE, this.leaderId, payload);
  }

  /** @private @param {number} from @param {Uint8Array} payload @param {number} now */
  async onHandshake(from, payload, now) {
    if (payload.length === 0) return this.drop(from, 'empty handshake frame');
    const kind = payload[0];
    if (this.leader) {
      const fromDevice = this.device !== null && this.device.device === from;
      if (kind === HELLO) return this.leaderOnHello(from, payload);
      if (kind === PROOF) return this.leaderOnProof(from, payload);
      if (kind === KEY_REQUEST) return this.redeliver(from);
      if (fromDevice && kind === KNOCK) return this.leaderOnKnock(now);
      if (fromDevice && kind === CHALLENGE) return this.leaderOnDeviceChallenge(payload);
      if (fromDevice && kind === CONFIRM) return this.leaderOnDeviceConfirm(payload);
      if (fromDevice && kind === JOIN_REFUSED) {
        this.events.push({ type: 'join_refused', reason: REFUSALS[payload[1] ?? 6] ?? 'other' });
        return;
      }
      return this.drop(from, 'unexpected handshake message at the leader');
    }
    if (from !== this.leaderId) return this.drop(from, 'handshake message from a member that does not lead');
    if (kind === CHALLENGE) return this.joinerOnChallenge(payload);
    if (kind === CONFIRM) return this.joinerOnConfirm(payload);
    if (kind === JOIN_REFUSED) {
      this.events.push({ type: 'join_refused', reason: REFUSALS[payload[1] ?? 6] ?? 'other' });
      return;
    }
    this.drop(from, 'unexpected handshake message at a joiner');
  }

  /** @private @param {number} to @param {unknown} error */
  refuse(to, error) {
    this.pushFrame(frames.KIND_HANDSHAKE, to, new Uint8Array([JOIN_REFUSED, refusalByte(error)]));
    this.events.push({ type: 'join_failed', from: to, error: String(error) });
  }

  /** @private @param {number} from @param {Uint8Array} hello */
  async leaderOnHello(from, hello) {
    const store = /** @type {VerifierStore} */ (this.verifiers);
    try {
      const { pending, challenge } = await store.respond(hello);
      this.pending.set(from, pending);
      this.pushFrame(frames.KIND_HANDSHAKE, from, challenge);
    } catch (e) {
      this.refuse(from, e);
    }
  }

  /** @private @param {number} from @param {Uint8Array} proof */
  async leaderOnProof(from, proof) {
    const state = this.pending.get(from);
    if (!state) return this.drop(from, 'proof without a handshake in progress');
    this.pending.delete(from);
    const store = /** @type {VerifierStore} */ (this.verifiers);
    let done;
    try {
      done = await store.finish(state, proof);
    } catch (e) {
      return this.refuse(from, e);
    }
    await this.admit(from, done.established, done.confirm);
  }

  /**
   * @private @param {number} from @param {import('../handshake.js').Established} established
   * @param {Uint8Array | null} confirm
   */
  async admit(from, established, confirm) {
    const leader = /** @type {Leader} */ (this.leader);
    const deliveries = [];
    try {
      if (leader.members.has(from)) deliveries.push(...(await leader.remove(from)));
      deliveries.push(...(await leader.admit(from, established)));
    } catch (e) {
      return this.drop(from, `admission failed: ${e}`);
    }
    if (!this.roles.has(from)) this.roles.set(from, { id: from, role: 'member', permissions: [] });
    if (confirm) this.pushFrame(frames.KIND_HANDSHAKE, from, confirm);
    for (const d of deliveries) this.pushFrame(frames.KIND_KEY_DELIVERY, d.recipient, d.bytes);
    this.noteEpoch(leader.epoch);
    this.events.push({ type: 'member_admitted', id: from });
    this.events.push({ type: 'keyed', epoch: leader.epoch });
    await this.announceRoster();
  }

  /**
   * Leader of an unattended session: join `device`, which holds the
   * verifier of the access password.
   * @param {number} device @param {Uint8Array} identity @param {Uint8Array} secret @param {number} now
   */
  connectDevice(device, identity, secret, now, suites = DEFAULT_SUITES) {
    if (!this.leader) throw new Error('only the leader connects a device');
    this.device = { device, identity, secret: secret.slice(), suites, client: null, awaiting: false, admitted: false, helloAt: null, lastPoke: null };
    this.pokeDevice(now);
  }

  /** @private */
  nextPoke() {
    const d = this.device;
    if (!d || d.admitted) return null;
    if (d.helloAt !== null) return d.helloAt + HELLO_PATIENCE;
    if (d.lastPoke !== null) return d.lastPoke + POKE_EVERY;
    return null;
  }

  /** @private @param {number} now */
  pokeDevice(now) {
    if (!this.device) return;
    this.device.lastPoke = now;
    this.pushFrame(frames.KIND_HANDSHAKE, this.device.device, new Uint8Array([POKE]));
  }

  /** @private @param {number} now */
  restartDeviceJoin(now) {
    const d = this.device;
    if (!d || d.admitted) return;
    d.helloAt = null;
    d.client = null;
    d.awaiting = false;
    this.pokeDevice(now);
  }

  /** @private @param {number} now */
  leaderOnKnock(now) {
    const d = this.device;
    if (!d || d.admitted || d.helloAt !== null) return;
    const { handshake, hello } = ClientHandshake.start(d.suites, d.identity, d.secret);
    d.client = handshake;
    d.helloAt = now;
    this.pushFrame(frames.KIND_HANDSHAKE, d.device, hello);
  }

  /** @private @param {Uint8Array} challenge */
  async leaderOnDeviceChallenge(challenge) {
    const d = /** @type {NonNullable<Endpoint['device']>} */ (this.device);
    const client = d.client;
    if (!client || d.awaiting) return this.drop(d.device, 'challenge without a hello');
    try {
      const proof = await client.onChallenge(challenge);
      d.awaiting = true;
      this.pushFrame(frames.KIND_HANDSHAKE, d.device, proof);
    } catch (e) {
      this.drop(d.device, `device handshake failed: ${e}`);
    }
  }

  /** @private @param {Uint8Array} confirm */
  async leaderOnDeviceConfirm(confirm) {
    const d = /** @type {NonNullable<Endpoint['device']>} */ (this.device);
    const client = d.client;
    if (!client || !d.awaiting) return this.drop(d.device, 'confirm without a proof');
    d.client = null;
    d.awaiting = false;
    try {
      const established = await client.onConfirm(confirm);
      d.admitted = true;
      this.events.push({ type: 'established', transcriptHash: established.transcriptHash });
      await this.admit(d.device, established, null);
    } catch (e) {
      this.drop(d.device, `device handshake failed: ${e}`);
    }
  }

  /** @private @param {number} to */
  async redeliver(to) {
    if (!this.leader) return;
    try {
      const d = await this.leader.redeliver(to);
      this.pushFrame(frames.KIND_KEY_DELIVERY, to, d.bytes);
    } catch (e) {
      this.drop(to, `key request refused: ${e}`);
    }
  }

  /** Leader: the role and permissions announced for a member. @param {number} id @param {string} role @param {string[]} permissions */
  async setMemberRole(id, role, permissions) {
    if (!this.leader) throw new Error('only the leader sets roles');
    this.roles.set(id, { id, role, permissions });
    await this.announceRoster();
  }

  /** Leader: remove a member; a new epoch excludes it. @param {number} id */
  async removeMember(id) {
    const leader = this.leader;
    if (!leader) throw new Error('only the leader removes members');
    const deliveries = await leader.remove(id);
    this.roles.delete(id);
    for (const d of deliveries) this.pushFrame(frames.KIND_KEY_DELIVERY, d.recipient, d.bytes);
    this.noteEpoch(leader.epoch);
    this.events.push({ type: 'keyed', epoch: leader.epoch });
    await this.announceRoster();
  }

  /**
   * Leader: hand the session over to member `to` and leave it. Announces
   * the roster naming the new leader (members follow it), and returns what
   * the new leader needs — every member's secret, roles, the verifiers of
   * the join secrets — for the caller to send `to` inside the session.
   * @param {number} to
   */
  async handOver(to) {
    const leader = this.leader;
    if (!leader || !leader.members.has(to)) throw new Error('hand over to a member of this session');
    const members = [...this.roles.entries()]
      .filter(([id]) => id !== this.me && leader.members.has(id))
      .sort(([a], [b]) => a - b)
      .map(([, e]) => e);
    const roster = { epoch: leader.epoch, leader: to, members };
    await this.sendReliable('all', { type: 'roster', roster });
    const secrets = [...leader.exportMembers()].map(([id, secret]) => ({ id, secret: toHex(secret) }));
    return {
      type: 'handover',
      from_epoch: leader.epoch,
      members: secrets,
      roles: members,
      verifiers: (this.verifiers?.verifiers ?? []).map((v) => v.toJSON()),
    };
  }

  /**
   * Member: take the lead after the old leader handed the session over
   * (`bundle` as `handOver` made it): a new epoch without the old leader,
   * keys to everyone, and the roster from here.
   * @param {any} bundle
   */
  async takeLead(bundle) {
    const group = this.member?.group;
    if (!group || this.leader) throw new Error('only a keyed member takes the lead');
    const old = this.leaderId;
    /** @type {Map<number, Uint8Array>} */
    const members = new Map();
    for (const m of bundle.members) {
      const id = Number(m.id);
      if (id !== this.me && id !== old) members.set(id, fromHex(String(m.secret)));
    }
    const leader = Leader.adopt(group, members);
    const store = new VerifierStore(DEFAULT_SUITES);
    for (const v of bundle.verifiers ?? []) store.insert(Verifier.fromJSON(v));
    this.leader = leader;
    this.verifiers = store;
    this.member = null;
    this.join = null;
    this.leaderId = this.me;
    this.roles = new Map([[this.me, { id: this.me, role: 'leader', permissions: [] }]]);
    for (const r of bundle.roles ?? []) {
      if (r.id !== this.me && members.has(r.id)) this.roles.set(r.id, { id: r.id, role: String(r.role), permissions: r.permissions ?? [] });
    }
    const deliveries = await leader.nextEpoch(true);
    for (const d of deliveries) this.pushFrame(frames.KIND_KEY_DELIVERY, d.recipient, d.bytes);
    this.noteEpoch(leader.epoch);
    this.events.push({ type: 'keyed', epoch: leader.epoch });
    await this.announceRoster();
  }

  /** @private */
  async announceRoster() {
    const leader = /** @type {Leader} */ (this.leader);
    const members = [...this.roles.entries()]
      .filter(([id]) => id === this.me || leader.members.has(id))
      .sort(([a], [b]) => a - b)
      .map(([, e]) => e);
    const roster = { epoch: leader.epoch, leader: this.me, members };
    await this.adoptRoster(roster);
    await this.sendReliable('all', { type: 'roster', roster });
  }

  /** @private @param {Uint8Array} challenge */
  async joinerOnChallenge(challenge) {
    const j = this.join;
    const client = j?.client;
    if (!j || !client) return this.drop(this.leaderId, 'challenge without a hello');
    try {
      const proof = await client.onChallenge(challenge);
      this.pushFrame(frames.KIND_HANDSHAKE, this.leaderId, proof);
    } catch (e) {
      j.client = null;
      this.drop(this.leaderId, `join handshake failed: ${e}`);
    }
  }

  /** @private @param {Uint8Array} confirm */
  async joinerOnConfirm(confirm) {
    const j = this.join;
    const client = j?.client;
    if (!j || !client) return this.drop(this.leaderId, 'confirm without a proof');
    j.client = null;
    try {
      const established = await client.onConfirm(confirm);
      this.member = new Member(established);
      this.events.push({ type: 'established', transcriptHash: established.transcriptHash });
    } catch (e) {
      this.drop(this.leaderId, `join handshake failed: ${e}`);
    }
  }

  /** @private @param {number} from @param {Uint8Array} payload @param {number} now */
  async onDelivery(from, payload, now) {
    if (from !== this.leaderId) return this.drop(from, 'key delivery from a member that does not lead');
    const m = this.member;
    if (!m) return this.drop(from, 'key delivery before the handshake completed');
    const before = m.epoch;
    let epoch;
    try {
      epoch = await m.accept(payload);
    } catch (e) {
      return this.drop(from, `key delivery refused: ${e}`);
    }
    if (before === epoch) return;
    this.noteEpoch(epoch);
    this.events.push({ type: 'keyed', epoch });
    if (before === 0) {
      const queued = this.queued.splice(0);
      for (const q of queued) await this.sendReliable(q.target, q.message);
      await this.requestResend(now);
    }
  }

  /** @private @param {number} epoch */
  noteEpoch(epoch) {
    const all = this.out.get('all');
    if (!this.epochStarts.has(epoch)) this.epochStarts.set(epoch, all ? all.next : 0n);
    while (this.epochStarts.size > 64) {
      const first = this.epochStarts.keys().next().value;
      if (first === undefined) break;
      this.epochStarts.delete(first);
    }
  }

  /** @private @param {Roster} roster */
  async adoptRoster(roster) {
    const listed = roster.members.map((m) => m.id).filter((id) => id !== this.me);
    for (const id of [...this.known]) {
      if (!listed.includes(id)) {
        this.known.delete(id);
        this.joinPoints.delete(id);
        this.broadcastAcked.delete(id);
      }
    }
    const all = this.out.get('all');
    const start = this.epochStarts.get(roster.epoch) ?? (all ? all.next : 0n);
    for (const id of listed) {
      if (!this.known.has(id)) {
        this.known.add(id);
        this.joinPoints.set(id, start);
        await this.sendReliableRaw(id, { type: 'stream_start', start });
      }
    }
    this.roster = roster;
    this.trimBroadcast();
  }

  // ---- streams -------------------------------------------------------

  /** @private @param {number | 'all'} target @param {Message} message */
  async sendReliable(target, message) {
    await this.sendReliableRaw(target, message);
  }

  /** @private @param {number | 'all'} target @param {Message} message */
  async sendReliableRaw(target, message) {
    let out = this.out.get(target);
    if (!out) {
      out = new OutStream();
      this.out.set(target, out);
    }
    const plaintext = msg.encode(message, { stream: streamOf(target), rseq: out.next });
    await this.sealAndPush(target === 'all' ? frames.ALL_MEMBERS : target, plaintext);
    out.push(plaintext);
  }

  /** @private @param {number} to @param {Message} message */
  async sendUnreliable(to, message) {
    if (this.epoch === 0) return;
    await this.sealAndPush(to, msg.encode(message, null));
  }

  /** @private @param {number} to @param {Uint8Array} plaintext */
  async sealAndPush(to, plaintext) {
    const envelope = { cls: frames.CLASS_RELIABLE, kind: frames.KIND_SEALED, session: this.session, sender: this.me, target: to };
    const aad = frames.aad(envelope);
    const keys = this.leader ?? this.member;
    if (!keys) throw new Error('no key yet');
    const sealed = await keys.seal(aad, plaintext);
    this.transmit.push(frames.dataFrame(envelope, sealed));
  }

  /** @private @param {import('./frames.js').Envelope} envelope @param {Uint8Array} payload @param {number} now */
  async onSealed(envelope, payload, now) {
    const keys = this.leader ?? this.member;
    if (!keys || (!this.leader && this.epoch === 0)) return;
    const from = envelope.sender;
    let opened;
    try {
      opened = await keys.open(frames.aad(envelope), payload);
    } catch (e) {
      if (e instanceof OpenError && e.code === 'unknown_epoch') {
        const claimed = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(3);
        if (claimed > this.epoch) {
          this.requestKey();
          this.syncDue = true;
          return;
        }
      }
      return this.drop(from, `packet refused: ${e}`);
    }
    if (opened.sender !== from) return this.drop(from, 'sealed sender differs from the envelope');
    let parts;
    try {
      parts = msg.split(opened.plaintext);
    } catch (e) {
      return this.drop(from, `bad message: ${e}`);
    }
    if (!parts.reliable) return this.onUnreliable(from, parts.type, parts.body);
    const key = `${from}/${parts.reliable.stream}`;
    let stream = this.inbound.get(key);
    if (!stream) {
      stream = new InStream(CONFIG.maxHeldBytes, parts.reliable.stream === msg.STREAM_DIRECT);
      this.inbound.set(key, stream);
    }
    const arrival = stream.arrive(parts.reliable.rseq, { type: parts.type, body: parts.body.slice() }, parts.body.length);
    if (arrival.kind === 'deliver') {
      for (const item of arrival.ready) await this.deliver(from, item.type, item.body);
    } else if (arrival.kind === 'held' || arrival.kind === 'dropped') {
      this.syncDue = true;
    }
    this.unacked += 1;
    if (this.unacked >= CONFIG.ackEvery) await this.sendAck();
    else if (this.ackDeadline === null) this.ackDeadline = now + CONFIG.ackDelay;
    if (this.syncDue) await this.requestResend(now);
  }

  /** @private @param {number} from @param {number} type @param {Uint8Array} body */
  async deliver(from, type, body) {
    let message;
    try {
      message = msg.decodeBody(type, body);
    } catch (e) {
      return this.drop(from, `bad message body: ${e}`);
    }
    if (message.type === 'roster') {
      if (from !== this.leaderId) return this.drop(from, 'roster from a member that does not lead');
      // A roster naming another leader hands the session over (§7.3).
      // The member named takes the lead itself, once it has the old
      // leader's hand-over (`takeLead`).
      if (!this.leader && message.roster.leader !== this.leaderId && message.roster.leader !== this.me) {
        this.leaderId = message.roster.leader;
      }
      await this.adoptRoster(message.roster);
      this.events.push({ type: 'roster', roster: message.roster });
      return;
    }
    if (message.type === 'stream_start') {
      const key = `${from}/${msg.STREAM_BROADCAST}`;
      let stream = this.inbound.get(key);
      if (!stream) {
        stream = new InStream(CONFIG.maxHeldBytes, false);
        this.inbound.set(key, stream);
      }
      for (const item of stream.anchor(message.start)) await this.deliver(from, item.type, item.body);
      return;
    }
    this.events.push({ type: 'received', from, message });
  }

  /** @private @param {number} from @param {number} type @param {Uint8Array} body */
  async onUnreliable(from, type, body) {
    let message;
    try {
      message = msg.decodeBody(type, body);
    } catch (e) {
      return this.drop(from, `bad message body: ${e}`);
    }
    if (message.type === 'ack') {
      await this.onPositions(from, message.positions, false);
    } else if (message.type === 'sync') {
      await this.onPositions(from, message.positions, true);
      if (this.heardSinceResync && !this.heardSinceResync.has(from)) {
        this.heardSinceResync.add(from);
        await this.sendUnreliable(from, { type: 'sync', epoch: this.epoch, positions: this.positions() });
      }
      if (this.leader && message.epoch < this.epoch) await this.redeliver(from);
    } else {
      this.drop(from, 'reliable type without reliable header');
    }
  }

  /** @private @param {number} from @param {import('./messages.js').StreamPosition[]} positions @param {boolean} resend */
  async onPositions(from, positions, resend) {
    for (const p of positions.filter((q) => q.sender === this.me)) {
      /** @type {number | 'all'} */
      let target;
      let start;
      if (p.stream === msg.STREAM_BROADCAST) {
        const joined = this.joinPoints.get(from);
        if (joined === undefined) continue;
        const acked = this.broadcastAcked.get(from) ?? joined;
        this.broadcastAcked.set(from, acked > p.next ? acked : p.next);
        target = 'all';
        start = p.next > joined ? p.next : joined;
      } else {
        this.out.get(from)?.trim(p.next);
        target = from;
        start = p.next;
      }
      if (resend) {
        const out = this.out.get(target);
        for (const s of out ? out.from(start) : []) await this.sealAndPush(from, s.plaintext);
      }
    }
    this.trimBroadcast();
  }

  /** @private */
  trimBroadcast() {
    let upto = null;
    for (const id of this.known) {
      const v = this.broadcastAcked.get(id) ?? this.joinPoints.get(id) ?? 0n;
      if (upto === null || v < upto) upto = v;
    }
    this.out.get('all')?.trim(upto ?? 0xffffffffffffffffn);
  }

  /** @private */
  positions() {
    /** @type {Map<string, import('./messages.js').StreamPosition>} */
    const known = new Map();
    for (const [key, s] of this.inbound) {
      const [sender, stream] = key.split('/').map(Number);
      known.set(key, { sender, stream, next: s.next ?? 0n });
    }
    for (const id of this.known) {
      for (const stream of [msg.STREAM_BROADCAST, msg.STREAM_DIRECT]) {
        const key = `${id}/${stream}`;
        if (!known.has(key)) known.set(key, { sender: id, stream, next: 0n });
      }
    }
    return [...known.values()].sort((a, b) => a.sender - b.sender || a.stream - b.stream);
  }

  /** @private */
  async sendAck() {
    this.unacked = 0;
    this.ackDeadline = null;
    const positions = this.positions();
    if (positions.length) await this.sendUnreliable(frames.ALL_MEMBERS, { type: 'ack', positions });
  }

  /** @private @param {number} now */
  async requestResend(now) {
    if (this.lastSync !== null && now - this.lastSync < CONFIG.syncInterval) {
      this.syncDue = true;
      return;
    }
    this.syncDue = false;
    this.lastSync = now;
    await this.sendUnreliable(frames.ALL_MEMBERS, { type: 'sync', epoch: this.epoch, positions: this.positions() });
  }
}
