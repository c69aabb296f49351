//! Camera-share items as stored: snapshots and the session's record, each
//! sealed by the caller under a tenant data key (the version is kept with
//! it). The retention job finds camera sessions whose items are due to go
//! and deletes them.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// An item's description (never its bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CameraItem {
    /// Id.
    pub id: String,
    /// The camera-share session.
    pub session_id: String,
    /// `snapshot` or `record`.
    pub item: String,
    /// `image/jpeg`, `image/png`, `application/json`.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size: i64,
    /// Tenant key version it is sealed under.
    #[serde(skip)]
    pub key_version: i64,
    /// Who stored it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

const COLUMNS: &str = "id, session_id, item, media_type, size, key_version, created_by, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<CameraItem, StoreError> {
    Ok(CameraItem {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        item: r.try_get("item")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        key_version: r.try_get("key_version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores an item and its sealed bytes.
pub async fn insert(tx: &mut TenantTx, item: &CameraItem, sealed: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO camera_items (tenant_id, id, session_id, item, media_type, size, key_version, sealed, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(&item.id)
    .bind(&item.session_id)
    .bind(&item.item)
    .bind(&item.media_type)
    .bind(item.size)
    .bind(item.key_version)
    .bind(sealed)
    .bind(&item.created_by)
    .bind(item.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A session's items, oldest first.
pub async fn list(tx: &mut TenantTx, session_id: &str) -> Result<Vec<CameraItem>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!(
        "SELECT {COLUMNS} FROM camera_items WHERE tenant_id = $1 AND session_id = $2 ORDER BY created_at, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(session_id)
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// An item and its sealed bytes.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<(CameraItem, String)>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql =
        format!("SELECT {COLUMNS}, sealed FROM camera_items WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("sealed")?))),
        None => Ok(None),
    }
}

/// Camera sessions that still hold items and whose items are due to go at
/// `now`: ended at or before `ended_before`, or never ended and started at
/// or before `started_before` (a share nobody ended). At most `limit`.
pub async fn due_sessions(
    tx: &mut TenantTx,
    ended_before: i64,
    started_before: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(sqlx::query_scalar(
        "SELECT s.id FROM support_sessions s WHERE s.tenant_id = $1 AND s.kind = 'camera' \
         AND ((s.ended_at IS NOT NULL AND s.ended_at <= $2) OR (s.ended_at IS NULL AND s.created_at <= $3)) \
         AND EXISTS (SELECT 1 FROM camera_items i WHERE i.tenant_id = $1 AND i.session_id = s.id) \
         ORDER BY s.created_at LIMIT $4",
    )
    .bind(tenant)
    .bind(ended_before)
    .bind(started_before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Deletes a session's items; returns how many went.
pub async fn delete_session(tx: &mut TenantTx, session_id: &str) -> Result<u64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query("DELETE FROM camera_items WHERE tenant_id = $1 AND session_id = $2")
        .bind(tenant)
        .bind(session_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}
