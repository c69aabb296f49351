//! What every Fernhand endpoint shares — the agent on the customer's
//! machine and the scripted expert:
//!
//! - [`api`]: the control plane's HTTP API;
//! - [`broker`]: tickets from the broker, as the relay link's source;
//! - [`runtime`]: the task that drives a protocol endpoint over its relay
//!   link, and the [`runtime::Session`] handle the application uses;
//! - [`files`]: safe file names, part files renamed only when whole and
//!   checked, resume;
//! - [`transfer`]: file transfers over a session (offer, accept from an
//!   offset, chunks, end with SHA-256, errors told to both sides);
//! - [`screen_pieces`]: large screen messages in pieces;
//! - [`expert`]: the expert's end of a connection, for the scripted expert
//!   client and tests.

pub mod api;
pub mod broker;
pub mod expert;
pub mod files;
pub mod runtime;
pub mod screen_pieces;
pub mod transfer;
