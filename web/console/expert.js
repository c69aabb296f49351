// @ts-check
/**
 * The expert's end of a session in the console, without any DOM: it opens
 * an attended session as its leader (making the join secrets here and
 * keeping only their verifiers) or connects to an unattended device, asks
 * each member that joins for permissions, decodes screen streams,
 * acknowledges updates, and keeps chat, grants, transfers and diagnostics.
 * The page renders what it reports through `onChange`.
 * @module
 */

import * as api from '../lib/api.js';
import { utf8 } from '../lib/bytes.js';
import { Verifier, VerifierStore } from '../lib/handshake.js';
import { decode as decodeScreen, encodeAck, encodeRefresh } from '../lib/screen/wire.js';
import { ScreenDecoder } from '../lib/screen/decoder.js';
import { newCode, newLink, parseJoin } from '../lib/secret.js';
import { Endpoint } from '../lib/session/endpoint.js';
import { sessionIdFromHex } from '../lib/session/frames.js';
import { MAX_SCREEN_PIECE } from '../lib/session/messages.js';
import { Session } from '../lib/session/runtime.js';
import { SUITES } from '../lib/suites.js';
import { Transfers } from '../lib/transfer.js';
import { isCameraMessage } from '../lib/camera.js';

export const ALL_PERMISSIONS = ['view', 'control', 'files', 'diagnostics', 'clipboard'];
const MAX_SCREEN_MESSAGE = 128 * 1024 * 1024;

/**
 * @typedef {object} MemberView
 * @property {number} id
 * @property {string} role
 * @property {string[]} granted
 * @property {boolean} screen    whether it sends a screen
 * @property {string[]} [allowed] what the leader's roster lets it do
 */

export class ExpertSession {
  /**
   * Open an attended session; the code and link are made here.
   * @param {string} name the expert's name, shown to the customer
   * @param {(s: ExpertSession, what: string) => void} onChange
   */
  static async open(name, onChange) {
    return ExpertSession.openAt('/api/v1/sessions', name, onChange);
  }

  /**
   * Open an attended session from a desk record (an incident): linked to
   * it, and its record (members, times, chat, files, diagnostics) attached
   * to it when the session ends.
   * @param {string} record id or reference
   * @param {string} name
   * @param {(s: ExpertSession, what: string) => void} onChange
   */
  static async openForRecord(record, name, onChange) {
    return ExpertSession.openAt(`/api/v1/desk/records/${encodeURIComponent(record)}/remote-session`, name, onChange);
  }

  /**
   * Open a camera share (alone, or from a desk record): the customer's
   * phone sends its camera to this console over WebRTC, set up through the
   * session's end-to-end channel.
   * @param {string} name
   * @param {(s: ExpertSession, what: string) => void} onChange
   * @param {{ record?: string, relayOnly?: boolean }} [o] relayOnly: TURN only, so neither side learns the other's address
   */
  static async openCamera(name, onChange, o = {}) {
    const path = o.record ? `/api/v1/desk/records/${encodeURIComponent(o.record)}/camera-share` : '/api/v1/camera-shares';
    const s = await ExpertSession.openAt(path, name, onChange, (answer, made) => {
      made.kind = 'camera';
      made.asks = ['camera'];
      made.relayOnly = Boolean(o.relayOnly);
      made.iceServers = Array.isArray(answer.ice_servers) ? answer.ice_servers : [];
    });
    return s;
  }

  /**
   * @private @param {string} path @param {string} name @param {(s: ExpertSession, what: string) => void} onChange
   * @param {(answer: any, s: ExpertSession) => void} [prepare] set up before the session starts
   */
  static async openAt(path, name, onChange, prepare) {
    const answer = await api.call('POST', path, {});
    const record = answer.session;
    const code = newCode(record.code_locator);
    const link = newLink(location.origin, record.link_locator);
    const store = new VerifierStore();
    store.insert(await Verifier.create(store.suites, code.identity, code.secret));
    store.insert(await Verifier.create(store.suites, link.identity, link.secret));
    const endpoint = await Endpoint.leader(sessionIdFromHex(record.id), 1, SUITES[0], store);
    const digits = new TextDecoder().decode(code.secret);
    const s = new ExpertSession(record.id, endpoint, name, onChange);
    s.chatPolicy = answer.restricted_policy;
    if (answer.desk_record) {
      s.desk = { id: answer.desk_record, reference: answer.desk_reference ?? answer.desk_record, email: answer.notify_email ?? null, attached: '' };
    }
    s.code = `${code.locator.slice(0, 3)} ${code.locator.slice(3)} ${digits.slice(0, 3)} ${digits.slice(3)}`;
    s.link = `${location.origin}/join/${link.locator}#${new TextDecoder().decode(link.secret)}`;
    prepare?.(answer, s);
    await s.start(answer.grant);
    return s;
  }

