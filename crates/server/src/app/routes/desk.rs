//! Service desk records over HTTP: list and search, raise, read, edit, move
//! along the lifecycle, notes, history, links and change-board votes. Each
//! handler authorises, parses and hands over to `app::desk`.

use crate::app::desk::settings::DeskSettings;
use crate::app::desk::{desk_role, records as desk};
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::privacy::restricted;
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use fernhand_desk::RecordKind;
use fernhand_desk::cab::Vote;
use fernhand_store::desk::{history, notes, records, text};
use fernhand_store::{audit, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

fn role_of(principal: &Principal) -> Result<fernhand_desk::DeskRole, Problem> {
    desk_role(principal.role).ok_or_else(|| Problem::forbidden("your role only reads the desk"))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    /// `incident`, `problem`, `change` or `release`.
    kind: String,
    /// Title, description and the kind's other fields.
    fields: Map<String, Value>,
}

/// Raises a record.
pub async fn create(
    principal: Principal,
    ApiJson(body): ApiJson<NewRecord>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let kind = RecordKind::parse(&body.kind).ok_or_else(|| {
        Problem::bad_request("kind is one of: incident, problem, change, release")
    })?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let t = now();
    let r = desk::create(&mut tx, &s, &principal.user.id, kind, &body.fields, t).await?;
    let mut view = desk::view(&mut tx, &s, &r, desk_role(principal.role), t).await?;
    tx.commit().await?;
    view["restricted_data"] = restricted::found_in(restricted::strings(&body.fields));
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<String>,
    state: Option<String>,
    /// Comma-separated state categories.
    category: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    group: Option<String>,
    requester: Option<String>,
    ci: Option<String>,
    q: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    /// `updated_at:id` of the last record of the previous page.
    after: Option<String>,
    limit: Option<u32>,
}

/// Lists records: filters, full-text search, newest first, paged.
pub async fn list(
    principal: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    if let Some(k) = &q.kind
        && RecordKind::parse(k).is_none()
    {
        return Err(Problem::bad_request(
            "kind is one of: incident, problem, change, release",
        ));
    }
    let after = crate::app::desk::cursor(q.after.as_deref())?;
    let filter = records::Filter {
        kind: q.kind,
        state: q.state,
        categories: q
            .category
            .map(|c| c.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        priority: q.priority,
        assignee: q.assignee,
        assignee_group: q.group,
        requester: q.requester,
        ci_id: q.ci,
        created_from: q.from,
        created_to: q.to,
        text: q.q.filter(|t| !text::words(t).is_empty()),
        after,
        limit: q.limit.unwrap_or(50),
    };
    let mut tx = principal.tx().await?;
    let found = records::list(&mut tx, &filter).await?;
    tx.commit().await?;
    let next = (found.len() == usize::try_from(filter.limit.clamp(1, 200)).unwrap_or(200))
        .then(|| found.last().map(|r| format!("{}:{}", r.updated_at, r.id)))
        .flatten();
    let items: Vec<Value> = found.iter().map(summary).collect();
    Ok(Json(json!({"items": items, "next": next})))
}

fn summary(r: &records::Record) -> Value {
    let reference = desk::reference_of(r).map(|r| r.to_string());
    json!({
        "id": r.id, "reference": reference, "kind": r.kind, "title": r.title, "state": r.state,
        "state_category": r.state_category, "priority": r.priority, "assignee": r.assignee,
        "assignee_group": r.assignee_group, "ci": r.ci_id, "updated_at": r.updated_at,
        "sla_level": r.sla_level, "sla_due_at": r.sla_due_at,
    })
}

/// One record (by id or reference), with its clocks and open moves.
pub async fn get(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = desk::find(&mut tx, &id).await?;
    let view = desk::view(&mut tx, &s, &r, desk_role(principal.role), now()).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    /// The version read.
    version: i64,
    /// Fields to set (null clears).
    fields: Map<String, Value>,
}

/// Edits fields.
pub async fn edit(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Edit>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::WorkDesk)?;
    let role = role_of(&principal)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = desk::find(&mut tx, &id).await?;
    let t = now();
    let r = desk::edit(
        &mut tx,
        &s,
        &principal.user.id,
        r,
        body.version,
        &body.fields,
        t,
    )
    .await?;
    let view = desk::view(&mut tx, &s, &r, Some(role), t).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The version read.
    version: i64,
    /// The state to go to.
    to: String,
    /// Fields to set with the move (a resolution, a root cause).
    #[serde(default)]
    fields: Map<String, Value>,
}

/// Moves a record along its lifecycle.
pub async fn transition(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Move>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::WorkDesk)?;
    let role = role_of(&principal)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = desk::find(&mut tx, &id).await?;
    let t = now();
    let r = desk::transition(
        &mut tx,
        &s,
        &principal.user.id,
        role,
        r,
        body.version,
        &body.to,
        &body.fields,
        t,
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.transition",
        &r.id,
        &json!({"to": r.state}),
    )
    .await?;
    let view = desk::view(&mut tx, &s, &r, Some(role), t).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// The text.
    body: String,
    /// Whether the requester sees it (a reply) or only the desk (internal).
    #[serde(default)]
    public: bool,
}

/// Adds a note.
pub async fn add_note(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    let found = restricted::found_in([body.body.as_str()]);
    let note = crate::app::desk::notes::add(
        &mut tx,
        &r,
        &principal.user.id,
        body.body,
        body.public,
        now(),
    )
    .await?;
    tx.commit().await?;
    let mut answer = json!(note);
    answer["restricted_data"] = found;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// A record's notes.
pub async fn list_notes(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    let found = notes::list(&mut tx, &r.id, false).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// A record's history.
pub async fn list_history(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    let found = history::list(&mut tx, &r.id).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// The other record (id or reference).
    to: String,
    /// `caused_by` (incident → problem), `part_of` (change → release),
    /// `relates_to`.
    relation: String,
}

/// Links two records.
pub async fn add_link(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewLink>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let mut tx = principal.tx().await?;
    let from = desk::find(&mut tx, &id).await?;
    let to = desk::find(&mut tx, &body.to)
        .await
        .map_err(|_| Problem::bad_request("to names no record of this tenant"))?;
    let fits = match body.relation.as_str() {
        "caused_by" => from.kind == "incident" && to.kind == "problem",
        "part_of" => from.kind == "change" && to.kind == "release",
        "relates_to" => true,
        _ => {
            return Err(Problem::bad_request(
                "relation is caused_by, part_of or relates_to",
            ));
        }
    };
    if !fits || from.id == to.id {
        return Err(Problem::bad_request(
            "caused_by links an incident to a problem, part_of a change to a release; a record does not link to itself",
        ));
    }
    let t = now();
    records::link(&mut tx, &from.id, &body.relation, &to.id, t).await?;
    history::append(
        &mut tx,
        &from.id,
        t,
        &principal.user.id,
        &[(format!("link.{}", body.relation), None, Some(to.id.clone()))],
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"from": from.id, "relation": body.relation, "to": to.id})),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVote {
    /// `approve` or `reject`.
    vote: String,
    /// Why.
    #[serde(default)]
    comment: String,
}

/// A board member votes on a change.
pub async fn vote(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewVote>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::WorkDesk)?;
    let vote =
        Vote::parse(&body.vote).ok_or_else(|| Problem::bad_request("vote is approve or reject"))?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = desk::find(&mut tx, &id).await?;
    let decision = desk::vote(
        &mut tx,
        &s,
        &principal.user.id,
        &r,
        vote,
        &body.comment,
        now(),
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.vote",
        &r.id,
        &json!({"vote": vote.name()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"decision": decision})))
}
