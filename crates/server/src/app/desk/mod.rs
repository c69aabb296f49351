//! The service desk behind the API: what a create, an edit, a state change
//! or a vote does to the store, decided by `fernhand-desk`'s rules. The
//! handlers in `routes::desk` only parse, authorise and call in here; one
//! tenant transaction carries the record, its history, state log, search
//! text and audit entry, so a refused or failed request writes nothing.

pub mod attachments;
pub mod cmdb;
pub mod delivery;
pub mod escalation;
pub mod events;
pub mod fields;
pub mod import;
pub mod inventory;
pub mod mail;
pub mod mailbox;
pub mod notes;
pub mod portal;
pub mod records;
pub mod settings;

use super::principal::Role;
use crate::problem::Problem;
use fernhand_desk::DeskRole;

/// The desk role a tenant role acts with.
pub fn desk_role(role: Role) -> Option<DeskRole> {
    match role {
        Role::TenantAdmin => Some(DeskRole::Manager),
        Role::Expert => Some(DeskRole::Agent),
        Role::Auditor => None,
        Role::Requester => Some(DeskRole::Requester),
    }
}

/// Parses a keyset cursor `updated_at:id` (the last record of a page).
pub fn cursor(after: Option<&str>) -> Result<Option<(i64, String)>, Problem> {
    after
        .map(|a| {
            let bad = || Problem::bad_request("after is updated_at:id");
            let (at, id) = a.split_once(':').ok_or_else(bad)?;
            Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
        })
        .transpose()
}
