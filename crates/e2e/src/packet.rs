//! Sealed packet format and the seal/open primitives for one sender's keys.
//!
//! ```text
//! offset  size  field
//!  0      1     version (1)
//!  1      1     suite id
//!  2      1     flags (bit 0: body compressed; others must be 0)
//!  3      4     epoch      (big-endian)
//!  7      4     sender id  (big-endian)
//! 11      8     sequence   (big-endian)
//! 19      n     ciphertext
//! 19+n    t     tag (16 bytes; 20 in the classic suite)
//! ```
//!
//! Encryption: AES-CTR, counter block = sender ‖ sequence ‖ 32-bit block
//! counter from 0, so a counter block is never reused under one key.
//! Authentication: HMAC over `len(aad) (2 bytes) ‖ aad ‖ header ‖ ciphertext`,
//! truncated to the tag length; encrypt-then-MAC, verified in constant time
//! before anything is decrypted. `aad` is the caller's cleartext envelope
//! (session, route, traffic class), which the relay reads and the MAC covers.

use crate::error::OpenError;
use crate::keys::{BlockCipher, MacState, MemberId, SenderKeys};
use crate::suite::Suite;
use aes::{Aes128, Aes256};
use ctr::CtrCore;
use ctr::cipher::{InnerIvInit, StreamCipher, StreamCipherCoreWrapper};
use ctr::flavors::Ctr32BE;
use hmac::Mac;
use std::ops::Range;
use subtle::ConstantTimeEq;

/// Version byte of the packet format.
pub(crate) const PACKET_VERSION: u8 = 1;
/// Length of the cleartext packet header.
pub const HEADER_LEN: usize = 19;
/// Largest plaintext a packet may carry (8 MiB).
pub const MAX_PLAINTEXT_LEN: usize = 8 * 1024 * 1024;
/// Largest associated data (the caller's envelope).
pub(crate) const MAX_AAD_LEN: usize = u16::MAX as usize;
/// Flag bit: the body is compressed.
pub(crate) const FLAG_COMPRESSED: u8 = 0x01;
const KNOWN_FLAGS: u8 = FLAG_COMPRESSED;

/// The cleartext header of a sealed packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketHeader {
    /// Suite identifier byte.
    pub suite: u8,
    /// Flag bits.
    pub flags: u8,
    /// Epoch whose group key sealed the packet.
    pub epoch: u32,
    /// The sealing member.
    pub sender: MemberId,
    /// The sender's sequence number in this epoch.
    pub seq: u64,
}

impl PacketHeader {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (version, rest) = out.split_at_mut(1);
        version.copy_from_slice(&[PACKET_VERSION]);
        let (suite, rest) = rest.split_at_mut(1);
        suite.copy_from_slice(&[self.suite]);
        let (flags, rest) = rest.split_at_mut(1);
        flags.copy_from_slice(&[self.flags]);
        let (epoch, rest) = rest.split_at_mut(4);
        epoch.copy_from_slice(&self.epoch.to_be_bytes());
        let (sender, seq) = rest.split_at_mut(4);
        sender.copy_from_slice(&self.sender.0.to_be_bytes());
        seq.copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    /// Read and check the header of a sealed packet of `suite`: length,
    /// version, suite and flags. Says nothing about authenticity.
    pub fn parse(suite: Suite, packet: &[u8]) -> Result<PacketHeader, OpenError> {
        let min = HEADER_LEN.saturating_add(suite.tag_len());
        if packet.len() < min {
            return Err(OpenError::TooShort(packet.len()));
        }
        if packet.len() > min.saturating_add(MAX_PLAINTEXT_LEN) {
            return Err(OpenError::TooLong(packet.len()));
        }
        let Some((head, _)) = packet.split_first_chunk::<HEADER_LEN>() else {
            return Err(OpenError::TooShort(packet.len()));
        };
        let [
            version,
            suite_id,
            flags,
            e0,
            e1,
            e2,
            e3,
            s0,
            s1,
            s2,
            s3,
            q @ ..,
        ] = *head;
        if version != PACKET_VERSION {
            return Err(OpenError::UnsupportedVersion(version));
        }
        if suite_id != suite.id() {
            return Err(OpenError::SuiteMismatch { got: suite_id });
        }
        if flags & !KNOWN_FLAGS != 0 {
            return Err(OpenError::UnknownFlags(flags));
        }
        Ok(PacketHeader {
            suite: suite_id,
            flags,
            epoch: u32::from_be_bytes([e0, e1, e2, e3]),
            sender: MemberId(u32::from_be_bytes([s0, s1, s2, s3])),
            seq: u64::from_be_bytes(q),
        })
    }
}

