//! Grants: capability tokens the control plane hands a member so it can ask
//! the broker for tickets to its session. Only the SHA-256 of each token is
//! stored and looked up, so neither the database nor lookup timing reveals
//! a valid token.

use fernhand_protocol::ticket::Role;
use fernhand_protocol::{MemberId, SessionId, TenantId};
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

/// The stored form of a grant token: SHA-256, as for every token.
pub(crate) fn hash(token: &str) -> String {
    crate::app::crypto::token_hash(token)
}
