//! One endpoint's view of the session's group keys: the current epoch (and,
//! until revoked or replaced, the previous one), its own send sequence, and a
//! replay window per sender. Shared by [`crate::Leader`] and [`crate::Member`].

use crate::compress::{self, Compression};
use crate::error::{KeyError, OpenError, SealError};
use crate::keys::{GroupKey, MemberId, SenderKeys};
use crate::packet::{self, FLAG_COMPRESSED, MAX_AAD_LEN, MAX_PLAINTEXT_LEN, PacketHeader};
use crate::replay::ReplayWindow;
use crate::suite::Suite;
use std::ops::Range;
use subtle::ConstantTimeEq;

/// Most distinct senders one epoch remembers (a session has far fewer members).
pub(crate) const MAX_SENDERS: usize = 256;

/// An authenticated, decrypted packet. The plaintext stays where it was
/// decrypted, inside the packet's own buffer; [`Opened::into_plaintext`] moves
/// it to the front only when an owned vector is wanted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Who sealed it.
    pub sender: MemberId,
    /// Under which epoch.
    pub epoch: u32,
    /// The sender's sequence number.
    pub seq: u64,
    buffer: Vec<u8>,
    body: Range<usize>,
}

impl Opened {
    /// The plaintext, decompressed.
    pub fn plaintext(&self) -> &[u8] {
        self.buffer.get(self.body.clone()).unwrap_or_default()
    }

    /// The plaintext as an owned vector (reusing the packet's buffer).
    pub fn into_plaintext(mut self) -> Vec<u8> {
        let len = self.body.len();
        if self.body.start != 0 {
            self.buffer.copy_within(self.body, 0);
        }
        self.buffer.truncate(len);
        self.buffer
    }
}

struct Sender {
    keys: SenderKeys,
    window: ReplayWindow,
}

struct Epoch {
    number: u32,
    key: GroupKey,
    own: SenderKeys,
    next_seq: u64,
    /// Senders seen in this epoch. Few (a session's members), so a list.
    senders: Vec<(MemberId, Sender)>,
}

/// What installing a key did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Installed {
    /// A new epoch is current.
    New,
    /// The same key for the current epoch arrived again; nothing changed.
    Duplicate,
}

pub(crate) struct GroupState {
    suite: Suite,
    me: MemberId,
    current: Option<Epoch>,
    previous: Option<Epoch>,
}

impl GroupState {
    pub(crate) fn new(suite: Suite, me: MemberId) -> GroupState {
        GroupState {
            suite,
            me,
            current: None,
            previous: None,
        }
    }

    pub(crate) fn me(&self) -> MemberId {
        self.me
    }

    pub(crate) fn epoch(&self) -> Option<u32> {
        self.current.as_ref().map(|e| e.number)
    }

    /// The current epoch's number and key.
    pub(crate) fn current_key(&self) -> Option<(u32, &GroupKey)> {
        self.current.as_ref().map(|e| (e.number, &e.key))
    }

    /// Make `key` the key of `epoch`. Epochs only move forward; the previous
    /// epoch stays open for packets in flight unless `revoke_previous`.
    pub(crate) fn install(
        &mut self,
        epoch: u32,
        key: GroupKey,
        revoke_previous: bool,
    ) -> Result<Installed, KeyError> {
        if let Some(current) = &self.current {
            if epoch == current.number && bool::from(current.key.0.ct_eq(&key.0)) {
                return Ok(Installed::Duplicate);
            }
            if epoch <= current.number {
                return Err(KeyError::StaleEpoch {
                    got: epoch,
                    current: current.number,
                });
            }
        }
        let own = SenderKeys::derive(self.suite, &key, epoch, self.me);
        let fresh = Epoch {
            number: epoch,
            key,
            own,
            next_seq: 0,
            senders: Vec::new(),
        };
        let old = self.current.replace(fresh);
        // Dropping an Epoch zeroises its keys.
        self.previous = if revoke_previous { None } else { old };
        Ok(Installed::New)
    }

