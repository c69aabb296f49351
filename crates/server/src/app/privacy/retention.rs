//! The retention job. One pass, at an injected `now`:
//!
//! 1. a tenant whose subscription ended more than 90 days ago gets a
//!    deletion request under the rule `subscription_end` (once);
//! 2. a tenant with a shorter session retention loses its support-session
//!    records (with camera items and transcript search text) and the
//!    transcripts attached to tickets, past that many days;
//! 3. every due deletion request (no hold, or its hold passed) is carried
//!    out, in batches whose progress is saved in the same transaction as
//!    the deletion, then certified and signed.
//!
//! Camera-share items go 72 hours after their session by their own job
//! (`app::camera::retention_pass`). Every step is idempotent: a pass killed
//! anywhere is finished by the next one, and the counts in the
//! certificate are exact because each batch and its count commit together.
//! Each pass writes one line to `retention_runs` and one log line.

use super::certificate;
use crate::app::export::jobs::Exports;
use ed25519_dalek::SigningKey;
use fernhand_store::deletion_requests::{self as requests, DeletionRequest, Progress};
use fernhand_store::erasure::{self, BATCH, Counts, TABLES};
use fernhand_store::{Store, StoreError, audit, new_id, privacy, tenants};
use serde_json::json;
use std::time::Duration;

/// Content of a tenant stays this long after its subscription ends.
pub const AFTER_SUBSCRIPTION: i64 = 90 * 86_400;
/// A deletion request is carried out within this time of being made
/// (holds aside); the job runs far more often.
pub const DEADLINE: i64 = 30 * 86_400;
/// How often the job runs.
const EVERY: Duration = Duration::from_secs(3600);
/// Sessions erased per transaction under a tenant's retention.
const SESSIONS_PER_BATCH: i64 = 100;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Deletion requests made for ended subscriptions.
    pub subscription_requests: u64,
    /// Support sessions erased under tenants' retention.
    pub sessions_erased: u64,
    /// Ticket transcripts erased under tenants' retention.
    pub transcripts_erased: u64,
    /// Deletion requests finished (with their certificates).
    pub requests_done: u64,
    /// Export archives (and their status files) removed.
    pub export_files_removed: u64,
}

/// One pass of the job at `now`.
pub async fn pass(
    store: &Store,
    key: &SigningKey,
    exports: &Exports,
    now: i64,
) -> Result<Report, StoreError> {
    let run = new_id()?;
    let mut p = store.platform().await?;
    requests::run_started(&mut p, &run, now).await?;
    p.commit().await?;

    let mut report = Report {
        subscription_requests: subscriptions(store, now).await?,
        ..Report::default()
    };
    session_retention(store, now, &mut report).await?;
    let mut p = store.platform().await?;
    let due = requests::due(&mut p, now).await?;
    p.commit().await?;
    for request in due {
        carry_out(store, key, request, now).await?;
        report.requests_done += 1;
    }
    if report.requests_done + report.sessions_erased + report.transcripts_erased > 0 {
        store.scrub().await?;
    }
    // Export archives: a day old, or of a tenant now gone.
    report.export_files_removed = exports.sweep(store, now).await;

    let detail = serde_json::to_value(&report).unwrap_or_default();
    let mut p = store.platform().await?;
    requests::run_finished(&mut p, &run, now, &detail).await?;
    p.commit().await?;
    tracing::info!(
        subscription_requests = report.subscription_requests,
        sessions_erased = report.sessions_erased,
        transcripts_erased = report.transcripts_erased,
        requests_done = report.requests_done,
        "retention pass"
    );
    Ok(report)
}

/// Run a pass every hour (and when `wake` is notified) until aborted.
pub async fn run(
    store: Store,
    key: std::sync::Arc<SigningKey>,
    exports: std::sync::Arc<Exports>,
    wake: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        if let Err(e) = pass(&store, &key, &exports, fernhand_store::now()).await {
            tracing::warn!("retention pass failed (the next one resumes it): {e}");
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = wake.notified() => {}
        }
    }
}

