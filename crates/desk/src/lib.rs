//! Fernhand's service desk domain: the ITIL records (incident, problem,
//! change, release, configuration item), their lifecycles as data, priority
//! from impact and urgency, SLA clocks over per-tenant business calendars,
//! change advisory board approval, change-schedule conflicts and the
//! configuration graph's impact view.
//!
//! Everything here is pure: no database, no network, no HTTP, no clock of its
//! own (callers pass the time in). The store persists what this crate decides
//! and the server exposes it; both stay thin because the rules live here.

pub mod cab;
pub mod calendar;
pub mod cmdb;
pub mod kind;
pub mod lifecycle;
pub mod mail;
pub mod priority;
pub mod schedule;
pub mod sla;

pub use kind::{RecordKind, Reference, ReferenceError};
pub use lifecycle::{DeskRole, Lifecycle, StateCategory, TransitionError};
pub use priority::{Impact, Priority, Urgency};
