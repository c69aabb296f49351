//! The SRP client's side of the join handshake (the one who knows the secret).
//!
//! A typestate machine: [`ClientHandshake::start`] → Hello;
//! [`ClientHandshake::on_challenge`] → Proof; [`AwaitingConfirm::on_confirm`] →
//! [`Established`]. Each step consumes the previous state, so no step can be
//! repeated or skipped.

use super::Established;
use super::messages::{self, MAX_OFFERED};
use super::schedule::{Schedule, finished_ok};
use crate::error::HandshakeError;
use crate::kdf::{HASH_LEN, Transcript};
use crate::random;
use crate::srp_group::{self, ClientSrp, EPHEMERAL_LEN};
use crate::suite::{Policy, Suite};
use std::fmt;
use zeroize::Zeroizing;

/// A client that has sent its Hello and waits for the Challenge.
pub struct ClientHandshake {
    offered: Vec<Suite>,
    identity: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
    transcript: Transcript,
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("offered", &self.offered)
            .finish_non_exhaustive()
    }
}

impl ClientHandshake {
    /// Begin joining as `identity` with `secret`, offering the suites of
    /// `policy`. Returns the state and the Hello to send.
    pub fn start(
        policy: &Policy,
        identity: &[u8],
        secret: &[u8],
    ) -> Result<(ClientHandshake, Vec<u8>), HandshakeError> {
        if !messages::identity_ok(identity) {
            return Err(HandshakeError::Malformed(crate::MessageError::Invalid {
                field: "identity",
                reason: "must be 1-128 bytes of printable ASCII without spaces",
            }));
        }
        let offered: Vec<Suite> = policy.suites().iter().take(MAX_OFFERED).copied().collect();
        if offered.is_empty() {
            return Err(HandshakeError::NoCommonSuite);
        }
        let hello = messages::encode_hello(&offered, identity);
        let mut transcript = Transcript::new();
        transcript.push(&hello);
        Ok((
            ClientHandshake {
                offered,
                identity: identity.to_vec(),
                secret: Zeroizing::new(secret.to_vec()),
                transcript,
            },
            hello,
        ))
    }

    /// Process the server's Challenge; returns the next state and the Proof.
    pub fn on_challenge(
        self,
        challenge: &[u8],
    ) -> Result<(AwaitingConfirm, Vec<u8>), HandshakeError> {
        let decoded = messages::decode_challenge(challenge)?;
        let suite = decoded.suite;
        if !self.offered.contains(&suite) {
            return Err(HandshakeError::SuiteNotAllowed(suite));
        }
        let mut a = Zeroizing::new([0u8; EPHEMERAL_LEN]);
        random::fill("srp client ephemeral a", a.as_mut_slice())?;
        let srp = srp_group::client_process(
            suite,
            a.as_slice(),
            &self.identity,
            &self.secret,
            decoded.salt,
            decoded.b_pub,
        )?;
        let a_pub = srp_group::client_public(suite, a.as_slice());

        let mut transcript = self.transcript;
        transcript.push(challenge);
        let schedule = Schedule::new(srp.session_key(), transcript.hash());
        let proof = messages::encode_proof(&a_pub, srp.m1(), &schedule.client_finished());
        transcript.push(&proof);
        let th_full = transcript.hash();
        Ok((
            AwaitingConfirm {
                suite,
                identity: self.identity,
                srp,
                schedule,
                th_full,
            },
            proof,
        ))
    }
}

/// A client that has sent its Proof and waits for the Confirm.
pub struct AwaitingConfirm {
    suite: Suite,
    identity: Vec<u8>,
    srp: ClientSrp,
    schedule: Schedule,
    th_full: [u8; HASH_LEN],
}

impl fmt::Debug for AwaitingConfirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwaitingConfirm")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl AwaitingConfirm {
    /// The suite the server chose.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Check the server's Confirm: M2 first (does the server hold the
    /// verifier?), then the finished value (did both see the same messages?).
    pub fn on_confirm(self, confirm: &[u8]) -> Result<Established, HandshakeError> {
        let decoded = messages::decode_confirm(self.suite, confirm)?;
        if !self.srp.server_proof_ok(decoded.m2) {
            return Err(HandshakeError::ServerProofMismatch);
        }
        if !finished_ok(
            &self.schedule.server_finished(&self.th_full),
            decoded.finished,
        ) {
            return Err(HandshakeError::TranscriptMismatch);
        }
        Ok(Established {
            suite: self.suite,
            identity: self.identity,
            member_secret: self.schedule.member_secret(&self.th_full),
            transcript_hash: self.th_full,
        })
    }
}
