// @ts-check
/**
 * Restricted data in text, found before it is sent: payment card numbers,
 * IBANs and national identifiers, recognised by their structure *and*
 * their check digits, so ordinary numbers (tickets, phone numbers,
 * versions) do not trip it. The page warns, masks or refuses as the
 * tenant's policy says.
 *
 * This is the browser's copy of `crates/privacy/src/restricted` and must
 * stay identical to it: the same tokens, the same rules in the same order,
 * the same check digits and country lengths, the same masking. Both are
 * tested against one corpus, `crates/privacy/tests/restricted-corpus.json`
 * (here by `web/test/restricted.mjs`); a rule changes in both, and in
 * `docs/privacy.md`, together.
 *
 * Text is cut into tokens, maximal runs of ASCII letters and digits; a
 * candidate is a few consecutive tokens joined by a single separator
 * (space or hyphen, the same one throughout), as people write these
 * numbers ("4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00").
 * Offsets are indices into the JavaScript string; tokens and separators
 * are ASCII, so a finding covers the same characters as in Rust.
 * @module
 */

/** @typedef {'payment_card' | 'iban' | 'us_ssn' | 'uk_nino' | 'nl_bsn' | 'es_dni' | 'fr_nir'} Kind */
/** @typedef {'warn' | 'mask' | 'block'} Policy */

/**
 * @typedef {object} Finding
 * @property {Kind} kind what it is
 * @property {number} start index of its first character
 * @property {number} end one past its last character
 */

/**
 * @typedef {object} Checked
 * @property {string} text the text to keep: unchanged under warn, masked under mask
 * @property {Kind[]} kinds each kind found, once, in order of first appearance
 */

/** Words for people, by kind. @type {Record<Kind, string>} */
const DESCRIPTIONS = {
  payment_card: 'a payment card number',
  iban: 'an IBAN',
  us_ssn: 'a US Social Security number',
  uk_nino: 'a UK National Insurance number',
  nl_bsn: 'a Dutch BSN',
  es_dni: 'a Spanish DNI/NIE',
  fr_nir: 'a French social security number',
};

/** Every kind, in the order the rules are tried. @type {readonly Kind[]} */
export const KINDS = Object.freeze(['payment_card', 'iban', 'us_ssn', 'uk_nino', 'nl_bsn', 'es_dni', 'fr_nir']);

/** The policies a tenant can set. @type {readonly Policy[]} */
export const POLICIES = Object.freeze(['warn', 'mask', 'block']);

/** Words for people ("a payment card number"). @param {Kind} kind */
export function describe(kind) {
  return DESCRIPTIONS[kind];
}

/**
 * How many trailing letters or digits masking leaves visible (enough for a
 * person to tell two cards apart, as receipts do).
 * @param {Kind} kind
 */
function keptWhenMasked(kind) {
  return kind === 'payment_card' || kind === 'iban' ? 4 : 0;
}

/** Text refused by the block policy. */
export class RestrictedDataError extends Error {
  /** @param {Kind[]} kinds what was found, each kind once */
  constructor(kinds) {
    super(
      `the text holds restricted data (${kinds.map(describe).join(', ')}) and this organisation's policy blocks it`,
    );
    this.name = 'RestrictedDataError';
    /** @type {Kind[]} */
    this.kinds = kinds;
  }
}

// Check digits and issuer tables.

/** @param {number} c a character code */
const isDigit = (c) => c >= 48 && c <= 57;
/** @param {number} c */
const isUpper = (c) => c >= 65 && c <= 90;
/** @param {number} c */
const isLower = (c) => c >= 97 && c <= 122;
/** @param {number} c */
const isAlnum = (c) => isDigit(c) || isUpper(c) || isLower(c);

/** @param {string} s */
function allDigits(s) {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** @param {string} s */
function allUpperAlnum(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c) && !isUpper(c)) return false;
  }
  return true;
}

/** A number from ASCII digits (at most 15 of them, exact in a double). @param {string} digits */
function number(digits) {
  let n = 0;
  for (let i = 0; i < digits.length; i++) n = n * 10 + (digits.charCodeAt(i) - 48);
  return n;
}

/** Luhn (mod 10) over ASCII digits. @param {string} digits */
function luhn(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let v = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

/**
 * Whether a card number starts with a prefix an issuer uses (Visa,
 * Mastercard, American Express, Discover, JCB, Diners Club, UnionPay,
 * Maestro).
 * @param {string} digits
 */
function cardIssuer(digits) {
  /** @param {number} n */
  const prefix = (n) => number(digits.slice(0, n));
  const [p1, p2, p3, p4] = [prefix(1), prefix(2), prefix(3), prefix(4)];
  const len = digits.length;
  const long = len >= 16 && len <= 19;
  return (
    (p1 === 4 && (len === 16 || len === 19)) ||
    (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && len === 16) ||
    ((p2 === 34 || p2 === 37) && len === 15) ||
    ((p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) && long) ||
    (p4 >= 3528 && p4 <= 3589 && long) ||
    (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) && len >= 14 && len <= 19) ||
    (p2 === 62 && long) ||
    ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && long)
  );
}

