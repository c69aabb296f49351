// @ts-check
/**
 * Replays a golden transcript of crates/e2e/tests/golden/ through the
 * JavaScript end-to-end layer and reports every mismatch. Runs in the
 * browser page under test (and in Node for quick checks).
 * @module
 */

import { fromHex, toHex } from '../lib/bytes.js';
import { ClientHandshake, Verifier, VerifierStore } from '../lib/handshake.js';
import { Leader, Member } from '../lib/group.js';
import { parseCode, parseLink } from '../lib/secret.js';
import { suiteById } from '../lib/suites.js';

/** Replays recorded draws in order, checking each one's purpose. */
class ReplaySource {
  /** @param {{label: string, bytes: string}[]} draws */
  constructor(draws) {
    this.draws = draws;
    this.at = 0;
  }

  /** @param {string} label @param {Uint8Array} out */
  fill(label, out) {
    const d = this.draws[this.at++];
    if (!d) throw new Error(`draw ${this.at} (${label}) beyond the recorded ones`);
    if (d.label !== label) throw new Error(`draw ${this.at}: recorded "${d.label}", drawn "${label}"`);
    const bytes = fromHex(d.bytes);
    if (bytes.length !== out.length) throw new Error(`draw ${this.at}: length ${bytes.length} vs ${out.length}`);
    out.set(bytes);
  }
}

/**
 * @param {any} t the parsed transcript
 * @returns {Promise<{checks: number, failures: string[]}>}
 */
export async function replayTranscript(t) {
  const failures = [];
  let checks = 0;
  /** @param {string} what @param {Uint8Array} got @param {string} want */
  const same = (what, got, want) => {
    checks++;
    if (toHex(got) !== want) failures.push(`${what}: got ${toHex(got).slice(0, 64)}…, want ${want.slice(0, 64)}…`);
  };
  const rng = new ReplaySource(t.random_draws);
  const suite = suiteById(t.suite.id);
  if (!suite) throw new Error('unknown suite');
  const offers = t.client_offers.map((/** @type {number} */ id) => suiteById(id));
  const accepts = t.server_accepts.map((/** @type {number} */ id) => suiteById(id));
  const leader = await Leader.create(suite, t.leader, rng);
  const store = new VerifierStore(accepts, rng);

  /** @param {any} rec @param {import('../lib/secret.js').JoinSecret} secret */
  async function join(rec, secret) {
    const m = rec.messages;
    store.insert(await Verifier.create(accepts, secret.identity, secret.secret, rng));
    const { handshake, hello } = ClientHandshake.start(offers, secret.identity, secret.secret, rng);
    same(`member ${rec.member} hello`, hello, m.hello);
    const { pending, challenge } = await store.respond(hello);
    same(`member ${rec.member} challenge`, challenge, m.challenge);
    const proof = await handshake.onChallenge(challenge);
    same(`member ${rec.member} proof`, proof, m.proof);
    const { confirm, established: server } = await store.finish(pending, proof);
    same(`member ${rec.member} confirm`, confirm, m.confirm);
    const client = await handshake.onConfirm(confirm);
    same(`member ${rec.member} transcript hash`, client.transcriptHash, m.transcript_hash);
    same(`member ${rec.member} server transcript hash`, server.transcriptHash, m.transcript_hash);
    if (rec.member_secret) same(`member ${rec.member} secret`, client.memberSecret, rec.member_secret);
    same(`member ${rec.member} secrets agree`, server.memberSecret, toHex(client.memberSecret));
    return { client, server };
  }

  const deliveries = t.session.deliveries;
  /** @param {string} step @param {import('../lib/delivery.js').Delivery[]} got */
  const checkDeliveries = (step, got) => {
    const want = deliveries.filter((/** @type {any} */ d) => d.step === step);
    checks++;
    if (got.length !== want.length) failures.push(`${step}: ${got.length} deliveries, want ${want.length}`);
    got.forEach((d, i) => {
      if (want[i]) same(`${step} delivery to ${d.recipient}`, d.bytes, want[i].bytes);
    });
  };

  const [joinCode, joinLink] = t.session.joins;
  const j2 = await join(joinCode, parseCode(joinCode.code));
  const m2 = new Member(j2.client);
  const d2 = await leader.admit(2, j2.server);
  checkDeliveries('admit member 2', d2);
  for (const d of d2) await m2.accept(d.bytes);

  const j3 = await join(joinLink, parseLink(joinLink.link));
  const m3 = new Member(j3.client);
  const d3 = await leader.admit(3, j3.server);
  checkDeliveries('admit member 3', d3);
  for (const d of d3) await (d.recipient === 2 ? m2 : m3).accept(d.bytes);

  /** @type {Map<number, Leader | Member>} */
  const members = new Map();
  members.set(1, leader).set(2, m2).set(3, m3);
  // Packets: every member other than the sender opens each; uncompressed
  // ones are sealed again and must match byte for byte.
  let removed = false;
  for (const p of t.session.packets) {
    const aad = fromHex(p.aad);
    const sealed = fromHex(p.sealed);
    const sender = /** @type {Leader | Member} */ (members.get(p.sender));
    if (p.class === 'control' && p.sender === 1 && p.epoch === 4 && !removed) {
      const d4 = await leader.remove(3);
      checkDeliveries('remove member 3', d4);
      for (const d of d4) await m2.accept(d.bytes);
      removed = true;
    }
    if (p.seal_must_match) {
      same(`packet ${p.class} from ${p.sender} seq ${p.seq} sealed`, await sender.seal(aad, fromHex(p.plaintext)), p.sealed);
    } else {
      // Keep the sender's sequence numbers in step with the recording.
      await sender.seal(aad, fromHex(p.plaintext));
    }
    for (const [id, m] of members) {
      if (id === p.sender || (removed && id === 3)) continue;
      try {
        const opened = await m.open(aad, sealed);
        same(`packet ${p.class} from ${p.sender} opened by ${id}`, opened.plaintext, p.plaintext);
      } catch (e) {
        checks++;
        failures.push(`packet ${p.class} from ${p.sender} seq ${p.seq}: member ${id} refused it: ${e}`);
      }
    }
    if (removed) {
      checks++;
      const refused = await m3.open(aad, sealed).then(
        () => false,
        () => true,
      );
      if (!refused) failures.push('the removed member opened a packet of the new epoch');
    }
  }
  checks++;
  if (rng.at !== t.random_draws.length) failures.push(`used ${rng.at} of ${t.random_draws.length} recorded draws`);
  return { checks, failures };
}
