//! Per-tenant desk settings as named JSON documents (`calendar`, `sla`,
//! `cab`, `lifecycle.incident`, …): the server validates them with
//! `fernhand-desk` before they are stored.

use crate::{StoreError, TenantTx};

/// A setting's stored JSON, if the tenant set it.
pub async fn get(tx: &mut TenantTx, name: &str) -> Result<Option<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(
        sqlx::query_scalar("SELECT value FROM desk_settings WHERE tenant_id = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Sets a setting.
pub async fn put(tx: &mut TenantTx, name: &str, value: &str, at: i64) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_settings (tenant_id, name, value, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(name)
    .bind(value)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every setting the tenant set, by name.
pub async fn all(tx: &mut TenantTx) -> Result<Vec<(String, String)>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(
        sqlx::query_as("SELECT name, value FROM desk_settings WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(tx.conn())
            .await?,
    )
}
