//! Operator tasks run from the command line (`fernhand admin …`) against the
//! store directly, while the server runs or not: create a tenant with its
//! first administrator, create a user, reset a user's MFA, issue an
//! enrolment token, issue and revoke platform-operator API tokens, back up
//! and restore the embedded database, read incoming mail into the desk. Each action on a tenant is recorded in
//! its audit log as done by `operator`.

use crate::app::crypto;
use crate::app::principal::Role;
use crate::app::principal::{ENROLMENT_PREFIX, OPERATOR_PREFIX};
use fernhand_store::operators::{self, OperatorToken};
use fernhand_store::{Store, StoreError, audit, devices, now, sessions, tenants, users};
use serde_json::json;
use std::path::Path;
use thiserror::Error;
use zeroize::Zeroizing;

/// Why an operator task failed.
#[derive(Debug, Error)]
pub enum AdminError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such tenant.
    #[error("no tenant with slug {0:?}")]
    NoTenant(String),
    /// No such user.
    #[error("no user {0:?} in that tenant")]
    NoUser(String),
    /// No such live operator token.
    #[error("no live operator token {0:?}")]
    NoToken(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(&'static str),
    /// Randomness or hashing failed.
    #[error("could not make a secret")]
    Secret,
    /// The e-mail intake or a desk import.
    #[error("{0}")]
    Mail(String),
    /// A tenant key (one that does not unwrap: a different seal key?).
    #[error("tenant key: {0}")]
    Keys(String),
    /// An export or import.
    #[error(transparent)]
    Export(#[from] crate::app::export::tenant::ExportError),
    /// A file.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

async fn tenant_id(store: &Store, slug: &str) -> Result<String, AdminError> {
    let mut p = store.platform().await?;
    let t = tenants::by_slug(&mut p, slug).await?;
    drop(p);
    t.map(|t| t.id)
        .ok_or_else(|| AdminError::NoTenant(slug.to_owned()))
}

fn valid_email(email: &str) -> Result<String, AdminError> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(AdminError::Invalid("give an e-mail address"));
    }
    Ok(email)
}

/// Create a user with a one-time password (returned, to be shown once).
pub async fn create_user(
    store: &Store,
    slug: &str,
    email: &str,
    name: &str,
    role: &str,
) -> Result<Zeroizing<String>, AdminError> {
    let role = Role::parse(role).ok_or(AdminError::Invalid(
        "role is tenant_admin, expert or auditor",
    ))?;
    let email = valid_email(email)?;
    let tenant = tenant_id(store, slug).await?;
    let password = crypto::password().ok_or(AdminError::Secret)?;
    let hash = crypto::hash_password(&password).ok_or(AdminError::Secret)?;
    let mut tx = store.tenant(&tenant).await?;
    let user = users::create(&mut tx, &email, name, role.name(), &hash, true).await?;
    audit::append(
        &mut tx,
        "operator",
        "user.create",
        &user.id,
        &json!({"role": role.name()}),
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// Create a tenant and its first administrator; returns the administrator's
/// one-time password.
pub async fn create_tenant(
    store: &Store,
    slug: &str,
    name: &str,
    admin_email: &str,
) -> Result<Zeroizing<String>, AdminError> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(AdminError::Invalid(
            "a tenant slug is 1–63 of a-z, 0-9 and -",
        ));
    }
    let email = valid_email(admin_email)?;
    let mut p = store.platform().await?;
    tenants::create(&mut p, slug, name).await?;
    p.commit().await?;
    create_user(
        store,
        slug,
        &email,
        "Administrator",
        Role::TenantAdmin.name(),
    )
    .await
}

/// Give a user a one-time password (forgotten password, or a user brought
/// in by an import): they must choose a new one at their next sign-in; their
/// sessions end. Returns the password, to hand over once.
pub async fn reset_password(
    store: &Store,
    slug: &str,
    email: &str,
) -> Result<Zeroizing<String>, AdminError> {
    let tenant = tenant_id(store, slug).await?;
    let email = valid_email(email)?;
    let password = crypto::password().ok_or(AdminError::Secret)?;
    let hash = crypto::hash_password(&password).ok_or(AdminError::Secret)?;
    let mut tx = store.tenant(&tenant).await?;
    let user = users::by_email(&mut tx, &email)
        .await?
        .ok_or(AdminError::NoUser(email))?;
    users::set_one_time_password(&mut tx, &user.id, &hash).await?;
    sessions::delete_for_user(&mut tx, &user.id).await?;
    audit::append(&mut tx, "operator", "password.reset", &user.id, &json!({})).await?;
    tx.commit().await?;
    Ok(password)
}

/// Turn off a user's MFA (lost phone and recovery codes) and end their
/// sessions; they set it up again at next sign-in if the tenant requires it.
pub async fn reset_mfa(store: &Store, slug: &str, email: &str) -> Result<(), AdminError> {
    let tenant = tenant_id(store, slug).await?;
    let email = valid_email(email)?;
    let mut tx = store.tenant(&tenant).await?;
    let user = users::by_email(&mut tx, &email)
        .await?
        .ok_or(AdminError::NoUser(email))?;
    users::set_mfa(&mut tx, &user.id, None, "[]").await?;
    sessions::delete_for_user(&mut tx, &user.id).await?;
    audit::append(&mut tx, "operator", "mfa.reset", &user.id, &json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Issue a single-use enrolment token (returned, to be shown once).
pub async fn enrolment_token(
    store: &Store,
    slug: &str,
    group: Option<&str>,
    ttl_seconds: i64,
) -> Result<Zeroizing<String>, AdminError> {
    if !(60..=30 * 24 * 3600).contains(&ttl_seconds) {
        return Err(AdminError::Invalid("the lifetime is 60 s to 30 days"));
    }
    let tenant = tenant_id(store, slug).await?;
    let secret = crypto::token().ok_or(AdminError::Secret)?;
    let mut tx = store.tenant(&tenant).await?;
    if let Some(g) = group
        && devices::get_group(&mut tx, g).await?.is_none()
    {
        return Err(AdminError::Invalid("no such device group"));
    }
    let record = devices::create_enrolment_token(
        &mut tx,
        &crypto::token_hash(&secret),
        group,
        "operator",
        now() + ttl_seconds,
    )
    .await?;
    audit::append(
        &mut tx,
        "operator",
        "enrolment_token.create",
        &record.id,
        &json!({"group": group}),
    )
    .await?;
    tx.commit().await?;
    Ok(Zeroizing::new(format!(
        "{ENROLMENT_PREFIX}{tenant}_{}",
        secret.as_str()
    )))
}

/// Issue a platform-operator API token named `name` (returned, to be shown
/// once; only its hash is stored).
pub async fn operator_token(store: &Store, name: &str) -> Result<Zeroizing<String>, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid(
            "an operator token's name is 1–100 characters",
        ));
    }
    let secret = crypto::token().ok_or(AdminError::Secret)?;
    let mut p = store.platform().await?;
    operators::create(&mut p, name, &crypto::token_hash(&secret)).await?;
    p.commit().await?;
    Ok(Zeroizing::new(format!(
        "{OPERATOR_PREFIX}{}",
        secret.as_str()
    )))
}

