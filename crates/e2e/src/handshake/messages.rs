//! The four handshake messages: byte layouts, encoders and strict decoders.
//!
//! ```text
//! Hello     (client → server)  0x01 | version | n | suite×n | len | identity
//! Challenge (server → client)  0x02 | suite | len | salt | B (modulus length)
//! Proof     (client → server)  0x03 | A (modulus length) | M1 | client finished (32)
//! Confirm   (server → client)  0x04 | M2 | server finished (32)
//! ```
//!
//! Decoders accept exactly one encoding of each message: no trailing bytes, no
//! out-of-range lengths. Unknown suites in a Hello are skipped (a newer client
//! may offer suites we do not know); an unknown suite in a Challenge is an error.

use crate::error::MessageError;
use crate::kdf::HASH_LEN;
use crate::suite::Suite;
use crate::wire::Reader;

/// Handshake protocol version carried in the Hello.
pub(crate) const VERSION: u8 = 1;

pub(crate) const HELLO: u8 = 0x01;
pub(crate) const CHALLENGE: u8 = 0x02;
pub(crate) const PROOF: u8 = 0x03;
pub(crate) const CONFIRM: u8 = 0x04;

/// A client offers at most this many suites.
pub(crate) const MAX_OFFERED: usize = 8;
/// Identity length limits (bytes of printable ASCII, no spaces).
pub(crate) const IDENTITY_MIN: usize = 1;
pub(crate) const IDENTITY_MAX: usize = 128;
/// Salt length limits; we issue 32 bytes.
pub(crate) const SALT_MIN: usize = 16;
pub(crate) const SALT_MAX: usize = 64;

/// Whether `identity` is acceptable: 1–128 bytes of printable ASCII without spaces.
pub(crate) fn identity_ok(identity: &[u8]) -> bool {
    (IDENTITY_MIN..=IDENTITY_MAX).contains(&identity.len())
        && identity.iter().all(|b| (0x21..=0x7e).contains(b))
}

pub(crate) struct Hello<'a> {
    /// Offered suites we know, in the client's order.
    pub(crate) suites: Vec<Suite>,
    pub(crate) identity: &'a [u8],
}

pub(crate) fn encode_hello(suites: &[Suite], identity: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(HELLO);
    out.push(VERSION);
    // Callers pass at most MAX_OFFERED suites and a checked identity.
    out.push(u8::try_from(suites.len()).unwrap_or(u8::MAX));
    out.extend(suites.iter().map(|s| s.id()));
    out.push(u8::try_from(identity.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(identity);
    out
}

pub(crate) fn decode_hello(bytes: &[u8]) -> Result<Hello<'_>, MessageError> {
    let mut r = Reader::new(bytes);
    r.expect_type(HELLO)?;
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(MessageError::UnsupportedVersion(version));
    }
    let offered = r.short_vec("suites", 1, MAX_OFFERED)?;
    let mut suites = Vec::with_capacity(offered.len());
    for id in offered {
        if let Some(suite) = Suite::from_id(*id) {
            if suites.contains(&suite) {
                return Err(MessageError::Invalid {
                    field: "suites",
                    reason: "a suite is offered twice",
                });
            }
            suites.push(suite);
        }
    }
    let identity = r.short_vec("identity", IDENTITY_MIN, IDENTITY_MAX)?;
    if !identity_ok(identity) {
        return Err(MessageError::Invalid {
            field: "identity",
            reason: "must be printable ASCII without spaces",
        });
    }
    r.finish()?;
    Ok(Hello { suites, identity })
}

pub(crate) struct Challenge<'a> {
    pub(crate) suite: Suite,
    pub(crate) salt: &'a [u8],
    pub(crate) b_pub: &'a [u8],
}

pub(crate) fn encode_challenge(suite: Suite, salt: &[u8], b_pub: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        3usize
            .saturating_add(salt.len())
            .saturating_add(b_pub.len()),
    );
    out.push(CHALLENGE);
    out.push(suite.id());
    out.push(u8::try_from(salt.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(salt);
    out.extend_from_slice(b_pub);
    out
}

pub(crate) fn decode_challenge(bytes: &[u8]) -> Result<Challenge<'_>, MessageError> {
    let mut r = Reader::new(bytes);
    r.expect_type(CHALLENGE)?;
    let suite = r.suite("suite")?;
    let salt = r.short_vec("salt", SALT_MIN, SALT_MAX)?;
    let b_pub = r.take("B", suite.modulus_len())?;
    r.finish()?;
    Ok(Challenge { suite, salt, b_pub })
}

