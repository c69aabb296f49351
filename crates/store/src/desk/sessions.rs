//! Remote support sessions started from desk records, and the session
//! records attached to them when the sessions end.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// A session of a record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordSession {
    /// The record.
    pub record_id: String,
    /// The support session.
    pub session_id: String,
    /// Who started it.
    pub started_by: String,
    /// When (Unix seconds).
    pub started_at: i64,
    /// The session record, once attached (JSON).
    pub summary: Option<serde_json::Value>,
    /// When it was attached.
    pub attached_at: Option<i64>,
}

/// Links a new session to a record.
pub async fn link(
    tx: &mut TenantTx,
    record_id: &str,
    session_id: &str,
    by: &str,
    at: i64,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_record_sessions (tenant_id, record_id, session_id, started_by, started_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(session_id)
    .bind(by)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Attaches a session's record to every record it was started from that
/// has none yet; returns those records' ids.
pub async fn attach(
    tx: &mut TenantTx,
    session_id: &str,
    summary: &serde_json::Value,
    at: i64,
) -> Result<Vec<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT record_id FROM desk_record_sessions WHERE tenant_id = $1 AND session_id = $2 AND summary IS NULL",
    )
    .bind(&tenant)
    .bind(session_id)
    .fetch_all(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE desk_record_sessions SET summary = $1, attached_at = $2 WHERE tenant_id = $3 AND session_id = $4 AND summary IS NULL",
    )
    .bind(summary.to_string())
    .bind(at)
    .bind(tenant)
    .bind(session_id)
    .execute(tx.conn())
    .await?;
    Ok(ids)
}

/// Whether a session was started from any record.
pub async fn is_linked(tx: &mut TenantTx, session_id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM desk_record_sessions WHERE tenant_id = $1 AND session_id = $2",
    )
    .bind(tenant)
    .bind(session_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(n > 0)
}

/// A record's sessions, oldest first.
pub async fn of_record(
    tx: &mut TenantTx,
    record_id: &str,
) -> Result<Vec<RecordSession>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT record_id, session_id, started_by, started_at, summary, attached_at FROM desk_record_sessions \
         WHERE tenant_id = $1 AND record_id = $2 ORDER BY started_at, session_id",
    )
    .bind(tenant)
    .bind(record_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let summary: Option<String> = r.try_get("summary")?;
            let summary = summary
                .map(|s| {
                    serde_json::from_str(&s)
                        .map_err(|_| StoreError::Corrupt("desk_record_sessions.summary"))
                })
                .transpose()?;
            Ok(RecordSession {
                record_id: r.try_get("record_id")?,
                session_id: r.try_get("session_id")?,
                started_by: r.try_get("started_by")?,
                started_at: r.try_get("started_at")?,
                summary,
                attached_at: r.try_get("attached_at")?,
            })
        })
        .collect()
}
