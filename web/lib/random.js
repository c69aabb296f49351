// @ts-check
/**
 * Where the end-to-end layer gets its randomness. Every draw names its
 * purpose, as in the Rust implementation, so a test can replay the draws a
 * golden transcript recorded; the product always uses the browser's CSPRNG.
 * @module
 */

/**
 * @typedef {object} RandomSource
 * @property {(label: string, out: Uint8Array) => void} fill
 */

/** The platform's cryptographically secure generator. @type {RandomSource} */
export const systemRandom = {
  fill(_label, out) {
    // getRandomValues takes at most 65,536 bytes per call.
    for (let at = 0; at < out.length; at += 65536) {
      crypto.getRandomValues(out.subarray(at, Math.min(out.length, at + 65536)));
    }
  },
};

/**
 * A uniform integer below `bound` by rejection sampling over 32-bit values
 * (the same draws as the Rust implementation).
 * @param {RandomSource} rng
 * @param {string} label
 * @param {number} bound
 */
export function below(rng, label, bound) {
  const b = Math.max(1, bound);
  const max = 0xffffffff;
  const zone = max - (max % b);
  const word = new Uint8Array(4);
  for (;;) {
    rng.fill(label, word);
    const value = new DataView(word.buffer).getUint32(0);
    if (value < zone) return value % b;
  }
}
