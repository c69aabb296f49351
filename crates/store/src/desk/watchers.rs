//! Who watches a record: users told (through the tenant's webhooks, which
//! carry their addresses) of every change to it.

use crate::{StoreError, TenantTx};

/// `user` watches `record` (again: no change).
pub async fn add(tx: &mut TenantTx, record: &str, user: &str, at: i64) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_watchers (tenant_id, record_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, record_id, user_id) DO NOTHING",
    )
    .bind(tenant)
    .bind(record)
    .bind(user)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// `user` stops watching `record`; whether they were.
pub async fn remove(tx: &mut TenantTx, record: &str, user: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "DELETE FROM desk_watchers WHERE tenant_id = $1 AND record_id = $2 AND user_id = $3",
    )
    .bind(tenant)
    .bind(record)
    .bind(user)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The users watching `record`.
pub async fn of_record(tx: &mut TenantTx, record: &str) -> Result<Vec<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM desk_watchers WHERE tenant_id = $1 AND record_id = $2 ORDER BY created_at, user_id",
    )
    .bind(tenant)
    .bind(record)
    .fetch_all(tx.conn())
    .await?)
}
