//! SRP-6a join handshake: four messages, then a member secret on both sides.
//!
//! ```text
//! client (knows the secret)               server (holds the verifier)
//!   Hello: suites offered, identity   ──▶
//!                                      ◀──  Challenge: suite chosen, salt, B
//!   Proof: A, M1, client finished     ──▶   (checks M1, then finished)
//!                                      ◀──  Confirm: M2, server finished
//!   (checks M2, then finished)
//! ```
//!
//! M1 and M2 are SRP's own proofs. The *finished* values are HMACs over the
//! hash of every handshake message so far, keyed from the SRP key and that hash
//! (see [`schedule`]); they make any change to a message — a suite list
//! stripped of its strongest entry, say — fail the handshake even where SRP
//! alone would still agree. The member secret is derived from the SRP key and
//! the full transcript.
//!
//! Roles of SRP are independent of leadership: in an attended session the
//! leader (expert) is the server and the customer the client; on an unattended
//! device the agent is the server and the expert, still the leader, the client.

mod client;
mod messages;
mod schedule;
mod server;

pub use client::{AwaitingConfirm, ClientHandshake};
pub use server::{ServerHandshake, Verifier, VerifierStore};

use crate::keys::MemberSecret;
use crate::suite::Suite;

/// A completed handshake: what either side keeps.
#[derive(Debug)]
pub struct Established {
    suite: Suite,
    identity: Vec<u8>,
    member_secret: MemberSecret,
    transcript_hash: [u8; 32],
}

impl Established {
    /// The suite both sides agreed on.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The identity the client joined as (e.g. `code:123456`).
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// SHA-256 of the whole handshake. Both sides compute the same value; it
    /// may be shown to users as a short fingerprint to compare.
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.transcript_hash
    }

    #[cfg(feature = "deterministic-rng")]
    pub(crate) fn member_secret(&self) -> &MemberSecret {
        &self.member_secret
    }

    /// The member secret, for [`crate::Leader::admit`] or [`crate::Member::new`].
    pub fn into_member_secret(self) -> (Suite, MemberSecret) {
        (self.suite, self.member_secret)
    }
}
