// @ts-check
/**
 * Join secrets (docs/protocol.md §3): a 12-digit code read over the phone,
 * or a link whose secret sits in the URL fragment. Each splits into a
 * locator for the control plane and a secret that never leaves the two
 * endpoints.
 * @module
 */

import { fromBase64Url, toBase64Url, utf8, WireError } from './bytes.js';
import { below, systemRandom } from './random.js';

const CODE_DIGITS = 12;
const LOCATOR_DIGITS = 6;
const LINK_BYTES = 16;

/**
 * @typedef {object} JoinSecret
 * @property {'code' | 'link'} kind
 * @property {string} locator
 * @property {Uint8Array} identity  the SRP identity I
 * @property {Uint8Array} secret    the SRP password P
 */

/** Read a code as typed: digits with any spaces or dashes. @param {string} input @returns {JoinSecret} */
export function parseCode(input) {
  let digits = '';
  for (const c of input.trim()) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c !== ' ' && c !== '-') throw new WireError('code', 'only digits, spaces and dashes');
  }
  if (digits.length !== CODE_DIGITS) throw new WireError('code', `${CODE_DIGITS} digits expected, got ${digits.length}`);
  const locator = digits.slice(0, LOCATOR_DIGITS);
  return { kind: 'code', locator, identity: utf8(`code:${locator}`), secret: utf8(digits.slice(LOCATOR_DIGITS)) };
}

/** @param {string} token */
function tokenOk(token) {
  if (token.length !== 22) return false;
  try {
    return fromBase64Url(token).length === LINK_BYTES;
  } catch {
    return false;
  }
}

/** Read a link: anything ending in `/join/<locator>#<secret>`. @param {string} url @returns {JoinSecret} */
export function parseLink(url) {
  const text = url.trim();
  const hash = text.indexOf('#');
  if (hash < 0) throw new WireError('link', 'the secret after # is missing');
  const secret = text.slice(hash + 1);
  let path = text.slice(0, hash);
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  path = path.replace(/\/+$/, '');
  const at = path.lastIndexOf('/join/');
  const locator = at >= 0 ? path.slice(at + 6) : '';
  if (!locator) throw new WireError('link', 'no /join/<locator>');
  if (!tokenOk(locator)) throw new WireError('link', 'malformed locator');
  if (!tokenOk(secret)) throw new WireError('link', 'malformed secret');
  return { kind: 'link', locator, identity: utf8(`link:${locator}`), secret: utf8(secret) };
}

/** A code or a link, whichever `input` is. @param {string} input */
export function parseJoin(input) {
  return input.includes('/join/') || input.includes('#') ? parseLink(input) : parseCode(input);
}

/** A fresh code secret for a locator (the leader's job). @param {string} locator */
export function newCode(locator, rng = systemRandom) {
  if (!/^[0-9]{6}$/.test(locator)) throw new WireError('locator', 'six digits expected');
  let digits = '';
  for (let i = 0; i < CODE_DIGITS - LOCATOR_DIGITS; i++) digits += String(below(rng, 'join code secret', 10));
  return parseCode(locator + digits);
}

/** A fresh link secret for a locator (the leader's job). @param {string} base @param {string} locator */
export function newLink(base, locator, rng = systemRandom) {
  const bytes = new Uint8Array(LINK_BYTES);
  rng.fill('join link secret', bytes);
  return parseLink(`${base.replace(/\/+$/, '')}/join/${locator}#${toBase64Url(bytes)}`);
}
