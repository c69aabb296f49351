//! The service desk behind the API: what a create, an edit, a state change
//! or a vote does to the store, decided by `fernhand-desk`'s rules. The
//! handlers in `routes::desk` only parse, authorise and call in here; one
//! tenant transaction carries the record, its history, state log, search
//! text and audit entry, so a refused or failed request writes nothing.

pub mod escalation;
pub mod fields;
pub mod inventory;
pub mod records;
pub mod settings;

use super::principal::Role;
use fernhand_desk::DeskRole;

/// The desk role a tenant role acts with.
pub fn desk_role(role: Role) -> Option<DeskRole> {
    match role {
        Role::TenantAdmin => Some(DeskRole::Manager),
        Role::Expert => Some(DeskRole::Agent),
        Role::Auditor => None,
    }
}
