//! Sign-in sessions (browser cookies). Only hashes of the session token and
//! its CSRF token are stored.

use crate::{StoreError, TenantTx, now};
use sqlx::Row;

/// A sign-in session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSession {
    /// SHA-256 of the cookie token (hex): the id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// SHA-256 of the CSRF token (hex).
    pub csrf_hash: String,
    /// Whether the second factor was given.
    pub mfa_done: bool,
    /// Ends at (Unix seconds).
    pub expires_at: i64,
}

/// Store a new session.
pub async fn create(tx: &mut TenantTx, s: &AuthSession) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO auth_sessions (tenant_id, id, user_id, csrf_hash, mfa_done, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(&s.id)
    .bind(&s.user_id)
    .bind(&s.csrf_hash)
    .bind(i64::from(s.mfa_done))
    .bind(now())
    .bind(s.expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A live session by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<AuthSession>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT id, user_id, csrf_hash, mfa_done, expires_at FROM auth_sessions \
         WHERE tenant_id = $1 AND id = $2 AND expires_at > $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(now())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(AuthSession {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            csrf_hash: r.try_get("csrf_hash")?,
            mfa_done: r.try_get::<i64, _>("mfa_done")? != 0,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Mark the second factor as given.
pub async fn set_mfa_done(tx: &mut TenantTx, id: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("UPDATE auth_sessions SET mfa_done = 1 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// End a session.
pub async fn delete(tx: &mut TenantTx, id: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("DELETE FROM auth_sessions WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// End every session of a user (password or MFA reset).
pub async fn delete_for_user(tx: &mut TenantTx, user_id: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("DELETE FROM auth_sessions WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Delete the tenant's expired browser sessions; returns how many.
pub async fn delete_expired(tx: &mut TenantTx) -> Result<u64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query("DELETE FROM auth_sessions WHERE tenant_id = $1 AND expires_at <= $2")
        .bind(tenant)
        .bind(now())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}
