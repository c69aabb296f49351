//! Join locators: the public half of join codes and links, mapped to their
//! session's tenant (a platform table; customers joining do not know the
//! tenant). The secret half is never stored.

use crate::{PlatformTx, StoreError, now};
use sqlx::Row;

/// Where a locator leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The tenant.
    pub tenant_id: String,
    /// The support session.
    pub session_id: String,
}

/// Reserve `locator` for a session until `expires_at`. A locator in use by a
/// live session is refused ([`StoreError::Conflict`]); an expired one is reused.
pub async fn reserve(
    tx: &mut PlatformTx,
    locator: &str,
    tenant_id: &str,
    session_id: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM join_locators WHERE locator = $1 AND expires_at <= $2")
        .bind(locator)
        .bind(now())
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO join_locators (locator, tenant_id, session_id, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(locator)
        .bind(tenant_id)
        .bind(session_id)
        .bind(expires_at)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "join locator"))?;
    Ok(())
}

/// The live session a locator names.
pub async fn find(tx: &mut PlatformTx, locator: &str) -> Result<Option<Located>, StoreError> {
    let row = sqlx::query(
        "SELECT tenant_id, session_id FROM join_locators WHERE locator = $1 AND expires_at > $2",
    )
    .bind(locator)
    .bind(now())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(Located {
            tenant_id: r.try_get("tenant_id")?,
            session_id: r.try_get("session_id")?,
        })
    })
    .transpose()
}

/// Forget a session's locators (it ended).
pub async fn release(tx: &mut PlatformTx, session_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM join_locators WHERE session_id = $1")
        .bind(session_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
