//! Fernhand's end-to-end security layer.
//!
//! Everything a relay or the control plane carries for a remote support session
//! is sealed here, between the session's endpoints, so that neither can read it.
//! The crate is sans-IO: it turns bytes into bytes and keeps state; it opens no
//! socket and reads no clock. Callers drive it from their own tasks.
//!
//! The pieces, in the order a session uses them:
//!
//! 1. [`JoinCode`] / [`JoinLink`] — what the expert hands the customer: a
//!    *locator* the server may see and a *secret* that never leaves the endpoints.
//! 2. SRP-6a ([`ClientHandshake`] and [`VerifierStore`]/[`ServerHandshake`]) — four
//!    messages that prove knowledge of the secret and give both sides a
//!    [`MemberSecret`] bound to the whole handshake transcript.
//! 3. [`Leader`] — makes a random group key per epoch and wraps it (RFC 3394) for
//!    every member under a key derived from that member's secret; starts a new
//!    epoch whenever someone joins or leaves.
//! 4. [`Member`] / [`Leader`] — seal and open packets: AES-CTR + HMAC,
//!    encrypt-then-MAC over a caller-supplied cleartext envelope, a replay window
//!    per sender.
//!
//! The byte layouts are specified in `docs/protocol.md`; the browser's
//! implementation must reproduce the golden transcripts in `tests/golden/`.

#![cfg_attr(
    not(test),
    warn(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

mod compress;
mod delivery;
mod error;
mod group;
mod handshake;
mod kdf;
mod keys;
mod leader;
mod member;
mod packet;
mod random;
mod replay;
mod secret;
mod srp_group;
mod suite;
#[cfg(test)]
mod vector_tests;
mod wire;

#[cfg(feature = "deterministic-rng")]
pub mod testing;

pub use compress::Compression;
pub use delivery::KeyDelivery;
pub use error::{
    EntropyError, HandshakeError, KeyError, MessageError, OpenError, SealError, SecretError,
};
pub use group::Opened;
pub use handshake::{
    AwaitingConfirm, ClientHandshake, Established, ServerHandshake, Verifier, VerifierStore,
};
pub use keys::{MemberId, MemberSecret};
pub use leader::Leader;
pub use member::Member;
pub use packet::{HEADER_LEN, MAX_PLAINTEXT_LEN, PacketHeader};
pub use replay::REPLAY_WINDOW;
pub use secret::{JoinCode, JoinLink};
pub use suite::{Policy, Suite};