  /**
   * Connect to an unattended device with its access password.
   * @param {string} device @param {string} password @param {string} name
   * @param {(s: ExpertSession, what: string) => void} onChange
   */
  static async connectDevice(device, password, name, onChange) {
    const answer = await api.call('POST', `/api/v1/devices/${encodeURIComponent(device)}/connect`, {});
    const sessionId = answer.session?.id ?? answer.session;
    const endpoint = await Endpoint.leader(sessionIdFromHex(sessionId), 1, SUITES[0], new VerifierStore());
    const s = new ExpertSession(sessionId, endpoint, name, onChange);
    s.chatPolicy = answer.restricted_policy;
    await s.start(answer.grant);
    s.deviceMember = Number(answer.device_member);
    endpoint.connectDevice(s.deviceMember, utf8(`device:${device}`), utf8(password), performance.now());
    s.runtime?.run(async () => {});
    return s;
  }

  /**
   * Join a colleague's session (collaboration) with its code or link; the
   * leader decides what this member may see and do.
   * @param {string} input @param {string} name
   * @param {(s: ExpertSession, what: string) => void} onChange
   */
  static async joinColleague(input, name, onChange) {
    const secret = parseJoin(input);
    const answer = await api.call('POST', '/api/v1/join', { locator: secret.locator });
    const endpoint = Endpoint.joiner(sessionIdFromHex(answer.session), answer.member, answer.leader, secret.identity, secret.secret);
    const s = new ExpertSession(answer.session, endpoint, name, onChange);
    s.chatPolicy = answer.restricted_policy;
    s.colleague = true;
    await s.start(answer.grant);
    return s;
  }

  /** @private @param {string} id @param {Endpoint} endpoint @param {string} name @param {(s: ExpertSession, what: string) => void} onChange */
  constructor(id, endpoint, name, onChange) {
    /** The tenant's restricted-data policy for what this expert types in the chat. @type {string | undefined} */
    this.chatPolicy = undefined;
    this.id = id;
    this.endpoint = endpoint;
    this.name = name;
    this.onChange = onChange;
    this.code = '';
    this.link = '';
    /** `remote` (screen, control, files) or `camera` (camera share). */
    this.kind = 'remote';
    /** What each member that joins is asked for. */
    this.asks = ALL_PERMISSIONS;
    /** Camera share: STUN/TURN, and whether to use TURN only. @type {RTCIceServer[]} */
    this.iceServers = [];
    this.relayOnly = false;
    /** Camera share: takes its signalling, annotations' echoes and camera state. @type {((from: number, v: Record<string, any>) => void) | null} */
    this.onCamera = null;
    /** Whether this console joined someone else's session. */
    this.colleague = false;
    /** @type {number | null} */
    this.deviceMember = null;
    /** @type {Session | null} */
    this.runtime = null;
    /** @type {Map<number, MemberView>} */
    this.members = new Map();
    /** @type {Map<number, ScreenDecoder>} */
    this.screens = new Map();
    /** @type {Map<number, Uint8Array[]>} */
    this.pieces = new Map();
    /** @type {number | null} the member whose screen is shown */
    this.viewing = null;
    /** @type {{ from: string, text: string, at: number }[]} */
    this.chat = [];
    /** When this console opened the session (Unix seconds). */
    this.startedAt = Math.floor(Date.now() / 1000);
    /** Who joined and left, for the session's record. @type {Map<number, { role: string, joined_at: number, left_at?: number }>} */
    this.attendance = new Map();
    /** The desk record the session was started from; `attached` says how its record was kept. @type {{ id: string, reference: string, email: string | null, attached: string } | null} */
    this.desk = null;
    this.attaching = false;
    /** @type {Record<string, any> | null} */
    this.diagnostics = null;
    /** @type {string[]} refusals the host reported */
    this.denied = [];
    this.status = 'connecting';
    this.ended = '';
    this.updates = 0;
    this.screenBytes = 0;
    this.lastUpdateAt = 0;
    /** @type {Transfers | null} */
    this.transfers = null;
    /** @type {import('../lib/transfer.js').Transfer[]} */
    this.transferList = [];
    /** @type {Promise<void> | null} */
    this.screenChain = null;
    /** Per host: its monitors, as it last said. @type {Map<number, { name: string, rect: { x: number, y: number, w: number, h: number }, primary: boolean }[]>} */
    this.monitors = new Map();
    /** @type {{ x: number, y: number, visible: boolean } | null} */
    this.cursor = null;
  }

