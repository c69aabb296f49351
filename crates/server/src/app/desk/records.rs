//! Creating, editing and moving desk records, voting on changes, and the
//! full view of a record (reference, fields, SLA clocks, the moves open to
//! the caller, links). Every write goes through one of these functions
//! inside the caller's transaction.

use super::fields;
use super::settings::DeskSettings;
use crate::app::problem::Problem;
use fernhand_desk::cab::{Ballot, Decision, Vote};
use fernhand_desk::lifecycle::{DeskRole, Guard, JsonFacts, StateCategory};
use fernhand_desk::priority::Priority;
use fernhand_desk::sla::{self, Clocks, Entered};
use fernhand_desk::{RecordKind, Reference};
use fernhand_store::TenantTx;
use fernhand_store::desk::records::Record;
use fernhand_store::desk::{history, records, text, votes};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

fn category_name(c: StateCategory) -> &'static str {
    match c {
        StateCategory::New => "new",
        StateCategory::Active => "active",
        StateCategory::Pending => "pending",
        StateCategory::Resolved => "resolved",
        StateCategory::Closed => "closed",
    }
}

fn category_of(name: &str) -> Option<StateCategory> {
    [
        StateCategory::New,
        StateCategory::Active,
        StateCategory::Pending,
        StateCategory::Resolved,
        StateCategory::Closed,
    ]
    .into_iter()
    .find(|c| category_name(*c) == name)
}

/// A record's kind, as stored.
pub fn kind_of(r: &Record) -> Result<RecordKind, Problem> {
    RecordKind::parse(&r.kind).ok_or_else(Problem::internal)
}

/// Finds a record by id or by reference (`INC-42`).
pub async fn find(tx: &mut TenantTx, key: &str) -> Result<Record, Problem> {
    let found = match key.parse::<Reference>() {
        Ok(r) => {
            let n = i64::try_from(r.number).map_err(|_| Problem::not_found())?;
            records::by_number(tx, r.kind.name(), n).await?
        }
        Err(_) => records::get(tx, key).await?,
    };
    found.ok_or_else(Problem::not_found)
}

/// Reads the SLA clocks of a record at `now`.
pub async fn clocks(
    tx: &mut TenantTx,
    s: &DeskSettings,
    r: &Record,
    now: i64,
) -> Result<Option<Clocks>, Problem> {
    let entered = history::states(tx, &r.id).await?;
    Ok(clocks_over(s, r, &entered, now))
}

/// The SLA clocks a state log gives at `now`.
fn clocks_over(
    s: &DeskSettings,
    r: &Record,
    entered: &[history::Entered],
    now: i64,
) -> Option<Clocks> {
    let priority = r.priority.as_deref().and_then(Priority::parse)?;
    let calendar = s.calendar()?;
    let entered: Vec<Entered> = entered
        .iter()
        .filter_map(|e| {
            Some(Entered {
                at: Timestamp::from_second(e.at).ok()?,
                category: category_of(&e.category)?,
            })
        })
        .collect();
    sla::read(
        &s.sla,
        calendar,
        priority,
        &entered,
        Timestamp::from_second(now).ok()?,
    )
}

/// The guards that hold for a record now.
async fn guards(
    tx: &mut TenantTx,
    s: &DeskSettings,
    r: &Record,
    fields: &Map<String, Value>,
) -> Result<Vec<Guard>, Problem> {
    let mut out = Vec::new();
    if kind_of(r)? == RecordKind::Change {
        if fields.get("change_type").and_then(Value::as_str) == Some("standard") {
            out.push(Guard::StandardChange);
        } else {
            out.push(Guard::NotStandardChange);
        }
        if let Some(board) = &s.cab {
            match board.decide(&r.created_by, &ballots(tx, &r.id).await?) {
                Decision::Approved => out.push(Guard::CabApproved),
                Decision::Rejected => out.push(Guard::CabRejected),
                Decision::Pending { .. } => {}
            }
        }
    }
    Ok(out)
}

