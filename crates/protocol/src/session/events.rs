//! What an [`super::Endpoint`] reports and how it is tuned.

use crate::ids::MemberId;
use crate::message::{Message, MessageType, Roster};
use fernhand_e2e::{HandshakeError, KeyError, SealError};
use std::time::Duration;
use thiserror::Error;

/// Tunables of an endpoint.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Reliable bytes a sender may have unacknowledged before
    /// [`super::Endpoint::can_send`] says no.
    pub send_window: usize,
    /// Acknowledge after this many reliable messages at the latest…
    pub ack_every: u32,
    /// …or this long after the first unacknowledged one.
    pub ack_delay: Duration,
    /// Bytes of early arrivals held per stream while waiting for a gap.
    pub max_held_bytes: usize,
    /// Least time between two resend requests.
    pub sync_interval: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            send_window: 8 * 1024 * 1024,
            ack_every: 32,
            ack_delay: Duration::from_millis(50),
            max_held_bytes: 16 * 1024 * 1024,
            sync_interval: Duration::from_millis(200),
        }
    }
}

/// Why a join was refused, as the leader tells the joiner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinRefusal {
    /// The secret (code, link, password) is wrong.
    WrongSecret,
    /// Too many wrong attempts: the session accepts no more joins.
    Locked,
    /// No cipher suite in common.
    NoCommonSuite,
    /// A handshake message was malformed.
    Malformed,
    /// The identity (code, link, device) is not known here.
    UnknownIdentity,
    /// Anything else.
    Other,
}

impl JoinRefusal {
    pub(crate) fn byte(self) -> u8 {
        match self {
            JoinRefusal::WrongSecret => 1,
            JoinRefusal::Locked => 2,
            JoinRefusal::NoCommonSuite => 3,
            JoinRefusal::Malformed => 4,
            JoinRefusal::UnknownIdentity => 5,
            JoinRefusal::Other => 6,
        }
    }

    pub(crate) fn from_byte(b: u8) -> JoinRefusal {
        match b {
            1 => JoinRefusal::WrongSecret,
            2 => JoinRefusal::Locked,
            3 => JoinRefusal::NoCommonSuite,
            4 => JoinRefusal::Malformed,
            5 => JoinRefusal::UnknownIdentity,
            _ => JoinRefusal::Other,
        }
    }

    pub(crate) fn from_error(e: &HandshakeError) -> JoinRefusal {
        match e {
            HandshakeError::WrongSecret | HandshakeError::TranscriptMismatch => {
                JoinRefusal::WrongSecret
            }
            HandshakeError::Locked => JoinRefusal::Locked,
            HandshakeError::NoCommonSuite | HandshakeError::SuiteNotAllowed(_) => {
                JoinRefusal::NoCommonSuite
            }
            HandshakeError::Malformed(_) | HandshakeError::IllegalPublicValue(_) => {
                JoinRefusal::Malformed
            }
            HandshakeError::UnknownIdentity => JoinRefusal::UnknownIdentity,
            _ => JoinRefusal::Other,
        }
    }
}

/// What happened, for the application.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The join handshake completed; both sides see this fingerprint.
    Established {
        /// SHA-256 of the handshake transcript.
        transcript_hash: [u8; 32],
    },
    /// A group key is installed (first key, or a new epoch).
    Keyed {
        /// The epoch now current.
        epoch: u32,
    },
    /// Leader: a member completed its join and was admitted.
    MemberAdmitted(MemberId),
    /// Leader: a join attempt failed.
    JoinFailed {
        /// Who tried.
        from: MemberId,
        /// What went wrong (no secrets in it).
        error: HandshakeError,
    },
    /// Joiner: the leader refused the join.
    JoinRefused(JoinRefusal),
    /// The leader announced the members.
    Roster(Roster),
    /// A message from another member.
    Received {
        /// The sender.
        from: MemberId,
        /// The message.
        message: Message,
    },
    /// A frame was dropped: forged, replayed, malformed, or for another
    /// session. Worth a security-log line; not fatal.
    Dropped {
        /// The member the envelope names (not authenticated if the packet
        /// failed to open).
        from: MemberId,
        /// Why.
        reason: String,
    },
}

/// Why a message could not be sent.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Control-type messages (roster, acks) are the endpoint's own business.
    #[error("message type {0:?} is sent by the endpoint itself")]
    Reserved(MessageType),
    /// Only the leader may do this.
    #[error("only the session leader may do this")]
    NotLeader,
    /// Key handling failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A handshake could not start.
    #[error(transparent)]
    Handshake(HandshakeError),
}
