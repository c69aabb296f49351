// @ts-check
/**
 * Member ↔ relay frames (docs/protocol.md §7): admission, hop
 * acknowledgements, close notices and data frames with their 32-byte
 * envelope, whose first 28 bytes are the `aad` of every sealed packet.
 * @module
 */

import { concat, fromHex, Reader, toHex, u16, u32, u64, WireError } from '../bytes.js';

export const ADMIT = 0x01;
export const ADMITTED = 0x02;
export const ACK = 0x03;
export const CLOSE = 0x04;
export const DATA = 0x10;
export const ENVELOPE_LEN = 32;
export const AAD_LEN = 28;
export const ALL_MEMBERS = 0;

export const CLASS_RELIABLE = 0;
export const CLASS_LATEST_WINS = 1;
export const KIND_HANDSHAKE = 1;
export const KIND_KEY_DELIVERY = 2;
export const KIND_SEALED = 3;

/** Close codes and what they mean (§7). */
export const CLOSE_REASONS = /** @type {Record<number, string>} */ ({
  4001: 'protocol error',
  4002: 'handshake timeout',
  4003: 'bad ticket',
  4004: 'expired ticket',
  4005: 'wrong relay',
  4006: 'wrong identity',
  4007: 'session full',
  4008: 'too many connections',
  4009: 'frame too large',
  4010: 'too slow',
  4011: 'replaced',
  4012: 'shutdown',
});

/**
 * @typedef {object} Envelope
 * @property {number} cls      0 reliable, 1 latest-wins
 * @property {number} kind     1 handshake, 2 key delivery, 3 sealed
 * @property {Uint8Array} session 16 bytes
 * @property {number} sender
 * @property {number} target   0 = every member but the sender
 */

/** @param {string} hex a session id as the control plane writes it */
export function sessionIdFromHex(hex) {
  const bytes = fromHex(hex);
  if (bytes.length !== 16) throw new WireError('session', '16 bytes expected');
  return bytes;
}

/** @param {Uint8Array} session */
export function sessionIdToHex(session) {
  return toHex(session);
}

/** The 28 bytes the end-to-end MAC covers. @param {Envelope} e */
export function aad(e) {
  return concat(new Uint8Array([DATA, e.cls, e.kind, 0]), e.session, u32(e.sender), u32(e.target));
}

/** @param {Envelope} e @param {Uint8Array} payload */
export function dataFrame(e, payload) {
  return concat(aad(e), u32(payload.length), payload);
}

/**
 * @param {Uint8Array} ticket
 * @param {{ token: Uint8Array, received: bigint } | null} resume
 */
export function admit(ticket, resume) {
  const head = concat(new Uint8Array([ADMIT, 1]), u16(ticket.length), ticket);
  return resume ? concat(head, new Uint8Array([1]), resume.token, u64(resume.received)) : concat(head, new Uint8Array([0]));
}

/** @param {bigint} count */
export function ack(count) {
  return concat(new Uint8Array([ACK]), u64(count));
}

/**
 * @typedef {{ type: 'admitted', member: number, token: Uint8Array, received: bigint, resumed: boolean }
 *   | { type: 'ack', count: bigint }
 *   | { type: 'close', code: number, reason: string }
 *   | { type: 'data', envelope: Envelope, payload: Uint8Array }} RelayFrame
 */

/** Parse a frame from the relay. @param {Uint8Array} bytes @returns {RelayFrame} */
export function parseFrame(bytes) {
  const r = new Reader(bytes);
  const type = r.u8('frame type');
  switch (type) {
    case ADMITTED: {
      const member = r.u32('member');
      const token = r.take('resume token', 32).slice();
      const received = r.u64('received');
      const flag = r.u8('resumed');
      if (flag > 1) throw new WireError('resumed', 'not 0 or 1');
      r.finish();
      return { type: 'admitted', member, token, received, resumed: flag === 1 };
    }
    case ACK: {
      const count = r.u64('count');
      r.finish();
      return { type: 'ack', count };
    }
    case CLOSE: {
      const code = r.u16('code');
      const reason = new TextDecoder().decode(r.short('reason', 0, 255));
      r.finish();
      return { type: 'close', code, reason };
    }
    case DATA: {
      const cls = r.u8('class');
      const kind = r.u8('kind');
      if (cls > 1) throw new WireError('class', `unknown ${cls}`);
      if (kind < 1 || kind > 3) throw new WireError('kind', `unknown ${kind}`);
      if (r.u8('reserved') !== 0) throw new WireError('reserved', 'not zero');
      const session = r.take('session', 16);
      const sender = r.u32('sender');
      const target = r.u32('target');
      const len = r.u32('length');
      if (len !== r.remaining()) throw new WireError('length', `says ${len}, carries ${r.remaining()}`);
      return { type: 'data', envelope: { cls, kind, session, sender, target }, payload: r.rest() };
    }
    default:
      throw new WireError('frame type', `unknown ${type}`);
  }
}
