//! Tenants (customer accounts of the service): a platform table.

use crate::{PlatformTx, StoreError, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: String,
    /// Short name used at sign-in.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether every user must use MFA.
    pub require_mfa: bool,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When its subscription ends (Unix seconds), if it is set to.
    pub subscription_ends_at: Option<i64>,
}

/// A SELECT of every tenant column, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, slug, name, require_mfa, created_at, subscription_ends_at FROM tenants ",
            $rest
        )
    };
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        require_mfa: row.try_get::<i64, _>("require_mfa")? != 0,
        created_at: row.try_get("created_at")?,
        subscription_ends_at: row.try_get("subscription_ends_at")?,
    })
}

/// Create a tenant.
pub async fn create(tx: &mut PlatformTx, slug: &str, name: &str) -> Result<Tenant, StoreError> {
    let id = new_id()?;
    let created_at = now();
    sqlx::query(
        "INSERT INTO tenants (id, slug, name, require_mfa, created_at) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(&id)
    .bind(slug)
    .bind(name)
    .bind(created_at)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "tenant slug"))?;
    Ok(Tenant {
        id,
        slug: slug.to_owned(),
        name: name.to_owned(),
        require_mfa: false,
        created_at,
        subscription_ends_at: None,
    })
}

/// The tenant with this slug.
pub async fn by_slug(tx: &mut PlatformTx, slug: &str) -> Result<Option<Tenant>, StoreError> {
    let row = sqlx::query(select!("WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The tenant with this id.
pub async fn get(tx: &mut PlatformTx, id: &str) -> Result<Option<Tenant>, StoreError> {
    let row = sqlx::query(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Require (or stop requiring) MFA for every user of a tenant.
pub async fn set_require_mfa(
    tx: &mut PlatformTx,
    id: &str,
    require: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET require_mfa = $1 WHERE id = $2")
        .bind(i64::from(require))
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// How many tenants exist (first start detection).
pub async fn count(tx: &mut PlatformTx) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM tenants")
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?)
}

/// Every tenant's id (for per-tenant housekeeping).
pub async fn ids(tx: &mut PlatformTx) -> Result<Vec<String>, StoreError> {
    sqlx::query("SELECT id FROM tenants ORDER BY id")
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("id").map_err(StoreError::from))
        .collect()
}

/// Every tenant, by slug.
pub async fn list(tx: &mut PlatformTx) -> Result<Vec<Tenant>, StoreError> {
    let rows = sqlx::query(select!("ORDER BY slug"))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Set (or clear) when a tenant's subscription ends; false if there is no
/// such tenant.
pub async fn set_subscription_end(
    tx: &mut PlatformTx,
    id: &str,
    ends_at: Option<i64>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tenants SET subscription_ends_at = $1 WHERE id = $2")
        .bind(ends_at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ids of the tenants whose subscription ended before `before`.
pub async fn subscriptions_ended_before(
    tx: &mut PlatformTx,
    before: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM tenants WHERE subscription_ends_at IS NOT NULL \
         AND subscription_ends_at < $1 ORDER BY id",
    )
    .bind(before)
    .fetch_all(tx.conn())
    .await?)
}

/// Insert a tenant as it is (an import keeps its id and dates).
pub async fn insert(conn: &mut sqlx::AnyConnection, t: &Tenant) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tenants (id, slug, name, require_mfa, created_at, subscription_ends_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.id)
    .bind(&t.slug)
    .bind(&t.name)
    .bind(i64::from(t.require_mfa))
    .bind(t.created_at)
    .bind(t.subscription_ends_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::conflict_on(e, "tenant id or slug"))?;
    Ok(())
}