/// Requests for tenants 90 days past their subscription's end.
async fn subscriptions(store: &Store, now: i64) -> Result<u64, StoreError> {
    let mut p = store.platform().await?;
    let ended = tenants::subscriptions_ended_before(&mut p, now - AFTER_SUBSCRIPTION).await?;
    p.commit().await?;
    let mut made = 0;
    for tenant in ended {
        let mut p = store.platform().await?;
        if requests::exists(p.conn(), &tenant, "subscription_end").await? {
            continue;
        }
        let request = DeletionRequest {
            id: new_id()?,
            tenant_id: tenant,
            scope: "tenant".into(),
            targets: Vec::new(),
            rule: "subscription_end".into(),
            requested_by: None,
            requested_at: now,
            hold_until: None,
            state: "pending".into(),
            progress: Progress::default(),
            done_at: None,
            certificate: None,
        };
        // No receipt is handed out for a rule's request: the operator
        // reads its certificate.
        match requests::insert(p.conn(), &request, &new_id()?).await {
            // Another replica's pass asked first.
            Err(StoreError::Conflict(_)) => continue,
            other => other?,
        }
        p.commit().await?;
        made += 1;
    }
    Ok(made)
}

/// Sessions and transcripts past each tenant's own retention.
async fn session_retention(store: &Store, now: i64, report: &mut Report) -> Result<(), StoreError> {
    let mut p = store.platform().await?;
    let ids = tenants::ids(&mut p).await?;
    p.commit().await?;
    for tenant in ids {
        let mut tx = store.tenant(&tenant).await?;
        let days = privacy::get(&mut tx).await?.session_retention_days;
        tx.commit().await?;
        let Some(days) = days else { continue };
        let before = now - days.max(1) * 86_400;
        loop {
            let mut tx = store.tenant(&tenant).await?;
            let due = erasure::sessions_ended_before(&mut tx, before, SESSIONS_PER_BATCH).await?;
            let mut counts = Counts::new();
            for id in &due {
                merge(
                    &mut counts,
                    erasure::erase_support_session(&mut tx, id).await?,
                );
            }
            let transcripts = erasure::transcripts_attached_before(&mut tx, before, BATCH).await?;
            let sessions = u64::try_from(due.len()).unwrap_or(0);
            if sessions + transcripts > 0 {
                audit::append(
                    &mut tx,
                    "retention",
                    "privacy.retention",
                    "support_sessions",
                    &json!({"days": days, "sessions": sessions, "transcripts": transcripts, "rows": counts}),
                )
                .await?;
            }
            tx.commit().await?;
            report.sessions_erased += sessions;
            report.transcripts_erased += transcripts;
            if (due.len() as i64) < SESSIONS_PER_BATCH && transcripts < BATCH as u64 {
                break;
            }
        }
    }
    Ok(())
}

fn merge(into: &mut Counts, from: Counts) {
    for (table, n) in from {
        *into.entry(table).or_default() += n;
    }
}

/// Carry out one request to the end and certify it. Safe to run twice at
/// once (two replicas): each batch locks the request, re-reads its
/// progress and saves it with the rows it deleted.
pub async fn carry_out(
    store: &Store,
    key: &SigningKey,
    request: DeletionRequest,
    now: i64,
) -> Result<(), StoreError> {
    // Mark it running with the progress as it stands now (another runner
    // may have moved it on since the list was read: never write back an
    // older copy).
    let mut p = store.platform().await?;
    let Some(current) = requests::lock_progress(p.conn(), store.backend(), &request.id).await?
    else {
        return Ok(());
    };
    requests::save_progress(p.conn(), &request.id, "running", &current).await?;
    p.commit().await?;
    if request.scope == "tenant" {
        erase_tenant(store, &request).await?;
    } else {
        erase_records(store, &request).await?;
    }
    let mut p = store.platform().await?;
    let Some(progress) = requests::lock_progress(p.conn(), store.backend(), &request.id).await?
    else {
        return Ok(());
    };
    // A pass that listed its work a moment before the request was made
    // still never dates the completion before the request.
    let completed = now.max(request.requested_at);
    let done = DeletionRequest {
        progress,
        state: "done".into(),
        done_at: Some(completed),
        ..request
    };
    let signed = certificate::issue(key, &done, completed);
    requests::finish(p.conn(), &done.id, completed, &signed).await?;
    p.commit().await?;
    tracing::info!(request = %done.id, scope = %done.scope, rule = %done.rule, "deletion request carried out");
    Ok(())
}

