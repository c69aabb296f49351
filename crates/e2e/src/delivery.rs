//! Key delivery: the leader hands one member the group key of a new epoch.
//!
//! ```text
//! 0x05 | suite | flags | epoch (4) | recipient (4) | wrapped key (key length + 8)
//! ```
//!
//! The group key is wrapped with AES Key Wrap (RFC 3394) under a key-encryption
//! key that only the leader and that member can derive:
//!
//! ```text
//! KEK = HKDF-SHA-256(salt = "FH1 key wrap", ikm = member secret,
//!                    info = suite ‖ flags ‖ epoch ‖ recipient)   (suite key length)
//! ```
//!
//! Binding suite, flags, epoch and recipient into the KEK means a delivery
//! cannot be replayed for another epoch or member, nor its flags flipped:
//! RFC 3394's integrity check fails. Flag bit 0 ("revoke previous") tells the
//! member to forget the previous epoch's key at once — set when a member left,
//! so that it cannot keep sending under the old key.

use crate::error::{KeyError, MessageError};
use crate::kdf::{self, KEY_WRAP_LABEL};
use crate::keys::{GroupKey, MemberId, MemberSecret};
use crate::suite::Suite;
use crate::wire::Reader;
use aes_kw::{KeyInit, KwAes128, KwAes256};
use zeroize::Zeroizing;

/// Message type of a key delivery.
pub(crate) const DELIVERY: u8 = 0x05;
/// Flag bit: forget the previous epoch's key on installing this one.
pub(crate) const FLAG_REVOKE_PREVIOUS: u8 = 0x01;
const KNOWN_FLAGS: u8 = FLAG_REVOKE_PREVIOUS;

/// A group key for one member and one epoch, wrapped for that member.
/// Send [`KeyDelivery::as_bytes`] to the member named by [`KeyDelivery::recipient`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDelivery {
    recipient: MemberId,
    epoch: u32,
    revoke_previous: bool,
    bytes: Vec<u8>,
}

impl KeyDelivery {
    /// The member this delivery is for.
    pub fn recipient(&self) -> MemberId {
        self.recipient
    }

    /// The epoch whose key it carries.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Whether the member must forget the previous epoch at once.
    pub fn revokes_previous(&self) -> bool {
        self.revoke_previous
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The fields of a decoded delivery, before unwrapping.
pub(crate) struct Decoded<'a> {
    pub(crate) suite: Suite,
    pub(crate) flags: u8,
    pub(crate) epoch: u32,
    pub(crate) recipient: MemberId,
    wrapped: &'a [u8],
}

impl Decoded<'_> {
    pub(crate) fn revoke_previous(&self) -> bool {
        self.flags & FLAG_REVOKE_PREVIOUS != 0
    }
}

fn kek(
    suite: Suite,
    secret: &MemberSecret,
    flags: u8,
    epoch: u32,
    recipient: MemberId,
) -> Zeroizing<[u8; 32]> {
    let info_suite = [suite.id()];
    let info_flags = [flags];
    let info_epoch = epoch.to_be_bytes();
    let info_recipient = recipient.0.to_be_bytes();
    kdf::hkdf(
        KEY_WRAP_LABEL,
        secret.as_bytes(),
        &[&info_suite, &info_flags, &info_epoch, &info_recipient],
    )
}

/// Wrap `group_key` for `recipient` (leader side).
pub(crate) fn wrap(
    suite: Suite,
    secret: &MemberSecret,
    epoch: u32,
    recipient: MemberId,
    revoke_previous: bool,
    group_key: &GroupKey,
) -> KeyDelivery {
    let flags = if revoke_previous {
        FLAG_REVOKE_PREVIOUS
    } else {
        0
    };
    let kek = kek(suite, secret, flags, epoch, recipient);
    let mut wrapped = vec![0u8; suite.wrapped_key_len()];
    // Group keys and KEKs have the suite's key length, which RFC 3394 accepts
    // (a multiple of 8, at least 16); wrapping cannot fail.
    #[allow(clippy::expect_used)]
    let kek_bytes = kek.get(..suite.key_len()).expect("KEK is 32 bytes");
    #[allow(clippy::expect_used)]
    match suite.key_len() {
        16 => KwAes128::new_from_slice(kek_bytes)
            .expect("16-byte KEK")
            .wrap_key(&group_key.0, &mut wrapped)
            .map(|_| ())
            .expect("valid key length"),
        _ => KwAes256::new_from_slice(kek_bytes)
            .expect("32-byte KEK")
            .wrap_key(&group_key.0, &mut wrapped)
            .map(|_| ())
            .expect("valid key length"),
    }
    let mut bytes = Vec::with_capacity(11usize.saturating_add(wrapped.len()));
    bytes.push(DELIVERY);
    bytes.push(suite.id());
    bytes.push(flags);
    bytes.extend_from_slice(&epoch.to_be_bytes());
    bytes.extend_from_slice(&recipient.0.to_be_bytes());
    bytes.extend_from_slice(&wrapped);
    KeyDelivery {
        recipient,
        epoch,
        revoke_previous,
        bytes,
    }
}

/// Decode a delivery's fields (member side, before unwrapping).
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, MessageError> {
    let mut r = Reader::new(bytes);
    r.expect_type(DELIVERY)?;
    let suite = r.suite("suite")?;
    let flags = r.u8("flags")?;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(MessageError::Invalid {
            field: "flags",
            reason: "unknown flag bits set",
        });
    }
    let epoch = r.u32("epoch")?;
    let recipient = MemberId(r.u32("recipient")?);
    let wrapped = r.take("wrapped key", suite.wrapped_key_len())?;
    r.finish()?;
    Ok(Decoded {
        suite,
        flags,
        epoch,
        recipient,
        wrapped,
    })
}

/// Unwrap a decoded delivery with this member's secret.
pub(crate) fn unwrap(secret: &MemberSecret, decoded: &Decoded<'_>) -> Result<GroupKey, KeyError> {
    let suite = decoded.suite;
    let kek = kek(
        suite,
        secret,
        decoded.flags,
        decoded.epoch,
        decoded.recipient,
    );
    let kek_bytes = kek.get(..suite.key_len()).ok_or(KeyError::UnwrapFailed)?;
    let mut key = Zeroizing::new(vec![0u8; suite.key_len()]);
    let unwrapped = match suite.key_len() {
        16 => KwAes128::new_from_slice(kek_bytes)
            .map_err(|_| KeyError::UnwrapFailed)?
            .unwrap_key(decoded.wrapped, &mut key)
            .map(|k| k.len()),
        _ => KwAes256::new_from_slice(kek_bytes)
            .map_err(|_| KeyError::UnwrapFailed)?
            .unwrap_key(decoded.wrapped, &mut key)
            .map(|k| k.len()),
    };
    match unwrapped {
        Ok(len) if len == suite.key_len() => Ok(GroupKey(key.to_vec())),
        _ => Err(KeyError::UnwrapFailed),
    }
}
