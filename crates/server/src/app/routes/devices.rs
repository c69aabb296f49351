//! Unattended devices: enrolment tokens (admins), enrolment (the agent, with
//! a token), the device list (experts see the devices of their groups),
//! device groups and who may reach them, and "connect": an expert opens a
//! session with an online device, which hears of it on its control
//! connection.

use super::Peer;
use crate::app::AppState;
use crate::app::crypto;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal, Role};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fernhand_protocol::ticket::Role as TicketRole;
use fernhand_protocol::{MemberId, SessionId, TenantId};
use fernhand_store::devices::{self, Device, DeviceGroup, NewDevice};
use fernhand_store::{audit, now, support, users};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

pub use crate::app::principal::{DEVICE_PREFIX, ENROLMENT_PREFIX};
/// Longest an enrolment token may live.
const MAX_ENROLMENT_SECONDS: i64 = 30 * 24 * 3600;
/// How long an unattended session's grants last.
const DEVICE_SESSION: Duration = Duration::from_secs(12 * 3600);

fn policy_ok(p: &str) -> bool {
    matches!(p, "unattended" | "ask")
}

/// Split `<prefix><tenant>_<secret>`.
pub fn split_credential<'a>(value: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    value.strip_prefix(prefix)?.split_once('_')
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolmentToken {
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// A single-use enrolment token, shown once.
pub async fn create_enrolment_token(
    principal: Principal,
    ApiJson(body): ApiJson<NewEnrolmentToken>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    principal.require(Permission::ManageDevices)?;
    let ttl = body.ttl_seconds.unwrap_or(24 * 3600);
    if !(60..=MAX_ENROLMENT_SECONDS).contains(&ttl) {
        return Err(Problem::bad_request("ttl_seconds is 60 to 2592000"));
    }
    let mut tx = principal.tx().await?;
    if let Some(g) = &body.group_id
        && devices::get_group(&mut tx, g).await?.is_none()
    {
        return Err(Problem::not_found());
    }
    let secret = crypto::token().ok_or_else(Problem::internal)?;
    let record = devices::create_enrolment_token(
        &mut tx,
        &crypto::token_hash(&secret),
        body.group_id.as_deref(),
        &principal.user.id,
        now() + ttl,
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "enrolment_token.create",
        &record.id,
        &json!({"group": body.group_id}),
    )
    .await?;
    tx.commit().await?;
    let token = format!(
        "{ENROLMENT_PREFIX}{}_{}",
        principal.tenant_id,
        secret.as_str()
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "record": record })),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    token: String,
    name: String,
    os: String,
    #[serde(default = "default_policy")]
    policy: String,
}

fn default_policy() -> String {
    "ask".to_owned()
}

#[derive(Serialize)]
pub struct Enrolled {
    device: Device,
    /// The device's credential for its control connection, shown once.
    credential: String,
}

/// An agent enrols with a token: single use, expiring, rate-limited per
/// address; every refusal is a security event.
pub async fn enrol(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<Enrol>,
) -> Result<(StatusCode, Json<Enrolled>), Problem> {
    if let Some(ip) = peer
        && !state.limits.enrol(ip)
    {
        state
            .security_event(None, "rate_limited", peer, json!({"route": "enrol"}))
            .await;
        return Err(Problem::too_many(
            "too many enrolments from this address; wait a minute",
        ));
    }
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 || body.os.len() > 200 || !policy_ok(&body.policy) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_device",
            "give a name (up to 200 characters), an OS and a policy (unattended or ask)",
        ));
    }
    let refused = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "bad_enrolment_token",
            "the enrolment token is unknown, used or expired",
        )
    };
    let Some((tenant, secret)) = split_credential(&body.token, ENROLMENT_PREFIX) else {
        state
            .security_event(
                None,
                "enrolment_refused",
                peer,
                json!({"reason": "malformed"}),
            )
            .await;
        return Err(refused());
    };
    let mut tx = state.store.tenant(tenant).await?;
    let Some(group) = devices::use_enrolment_token(&mut tx, &crypto::token_hash(secret)).await?
    else {
        drop(tx);
        // Filed under the tenant the token names: its admins see attempts on it.
        state
            .security_event(
                Some(tenant),
                "enrolment_refused",
                peer,
                json!({"reason": "unknown, used or expired"}),
            )
            .await;
        return Err(refused());
    };
    let credential = crypto::token().ok_or_else(Problem::internal)?;
    let device = devices::enrol(
        &mut tx,
        &NewDevice {
            name,
            os: body.os.trim(),
            group_id: group.as_deref(),
            policy: &body.policy,
            credential_hash: &crypto::token_hash(&credential),
        },
    )
    .await?;
    let mut reported = serde_json::Map::new();
    reported.insert("os".into(), json!(device.os));
    crate::app::desk::inventory::device_reported(&mut tx, &device.id, name, &reported, now())
        .await?;
    audit::append(
        &mut tx,
        "device",
        "device.enrol",
        &device.id,
        &json!({"name": name, "ip": peer.map(|p| p.to_string())}),
    )
    .await?;
    tx.commit().await?;
    let credential = format!("{DEVICE_PREFIX}{tenant}_{}", credential.as_str());
    Ok((StatusCode::CREATED, Json(Enrolled { device, credential })))
}

