//! The Fernhand agent: the customer's side of a remote support session.
//!
//! - [`host`]: one session — consent, screen, input, chat, clipboard,
//!   files, diagnostics — with every packet checked against
//!   [`permissions`];
//! - [`console`]: what the user sees and does (a terminal front end);
//! - [`screen_host`]: the capture → encode loop on its own thread;
//! - [`diagnostics`]: the system report;
//! - [`attended`]: joining a session with a code or link;
//! - [`unattended`]: enrolment, the control connection, and connections
//!   from experts without anyone at the machine.

pub mod attended;
pub mod console;
pub mod diagnostics;
pub mod host;
pub mod permissions;
pub mod screen_host;
pub mod unattended;
