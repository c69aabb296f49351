//! Desk events for the tenant's webhooks: what happened to which record,
//! and who should hear of it (requester, assignee, watchers, with their
//! addresses), queued in the outbox in the transaction that made the
//! change — so an event is sent exactly when its change was committed.

use super::records::reference_of;
use crate::problem::Problem;
use fernhand_store::TenantTx;
use fernhand_store::desk::records::Record;
use fernhand_store::desk::{watchers, webhooks};
use serde_json::{Value, json};

/// The people of a record, with their addresses, for an event.
async fn people(tx: &mut TenantTx, r: &Record) -> Result<Value, Problem> {
    let mut out = Vec::new();
    let named = |role: &'static str, id: &str, out: &mut Vec<(String, &'static str)>| {
        if !out.iter().any(|(o, _)| o == id) {
            out.push((id.to_owned(), role));
        }
    };
    if let Some(a) = &r.assignee {
        named("assignee", a, &mut out);
    }
    if let Some(q) = &r.requester {
        named("requester", q, &mut out);
    }
    for w in watchers::of_record(tx, &r.id).await? {
        named("watcher", &w, &mut out);
    }
    let mut people = Vec::new();
    for (id, role) in out {
        match fernhand_store::users::get(tx, &id).await? {
            Some(u) => {
                people.push(json!({"role": role, "user": u.id, "name": u.name, "email": u.email}))
            }
            // A requester known only by a contact address.
            None if id.contains('@') => people.push(json!({"role": role, "email": id})),
            None => {}
        }
    }
    Ok(Value::Array(people))
}

/// Queues `event` about `r` (with `detail`) for every webhook of the tenant.
pub async fn emit(
    tx: &mut TenantTx,
    r: &Record,
    event: &str,
    actor: &str,
    detail: Value,
    now: i64,
) -> Result<(), Problem> {
    let hooks: Vec<String> = webhooks::list(tx)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    emit_to(tx, &hooks, r, event, actor, detail, now).await
}

/// The same, for the webhooks `hooks` (the ids the settings carry).
pub async fn emit_to(
    tx: &mut TenantTx,
    hooks: &[String],
    r: &Record,
    event: &str,
    actor: &str,
    detail: Value,
    now: i64,
) -> Result<(), Problem> {
    if hooks.is_empty() {
        return Ok(());
    }
    let body = json!({
        "event": event,
        "at": now,
        "tenant": tx.tenant(),
        "actor": actor,
        "record": {
            "id": r.id,
            "reference": reference_of(r).map(|x| x.to_string()),
            "kind": r.kind,
            "title": r.title,
            "state": r.state,
            "state_category": r.state_category,
            "priority": r.priority,
            "version": r.version,
        },
        "people": people(tx, r).await?,
        "detail": detail,
    })
    .to_string();
    for h in hooks {
        webhooks::enqueue(tx, &fernhand_store::new_id()?, h, &body, now).await?;
    }
    Ok(())
}