/// A device with whether it is online now.
#[derive(Serialize)]
pub struct DeviceView {
    #[serde(flatten)]
    device: Device,
    online: bool,
}

/// Whether the device's control connection is held by this replica, or
/// by another live replica (only possible on PostgreSQL: the embedded
/// default is one process, and a claim by an earlier run of it is stale).
fn presence(state: &AppState, tenant: &str, device: &Device) -> (bool, bool) {
    let here = state.agents.is_online(tenant, &device.id);
    let elsewhere = state.store.backend() == fernhand_store::Backend::Postgres
        && device
            .online_at
            .as_deref()
            .is_some_and(|r| r != &*state.replica);
    (here, elsewhere)
}

fn view(state: &AppState, tenant: &str, device: Device) -> DeviceView {
    let (here, elsewhere) = presence(state, tenant, &device);
    let online = here || elsewhere;
    DeviceView { device, online }
}

/// Whether the caller may see/reach every device (admins) or only those
/// of the groups they are assigned to.
fn sees_all(principal: &Principal) -> bool {
    principal.role == Role::TenantAdmin || principal.role == Role::Auditor
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<DeviceView>>, Problem> {
    principal.require(Permission::ReadDevices)?;
    let mut tx = principal.tx().await?;
    let all = devices::list_for(&mut tx, &principal.user.id, sees_all(&principal)).await?;
    Ok(Json(
        all.into_iter()
            .map(|d| view(&state, &principal.tenant_id, d))
            .collect(),
    ))
}

/// The device if the caller may see it; 404 otherwise (not "forbidden":
/// whether it exists is not told).
async fn visible(
    principal: &Principal,
    tx: &mut fernhand_store::TenantTx,
    id: &str,
) -> Result<Device, Problem> {
    let device = devices::get(tx, id).await?.ok_or_else(Problem::not_found)?;
    if sees_all(principal) || devices::expert_may_reach(tx, &principal.user.id, id).await? {
        Ok(device)
    } else {
        Err(Problem::not_found())
    }
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<DeviceView>, Problem> {
    principal.require(Permission::ReadDevices)?;
    let mut tx = principal.tx().await?;
    let device = visible(&principal, &mut tx, &id).await?;
    Ok(Json(view(&state, &principal.tenant_id, device)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    group_id: Option<String>,
    policy: String,
}

pub async fn update(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeviceUpdate>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::ManageDevices)?;
    if !policy_ok(&body.policy) {
        return Err(Problem::bad_request("policy is unattended or ask"));
    }
    let mut tx = principal.tx().await?;
    if devices::get(&mut tx, &id).await?.is_none() {
        return Err(Problem::not_found());
    }
    if let Some(g) = &body.group_id
        && devices::get_group(&mut tx, g).await?.is_none()
    {
        return Err(Problem::bad_request("no such device group"));
    }
    devices::update(&mut tx, &id, body.group_id.as_deref(), &body.policy).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "device.update",
        &id,
        &json!({"group": body.group_id, "policy": body.policy}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(principal: Principal, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    principal.require(Permission::ManageDevices)?;
    let mut tx = principal.tx().await?;
    if !devices::remove(&mut tx, &id).await? {
        return Err(Problem::not_found());
    }
    fernhand_store::desk::cis::unlink_device(&mut tx, &id, now()).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "device.remove",
        &id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An expert asks to connect to an online device: a session is opened, the
/// expert leads it (member 1), the device is member 2 and hears of it at
/// once on its control connection with its own grant.
pub async fn connect(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    let mut tx = principal.tx().await?;
    let device = visible(&principal, &mut tx, &id).await?;
    let (here, elsewhere) = presence(&state, &principal.tenant_id, &device);
    if !here && !elsewhere {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "device_offline",
            "the device has no control connection now",
        ));
    }
    let session = support::create(&mut tx, &principal.user.id, "", "").await?;
    let member = support::add_member(&mut tx, &session.id, "device")
        .await?
        .ok_or_else(Problem::internal)?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "device.access",
        &device.id,
        &json!({"session": session.id}),
    )
    .await?;
    let restricted_policy = fernhand_store::privacy::get(&mut tx)
        .await?
        .restricted_policy;
    tx.commit().await?;
    let tenant: TenantId = principal
        .tenant_id
        .parse()
        .map_err(|_| Problem::internal())?;
    let sid: SessionId = session.id.parse().map_err(|_| Problem::internal())?;
    let broker = &state.broker;
    let leader = broker
        .grant(
            tenant,
            sid,
            MemberId(1),
            TicketRole::Leader,
            None,
            DEVICE_SESSION,
        )
        .await?;
    let device_grant = broker
        .grant(
            tenant,
            sid,
            MemberId(member),
            TicketRole::Agent,
            None,
            DEVICE_SESSION,
        )
        .await?;
    let notice = json!({
        "type": "connect",
        "session": session.id,
        "member": member,
        "leader": 1,
        "grant": device_grant,
        "tickets": "/broker/v1/tickets",
        "expert": {"id": principal.user.id, "name": principal.user.name},
        "policy": device.policy,
    });
    if here {
        if !state
            .agents
            .notify(&principal.tenant_id, &device.id, notice.to_string())
        {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "device_offline",
                "the device could not be told",
            ));
        }
    } else {
        // Held by another replica: it hears of this through the store.
        let routed = crate::serve::Routed {
            tenant: principal.tenant_id.clone(),
            device: device.id.clone(),
            notice: notice.to_string(),
        };
        let payload = serde_json::to_string(&routed).map_err(|_| Problem::internal())?;
        fernhand_store::replicas::publish(&state.store, &payload).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session": session,
            "member": 1,
            "grant": leader,
            "tickets": "/broker/v1/tickets",
            "device": device.id,
            "device_member": member,
            "restricted_policy": restricted_policy,
        })),
    ))
}

