// @ts-check
/**
 * Messages inside sealed packets (docs/protocol.md §7.2): reliable ones
 * carry a stream and sequence number; JSON bodies for low-rate types,
 * fixed binary bodies for the rest.
 * @module
 */

import { concat, fromUtf8, Reader, u32, u64, utf8, WireError } from '../bytes.js';

export const T = Object.freeze({
  ROSTER: 0x01,
  ACK: 0x02,
  SYNC: 0x03,
  STREAM_START: 0x04,
  CHAT: 0x10,
  CONTROL: 0x11,
  FILE_OFFER: 0x20,
  FILE_CHUNK: 0x21,
  FILE_END: 0x22,
  SCREEN: 0x30,
  INPUT: 0x40,
  CLIPBOARD: 0x41,
});

const KNOWN = new Set(/** @type {number[]} */ (Object.values(T)));
export const MAX_FILE_CHUNK = 64 * 1024;
export const MAX_SCREEN_PIECE = 1024 * 1024;
export const MAX_CLIPBOARD = 1024 * 1024;
export const STREAM_BROADCAST = 0;
export const STREAM_DIRECT = 1;

/** @param {number} type */
export function isReliable(type) {
  return type !== T.ACK && type !== T.SYNC;
}

/**
 * @typedef {{ sender: number, stream: number, next: bigint }} StreamPosition
 * @typedef {{ id: number, role: string, permissions: string[] }} RosterEntry
 * @typedef {{ epoch: number, leader: number, members: RosterEntry[] }} Roster
 * @typedef {{ type: 'roster', roster: Roster }
 *   | { type: 'ack', positions: StreamPosition[] }
 *   | { type: 'sync', epoch: number, positions: StreamPosition[] }
 *   | { type: 'stream_start', start: bigint }
 *   | { type: 'chat', text: string }
 *   | { type: 'control', value: Record<string, any> }
 *   | { type: 'file_offer', id: number, name: string, size: number }
 *   | { type: 'file_chunk', id: number, offset: number, data: Uint8Array }
 *   | { type: 'file_end', id: number, sha256: string }
 *   | { type: 'screen', last: boolean, data: Uint8Array }
 *   | { type: 'input', event: Uint8Array }
 *   | { type: 'clipboard', text: string }} Message
 */

/** @param {Message} m */
export function typeOf(m) {
  return {
    roster: T.ROSTER,
    ack: T.ACK,
    sync: T.SYNC,
    stream_start: T.STREAM_START,
    chat: T.CHAT,
    control: T.CONTROL,
    file_offer: T.FILE_OFFER,
    file_chunk: T.FILE_CHUNK,
    file_end: T.FILE_END,
    screen: T.SCREEN,
    input: T.INPUT,
    clipboard: T.CLIPBOARD,
  }[m.type];
}

/** @param {StreamPosition[]} positions */
function encodePositions(positions) {
  const list = positions.slice(0, 512);
  const parts = [new Uint8Array([list.length >> 8, list.length & 0xff])];
  for (const p of list) parts.push(u32(p.sender), new Uint8Array([p.stream]), u64(p.next));
  return concat(...parts);
}

/** @param {Reader} r */
function decodePositions(r) {
  const count = r.u16('position count');
  if (count > 512) throw new WireError('positions', 'too many');
  if (r.remaining() !== count * 13) throw new WireError('positions', 'truncated');
  const out = [];
  for (let i = 0; i < count; i++) {
    const sender = r.u32('sender');
    const stream = r.u8('stream');
    if (stream > 1) throw new WireError('stream', 'unknown');
    out.push({ sender, stream, next: r.u64('next') });
  }
  return out;
}

/** @param {any} v */
const json = (v) => utf8(JSON.stringify(v));

/** @param {Message} m */
export function encodeBody(m) {
  switch (m.type) {
    case 'roster':
      return json(m.roster);
    case 'ack':
      return encodePositions(m.positions);
    case 'sync':
      return concat(u32(m.epoch), encodePositions(m.positions));
    case 'stream_start':
      return u64(m.start);
    case 'chat':
      return json({ text: m.text });
    case 'control':
      return json(m.value);
    case 'file_offer':
      return json({ id: m.id, name: m.name, size: m.size });
    case 'file_chunk':
      return concat(u32(m.id), u64(BigInt(m.offset)), m.data);
    case 'file_end':
      return json({ id: m.id, sha256: m.sha256 });
    case 'screen':
      return concat(new Uint8Array([m.last ? 1 : 0]), m.data);
    case 'input':
      return m.event;
    case 'clipboard':
      return utf8(m.text);
  }
}

/** @param {Uint8Array} body */
function parseJson(body) {
  try {
    return JSON.parse(fromUtf8(body));
  } catch (e) {
    throw new WireError('json', String(e));
  }
}

