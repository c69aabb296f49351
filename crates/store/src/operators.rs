//! The platform operator's API tokens (a platform table). The operator runs
//! the service: creates tenants and sets their subscription dates, and
//! nothing else through the API — no tenant content is reachable with an
//! operator token. Only the SHA-256 of each token is stored.

use crate::{PlatformTx, StoreError, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// An operator token (without its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OperatorToken {
    /// Id.
    pub id: String,
    /// Who or what holds it.
    pub name: String,
    /// When it was made.
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<OperatorToken, StoreError> {
    Ok(OperatorToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Store a new token under the hash of its secret.
pub async fn create(
    tx: &mut PlatformTx,
    name: &str,
    token_hash: &str,
) -> Result<OperatorToken, StoreError> {
    let token = OperatorToken {
        id: new_id()?,
        name: name.to_owned(),
        created_at: now(),
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO operator_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&token.id)
    .bind(&token.name)
    .bind(token_hash)
    .bind(token.created_at)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "operator token"))?;
    Ok(token)
}

/// The live (unrevoked) token whose secret hashes to `token_hash`.
pub async fn by_hash(
    tx: &mut PlatformTx,
    token_hash: &str,
) -> Result<Option<OperatorToken>, StoreError> {
    let row = sqlx::query("SELECT id, name, created_at, revoked_at FROM operator_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every token, oldest first.
pub async fn list(tx: &mut PlatformTx) -> Result<Vec<OperatorToken>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, revoked_at FROM operator_tokens ORDER BY created_at, id",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Revoke a token; false if there is no such live token.
pub async fn revoke(tx: &mut PlatformTx, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE operator_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
