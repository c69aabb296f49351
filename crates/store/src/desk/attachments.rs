//! Files attached to a record. The bytes arrive here already sealed by the
//! server (AES-256-GCM under its seal key, bound to tenant, record and
//! attachment id); the store keeps only the sealed form.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// An attachment, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Id.
    pub id: String,
    /// The record.
    pub record_id: String,
    /// File name, as given (shown escaped, sent as a download).
    pub name: String,
    /// Bytes (plaintext).
    pub size: i64,
    /// SHA-256 of the plaintext (hex).
    pub sha256: String,
    /// Whether the requester sees it in the portal.
    pub public: bool,
    /// Who attached it.
    pub uploaded_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// Stores an attachment and its sealed bytes.
pub async fn insert(tx: &mut TenantTx, a: &Attachment, sealed: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_attachments (tenant_id, id, record_id, name, size, sha256, public, uploaded_by, sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(&a.id)
    .bind(&a.record_id)
    .bind(&a.name)
    .bind(a.size)
    .bind(&a.sha256)
    .bind(i64::from(a.public))
    .bind(&a.uploaded_by)
    .bind(sealed)
    .bind(a.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, record_id, name, size, sha256, public, uploaded_by, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.try_get("id")?,
        record_id: r.try_get("record_id")?,
        name: r.try_get("name")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        public: r.try_get::<i64, _>("public")? != 0,
        uploaded_by: r.try_get("uploaded_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A record's attachments, oldest first; only public ones when `public_only`.
pub async fn list(
    tx: &mut TenantTx,
    record_id: &str,
    public_only: bool,
) -> Result<Vec<Attachment>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM desk_attachments WHERE tenant_id = $1 AND record_id = $2 \
         AND (public = 1 OR $3 = 0) ORDER BY created_at, id"
    )))
    .bind(tenant)
    .bind(record_id)
    .bind(i64::from(public_only))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One attachment with its sealed bytes.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<(Attachment, String)>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS}, sealed FROM desk_attachments WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| Ok((from_row(&r)?, r.try_get("sealed")?)))
        .transpose()
}
