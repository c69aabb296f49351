//! Control-plane replicas: each one beats here so that others can tell
//! whether the device connections it claims are still held, and (on
//! PostgreSQL) replicas pass agent notices to each other with
//! `NOTIFY`/`LISTEN` on one channel.

use crate::{Backend, PlatformTx, Store, StoreError, now};

/// The channel that carries notices for agents between replicas.
pub const AGENT_CHANNEL: &str = "fernhand_agent_notice";

/// Note that replica `id` is alive now.
pub async fn beat(tx: &mut PlatformTx, id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO replicas (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(id)
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Forget replicas silent for a day.
pub async fn prune(tx: &mut PlatformTx) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM replicas WHERE seen_at < $1")
        .bind(now() - 86_400)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Send `payload` to every replica listening on [`AGENT_CHANNEL`]
/// (PostgreSQL; on SQLite there is one process and nothing to do).
pub async fn publish(store: &Store, payload: &str) -> Result<(), StoreError> {
    if store.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut p = store.platform().await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(AGENT_CHANNEL)
        .bind(payload)
        .execute(p.conn())
        .await?;
    p.commit().await
}

/// Notices published by any replica, as they arrive (PostgreSQL).
pub struct AgentListener(sqlx::postgres::PgListener);

impl AgentListener {
    /// The next payload; the listener reconnects by itself if the
    /// connection drops (notices sent meanwhile are lost: the expert retries).
    pub async fn next(&mut self) -> Result<String, StoreError> {
        Ok(self.0.recv().await?.payload().to_owned())
    }
}

/// Listen on [`AGENT_CHANNEL`]; `None` on SQLite.
pub async fn listen(store: &Store) -> Result<Option<AgentListener>, StoreError> {
    let Some(url) = store.url.as_deref() else {
        return Ok(None);
    };
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(AGENT_CHANNEL).await?;
    Ok(Some(AgentListener(listener)))
}