/** The length of an IBAN by country (ISO 13616 registry). @type {Readonly<Record<string, number>>} */
const IBAN_LENGTHS = Object.freeze({
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20,
  BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28,
  EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18,
  NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19,
  SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
});

/** @param {string} country two capitals */
function ibanLength(country) {
  return Object.prototype.hasOwnProperty.call(IBAN_LENGTHS, country) ? IBAN_LENGTHS[country] : undefined;
}

/**
 * ISO 13616 / ISO 7064 mod 97-10: the first four characters moved to the
 * end, letters as 10–35, the number mod 97 is 1. `iban` is upper case.
 * @param {string} iban
 */
function ibanChecksum(iban) {
  if (iban.length < 5) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isUpper(c)) rem = (rem * 100 + (c - 65) + 10) % 97;
    else return false;
  }
  return rem === 1;
}

/** Dutch BSN "11-proof": 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11. @param {string} digits */
function bsnEleven(digits) {
  if (digits.length !== 9 || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    const v = digits.charCodeAt(i) - 48;
    sum += (i === 8 ? -1 : 9 - i) * v;
  }
  return sum % 11 === 0;
}

/** The Spanish DNI check letter of a number. @param {number} n */
function dniLetter(n) {
  return 'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23];
}

// Tokens and windows.

/**
 * A maximal run of ASCII letters and digits.
 * @typedef {object} Token
 * @property {number} start
 * @property {number} end
 */

/** @param {string} text @returns {Token[]} */
function tokenize(text) {
  /** @type {Token[]} */
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    if (isAlnum(text.charCodeAt(i))) {
      const start = i;
      while (i < text.length && isAlnum(text.charCodeAt(i))) i++;
      tokens.push({ start, end: i });
    } else {
      i++;
    }
  }
  return tokens;
}

/**
 * The most tokens a window spans (a 19-digit card written one digit at a
 * time, the longest plausible grouping).
 */
const MAX_TOKENS = 19;

/** Words that name a BSN just before the number. */
const BSN_WORDS = ['bsn', 'burgerservicenummer', 'sofinummer'];

/**
 * Tokens from `first` on, as long as each is joined to the one before by
 * exactly one separator character, the same one each time.
 */
class Window {
  /** @param {string} text @param {Token[]} tokens @param {number} first */
  constructor(text, tokens, first) {
    this.text = text;
    this.tokens = tokens;
    this.first = first;
    let len = 1;
    /** @type {string | null} the separator joining them (if more than one token) */
    let sep = null;
    while (first + len < tokens.length && len < MAX_TOKENS) {
      const prev = tokens[first + len - 1];
      const next = tokens[first + len];
      if (next.start !== prev.end + 1) break;
      const s = text[prev.end];
      if ((s !== ' ' && s !== '-') || (sep !== null && sep !== s)) break;
      sep = s;
      len++;
    }
    /** How many tokens are in the window. */
    this.len = len;
    this.sep = sep;
  }

  /** Token `k` of the window. @param {number} k */
  token(k) {
    const t = this.tokens[this.first + k];
    return this.text.slice(t.start, t.end);
  }

  /** The tokens before the window (for context words), up to `n`. @param {number} n */
  before(n) {
    const out = [];
    for (let k = Math.max(0, this.first - n); k < this.first; k++) {
      const t = this.tokens[k];
      out.push(this.text.slice(t.start, t.end));
    }
    return out;
  }

  /**
   * Whether the token before the window holds a digit and is joined to it
   * by one space or hyphen (the window continues a grouped number).
   */
  joinedToPreviousWithDigits() {
    if (this.first === 0) return false;
    const prev = this.tokens[this.first - 1];
    const self = this.tokens[this.first];
    const s = this.text[prev.end];
    return self.start === prev.end + 1 && (s === ' ' || s === '-') && /[0-9]/.test(this.text.slice(prev.start, prev.end));
  }

  /** Whether a `+` comes right before the window (a phone number). */
  afterPlus() {
    const start = this.tokens[this.first].start;
    return start > 0 && this.text[start - 1] === '+';
  }

  /**
   * Whether the token after the window's `k`-th is in the window and holds
   * a digit (the number goes on). @param {number} k
   */
  continuesAfter(k) {
    return k + 1 < this.len && /[0-9]/.test(this.token(k + 1));
  }

