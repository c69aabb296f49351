//! Key types: member ids, member secrets, group keys, and the keyed cipher and
//! MAC state of one sender in one epoch.
//!
//! Every type that holds key material zeroises it when dropped (`aes`, `ctr`,
//! `hmac` and `sha2` are built with their `zeroize` features, so their keyed
//! state is wiped too). None of them prints its contents with `Debug`.

use crate::kdf::{self, PACKET_KEYS_LABEL};
use crate::suite::{MacAlgorithm, Suite};
use aes::{Aes128, Aes256};
use hmac::{Hmac, KeyInit};
use sha1::Sha1;
use sha2::Sha256;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A session member's id: assigned by the leader, unique in the session, the
/// sender id of every packet the member seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(pub u32);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "member {}", self.0)
    }
}

/// The secret a handshake leaves between the SRP client and server. The
/// leader derives each epoch's key-encryption key for that member from it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MemberSecret([u8; 32]);

impl MemberSecret {
    pub(crate) fn new(bytes: [u8; 32]) -> MemberSecret {
        MemberSecret(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MemberSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemberSecret(..)")
    }
}

/// A group key of one epoch: as long as the suite's AES key (16 or 32 bytes).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub(crate) struct GroupKey(pub(crate) Vec<u8>);

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupKey(..)")
    }
}

/// A keyed AES block cipher, kept expanded for the whole epoch.
#[derive(Clone)]
pub(crate) enum BlockCipher {
    Aes128(Aes128),
    Aes256(Aes256),
}

/// A keyed HMAC whose inner and outer pads are already absorbed.
#[derive(Clone)]
pub(crate) enum MacState {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
}

/// Packet keys of one sender in one epoch.
#[derive(Clone)]
pub(crate) struct SenderKeys {
    pub(crate) cipher: BlockCipher,
    pub(crate) mac: MacState,
}

impl SenderKeys {
    /// HKDF-SHA-256(salt = "FH1 packet keys", ikm = group key,
    /// info = suite ‖ epoch ‖ sender) → encryption key ‖ MAC key.
    pub(crate) fn derive(
        suite: Suite,
        group_key: &GroupKey,
        epoch: u32,
        sender: MemberId,
    ) -> SenderKeys {
        let info_suite = [suite.id()];
        let info_epoch = epoch.to_be_bytes();
        let info_sender = sender.0.to_be_bytes();
        let info: [&[u8]; 3] = [&info_suite, &info_epoch, &info_sender];
        let okm: Zeroizing<[u8; 64]> = kdf::hkdf(PACKET_KEYS_LABEL, &group_key.0, &info);
        let (enc, rest) = okm.split_at(suite.key_len());
        let mac_key = rest.get(..suite.mac_key_len()).unwrap_or(rest);
        // Key lengths come from the suite and match the cipher chosen for it.
        #[allow(clippy::expect_used)]
        let cipher = match suite.key_len() {
            16 => BlockCipher::Aes128(Aes128::new_from_slice(enc).expect("16-byte key")),
            _ => BlockCipher::Aes256(Aes256::new_from_slice(enc).expect("32-byte key")),
        };
        #[allow(clippy::expect_used)]
        let mac = match suite.mac() {
            MacAlgorithm::HmacSha1 => MacState::Sha1(
                <Hmac<Sha1> as KeyInit>::new_from_slice(mac_key).expect("any length"),
            ),
            MacAlgorithm::HmacSha256 => MacState::Sha256(
                <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key).expect("any length"),
            ),
        };
        SenderKeys { cipher, mac }
    }
}
