//! Notes on a record: internal ones for the desk, public replies the
//! requester sees in the portal.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// A note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Id.
    pub id: String,
    /// The record.
    pub record_id: String,
    /// Who wrote it.
    pub author: String,
    /// Whether the requester sees it.
    pub public: bool,
    /// The text, as written (escaped when shown).
    pub body: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// Stores a note.
pub async fn insert(tx: &mut TenantTx, n: &Note) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_notes (tenant_id, id, record_id, author, public, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(&n.id)
    .bind(&n.record_id)
    .bind(&n.author)
    .bind(i64::from(n.public))
    .bind(&n.body)
    .bind(n.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A record's notes, oldest first; only public ones when `public_only`.
pub async fn list(
    tx: &mut TenantTx,
    record_id: &str,
    public_only: bool,
) -> Result<Vec<Note>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT id, record_id, author, public, body, created_at FROM desk_notes \
         WHERE tenant_id = $1 AND record_id = $2 AND (public = 1 OR $3 = 0) ORDER BY created_at, id",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(i64::from(public_only))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Note {
                id: r.try_get("id")?,
                record_id: r.try_get("record_id")?,
                author: r.try_get("author")?,
                public: r.try_get::<i64, _>("public")? != 0,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
