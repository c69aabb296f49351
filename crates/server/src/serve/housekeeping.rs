//! Periodic clean-up the data does not do by itself: expired browser
//! sessions are deleted (they already stopped working when they expired;
//! this keeps the table from growing), and SQLite's planner statistics are
//! refreshed. Idempotent, so every replica may run
//! it. Expired join locators are reused when a new one collides, and go
//! when their session ends.

use crate::app::AppState;
use fernhand_store::{sessions, tenants};
use std::time::Duration;

/// How often.
const EVERY: Duration = Duration::from_secs(3600);

/// One pass over every tenant; returns the sessions deleted.
pub async fn sweep(state: &AppState) -> Result<u64, fernhand_store::StoreError> {
    let mut p = state.store.platform().await?;
    let ids = tenants::ids(&mut p).await?;
    drop(p);
    let mut deleted = 0;
    for id in ids {
        let mut tx = state.store.tenant(&id).await?;
        deleted += sessions::delete_expired(&mut tx).await?;
        tx.commit().await?;
    }
    // Keep the planner's statistics fresh as the desk's tables grow.
    state.store.optimize().await?;
    Ok(deleted)
}

/// Sweep every hour until aborted.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        match sweep(&state).await {
            Ok(n) if n > 0 => tracing::info!("housekeeping: {n} expired sessions deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!("housekeeping: {e}"),
        }
    }
}