  /**
   * The window's first `count` tokens run together, if joined by `sep` (or
   * a single token); null otherwise.
   * @param {number} count @param {string} sep
   */
  compact(count, sep) {
    if (count > 1 && this.sep !== sep) return null;
    let out = '';
    for (let k = 0; k < count; k++) out += this.token(k);
    return out;
  }
}

// The rules: for the window at one token, the index of the last token of a
// match, or null. A rule matches only on structure plus check digits (and,
// for the Dutch BSN whose 11-check passes one number in eleven, the word
// "BSN" just before it).

/**
 * Payment cards: 13–19 digits in digit-only tokens, issuer prefix, Luhn;
 * not a piece of a longer grouped number (an account number in an IBAN, a
 * reference with more groups).
 * @param {Window} w
 */
function card(w) {
  if (w.joinedToPreviousWithDigits() || w.afterPlus()) return null;
  let digits = '';
  /** @type {number | null} */
  let best = null;
  for (let k = 0; k < w.len; k++) {
    const t = w.token(k);
    if (!allDigits(t)) break;
    digits += t;
    if (digits.length > 19) break;
    const more = k + 1 < w.len && allDigits(w.token(k + 1));
    if (digits.length >= 13 && !more && cardIssuer(digits) && luhn(digits)) best = w.first + k;
  }
  return best;
}

/**
 * IBANs: country code in capitals and two check digits, the country's
 * length, mod 97; grouped by spaces or written together.
 * @param {Window} w
 */
function iban(w) {
  const head = w.token(0);
  if (
    head.length < 4 ||
    !isUpper(head.charCodeAt(0)) ||
    !isUpper(head.charCodeAt(1)) ||
    !isDigit(head.charCodeAt(2)) ||
    !isDigit(head.charCodeAt(3))
  ) {
    return null;
  }
  const want = ibanLength(head.slice(0, 2));
  if (want === undefined) return null;
  for (let count = 1; count <= w.len; count++) {
    const compact = w.compact(count, ' ');
    if (compact === null || compact.length > want) return null;
    if (compact.length === want) return ibanChecksum(compact.toUpperCase()) ? w.first + count - 1 : null;
  }
  return null;
}

/**
 * US SSN: `AAA-GG-SSSS` with hyphens; never issued: area 000, 666,
 * 900–999, group 00, serial 0000.
 * @param {Window} w
 */
function usSsn(w) {
  if (w.len < 3 || w.sep !== '-' || w.joinedToPreviousWithDigits() || w.continuesAfter(2)) return null;
  const [a, g, s] = [w.token(0), w.token(1), w.token(2)];
  if (a.length !== 3 || g.length !== 2 || s.length !== 4 || ![a, g, s].every(allDigits)) return null;
  const area = number(a);
  const ok = area !== 0 && area !== 666 && area < 900 && number(g) !== 0 && number(s) !== 0;
  return ok ? w.first + 2 : null;
}

const NINO_PREFIXES_NOT_ISSUED = ['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'];

/**
 * UK NINO: two prefix letters (not D, F, I, Q, U, V; second not O; not
 * BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A–D; capitals, written
 * together or grouped by spaces.
 * @param {Window} w
 */
function ukNino(w) {
  for (let count = 1; count <= Math.min(w.len, 5); count++) {
    const c = w.compact(count, ' ');
    if (c === null || c.length > 9) return null;
    if (c.length < 9) continue;
    const lettersOk =
      isUpper(c.charCodeAt(0)) &&
      isUpper(c.charCodeAt(1)) &&
      !'DFIQUV'.includes(c[0]) &&
      !'DFIOQUV'.includes(c[1]) &&
      !NINO_PREFIXES_NOT_ISSUED.includes(c.slice(0, 2));
    const ok = lettersOk && allDigits(c.slice(2, 8)) && c[8] >= 'A' && c[8] <= 'D';
    return ok ? w.first + count - 1 : null;
  }
  return null;
}

/**
 * Dutch BSN: nine digits passing the 11-check, named "BSN" (or
 * burgerservicenummer, sofinummer) in the three tokens before.
 * @param {Window} w
 */
function nlBsn(w) {
  const t = w.token(0);
  if (t.length !== 9 || !allDigits(t) || !bsnEleven(t)) return null;
  // Tokens are ASCII, so lower-casing them is ASCII case folding.
  const named = w.before(3).some((b) => BSN_WORDS.includes(b.toLowerCase()));
  return named ? w.first : null;
}

/**
 * Spanish DNI (8 digits and its letter) or NIE (X, Y or Z, 7 digits and
 * the letter), in capitals, together or with a hyphen before the letter.
 * @param {Window} w
 */
