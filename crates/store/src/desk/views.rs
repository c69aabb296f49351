//! Saved views: a user's named filters of the record list (the list page's
//! query string), shown as links above it.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::Row;

/// A saved view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct View {
    /// Id.
    pub id: String,
    /// Its owner.
    pub user_id: String,
    /// Its name, unique per user.
    pub name: String,
    /// The list's query string (`kind=incident&category=new`).
    pub query: String,
    /// When saved (Unix seconds).
    pub created_at: i64,
}

/// Saves a view; `false` if the user has one of that name.
pub async fn insert(tx: &mut TenantTx, v: &View) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "INSERT INTO desk_views (tenant_id, id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, user_id, name) DO NOTHING",
    )
    .bind(tenant)
    .bind(&v.id)
    .bind(&v.user_id)
    .bind(&v.name)
    .bind(&v.query)
    .bind(v.created_at)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A user's views, by name.
pub async fn of_user(tx: &mut TenantTx, user: &str) -> Result<Vec<View>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT id, user_id, name, query, created_at FROM desk_views WHERE tenant_id = $1 AND user_id = $2 ORDER BY name",
    )
    .bind(tenant)
    .bind(user)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(View {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                query: r.try_get("query")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Deletes a user's view; whether it was theirs.
pub async fn delete(tx: &mut TenantTx, user: &str, id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done =
        sqlx::query("DELETE FROM desk_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
            .bind(tenant)
            .bind(user)
            .bind(id)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() > 0)
}