  /** @private @param {string} grant */
  async start(grant) {
    this.runtime = new Session(this.endpoint, grant, (e) => this.onEvent(e));
    const runtime = this.runtime;
    this.transfers = new Transfers(
      {
        send: (to, m) => runtime.send(to, m),
        get backlog() {
          return runtime.backlog;
        },
      },
      (t) => {
        if (!this.transferList.includes(t)) this.transferList.push(t);
        this.onChange(this, 'transfer');
      },
      {
        policy: () => this.chatPolicy,
        onThreat: (threat, sha256) => api.reportSessionEvent(grant, { kind: 'malware_quarantined', threat, sha256 }),
      },
    );
    await this.runtime.start();
  }

  /** @param {import('../lib/session/runtime.js').SessionEvent} e */
  onEvent(e) {
    switch (e.type) {
      case 'connected':
        this.status = 'waiting';
        break;
      case 'reconnecting':
        this.status = 'reconnecting';
        break;
      case 'moved':
        this.status = 'connected';
        for (const id of this.screens.keys()) this.screenMessage(id, encodeRefresh());
        break;
      case 'closed':
        this.status = 'ended';
        this.ended = e.reason;
        if (this.desk && this.endpoint.isLeader) this.attachRecord();
        break;
      case 'member_admitted':
        if (!this.members.has(e.id)) {
          this.members.set(e.id, { id: e.id, role: e.id === this.deviceMember ? 'device' : 'customer', granted: [], screen: false });
          this.attendance.set(e.id, { role: e.id === this.deviceMember ? 'agent' : 'customer', joined_at: now() });
          this.control(e.id, this.kind === 'camera' ? { type: 'request', expert: this.name, permissions: this.asks, relay_only: this.relayOnly } : { type: 'request', expert: this.name, permissions: this.asks });
        }
        this.status = 'connected';
        break;
      case 'keyed':
        if (this.colleague) this.status = 'connected';
        break;
      case 'join_refused':
        this.status = 'refused';
        this.ended = `${this.colleague ? 'the session' : 'the device'} refused the join: ${e.reason.replace(/_/g, ' ')}`;
        break;
      case 'roster':
        for (const m of e.roster.members) {
          if (m.id === this.endpoint.me) continue;
          const known = this.members.get(m.id);
          if (known) known.allowed = m.permissions;
          else if (this.colleague) this.members.set(m.id, { id: m.id, role: m.role, granted: [], screen: false, allowed: m.permissions });
        }
        break;
      case 'received':
        this.onMessage(e.from, e.message);
        break;
      default:
        break;
    }
    this.onChange(this, e.type);
  }

