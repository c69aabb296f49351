//! Typed errors of the end-to-end layer.
//!
//! Every way a byte string from the network can be wrong has its own variant,
//! so callers can log precisely (security log) and tests can assert precisely.
//! No message here ever contains key material or plaintext.

use crate::suite::Suite;
use thiserror::Error;

/// The operating system's random source failed; nothing was produced.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the operating system's random source failed")]
pub struct EntropyError;

/// A handshake or key-delivery message that cannot be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// The message ended before a field it must contain.
    #[error("message truncated: {field} needs {needed} more bytes")]
    Truncated {
        /// The field that did not fit.
        field: &'static str,
        /// How many bytes were missing.
        needed: usize,
    },
    /// Bytes follow the last field of the message.
    #[error("{count} unexpected bytes after the end of the message")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
    /// The first byte names another message type.
    #[error("expected message type {expected:#04x}, got {got:#04x}")]
    UnexpectedType {
        /// The type this step of the protocol waits for.
        expected: u8,
        /// The type that arrived.
        got: u8,
    },
    /// The protocol version is not one we speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// A suite identifier we do not know.
    #[error("unknown suite identifier {0:#04x}")]
    UnknownSuite(u8),
    /// A length field is outside its allowed range.
    #[error("{field} length {len} is outside {min}..={max}")]
    BadLength {
        /// The field whose length is wrong.
        field: &'static str,
        /// The length found.
        len: usize,
        /// Smallest allowed length.
        min: usize,
        /// Largest allowed length.
        max: usize,
    },
    /// A field holds a value the protocol forbids.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
}

