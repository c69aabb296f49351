//! Per-tenant data keys (the middle of the key hierarchy in
//! `docs/security.md`): each tenant has random AES-256 keys, one per
//! version, stored only wrapped — sealed with AES-256-GCM under the
//! server's seal key, bound to tenant and version. The newest version
//! seals new data; every version still opens what it sealed, so a
//! rotation (a new version) never makes old data unreadable.

use crate::app::crypto::Sealer;
use crate::app::problem::Problem;
use fernhand_store::{TenantTx, tenant_keys};
use zeroize::Zeroizing;

/// One version of a tenant's data key, unwrapped (zeroised on drop).
pub struct TenantKey {
    /// Version.
    pub version: i64,
    sealer: Sealer,
}

impl TenantKey {
    /// Seals `plaintext` bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Option<String> {
        self.sealer.seal(plaintext, context)
    }

    /// Opens what [`TenantKey::seal`] sealed with the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.sealer.open(sealed, context)
    }
}

fn wrap_context(tenant: &str, version: i64) -> Vec<u8> {
    format!("tenant-key:{tenant}:{version}").into_bytes()
}

fn unwrap(
    tenant: &str,
    sealer: &Sealer,
    w: &tenant_keys::WrappedKey,
) -> Result<TenantKey, Problem> {
    let raw = sealer
        .open(&w.wrapped, &wrap_context(tenant, w.version))
        .ok_or_else(|| {
            tracing::error!(tenant = %tenant, version = w.version, "a tenant key does not unwrap (seal key changed?)");
            Problem::internal()
        })?;
    let key: Zeroizing<[u8; 32]> =
        Zeroizing::new(raw.as_slice().try_into().map_err(|_| Problem::internal())?);
    Ok(TenantKey {
        version: w.version,
        sealer: Sealer::from_key(key),
    })
}

/// Adds `version` with a fresh random key (or, if another writer added it
/// first, takes theirs).
async fn add(tx: &mut TenantTx, sealer: &Sealer, version: i64) -> Result<TenantKey, Problem> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut_slice()).map_err(|_| Problem::internal())?;
    let tenant = tx.tenant().to_owned();
    let wrapped = sealer
        .seal(key.as_slice(), &wrap_context(&tenant, version))
        .ok_or_else(Problem::internal)?;
    tenant_keys::add(tx, version, &wrapped).await?;
    let stored = tenant_keys::get(tx, version)
        .await?
        .ok_or_else(Problem::internal)?;
    unwrap(&tenant, sealer, &stored)
}

/// The key new data is sealed under: the newest version (the first is
/// made on first use).
pub async fn current(tx: &mut TenantTx, sealer: &Sealer) -> Result<TenantKey, Problem> {
    match tenant_keys::newest(tx).await? {
        Some(w) => unwrap(tx.tenant(), sealer, &w),
        None => add(tx, sealer, 1).await,
    }
}

/// One version, to open what it sealed.
pub async fn version(
    tx: &mut TenantTx,
    sealer: &Sealer,
    version: i64,
) -> Result<TenantKey, Problem> {
    let w = tenant_keys::get(tx, version)
        .await?
        .ok_or_else(Problem::internal)?;
    unwrap(tx.tenant(), sealer, &w)
}

/// Rotates: a new newest version; returns it.
pub async fn rotate(tx: &mut TenantTx, sealer: &Sealer) -> Result<i64, Problem> {
    let next = tenant_keys::newest(tx).await?.map_or(1, |w| w.version + 1);
    Ok(add(tx, sealer, next).await?.version)
}
