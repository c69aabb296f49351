//! The end-user portal over HTTP: a requester's own tickets — list, raise,
//! read, reply, and the moves the lifecycle gives the requester (resume,
//! close, reopen). Anyone else's ticket is not found.

use crate::app::desk::portal::{self, NewTicket};
use crate::app::desk::settings::DeskSettings;
use crate::app::desk::{notes, records as desk};
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use fernhand_desk::lifecycle::DeskRole;
use fernhand_store::{audit, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// `updated_at:id` of the last ticket of the previous page.
    after: Option<String>,
}

/// The caller's own tickets, newest first.
pub async fn list(principal: Principal, Query(q): Query<Page>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::UsePortal)?;
    let after = crate::app::desk::cursor(q.after.as_deref())?;
    let mut tx = principal.tx().await?;
    let found = portal::list(&mut tx, &principal.user.id, after).await?;
    tx.commit().await?;
    let items: Vec<Value> = found.iter().map(portal::summary).collect();
    Ok(Json(json!({"items": items})))
}

/// Raises an incident for the caller.
pub async fn raise(
    principal: Principal,
    ApiJson(body): ApiJson<NewTicket>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let t = now();
    let r = portal::raise(&mut tx, &s, &principal.user.id, body, t).await?;
    let view = portal::view(&mut tx, &s, &r, &principal.user.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// One of the caller's tickets, with its replies.
pub async fn get(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = portal::own(&mut tx, &principal.user.id, &id).await?;
    let view = portal::view(&mut tx, &s, &r, &principal.user.id).await?;
    tx.commit().await?;
    Ok(Json(json!(view)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// The text.
    body: String,
}

/// The caller replies on their ticket.
pub async fn reply(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewReply>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let r = portal::own(&mut tx, &principal.user.id, &id).await?;
    notes::add(&mut tx, &r, &principal.user.id, body.body, true, now()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({"id": r.id}))))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The version read.
    version: i64,
    /// The state to go to.
    to: String,
}

/// The caller moves their ticket where the lifecycle lets a requester.
pub async fn transition(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Move>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = portal::own(&mut tx, &principal.user.id, &id).await?;
    let t = now();
    let r = desk::transition(
        &mut tx,
        &s,
        &principal.user.id,
        DeskRole::Requester,
        r,
        body.version,
        &body.to,
        &Map::new(),
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
    let view = portal::view(&mut tx, &s, &r, &principal.user.id).await?;
    tx.commit().await?;
    Ok(Json(json!(view)))
}