/// One step of a request: in a transaction of the tenant, lock and read
/// the progress, let `step` do its work and update it, save it. `None`
/// when the request is done (another runner finished it).
async fn step<F>(
    store: &Store,
    request: &DeletionRequest,
    step: F,
) -> Result<Option<bool>, StoreError>
where
    F: AsyncFnOnce(&mut fernhand_store::TenantTx, &mut Progress) -> Result<bool, StoreError>,
{
    let mut tx = store.tenant(&request.tenant_id).await?;
    let Some(mut progress) =
        requests::lock_progress(tx.conn(), store.backend(), &request.id).await?
    else {
        return Ok(None);
    };
    let more = step(&mut tx, &mut progress).await?;
    requests::save_progress(tx.conn(), &request.id, "running", &progress).await?;
    tx.commit().await?;
    Ok(Some(more))
}

/// Every table, batch by batch, then the protected tables and the tenant.
async fn erase_tenant(store: &Store, request: &DeletionRequest) -> Result<(), StoreError> {
    for table in TABLES {
        loop {
            let more = step(store, request, async |tx, progress| {
                if progress.finished.iter().any(|t| t == table) {
                    return Ok(false);
                }
                let n = erasure::erase_batch(tx, table, BATCH).await?;
                if n > 0 {
                    *progress.deleted.entry((*table).to_owned()).or_default() += n;
                }
                let more = n >= BATCH as u64;
                if !more {
                    progress.finished.push((*table).to_owned());
                }
                Ok(more)
            })
            .await?;
            match more {
                None => return Ok(()),
                Some(false) => break,
                Some(true) => {}
            }
        }
    }
    step(store, request, async |tx, progress| {
        if !progress.finished.iter().any(|t| t == "protected") {
            merge(&mut progress.deleted, erasure::erase_protected(tx).await?);
            progress.finished.push("protected".into());
        }
        Ok(false)
    })
    .await?;
    Ok(())
}

/// Each chosen record, one transaction each.
async fn erase_records(store: &Store, request: &DeletionRequest) -> Result<(), StoreError> {
    for target in &request.targets {
        let done = step(store, request, async |tx, progress| {
            if progress.finished.contains(target) {
                return Ok(false);
            }
            let counts = erase_target(tx, target).await?;
            if counts.is_empty() {
                progress.missing.push(target.clone());
            }
            audit::append(
                tx,
                request.requested_by.as_deref().unwrap_or("retention"),
                "privacy.erased",
                target,
                &json!({"request": request.id, "rows": counts}),
            )
            .await?;
            merge(&mut progress.deleted, counts);
            progress.finished.push(target.clone());
            Ok(false)
        })
        .await?;
        if done.is_none() {
            return Ok(());
        }
    }
    Ok(())
}

/// Erase one record named by a request: `session:<id>` or a desk
/// reference (`INC-12`).
async fn erase_target(
    tx: &mut fernhand_store::TenantTx,
    target: &str,
) -> Result<Counts, StoreError> {
    if let Some(id) = target.strip_prefix("session:") {
        return erasure::erase_support_session(tx, id).await;
    }
    let Ok(r) = target.parse::<fernhand_desk::Reference>() else {
        return Ok(Counts::new());
    };
    let number = i64::try_from(r.number).unwrap_or(i64::MAX);
    match fernhand_store::desk::records::by_number(tx, r.kind.name(), number).await? {
        Some(record) => erasure::erase_desk_record(tx, &record.id).await,
        None => Ok(Counts::new()),
    }
}
