//! A tenant's privacy settings: its policy for restricted data (warn, mask,
//! block) and how long support-session records and transcripts are kept
//! (none set: as long as the tenant is subscribed).

use crate::{StoreError, TenantTx, now};
use serde::Serialize;
use sqlx::Row;

/// The settings, with their defaults when none are stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrivacySettings {
    /// `warn`, `mask` or `block`.
    pub restricted_policy: String,
    /// Days support-session records and transcripts are kept after the
    /// session ends.
    pub session_retention_days: Option<i64>,
}

impl Default for PrivacySettings {
    fn default() -> PrivacySettings {
        PrivacySettings {
            restricted_policy: "warn".into(),
            session_retention_days: None,
        }
    }
}

/// The tenant's settings.
pub async fn get(tx: &mut TenantTx) -> Result<PrivacySettings, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT restricted_policy, session_retention_days FROM privacy_settings WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        None => Ok(PrivacySettings::default()),
        Some(r) => Ok(PrivacySettings {
            restricted_policy: r.try_get("restricted_policy")?,
            session_retention_days: r.try_get("session_retention_days")?,
        }),
    }
}

/// Replace the tenant's settings.
pub async fn set(tx: &mut TenantTx, settings: &PrivacySettings) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO privacy_settings (tenant_id, restricted_policy, session_retention_days, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id) DO UPDATE SET restricted_policy = excluded.restricted_policy, \
         session_retention_days = excluded.session_retention_days, updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(&settings.restricted_policy)
    .bind(settings.session_retention_days)
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok(())
}
