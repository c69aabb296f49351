//! The audit log: every security-relevant action, per tenant, append-only
//! (the database refuses updates and deletes: triggers on SQLite, privileges
//! on PostgreSQL).

use crate::{StoreError, TenantTx, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Id.
    pub id: String,
    /// When (Unix seconds).
    pub at: i64,
    /// Who (user id, `system`, …).
    pub actor: String,
    /// What (`login`, `mfa.enable`, `session.start`, …).
    pub action: String,
    /// On what.
    pub target: String,
    /// Details (JSON, no secrets).
    pub detail: String,
}

/// Append an entry.
pub async fn append(
    tx: &mut TenantTx,
    actor: &str,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    sqlx::query("INSERT INTO audit_log (tenant_id, id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(tenant)
        .bind(id)
        .bind(now())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail.to_string())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Entries at or after `since`, oldest first (at most `limit`).
pub async fn list(
    tx: &mut TenantTx,
    since: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE tenant_id = $1 AND at >= $2 ORDER BY at, id LIMIT $3",
    )
    .bind(tenant)
    .bind(since)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
