//! Store errors.

use thiserror::Error;

/// What can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique value is taken (slug, e-mail, locator).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// A stored value that does not parse.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// Not possible on this backend.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// No entropy for an id.
    #[error("the operating system's random source failed")]
    Entropy,
}

impl StoreError {
    /// Map a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn conflict_on(e: sqlx::Error, what: &'static str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}