pub(crate) struct Proof<'a> {
    pub(crate) a_pub: &'a [u8],
    pub(crate) m1: &'a [u8],
    pub(crate) finished: &'a [u8],
}

pub(crate) fn encode_proof(a_pub: &[u8], m1: &[u8], finished: &[u8; HASH_LEN]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        a_pub
            .len()
            .saturating_add(m1.len())
            .saturating_add(1 + HASH_LEN),
    );
    out.push(PROOF);
    out.extend_from_slice(a_pub);
    out.extend_from_slice(m1);
    out.extend_from_slice(finished);
    out
}

pub(crate) fn decode_proof(suite: Suite, bytes: &[u8]) -> Result<Proof<'_>, MessageError> {
    let mut r = Reader::new(bytes);
    r.expect_type(PROOF)?;
    let a_pub = r.take("A", suite.modulus_len())?;
    let m1 = r.take("M1", suite.srp_hash_len())?;
    let finished = r.take("client finished", HASH_LEN)?;
    r.finish()?;
    Ok(Proof {
        a_pub,
        m1,
        finished,
    })
}

pub(crate) struct Confirm<'a> {
    pub(crate) m2: &'a [u8],
    pub(crate) finished: &'a [u8],
}

pub(crate) fn encode_confirm(m2: &[u8], finished: &[u8; HASH_LEN]) -> Vec<u8> {
    let mut out = Vec::with_capacity(m2.len().saturating_add(1 + HASH_LEN));
    out.push(CONFIRM);
    out.extend_from_slice(m2);
    out.extend_from_slice(finished);
    out
}

pub(crate) fn decode_confirm(suite: Suite, bytes: &[u8]) -> Result<Confirm<'_>, MessageError> {
    let mut r = Reader::new(bytes);
    r.expect_type(CONFIRM)?;
    let m2 = r.take("M2", suite.srp_hash_len())?;
    let finished = r.take("server finished", HASH_LEN)?;
    r.finish()?;
    Ok(Confirm { m2, finished })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trips_and_skips_unknown_suites() {
        let bytes = encode_hello(&[Suite::Srp3072Aes256HmacSha256], b"code:123456");
        let hello = decode_hello(&bytes).unwrap();
        assert_eq!(hello.suites, vec![Suite::Srp3072Aes256HmacSha256]);
        assert_eq!(hello.identity, b"code:123456");

        let with_unknown = [HELLO, VERSION, 2, 0x77, 0x02, 1, b'x'];
        let hello = decode_hello(&with_unknown).unwrap();
        assert_eq!(hello.suites, vec![Suite::Srp2048Aes256HmacSha256]);
    }

    #[test]
    fn hello_refuses_bad_fields() {
        assert_eq!(
            decode_hello(&[HELLO, 9, 1, 1, 1, b'x']).err(),
            Some(MessageError::UnsupportedVersion(9))
        );
        assert!(matches!(
            decode_hello(&[HELLO, VERSION, 0, 1, b'x']),
            Err(MessageError::BadLength {
                field: "suites",
                ..
            })
        ));
        assert!(matches!(
            decode_hello(&[HELLO, VERSION, 2, 1, 1, 1, b'x']),
            Err(MessageError::Invalid {
                field: "suites",
                ..
            })
        ));
        assert!(matches!(
            decode_hello(&[HELLO, VERSION, 1, 1, 2, b'a', b' ']),
            Err(MessageError::Invalid {
                field: "identity",
                ..
            })
        ));
        assert!(matches!(
            decode_hello(&[HELLO, VERSION, 1, 1, 1, b'x', 0]),
            Err(MessageError::TrailingBytes { count: 1 })
        ));
        assert!(matches!(
            decode_hello(&[CHALLENGE]),
            Err(MessageError::UnexpectedType { .. })
        ));
    }

    #[test]
    fn challenge_needs_a_full_length_b() {
        let suite = Suite::ClassicSrp1024Aes128HmacSha1;
        let salt = [7u8; 16];
        let b = vec![1u8; suite.modulus_len()];
        let bytes = encode_challenge(suite, &salt, &b);
        let c = decode_challenge(&bytes).unwrap();
        assert_eq!((c.suite, c.salt, c.b_pub), (suite, &salt[..], &b[..]));
        assert!(matches!(
            decode_challenge(&bytes[..bytes.len() - 1]),
            Err(MessageError::Truncated { field: "B", .. })
        ));
        let mut unknown = bytes.clone();
        unknown[1] = 0x55;
        assert_eq!(
            decode_challenge(&unknown).err(),
            Some(MessageError::UnknownSuite(0x55))
        );
    }
}