/// Why a handshake failed. After any of these no key exists.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The peer's message could not be decoded.
    #[error("malformed handshake message: {0}")]
    Malformed(#[from] MessageError),
    /// The client offered no suite this side's policy accepts.
    #[error("no suite in common with the peer")]
    NoCommonSuite,
    /// The server chose a suite the client did not offer or does not accept.
    #[error("peer chose suite {0}, which was not offered or is not allowed")]
    SuiteNotAllowed(Suite),
    /// No verifier is held for the identity the client named.
    #[error("unknown identity")]
    UnknownIdentity,
    /// An SRP public value (A or B) is zero modulo N or not below N.
    #[error("illegal SRP public value {0}")]
    IllegalPublicValue(&'static str),
    /// The client's proof M1 is wrong: it does not know the secret.
    #[error("wrong secret: the client's proof does not verify")]
    WrongSecret,
    /// The server's proof M2 is wrong: the peer does not hold the verifier
    /// (wrong code, or someone is impersonating the session leader).
    #[error("the server's proof does not verify: wrong code or impostor")]
    ServerProofMismatch,
    /// SRP succeeded but the two sides saw different handshake messages
    /// (for instance a suite list rewritten on the way: a downgrade attempt).
    #[error("handshake transcripts differ: messages were altered in transit")]
    TranscriptMismatch,
    /// Too many wrong proofs: this verifier store accepts no more joins.
    #[error("too many failed attempts; joining is locked")]
    Locked,
    /// The OS random source failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Errors of group-key handling: epochs, deliveries, membership.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The key-delivery message could not be decoded.
    #[error("malformed key delivery: {0}")]
    Malformed(#[from] MessageError),
    /// The delivery is for a different suite than this session's.
    #[error("key delivery for suite {got}, session uses {expected}")]
    SuiteMismatch {
        /// The session's suite.
        expected: Suite,
        /// The suite named in the message.
        got: Suite,
    },
    /// The wrapped key fails RFC 3394's integrity check: not from our leader,
    /// altered, or addressed to another member or epoch.
    #[error("wrapped group key fails its integrity check")]
    UnwrapFailed,
    /// The delivery names another member id than the one this member has.
    #[error("key delivery for member {got}, this member is {expected}")]
    WrongRecipient {
        /// Our member id.
        expected: u32,
        /// The id in the message.
        got: u32,
    },
    /// The delivery is for an epoch at or before the current one, with a
    /// different key: replayed or out of order.
    #[error("key delivery for stale epoch {got}; current epoch is {current}")]
    StaleEpoch {
        /// The epoch in the message.
        got: u32,
        /// This member's current epoch.
        current: u32,
    },
    /// The epoch counter would wrap; the session must end.
    #[error("epoch counter exhausted")]
    EpochsExhausted,
    /// The member id is already in the session.
    #[error("member {0} is already in the session")]
    DuplicateMember(u32),
    /// The member id is not in the session.
    #[error("member {0} is not in the session")]
    UnknownMember(u32),
    /// A member cannot join a session of another suite.
    #[error("member's handshake used suite {got}, session uses {expected}")]
    MemberSuiteMismatch {
        /// The session's suite.
        expected: Suite,
        /// The suite of the member's handshake.
        got: Suite,
    },
    /// The session is full.
    #[error("session is full ({0} members)")]
    TooManyMembers(usize),
    /// The OS random source failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// Why a packet could not be sealed. Nothing was produced.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SealError {
    /// No group key yet: the member has not received its first delivery.
    #[error("no group key yet")]
    NoKey,
    /// The plaintext is larger than [`crate::MAX_PLAINTEXT_LEN`].
    #[error("plaintext of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The plaintext's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The associated data is longer than 65 535 bytes.
    #[error("associated data of {0} bytes is too long")]
    AadTooLong(usize),
    /// This sender has used every sequence number of the epoch; a new epoch is
    /// needed. Sealing refuses rather than reuse a counter block.
    #[error("sequence numbers of this epoch are exhausted; rekey")]
    SequenceExhausted,
}

/// Why a packet was refused. The packet is dropped; state is unchanged.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than header plus tag.
    #[error("packet of {0} bytes is too short")]
    TooShort(usize),
    /// Longer than any packet we seal.
    #[error("packet of {0} bytes is too long")]
    TooLong(usize),
    /// Unknown packet format version.
    #[error("unsupported packet version {0}")]
    UnsupportedVersion(u8),
    /// The packet names another suite than the session's.
    #[error("packet suite {got:#04x} does not match the session's")]
    SuiteMismatch {
        /// The suite byte found.
        got: u8,
    },
    /// Flag bits we do not define are set.
    #[error("unknown flag bits {0:#04x}")]
    UnknownFlags(u8),
    /// No key for this epoch (not yet delivered, or already forgotten).
    #[error("no key for epoch {0}")]
    UnknownEpoch(u32),
    /// The packet claims to come from this endpoint itself (a reflection).
    #[error("packet claims to come from this endpoint")]
    Reflected,
    /// The tag does not verify: forged, corrupted, or not for this session.
    #[error("authentication failed")]
    BadTag,
    /// Already received, or too old for the replay window.
    #[error("replayed or too old (sender {sender}, sequence {seq})")]
    Replayed {
        /// Sender id from the header.
        sender: u32,
        /// Sequence number from the header.
        seq: u64,
    },
    /// Authenticated, but the compressed body does not decompress within
    /// limits. Only a session member can cause this.
    #[error("compressed body is invalid")]
    BadCompression,
    /// The associated data is longer than 65 535 bytes.
    #[error("associated data of {0} bytes is too long")]
    AadTooLong(usize),
    /// More distinct senders than a session can have in one epoch.
    #[error("too many senders in one epoch")]
    TooManySenders,
}

/// A join code or join link that cannot be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// A join code has the wrong number of digits.
    #[error("a join code has {expected} digits; this has {got}")]
    CodeLength {
        /// Digits a code has.
        expected: usize,
        /// Digits found.
        got: usize,
    },
    /// A join code contains something other than digits, spaces and dashes.
    #[error("a join code contains only digits")]
    CodeCharacter,
    /// A join link lacks the part after `#`.
    #[error("the join link has no secret part (after '#')")]
    LinkMissingSecret,
    /// A join link's path does not end in `/join/<locator>`.
    #[error("the join link has no locator (…/join/<locator>)")]
    LinkMissingLocator,
    /// The locator or secret of a join link is not what we issue.
    #[error("the join link's {0} is malformed")]
    LinkMalformed(&'static str),
    /// The OS random source failed.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}