async fn ballots(tx: &mut TenantTx, record_id: &str) -> Result<Vec<Ballot>, Problem> {
    Ok(votes::list(tx, record_id)
        .await?
        .into_iter()
        .filter_map(|v| {
            Some(Ballot {
                member: v.member,
                vote: Vote::parse(&v.vote)?,
            })
        })
        .collect())
}

/// Recomputes the record's next SLA escalation moment.
async fn refresh_sla(
    tx: &mut TenantTx,
    s: &DeskSettings,
    r: &mut Record,
    now: i64,
) -> Result<(), Problem> {
    let c = clocks(tx, s, r, now).await?;
    r.sla_due_at = c.as_ref().and_then(Clocks::next_escalation);
    Ok(())
}

/// A stored record's reference (`INC-42`); `None` only for a corrupt row.
pub fn reference_of(r: &Record) -> Option<Reference> {
    Some(Reference {
        kind: RecordKind::parse(&r.kind)?,
        number: u64::try_from(r.number).ok()?,
    })
}

/// What search finds a record by: its reference, title and description.
fn search_text(r: &Record) -> Result<String, Problem> {
    let reference = reference_of(r).ok_or_else(Problem::internal)?;
    Ok(format!(
        "{} {} {} {}",
        reference.kind.prefix(),
        reference.number,
        r.title,
        r.description
    ))
}

async fn index(tx: &mut TenantTx, r: &Record) -> Result<(), Problem> {
    text::put(tx, &r.id, &r.id, &search_text(r)?).await?;
    Ok(())
}

/// Raises a record: number, initial state, fields checked, history,
/// state log, search text.
pub async fn create(
    tx: &mut TenantTx,
    s: &DeskSettings,
    actor: &str,
    kind: RecordKind,
    input: &Map<String, Value>,
    now: i64,
) -> Result<Record, Problem> {
    if input
        .get("title")
        .and_then(Value::as_str)
        .is_none_or(|t| t.trim().is_empty())
    {
        return Err(Problem::bad_request("a record needs a title"));
    }
    let mut input = input.clone();
    let policy = crate::app::privacy::restricted::policy(tx).await?;
    crate::app::privacy::restricted::apply_fields(policy, &mut input)?;
    let values = fields::apply(tx, kind, &Map::new(), &input).await?;
    let lifecycle = s.lifecycle(kind);
    let category = lifecycle
        .category(&lifecycle.initial)
        .ok_or_else(Problem::internal)?;
    let mut r = Record {
        id: fernhand_store::new_id()?,
        kind: kind.name().into(),
        number: 0,
        title: String::new(),
        description: String::new(),
        state: lifecycle.initial.clone(),
        state_category: category_name(category).into(),
        priority: None,
        assignee_group: None,
        assignee: None,
        requester: None,
        ci_id: None,
        fields: Map::new(),
        created_by: actor.into(),
        created_at: now,
        updated_at: now,
        version: 1,
        sla_level: "ok".into(),
        sla_due_at: None,
    };
    fields::store_into(kind, &values, &mut r);
    let first = history::Entered {
        at: now,
        state: r.state.clone(),
        category: r.state_category.clone(),
    };
    r.sla_due_at = clocks_over(s, &r, std::slice::from_ref(&first), now)
        .as_ref()
        .and_then(Clocks::next_escalation);
    let mut changes = vec![("created".to_owned(), None, Some(r.state.clone()))];
    changes.extend(fields::diff(&Map::new(), &values));
    let text = format!("{} {}", r.title, r.description);
    let raised = records::Raised {
        first: &first,
        actor,
        changes: &changes,
        text: &text,
        prefix: kind.prefix(),
        audit: "desk.create",
    };
    records::create(tx, &mut r, raised).await?;
    super::events::emit_to(tx, &s.webhooks, &r, "created", actor, json!({}), now).await?;
    Ok(r)
}

