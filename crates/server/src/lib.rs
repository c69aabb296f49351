//! Fernhand's control plane.
//!
//! Today it holds the broker (`broker`): the registry of relays that
//! register over mutual TLS, the placement of sessions on them, failover when
//! one dies, and the admission tickets members present. Accounts, tenants,
//! sessions, devices and the rest of the control plane mount it.

pub mod broker;
