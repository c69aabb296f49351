//! Join secrets: what an expert gives a customer so the customer can join.
//!
//! Each has two halves. The *locator* goes to the control plane, which uses it
//! to find the session; the control plane stores it. The *secret* never leaves
//! the two endpoints: it is the SRP password, and the leader keeps only a
//! verifier computed from it (in a link it sits after `#`, which browsers never
//! send to a server).
//!
//! | form | locator | secret | guessing the secret online |
//! |---|---|---|---|
//! | code (read over the phone) | 6 digits, issued unique by the server | 6 digits ≈ 19.9 bits | at most `max_failed_proofs` (3) guesses per session, then the leader locks: success ≤ 3 in 10⁶ |
//! | link (chat, e-mail) | 16 random bytes, base64url | 16 random bytes (128 bits), base64url | hopeless |
//!
//! A passive observer of the handshake (a relay, the control plane) learns
//! nothing that lets it test guesses offline: that is what SRP is for. An
//! active one can test one guess per handshake, and every failed guess counts
//! toward the lock.

use crate::error::{EntropyError, SecretError};
use crate::random;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;
use zeroize::Zeroizing;

/// Digits in a code's locator.
const LOCATOR_DIGITS: usize = 6;
/// Digits in a code's secret.
const SECRET_DIGITS: usize = 6;
/// Random bytes in a link's locator and in its secret.
const LINK_BYTES: usize = 16;
/// Length of 16 bytes in unpadded base64url.
const LINK_CHARS: usize = 22;

fn random_digits(label: &'static str, count: usize) -> Result<String, EntropyError> {
    let mut out = String::with_capacity(count);
    for _ in 0..count {
        let digit = random::below(label, 10)?;
        out.push(char::from_digit(digit, 10).unwrap_or('0'));
    }
    Ok(out)
}

/// A join code: 12 digits, shown as `123 456 789 012`. The first six are the
/// locator, the last six the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinCode {
    locator: String,
    secret: Zeroizing<String>,
}

impl fmt::Debug for JoinCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinCode")
            .field("locator", &self.locator)
            .finish_non_exhaustive()
    }
}

impl JoinCode {
    /// Digits in a whole code.
    pub const DIGITS: usize = LOCATOR_DIGITS + SECRET_DIGITS;

    /// A random locator (the server's job: it must also be unique among the
    /// server's active sessions).
    pub fn generate_locator() -> Result<String, SecretError> {
        Ok(random_digits("join code locator", LOCATOR_DIGITS)?)
    }

    /// A code for `locator` with a fresh random secret (the leader's job).
    pub fn for_locator(locator: &str) -> Result<JoinCode, SecretError> {
        if locator.len() != LOCATOR_DIGITS {
            return Err(SecretError::CodeLength {
                expected: LOCATOR_DIGITS,
                got: locator.chars().filter(char::is_ascii_digit).count(),
            });
        }
        if !locator.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SecretError::CodeCharacter);
        }
        Ok(JoinCode {
            locator: locator.to_owned(),
            secret: Zeroizing::new(random_digits("join code secret", SECRET_DIGITS)?),
        })
    }

    /// Read a code as a person typed it: digits, with any spaces or dashes.
    pub fn parse(input: &str) -> Result<JoinCode, SecretError> {
        let mut digits = Zeroizing::new(String::with_capacity(Self::DIGITS));
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(SecretError::CodeCharacter),
            }
        }
        if digits.len() != Self::DIGITS {
            return Err(SecretError::CodeLength {
                expected: Self::DIGITS,
                got: digits.len(),
            });
        }
        let (locator, secret) = digits.split_at(LOCATOR_DIGITS);
        Ok(JoinCode {
            locator: locator.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }

    /// The locator, for the server.
    pub fn locator(&self) -> &str {
        &self.locator
    }

    /// The SRP identity: `code:<locator>`.
    pub fn identity(&self) -> Vec<u8> {
        format!("code:{}", self.locator).into_bytes()
    }

    /// The SRP password. Never send it to a server.
    pub fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }

    /// The whole code in groups of three, for reading aloud.
    pub fn display(&self) -> Zeroizing<String> {
        let all = Zeroizing::new(format!("{}{}", self.locator, self.secret.as_str()));
        let groups: Vec<&str> = all
            .as_bytes()
            .chunks(3)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        Zeroizing::new(groups.join(" "))
    }
}

/// A join link: `<base>/join/<locator>#<secret>`.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinLink {
    locator: String,
    secret: Zeroizing<String>,
}

impl fmt::Debug for JoinLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinLink")
            .field("locator", &self.locator)
            .finish_non_exhaustive()
    }
}

fn random_token(label: &'static str) -> Result<String, EntropyError> {
    let mut bytes = Zeroizing::new([0u8; LINK_BYTES]);
    random::fill(label, bytes.as_mut_slice())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes.as_slice()))
}