  /** @private @param {number} from @param {import('../lib/session/messages.js').Message} m */
  onMessage(from, m) {
    if (this.transfers?.handle(from, m)) return;
    const who = this.members.get(from);
    if (m.type === 'chat') {
      const label = who?.role === 'leader' ? 'Lead expert' : who?.role === 'device' ? 'Device' : `Member ${from}`;
      this.chat.push({ from: label, text: m.text, at: now() });
      this.onChange(this, 'chat');
    } else if (m.type === 'screen') {
      const list = this.pieces.get(from) ?? [];
      list.push(m.data);
      const total = list.reduce((n, p) => n + p.length, 0);
      if (total > MAX_SCREEN_MESSAGE) {
        this.pieces.delete(from);
        return;
      }
      if (!m.last) {
        this.pieces.set(from, list);
        return;
      }
      this.pieces.delete(from);
      const whole = new Uint8Array(total);
      let at = 0;
      for (const p of list) {
        whole.set(p, at);
        at += p.length;
      }
      this.screenBytes += total;
      this.onScreen(from, whole);
    } else if (m.type === 'control') {
      const v = m.value;
      if (v.type === 'granted' && who && Array.isArray(v.permissions)) {
        who.granted = v.permissions.filter((/** @type {unknown} */ p) => typeof p === 'string');
        this.onChange(this, 'granted');
      } else if (isCameraMessage(v.type)) {
        this.onCamera?.(from, v);
      } else if (v.type === 'diagnostics') {
        this.diagnostics = v.report;
        this.onChange(this, 'diagnostics');
      } else if (v.type === 'denied') {
        this.denied.push(`${v.what}: ${v.reason}`);
        this.onChange(this, 'denied');
      } else if (v.type === 'handover' && from === this.endpoint.leaderId && this.colleague) {
        this.runtime?.run(async () => {
          await this.endpoint.takeLead(v);
          this.colleague = false;
          this.status = 'connected';
          this.chat.push({ from: 'Fernhand', text: 'You lead the session now.', at: now() });
          this.onChange(this, 'lead');
        });
      } else if (v.type === 'end') {
        this.chat.push({ from: `Member ${from}`, text: `ended the session${v.reason ? ` (${v.reason})` : ''}`, at: now() });
        const seen = this.attendance.get(from);
        if (seen) seen.left_at = now();
        if (who) who.granted = [];
        this.onChange(this, 'member_ended');
      }
    }
  }

  /** @private @param {number} from @param {Uint8Array} bytes */
  onScreen(from, bytes) {
    let decoder = this.screens.get(from);
    if (!decoder) {
      decoder = new ScreenDecoder();
      this.screens.set(from, decoder);
    }
    const member = this.members.get(from);
    if (member) member.screen = true;
    if (this.viewing === null) this.viewing = from;
    const d = decoder;
    // Decode in order, per host: the next update waits for this one.
    /** @type {Promise<void>} */
    const prev = this.screenChain ?? Promise.resolve();
    this.screenChain = prev.then(async () => {
      try {
        const m = await decodeScreen(bytes);
        if (m.kind === 'update') {
          await d.apply(m.update);
          this.updates += 1;
          this.lastUpdateAt = performance.now();
          this.screenMessage(from, encodeAck(m.update.seq));
          this.onChange(this, 'screen');
        } else if (m.kind === 'monitors') {
          this.monitors.set(from, m.monitors);
          this.onChange(this, 'monitors');
        } else if (m.kind === 'cursor_position' || m.kind === 'cursor_shape') {
          this.cursor = m.kind === 'cursor_position' ? m : this.cursor;
        }
      } catch (e) {
        console.warn('screen update refused; asking for a keyframe', e);
        this.screenMessage(from, encodeRefresh());
      }
    });
  }

  /** @private @param {number} to @param {Uint8Array} bytes */
  screenMessage(to, bytes) {
    for (let at = 0; at < bytes.length; at += MAX_SCREEN_PIECE) {
      const data = bytes.subarray(at, Math.min(bytes.length, at + MAX_SCREEN_PIECE));
      this.runtime?.send(to, { type: 'screen', last: at + MAX_SCREEN_PIECE >= bytes.length, data });
    }
  }

  /** Sends a control message to member `to`. @param {number} to @param {Record<string, any>} value */
  control(to, value) {
    this.runtime?.send(to, { type: 'control', value });
  }

  /** The member whose screen is shown, or null. */
  get host() {
    return this.viewing;
  }

  /**
   * Leader: what a member (another expert) may do in this session; the
   * host narrows its user's grants by it.
   * @param {number} id @param {string[]} permissions
   */
  async allow(id, permissions) {
    const m = this.members.get(id);
    if (!m || !this.endpoint.isLeader) return;
    m.role = 'expert';
    await this.runtime?.run(() => this.endpoint.setMemberRole(id, 'expert', permissions));
    m.allowed = permissions;
    this.onChange(this, 'roster');
  }

