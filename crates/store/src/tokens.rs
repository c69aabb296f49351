//! API tokens for scripts: scoped, revocable, stored as SHA-256 only.

use crate::{StoreError, TenantTx, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// An API token's record (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Label.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Revoked at, if revoked.
    pub revoked_at: Option<i64>,
}

/// Store a token by its hash.
pub async fn create(
    tx: &mut TenantTx,
    user_id: &str,
    name: &str,
    scopes: &str,
    token_hash: &str,
) -> Result<ApiToken, StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, scopes, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(user_id)
    .bind(name)
    .bind(scopes)
    .bind(token_hash)
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok(ApiToken {
        id,
        user_id: user_id.to_owned(),
        name: name.to_owned(),
        scopes: scopes.to_owned(),
        revoked_at: None,
    })
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        scopes: r.try_get("scopes")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// A live (unrevoked) token by hash.
pub async fn by_hash(tx: &mut TenantTx, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT id, user_id, name, scopes, revoked_at FROM api_tokens WHERE tenant_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A user's tokens.
pub async fn list(tx: &mut TenantTx, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query("SELECT id, user_id, name, scopes, revoked_at FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY name")
        .bind(tenant)
        .bind(user_id)
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revoke a token of `user_id`; returns whether one was revoked.
pub async fn revoke(tx: &mut TenantTx, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND id = $4 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(tenant)
    .bind(user_id)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
