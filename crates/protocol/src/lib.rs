//! Fernhand's session protocol, sans-IO.
//!
//! - [`frame`]: what a member and its relay exchange — admission, hop acks,
//!   close notices, and data frames with the 32-byte cleartext envelope the
//!   relay routes by.
//! - [`ticket`]: the control plane's signed admission tickets.
//! - [`message`]: what members say to each other inside sealed packets;
//!   [`input`] and [`control`] are the bodies of two of its types.
//! - [`reliable`]: sequence numbers, acks and resends end to end, so that a
//!   relay failure loses nothing.
//! - [`Endpoint`]: one member's whole protocol state — join handshake, keys,
//!   reliable streams, roster — turning received frames into events and
//!   messages into frames to send. It opens no socket and reads no clock.

pub mod broker_link;
pub mod control;
pub mod frame;
pub mod ids;
pub mod input;
pub mod message;
mod reliable;
mod session;
pub mod ticket;

pub use ids::{ALL_MEMBERS, MemberId, RelayId, SessionId, TenantId};
pub use session::{Endpoint, EndpointConfig, Event, JoinRefusal, SendError};