pub async fn list_groups(principal: Principal) -> Result<Json<Vec<DeviceGroup>>, Problem> {
    principal.require(Permission::ReadDevices)?;
    let mut tx = principal.tx().await?;
    Ok(Json(devices::list_groups(&mut tx).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    name: String,
}

pub async fn create_group(
    principal: Principal,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<DeviceGroup>), Problem> {
    principal.require(Permission::ManageDevices)?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Problem::bad_request(
            "give the group a name (up to 200 characters)",
        ));
    }
    let mut tx = principal.tx().await?;
    let group = devices::create_group(&mut tx, name).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "device_group.create",
        &group.id,
        &json!({"name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(group)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupExperts {
    experts: Vec<String>,
}

/// Who may reach the group's devices (a permission grant: audited).
pub async fn set_group_experts(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GroupExperts>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::ManageDevices)?;
    if body.experts.len() > 1000 {
        return Err(Problem::bad_request("at most 1000 experts per group"));
    }
    let mut tx = principal.tx().await?;
    if devices::get_group(&mut tx, &id).await?.is_none() {
        return Err(Problem::not_found());
    }
    for user in &body.experts {
        if users::get(&mut tx, user).await?.is_none() {
            return Err(Problem::bad_request(
                "every expert must be a user of this tenant",
            ));
        }
    }
    devices::set_group_experts(&mut tx, &id, &body.experts).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "permission.grant",
        &id,
        &json!({"experts": body.experts}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