fn check_version(r: &Record, version: i64) -> Result<(), Problem> {
    if r.version != version {
        return Err(Problem::conflict(format!(
            "this record changed since you read it (version {} now, {version} read); reload it",
            r.version
        )));
    }
    if r.state_category == "closed" {
        return Err(Problem::conflict("a closed record cannot change"));
    }
    Ok(())
}

async fn write(tx: &mut TenantTx, r: &mut Record) -> Result<(), Problem> {
    if !records::update(tx, r).await? {
        return Err(Problem::conflict(
            "this record changed since you read it; reload it",
        ));
    }
    r.version += 1;
    Ok(())
}

/// Edits fields (not the state).
pub async fn edit(
    tx: &mut TenantTx,
    s: &DeskSettings,
    actor: &str,
    mut r: Record,
    version: i64,
    changes: &Map<String, Value>,
    now: i64,
) -> Result<Record, Problem> {
    check_version(&r, version)?;
    let kind = kind_of(&r)?;
    let before = fields::of(&r);
    let mut changes = changes.clone();
    let policy = crate::app::privacy::restricted::policy(tx).await?;
    crate::app::privacy::restricted::apply_fields(policy, &mut changes)?;
    let after = fields::apply(tx, kind, &before, &changes).await?;
    let diff = fields::diff(&before, &after);
    if diff.is_empty() {
        return Ok(r);
    }
    let old_priority = r.priority.clone();
    fields::store_into(kind, &after, &mut r);
    r.updated_at = now;
    let mut entries = diff;
    if r.priority != old_priority {
        entries.push(("priority".into(), old_priority, r.priority.clone()));
    }
    refresh_sla(tx, s, &mut r, now).await?;
    write(tx, &mut r).await?;
    history::append(tx, &r.id, now, actor, &entries).await?;
    index(tx, &r).await?;
    let changed: Vec<&str> = entries.iter().map(|(f, _, _)| f.as_str()).collect();
    super::events::emit_to(
        tx,
        &s.webhooks,
        &r,
        "updated",
        actor,
        json!({"fields": changed}),
        now,
    )
    .await?;
    Ok(r)
}

/// Moves a record along its lifecycle, setting `changes` first (a
/// resolution with "Resolve"); refused moves write nothing.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    tx: &mut TenantTx,
    s: &DeskSettings,
    actor: &str,
    role: DeskRole,
    mut r: Record,
    version: i64,
    to: &str,
    changes: &Map<String, Value>,
    now: i64,
) -> Result<Record, Problem> {
    check_version(&r, version)?;
    let kind = kind_of(&r)?;
    let before = fields::of(&r);
    let after = fields::apply(tx, kind, &before, changes).await?;
    let guards = guards(tx, s, &r, &after).await?;
    let lifecycle = s.lifecycle(kind);
    let step = lifecycle
        .check(
            &r.state,
            to,
            role,
            &JsonFacts {
                fields: &after,
                guards: &guards,
            },
        )
        .map_err(|e| {
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "transition_refused",
                e.to_string(),
            )
        })?;
    let category = lifecycle.category(to).ok_or_else(Problem::internal)?;
    let mut entries = fields::diff(&before, &after);
    entries.push(("state".into(), Some(r.state.clone()), Some(to.to_owned())));
    let action = step.action.clone();
    fields::store_into(kind, &after, &mut r);
    r.state = to.to_owned();
    r.state_category = category_name(category).into();
    r.updated_at = now;
    history::enter_state(
        tx,
        &r.id,
        &history::Entered {
            at: now,
            state: r.state.clone(),
            category: r.state_category.clone(),
        },
    )
    .await?;
    refresh_sla(tx, s, &mut r, now).await?;
    write(tx, &mut r).await?;
    history::append(tx, &r.id, now, actor, &entries).await?;
    tracing::debug!(record = %r.id, action = %action, "desk transition");
    index(tx, &r).await?;
    let from = entries
        .iter()
        .find(|(f, _, _)| f == "state")
        .and_then(|(_, old, _)| old.clone());
    super::events::emit_to(
        tx,
        &s.webhooks,
        &r,
        "state_changed",
        actor,
        json!({"from": from, "to": r.state, "action": action}),
        now,
    )
    .await?;
    Ok(r)
}

