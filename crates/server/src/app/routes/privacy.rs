//! Data protection routes for a tenant's administrators: privacy settings
//! (restricted-data policy, session retention), deletion requests and
//! their signed certificates. A certificate stays reachable after its
//! tenant is gone, with the receipt handed out when the request was made;
//! the key that checks certificates is public.

use super::Peer;
use crate::app::AppState;
use crate::app::crypto::{same, token, token_hash};
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fernhand_privacy::restricted::Policy;
use fernhand_store::deletion_requests::{self as requests, DeletionRequest, Progress};
use fernhand_store::privacy::{self, PrivacySettings};
use fernhand_store::{audit, new_id, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// The header that carries a deletion request's receipt.
pub const RECEIPT_HEADER: &str = "x-fernhand-receipt";
/// Longest session retention a tenant may set (ten years).
const MAX_RETENTION_DAYS: i64 = 3650;
/// Most records in one request.
const MAX_TARGETS: usize = 1000;

/// The tenant's privacy settings.
pub async fn settings(principal: Principal) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageTenant)?;
    let mut tx = principal.tx().await?;
    let s = privacy::get(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(json!({
        "restricted_policy": s.restricted_policy,
        "session_retention_days": s.session_retention_days,
        "camera_retention_hours": crate::app::camera::KEEP_SECONDS / 3600,
        "after_subscription_days": crate::app::privacy::retention::AFTER_SUBSCRIPTION / 86_400,
        "deletion_deadline_days": crate::app::privacy::retention::DEADLINE / 86_400,
    })))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `warn`, `mask` or `block`.
    restricted_policy: String,
    /// Days support-session records and transcripts are kept (1–3650);
    /// null keeps them while the tenant is subscribed.
    session_retention_days: Option<i64>,
}

/// Sets the tenant's privacy settings.
pub async fn set_settings(
    principal: Principal,
    ApiJson(body): ApiJson<Settings>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageTenant)?;
    if Policy::parse(&body.restricted_policy).is_none() {
        return Err(Problem::bad_request(
            "restricted_policy is one of: warn, mask, block",
        ));
    }
    if body
        .session_retention_days
        .is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d))
    {
        return Err(Problem::bad_request(
            "session_retention_days is from 1 to 3650, or null",
        ));
    }
    let s = PrivacySettings {
        restricted_policy: body.restricted_policy,
        session_retention_days: body.session_retention_days,
    };
    let mut tx = principal.tx().await?;
    privacy::set(&mut tx, &s).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "privacy.settings",
        "tenant",
        &json!(s),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!(s)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeletion {
    /// `tenant` (everything the tenant has) or `records`.
    scope: String,
    /// For `records`: desk references (`INC-12`) and sessions
    /// (`session:<id>`).
    #[serde(default)]
    records: Vec<String>,
    /// Not before this time (Unix seconds): a legal hold.
    hold_until: Option<i64>,
}