/// The AES-CTR counter block of a packet.
fn counter_block(sender: MemberId, seq: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    let (s, rest) = iv.split_at_mut(4);
    s.copy_from_slice(&sender.0.to_be_bytes());
    let (q, _) = rest.split_at_mut(8);
    q.copy_from_slice(&seq.to_be_bytes());
    iv
}

/// XOR the keystream for (sender, seq) into `data`. Fails only past 2^32
/// blocks, which [`MAX_PLAINTEXT_LEN`] rules out.
fn apply_ctr(cipher: &BlockCipher, sender: MemberId, seq: u64, data: &mut [u8]) -> Result<(), ()> {
    let iv = counter_block(sender, seq);
    match cipher {
        BlockCipher::Aes128(c) => StreamCipherCoreWrapper::from_core(
            CtrCore::<Aes128, Ctr32BE>::inner_iv_init(c.clone(), &iv.into()),
        )
        .try_apply_keystream(data),
        BlockCipher::Aes256(c) => StreamCipherCoreWrapper::from_core(
            CtrCore::<Aes256, Ctr32BE>::inner_iv_init(c.clone(), &iv.into()),
        )
        .try_apply_keystream(data),
    }
    .map_err(|_| ())
}

/// HMAC over `len(aad) ‖ aad ‖ header+ciphertext`; the full output, left-aligned
/// in 32 bytes (HMAC-SHA-1 fills the first 20).
fn compute_tag(mac: &MacState, aad: &[u8], sealed_without_tag: &[u8]) -> [u8; 32] {
    // Callers check aad against MAX_AAD_LEN first.
    let aad_len = u16::try_from(aad.len()).unwrap_or(u16::MAX).to_be_bytes();
    match mac {
        MacState::Sha1(m) => {
            let mut m = m.clone();
            m.update(&aad_len);
            m.update(aad);
            m.update(sealed_without_tag);
            let mut out = [0u8; 32];
            let full = m.finalize().into_bytes();
            if let Some(head) = out.get_mut(..full.len()) {
                head.copy_from_slice(&full);
            }
            out
        }
        MacState::Sha256(m) => {
            let mut m = m.clone();
            m.update(&aad_len);
            m.update(aad);
            m.update(sealed_without_tag);
            m.finalize().into_bytes().into()
        }
    }
}

/// Constant-time comparison of the first `len` bytes of `expected` with
/// `received` (which must be `len` long). Compared as four 64-bit words, both
/// sides zero-padded, so the work is the same whatever the bytes are.
fn tags_equal(expected: &[u8; 32], received: &[u8], len: usize) -> bool {
    if received.len() != len {
        return false;
    }
    let mut theirs = [0u8; 32];
    let mut ours = [0u8; 32];
    for ((t, o), (r, e)) in theirs
        .iter_mut()
        .zip(ours.iter_mut())
        .zip(received.iter().zip(expected.iter()))
    {
        *t = *r;
        *o = *e;
    }
    let words = |b: &[u8; 32]| {
        let mut out = [0u64; 4];
        for (w, chunk) in out.iter_mut().zip(b.chunks_exact(8)) {
            *w = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        }
        out
    };
    let mut equal = subtle::Choice::from(1u8);
    for (o, t) in words(&ours).iter().zip(words(&theirs).iter()) {
        equal &= o.ct_eq(t);
    }
    equal.into()
}

