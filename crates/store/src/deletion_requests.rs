//! Deletion requests (a platform table: a request outlives the tenant it
//! erases, and its signed certificate is the proof). Rows hold opaque ids,
//! record numbers, counts and times, never content.

use crate::{PlatformTx, StoreError};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// A request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeletionRequest {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// `tenant` (everything) or `records`.
    pub scope: String,
    /// For `records`: what to delete (`INC-12`, `session:<id>`).
    pub targets: Vec<String>,
    /// The rule: `request` (an admin asked), `subscription_end`.
    pub rule: String,
    /// The user who asked (none for a rule).
    pub requested_by: Option<String>,
    /// When (Unix seconds).
    pub requested_at: i64,
    /// Not before this time (a legal hold), if set.
    pub hold_until: Option<i64>,
    /// `pending`, `running`, `done`.
    pub state: String,
    /// Work done so far: rows deleted by table, targets finished.
    pub progress: Progress,
    /// When it finished.
    pub done_at: Option<i64>,
    /// The signed certificate (JSON), once done.
    #[serde(skip)]
    pub certificate: Option<String>,
}

/// What a request has done so far; saved with each batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Progress {
    /// Rows deleted, by table.
    pub deleted: BTreeMap<String, u64>,
    /// Targets finished (records scope), and tables finished (tenant scope).
    pub finished: Vec<String>,
    /// Targets that named nothing that exists.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// A SELECT of every column but the receipt hash, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, scope, targets, rule, requested_by, requested_at, hold_until, \
             state, progress, done_at, certificate, receipt_hash FROM deletion_requests ",
            $rest
        )
    };
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<DeletionRequest, StoreError> {
    let targets: String = r.try_get("targets")?;
    let progress: String = r.try_get("progress")?;
    Ok(DeletionRequest {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        scope: r.try_get("scope")?,
        targets: serde_json::from_str(&targets)
            .map_err(|_| StoreError::Corrupt("deletion_requests.targets"))?,
        rule: r.try_get("rule")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        hold_until: r.try_get("hold_until")?,
        state: r.try_get("state")?,
        progress: serde_json::from_str(&progress)
            .map_err(|_| StoreError::Corrupt("deletion_requests.progress"))?,
        done_at: r.try_get("done_at")?,
        certificate: r.try_get("certificate")?,
    })
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Record a new request (state `pending`). `receipt_hash` is the SHA-256
/// (hex) of the receipt that fetches the certificate without signing in.
pub async fn insert(
    conn: &mut AnyConnection,
    r: &DeletionRequest,
    receipt_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deletion_requests (id, tenant_id, scope, targets, rule, requested_by, requested_at, \
         hold_until, state, progress, done_at, certificate, receipt_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11)",
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.scope)
    .bind(json(&r.targets))
    .bind(&r.rule)
    .bind(&r.requested_by)
    .bind(r.requested_at)
    .bind(r.hold_until)
    .bind(&r.state)
    .bind(json(&r.progress))
    .bind(receipt_hash)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on(e, "deletion request under this rule"))?;
    Ok(())
}

/// Requests not done whose hold (if any) has passed by `now`, oldest first.
pub async fn due(p: &mut PlatformTx, now: i64) -> Result<Vec<DeletionRequest>, StoreError> {
    let rows = sqlx::query(select!(
        "WHERE state <> 'done' AND (hold_until IS NULL OR hold_until <= $1) ORDER BY requested_at, id"
    )).bind(now).fetch_all(p.conn()).await?;
    rows.iter().map(from_row).collect()
}

/// A tenant's requests, newest first.
pub async fn for_tenant(
    conn: &mut AnyConnection,
    tenant: &str,
) -> Result<Vec<DeletionRequest>, StoreError> {
    let rows = sqlx::query(select!(
        "WHERE tenant_id = $1 ORDER BY requested_at DESC, id"
    ))
    .bind(tenant)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One request and its receipt hash.
pub async fn get(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(DeletionRequest, String)>, StoreError> {
    let row = sqlx::query(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("receipt_hash")?))),
    }
}

/// Whether the tenant has a request under `rule` (any state).
pub async fn exists(
    conn: &mut AnyConnection,
    tenant: &str,
    rule: &str,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deletion_requests WHERE tenant_id = $1 AND rule = $2",
    )
    .bind(tenant)
    .bind(rule)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Read the request's progress and hold its row until the transaction
/// ends, so two runners of the job take turns batch by batch and the
/// counts stay exact. `None` if the request is already done.
pub async fn lock_progress(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    id: &str,
) -> Result<Option<Progress>, StoreError> {
    let sql = match backend {
        crate::Backend::Postgres => {
            "SELECT state, progress FROM deletion_requests WHERE id = $1 FOR UPDATE"
        }
        crate::Backend::Sqlite => "SELECT state, progress FROM deletion_requests WHERE id = $1",
    };
    let row = sqlx::query(sql).bind(id).fetch_optional(conn).await?;
    let Some(row) = row else { return Ok(None) };
    let state: String = row.try_get("state")?;
    if state == "done" {
        return Ok(None);
    }
    let progress: String = row.try_get("progress")?;
    Ok(Some(serde_json::from_str(&progress).map_err(|_| {
        StoreError::Corrupt("deletion_requests.progress")
    })?))
}

/// Save the state and progress (in the caller's transaction, with the
/// work it describes).
pub async fn save_progress(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    progress: &Progress,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE deletion_requests SET state = $2, progress = $3 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(json(progress))
        .execute(conn)
        .await?;
    Ok(())
}

/// Mark it done with its signed certificate.
pub async fn finish(
    conn: &mut AnyConnection,
    id: &str,
    done_at: i64,
    certificate: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deletion_requests SET state = 'done', done_at = $2, certificate = $3 \
         WHERE id = $1 AND state <> 'done'",
    )
    .bind(id)
    .bind(done_at)
    .bind(certificate)
    .execute(conn)
    .await?;
    Ok(())
}

/// Start a retention run's log line; returns its id.
pub async fn run_started(p: &mut PlatformTx, id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO retention_runs (id, started_at, finished_at, detail) VALUES ($1, $2, NULL, '{}')")
        .bind(id)
        .bind(at)
        .execute(p.conn())
        .await?;
    Ok(())
}

/// Finish a retention run's log line with what it did (counts only).
pub async fn run_finished(
    p: &mut PlatformTx,
    id: &str,
    at: i64,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE retention_runs SET finished_at = $2, detail = $3 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(detail.to_string())
        .execute(p.conn())
        .await?;
    Ok(())
}

/// The latest retention runs: (started, finished, detail).
pub async fn runs(
    p: &mut PlatformTx,
    limit: i64,
) -> Result<Vec<(i64, Option<i64>, serde_json::Value)>, StoreError> {
    let rows = sqlx::query(
        "SELECT started_at, finished_at, detail FROM retention_runs ORDER BY started_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(p.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok((
                r.try_get("started_at")?,
                r.try_get("finished_at")?,
                serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            ))
        })
        .collect()
}