/**
 * @param {any} v @param {string[]} fields
 */
function exactObject(v, fields) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError('json', 'not an object');
  for (const k of Object.keys(v)) if (!fields.includes(k)) throw new WireError('json', `unknown field ${k}`);
  return v;
}

/** @param {any} v @param {string} name */
function u32Field(v, name) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new WireError(name, 'not a 32-bit number');
  return v;
}

/** @param {number} type @param {Uint8Array} body @returns {Message} */
export function decodeBody(type, body) {
  const r = new Reader(body);
  switch (type) {
    case T.ROSTER: {
      const v = exactObject(parseJson(body), ['epoch', 'leader', 'members']);
      if (!Array.isArray(v.members)) throw new WireError('roster', 'members');
      const members = v.members.map((/** @type {any} */ m) => {
        exactObject(m, ['id', 'role', 'permissions']);
        const permissions = m.permissions ?? [];
        if (typeof m.role !== 'string' || !Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string')) {
          throw new WireError('roster', 'member entry');
        }
        return { id: u32Field(m.id, 'member id'), role: m.role, permissions };
      });
      return { type: 'roster', roster: { epoch: u32Field(v.epoch, 'epoch'), leader: u32Field(v.leader, 'leader'), members } };
    }
    case T.ACK:
      return { type: 'ack', positions: decodePositions(r) };
    case T.SYNC: {
      const epoch = r.u32('epoch');
      return { type: 'sync', epoch, positions: decodePositions(r) };
    }
    case T.STREAM_START: {
      const start = r.u64('stream start');
      r.finish();
      return { type: 'stream_start', start };
    }
    case T.CHAT: {
      const v = exactObject(parseJson(body), ['text']);
      if (typeof v.text !== 'string') throw new WireError('chat', 'text');
      return { type: 'chat', text: v.text };
    }
    case T.CONTROL: {
      const v = parseJson(body);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError('control', 'not an object');
      return { type: 'control', value: v };
    }
    case T.FILE_OFFER: {
      const v = exactObject(parseJson(body), ['id', 'name', 'size']);
      if (typeof v.name !== 'string' || !Number.isSafeInteger(v.size) || v.size < 0) throw new WireError('file offer', 'fields');
      return { type: 'file_offer', id: u32Field(v.id, 'file id'), name: v.name, size: v.size };
    }
    case T.FILE_CHUNK: {
      const id = r.u32('file id');
      const offset = r.u64('file offset');
      const data = r.rest();
      if (data.length > MAX_FILE_CHUNK) throw new WireError('file chunk', 'too large');
      return { type: 'file_chunk', id, offset: Number(offset), data };
    }
    case T.FILE_END: {
      const v = exactObject(parseJson(body), ['id', 'sha256']);
      if (typeof v.sha256 !== 'string') throw new WireError('file end', 'sha256');
      return { type: 'file_end', id: u32Field(v.id, 'file id'), sha256: v.sha256 };
    }
    case T.SCREEN: {
      const last = r.u8('screen piece flag');
      if (last > 1) throw new WireError('screen piece', 'flag');
      const data = r.rest();
      if (data.length === 0 || data.length > MAX_SCREEN_PIECE) throw new WireError('screen piece', 'length');
      return { type: 'screen', last: last === 1, data };
    }
    case T.INPUT:
      return { type: 'input', event: body };
    case T.CLIPBOARD:
      if (body.length > MAX_CLIPBOARD) throw new WireError('clipboard', 'too long');
      return { type: 'clipboard', text: fromUtf8(body) };
    default:
      throw new WireError('message type', `unknown ${type}`);
  }
}

/**
 * Encode a message, with its reliable header when it has one.
 * @param {Message} m @param {{ stream: number, rseq: bigint } | null} reliable
 */
export function encode(m, reliable) {
  const type = typeOf(m);
  const head = reliable ? concat(new Uint8Array([type, reliable.stream]), u64(reliable.rseq)) : new Uint8Array([type]);
  return concat(head, encodeBody(m));
}

/**
 * Split a plaintext into its type, reliable header (or null) and body.
 * @param {Uint8Array} plaintext
 */
export function split(plaintext) {
  if (plaintext.length === 0) throw new WireError('message', 'empty');
  const type = plaintext[0];
  if (!KNOWN.has(type)) throw new WireError('message type', `unknown ${type}`);
  if (!isReliable(type)) return { type, reliable: null, body: plaintext.subarray(1) };
  const r = new Reader(plaintext.subarray(1));
  const stream = r.u8('stream');
  if (stream > 1) throw new WireError('stream', 'unknown');
  const rseq = r.u64('rseq');
  return { type, reliable: { stream, rseq }, body: r.rest() };
}