function esDni(w) {
  const t = w.token(0);
  let body;
  let letter;
  let last;
  if (t.length === 9) {
    [body, letter, last] = [t.slice(0, 8), t[8], w.first];
  } else if (t.length === 8 && w.len >= 2 && w.sep === '-' && w.token(1).length === 1) {
    [body, letter, last] = [t, w.token(1), w.first + 1];
  } else {
    return null;
  }
  if (!allUpperAlnum(body) || !isUpper(letter.charCodeAt(0))) return null;
  // A NIE's leading X, Y or Z counts as 0, 1 or 2.
  const lead = 'XYZ'.indexOf(body[0]);
  const digits = lead < 0 ? body : String(lead) + body.slice(1);
  if (!allDigits(digits)) return null;
  return dniLetter(number(digits)) === letter ? last : null;
}

/**
 * French NIR: sex 1 or 2, year, month, department (digits or 2A/2B for
 * Corsica), commune, order number, then the key 97 − (number mod 97);
 * together or grouped by spaces.
 * @param {Window} w
 */
function frNir(w) {
  for (let count = 1; count <= Math.min(w.len, 7); count++) {
    const c = w.compact(count, ' ');
    if (c === null || c.length > 15) return null;
    if (c.length < 15) continue;
    if (!(c[0] === '1' || c[0] === '2') || !allDigits(c.slice(0, 5)) || !allDigits(c.slice(7))) return null;
    const department = c.slice(5, 7);
    let body;
    if (department === '2A') body = c.slice(0, 5) + '19' + c.slice(7, 13);
    else if (department === '2B') body = c.slice(0, 5) + '18' + c.slice(7, 13);
    else if (allDigits(department)) body = c.slice(0, 13);
    else return null;
    const month = number(c.slice(3, 5));
    if (month === 0 || (month >= 13 && month <= 19)) return null;
    const key = 97 - (number(body) % 97);
    return key === number(c.slice(13, 15)) ? w.first + count - 1 : null;
  }
  return null;
}

/** The rules in their fixed order. @type {[Kind, (w: Window) => number | null][]} */
const RULES = [
  ['fr_nir', frNir],
  ['payment_card', card],
  ['iban', iban],
  ['us_ssn', usSsn],
  ['uk_nino', ukNino],
  ['nl_bsn', nlBsn],
  ['es_dni', esDni],
];

/**
 * The longest match of any rule starting at token `i`: its kind and the
 * index of its last token. A longer match wins, an equal one goes to the
 * earlier rule.
 * @param {string} text @param {Token[]} tokens @param {number} i
 * @returns {{ kind: Kind, last: number } | null}
 */
function longestAt(text, tokens, i) {
  const w = new Window(text, tokens, i);
  /** @type {{ kind: Kind, last: number } | null} */
  let best = null;
  for (const [kind, rule] of RULES) {
    const last = rule(w);
    if (last !== null && (best === null || last > best.last)) best = { kind, last };
  }
  return best;
}

// Scanning, masking and policies.

/**
 * Every restricted item in `text`, in order, none overlapping.
 * @param {string} text
 * @returns {Finding[]}
 */
export function scan(text) {
  const tokens = tokenize(text);
  /** @type {Finding[]} */
  const found = [];
  let i = 0;
  while (i < tokens.length) {
    const m = longestAt(text, tokens, i);
    if (m) {
      found.push({ kind: m.kind, start: tokens[i].start, end: tokens[m.last].end });
      i = m.last + 1;
    } else {
      i++;
    }
  }
  return found;
}

/**
 * `text` with every finding's letters and digits replaced by `*` (the last
 * four of card numbers and IBANs kept), separators left as they are.
 * @param {string} text
 */
export function mask(text) {
  let out = '';
  let at = 0;
  for (const f of scan(text)) {
    out += text.slice(at, f.start);
    const span = text.slice(f.start, f.end);
    let alnum = 0;
    for (let i = 0; i < span.length; i++) if (isAlnum(span.charCodeAt(i))) alnum++;
    const hide = Math.max(0, alnum - keptWhenMasked(f.kind));
    let seen = 0;
    for (let i = 0; i < span.length; i++) {
      if (isAlnum(span.charCodeAt(i))) {
        seen++;
        out += seen <= hide ? '*' : span[i];
      } else {
        out += span[i];
      }
    }
    at = f.end;
  }
  return out + text.slice(at);
}

/**
 * Apply `policy` to `text`: the text to keep and what was found, or a
 * `RestrictedDataError` when the policy blocks it.
 * @param {Policy} policy @param {string} text
 * @returns {Checked}
 */
export function check(policy, text) {
  if (!POLICIES.includes(policy)) throw new TypeError(`unknown restricted-data policy ${JSON.stringify(policy)}`);
  /** @type {Kind[]} */
  const kinds = [];
  for (const f of scan(text)) if (!kinds.includes(f.kind)) kinds.push(f.kind);
  if (kinds.length === 0 || policy === 'warn') return { text, kinds };
  if (policy === 'mask') return { text: mask(text), kinds };
  throw new RestrictedDataError(kinds);
}