  /**
   * Leader: hand the session over to another expert in it and leave; the
   * session goes on under them, in a new epoch without this console.
   * @param {number} id
   */
  async handOver(id) {
    const runtime = this.runtime;
    if (!runtime || !this.endpoint.isLeader) return;
    await runtime.run(async () => {
      const bundle = await this.endpoint.handOver(id);
      await this.endpoint.send(id, { type: 'control', value: bundle });
    });
    // Leave once the new leader has everything (acknowledged end to end).
    const until = Date.now() + 10000;
    while (this.endpoint.unackedBytes > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await runtime.close('handed over');
    this.status = 'ended';
    this.ended = `You handed the session over to member ${id}.`;
    this.onChange(this, 'closed');
  }

  /** @param {string} text */
  async say(text) {
    this.chat.push({ from: 'You', text, at: now() });
    await this.runtime?.send(0, { type: 'chat', text });
    this.onChange(this, 'chat');
  }

  /** Send an input event to the host. @param {Uint8Array} event */
  input(event) {
    if (this.viewing !== null) this.runtime?.send(this.viewing, { type: 'input', event });
  }

  /** @param {File} file */
  sendFile(file) {
    const to = this.viewing ?? [...this.members.keys()][0];
    if (to === undefined || !this.transfers) return Promise.reject(new Error('nobody to send to'));
    return this.transfers.send(to, file);
  }

  requestDiagnostics() {
    const to = this.viewing ?? [...this.members.keys()][0];
    if (to !== undefined) this.control(to, { type: 'diagnostics_request' });
  }

  refresh() {
    if (this.viewing !== null) this.screenMessage(this.viewing, encodeRefresh());
  }

  /** @param {string} text */
  clipboard(text) {
    if (this.viewing !== null) this.runtime?.send(this.viewing, { type: 'clipboard', text });
  }

  /** End the session for everyone and on the record. */
  async end() {
    await this.runtime?.send(0, { type: 'control', value: { type: 'end', reason: 'the expert ended the session' } });
    await this.runtime?.close('ended by the expert');
    try {
      await api.call('POST', `/api/v1/sessions/${this.id}/end`, { outcome: 'resolved' });
    } catch {
      /* already ended on the record */
    }
    this.status = 'ended';
    this.ended = 'You ended the session.';
    this.onChange(this, 'closed');
    if (this.desk) await this.attachRecord();
  }

  /**
   * The session's record as this console saw it: who took part and when,
   * the chat, the files moved and the last diagnostics report.
   */
  summary() {
    const ended = now();
    const members = [{ name: this.name, role: 'expert', joined_at: this.startedAt, left_at: ended }];
    for (const [id, a] of this.attendance) {
      const m = this.members.get(id);
      const role = m?.role === 'expert' || m?.role === 'leader' ? 'expert' : a.role;
      members.push({ name: `Member ${id}`, role, joined_at: a.joined_at, left_at: a.left_at ?? ended });
    }
    return {
      members: members.slice(0, 64),
      started_at: this.startedAt,
      ended_at: ended,
      transcript: this.chat
        .filter((c) => c.from !== 'Fernhand')
        .slice(-5000)
        .map((c) => ({ at: c.at, from: (c.from === 'You' ? this.name : c.from).slice(0, 200), text: c.text.slice(0, 4000) })),
      files: this.transferList
        .filter((t) => t.state === 'done' && t.sha256)
        .slice(0, 1000)
        .map((t) => ({ name: t.name.slice(0, 200), size: t.size, sha256: t.sha256, direction: t.direction === 'out' ? 'to_customer' : 'from_customer' })),
      diagnostics: this.diagnostics ?? undefined,
    };
  }

  /** Attach the session's record to the desk record it came from. */
  async attachRecord() {
    // A camera share keeps its record with the share (72 hours), not on the ticket.
    if (!this.desk || this.attaching || this.kind === 'camera') return;
    this.attaching = true;
    try {
      await api.call('POST', `/api/v1/sessions/${this.id}/record`, this.summary());
      this.desk.attached = `The session's record is attached to ${this.desk.reference}.`;
    } catch (e) {
      this.desk.attached = `The session's record could not be attached to ${this.desk.reference}: ${e instanceof Error ? e.message : e}`;
    }
    this.onChange(this, 'attached');
  }
}

/** Now, in Unix seconds. */
function now() {
  return Math.floor(Date.now() / 1000);
}
