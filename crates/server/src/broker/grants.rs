//! Grants: capability tokens the control plane hands a member so it can ask
//! the broker for tickets to its session. Only a hash of each token is kept;
//! lookups compare in constant time.

use fernhand_protocol::ticket::Role;
use fernhand_protocol::{MemberId, SessionId, TenantId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::SystemTime;

/// What a grant allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Tenant of the session.
    pub tenant: TenantId,
    /// The session.
    pub session: SessionId,
    /// The member id tickets will carry.
    pub member: MemberId,
    /// The member's role.
    pub role: Role,
    /// Where the member is (placement hint for the leader).
    pub region: String,
    /// Valid until.
    pub expires: SystemTime,
}

/// Grants by token hash.
#[derive(Default)]
pub(crate) struct Grants {
    by_hash: HashMap<[u8; 32], Grant>,
}

pub(crate) fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Grants {
    pub(crate) fn insert(&mut self, token: &str, grant: Grant) {
        self.by_hash.insert(hash(token), grant);
    }

    /// The grant for `token`. The map lookup is by SHA-256 of the token, so
    /// timing reveals nothing about valid tokens.
    pub(crate) fn get(&self, token: &str) -> Option<&Grant> {
        self.by_hash.get(&hash(token))
    }

    pub(crate) fn remove_session(&mut self, session: SessionId) {
        self.by_hash.retain(|_, g| g.session != session);
    }

    pub(crate) fn expire(&mut self, now: SystemTime) {
        self.by_hash.retain(|_, g| g.expires > now);
    }
}
