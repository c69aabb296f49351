//! First start: when the store has no tenant yet, create the default tenant
//! and its first administrator with a one-time password that must be changed
//! at first sign-in. The password is returned to be shown once to whoever
//! started the server; only its Argon2id hash is stored.

use crate::app::crypto;
use crate::app::principal::Role;
use fernhand_store::{Store, StoreError, audit, tenants, users};
use zeroize::Zeroizing;

/// Tenant slug of the embedded default.
pub const DEFAULT_TENANT: &str = "default";
/// E-mail of the first administrator.
pub const FIRST_ADMIN: &str = "admin@localhost";

/// The first administrator's sign-in, shown once.
pub struct FirstLogin {
    /// Tenant slug.
    pub tenant: String,
    /// E-mail.
    pub email: String,
    /// One-time password.
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for FirstLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstLogin")
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Why the first start could not set up.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness or hashing failed.
    #[error("could not make the first administrator's password")]
    Password,
}

/// Create the default tenant and first administrator if there is no tenant
/// (or finish that if an earlier first start stopped half-way). Safe when
/// several replicas start at once: the tenant slug is unique.
pub async fn first_start(store: &Store) -> Result<Option<FirstLogin>, BootstrapError> {
    let mut p = store.platform().await?;
    let tenant = match tenants::by_slug(&mut p, DEFAULT_TENANT).await? {
        Some(t) => {
            p.commit().await?;
            t
        }
        None if tenants::count(&mut p).await? > 0 => return Ok(None),
        None => match tenants::create(&mut p, DEFAULT_TENANT, "Default").await {
            Ok(t) => {
                p.commit().await?;
                t
            }
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        },
    };
    let mut tx = store.tenant(&tenant.id).await?;
    if !users::list(&mut tx).await?.is_empty() {
        return Ok(None);
    }
    let password = crypto::password().ok_or(BootstrapError::Password)?;
    let hash = crypto::hash_password(&password).ok_or(BootstrapError::Password)?;
    let admin = match users::create(
        &mut tx,
        FIRST_ADMIN,
        "Administrator",
        Role::TenantAdmin.name(),
        &hash,
        true,
    )
    .await
    {
        Ok(admin) => admin,
        // Another replica starting at the same moment made it.
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    audit::append(
        &mut tx,
        "system",
        "user.create",
        &admin.id,
        &serde_json::json!({"role": Role::TenantAdmin.name(), "first_start": true}),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(FirstLogin {
        tenant: DEFAULT_TENANT.to_owned(),
        email: FIRST_ADMIN.to_owned(),
        password,
    }))
}
