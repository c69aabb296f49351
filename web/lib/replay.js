// @ts-check
/**
 * The replay window of docs/protocol.md §6: per sender and epoch, a
 * sequence number is accepted once, and not when older than 1024 packets
 * behind the newest seen.
 * @module
 */

export const REPLAY_WINDOW = 1024n;

export class ReplayWindow {
  constructor() {
    /** the next sequence number above every one seen */
    this.next = 0n;
    /** @type {Set<bigint>} seen numbers within the window */
    this.seen = new Set();
  }

  /** @param {bigint} seq */
  isFresh(seq) {
    if (seq >= this.next) return true;
    if (this.next - 1n - seq >= REPLAY_WINDOW) return false;
    return !this.seen.has(seq);
  }

  /** @param {bigint} seq */
  mark(seq) {
    if (seq >= this.next) this.next = seq + 1n;
    this.seen.add(seq);
    if (this.seen.size > 2 * Number(REPLAY_WINDOW)) {
      for (const s of this.seen) if (this.next - 1n - s >= REPLAY_WINDOW) this.seen.delete(s);
    }
  }
}
