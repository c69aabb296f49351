//! The control plane's security log: anomalous traffic (failed sign-ins,
//! locked accounts, unknown join locators, refused grants and relay
//! tickets, rate-limit hits). Each event is written to the
//! `fernhand::security` tracing target, counted in the metrics, stored in the
//! `security_log` table and forwarded to the security webhook if one is set.
//! Shared by the HTTP API and the broker.
//!
//! Storing and forwarding are rate-limited per kind, so a flood of bad
//! requests cannot fill the disk or the webhook's queue: past the limit an
//! event is still counted in the metrics and traced, but not stored.

use crate::app::metrics::ServerMetrics;
use crate::app::webhook::Webhook;
use fernhand_store::Store;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Events of one kind stored per second, sustained.
const STORED_PER_SECOND: u32 = 20;
/// Events of one kind stored in a burst.
const STORED_BURST: u32 = 200;

/// Where security events go.
pub struct SecurityLog {
    store: Store,
    webhook: Option<Arc<Webhook>>,
    metrics: Arc<ServerMetrics>,
    storing: DefaultKeyedRateLimiter<String>,
}

impl SecurityLog {
    /// A log storing into `store`, counting into `metrics`, forwarding to
    /// `webhook`.
    pub fn new(
        store: Store,
        webhook: Option<Arc<Webhook>>,
        metrics: Arc<ServerMetrics>,
    ) -> Arc<SecurityLog> {
        let quota =
            Quota::per_second(NonZeroU32::new(STORED_PER_SECOND).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(STORED_BURST).unwrap_or(NonZeroU32::MIN));
        Arc::new(SecurityLog {
            store,
            webhook,
            metrics,
            storing: RateLimiter::keyed(quota),
        })
    }

    /// Record one event. A failure to store it is logged, not returned: the
    /// request that caused it is answered either way.
    pub async fn record(
        &self,
        tenant: Option<&str>,
        kind: &str,
        peer: Option<IpAddr>,
        detail: serde_json::Value,
    ) {
        self.metrics.security_event(kind);
        if self.storing.check_key(&kind.to_owned()).is_err() {
            tracing::debug!(target: "fernhand::security", kind, "security event over the storing limit");
            return;
        }
        tracing::warn!(target: "fernhand::security", kind, tenant, peer = ?peer, "{detail}");
        if let Some(hook) = &self.webhook {
            let event = serde_json::json!({
                "kind": kind,
                "tenant": tenant,
                "peer": peer.map(|p| p.to_string()),
                "detail": &detail,
                "at": fernhand_store::now(),
            });
            hook.send(event.to_string());
        }
        let peer = peer.map(|p| p.to_string());
        let stored = async {
            let mut p = self.store.platform().await?;
            fernhand_store::security::record(&mut p, tenant, kind, peer.as_deref(), &detail)
                .await?;
            p.commit().await
        };
        if let Err(e) = stored.await {
            tracing::error!("security event not stored: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flood_is_counted_but_not_all_stored() {
        let dir = std::env::temp_dir().join(format!(
            "fernhand-seclog-{}",
            fernhand_store::new_id().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::embedded(&dir.join("store.db")).await.unwrap();
        let metrics = Arc::new(ServerMetrics::new(false));
        let log = SecurityLog::new(store.clone(), None, metrics);
        let flood = STORED_BURST + 100;
        for _ in 0..flood {
            log.record(None, "bad_grant", None, serde_json::json!({}))
                .await;
        }
        log.record(None, "login_failed", None, serde_json::json!({}))
            .await;
        let mut p = store.platform().await.unwrap();
        let floods = fernhand_store::security::count(&mut p, "bad_grant", 0)
            .await
            .unwrap();
        assert!(floods >= i64::from(STORED_BURST), "{floods}");
        assert!(floods < i64::from(flood), "{floods}");
        // Another kind is not starved by the flood.
        assert_eq!(
            fernhand_store::security::count(&mut p, "login_failed", 0)
                .await
                .unwrap(),
            1
        );
    }
}