/// Every operator token (without secrets).
pub async fn operator_tokens(store: &Store) -> Result<Vec<OperatorToken>, AdminError> {
    let mut p = store.platform().await?;
    Ok(operators::list(&mut p).await?)
}

/// Revoke an operator token by id.
pub async fn revoke_operator_token(store: &Store, id: &str) -> Result<(), AdminError> {
    let mut p = store.platform().await?;
    if !operators::revoke(&mut p, id).await? {
        return Err(AdminError::NoToken(id.to_owned()));
    }
    p.commit().await?;
    Ok(())
}

/// Put a backup in place of the embedded database in `data` (the server
/// must be stopped): the backup is checked first, copied beside the
/// database, synced and renamed over it, so a failure leaves the old one.
pub async fn restore(data: &Path, from: &Path) -> Result<(), AdminError> {
    Store::verify_sqlite_file(from).await?;
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| AdminError::Io { path, source }
    };
    let target = data.join("store.db");
    let staging = data.join("store.db.restoring");
    std::fs::copy(from, &staging).map_err(io(&staging))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(io(&staging))?;
    for stale in ["store.db-wal", "store.db-shm"] {
        let p = data.join(stale);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    std::fs::rename(&staging, &target).map_err(io(&target))?;
    Ok(())
}

/// Where the e-mail intake reads from.
pub enum MailSource<'a> {
    /// A Maildir (its `new/` messages move to `cur/`).
    Maildir(&'a Path),
    /// An mbox file (left as it is).
    Mbox(&'a Path),
}

/// Reads incoming mail into a tenant's desk (see `app::desk::mail`).
/// Attachments are sealed with the server's seal key from `data/keys`, so
/// the server must have started there once.
pub async fn mail_intake(
    store: &Store,
    data: &Path,
    slug: &str,
    source: MailSource<'_>,
) -> Result<crate::app::desk::mailbox::Report, AdminError> {
    use crate::app::desk::mailbox::{self, Mailbox, Maildir, Mbox};
    let tenant = tenant_id(store, slug).await?;
    let sealer = seal_key(data)?;
    let opened: Result<Box<dyn Mailbox>, _> = match source {
        MailSource::Maildir(dir) => Maildir::open(dir).map(|m| Box::new(m) as Box<dyn Mailbox>),
        MailSource::Mbox(file) => Mbox::open(file).map(|m| Box::new(m) as Box<dyn Mailbox>),
    };
    let mut mailbox = opened.map_err(|e| AdminError::Mail(e.to_string()))?;
    mailbox::read(store, &sealer, &tenant, mailbox.as_mut(), now())
        .await
        .map_err(|e| AdminError::Mail(e.to_string()))
}

/// The server's seal key from `data/keys` (the server must have started
/// there once).
fn seal_key(data: &Path) -> Result<crypto::Sealer, AdminError> {
    let key_path = data.join("keys").join("seal.key");
    let bytes = Zeroizing::new(std::fs::read(&key_path).map_err(|source| AdminError::Io {
        path: key_path.display().to_string(),
        source,
    })?);
    let key: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| AdminError::Invalid("the seal key is damaged"))?,
    );
    Ok(crypto::Sealer::from_key(key))
}

