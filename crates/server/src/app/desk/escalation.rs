//! SLA escalation: a job that finds records whose clock reaches its next
//! level (the warning share, then the breach) and escalates them — a
//! history entry and an audit entry on the record, and a log line for the
//! operator's alerting — once per level. Idempotent and safe on every
//! replica at once: each record is written with its version, so two
//! replicas cannot escalate the same level twice.

use super::records::{clocks, reference_of};
use super::settings::DeskSettings;
use crate::app::problem::Problem;
use fernhand_desk::sla::Level;
use fernhand_store::desk::{history, records};
use fernhand_store::{Store, audit, tenants};
use serde_json::json;
use std::time::Duration;

/// How often the job looks.
const EVERY: Duration = Duration::from_secs(60);
/// Records escalated per tenant and pass.
const BATCH: u32 = 500;

/// One escalation that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalated {
    /// Tenant.
    pub tenant: String,
    /// Record reference (`INC-42`).
    pub reference: String,
    /// The level reached.
    pub level: Level,
}

fn level_of(name: &str) -> Level {
    match name {
        "warning" => Level::Warning,
        "breached" => Level::Breached,
        _ => Level::Ok,
    }
}

/// One pass at `now` over every tenant.
pub async fn pass(store: &Store, now: i64) -> Result<Vec<Escalated>, Problem> {
    let mut p = store.platform().await?;
    let ids = tenants::ids(&mut p).await?;
    drop(p);
    let mut out = Vec::new();
    for tenant in ids {
        // One tenant's trouble (a store error, a record that no longer
        // reads) is logged and never stops the others' escalations.
        match pass_tenant(store, &tenant, now).await {
            Ok(mut done) => out.append(&mut done),
            Err(e) => tracing::warn!(tenant = %tenant, "SLA escalation: {}", e.detail),
        }
    }
    Ok(out)
}

/// One tenant's due records at `now`.
async fn pass_tenant(store: &Store, tenant: &str, now: i64) -> Result<Vec<Escalated>, Problem> {
    let mut out = Vec::new();
    let mut tx = store.tenant(tenant).await?;
    let due = records::due(&mut tx, now, BATCH).await?;
    if due.is_empty() {
        return Ok(out);
    }
    let s = DeskSettings::load(&mut tx).await?;
    for mut r in due {
        let Some(c) = clocks(&mut tx, &s, &r, now).await? else {
            r.sla_due_at = None;
            records::update(&mut tx, &r).await?;
            continue;
        };
        let (before, level) = (level_of(&r.sla_level), c.level());
        r.sla_due_at = c.next_escalation().filter(|at| *at > now);
        let raised = level.escalation_from(before);
        if let Some(l) = raised {
            r.sla_level = l.name().into();
        }
        if !records::update(&mut tx, &r).await? {
            continue; // another replica got there first
        }
        if let Some(l) = raised {
            let reference = reference_of(&r).ok_or_else(Problem::internal)?.to_string();
            history::append(
                &mut tx,
                &r.id,
                now,
                "system:sla",
                &[(
                    "sla".into(),
                    Some(before.name().into()),
                    Some(l.name().into()),
                )],
            )
            .await?;
            audit::append(
                &mut tx,
                "system:sla",
                "desk.sla_escalation",
                &r.id,
                &json!({"level": l.name(), "reference": reference}),
            )
            .await?;
            super::events::emit(
                &mut tx,
                &r,
                "sla_escalated",
                "system:sla",
                json!({"level": l.name()}),
                now,
            )
            .await?;
            tracing::warn!(tenant = %tenant, record = %reference, level = l.name(), "SLA escalation");
            out.push(Escalated {
                tenant: tenant.to_owned(),
                reference,
                level: l,
            });
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Runs a pass every minute until aborted.
pub async fn run(store: Store) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        if let Err(e) = pass(&store, fernhand_store::now()).await {
            tracing::warn!("SLA escalation: {}", e.detail);
        }
    }
}
