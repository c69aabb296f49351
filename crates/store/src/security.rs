//! The security log: anomalous traffic (failed sign-ins, locked accounts,
//! unknown join locators, refused tickets, rate-limit hits). A platform table:
//! some events have no tenant.

use crate::{PlatformTx, StoreError, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// One security event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecurityEntry {
    /// Id.
    pub id: String,
    /// Tenant, when known.
    pub tenant_id: Option<String>,
    /// When.
    pub at: i64,
    /// Kind (`login_failed`, `account_locked`, `unknown_locator`, …).
    pub kind: String,
    /// Remote address.
    pub peer: Option<String>,
    /// Details (JSON, no secrets).
    pub detail: String,
}

/// Record an event.
pub async fn record(
    tx: &mut PlatformTx,
    tenant_id: Option<&str>,
    kind: &str,
    peer: Option<&str>,
    detail: &serde_json::Value,
) -> Result<SecurityEntry, StoreError> {
    let entry = SecurityEntry {
        id: new_id()?,
        tenant_id: tenant_id.map(str::to_owned),
        at: now(),
        kind: kind.to_owned(),
        peer: peer.map(str::to_owned),
        detail: detail.to_string(),
    };
    sqlx::query("INSERT INTO security_log (id, tenant_id, at, kind, peer, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&entry.id)
        .bind(&entry.tenant_id)
        .bind(entry.at)
        .bind(&entry.kind)
        .bind(&entry.peer)
        .bind(&entry.detail)
        .execute(tx.conn())
        .await?;
    Ok(entry)
}

/// How many events of `kind` were stored at or after `since`.
pub async fn count(tx: &mut PlatformTx, kind: &str, since: i64) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM security_log WHERE kind = $1 AND at >= $2")
            .bind(kind)
            .bind(since)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// A tenant's events at or after `since`.
pub async fn for_tenant(
    tx: &mut PlatformTx,
    tenant_id: &str,
    since: i64,
) -> Result<Vec<SecurityEntry>, StoreError> {
    let rows = sqlx::query("SELECT id, tenant_id, at, kind, peer, detail FROM security_log WHERE tenant_id = $1 AND at >= $2 ORDER BY at, id")
        .bind(tenant_id)
        .bind(since)
        .fetch_all(tx.conn())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SecurityEntry {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenant_id")?,
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                peer: r.try_get("peer")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
