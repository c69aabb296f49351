//! The rules: for a window of tokens starting at one token, does it hold
//! restricted data, and where does it end. A rule matches only on
//! structure plus check digits (and, for the Dutch BSN whose 11-check
//! passes one number in eleven, the word "BSN" just before it).

use super::checks::{
    bsn_eleven, card_issuer, dni_letter, iban_checksum, iban_length, luhn, number,
};
use super::{Kind, Token};

/// The most tokens a window spans (a 19-digit card written one digit at a
/// time, the longest plausible grouping).
const MAX_TOKENS: usize = 19;

/// Words that name a BSN just before the number.
const BSN_WORDS: [&str; 3] = ["bsn", "burgerservicenummer", "sofinummer"];

/// A rule: the index of the window's last token it covers, if it matches.
type Rule = fn(&Window) -> Option<usize>;

/// The longest match of any rule starting at token `i`: its kind and the
/// index of its last token. Rules are tried in a fixed order; a longer
/// match wins, an equal one goes to the earlier rule.
pub fn longest_at(text: &str, tokens: &[Token], i: usize) -> Option<(Kind, usize)> {
    let w = Window::new(text, tokens, i);
    // The French NIR goes before cards: a 15-digit NIR starting 2 22–2 27
    // can also pass for a card; its key check is the stronger evidence.
    let rules: [(Kind, Rule); 7] = [
        (Kind::FrNir, fr_nir),
        (Kind::PaymentCard, card),
        (Kind::Iban, iban),
        (Kind::UsSsn, us_ssn),
        (Kind::UkNino, uk_nino),
        (Kind::NlBsn, nl_bsn),
        (Kind::EsDni, es_dni),
    ];
    let mut best: Option<(Kind, usize)> = None;
    for (kind, rule) in rules {
        if let Some(last) = rule(&w)
            && best.is_none_or(|(_, b)| last > b)
        {
            best = Some((kind, last));
        }
    }
    best
}

/// Tokens from `first` on, as long as each is joined to the one before by
/// exactly one separator byte, the same byte each time.
struct Window<'a> {
    text: &'a str,
    tokens: &'a [Token],
    first: usize,
    /// How many tokens are in the window.
    len: usize,
    /// The separator joining them (if more than one).
    sep: Option<u8>,
}

impl<'a> Window<'a> {
    fn new(text: &'a str, tokens: &'a [Token], first: usize) -> Window<'a> {
        let bytes = text.as_bytes();
        let mut len = 1;
        let mut sep = None;
        while first + len < tokens.len() && len < MAX_TOKENS {
            let (prev, next) = (tokens[first + len - 1], tokens[first + len]);
            if next.start != prev.end + 1 {
                break;
            }
            let s = bytes[prev.end];
            if s != b' ' && s != b'-' || sep.is_some_and(|x| x != s) {
                break;
            }
            sep = Some(s);
            len += 1;
        }
        Window {
            text,
            tokens,
            first,
            len,
            sep,
        }
    }

    /// Token `k` of the window.
    fn token(&self, k: usize) -> &'a [u8] {
        let t = self.tokens[self.first + k];
        &self.text.as_bytes()[t.start..t.end]
    }

    /// The tokens before the window (for context words), up to `n`.
    fn before(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + '_ {
        let from = self.first.saturating_sub(n);
        (from..self.first).map(|k| {
            let t = self.tokens[k];
            &self.text.as_bytes()[t.start..t.end]
        })
    }

    /// Whether the token before the window holds a digit and is joined to
    /// it by one space or hyphen (the window continues a grouped number).
    fn joined_to_previous_with_digits(&self) -> bool {
        if self.first == 0 {
            return false;
        }
        let (prev, this) = (self.tokens[self.first - 1], self.tokens[self.first]);
        let bytes = self.text.as_bytes();
        this.start == prev.end + 1
            && matches!(bytes[prev.end], b' ' | b'-')
            && bytes[prev.start..prev.end].iter().any(u8::is_ascii_digit)
    }

    /// Whether a `+` comes right before the window (`+49 160 …`: a phone
    /// number in international form).
    fn after_plus(&self) -> bool {
        let start = self.tokens[self.first].start;
        start > 0 && self.text.as_bytes()[start - 1] == b'+'
    }

    /// Whether the token after the window's `k`-th token is joined to it by
    /// the window's separator and holds a digit (the number goes on).
    fn continues_after(&self, k: usize) -> bool {
        k + 1 < self.len && self.token(k + 1).iter().any(u8::is_ascii_digit)
    }

    /// The window's first `count` tokens run together, if joined by `sep`
    /// (or a single token).
    fn compact(&self, count: usize, sep: u8) -> Option<Vec<u8>> {
        if count > 1 && self.sep != Some(sep) {
            return None;
        }
        let mut out = Vec::new();
        for k in 0..count {
            out.extend_from_slice(self.token(k));
        }
        Some(out)
    }
}

