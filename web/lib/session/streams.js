// @ts-check
/**
 * End-to-end reliable streams: the sender keeps numbered messages until
 * acknowledged; the receiver delivers each stream in order, once, holding a
 * bounded number of early arrivals. A broadcast stream a member joins late
 * is unanchored until the sender says where it starts.
 * @module
 */

export class OutStream {
  constructor() {
    this.next = 0n;
    /** @type {{ rseq: bigint, plaintext: Uint8Array }[]} */
    this.buffer = [];
    this.bytes = 0;
  }

  /** @param {Uint8Array} plaintext */
  push(plaintext) {
    this.buffer.push({ rseq: this.next, plaintext });
    this.bytes += plaintext.length;
    this.next += 1n;
  }

  /** @param {bigint} upto */
  trim(upto) {
    while (this.buffer.length && this.buffer[0].rseq < upto) {
      const s = /** @type {{ rseq: bigint, plaintext: Uint8Array }} */ (this.buffer.shift());
      this.bytes -= s.plaintext.length;
    }
  }

  /** @param {bigint} start */
  from(start) {
    return this.buffer.filter((s) => s.rseq >= start);
  }
}

/** @template T */
export class InStream {
  /** @param {number} maxHeldBytes @param {boolean} anchored */
  constructor(maxHeldBytes, anchored) {
    /** @type {bigint | null} */
    this.next = anchored ? 0n : null;
    /** @type {Map<bigint, { item: T, size: number }>} */
    this.held = new Map();
    this.heldBytes = 0;
    this.maxHeldBytes = maxHeldBytes;
  }

  /** @param {bigint} start @returns {T[]} */
  anchor(start) {
    if (this.next !== null) return [];
    for (const [seq, h] of this.held) {
      if (seq < start) {
        this.held.delete(seq);
        this.heldBytes -= h.size;
      }
    }
    this.next = start;
    return this.release();
  }

  /** @returns {T[]} */
  release() {
    const ready = [];
    while (this.next !== null) {
      const h = this.held.get(this.next);
      if (!h) break;
      this.held.delete(this.next);
      this.heldBytes -= h.size;
      ready.push(h.item);
      this.next += 1n;
    }
    return ready;
  }

  /**
   * @param {bigint} rseq @param {T} item @param {number} size
   * @returns {{ kind: 'deliver', ready: T[] } | { kind: 'duplicate' } | { kind: 'held' } | { kind: 'dropped' }}
   */
  arrive(rseq, item, size) {
    if ((this.next !== null && rseq < this.next) || this.held.has(rseq)) return { kind: 'duplicate' };
    if (this.next !== rseq) {
      if (this.heldBytes + size > this.maxHeldBytes) return { kind: 'dropped' };
      this.heldBytes += size;
      this.held.set(rseq, { item, size });
      return { kind: 'held' };
    }
    this.next = rseq + 1n;
    return { kind: 'deliver', ready: [item, ...this.release()] };
  }
}