/// Casts a board member's vote on a change awaiting approval.
pub async fn vote(
    tx: &mut TenantTx,
    s: &DeskSettings,
    member: &str,
    r: &Record,
    vote: Vote,
    comment: &str,
    now: i64,
) -> Result<Decision, Problem> {
    if kind_of(r)? != RecordKind::Change {
        return Err(Problem::bad_request("only changes are voted on"));
    }
    let lifecycle = s.lifecycle(RecordKind::Change);
    if lifecycle.category(&r.state) != Some(StateCategory::Pending)
        || !lifecycle
            .from(&r.state)
            .any(|t| t.guards.contains(&Guard::CabApproved))
    {
        return Err(Problem::conflict(
            "this change is not awaiting the board's approval",
        ));
    }
    let board = s.cab.as_ref().ok_or_else(|| {
        Problem::conflict("no change advisory board is set up (desk setting cab)")
    })?;
    let cast = ballots(tx, &r.id).await?;
    board
        .may_vote(&r.created_by, &cast, member)
        .map_err(|e| Problem::forbidden(e.to_string()))?;
    if comment.chars().count() > fields::TEXT_MAX {
        return Err(Problem::bad_request("the comment is too long"));
    }
    votes::cast(
        tx,
        &r.id,
        &votes::StoredVote {
            member: member.into(),
            vote: vote.name().into(),
            comment: comment.into(),
            at: now,
        },
    )
    .await?;
    history::append(
        tx,
        &r.id,
        now,
        member,
        &[("vote".into(), None, Some(vote.name().into()))],
    )
    .await?;
    Ok(board.decide(&r.created_by, &ballots(tx, &r.id).await?))
}

/// A record as the API shows it.
pub async fn view(
    tx: &mut TenantTx,
    s: &DeskSettings,
    r: &Record,
    role: Option<DeskRole>,
    now: i64,
) -> Result<Value, Problem> {
    let kind = kind_of(r)?;
    let values = fields::of(r);
    let guards = guards(tx, s, r, &values).await?;
    let lifecycle = s.lifecycle(kind);
    let facts = JsonFacts {
        fields: &values,
        guards: &guards,
    };
    let moves: Vec<Value> = lifecycle
        .from(&r.state)
        .map(|t| {
            let allowed = role.map(|role| lifecycle.check(&r.state, &t.to, role, &facts));
            json!({
                "to": t.to,
                "action": t.action,
                "requires": t.requires,
                "ready": matches!(allowed, Some(Ok(_))),
                "why_not": allowed.and_then(|a| a.err()).map(|e| e.to_string()),
            })
        })
        .collect();
    let links = records::links(tx, &r.id).await?;
    let mut linked = Vec::new();
    for l in links {
        if let Some(o) = records::get(tx, &l.other_id).await? {
            let reference = reference_of(&o).map(|r| r.to_string());
            linked.push(json!({"id": o.id, "reference": reference, "title": o.title, "relation": l.relation, "outgoing": l.outgoing, "state": o.state}));
        }
    }
    let approval = match (kind, &s.cab) {
        (RecordKind::Change, Some(board)) => Some(json!({
            "decision": board.decide(&r.created_by, &ballots(tx, &r.id).await?),
            "votes": votes::list(tx, &r.id).await?,
        })),
        _ => None,
    };
    Ok(json!({
        "id": r.id,
        "reference": reference_of(r).map(|r| r.to_string()),
        "kind": r.kind,
        "state": r.state,
        "state_label": lifecycle.state(&r.state).map(|st| st.label.clone()),
        "state_category": r.state_category,
        "priority": r.priority,
        "fields": values,
        "created_by": r.created_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "version": r.version,
        "sla": clocks(tx, s, r, now).await?,
        "transitions": moves,
        "links": linked,
        "approval": approval,
        "sessions": fernhand_store::desk::sessions::of_record(tx, &r.id).await?,
    }))
}
