//! Exports made through the API: each runs in the background into the
//! data folder (`exports/<tenant>/<id>.tar`, through a part file), with its
//! progress in a status file beside it, and is downloaded with HTTP range
//! requests, so a large archive resumes where a broken download stopped.
//! An archive holds everything the tenant has: it is kept
//! [`KEEP_SECONDS`], and goes with its tenant.

use super::tenant;
use crate::app::crypto::Sealer;
use fernhand_store::{Store, new_id, now, tenants};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How long a finished archive is kept for download.
pub const KEEP_SECONDS: i64 = 24 * 3600;

/// Where the API's exports live.
#[derive(Clone, Debug)]
pub struct Exports {
    dir: PathBuf,
}

fn plain_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Write `value` to `path` whole (a part file renamed into place).
fn write_status(path: &Path, value: &Value) {
    let part = path.with_extension("json.part");
    if std::fs::write(&part, value.to_string()).is_ok() {
        let _ = std::fs::rename(&part, path);
    }
}

impl Exports {
    /// Exports under `dir` (created, owner only).
    pub fn new(dir: PathBuf) -> Exports {
        Exports { dir }
    }

    fn tenant_dir(&self, tenant: &str) -> PathBuf {
        self.dir.join(tenant)
    }

    fn status_path(&self, tenant: &str, id: &str) -> PathBuf {
        self.tenant_dir(tenant).join(format!("{id}.json"))
    }

    /// The finished archive of export `id` of `tenant`.
    pub fn archive(&self, tenant: &str, id: &str) -> Option<PathBuf> {
        let path = self.tenant_dir(tenant).join(format!("{id}.tar"));
        (plain_id(id) && path.is_file()).then_some(path)
    }

    /// The status of export `id` of `tenant`.
    pub fn status(&self, tenant: &str, id: &str) -> Option<Value> {
        if !plain_id(id) {
            return None;
        }
        let text = std::fs::read_to_string(self.status_path(tenant, id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The statuses of `tenant`'s exports, newest first.
    pub fn list(&self, tenant: &str) -> Vec<Value> {
        let Ok(files) = std::fs::read_dir(self.tenant_dir(tenant)) else {
            return Vec::new();
        };
        let mut all: Vec<Value> = files
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|f| std::fs::read_to_string(f.path()).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect();
        all.sort_by_key(|v| std::cmp::Reverse(v["started_at"].as_i64().unwrap_or(0)));
        all
    }

    /// Start exporting `tenant`; returns the export's id at once.
    pub fn start(
        &self,
        store: Store,
        sealer: Arc<Sealer>,
        tenant: &str,
    ) -> Result<String, fernhand_store::StoreError> {
        let id = new_id()?;
        let dir = self.tenant_dir(tenant);
        std::fs::create_dir_all(&dir)
            .map_err(|e| fernhand_store::StoreError::Config(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        let status = self.status_path(tenant, &id);
        let started = now();
        write_status(
            &status,
            &json!({"id": id, "state": "running", "started_at": started, "tables": {}}),
        );
        let (tenant, id2) = (tenant.to_owned(), id.clone());
        let archive = dir.join(format!("{id}.tar"));
        tokio::spawn(async move {
            let part = archive.with_extension("tar.part");
            let mut tables = serde_json::Map::new();
            let result = async {
                let file = std::fs::File::create(&part)?;
                let progress = |table: &str, rows: u64| {
                    tables.insert(table.to_owned(), json!(rows));
                    write_status(
                        &status,
                        &json!({"id": id2, "state": "running", "started_at": started, "tables": tables}),
                    );
                };
                let (w, summary) =
                    tenant::export(&store, &sealer, &tenant, std::io::BufWriter::new(file), progress)
                        .await?;
                let file = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
                file.sync_all()?;
                std::fs::rename(&part, &archive)?;
                Ok::<_, tenant::ExportError>(summary)
            }
            .await;
            let done = match result {
                Ok(summary) => {
                    let size = std::fs::metadata(&archive).map(|m| m.len()).unwrap_or(0);
                    json!({"id": id2, "state": "done", "started_at": started, "finished_at": now(),
                           "rows": summary.rows, "files": summary.files, "size": size,
                           "expires_at": now() + KEEP_SECONDS})
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&part);
                    tracing::warn!(export = %id2, "a tenant export failed: {e}");
                    json!({"id": id2, "state": "failed", "started_at": started, "error": e.to_string()})
                }
            };
            write_status(&status, &done);
        });
        Ok(id)
    }

    /// Remove archives older than [`KEEP_SECONDS`] at `now`, and everything
    /// of tenants that no longer exist. Returns the files removed.
    pub async fn sweep(&self, store: &Store, now: i64) -> u64 {
        let Ok(tenants_here) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in tenants_here.flatten() {
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let gone = match store.platform().await {
                Ok(mut p) => {
                    let found = tenants::get(&mut p, &name).await.ok().flatten();
                    let _ = p.commit().await;
                    found.is_none()
                }
                Err(_) => false,
            };
            let Ok(files) = std::fs::read_dir(&dir) else {
                continue;
            };
            for f in files.flatten() {
                let old = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .is_some_and(|d| now - i64::try_from(d.as_secs()).unwrap_or(0) > KEEP_SECONDS);
                if (gone || old) && std::fs::remove_file(f.path()).is_ok() {
                    removed += 1;
                }
            }
            if gone {
                let _ = std::fs::remove_dir(&dir);
            }
        }
        removed
    }
}
