//! Sends the desk's outbox to the tenants' webhooks: every few seconds,
//! for each tenant with deliveries due, read them (and the webhooks'
//! secrets) in one transaction, POST each signed (see `app::webhook`)
//! without holding the database, then record the outcomes in another: sent
//! ones leave the outbox, failed ones come back with doubling delays, and
//! after the last attempt an event is given up, in the tenant's audit log.
//! Two replicas may both send an event; receivers deduplicate on the event
//! id header (at-least-once delivery).

use crate::app::crypto::Sealer;
use crate::app::webhook::{self, Attempt};
use crate::problem::Problem;
use fernhand_store::desk::webhooks;
use fernhand_store::{Store, audit};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// How often the outbox is looked at.
const EVERY: Duration = Duration::from_secs(2);
/// Deliveries per tenant per pass.
const BATCH: i64 = 50;
/// Attempts before an event is given up.
pub const ATTEMPTS: i64 = 8;
/// The first retry's delay (seconds); it doubles up to an hour.
const FIRST_RETRY: i64 = 15;

/// The delay before attempt `n + 1` after `n` failed ones.
pub fn backoff(failed: i64) -> i64 {
    let shift = u32::try_from(failed.clamp(0, 8)).unwrap_or(8);
    (FIRST_RETRY << shift).min(3600)
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Delivered.
    pub sent: usize,
    /// To be tried again.
    pub retried: usize,
    /// Given up.
    pub dropped: usize,
}

/// One pass at `now`.
pub async fn pass(
    store: &Store,
    sealer: &Sealer,
    client: &reqwest::Client,
    now: i64,
) -> Result<Pass, Problem> {
    let mut p = store.platform().await?;
    let tenants = webhooks::tenants_due(&mut p, now).await?;
    drop(p);
    let mut out = Pass::default();
    for tenant in tenants {
        // One tenant's trouble (a store error) is logged and never keeps
        // the others' events from going out.
        if let Err(e) = pass_tenant(store, sealer, client, &tenant, now, &mut out).await {
            tracing::warn!(tenant = %tenant, "desk webhooks: {}", e.detail);
        }
    }
    Ok(out)
}

/// One tenant's due deliveries, counted into `out`.
async fn pass_tenant(
    store: &Store,
    sealer: &Sealer,
    client: &reqwest::Client,
    tenant: &str,
    now: i64,
    out: &mut Pass,
) -> Result<(), Problem> {
    let mut tx = store.tenant(tenant).await?;
    let due = webhooks::due(&mut tx, now, BATCH).await?;
    let hooks: HashMap<String, webhooks::Webhook> = webhooks::list(&mut tx)
        .await?
        .into_iter()
        .map(|h| (h.id.clone(), h))
        .collect();
    tx.commit().await?;
    let mut outcomes = Vec::with_capacity(due.len());
    for d in due {
        let Some(h) = hooks.get(&d.webhook_id) else {
            continue;
        };
        // A secret that does not open (a changed seal key) gives up
        // this webhook's deliveries, into the audit log, and never
        // stops the other tenants' ones.
        let context = format!("desk-webhook:{tenant}:{}", h.id);
        let attempt = match sealer.open(&h.secret_sealed, context.as_bytes()) {
            Some(secret) => {
                webhook::post_signed_event(client, &h.url, &secret, &d.id, &d.body).await
            }
            None => Attempt::Refused("its secret does not open (seal key changed?)".into()),
        };
        outcomes.push((d, h.url.clone(), attempt));
    }
    let mut tx = store.tenant(tenant).await?;
    for (d, url, attempt) in outcomes {
        let failed = match attempt {
            Attempt::Delivered => {
                webhooks::done(&mut tx, &d.id).await?;
                out.sent += 1;
                continue;
            }
            Attempt::Retry(why) if d.attempts + 1 < ATTEMPTS => {
                webhooks::retry(&mut tx, &d.id, now + backoff(d.attempts), &why).await?;
                out.retried += 1;
                continue;
            }
            Attempt::Retry(why) | Attempt::Refused(why) => why,
        };
        webhooks::done(&mut tx, &d.id).await?;
        audit::append(
            &mut tx,
            "system:webhooks",
            "desk.webhook_gave_up",
            &d.webhook_id,
            &json!({"event": d.id, "url": url, "attempts": d.attempts + 1, "error": failed}),
        )
        .await?;
        tracing::warn!(tenant = %tenant, webhook = %d.webhook_id, error = %failed, "desk webhook: gave up on an event");
        out.dropped += 1;
    }
    webhooks::settle(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs a pass every few seconds until aborted.
pub async fn run(store: Store, sealer: std::sync::Arc<Sealer>, allow_local: bool) {
    let client = match webhook::tenant_client(allow_local) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("desk webhooks: {e}");
            return;
        }
    };
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        if let Err(e) = pass(&store, &sealer, &client, fernhand_store::now()).await {
            tracing::warn!("desk webhooks: {}", e.detail);
        }
    }
}