/// Append the sealed packet for `body` (already compressed or not, as
/// `header.flags` says) to `out`. Returns `None` only if the body is too long
/// for the counter; `out` is then left as it was.
pub(crate) fn seal_into(
    suite: Suite,
    keys: &SenderKeys,
    header: &PacketHeader,
    aad: &[u8],
    body: &[u8],
    out: &mut Vec<u8>,
) -> Option<()> {
    let start = out.len();
    let tag_len = suite.tag_len();
    out.reserve(HEADER_LEN.checked_add(body.len())?.checked_add(tag_len)?);
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(body);
    let sealed = (|| {
        let packet = out.get_mut(start..)?;
        apply_ctr(
            &keys.cipher,
            header.sender,
            header.seq,
            packet.get_mut(HEADER_LEN..)?,
        )
        .ok()?;
        let tag = compute_tag(&keys.mac, aad, packet);
        Some(tag)
    })();
    match sealed.as_ref().and_then(|tag| tag.get(..tag_len)) {
        Some(tag) => {
            out.extend_from_slice(tag);
            Some(())
        }
        None => {
            out.truncate(start);
            None
        }
    }
}

/// Verify the tag of `packet` (whose header parsed as `header`) and decrypt
/// its body in place. Returns where the body lies in `packet` (still
/// compressed if the flag says so). On error nothing was decrypted.
pub(crate) fn open_in_place(
    suite: Suite,
    keys: &SenderKeys,
    header: &PacketHeader,
    aad: &[u8],
    packet: &mut [u8],
) -> Result<Range<usize>, OpenError> {
    let len = packet.len();
    let tag_start = len
        .checked_sub(suite.tag_len())
        .filter(|t| *t >= HEADER_LEN)
        .ok_or(OpenError::TooShort(len))?;
    let (sealed, tag) = packet.split_at_mut(tag_start);
    let expected = compute_tag(&keys.mac, aad, sealed);
    if !tags_equal(&expected, tag, suite.tag_len()) {
        return Err(OpenError::BadTag);
    }
    let body = sealed
        .get_mut(HEADER_LEN..)
        .ok_or(OpenError::TooShort(len))?;
    apply_ctr(&keys.cipher, header.sender, header.seq, body)
        .map_err(|()| OpenError::TooLong(len))?;
    Ok(HEADER_LEN..tag_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let suite = Suite::Srp3072Aes256HmacSha256;
        let header = PacketHeader {
            suite: suite.id(),
            flags: FLAG_COMPRESSED,
            epoch: 0x0102_0304,
            sender: MemberId(0x0a0b_0c0d),
            seq: 0x1122_3344_5566_7788,
        };
        let mut packet = header.encode().to_vec();
        packet.extend_from_slice(&[0u8; 16]);
        assert_eq!(PacketHeader::parse(suite, &packet), Ok(header));
        assert_eq!(
            hex::encode(header.encode()),
            "010101010203040a0b0c0d1122334455667788"
        );
    }

    #[test]
    fn header_checks() {
        let suite = Suite::Srp3072Aes256HmacSha256;
        let mut packet = vec![PACKET_VERSION, suite.id(), 0];
        packet.extend_from_slice(&[0u8; 16 + 16]);
        assert!(PacketHeader::parse(suite, &packet).is_ok());
        assert_eq!(
            PacketHeader::parse(suite, &packet[..34]),
            Err(OpenError::TooShort(34))
        );
        let mut bad = packet.clone();
        bad[0] = 2;
        assert_eq!(
            PacketHeader::parse(suite, &bad),
            Err(OpenError::UnsupportedVersion(2))
        );
        let mut bad = packet.clone();
        bad[1] = 0x02;
        assert_eq!(
            PacketHeader::parse(suite, &bad),
            Err(OpenError::SuiteMismatch { got: 2 })
        );
        let mut bad = packet.clone();
        bad[2] = 0x80;
        assert_eq!(
            PacketHeader::parse(suite, &bad),
            Err(OpenError::UnknownFlags(0x80))
        );
    }

    #[test]
    fn counter_block_layout() {
        assert_eq!(
            hex::encode(counter_block(MemberId(7), 0x0102)),
            "00000007000000000000010200000000"
        );
    }
}