fn check_target(t: &str) -> bool {
    match t.strip_prefix("session:") {
        Some(id) => {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => t.parse::<fernhand_desk::Reference>().is_ok(),
    }
}

/// Records a deletion request. Refused (and logged as a security event)
/// unless the caller administers the tenant. Answers the request and, once,
/// its receipt.
pub async fn request(
    State(state): State<AppState>,
    Peer(peer): Peer,
    principal: Principal,
    ApiJson(body): ApiJson<NewDeletion>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    if let Err(refused) = principal.require(Permission::ManageTenant) {
        state
            .security_event(
                Some(&principal.tenant_id),
                "deletion_refused",
                peer,
                json!({"user": principal.user.id, "scope": body.scope}),
            )
            .await;
        let mut tx = principal.tx().await?;
        audit::append(
            &mut tx,
            &principal.user.id,
            "privacy.deletion_refused",
            &body.scope,
            &json!({"reason": "not a tenant administrator"}),
        )
        .await?;
        tx.commit().await?;
        return Err(refused);
    }
    let targets = match body.scope.as_str() {
        "tenant" if body.records.is_empty() => Vec::new(),
        "tenant" => {
            return Err(Problem::bad_request("a tenant deletion names no records"));
        }
        "records" if body.records.is_empty() || body.records.len() > MAX_TARGETS => {
            return Err(Problem::bad_request(
                "a records deletion names 1 to 1000 records",
            ));
        }
        "records" => {
            if let Some(bad) = body.records.iter().find(|t| !check_target(t)) {
                return Err(Problem::bad_request(format!(
                    "{bad:?} is not a desk reference (INC-12) or session:<id>"
                )));
            }
            // Each target once, in the order given.
            let mut seen = std::collections::HashSet::new();
            body.records
                .iter()
                .filter(|t| seen.insert(t.as_str()))
                .cloned()
                .collect()
        }
        _ => return Err(Problem::bad_request("scope is tenant or records")),
    };
    let t = now();
    if body
        .hold_until
        .is_some_and(|h| h > t + crate::app::privacy::retention::DEADLINE * 12)
    {
        return Err(Problem::bad_request("a hold lasts at most a year from now"));
    }
    let receipt = token().ok_or_else(Problem::internal)?;
    let request = DeletionRequest {
        id: new_id()?,
        tenant_id: principal.tenant_id.clone(),
        scope: body.scope,
        targets,
        rule: "request".into(),
        requested_by: Some(principal.user.id.clone()),
        requested_at: t,
        hold_until: body.hold_until,
        state: "pending".into(),
        progress: Progress::default(),
        done_at: None,
        certificate: None,
    };
    let mut tx = principal.tx().await?;
    requests::insert(tx.conn(), &request, &token_hash(&receipt)).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "privacy.deletion_requested",
        &request.id,
        &json!({"scope": request.scope, "targets": request.targets, "hold_until": request.hold_until}),
    )
    .await?;
    tx.commit().await?;
    state.retention_wake.notify_one();
    let mut answer = json!(request);
    answer["receipt"] = json!(receipt.as_str());
    Ok((StatusCode::CREATED, Json(answer)))
}

/// The tenant's deletion requests, newest first.
pub async fn list(principal: Principal) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageTenant)?;
    let mut tx = principal.tx().await?;
    let all = requests::for_tenant(tx.conn(), &principal.tenant_id).await?;
    tx.commit().await?;
    Ok(Json(json!({"requests": all})))
}

fn certificate_response(request: &DeletionRequest) -> Result<Response, Problem> {
    let Some(signed) = request.certificate.clone() else {
        return Err(Problem::conflict(format!(
            "the request is {}; its certificate is issued when it is done",
            request.state
        )));
    };
    let disposition = format!(
        "attachment; filename=\"deletion-certificate-{}.json\"",
        request.id
    );
    let mut response = (StatusCode::OK, signed).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A finished request's signed certificate (administrators of its tenant).
pub async fn certificate(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    principal.require(Permission::ManageTenant)?;
    let mut tx = principal.tx().await?;
    let found = requests::get(tx.conn(), &id).await?;
    tx.commit().await?;
    match found {
        Some((r, _)) if r.tenant_id == principal.tenant_id => certificate_response(&r),
        _ => Err(Problem::not_found()),
    }
}

/// A certificate by its request's receipt (works after the tenant is gone).
pub async fn certificate_by_receipt(
    State(state): State<AppState>,
    Peer(peer): Peer,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let receipt = headers
        .get(RECEIPT_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut p = state.store.platform().await?;
    let found = requests::get(p.conn(), &id).await?;
    p.commit().await?;
    match found {
        Some((r, hash)) if !receipt.is_empty() && same(&token_hash(receipt), &hash) => {
            certificate_response(&r)
        }
        _ => {
            state
                .security_event(None, "bad_receipt", peer, json!({"request": id}))
                .await;
            Err(Problem::not_found())
        }
    }
}

/// The public key that checks deletion certificates.
pub async fn certificate_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "algorithm": "Ed25519",
        "public_key": STANDARD.encode(state.certificates.verifying_key().to_bytes()),
    }))
}
