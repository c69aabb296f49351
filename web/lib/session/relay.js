// @ts-check
/**
 * A member's WebSocket to a relay: admission with a ticket, hop
 * acknowledgements both ways, and resume without loss after a dropped
 * connection (every reliable frame sent is kept until the relay has it).
 * @module
 */

import { fromBase64Url } from '../bytes.js';
import * as frames from './frames.js';

const ACK_EVERY = 16n;
const ADMIT_TIMEOUT = 10000;

/** Close codes after which retrying the same ticket is pointless. */
const FATAL = new Set([4003, 4004, 4005, 4006, 4007, 4011]);

export class RelayError extends Error {
  /** @param {number} code @param {string} reason */
  constructor(code, reason) {
    super(`${frames.CLOSE_REASONS[code] ?? 'connection lost'}${reason ? `: ${reason}` : ''}`);
    this.name = 'RelayError';
    this.code = code;
    this.fatal = FATAL.has(code);
  }
}

export class RelayLink {
  /**
   * @param {string} url @param {string} ticket base64url
   * @param {(frame: Uint8Array) => void} onData
   * @param {(error: RelayError) => void} onLost
   */
  constructor(url, ticket, onData, onLost) {
    this.url = url;
    this.ticket = fromBase64Url(ticket);
    this.onData = onData;
    this.onLost = onLost;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.member = 0;
    /** @type {Uint8Array | null} */
    this.token = null;
    this.sent = 0n;
    /** @type {{ n: bigint, frame: Uint8Array }[]} */
    this.unacked = [];
    this.received = 0n;
    this.ackedReceived = 0n;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.ticker = null;
  }

  /** Connect and be admitted; resolves with whether state was resumed. @param {boolean} resume */
  connect(resume) {
    return new Promise((resolve, reject) => {
      if (!/^wss?:\/\//.test(this.url)) {
        reject(new RelayError(0, 'not a WebSocket URL'));
        return;
      }
      const ws = new WebSocket(this.url);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      let admitted = false;
      const timer = setTimeout(() => {
        if (!admitted) {
          ws.close();
          reject(new RelayError(4002, 'no admission'));
        }
      }, ADMIT_TIMEOUT);
      ws.onopen = () => {
        const r = resume && this.token ? { token: this.token, received: this.received } : null;
        ws.send(frames.admit(this.ticket, r));
      };
      ws.onmessage = (ev) => {
        const bytes = new Uint8Array(/** @type {ArrayBuffer} */ (ev.data));
        let frame;
        try {
          frame = frames.parseFrame(bytes);
        } catch (e) {
          ws.close(4001, 'protocol error');
          return;
        }
        if (!admitted) {
          if (frame.type === 'close') {
            clearTimeout(timer);
            reject(new RelayError(frame.code, frame.reason));
            return;
          }
          if (frame.type !== 'admitted') return;
          admitted = true;
          clearTimeout(timer);
          const resumed = resume && frame.resumed;
          this.member = frame.member;
          this.token = frame.token;
          if (resumed) {
            this.trim(frame.received);
            for (const u of this.unacked) ws.send(u.frame);
          } else {
            this.sent = 0n;
            this.unacked = [];
            this.received = 0n;
            this.ackedReceived = 0n;
          }
          this.startTicker();
          ws.onclose = (c) => this.lost(c.code, c.reason);
          resolve(resumed);
          return;
        }
        this.onFrame(frame, bytes);
      };
      ws.onerror = () => {};
      ws.onclose = (c) => {
        clearTimeout(timer);
        if (!admitted) reject(new RelayError(c.code, c.reason));
      };
    });
  }

  /** @private @param {import('./frames.js').RelayFrame} frame @param {Uint8Array} bytes */
  onFrame(frame, bytes) {
    if (frame.type === 'ack') this.trim(frame.count);
    else if (frame.type === 'close') this.lost(frame.code, frame.reason);
    else if (frame.type === 'data') {
      if (frame.envelope.cls === frames.CLASS_RELIABLE) {
        this.received += 1n;
        if (this.received - this.ackedReceived >= ACK_EVERY) this.sendAck();
      }
      this.onData(bytes);
    }
  }

  /** @private @param {bigint} count */
  trim(count) {
    while (this.unacked.length && this.unacked[0].n < count) this.unacked.shift();
  }

  /** @private */
  sendAck() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.received > this.ackedReceived) {
      this.ws.send(frames.ack(this.received));
      this.ackedReceived = this.received;
    }
  }

  /** @private */
  startTicker() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = setInterval(() => this.sendAck(), 100);
  }

  /**
   * Stop acking and take the socket out of service; returns it (or null).
   * @private
   */
  detach() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
    }
    return ws;
  }

  /** @private @param {number} code @param {string} reason */
  lost(code, reason) {
    const ws = this.detach();
    if (ws) {
      try {
        ws.close();
      } catch {
        /* already closed */
      }
      this.onLost(new RelayError(code, reason));
    }
  }

  /** Send a data frame (kept until the relay acknowledges it). @param {Uint8Array} frame */
  send(frame) {
    this.unacked.push({ n: this.sent, frame });
    this.sent += 1n;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** Bytes the WebSocket has not handed to the network yet. */
  get buffered() {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  close() {
    this.detach()?.close(1000, 'bye');
  }
}
