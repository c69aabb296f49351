//! Users of a tenant, their credentials and login state.

use crate::{StoreError, TenantTx, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Sign-in e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role name (`tenant_admin`, `expert`, `auditor`).
    pub role: String,
    /// Argon2id PHC string.
    #[serde(skip)]
    pub password_hash: String,
    /// TOTP secret (sealed by the server), when MFA is on.
    #[serde(skip)]
    pub mfa_secret: Option<String>,
    /// Hashes of unused recovery codes (JSON array).
    #[serde(skip)]
    pub recovery_codes: String,
    /// Consecutive failed sign-ins.
    #[serde(skip)]
    pub failed_logins: i64,
    /// Locked until (Unix seconds).
    #[serde(skip)]
    pub locked_until: i64,
    /// Whether the user must set a new password first.
    pub must_change_password: bool,
}

/// `SELECT` of every user column followed by the rest of the statement
/// (a literal: SQL stays static).
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, email, name, role, password_hash, mfa_secret, recovery_codes, failed_logins, locked_until, must_change_password FROM users ",
            $rest
        )
    };
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        mfa_secret: row.try_get("mfa_secret")?,
        recovery_codes: row.try_get("recovery_codes")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
    })
}

/// Create a user in the transaction's tenant.
pub async fn create(
    tx: &mut TenantTx,
    email: &str,
    name: &str,
    role: &str,
    password_hash: &str,
    must_change_password: bool,
) -> Result<User, StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO users (tenant_id, id, email, name, role, password_hash, must_change_password, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&tenant)
    .bind(&id)
    .bind(email)
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .bind(i64::from(must_change_password))
    .bind(now())
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "user e-mail"))?;
    get(tx, &id).await?.ok_or(StoreError::Corrupt("users"))
}

/// A user by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<User>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(select_users!("WHERE tenant_id = $1 AND id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A user by e-mail.
pub async fn by_email(tx: &mut TenantTx, email: &str) -> Result<Option<User>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(select_users!("WHERE tenant_id = $1 AND email = $2"))
        .bind(tenant)
        .bind(email)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every user of the tenant.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<User>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(select_users!("WHERE tenant_id = $1 ORDER BY email"))
        .bind(tenant)
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Record the outcome of a sign-in attempt: failures count up and lock the
/// account until `locked_until`; success resets both.
pub async fn set_login_state(
    tx: &mut TenantTx,
    id: &str,
    failed: i64,
    locked_until: i64,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "UPDATE users SET failed_logins = $1, locked_until = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(failed)
    .bind(locked_until)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Count one more failed sign-in, atomically (concurrent failures are all
/// counted); returns the new count.
pub async fn count_failed_login(tx: &mut TenantTx, id: &str) -> Result<i64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let count: i64 = sqlx::query_scalar(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE tenant_id = $1 AND id = $2 RETURNING failed_logins",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    Ok(count)
}

/// Lock the account until `until` (Unix seconds).
pub async fn lock_until(tx: &mut TenantTx, id: &str, until: i64) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("UPDATE users SET locked_until = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(until)
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Give a user a one-time password (an administrator's reset): they must
/// change it at their next sign-in; a lockout is lifted.
pub async fn set_one_time_password(
    tx: &mut TenantTx,
    id: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = 1, failed_logins = 0, \
         locked_until = 0 WHERE tenant_id = $2 AND id = $3",
    )
    .bind(hash)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Set a new password hash.
pub async fn set_password(tx: &mut TenantTx, id: &str, hash: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE tenant_id = $2 AND id = $3")
        .bind(hash)
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Turn MFA on (sealed secret, recovery code hashes) or off (`None`).
pub async fn set_mfa(
    tx: &mut TenantTx,
    id: &str,
    secret: Option<&str>,
    recovery_codes: &str,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "UPDATE users SET mfa_secret = $1, recovery_codes = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(secret)
    .bind(recovery_codes)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
