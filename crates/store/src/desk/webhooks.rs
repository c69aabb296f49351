//! A tenant's outgoing webhooks for desk events and their outbox: an event
//! is queued in the same transaction as the change it reports (one row per
//! webhook), so it is sent if and only if the change happened, and kept
//! until delivered or given up. `desk_outbox_tenants` says, without any
//! content, which tenants have deliveries waiting and from when.

use crate::{PlatformTx, StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// A webhook (its secret sealed by the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    /// Id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing secret, sealed.
    #[serde(skip)]
    pub secret_sealed: String,
    /// Created (Unix seconds).
    pub created_at: i64,
}

/// Stores a webhook.
pub async fn insert(tx: &mut TenantTx, w: &Webhook) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_webhooks (tenant_id, id, url, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(&w.id)
    .bind(&w.url)
    .bind(&w.secret_sealed)
    .bind(w.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The tenant's webhooks.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Webhook>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT id, url, secret_sealed, created_at FROM desk_webhooks WHERE tenant_id = $1 ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Webhook {
                id: r.try_get("id")?,
                url: r.try_get("url")?,
                secret_sealed: r.try_get("secret_sealed")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Deletes a webhook and its waiting deliveries; whether it existed.
pub async fn delete(tx: &mut TenantTx, id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("DELETE FROM desk_outbox WHERE tenant_id = $1 AND webhook_id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let done = sqlx::query("DELETE FROM desk_webhooks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A delivery waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The JSON body.
    pub body: String,
    /// Attempts made.
    pub attempts: i64,
}

/// Queues `body` for webhook `webhook`, due at `now`.
pub async fn enqueue(
    tx: &mut TenantTx,
    id: &str,
    webhook: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_outbox (tenant_id, id, webhook_id, body, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5)",
    )
    .bind(&tenant)
    .bind(id)
    .bind(webhook)
    .bind(body)
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO desk_outbox_tenants (tenant_id, next_at) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET next_at = CASE WHEN desk_outbox_tenants.next_at < $2 \
         THEN desk_outbox_tenants.next_at ELSE $2 END",
    )
    .bind(tenant)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deliveries due at `now`, oldest first.
pub async fn due(tx: &mut TenantTx, now: i64, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT id, webhook_id, body, attempts FROM desk_outbox WHERE tenant_id = $1 AND next_at <= $2 \
         ORDER BY next_at, id LIMIT $3",
    )
    .bind(tenant)
    .bind(now)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get("id")?,
                webhook_id: r.try_get("webhook_id")?,
                body: r.try_get("body")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Removes a delivery (sent, or given up).
pub async fn done(tx: &mut TenantTx, id: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("DELETE FROM desk_outbox WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Records a failed attempt; the next one is due at `next_at`.
pub async fn retry(
    tx: &mut TenantTx,
    id: &str,
    next_at: i64,
    error: &str,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "UPDATE desk_outbox SET attempts = attempts + 1, next_at = $3, last_error = $4 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(next_at)
    .bind(error)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Sets when the tenant's next delivery is due (or that none waits).
pub async fn settle(tx: &mut TenantTx) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(next_at) FROM desk_outbox WHERE tenant_id = $1")
            .bind(&tenant)
            .fetch_one(tx.conn())
            .await?;
    match next {
        Some(at) => {
            sqlx::query("UPDATE desk_outbox_tenants SET next_at = $2 WHERE tenant_id = $1")
                .bind(tenant)
                .bind(at)
                .execute(tx.conn())
                .await?
        }
        None => {
            sqlx::query("DELETE FROM desk_outbox_tenants WHERE tenant_id = $1")
                .bind(tenant)
                .execute(tx.conn())
                .await?
        }
    };
    Ok(())
}

/// Tenants with deliveries due at `now`.
pub async fn tenants_due(p: &mut PlatformTx, now: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT tenant_id FROM desk_outbox_tenants WHERE next_at <= $1 ORDER BY next_at",
    )
    .bind(now)
    .fetch_all(p.conn())
    .await?)
}
