//! Messages the e-mail intake has read, by Message-ID.

use crate::{StoreError, TenantTx};

/// Whether `message_id` was read before.
pub async fn seen(tx: &mut TenantTx, message_id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM desk_mail_seen WHERE tenant_id = $1 AND message_id = $2",
    )
    .bind(tenant)
    .bind(message_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(n > 0)
}

/// Notes that `message_id` was read, and what became of it.
pub async fn mark(
    tx: &mut TenantTx,
    message_id: &str,
    record_id: Option<&str>,
    outcome: &str,
    at: i64,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_mail_seen (tenant_id, message_id, record_id, outcome, seen_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(message_id)
    .bind(record_id)
    .bind(outcome)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}
