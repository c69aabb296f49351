//! Restricted data in text: payment card numbers, IBANs and national
//! identifiers, found by their structure *and* their check digits, so
//! ordinary numbers (order numbers, phone numbers, versions) do not trip
//! it.
//!
//! Text is cut into tokens, maximal runs of ASCII letters and digits; a
//! candidate is a few consecutive tokens joined by a single separator
//! (space or hyphen, the same one throughout), as people write these
//! numbers ("4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00"). Each
//! rule of [`rules`] looks at the windows starting at every token. The set
//! of rules is documented in `docs/privacy.md` and extended there and in
//! `web/lib/restricted.js` together.
//!
//! What a tenant does about a finding is its [`Policy`]: warn the sender,
//! mask before storing, or refuse the text.

mod checks;
mod rules;

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of restricted data was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A payment card number (13–19 digits, known issuer prefix, Luhn).
    PaymentCard,
    /// An IBAN (country length, ISO 13616 mod-97 check).
    Iban,
    /// A US Social Security number (AAA-GG-SSSS, issuance rules).
    UsSsn,
    /// A UK National Insurance number (prefix and suffix rules).
    UkNino,
    /// A Dutch citizen service number (BSN, 11-check, named as such).
    NlBsn,
    /// A Spanish DNI or NIE (check letter).
    EsDni,
    /// A French social security number (NIR, mod-97 key).
    FrNir,
}

impl Kind {
    /// The name used in messages and the API (`payment_card`, `iban`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PaymentCard => "payment_card",
            Kind::Iban => "iban",
            Kind::UsSsn => "us_ssn",
            Kind::UkNino => "uk_nino",
            Kind::NlBsn => "nl_bsn",
            Kind::EsDni => "es_dni",
            Kind::FrNir => "fr_nir",
        }
    }

    /// Words for people ("a payment card number").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::PaymentCard => "a payment card number",
            Kind::Iban => "an IBAN",
            Kind::UsSsn => "a US Social Security number",
            Kind::UkNino => "a UK National Insurance number",
            Kind::NlBsn => "a Dutch BSN",
            Kind::EsDni => "a Spanish DNI/NIE",
            Kind::FrNir => "a French social security number",
        }
    }

    /// How many trailing letters or digits masking leaves visible (enough
    /// for a person to tell two cards apart, as receipts do).
    fn kept_when_masked(self) -> usize {
        match self {
            Kind::PaymentCard | Kind::Iban => 4,
            _ => 0,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding: its kind and where it is (byte offsets into the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub kind: Kind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A tenant's policy for restricted data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Keep the text; tell the sender what it holds.
    #[default]
    Warn,
    /// Replace the restricted parts with `*` before the text is stored or
    /// sent.
    Mask,
    /// Refuse the text.
    Block,
}

impl Policy {
    /// Parse `warn`, `mask` or `block`.
    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "warn" => Some(Policy::Warn),
            "mask" => Some(Policy::Mask),
            "block" => Some(Policy::Block),
            _ => None,
        }
    }

    /// `warn`, `mask` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Warn => "warn",
            Policy::Mask => "mask",
            Policy::Block => "block",
        }
    }
}

/// Text refused by the block policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the text holds restricted data ({}) and this organisation's policy blocks it", kinds_text(.kinds))]
pub struct Blocked {
    /// What was found (each kind once).
    pub kinds: Vec<Kind>,
}

fn kinds_text(kinds: &[Kind]) -> String {
    kinds
        .iter()
        .map(|k| k.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text after its policy: what to store or send, and what was found (so
/// the sender can be warned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The text to keep: unchanged under warn, masked under mask.
    pub text: String,
    /// Each kind found, once, in order of first appearance.
    pub kinds: Vec<Kind>,
}

/// Every restricted item in `text`, in order, none overlapping.
pub fn scan(text: &str) -> Vec<Finding> {
    let tokens = tokenize(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match rules::longest_at(text, &tokens, i) {
            Some((kind, last)) => {
                found.push(Finding {
                    kind,
                    start: tokens[i].start,
                    end: tokens[last].end,
                });
                i = last + 1;
            }
            None => i += 1,
        }
    }
    found
}

/// `text` with every finding's letters and digits replaced by `*` (the
/// last four of card numbers and IBANs kept), separators left as they are.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in scan(text) {
        out.push_str(&text[at..f.start]);
        let span = &text[f.start..f.end];
        let alnum = span.bytes().filter(u8::is_ascii_alphanumeric).count();
        let hide = alnum.saturating_sub(f.kind.kept_when_masked());
        let mut seen = 0;
        for c in span.chars() {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                out.push(if seen <= hide { '*' } else { c });
            } else {
                out.push(c);
            }
        }
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Apply `policy` to `text`.
pub fn check(policy: Policy, text: &str) -> Result<Checked, Blocked> {
    let found = scan(text);
    let mut kinds: Vec<Kind> = Vec::new();
    for f in &found {
        if !kinds.contains(&f.kind) {
            kinds.push(f.kind);
        }
    }
    if kinds.is_empty() {
        return Ok(Checked {
            text: text.to_owned(),
            kinds,
        });
    }
    match policy {
        Policy::Warn => Ok(Checked {
            text: text.to_owned(),
            kinds,
        }),
        Policy::Mask => Ok(Checked {
            text: mask(text),
            kinds,
        }),
        Policy::Block => Err(Blocked { kinds }),
    }
}

/// A maximal run of ASCII letters and digits.
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphanumeric() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push(Token { start, end: i });
        } else {
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_found_masked_and_blocked_by_policy() {
        let text = "my card is 4111 1111 1111 1111, thanks";
        let found = scan(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::PaymentCard);
        assert_eq!(&text[found[0].start..found[0].end], "4111 1111 1111 1111");
        assert_eq!(mask(text), "my card is **** **** **** 1111, thanks");
        let warned = check(Policy::Warn, text).map_err(|e| e.to_string());
        assert_eq!(
            warned.map(|c| (c.text, c.kinds)),
            Ok((text.to_owned(), vec![Kind::PaymentCard]))
        );
        let blocked = check(Policy::Block, text);
        assert!(matches!(blocked, Err(Blocked { ref kinds }) if kinds == &[Kind::PaymentCard]));
    }

    #[test]
    fn a_wrong_check_digit_is_ordinary_text() {
        for text in [
            "4111 1111 1111 1112",
            "DE89 3704 0044 0532 0130 01",
            "000-12-3456",
        ] {
            assert!(scan(text).is_empty(), "{text}");
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn non_ascii_text_around_a_finding_is_kept_intact() {
        let text = "Überweisung an DE89370400440532013000 — danke schön";
        assert_eq!(
            mask(text),
            "Überweisung an ******************3000 — danke schön"
        );
    }
}