fn token_ok(token: &str) -> bool {
    token.len() == LINK_CHARS
        && URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| bytes.len() == LINK_BYTES)
}

impl JoinLink {
    /// A random link locator (the server's job).
    pub fn generate_locator() -> Result<String, SecretError> {
        Ok(random_token("join link locator")?)
    }

    /// A link for `locator` with a fresh random secret (the leader's job).
    pub fn for_locator(locator: &str) -> Result<JoinLink, SecretError> {
        if !token_ok(locator) {
            return Err(SecretError::LinkMalformed("locator"));
        }
        Ok(JoinLink {
            locator: locator.to_owned(),
            secret: Zeroizing::new(random_token("join link secret")?),
        })
    }

    /// Read a link: anything ending in `/join/<locator>#<secret>`.
    pub fn parse(url: &str) -> Result<JoinLink, SecretError> {
        let (before, secret) = url
            .trim()
            .split_once('#')
            .ok_or(SecretError::LinkMissingSecret)?;
        let path = before.split_once('?').map_or(before, |(p, _)| p);
        let locator = path
            .trim_end_matches('/')
            .rsplit_once("/join/")
            .map(|(_, l)| l)
            .filter(|l| !l.is_empty())
            .ok_or(SecretError::LinkMissingLocator)?;
        if !token_ok(locator) {
            return Err(SecretError::LinkMalformed("locator"));
        }
        if !token_ok(secret) {
            return Err(SecretError::LinkMalformed("secret"));
        }
        Ok(JoinLink {
            locator: locator.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        })
    }

    /// The locator, for the server.
    pub fn locator(&self) -> &str {
        &self.locator
    }

    /// The SRP identity: `link:<locator>`.
    pub fn identity(&self) -> Vec<u8> {
        format!("link:{}", self.locator).into_bytes()
    }

    /// The SRP password. Never send it to a server.
    pub fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }

    /// The link under `base` (e.g. `https://support.example.com`).
    pub fn to_url(&self, base: &str) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{}/join/{}#{}",
            base.trim_end_matches('/'),
            self.locator,
            self.secret.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_round_trips_through_its_display() {
        let locator = JoinCode::generate_locator().unwrap();
        let code = JoinCode::for_locator(&locator).unwrap();
        let shown = code.display();
        assert_eq!(shown.len(), 15);
        let read = JoinCode::parse(&shown).unwrap();
        assert_eq!(read, code);
        assert_eq!(read.locator(), locator);
        assert_eq!(read.identity(), format!("code:{locator}").into_bytes());
    }

    #[test]
    fn code_parse_is_forgiving_of_separators_only() {
        let code = JoinCode::parse(" 123-456 789 012 ").unwrap();
        assert_eq!(code.locator(), "123456");
        assert_eq!(code.secret(), b"789012");
        assert_eq!(
            JoinCode::parse("123 456 789 01"),
            Err(SecretError::CodeLength {
                expected: 12,
                got: 11
            })
        );
        assert_eq!(
            JoinCode::parse("123 456 789 01x"),
            Err(SecretError::CodeCharacter)
        );
        assert!(JoinCode::for_locator("12345").is_err());
        assert_eq!(
            JoinCode::for_locator("12345a"),
            Err(SecretError::CodeCharacter)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let code = JoinCode::parse("123456789012").unwrap();
        assert!(!format!("{code:?}").contains("789012"));
        let link = JoinLink::for_locator(&JoinLink::generate_locator().unwrap()).unwrap();
        let secret = String::from_utf8(link.secret().to_vec()).unwrap();
        assert!(!format!("{link:?}").contains(&secret));
    }

    #[test]
    fn link_round_trips_and_keeps_the_secret_in_the_fragment() {
        let link = JoinLink::for_locator(&JoinLink::generate_locator().unwrap()).unwrap();
        let url = link.to_url("https://support.example.com/");
        let (before, after) = url.split_once('#').unwrap();
        assert_eq!(
            before,
            format!("https://support.example.com/join/{}", link.locator())
        );
        assert_eq!(after.as_bytes(), link.secret());
        assert_eq!(JoinLink::parse(&url).unwrap(), link);
    }

    #[test]
    fn link_parse_errors_are_specific() {
        let good = JoinLink::for_locator(&JoinLink::generate_locator().unwrap()).unwrap();
        let url = good.to_url("https://h");
        assert_eq!(
            JoinLink::parse(url.split('#').next().unwrap()),
            Err(SecretError::LinkMissingSecret)
        );
        assert_eq!(
            JoinLink::parse("https://h/other#abc"),
            Err(SecretError::LinkMissingLocator)
        );
        assert_eq!(
            JoinLink::parse(&format!("https://h/join/short#{}", "A".repeat(22))),
            Err(SecretError::LinkMalformed("locator"))
        );
        assert_eq!(
            JoinLink::parse(&format!("https://h/join/{}#bad!", good.locator())),
            Err(SecretError::LinkMalformed("secret"))
        );
    }
}