    /// Seal `plaintext` under the current epoch with associated data `aad`,
    /// appending the packet to `out`.
    pub(crate) fn seal_into(
        &mut self,
        aad: &[u8],
        plaintext: &[u8],
        compression: Compression,
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(SealError::TooLarge {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_LEN,
            });
        }
        if aad.len() > MAX_AAD_LEN {
            return Err(SealError::AadTooLong(aad.len()));
        }
        let suite = self.suite;
        let me = self.me;
        let epoch = self.current.as_mut().ok_or(SealError::NoKey)?;
        let seq = epoch.next_seq;
        // u64::MAX is never used, so `next_seq` cannot wrap and receivers can
        // treat it as invalid.
        if seq == u64::MAX {
            return Err(SealError::SequenceExhausted);
        }
        let compressed = compress::maybe_compress(plaintext, compression);
        let (body, flags) = match &compressed {
            Some(c) => (c.as_slice(), FLAG_COMPRESSED),
            None => (plaintext, 0),
        };
        let header = PacketHeader {
            suite: suite.id(),
            flags,
            epoch: epoch.number,
            sender: me,
            seq,
        };
        packet::seal_into(suite, &epoch.own, &header, aad, body, out).ok_or(
            SealError::TooLarge {
                len: plaintext.len(),
                max: MAX_PLAINTEXT_LEN,
            },
        )?;
        epoch.next_seq = seq.saturating_add(1);
        Ok(())
    }

    /// Seal into a new buffer.
    pub(crate) fn seal(
        &mut self,
        aad: &[u8],
        plaintext: &[u8],
        compression: Compression,
    ) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::new();
        self.seal_into(aad, plaintext, compression, &mut out)?;
        Ok(out)
    }

    /// Open a borrowed packet (copies it first).
    pub(crate) fn open(&mut self, aad: &[u8], sealed: &[u8]) -> Result<Opened, OpenError> {
        self.open_owned(aad, sealed.to_vec())
    }

    /// Authenticate, check freshness, decrypt (in place) and decompress a
    /// packet; the buffer becomes the plaintext.
    pub(crate) fn open_owned(
        &mut self,
        aad: &[u8],
        mut sealed: Vec<u8>,
    ) -> Result<Opened, OpenError> {
        if aad.len() > MAX_AAD_LEN {
            return Err(OpenError::AadTooLong(aad.len()));
        }
        let suite = self.suite;
        let header = PacketHeader::parse(suite, &sealed)?;
        if header.sender == self.me {
            return Err(OpenError::Reflected);
        }
        let epoch = [self.current.as_mut(), self.previous.as_mut()]
            .into_iter()
            .flatten()
            .find(|e| e.number == header.epoch)
            .ok_or(OpenError::UnknownEpoch(header.epoch))?;
        let replayed = OpenError::Replayed {
            sender: header.sender.0,
            seq: header.seq,
        };
        if header.seq == u64::MAX {
            return Err(replayed);
        }

        // A sender's state is created only once one of its packets verified,
        // so forged packets cannot grow memory.
        let body = match epoch
            .senders
            .iter_mut()
            .find(|(id, _)| *id == header.sender)
        {
            Some((_, known)) => {
                if !known.window.is_fresh(header.seq) {
                    return Err(replayed);
                }
                let body = packet::open_in_place(suite, &known.keys, &header, aad, &mut sealed)?;
                known.window.mark(header.seq);
                body
            }
            None => {
                let keys = SenderKeys::derive(suite, &epoch.key, epoch.number, header.sender);
                let body = packet::open_in_place(suite, &keys, &header, aad, &mut sealed)?;
                if epoch.senders.len() >= MAX_SENDERS {
                    return Err(OpenError::TooManySenders);
                }
                let mut window = ReplayWindow::default();
                window.mark(header.seq);
                epoch.senders.push((header.sender, Sender { keys, window }));
                body
            }
        };

        let (buffer, body) = if header.flags & FLAG_COMPRESSED != 0 {
            let plain = compress::decompress(sealed.get(body).unwrap_or_default())?;
            let len = plain.len();
            (plain, 0..len)
        } else {
            (sealed, body)
        };
        Ok(Opened {
            sender: header.sender,
            epoch: header.epoch,
            seq: header.seq,
            buffer,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> GroupKey {
        GroupKey(vec![byte; 32])
    }

    fn pair() -> (GroupState, GroupState) {
        let suite = Suite::Srp3072Aes256HmacSha256;
        let mut a = GroupState::new(suite, MemberId(1));
        let mut b = GroupState::new(suite, MemberId(2));
        a.install(1, key(9), false).unwrap();
        b.install(1, key(9), false).unwrap();
        (a, b)
    }

    #[test]
    fn sealing_refuses_to_wrap_the_sequence() {
        let (mut a, mut b) = pair();
        a.current.as_mut().unwrap().next_seq = u64::MAX - 1;
        let last = a.seal(b"", b"last", Compression::Never).unwrap();
        assert_eq!(
            a.seal(b"", b"one too many", Compression::Never),
            Err(SealError::SequenceExhausted)
        );
        assert_eq!(b.open(b"", &last).unwrap().seq, u64::MAX - 1);
    }

    #[test]
    fn epochs_only_move_forward() {
        let (mut a, _) = pair();
        assert_eq!(a.install(1, key(9), false), Ok(Installed::Duplicate));
        assert_eq!(
            a.install(1, key(8), false),
            Err(KeyError::StaleEpoch { got: 1, current: 1 })
        );
        a.install(2, key(8), false).unwrap();
        assert_eq!(
            a.install(1, key(9), false),
            Err(KeyError::StaleEpoch { got: 1, current: 2 })
        );
    }

    #[test]
    fn duplicate_install_keeps_the_sequence() {
        let (mut a, mut b) = pair();
        let first = a.seal(b"", b"x", Compression::Never).unwrap();
        a.install(1, key(9), false).unwrap();
        let second = a.seal(b"", b"y", Compression::Never).unwrap();
        assert_eq!(b.open(b"", &first).unwrap().seq, 0);
        assert_eq!(b.open(b"", &second).unwrap().seq, 1);
    }

    #[test]
    fn previous_epoch_stays_open_unless_revoked() {
        let (mut a, mut b) = pair();
        let old = a.seal(b"", b"in flight", Compression::Never).unwrap();
        let older = a.seal(b"", b"also in flight", Compression::Never).unwrap();
        b.install(2, key(7), false).unwrap();
        assert_eq!(b.open(b"", &old).unwrap().plaintext(), b"in flight");
        b.install(3, key(6), true).unwrap();
        assert_eq!(b.open(b"", &older), Err(OpenError::UnknownEpoch(1)));
    }

    #[test]
    fn forged_senders_leave_no_state() {
        let (mut a, mut b) = pair();
        let mut sealed = a.seal(b"", b"hello", Compression::Never).unwrap();
        for sender in 100..200u32 {
            sealed[7..11].copy_from_slice(&sender.to_be_bytes());
            assert_eq!(b.open(b"", &sealed), Err(OpenError::BadTag));
        }
        assert!(b.current.as_ref().unwrap().senders.is_empty());
    }
}
