//! Tenant data keys, as stored: one row per tenant and version, the key
//! itself only wrapped (sealed under the server's seal key by the caller).
//! Rows are added, never changed: the newest version seals, every version
//! opens what it sealed. What a key is and how it is wrapped is the
//! server's business; this module only keeps the rows.

use crate::{StoreError, TenantTx, now};
use sqlx::Row;

/// A stored, wrapped key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// Version (1, 2, …).
    pub version: i64,
    /// The key, sealed by the caller.
    pub wrapped: String,
    /// Added (Unix seconds).
    pub created_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<WrappedKey, StoreError> {
    Ok(WrappedKey {
        version: r.try_get("version")?,
        wrapped: r.try_get("wrapped")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The tenant's newest key, if it has one.
pub async fn newest(tx: &mut TenantTx) -> Result<Option<WrappedKey>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT version, wrapped, created_at FROM tenant_keys WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// One version of the tenant's key.
pub async fn get(tx: &mut TenantTx, version: i64) -> Result<Option<WrappedKey>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT version, wrapped, created_at FROM tenant_keys WHERE tenant_id = $1 AND version = $2",
    )
    .bind(tenant)
    .bind(version)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every version of the tenant's key, oldest first.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<WrappedKey>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT version, wrapped, created_at FROM tenant_keys WHERE tenant_id = $1 ORDER BY version",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Adds `version` unless another writer added it first (then theirs
/// stands: the caller reads the version back).
pub async fn add(tx: &mut TenantTx, version: i64, wrapped: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO tenant_keys (tenant_id, version, wrapped, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, version) DO NOTHING",
    )
    .bind(tenant)
    .bind(version)
    .bind(wrapped)
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok(())
}
