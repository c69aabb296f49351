//! Cipher suites and the policy that says which of them an endpoint accepts.
//!
//! A suite fixes every primitive of a session at once: the SRP group and hash,
//! the AES key size for key wrapping and packets, and the packet MAC. Suites are
//! never mixed inside a session, and the suite is part of the handshake
//! transcript, so a downgrade breaks the handshake.

use std::fmt;

/// A complete set of primitives for one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// Default: SRP-6a with the RFC 5054 3072-bit group and SHA-256;
    /// AES-256 key wrap; AES-256-CTR + HMAC-SHA-256 truncated to 16 bytes.
    Srp3072Aes256HmacSha256,
    /// As the default, with the RFC 5054 2048-bit group (faster on weak devices).
    Srp2048Aes256HmacSha256,
    /// The reference design's "classic" primitives: SRP-6a with the RFC 5054
    /// 1024-bit group and SHA-1; AES-128 key wrap; AES-128-CTR + HMAC-SHA-1
    /// (full 20-byte tag). Off unless a [`Policy`] enables it.
    ClassicSrp1024Aes128HmacSha1,
}

/// Which packet MAC a suite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacAlgorithm {
    HmacSha1,
    HmacSha256,
}

impl Suite {
    /// Every suite this implementation knows, strongest first.
    pub const ALL: [Suite; 3] = [
        Suite::Srp3072Aes256HmacSha256,
        Suite::Srp2048Aes256HmacSha256,
        Suite::ClassicSrp1024Aes128HmacSha1,
    ];

    /// The suite's identifier on the wire.
    pub const fn id(self) -> u8 {
        match self {
            Suite::Srp3072Aes256HmacSha256 => 0x01,
            Suite::Srp2048Aes256HmacSha256 => 0x02,
            Suite::ClassicSrp1024Aes128HmacSha1 => 0x10,
        }
    }

    /// The suite with the given wire identifier, if it is one we know.
    pub const fn from_id(id: u8) -> Option<Suite> {
        match id {
            0x01 => Some(Suite::Srp3072Aes256HmacSha256),
            0x02 => Some(Suite::Srp2048Aes256HmacSha256),
            0x10 => Some(Suite::ClassicSrp1024Aes128HmacSha1),
            _ => None,
        }
    }

    /// A stable, human-readable name (used in logs, benches and golden files).
    pub const fn name(self) -> &'static str {
        match self {
            Suite::Srp3072Aes256HmacSha256 => "FH1-SRP3072-SHA256-AES256CTR-HMACSHA256",
            Suite::Srp2048Aes256HmacSha256 => "FH1-SRP2048-SHA256-AES256CTR-HMACSHA256",
            Suite::ClassicSrp1024Aes128HmacSha1 => "FH1-CLASSIC-SRP1024-SHA1-AES128CTR-HMACSHA1",
        }
    }

    /// Byte length of the SRP group's modulus N; A and B travel padded to it.
    pub const fn modulus_len(self) -> usize {
        match self {
            Suite::Srp3072Aes256HmacSha256 => 384,
            Suite::Srp2048Aes256HmacSha256 => 256,
            Suite::ClassicSrp1024Aes128HmacSha1 => 128,
        }
    }

    /// Output length of the SRP hash: the length of M1 and M2.
    pub const fn srp_hash_len(self) -> usize {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => 20,
            _ => 32,
        }
    }

    /// AES key length in bytes: group keys, key-encryption keys, packet keys.
    pub const fn key_len(self) -> usize {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => 16,
            _ => 32,
        }
    }

    pub(crate) const fn mac(self) -> MacAlgorithm {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => MacAlgorithm::HmacSha1,
            _ => MacAlgorithm::HmacSha256,
        }
    }

    /// Length of the packet MAC key (the hash's output length).
    pub const fn mac_key_len(self) -> usize {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => 20,
            _ => 32,
        }
    }

    /// Length of the tag at the end of every sealed packet.
    pub const fn tag_len(self) -> usize {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => 20,
            _ => 16,
        }
    }

    /// Length of a wrapped group key (RFC 3394 adds one 8-byte block).
    pub const fn wrapped_key_len(self) -> usize {
        match self {
            Suite::ClassicSrp1024Aes128HmacSha1 => 24,
            _ => 40,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which suites an endpoint accepts, in its order of preference.
///
/// The default accepts the 3072-bit and 2048-bit suites (3072 preferred). The
/// classic suite is only for deployments that ask for the reference design's
/// primitives; [`Policy::with_classic`] turns it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    suites: Vec<Suite>,
    max_failed_proofs: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            suites: vec![
                Suite::Srp3072Aes256HmacSha256,
                Suite::Srp2048Aes256HmacSha256,
            ],
            max_failed_proofs: 3,
        }
    }
}

impl Policy {
    /// A policy that accepts exactly these suites, in this order of preference.
    /// Duplicates are dropped; an empty list accepts nothing.
    pub fn only(suites: &[Suite]) -> Policy {
        let mut unique: Vec<Suite> = Vec::with_capacity(suites.len());
        for suite in suites {
            if !unique.contains(suite) {
                unique.push(*suite);
            }
        }
        Policy {
            suites: unique,
            ..Policy::default()
        }
    }

    /// The default policy plus the classic suite, least preferred.
    pub fn with_classic() -> Policy {
        Policy::only(&Suite::ALL)
    }

    /// How many wrong proofs a verifier store takes before it locks for good
    /// (default 3). Each handshake tests one guess of the secret, so this bounds
    /// online guessing. Zero is raised to one.
    pub fn with_max_failed_proofs(mut self, max: u32) -> Policy {
        self.max_failed_proofs = max.max(1);
        self
    }

    /// The accepted suites, most preferred first.
    pub fn suites(&self) -> &[Suite] {
        &self.suites
    }

    /// Whether this policy accepts `suite`.
    pub fn allows(&self, suite: Suite) -> bool {
        self.suites.contains(&suite)
    }

    /// The limit on wrong proofs before a verifier store locks.
    pub fn max_failed_proofs(&self) -> u32 {
        self.max_failed_proofs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_distinct() {
        for suite in Suite::ALL {
            assert_eq!(Suite::from_id(suite.id()), Some(suite));
            assert_eq!(suite.wrapped_key_len(), suite.key_len() + 8);
            assert!(suite.tag_len() <= suite.mac_key_len());
        }
        assert_eq!(Suite::from_id(0x00), None);
        assert_eq!(Suite::from_id(0xff), None);
    }

    #[test]
    fn default_policy_refuses_classic() {
        let policy = Policy::default();
        assert!(policy.allows(Suite::Srp3072Aes256HmacSha256));
        assert!(!policy.allows(Suite::ClassicSrp1024Aes128HmacSha1));
        assert_eq!(policy.suites()[0], Suite::Srp3072Aes256HmacSha256);
        assert!(Policy::with_classic().allows(Suite::ClassicSrp1024Aes128HmacSha1));
    }

    #[test]
    fn only_drops_duplicates_and_keeps_order() {
        let policy = Policy::only(&[
            Suite::Srp2048Aes256HmacSha256,
            Suite::Srp3072Aes256HmacSha256,
            Suite::Srp2048Aes256HmacSha256,
        ]);
        assert_eq!(
            policy.suites(),
            &[
                Suite::Srp2048Aes256HmacSha256,
                Suite::Srp3072Aes256HmacSha256
            ]
        );
        assert_eq!(
            Policy::default()
                .with_max_failed_proofs(0)
                .max_failed_proofs(),
            1
        );
    }
}
