// @ts-check
/**
 * Drives an Endpoint over a relay link: gets tickets from the broker,
 * feeds frames and timers to the endpoint one at a time, sends what it
 * produces, and recovers from a lost relay (resume on the same relay, else
 * a new ticket naming the failed one, then an end-to-end resync).
 * Events go to the `onEvent` callback.
 * @module
 */

import { ticket } from '../api.js';
import { RelayError, RelayLink } from './relay.js';

/** @typedef {import('./endpoint.js').Endpoint} Endpoint */
/** @typedef {import('./endpoint.js').EndpointEvent} EndpointEvent */

/**
 * @typedef {EndpointEvent
 *   | { type: 'connected', relay: string }
 *   | { type: 'reconnecting', reason: string }
 *   | { type: 'moved', relay: string, resumed: boolean }
 *   | { type: 'closed', reason: string }} SessionEvent
 */

const PATIENCE = 30000;

export class Session {
  /**
   * @param {Endpoint} endpoint @param {string} grant
   * @param {(e: SessionEvent) => void} onEvent
   */
  constructor(endpoint, grant, onEvent) {
    this.endpoint = endpoint;
    this.grant = grant;
    this.onEvent = onEvent;
    /** @type {RelayLink | null} */
    this.link = null;
    this.relay = '';
    /** @type {Promise<void>} */
    this.chain = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.closed = false;
  }

  /** Connect to the session's relay and start. */
  async start() {
    await this.reach(null);
    this.onEvent({ type: 'connected', relay: this.relay });
    this.run(async () => {});
  }

  /** @private @param {string | null} failed */
  async reach(failed) {
    const deadline = Date.now() + PATIENCE;
    let backoff = 100;
    let lastError = '';
    for (;;) {
      try {
        const t = await ticket(this.grant, failed);
        const link = new RelayLink(
          t.url,
          t.ticket,
          (frame) => this.run((now) => this.endpoint.handleFrame(frame, now)),
          (error) => this.onLost(error),
        );
        await link.connect(false);
        this.link = link;
        this.relay = t.relay;
        return;
      } catch (e) {
        if (e instanceof RelayError && e.fatal) throw e;
        if (e && /** @type {any} */ (e).status === 401) throw e;
        lastError = String(e);
      }
      if (Date.now() + backoff > deadline) throw new Error(`no relay reachable: ${lastError}`);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  /** @private @param {RelayError} error */
  async onLost(error) {
    if (this.closed) return;
    const old = this.link;
    this.link = null;
    if (error.fatal || !old) {
      this.shut(`the relay closed the session: ${error.message}`);
      return;
    }
    this.onEvent({ type: 'reconnecting', reason: error.message });
    try {
      const resumed = await Promise.race([old.connect(true), new Promise((_, no) => setTimeout(() => no(new Error('timeout')), 2000))]);
      this.link = old;
      this.onEvent({ type: 'moved', relay: this.relay, resumed: Boolean(resumed) });
      if (!resumed) this.run((now) => this.endpoint.resync(now));
      return;
    } catch {
      old.close();
    }
    try {
      await this.reach(this.relay);
      this.onEvent({ type: 'moved', relay: this.relay, resumed: false });
      this.run((now) => this.endpoint.resync(now));
    } catch (e) {
      this.shut(`lost the relay: ${e}`);
    }
  }

  /**
   * Run one endpoint step after the ones before it, then send and report
   * what it produced.
   * @param {(now: number) => Promise<void>} step
   */
  run(step) {
    const next = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await step(performance.now());
      } catch (e) {
        this.endpoint.events.push({ type: 'dropped', from: 0, reason: String(e) });
      }
      this.flush();
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** @private */
  flush() {
    const ep = this.endpoint;
    for (const frame of ep.transmit.splice(0)) this.link?.send(frame);
    for (const event of ep.events.splice(0)) {
      try {
        this.onEvent(event);
      } catch (e) {
        console.error('event handler failed', e);
      }
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const at = ep.pollTimeout();
    if (at !== null && !this.closed) {
      const wait = Math.max(0, at - performance.now());
      this.timer = setTimeout(() => this.run((now) => ep.handleTimeout(now)), wait);
    }
  }

  /**
   * Send a message (0 = everyone).
   * @param {number} to @param {import('./messages.js').Message} message
   */
  send(to, message) {
    return this.run(() => this.endpoint.send(to, message));
  }

  /** Bytes sent but not yet acknowledged end to end, or still in the socket. */
  get backlog() {
    return this.endpoint.unackedBytes + (this.link ? this.link.buffered : 0);
  }

  /** @private @param {string} reason */
  shut(reason) {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.link?.close();
    this.link = null;
    this.onEvent({ type: 'closed', reason });
  }

  /** Leave the session. @param {string} [reason] */
  async close(reason = 'left') {
    await this.chain;
    // Give the last frames a moment to reach the relay.
    const until = Date.now() + 1000;
    while (this.link && this.link.buffered > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    this.shut(reason);
  }
}
