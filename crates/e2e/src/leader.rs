//! The session leader: keeps every member's secret, makes a fresh group key
//! for each epoch, and delivers it wrapped to each member.
//!
//! A new epoch starts whenever a member is admitted (so a newcomer cannot read
//! what was sent before it joined) and whenever one is removed (so the one who
//! left cannot read what follows, and — through the revoke flag — cannot keep
//! sending under the old key). Keys are born here, on the leader's side, and
//! only ever leave it wrapped.

use crate::compress::Compression;
use crate::delivery::{self, KeyDelivery};
use crate::error::{KeyError, OpenError, SealError};
use crate::group::{GroupState, Opened};
use crate::handshake::Established;
use crate::keys::{GroupKey, MemberId, MemberSecret};
use crate::random;
use crate::suite::Suite;
use std::collections::BTreeMap;
use std::fmt;

/// The endpoint that holds the session's keys and admits members.
pub struct Leader {
    suite: Suite,
    group: GroupState,
    members: BTreeMap<MemberId, MemberSecret>,
    max_members: usize,
    /// Whether the current epoch revoked its predecessor (bound into its KEKs).
    revoked_previous: bool,
}

impl fmt::Debug for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leader")
            .field("suite", &self.suite)
            .field("id", &self.group.me())
            .field("epoch", &self.group.epoch())
            .field("members", &self.members.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Leader {
    /// Members a session admits by default, besides the leader.
    pub const DEFAULT_MAX_MEMBERS: usize = 64;

    /// Start a session of `suite` led by `me`, at epoch 1 with no other member.
    pub fn new(suite: Suite, me: MemberId) -> Result<Leader, KeyError> {
        let mut leader = Leader {
            suite,
            group: GroupState::new(suite, me),
            members: BTreeMap::new(),
            max_members: Leader::DEFAULT_MAX_MEMBERS,
            revoked_previous: false,
        };
        leader.next_epoch(false)?;
        Ok(leader)
    }

    /// Limit the number of members (besides the leader).
    pub fn with_max_members(mut self, max: usize) -> Leader {
        self.max_members = max;
        self
    }

    /// The leader's own member id.
    pub fn id(&self) -> MemberId {
        self.group.me()
    }

    /// The session's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The current epoch.
    pub fn epoch(&self) -> u32 {
        self.group.epoch().unwrap_or(0)
    }

    /// The admitted members (not counting the leader).
    pub fn members(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.members.keys().copied()
    }

    /// Admit the member at the other end of `handshake` under `id`, start a
    /// new epoch, and return the deliveries for every member (the newcomer
    /// included).
    pub fn admit(
        &mut self,
        id: MemberId,
        handshake: Established,
    ) -> Result<Vec<KeyDelivery>, KeyError> {
        let (suite, secret) = handshake.into_member_secret();
        if suite != self.suite {
            return Err(KeyError::MemberSuiteMismatch {
                expected: self.suite,
                got: suite,
            });
        }
        if id == self.id() || self.members.contains_key(&id) {
            return Err(KeyError::DuplicateMember(id.0));
        }
        if self.members.len() >= self.max_members {
            return Err(KeyError::TooManyMembers(self.max_members));
        }
        self.members.insert(id, secret);
        match self.next_epoch(false) {
            Ok(deliveries) => Ok(deliveries),
            Err(e) => {
                self.members.remove(&id);
                Err(e)
            }
        }
    }

    /// Remove a member, start a new epoch that revokes the previous one, and
    /// return the deliveries for those who remain.
    pub fn remove(&mut self, id: MemberId) -> Result<Vec<KeyDelivery>, KeyError> {
        let secret = self
            .members
            .remove(&id)
            .ok_or(KeyError::UnknownMember(id.0))?;
        match self.next_epoch(true) {
            Ok(deliveries) => Ok(deliveries),
            Err(e) => {
                self.members.insert(id, secret);
                Err(e)
            }
        }
    }

    /// Start a new epoch with the same members (for instance on a timer, or
    /// when a sender nears the end of its sequence numbers).
    pub fn rekey(&mut self) -> Result<Vec<KeyDelivery>, KeyError> {
        self.next_epoch(false)
    }

    fn next_epoch(&mut self, revoke_previous: bool) -> Result<Vec<KeyDelivery>, KeyError> {
        let epoch = match self.group.epoch() {
            None => 1,
            Some(n) => n.checked_add(1).ok_or(KeyError::EpochsExhausted)?,
        };
        let mut key = GroupKey(vec![0u8; self.suite.key_len()]);
        random::fill("group key", &mut key.0)?;
        let deliveries = self
            .members
            .iter()
            .map(|(id, secret)| {
                delivery::wrap(self.suite, secret, epoch, *id, revoke_previous, &key)
            })
            .collect();
        self.group.install(epoch, key, revoke_previous)?;
        self.revoked_previous = revoke_previous;
        Ok(deliveries)
    }

    /// The current epoch's delivery for `id` again (byte for byte the same as
    /// the first time), for a member that lost it in transit.
    pub fn redeliver(&self, id: MemberId) -> Result<KeyDelivery, KeyError> {
        let secret = self.members.get(&id).ok_or(KeyError::UnknownMember(id.0))?;
        let (epoch, key) = self
            .group
            .current_key()
            .ok_or(KeyError::UnknownMember(id.0))?;
        Ok(delivery::wrap(
            self.suite,
            secret,
            epoch,
            id,
            self.revoked_previous,
            key,
        ))
    }

    /// Seal a packet for the session under the current epoch.
    pub fn seal(
        &mut self,
        aad: &[u8],
        plaintext: &[u8],
        compression: Compression,
    ) -> Result<Vec<u8>, SealError> {
        self.group.seal(aad, plaintext, compression)
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
        self.group.seal_into(aad, plaintext, compression, out)
    }

    /// Open a packet from a member, decrypting in its own buffer.
    pub fn open_owned(&mut self, aad: &[u8], packet: Vec<u8>) -> Result<Opened, OpenError> {
        self.group.open_owned(aad, packet)
    }

    /// Open a packet from a member.
    pub fn open(&mut self, aad: &[u8], packet: &[u8]) -> Result<Opened, OpenError> {
        self.group.open(aad, packet)
    }
}
