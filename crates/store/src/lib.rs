//! Fernhand's store: one code path for SQLite (the embedded default, bundled)
//! and PostgreSQL (scale-out), chosen by the database URL.
//!
//! Tenant isolation is by construction: callers never touch the pool. They
//! get a [`TenantTx`] — a transaction bound to one tenant — from the
//! authenticated principal, and every repository function takes one. Every
//! tenant-owned row carries `tenant_id` (composite keys `(tenant_id, id)`)
//! and repositories filter by it; on PostgreSQL, row-level security (ENABLE +
//! FORCE, the application role owns nothing, the tenant set per transaction)
//! holds even if a query forgets to. Platform tables (tenants, join
//! locators, the security log, the broker's state) are reached through
//! [`PlatformTx`].

pub mod audit;
pub mod broker;
pub mod camera;
pub mod deletion_requests;
pub mod desk;
pub mod devices;
pub mod erasure;
mod error;
pub mod export;
mod ids;
pub mod locators;
pub mod operators;
pub mod privacy;
pub mod replicas;
pub mod security;
pub mod sessions;
pub mod support;
pub mod tenant_keys;
pub mod tenants;
pub mod tokens;
pub mod users;

pub use error::StoreError;
pub use ids::{new_id, now};

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use std::sync::Once;

/// Which database is behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded default).
    Sqlite,
    /// PostgreSQL (scale-out).
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL (use sqlite:… or postgres://…): {}",
                redact(url)
            )))
        }
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

static DRIVERS: Once = Once::new();

fn install_drivers() {
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// A connection pool and the backend behind it.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The connection URL (PostgreSQL only: a listener needs its own connection).
    url: Option<std::sync::Arc<str>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Apply migrations with `owner_url` (the owning role on PostgreSQL).
    pub async fn migrate(owner_url: &str) -> Result<(), StoreError> {
        install_drivers();
        let backend = Backend::of(owner_url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(owner_url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        pool.close().await;
        Ok(())
    }

    /// Connect with `url` (the application role on PostgreSQL).
    pub async fn open(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        install_drivers();
        let backend = Backend::of(url)?;
        // SQLite allows one writer; several pooled connections only trade
        // throughput for "database is locked" errors when a deferred
        // transaction upgrades to a write. One connection serialises
        // transactions in-process instead.
        let max_connections = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => max_connections,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            // An embedded file cannot drop like a network connection: no
            // ping before every transaction (a round trip to the SQLite
            // thread each time).
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        // Deleted content is overwritten, not left in free
                        // pages: erasure means gone from the file.
                        sqlx::query("PRAGMA secure_delete = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let url = (backend == Backend::Postgres).then(|| std::sync::Arc::from(url));
        Ok(Store { pool, backend, url })
    }

    /// The embedded default: a SQLite file, created and migrated if needed.
    pub async fn embedded(path: &std::path::Path) -> Result<Store, StoreError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::migrate(&url).await?;
        let store = Store::open(&url, 8).await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&store.pool)
            .await?;
        // With WAL, NORMAL never corrupts the database; a power cut may lose
        // the last transactions, not the file.
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&store.pool)
            .await?;
        Ok(store)
    }

    /// After an erasure, leave no trace of the erased content in the
    /// database files: on SQLite the search index is merged (dropping the
    /// deleted entries' tokens) and the write-ahead log is checkpointed and
    /// truncated (pages are already overwritten by `secure_delete`). On
    /// PostgreSQL dead rows go with (auto)vacuum, as `docs/privacy.md` says.
    pub async fn scrub(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        sqlx::query("INSERT INTO desk_text_fts(desk_text_fts) VALUES ('optimize')")
            .execute(&self.pool)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Write a consistent copy of the embedded database to `to` while it is
    /// in use (SQLite `VACUUM INTO`; refuses to overwrite a file). On
    /// PostgreSQL use `pg_dump`: this returns [`StoreError::Unsupported`].
    pub async fn backup_to(&self, to: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "online backup of PostgreSQL (use pg_dump)",
            ));
        }
        let to = to
            .to_str()
            .ok_or(StoreError::Unsupported("a backup path that is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Check an SQLite database file (a backup before it is restored): the
    /// integrity check passes and it has Fernhand's migrations.
    pub async fn verify_sqlite_file(path: &std::path::Path) -> Result<(), StoreError> {
        install_drivers();
        let url = format!("sqlite://{}?mode=ro", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await?;
        let tenants: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&pool)
            .await;
        pool.close().await;
        if ok != "ok" || tenants.is_err() {
            return Err(StoreError::Corrupt("not an intact Fernhand database"));
        }
        Ok(())
    }

    /// Refresh the query planner's statistics where the database does not
    /// do it itself: SQLite's `PRAGMA optimize` (analyses the tables whose
    /// contents changed enough). PostgreSQL's autovacuum does this already.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA optimize=0x10002")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction bound to `tenant`: everything done through it is that
    /// tenant's, and (PostgreSQL) row-level security sees only that tenant.
    pub async fn tenant(&self, tenant: &str) -> Result<TenantTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config('fernhand.tenant', $1, true)")
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        Ok(TenantTx {
            tx,
            tenant: tenant.to_owned(),
            backend: self.backend,
        })
    }

    /// A transaction on the platform tables (tenants, join locators,
    /// security log); tenant-owned tables are not visible through it on
    /// PostgreSQL.
    pub async fn platform(&self) -> Result<PlatformTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config('fernhand.tenant', '', true)")
                .execute(&mut *tx)
                .await?;
        }
        Ok(PlatformTx { tx })
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction bound to one tenant.
pub struct TenantTx {
    tx: Transaction<'static, Any>,
    tenant: String,
    backend: Backend,
}

impl TenantTx {
    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The connection, for repositories.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Which database is behind it (for the few statements that differ).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Make the changes permanent.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

/// A transaction on platform tables.
pub struct PlatformTx {
    tx: Transaction<'static, Any>,
}

impl PlatformTx {
    /// The connection, for repositories.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Make the changes permanent.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_passwords_stay_out_of_messages() {
        assert_eq!(Backend::of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of("postgres://u:p@h/db").unwrap(),
            Backend::Postgres
        );
        let err = Backend::of("mysql://user:secret@host/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
