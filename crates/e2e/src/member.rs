//! A session member that is not the leader: it learns each epoch's group key
//! from the leader's deliveries and seals and opens packets with it.

use crate::compress::Compression;
use crate::delivery;
use crate::error::{KeyError, OpenError, SealError};
use crate::group::{GroupState, Opened};
use crate::handshake::Established;
use crate::keys::{MemberId, MemberSecret};
use crate::packet::PacketHeader;
use crate::suite::Suite;
use std::fmt;

/// A member's end of the session keys.
pub struct Member {
    suite: Suite,
    secret: MemberSecret,
    group: Option<GroupState>,
}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("suite", &self.suite)
            .field("id", &self.id())
            .field("epoch", &self.epoch())
            .finish()
    }
}

impl Member {
    /// A member whose handshake with the leader (or, unattended, with the
    /// agent) has completed. It has no group key until the first delivery.
    pub fn new(handshake: Established) -> Member {
        let (suite, secret) = handshake.into_member_secret();
        Member {
            suite,
            secret,
            group: None,
        }
    }

    /// The session's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// This member's id, once the first delivery named it.
    pub fn id(&self) -> Option<MemberId> {
        self.group.as_ref().map(GroupState::me)
    }

    /// The current epoch, once a key has been delivered.
    pub fn epoch(&self) -> Option<u32> {
        self.group.as_ref().and_then(GroupState::epoch)
    }

    /// Install the group key in a delivery from the leader. Returns the epoch
    /// now current. A repeated delivery of the current epoch changes nothing.
    pub fn accept(&mut self, delivery_bytes: &[u8]) -> Result<u32, KeyError> {
        let decoded = delivery::decode(delivery_bytes)?;
        if decoded.suite != self.suite {
            return Err(KeyError::SuiteMismatch {
                expected: self.suite,
                got: decoded.suite,
            });
        }
        if let Some(me) = self.id()
            && decoded.recipient != me
        {
            return Err(KeyError::WrongRecipient {
                expected: me.0,
                got: decoded.recipient.0,
            });
        }
        let key = delivery::unwrap(&self.secret, &decoded)?;
        let group = self
            .group
            .get_or_insert_with(|| GroupState::new(self.suite, decoded.recipient));
        group.install(decoded.epoch, key, decoded.revoke_previous())?;
        Ok(decoded.epoch)
    }

    /// Seal a packet under the current epoch.
    pub fn seal(
        &mut self,
        aad: &[u8],
        plaintext: &[u8],
        compression: Compression,
    ) -> Result<Vec<u8>, SealError> {
        self.group
            .as_mut()
            .ok_or(SealError::NoKey)?
            .seal(aad, plaintext, compression)
    }

    /// Seal a packet and append it to `out` (which may already hold the
    /// caller's envelope); on error `out` is unchanged.
    pub fn seal_into(
        &mut self,
        aad: &[u8],
        plaintext: &[u8],
        compression: Compression,
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        self.group
            .as_mut()
            .ok_or(SealError::NoKey)?
            .seal_into(aad, plaintext, compression, out)
    }

    /// Open a packet from another member or the leader.
    pub fn open(&mut self, aad: &[u8], packet: &[u8]) -> Result<Opened, OpenError> {
        self.open_owned(aad, packet.to_vec())
    }

    /// Open a packet, decrypting in its own buffer (no copy).
    pub fn open_owned(&mut self, aad: &[u8], packet: Vec<u8>) -> Result<Opened, OpenError> {
        match self.group.as_mut() {
            Some(group) => group.open_owned(aad, packet),
            None => {
                let header = PacketHeader::parse(self.suite, &packet)?;
                Err(OpenError::UnknownEpoch(header.epoch))
            }
        }
    }
}
