//! Fernhand's control plane.
//!
//! - `broker`: the registry of relays that register over mutual TLS, the
//!   placement of sessions on them, failover when one dies, and the
//!   admission tickets members present;
//! - `app`: the HTTP API — accounts, sign-in with MFA, API tokens, attended
//!   sessions and joining, audit and security logs;
//! - `serve`: all of it started together, the embedded default included;
//! - `admin`: operator tasks run from the command line;
//! - `security_log`: anomalous traffic, stored and forwarded, for all of it.

pub mod admin;
pub mod app;
pub mod broker;
pub mod problem;
pub mod security_log;
pub mod serve;
pub mod turn;
