//! A tenant into an archive and back.
//!
//! Export writes `tenant.json`, one `tables/<table>.jsonl` per table of
//! `fernhand_store::export::TABLES` (one JSON object per row), each desk
//! attachment as `files/attachments/<id>` and each camera-share item as
//! `files/camera/<id>` (opened from their seals: the archive is the
//! tenant's own copy), then the manifest. Credentials of this instance are
//! left out (password hashes, MFA secrets, device verifiers, webhook
//! secrets, tokens, sign-in sessions), and the manifest says which.
//!
//! Import refuses an archive that does not match its manifest, or a tenant
//! whose id or slug this instance already has, and then writes everything
//! in one transaction. What was left out is made anew: users must set a
//! password (an administrator resets it; MFA is set up again), devices
//! enrol again, webhooks get a new secret (shown to no one: set it again),
//! files are sealed under this instance's keys.

use super::archive::{self, ArchiveError, ArchiveWriter};
use crate::app::crypto::Sealer;
use crate::app::problem::Problem;
use crate::app::{camera, tenant_keys};
use fernhand_store::export::{TABLES, Table};
use fernhand_store::{Store, StoreError, TenantTx, audit, new_id, now, tenants};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What a stored user gets instead of a password hash on import: no
/// password matches it, so the user cannot sign in until an
/// administrator sets a new password.
pub const NO_PASSWORD: &str = "!imported: set a new password";

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// Writing or reading files.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// No such tenant.
    #[error("no tenant {0:?}")]
    NoTenant(String),
    /// The tenant (its id or slug) is already here.
    #[error(
        "this instance already has tenant {0:?} (its id or slug); import into an instance without it"
    )]
    Exists(String),
    /// The archive's content does not fit (a row, a file).
    #[error("the archive's content does not fit: {0}")]
    Content(String),
    /// Sealing or opening stored files.
    #[error("keys: {0}")]
    Keys(String),
}

impl From<Problem> for ExportError {
    fn from(p: Problem) -> ExportError {
        ExportError::Keys(p.detail)
    }
}

/// What an export or import handled.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Rows, by table.
    pub rows: std::collections::BTreeMap<String, u64>,
    /// Files (attachments and camera items).
    pub files: u64,
}

/// A private scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Result<Scratch, ExportError> {
        let dir = std::env::temp_dir().join(format!("fernhand-{what}-{}", new_id()?));
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Write tenant `tenant_id`'s archive into `out`; `progress` hears each
/// table's name and rows as they are done.
pub async fn export<W: Write>(
    store: &Store,
    sealer: &Sealer,
    tenant_id: &str,
    out: W,
    mut progress: impl FnMut(&str, u64),
) -> Result<(W, Summary), ExportError> {
    let mut p = store.platform().await?;
    let tenant = tenants::get(&mut p, tenant_id)
        .await?
        .ok_or_else(|| ExportError::NoTenant(tenant_id.to_owned()))?;
    p.commit().await?;
    let scratch = Scratch::new("export")?;
    let at = now();
    let mut w = ArchiveWriter::new(out, u64::try_from(at).unwrap_or(0));
    w.add_bytes(
        "tenant.json",
        &serde_json::to_vec_pretty(&tenant).map_err(std::io::Error::other)?,
    )?;
    let mut summary = Summary::default();
    let mut tx = store.tenant(tenant_id).await?;
    let mut tables = Map::new();
    for t in TABLES {
        let file = scratch.0.join(format!("{}.jsonl", t.name));
        let mut lines = BufWriter::new(std::fs::File::create(&file)?);
        let mut ids = Vec::new();
        let rows = fernhand_store::export::each_row(&mut tx, t, |row| {
            if matches!(t.name, "desk_attachments" | "camera_items") {
                ids.push(row["id"].as_str().unwrap_or_default().to_owned());
            }
            serde_json::to_writer(&mut lines, &row)
                .map_err(|e| StoreError::Config(e.to_string()))?;
            lines
                .write_all(b"\n")
                .map_err(|e| StoreError::Config(e.to_string()))
        })
        .await?;
        lines.flush()?;
        drop(lines);
        let entry = format!("tables/{}.jsonl", t.name);
        w.add_file(&entry, &file)?;
        std::fs::remove_file(&file)?;
        for id in ids {
            let (path, bytes) = if t.name == "desk_attachments" {
                let (_, bytes) = crate::app::desk::attachments::open(&mut tx, sealer, &id).await?;
                (format!("files/attachments/{id}"), bytes)
            } else {
                let (_, bytes) = camera::open(&mut tx, sealer, &id).await?;
                (format!("files/camera/{id}"), bytes)
            };
            w.add_bytes(&path, &bytes)?;
            summary.files += 1;
        }
        tables.insert(
            t.name.to_owned(),
            json!({"file": entry, "rows": rows, "columns": t.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>(), "omitted": t.omitted}),
        );
        summary.rows.insert(t.name.to_owned(), rows);
        progress(t.name, rows);
    }
    tx.commit().await?;
    let manifest = json!({
        "created_at": at,
        "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.name},
        "tables": tables,
        "not_exported": fernhand_store::export::NOT_EXPORTED,
        "files_note": "files/attachments/<id> and files/camera/<id> are the bytes of the rows with that id",
    });
    let out = w.finish(manifest)?;
    Ok((out, summary))
}

