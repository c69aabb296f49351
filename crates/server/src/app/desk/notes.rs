//! Notes on a record: internal notes of the desk and replies the requester
//! sees, written with their search text and history entry in the caller's
//! transaction.

use super::fields::TEXT_MAX;
use crate::app::problem::Problem;
use fernhand_store::TenantTx;
use fernhand_store::desk::records::Record;
use fernhand_store::desk::{history, notes, text};

/// Adds a note (`public`: a reply the requester sees) to an open record.
pub async fn add(
    tx: &mut TenantTx,
    r: &Record,
    actor: &str,
    mut body: String,
    public: bool,
    now: i64,
) -> Result<notes::Note, Problem> {
    let policy = crate::app::privacy::restricted::policy(tx).await?;
    crate::app::privacy::restricted::apply(policy, &mut body)?;
    if body.trim().is_empty() || body.chars().count() > TEXT_MAX || body.contains('\0') {
        return Err(Problem::bad_request(
            "a note is 1 to 20,000 characters of text",
        ));
    }
    if r.state_category == "closed" {
        return Err(Problem::conflict("a closed record cannot change"));
    }
    let note = notes::Note {
        id: fernhand_store::new_id()?,
        record_id: r.id.clone(),
        author: actor.to_owned(),
        public,
        body,
        created_at: now,
    };
    notes::insert(tx, &note).await?;
    text::put(tx, &r.id, &note.id, &note.body).await?;
    let kind = if public { "reply" } else { "note" };
    history::append(
        tx,
        &r.id,
        now,
        actor,
        &[(kind.into(), None, Some(note.id.clone()))],
    )
    .await?;
    super::events::emit(
        tx,
        r,
        if public { "reply_added" } else { "note_added" },
        actor,
        serde_json::json!({"note": {"id": note.id, "public": public, "body": note.body}}),
        now,
    )
    .await?;
    Ok(note)
}
