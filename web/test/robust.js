// @ts-check
/**
 * Every parser of bytes from the network, in the page, on mutated inputs
 * (bit flips, truncations, extensions, insertions, random bytes) from
 * real seeds: each input is accepted or refused with a typed error
 * (WireError, OpenError, HandshakeError) — never a TypeError, RangeError
 * or a hang. Bounded by count and time.
 * @module
 */

import { fromHex, WireError } from '../lib/bytes.js';
import * as delivery from '../lib/delivery.js';
import { decodeChallenge, decodeHello, HandshakeError } from '../lib/handshake.js';
import { decompress } from '../lib/lz4.js';
import { GroupState, OpenError } from '../lib/packet.js';
import { ScreenDecoder } from '../lib/screen/decoder.js';
import { decode as decodeScreen } from '../lib/screen/wire.js';
import { parseFrame } from '../lib/session/frames.js';
import * as msg from '../lib/session/messages.js';
import { suiteById } from '../lib/suites.js';

/** A small deterministic generator (xorshift), so a failure can be replayed. @param {number} seed */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** @param {Uint8Array} seed @param {() => number} next */
function mutate(seed, next) {
  const b = Array.from(seed);
  const n = 1 + (next() % 4);
  for (let k = 0; k < n; k++) {
    const op = next() % 6;
    const at = b.length ? next() % b.length : 0;
    if (op === 0 && b.length) b[at] ^= 1 << (next() % 8);
    else if (op === 1) b.length = at;
    else if (op === 2) for (let i = next() % 16; i > 0; i--) b.push(next() & 255);
    else if (op === 3) b.splice(at, 0, next() & 255);
    else if (op === 4 && b.length) b[at] = next() & 255;
    else if (op === 5) for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = [0, 255, 0x7f, 0x80][next() % 4];
  }
  return new Uint8Array(b);
}

/** @param {unknown} e */
const typed = (e) => e instanceof WireError || e instanceof OpenError || e instanceof HandshakeError;

/**
 * @param {any} transcript a golden transcript (its messages are the seeds)
 * @param {number} rounds mutations per target
 * @returns {Promise<{ target: string, runs: number, accepted: number, untyped: string[] }[]>}
 */
export async function robustness(transcript, rounds) {
  const next = rng(0x46484e44);
  const join = transcript.session.joins[0].messages;
  const packets = transcript.session.packets;
  const suite = /** @type {import('../lib/suites.js').Suite} */ (suiteById(transcript.suite.id));
  const aad = fromHex(packets[0].aad);
  const frameSeed = new Uint8Array([0x10, 0, 3, 0, ...new Array(16).fill(0xab), 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
  const screenSeeds = [
    '010000000007001000080002000000000000000001000000020010000600000000020000000600100002203040',
    '01010000000100100008000300000010000000080200000000001000083050700300080000000800020101000800000008000200000006789cfbffff3f0303c3d22800169703fd',
    '01000000000c00100008000100000000000000000700040002000400030005',
    '0300000003006400c801',
    '1000000007',
    '04020000000007800438010444502d310780000005000400000648444d492d31',
  ].map(fromHex);
  const messageSeeds = [
    msg.encode({ type: 'chat', text: 'hello' }, { stream: 0, rseq: 3n }),
    msg.encode({ type: 'file_chunk', id: 1, offset: 0, data: new Uint8Array(8) }, { stream: 1, rseq: 0n }),
    msg.encode({ type: 'ack', positions: [{ sender: 1, stream: 0, next: 5n }] }, null),
    msg.encode({ type: 'roster', roster: { epoch: 2, leader: 1, members: [{ id: 1, role: 'leader', permissions: [] }] } }, { stream: 0, rseq: 0n }),
    msg.encode({ type: 'control', value: { type: 'granted', permissions: ['view'] } }, { stream: 1, rseq: 1n }),
  ];
  const group = new GroupState(suite, 99);
  await group.install(3, new Uint8Array(suite.keyLen), false);
  const peer = new GroupState(suite, 5);
  await peer.install(3, new Uint8Array(suite.keyLen), false);
  const sealedSeeds = [];
  for (const p of packets.slice(0, 4)) sealedSeeds.push(await peer.seal(aad, fromHex(p.plaintext)));

  /** @type {[string, Uint8Array[], (b: Uint8Array) => Promise<unknown> | unknown][]} */
  const targets = [
    ['relay frame', [frameSeed, new Uint8Array([2, ...new Array(44).fill(1), 0]), new Uint8Array([4, 0x0f, 0xa1, 2, 0x6f, 0x6b])], (b) => parseFrame(b)],
    [
      'message',
      messageSeeds,
      (b) => {
        const parts = msg.split(b);
        return msg.decodeBody(parts.type, parts.body);
      },
    ],
    ['hello', [fromHex(join.hello)], (b) => decodeHello(b)],
    ['challenge', [fromHex(join.challenge)], (b) => decodeChallenge(b)],
    ['key delivery', transcript.session.deliveries.map((/** @type {any} */ d) => fromHex(d.bytes)), (b) => delivery.decode(b)],
    ['sealed packet', sealedSeeds, (b) => group.open(aad, b)],
    ['lz4 body', [new Uint8Array([0, 0, 0, 20, 0x1b, 0x61, 1, 0, 0x40, 0x61, 0x61, 0x61, 0x61])], (b) => decompress(b)],
    [
      'screen stream',
      screenSeeds,
      async (b) => {
        const m = await decodeScreen(b);
        if (m.kind === 'update') await new ScreenDecoder().apply(m.update);
        return m;
      },
    ],
  ];
  const report = [];
  for (const [target, seeds, parse] of targets) {
    let accepted = 0;
    /** @type {string[]} */
    const untyped = [];
    const deadline = performance.now() + 4000;
    let runs = 0;
    for (; runs < rounds && performance.now() < deadline; runs++) {
      const input = mutate(seeds[runs % seeds.length], next);
      try {
        await parse(input);
        accepted++;
      } catch (e) {
        if (!typed(e) && untyped.length < 5) untyped.push(`${e}: ${Array.from(input, (x) => x.toString(16).padStart(2, '0')).join('')}`);
      }
    }
    report.push({ target, runs, accepted, untyped });
  }
  return report;
}