fn all_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn all_upper_alnum(b: &[u8]) -> bool {
    b.iter()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// Payment cards: 13–19 digits in digit-only tokens, issuer prefix, Luhn;
/// not a piece of a longer grouped number (an account number in an IBAN,
/// a reference with more groups).
fn card(w: &Window) -> Option<usize> {
    if w.joined_to_previous_with_digits() || w.after_plus() {
        return None;
    }
    let mut digits = Vec::new();
    let mut best = None;
    for k in 0..w.len {
        let t = w.token(k);
        if !all_digits(t) {
            break;
        }
        digits.extend_from_slice(t);
        if digits.len() > 19 {
            break;
        }
        let more = k + 1 < w.len && all_digits(w.token(k + 1));
        if digits.len() >= 13 && !more && card_issuer(&digits) && luhn(&digits) {
            best = Some(w.first + k);
        }
    }
    best
}

/// IBANs: country code in capitals and two check digits, the country's
/// length, mod 97; grouped by spaces or written together.
fn iban(w: &Window) -> Option<usize> {
    let head = w.token(0);
    if head.len() < 4
        || !head[..2].iter().all(u8::is_ascii_uppercase)
        || !head[2..4].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let want = iban_length(&head[..2])?;
    for count in 1..=w.len {
        let compact = w.compact(count, b' ')?;
        if compact.len() > want {
            return None;
        }
        if compact.len() == want {
            let upper = compact.to_ascii_uppercase();
            return iban_checksum(&upper).then_some(w.first + count - 1);
        }
    }
    None
}

/// US SSN: `AAA-GG-SSSS` with hyphens; never issued: area 000, 666,
/// 900–999, group 00, serial 0000.
fn us_ssn(w: &Window) -> Option<usize> {
    if w.len < 3
        || w.sep != Some(b'-')
        || w.joined_to_previous_with_digits()
        || w.continues_after(2)
    {
        return None;
    }
    let (a, g, s) = (w.token(0), w.token(1), w.token(2));
    if a.len() != 3 || g.len() != 2 || s.len() != 4 || ![a, g, s].iter().all(|t| all_digits(t)) {
        return None;
    }
    let area = number(a);
    let ok = area != 0 && area != 666 && area < 900 && number(g) != 0 && number(s) != 0;
    ok.then_some(w.first + 2)
}

/// UK NINO: two prefix letters (not D, F, I, Q, U, V; second not O; not
/// BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A–D; capitals, written
/// together or grouped by spaces.
fn uk_nino(w: &Window) -> Option<usize> {
    for count in 1..=w.len.min(5) {
        let c = w.compact(count, b' ')?;
        if c.len() > 9 {
            return None;
        }
        if c.len() < 9 {
            continue;
        }
        let letters_ok = c[0].is_ascii_uppercase()
            && c[1].is_ascii_uppercase()
            && !b"DFIQUV".contains(&c[0])
            && !b"DFIOQUV".contains(&c[1])
            && ![b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"]
                .iter()
                .any(|p| p.as_slice() == &c[..2]);
        let ok = letters_ok && all_digits(&c[2..8]) && (b'A'..=b'D').contains(&c[8]);
        return ok.then_some(w.first + count - 1);
    }
    None
}

/// Dutch BSN: nine digits passing the 11-check, named "BSN" (or
/// burgerservicenummer, sofinummer) in the three tokens before.
fn nl_bsn(w: &Window) -> Option<usize> {
    let t = w.token(0);
    if t.len() != 9 || !all_digits(t) || !bsn_eleven(t) {
        return None;
    }
    let named = w.before(3).any(|b| {
        BSN_WORDS
            .iter()
            .any(|word| b.eq_ignore_ascii_case(word.as_bytes()))
    });
    named.then_some(w.first)
}

/// Spanish DNI (8 digits and its letter) or NIE (X, Y or Z, 7 digits and
/// the letter), in capitals, together or with a hyphen before the letter.
fn es_dni(w: &Window) -> Option<usize> {
    let (body, letter, last) = match w.token(0) {
        t if t.len() == 9 => (&t[..8], t[8], w.first),
        t if t.len() == 8 && w.len >= 2 && w.sep == Some(b'-') && w.token(1).len() == 1 => {
            (t, w.token(1)[0], w.first + 1)
        }
        _ => return None,
    };
    if !all_upper_alnum(body) || !letter.is_ascii_uppercase() {
        return None;
    }
    let digits: Vec<u8> = match body[0] {
        b'X' => [b"0".as_slice(), &body[1..]].concat(),
        b'Y' => [b"1".as_slice(), &body[1..]].concat(),
        b'Z' => [b"2".as_slice(), &body[1..]].concat(),
        _ => body.to_vec(),
    };
    if !all_digits(&digits) {
        return None;
    }
    let n = u32::try_from(number(&digits)).ok()?;
    (dni_letter(n) == letter).then_some(last)
}

/// French NIR: sex 1 or 2, year, month, department (digits or 2A/2B for
/// Corsica), commune, order number, then the key 97 − (number mod 97);
/// together or grouped by spaces.
fn fr_nir(w: &Window) -> Option<usize> {
    for count in 1..=w.len.min(7) {
        let c = w.compact(count, b' ')?;
        if c.len() > 15 {
            return None;
        }
        if c.len() < 15 {
            continue;
        }
        if !(c[0] == b'1' || c[0] == b'2') || !all_digits(&c[..5]) || !all_digits(&c[7..]) {
            return None;
        }
        let body: Vec<u8> = match &c[5..7] {
            b"2A" => [&c[..5], b"19", &c[7..13]].concat(),
            b"2B" => [&c[..5], b"18", &c[7..13]].concat(),
            d if all_digits(d) => c[..13].to_vec(),
            _ => return None,
        };
        let month = number(&c[3..5]);
        if month == 0 || (13..=19).contains(&month) {
            return None;
        }
        let key = 97 - number(&body) % 97;
        return (key == number(&c[13..15])).then_some(w.first + count - 1);
    }
    None
}
