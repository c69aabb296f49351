//! Keeping replicas in step: this replica's heartbeat in the store (so its
//! claims to hold device connections expire if it dies), and notices for
//! agents published by other replicas (PostgreSQL `LISTEN`) handed to the
//! agents connected here.

use crate::app::AppState;
use fernhand_store::replicas::{self, AgentListener};
use std::time::Duration;

/// How often the replica beats (well inside `devices::REPLICA_TIMEOUT`).
const BEAT: Duration = Duration::from_secs(10);

/// Beat until aborted.
pub async fn beat(state: AppState) {
    let mut every = tokio::time::interval(BEAT);
    let mut beats: u64 = 0;
    loop {
        every.tick().await;
        let done = async {
            let mut p = state.store.platform().await?;
            replicas::beat(&mut p, &state.replica).await?;
            if beats.is_multiple_of(360) {
                replicas::prune(&mut p).await?;
            }
            p.commit().await
        };
        if let Err(e) = done.await {
            tracing::warn!("replica heartbeat: {e}");
        }
        beats = beats.wrapping_add(1);
    }
}

/// A notice for an agent that may be connected to another replica.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Routed {
    /// Tenant.
    pub tenant: String,
    /// Device.
    pub device: String,
    /// The notice (JSON text).
    pub notice: String,
}

/// Hand notices published by other replicas to agents connected here.
pub async fn relay_notices(state: AppState, mut listener: AgentListener) {
    loop {
        match listener.next().await {
            Ok(payload) => {
                if let Ok(r) = serde_json::from_str::<Routed>(&payload) {
                    // Only the replica holding the connection delivers.
                    let _ = state.agents.notify(&r.tenant, &r.device, r.notice);
                }
            }
            Err(e) => {
                tracing::warn!("agent notices: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