/// Rotates a tenant's data key: a new version seals from now on; older
/// versions keep opening what they sealed. Returns the new version.
pub async fn rotate_tenant_key(store: &Store, data: &Path, slug: &str) -> Result<i64, AdminError> {
    let tenant = tenant_id(store, slug).await?;
    let sealer = seal_key(data)?;
    let mut tx = store.tenant(&tenant).await?;
    let version = crate::app::tenant_keys::rotate(&mut tx, &sealer)
        .await
        .map_err(|e| AdminError::Keys(e.detail))?;
    audit::append(
        &mut tx,
        "operator",
        "tenant_key.rotate",
        &tenant,
        &serde_json::json!({"version": version}),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Brings a GLPI or iTop CSV export into a tenant's desk (see
/// `app::desk::import`): all of it or, on a store error, nothing.
pub async fn desk_import(
    store: &Store,
    slug: &str,
    source: &str,
    file: &Path,
) -> Result<crate::app::desk::import::Report, AdminError> {
    use crate::app::desk::import::{self, Source};
    let source = Source::parse(source).ok_or(AdminError::Invalid("--from is glpi or itop"))?;
    let tenant = tenant_id(store, slug).await?;
    let bytes = std::fs::read(file).map_err(|source| AdminError::Io {
        path: file.display().to_string(),
        source,
    })?;
    let mut tx = store.tenant(&tenant).await?;
    let report = import::run(&mut tx, source, &bytes, now())
        .await
        .map_err(|p| AdminError::Mail(p.detail))?;
    tx.commit().await?;
    Ok(report)
}

/// Writes tenant `slug`'s export archive to `out`, through a part file
/// renamed only when the archive is whole (no partial archive is ever left
/// under the name); `progress` hears each table as it is done.
pub async fn export_tenant(
    store: &Store,
    data: &Path,
    slug: &str,
    out: &Path,
    progress: impl FnMut(&str, u64),
) -> Result<crate::app::export::tenant::Summary, AdminError> {
    if out.exists() {
        return Err(AdminError::Invalid(
            "the output file exists; choose a new name",
        ));
    }
    let tenant = tenant_id(store, slug).await?;
    let sealer = seal_key(data)?;
    let io = |source| AdminError::Io {
        path: out.display().to_string(),
        source,
    };
    let part = out.with_extension("part");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)
        .map_err(io)?;
    let written = crate::app::export::tenant::export(
        store,
        &sealer,
        &tenant,
        std::io::BufWriter::new(file),
        progress,
    )
    .await;
    let (writer, summary) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e.into());
        }
    };
    let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    if out.exists() {
        let _ = std::fs::remove_file(&part);
        return Err(AdminError::Invalid(
            "the output file exists; choose a new name",
        ));
    }
    std::fs::rename(&part, out).map_err(io)?;
    Ok(summary)
}

/// Imports an export archive into this instance (see
/// `app::export::tenant::import`).
pub async fn import_tenant(
    store: &Store,
    data: &Path,
    archive: &Path,
) -> Result<(tenants::Tenant, crate::app::export::tenant::Summary), AdminError> {
    let sealer = seal_key(data)?;
    Ok(crate::app::export::tenant::import(store, &sealer, archive).await?)
}
