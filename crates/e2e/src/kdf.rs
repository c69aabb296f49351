//! Key derivation: HKDF-SHA-256, the handshake transcript hash, and the labels
//! that keep every derived key to one purpose.
//!
//! All suites derive with SHA-256, whatever hash their SRP group uses; the
//! labels are ASCII and appear byte for byte in `docs/protocol.md`.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Prefix of the transcript hash input.
pub(crate) const TRANSCRIPT_LABEL: &[u8] = b"FH1 handshake transcript";
/// HKDF info of the key that MACs the client's finished value.
pub(crate) const CLIENT_FINISHED_LABEL: &[u8] = b"FH1 client finished";
/// HKDF info of the key that MACs the server's finished value.
pub(crate) const SERVER_FINISHED_LABEL: &[u8] = b"FH1 server finished";
/// HKDF info prefix of the member secret (followed by the full transcript hash).
pub(crate) const MEMBER_SECRET_LABEL: &[u8] = b"FH1 member secret";
/// HKDF salt of per-epoch key-encryption keys.
pub(crate) const KEY_WRAP_LABEL: &[u8] = b"FH1 key wrap";
/// HKDF salt of per-sender packet keys.
pub(crate) const PACKET_KEYS_LABEL: &[u8] = b"FH1 packet keys";

/// Length of SHA-256 output, of transcript hashes and finished values.
pub(crate) const HASH_LEN: usize = 32;

/// HKDF-SHA-256 (extract, then expand) into a fixed-size, zeroised buffer.
pub(crate) fn hkdf<const N: usize>(salt: &[u8], ikm: &[u8], info: &[&[u8]]) -> Zeroizing<[u8; N]> {
    const { assert!(N <= 255 * HASH_LEN, "HKDF-SHA-256 cannot expand that far") };
    let mut out = Zeroizing::new([0u8; N]);
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    // Cannot fail: N is checked against the HKDF limit at compile time above.
    #[allow(clippy::expect_used)]
    hk.expand_multi_info(info, out.as_mut_slice())
        .expect("HKDF output length is within bounds by construction");
    out
}

/// HMAC-SHA-256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; HASH_LEN] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Running hash of the handshake: SHA-256 over a label and each message
/// prefixed by its 4-byte big-endian length.
#[derive(Clone)]
pub(crate) struct Transcript {
    hasher: Sha256,
}

impl Transcript {
    pub(crate) fn new() -> Transcript {
        let mut hasher = Sha256::new();
        hasher.update(TRANSCRIPT_LABEL);
        Transcript { hasher }
    }

    /// Append one whole message.
    pub(crate) fn push(&mut self, message: &[u8]) {
        // Handshake messages are a few hundred bytes; the cap is never hit.
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        self.hasher.update(len.to_be_bytes());
        self.hasher.update(message);
    }

    /// The hash of everything appended so far (the transcript stays usable).
    pub(crate) fn hash(&self) -> [u8; HASH_LEN] {
        self.hasher.clone().finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_is_length_prefixed() {
        // ("ab", "c") and ("a", "bc") must not collide.
        let mut one = Transcript::new();
        one.push(b"ab");
        one.push(b"c");
        let mut two = Transcript::new();
        two.push(b"a");
        two.push(b"bc");
        assert_ne!(one.hash(), two.hash());
    }

    #[test]
    fn hkdf_matches_rfc5869_case_1() {
        // RFC 5869 A.1 (SHA-256), first 42 bytes of OKM.
        let ikm = [0x0bu8; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let okm = hkdf::<42>(&salt, &ikm, &[&info]);
        assert_eq!(
            okm.as_slice(),
            hex::decode(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
            )
            .unwrap()
        );
    }
}
