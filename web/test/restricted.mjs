// The browser's restricted-data rules (web/lib/restricted.js), in the real
// browser, against the corpus the Rust rules are tested with
// (crates/privacy/tests/restricted-corpus.json), checked as
// crates/privacy/tests/restricted.rs checks them: every recorded finding
// is found and masked as recorded, every near miss is left alone, each
// policy warns, masks or blocks, and the ordinary support chat raises
// nothing. A difference from the Rust rules fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const corpusPath = join(dirname(fileURLToPath(import.meta.url)), '../../crates/privacy/tests/restricted-corpus.json');

/** The words of Rust's `Kind::describe`, which the page's `describe` must give. */
const DESCRIBED = {
  payment_card: 'a payment card number',
  iban: 'an IBAN',
  us_ssn: 'a US Social Security number',
  uk_nino: 'a UK National Insurance number',
  nl_bsn: 'a Dutch BSN',
  es_dni: 'a Spanish DNI/NIE',
  fr_nir: 'a French social security number',
};

/**
 * @typedef {object} Corpus
 * @property {number} version
 * @property {{ text: string, kinds: string[], found: string[], masked: string }[]} restricted
 * @property {{ text: string, why: string }[]} near_misses
 * @property {string[]} ordinary_chat
 * @property {{ text: string, why: string }[]} known_false_positives
 */

/**
 * Runs in the page: everything the module says about the corpus, as plain
 * data for the comparisons below.
 * @param {{ corpus: Corpus, module: string, kinds: string[] }} arg
 */
async function inPage({ corpus, module, kinds }) {
  const restricted = await import(module);
  /** @param {string} text */
  const findings = (text) =>
    restricted.scan(text).map((/** @type {{ kind: string, start: number, end: number }} */ f) => ({
      kind: f.kind,
      text: text.slice(f.start, f.end),
    }));
  /** @param {string} policy @param {string} text */
  const apply = (policy, text) => {
    try {
      const kept = restricted.check(policy, text);
      return { ok: true, text: kept.text, kinds: kept.kinds };
    } catch (e) {
      const err = /** @type {any} */ (e);
      return { ok: false, typed: e instanceof restricted.RestrictedDataError, kinds: err.kinds, message: String(err.message) };
    }
  };
  /** @param {string} text */
  const policies = (text) => ({ warn: apply('warn', text), mask: apply('mask', text), block: apply('block', text) });
  return {
    described: Object.fromEntries(kinds.map((k) => [k, restricted.describe(k)])),
    restricted: corpus.restricted.map((r) => ({ findings: findings(r.text), masked: restricted.mask(r.text), ...policies(r.text) })),
    nearMisses: corpus.near_misses.map((n) => findings(n.text)),
    ordinary: corpus.ordinary_chat.map((line) => ({ findings: findings(line), ...policies(line) })),
    known: corpus.known_false_positives.map((k) => findings(k.text)),
  };
}

/** Each kind once, in order of first appearance. @param {string[]} kinds */
function once(kinds) {
  return kinds.filter((k, i) => kinds.indexOf(k) === i);
}

/** @param {{ base: string, newPage: () => Promise<import('playwright-core').Page> }} ctx */
export default async function run(ctx) {
  /** @type {Corpus} */
  const corpus = JSON.parse(await readFile(corpusPath, 'utf8'));
  assert.ok(corpus.restricted.length >= 20, 'the corpus lost its examples');
  assert.ok(corpus.near_misses.length >= 10, 'the corpus lost its near misses');
  assert.ok(corpus.ordinary_chat.length >= 300, 'the chat corpus lost lines');

  const page = await ctx.newPage();
  await page.goto(`${ctx.base}/`);
  const got = await page.evaluate(inPage, { corpus, module: '/web/lib/restricted.js', kinds: Object.keys(DESCRIBED) });

  assert.deepEqual(got.described, DESCRIBED, 'describe() differs from the Rust words');
  /** @param {string[]} kinds */
  const blockedMessage = (kinds) =>
    `the text holds restricted data (${kinds.map((k) => DESCRIBED[/** @type {keyof typeof DESCRIBED} */ (k)]).join(', ')}) and this organisation's policy blocks it`;

  // Every recorded finding is found and masked as recorded.
  corpus.restricted.forEach((r, i) => {
    const g = got.restricted[i];
    const where = JSON.stringify(r.text);
    assert.deepEqual(g.findings.map((f) => f.kind), r.kinds, `kinds in ${where}`);
    assert.deepEqual(g.findings.map((f) => f.text), r.found, `found in ${where}`);
    assert.equal(g.masked, r.masked, `masked ${where}`);
    // Each policy warns, masks or blocks.
    const kinds = once(r.kinds);
    assert.deepEqual(g.warn, { ok: true, text: r.text, kinds }, `warn on ${where}`);
    assert.deepEqual(g.mask, { ok: true, text: r.masked, kinds }, `mask on ${where}`);
    assert.deepEqual(g.block, { ok: false, typed: true, kinds, message: blockedMessage(kinds) }, `block on ${where}`);
  });
  console.log(`  ${corpus.restricted.length} restricted examples found, masked and blocked as recorded`);

  // Near misses are ordinary text.
  corpus.near_misses.forEach((n, i) => {
    assert.deepEqual(got.nearMisses[i], [], `near miss ${JSON.stringify(n.text)} (${n.why}) was flagged`);
  });
  console.log(`  ${corpus.near_misses.length} near misses left alone`);

  // Ordinary support chat raises nothing, and every policy keeps it as it is.
  const flagged = corpus.ordinary_chat
    .map((line, i) => ({ line, findings: got.ordinary[i].findings }))
    .filter((o) => o.findings.length > 0);
  assert.deepEqual(
    flagged.map((o) => `${JSON.stringify(o.line)}: ${o.findings.map((f) => `${f.kind} ${JSON.stringify(f.text)}`).join(', ')}`),
    [],
    'ordinary chat lines flagged',
  );
  corpus.known_false_positives.forEach((k, i) => {
    assert.ok(got.known[i].length > 0, `no longer flagged: ${JSON.stringify(k.text)}`);
  });
  const lines = corpus.ordinary_chat.length + corpus.known_false_positives.length;
  const rate = corpus.known_false_positives.length / lines;
  console.log(`  false positives: ${corpus.known_false_positives.length} of ${lines} lines (${(rate * 100).toFixed(2)}%)`);
  assert.ok(rate <= 0.01, `false-positive rate ${(rate * 100).toFixed(2)}% is over 1%`);
  corpus.ordinary_chat.forEach((line, i) => {
    const g = got.ordinary[i];
    for (const policy of /** @type {const} */ (['warn', 'mask', 'block'])) {
      assert.deepEqual(g[policy], { ok: true, text: line, kinds: [] }, `${policy} changed ${JSON.stringify(line)}`);
    }
  });
}
