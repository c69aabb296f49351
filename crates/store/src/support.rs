//! Attended support sessions: who, when, duration, members, outcome, which
//! features were used — never content.

use crate::{StoreError, TenantTx, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// A support session's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SupportSession {
    /// Id (also the relay session id).
    pub id: String,
    /// The expert who leads it.
    pub expert_id: String,
    /// Public half of the join code.
    pub code_locator: String,
    /// Public half of the join link.
    pub link_locator: String,
    /// `open` or `ended`.
    pub state: String,
    /// Started (Unix seconds).
    pub created_at: i64,
    /// Ended (Unix seconds).
    pub ended_at: Option<i64>,
    /// How it ended.
    pub outcome: Option<String>,
    /// Features used (JSON array of names).
    pub features: String,
    /// Members (JSON array).
    pub members: String,
    /// `remote` (screen, files, diagnostics) or `camera` (camera share).
    pub kind: String,
}

/// A remote support session (screen, input, files, diagnostics).
pub const REMOTE: &str = "remote";
/// A camera share (a phone's camera to an expert's browser).
pub const CAMERA: &str = "camera";

/// `SELECT` of every column followed by the rest of the statement.
macro_rules! select_sessions {
    ($rest:literal) => {
        concat!(
            "SELECT id, expert_id, code_locator, link_locator, state, created_at, ended_at, outcome, features, members, kind FROM support_sessions ",
            $rest
        )
    };
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<SupportSession, StoreError> {
    Ok(SupportSession {
        id: r.try_get("id")?,
        expert_id: r.try_get("expert_id")?,
        code_locator: r.try_get("code_locator")?,
        link_locator: r.try_get("link_locator")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        ended_at: r.try_get("ended_at")?,
        outcome: r.try_get("outcome")?,
        features: r.try_get("features")?,
        members: r.try_get("members")?,
        kind: r.try_get("kind")?,
    })
}

/// Open a session record.
pub async fn create(
    tx: &mut TenantTx,
    expert_id: &str,
    code_locator: &str,
    link_locator: &str,
) -> Result<SupportSession, StoreError> {
    let id = new_id()?;
    create_with_id(tx, &id, expert_id, code_locator, link_locator, REMOTE).await
}

/// Open a session record under an id chosen by the caller (the control plane
/// reserves the join locators for that id first).
pub async fn create_with_id(
    tx: &mut TenantTx,
    id: &str,
    expert_id: &str,
    code_locator: &str,
    link_locator: &str,
    kind: &str,
) -> Result<SupportSession, StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO support_sessions (tenant_id, id, expert_id, code_locator, link_locator, state, created_at, kind) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
    )
    .bind(tenant)
    .bind(id)
    .bind(expert_id)
    .bind(code_locator)
    .bind(link_locator)
    .bind(now())
    .bind(kind)
    .execute(tx.conn())
    .await?;
    get(tx, id)
        .await?
        .ok_or(StoreError::Corrupt("support_sessions"))
}

/// A session by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<SupportSession>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(select_sessions!("WHERE tenant_id = $1 AND id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sessions of the tenant, newest first (at most `limit`).
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<SupportSession>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(select_sessions!(
        "WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    ))
    .bind(tenant)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// End a session with an outcome; returns whether it was open.
pub async fn end(tx: &mut TenantTx, id: &str, outcome: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE support_sessions SET state = 'ended', ended_at = $1, outcome = $2 WHERE tenant_id = $3 AND id = $4 AND state = 'open'",
    )
    .bind(now())
    .bind(outcome)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Give the next member id of an open session to a joiner (the leader is 1;
/// joiners get 2, 3, …) and record it with its role. Returns `None` if the
/// session is not open. Safe against concurrent joins (compare-and-set).
pub async fn add_member(
    tx: &mut TenantTx,
    id: &str,
    role: &str,
) -> Result<Option<u32>, StoreError> {
    let tenant = tx.tenant().to_owned();
    for _ in 0..8 {
        let Some(session) = get(tx, id).await? else {
            return Ok(None);
        };
        if session.state != "open" {
            return Ok(None);
        }
        let mut members: Vec<serde_json::Value> = serde_json::from_str(&session.members)
            .map_err(|_| StoreError::Corrupt("support_sessions.members"))?;
        let member = u32::try_from(members.len())
            .unwrap_or(u32::MAX)
            .saturating_add(2);
        members.push(serde_json::json!({"id": member, "role": role, "joined_at": now()}));
        let updated = serde_json::to_string(&members)
            .map_err(|_| StoreError::Corrupt("support_sessions.members"))?;
        let done = sqlx::query("UPDATE support_sessions SET members = $1 WHERE tenant_id = $2 AND id = $3 AND members = $4")
            .bind(&updated)
            .bind(&tenant)
            .bind(id)
            .bind(&session.members)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 1 {
            return Ok(Some(member));
        }
    }
    Err(StoreError::Conflict(
        "session membership (too many concurrent joins)",
    ))
}