/// Import the archive at `path` into this instance; returns the tenant and
/// what was written.
pub async fn import(
    store: &Store,
    sealer: &Sealer,
    path: &Path,
) -> Result<(tenants::Tenant, Summary), ExportError> {
    let scratch = Scratch::new("import")?;
    let unpacked = scratch.0.join("archive");
    let from = path.to_owned();
    let into = unpacked.clone();
    let manifest = tokio::task::spawn_blocking(move || archive::unpack(&from, &into))
        .await
        .map_err(|e| ExportError::Content(e.to_string()))??;
    let tenant: tenants::Tenant =
        serde_json::from_slice(&std::fs::read(unpacked.join("tenant.json"))?)
            .map_err(|e| ExportError::Content(format!("tenant.json: {e}")))?;
    if manifest["tenant"]["id"] != tenant.id.as_str() {
        return Err(ExportError::Content(
            "tenant.json names another tenant than the manifest".into(),
        ));
    }
    let mut p = store.platform().await?;
    let taken = tenants::get(&mut p, &tenant.id).await?.is_some()
        || tenants::by_slug(&mut p, &tenant.slug).await?.is_some();
    p.commit().await?;
    if taken {
        return Err(ExportError::Exists(tenant.slug.clone()));
    }
    let mut tx = store.tenant(&tenant.id).await?;
    tenants::insert(tx.conn(), &tenant)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ExportError::Exists(tenant.slug.clone()),
            other => other.into(),
        })?;
    let mut summary = Summary::default();
    for t in TABLES {
        let file = archive::local(&unpacked, &format!("tables/{}.jsonl", t.name));
        if !file.exists() {
            return Err(ExportError::Content(format!("no rows file for {}", t.name)));
        }
        let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
        let mut rows = 0u64;
        for line in reader.lines() {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            let mut row: Map<String, Value> = serde_json::from_str(&line)
                .map_err(|e| ExportError::Content(format!("{}: {e}", t.name)))?;
            let extra = restore(&mut tx, sealer, t, &mut row, &unpacked, &mut summary).await?;
            fernhand_store::export::insert_row(&mut tx, t, &row, &extra)
                .await
                .map_err(|e| match e {
                    StoreError::Config(m) => ExportError::Content(m),
                    other => other.into(),
                })?;
            rows += 1;
        }
        summary.rows.insert(t.name.to_owned(), rows);
    }
    audit::append(
        &mut tx,
        "operator",
        "tenant.imported",
        &tenant.id,
        &json!({"exported_at": manifest["created_at"], "rows": summary.rows, "files": summary.files}),
    )
    .await?;
    tx.commit().await?;
    Ok((tenant, summary))
}

/// Values for the columns an export leaves out, made anew on this
/// instance; some rows are adjusted too (imported users must set a
/// password).
async fn restore(
    tx: &mut TenantTx,
    sealer: &Sealer,
    t: &Table,
    row: &mut Map<String, Value>,
    unpacked: &Path,
    summary: &mut Summary,
) -> Result<Vec<(&'static str, Value)>, ExportError> {
    let id = row
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let tenant = tx.tenant().to_owned();
    Ok(match t.name {
        "users" => {
            row.insert("must_change_password".into(), json!(1));
            vec![("password_hash", json!(NO_PASSWORD))]
        }
        "devices" => vec![("credential_hash", json!(NO_PASSWORD))],
        "desk_webhooks" => {
            let fresh = crate::app::crypto::token()
                .ok_or_else(|| ExportError::Keys("no randomness".into()))?;
            let sealed = sealer
                .seal(
                    fresh.as_bytes(),
                    format!("desk-webhook:{tenant}:{id}").as_bytes(),
                )
                .ok_or_else(|| ExportError::Keys("sealing a webhook secret".into()))?;
            vec![("secret_sealed", json!(sealed))]
        }
        "desk_attachments" => {
            let bytes = file_of(unpacked, "attachments", &id)?;
            if row.get("sha256").and_then(Value::as_str)
                != Some(hex::encode(Sha256::digest(&bytes)).as_str())
            {
                return Err(ExportError::Content(format!(
                    "attachment {id} does not match its SHA-256"
                )));
            }
            let record = row
                .get("record_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let context = crate::app::desk::attachments::context(&tenant, record, &id);
            let sealed = sealer
                .seal(&bytes, context.as_bytes())
                .ok_or_else(|| ExportError::Keys("sealing an attachment".into()))?;
            summary.files += 1;
            vec![("sealed", json!(sealed))]
        }
        "camera_items" => {
            let bytes = file_of(unpacked, "camera", &id)?;
            let session = row
                .get("session_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let key = tenant_keys::current(tx, sealer).await?;
            let sealed = key
                .seal(&bytes, &camera::context(&tenant, session, &id))
                .ok_or_else(|| ExportError::Keys("sealing a camera-share item".into()))?;
            summary.files += 1;
            vec![
                ("key_version", json!(key.version)),
                ("sealed", json!(sealed)),
            ]
        }
        _ => Vec::new(),
    })
}

fn file_of(
    unpacked: &Path,
    kind: &str,
    id: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ExportError> {
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plain {
        return Err(ExportError::Content(format!(
            "a {kind} row has an unusable id {id:?}"
        )));
    }
    let path = archive::local(
        unpacked,
        &format!("files/{kind}/{}", id.to_ascii_lowercase()),
    );
    std::fs::read(&path)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| ExportError::Content(format!("files/{kind}/{id} is missing")))
}
