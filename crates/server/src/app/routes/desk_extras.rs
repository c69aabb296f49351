//! The rest of the desk over HTTP: attachments (raw bodies up to 10 MiB,
//! stored sealed, downloaded as files), watching a record, saved views of
//! the list, and the tenant's outgoing webhooks.

use crate::app::AppState;
use crate::app::desk::attachments::{self, MAX_ATTACHMENT, NewFile};
use crate::app::desk::portal;
use crate::app::desk::records as desk;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fernhand_store::desk::{attachments as stored, views, watchers, webhooks};
use fernhand_store::{audit, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The file's name (required; checked after the record is found, so a
    /// record of another tenant is not found whatever the query).
    #[serde(default)]
    name: Option<String>,
    /// Whether the requester sees it (desk uploads; portal ones always are).
    #[serde(default)]
    public: bool,
}

/// The body limit of upload routes: the largest attachment.
pub fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_ATTACHMENT + 1)
}

/// Attaches the request body to a record.
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<Upload>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    let a = attachments::attach(
        &mut tx,
        &state.sealer,
        &r,
        &principal.user.id,
        NewFile {
            name: q.name.as_deref().unwrap_or_default(),
            bytes: &body,
            public: q.public,
        },
        now(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

/// A record's attachments.
pub async fn list(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    let found = stored::list(&mut tx, &r.id, false).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// A file as a download: never rendered by the browser, whatever it holds.
fn download(name: &str, bytes: Vec<u8>) -> Response {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"download\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    response
}

/// Downloads an attachment.
pub async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let (a, bytes) = attachments::open(&mut tx, &state.sealer, &id).await?;
    tx.commit().await?;
    Ok(download(&a.name, bytes.to_vec()))
}

/// A requester attaches a file to their ticket (the desk sees it, and so
/// do they).
pub async fn portal_upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<Upload>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let r = portal::own(&mut tx, &principal.user.id, &id).await?;
    let a = attachments::attach(
        &mut tx,
        &state.sealer,
        &r,
        &principal.user.id,
        NewFile {
            name: q.name.as_deref().unwrap_or_default(),
            bytes: &body,
            public: true,
        },
        now(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

/// A requester downloads a public attachment of their own ticket.
pub async fn portal_fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    principal.require(Permission::UsePortal)?;
    let mut tx = principal.tx().await?;
    let (a, bytes) = attachments::open(&mut tx, &state.sealer, &id).await?;
    portal::own(&mut tx, &principal.user.id, &a.record_id).await?;
    tx.commit().await?;
    if !a.public {
        return Err(Problem::not_found());
    }
    Ok(download(&a.name, bytes.to_vec()))
}

/// The caller watches a record.
pub async fn watch(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    watchers::add(&mut tx, &r.id, &principal.user.id, now()).await?;
    let all = watchers::of_record(&mut tx, &r.id).await?;
    tx.commit().await?;
    Ok(Json(json!({"watchers": all})))
}

/// The caller stops watching a record.
pub async fn unwatch(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    watchers::remove(&mut tx, &r.id, &principal.user.id).await?;
    let all = watchers::of_record(&mut tx, &r.id).await?;
    tx.commit().await?;
    Ok(Json(json!({"watchers": all})))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    /// Its name.
    name: String,
    /// The list's query string (`kind=incident&category=new`).
    query: String,
}

/// The caller's saved views.
pub async fn list_views(principal: Principal) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let found = views::of_user(&mut tx, &principal.user.id).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// Saves a view of the list.
pub async fn save_view(
    principal: Principal,
    ApiJson(body): ApiJson<NewView>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::ReadDesk)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(Problem::bad_request("a view's name is 1 to 80 characters"));
    }
    let query = body.query.trim_start_matches('?');
    if query.len() > 2000 || query.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Problem::bad_request(
            "a view's query is the list's query string, at most 2,000 characters",
        ));
    }
    let v = views::View {
        id: fernhand_store::new_id()?,
        user_id: principal.user.id.clone(),
        name: name.to_owned(),
        query: query.to_owned(),
        created_at: now(),
    };
    let mut tx = principal.tx().await?;
    if !views::insert(&mut tx, &v).await? {
        return Err(Problem::conflict("you have a view of that name"));
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(v))))
}

/// Deletes one of the caller's views.
pub async fn delete_view(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    if !views::delete(&mut tx, &principal.user.id, &id).await? {
        return Err(Problem::not_found());
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed (https).
    url: String,
    /// The signing secret (at least 16 bytes), kept sealed.
    secret: String,
}

/// Whether `url` may receive a tenant's events: https, or plain http only
/// to loopback; loopback and private address literals only where the
/// operator allows (`--desk-webhooks-to-loopback`).
fn check_tenant_url(url: &str, allow_local: bool) -> Result<(), Problem> {
    let bad = |m: &str| Problem::bad_request(m.to_owned());
    crate::app::webhook::check_url(url).map_err(|e| bad(&e.to_string()))?;
    let parsed = reqwest::Url::parse(url).map_err(|_| bad("the URL does not parse"))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| !crate::app::public_address::is_public(ip));
    if local && !allow_local {
        return Err(bad(
            "webhooks go to public https addresses (the operator may allow local ones)",
        ));
    }
    Ok(())
}

/// Keeps the webhook ids beside the desk settings (see
/// `DeskSettings::webhooks`).
async fn remember_webhooks(tx: &mut fernhand_store::TenantTx) -> Result<(), Problem> {
    let ids: Vec<String> = webhooks::list(tx)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    fernhand_store::desk::settings::put(
        tx,
        crate::app::desk::settings::WEBHOOKS,
        &json!(ids).to_string(),
        now(),
    )
    .await?;
    Ok(())
}

/// The tenant's webhooks.
pub async fn list_webhooks(principal: Principal) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageDesk)?;
    let mut tx = principal.tx().await?;
    let found = webhooks::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// Adds a webhook for every desk event.
pub async fn add_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::ManageDesk)?;
    check_tenant_url(&body.url, state.desk_webhooks_to_loopback)?;
    if body.secret.len() < 16 || body.secret.len() > 256 {
        return Err(Problem::bad_request("the secret is 16 to 256 bytes"));
    }
    let id = fernhand_store::new_id()?;
    let sealed = state
        .sealer
        .seal(
            body.secret.as_bytes(),
            format!("desk-webhook:{}:{id}", principal.tenant_id).as_bytes(),
        )
        .ok_or_else(Problem::internal)?;
    let w = webhooks::Webhook {
        id,
        url: body.url,
        secret_sealed: sealed,
        created_at: now(),
    };
    let mut tx = principal.tx().await?;
    webhooks::insert(&mut tx, &w).await?;
    remember_webhooks(&mut tx).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.webhook_added",
        &w.id,
        &json!({"url": w.url}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

/// Removes a webhook and what waits for it.
pub async fn delete_webhook(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    principal.require(Permission::ManageDesk)?;
    let mut tx = principal.tx().await?;
    if !webhooks::delete(&mut tx, &id).await? {
        return Err(Problem::not_found());
    }
    remember_webhooks(&mut tx).await?;
    webhooks::settle(&mut tx).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.webhook_removed",
        &id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::check_tenant_url;

    #[test]
    fn tenant_webhooks_reach_local_addresses_only_when_allowed() {
        assert!(check_tenant_url("https://hooks.example.com/desk", false).is_ok());
        for local in [
            "http://127.0.0.1:9/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://localhost/x",
        ] {
            assert!(check_tenant_url(local, false).is_err(), "{local}");
        }
        assert!(check_tenant_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_tenant_url("http://hooks.example.com/x", true).is_err());
    }
}
