//! Fernhand's relay (the reference design's communication server).
//!
//! A relay admits a member by a ticket the control plane signed (it holds only
//! the public key), then forwards data frames between the members of a
//! session by their cleartext envelope: to everyone or to one member, sharing
//! one buffer across receivers. It never holds a key that opens a payload.
//! A slow receiver cannot slow the others: latest-wins frames are skipped for
//! it, and one that falls too far behind on reliable frames is disconnected.
//! Reliable frames are kept until acknowledged so a member whose connection
//! drops resumes without loss.
//!
//! - [`core`]: the logic, sans-IO.
//! - `server`: the tokio driver (WebSocket over TLS, or plain on loopback).
//! - `client`: a member's connection to a relay, with resume.

pub mod client;
pub mod core;
pub mod limits;
pub mod member;
pub mod metrics;
pub mod registration;
pub mod security;
pub mod server;

pub use client::{ClientError, RelayClient};
pub use limits::Limits;
pub use member::{Delivery, LinkError, MemberLink, RelayTicket, TicketSource};
pub use metrics::RelayMetrics;
pub use registration::{RegisteredRelay, Registration, RegistrationError};
pub use security::{SecurityEvent, SecurityLog};
pub use server::{RelayConfig, RelayError, RelayHandle, start};
