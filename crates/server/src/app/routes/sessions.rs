//! Attended support sessions: an expert opens one and gets the locators of
//! its join code and link (the expert's own client makes the secret halves,
//! which never reach the server) and a grant for the relay; a customer finds
//! the session by locator and gets a member id and a grant; records keep
//! who, when, members, outcome — no content.

use super::Peer;
use crate::app::AppState;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fernhand_e2e::{JoinCode, JoinLink};
use fernhand_protocol::ticket::Role as TicketRole;
use fernhand_protocol::{MemberId, SessionId, TenantId};
use fernhand_store::support::{self, SupportSession};
use fernhand_store::{StoreError, audit, locators, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// How long join locators stay valid.
const LOCATOR_SECONDS: i64 = 12 * 3600;

fn ids(tenant: &str, session: &str) -> Result<(TenantId, SessionId), Problem> {
    let tenant = tenant.parse().map_err(|_| Problem::internal())?;
    let session = session.parse().map_err(|_| Problem::internal())?;
    Ok((tenant, session))
}

pub async fn list(principal: Principal) -> Result<Json<Vec<SupportSession>>, Problem> {
    principal.require(Permission::ReadSessions)?;
    let mut tx = principal.tx().await?;
    Ok(Json(support::list(&mut tx, 500).await?))
}

pub async fn get(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<SupportSession>, Problem> {
    principal.require(Permission::ReadSessions)?;
    let mut tx = principal.tx().await?;
    support::get(&mut tx, &id)
        .await?
        .map(Json)
        .ok_or_else(Problem::not_found)
}

/// Reserve a fresh locator made by `make`, retrying on collisions.
async fn reserve(
    state: &AppState,
    make: impl Fn() -> Option<String>,
    tenant: &str,
    session: &str,
) -> Result<String, Problem> {
    for _ in 0..20 {
        let locator = make().ok_or_else(Problem::internal)?;
        let mut p = state.store.platform().await?;
        match locators::reserve(&mut p, &locator, tenant, session, now() + LOCATOR_SECONDS).await {
            Ok(()) => {
                p.commit().await?;
                return Ok(locator);
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_locator",
        "no free join code right now; try again",
    ))
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    Ok((
        StatusCode::CREATED,
        Json(open(&state, &principal, None, support::REMOTE).await?),
    ))
}

/// Opens an attended session of `kind` (remote support or camera share)
/// led by the caller: locators reserved, the record stored and audited,
/// the leader's broker grant issued. With `desk_record`, the session is
/// linked to that desk record in the same transaction as the session
/// record.
pub async fn open(
    state: &AppState,
    principal: &Principal,
    desk_record: Option<&str>,
    kind: &str,
) -> Result<serde_json::Value, Problem> {
    let session_id = fernhand_store::new_id()?;
    let tenant = principal.tenant_id.clone();
    let code_locator = reserve(
        state,
        || JoinCode::generate_locator().ok(),
        &tenant,
        &session_id,
    )
    .await?;
    let link_locator = reserve(
        state,
        || JoinLink::generate_locator().ok(),
        &tenant,
        &session_id,
    )
    .await?;
    let mut tx = principal.tx().await?;
    let record = support::create_with_id(
        &mut tx,
        &session_id,
        &principal.user.id,
        &code_locator,
        &link_locator,
        kind,
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "session.start",
        &record.id,
        &json!({"desk_record": desk_record, "kind": kind}),
    )
    .await?;
    if let Some(desk_record) = desk_record {
        let at = now();
        fernhand_store::desk::sessions::link(
            &mut tx,
            desk_record,
            &record.id,
            &principal.user.id,
            at,
        )
        .await?;
        fernhand_store::desk::history::append(
            &mut tx,
            desk_record,
            at,
            &principal.user.id,
            &[("session".into(), None, Some(record.id.clone()))],
        )
        .await?;
    }
    let restricted_policy = fernhand_store::privacy::get(&mut tx)
        .await?
        .restricted_policy;
    tx.commit().await?;
    let (t, s) = ids(&tenant, &record.id)?;
    let grant = state
        .broker
        .grant(
            t,
            s,
            MemberId(1),
            TicketRole::Leader,
            None,
            Duration::from_secs(u64::try_from(LOCATOR_SECONDS).unwrap_or(43_200)),
        )
        .await?;
    Ok(json!({
        "session": record,
        "member": 1,
        "grant": grant,
        "tickets": "/broker/v1/tickets",
        // What the endpoints do with restricted data in chat.
        "restricted_policy": restricted_policy,
        // TURN credentials only where a browser-to-browser call needs them.
        "ice_servers": if kind == support::CAMERA { state.ice.servers(&record.id) } else { json!([]) },
    }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct End {
    outcome: String,
}

pub async fn end(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<End>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::RunSessions)?;
    if body.outcome.len() > 200 {
        return Err(Problem::bad_request("outcome is at most 200 characters"));
    }
    let mut tx = principal.tx().await?;
    if support::get(&mut tx, &id).await?.is_none() {
        return Err(Problem::not_found());
    }
    if !support::end(&mut tx, &id, &body.outcome).await? {
        return Err(Problem::conflict("the session has already ended"));
    }
    audit::append(
        &mut tx,
        &principal.user.id,
        "session.end",
        &id,
        &json!({"outcome": body.outcome}),
    )
    .await?;
    tx.commit().await?;
    let mut p = state.store.platform().await?;
    locators::release(&mut p, &id).await?;
    p.commit().await?;
    if let Ok(s) = id.parse() {
        state.broker.end_session(s).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Join {
    locator: String,
}

/// A customer finds a session by the public half of its code or link.
pub async fn join(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<Join>,
) -> Result<Json<serde_json::Value>, Problem> {
    if let Some(ip) = peer
        && !state.limits.join(ip)
    {
        state
            .security_event(None, "rate_limited", peer, json!({"route": "join"}))
            .await;
        return Err(Problem::too_many(
            "too many join attempts from this address; wait a minute",
        ));
    }
    if body.locator.is_empty() || body.locator.len() > 64 {
        return Err(Problem::bad_request(
            "a locator is 6 digits or 22 characters",
        ));
    }
    let mut p = state.store.platform().await?;
    let Some(found) = locators::find(&mut p, &body.locator).await? else {
        drop(p);
        state
            .security_event(None, "unknown_locator", peer, json!({}))
            .await;
        return Err(Problem::not_found());
    };
    drop(p);
    let mut tx = state.store.tenant(&found.tenant_id).await?;
    let Some(session) = support::get(&mut tx, &found.session_id).await? else {
        return Err(Problem::not_found());
    };
    let camera = session.kind == support::CAMERA;
    // A camera share is between one expert and one customer: its link is
    // for one phone. (The locators go at the first join; this catches a
    // second browser racing the first.)
    let joined = serde_json::from_str::<Vec<serde_json::Value>>(&session.members)
        .map_err(|_| Problem::internal())?;
    if camera && !joined.is_empty() {
        drop(tx);
        state
            .security_event(
                Some(&found.tenant_id),
                "camera_second_join",
                peer,
                json!({"session": found.session_id}),
            )
            .await;
        return Err(Problem::conflict(
            "this camera share already has its customer; ask the expert for a new link",
        ));
    }
    let Some(member) = support::add_member(&mut tx, &found.session_id, "customer").await? else {
        return Err(Problem::not_found());
    };
    audit::append(
        &mut tx,
        "customer",
        "session.join",
        &found.session_id,
        &json!({"member": member, "ip": peer.map(|p| p.to_string())}),
    )
    .await?;
    let restricted_policy = fernhand_store::privacy::get(&mut tx)
        .await?
        .restricted_policy;
    tx.commit().await?;
    if camera {
        let mut p = state.store.platform().await?;
        locators::release(&mut p, &found.session_id).await?;
        p.commit().await?;
    }
    let (t, s) = ids(&found.tenant_id, &found.session_id)?;
    let grant = state
        .broker
        .grant(
            t,
            s,
            MemberId(member),
            TicketRole::Customer,
            None,
            Duration::from_secs(3600),
        )
        .await?;
    Ok(Json(json!({
        "session": found.session_id,
        "kind": session.kind,
        "member": member,
        "leader": 1,
        "grant": grant,
        "tickets": "/broker/v1/tickets",
        "restricted_policy": restricted_policy,
        "ice_servers": if camera { state.ice.servers(&found.session_id) } else { json!([]) },
    })))
}
