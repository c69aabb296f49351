//! The data protection page for a tenant's administrators: the rules, the
//! settings (restricted-data policy, session retention), exports with their
//! downloads, deletion requests with their signed certificates. Its forms
//! write through the JSON API like every page's.

use super::{Layout, respond, when};
use crate::app::AppState;
use crate::app::camera::KEEP_SECONDS;
use crate::app::principal::{Permission, Principal};
use crate::app::privacy::retention::{AFTER_SUBSCRIPTION, DEADLINE};
use crate::problem::Problem;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use fernhand_store::deletion_requests as requests;
use fernhand_store::{privacy, tenants};

/// An export's row.
pub struct ExportRow {
    id: String,
    started: String,
    state: String,
    rows: String,
    size: String,
}

/// A deletion request's row.
pub struct RequestRow {
    id: String,
    requested: String,
    what: String,
    rule: String,
    hold: String,
    state: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    layout: Layout,
    policy: String,
    retention_days: String,
    camera_hours: i64,
    after_subscription_days: i64,
    deadline_days: i64,
    subscription_end: Option<String>,
    exports: Vec<ExportRow>,
    requests: Vec<RequestRow>,
}

/// A size for people: `812 KiB`, `3.4 MiB`.
fn size(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{} KiB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
    }
}

/// `GET /privacy`.
pub async fn page(state: State<AppState>, uri: Uri, who: Result<Principal, Problem>) -> Response {
    let exports = state.exports.clone();
    let store = state.store.clone();
    respond(&state, &uri, who, Layout::privacy, async |p| {
        p.require(Permission::ManageTenant)?;
        let mut tx = p.tx().await?;
        let settings = privacy::get(&mut tx).await?;
        let found = requests::for_tenant(tx.conn(), &p.tenant_id).await?;
        tx.commit().await?;
        let mut platform = store.platform().await?;
        let tenant = tenants::get(&mut platform, &p.tenant_id).await?;
        platform.commit().await?;
        let exports = exports
            .list(&p.tenant_id)
            .into_iter()
            .map(|e| ExportRow {
                id: e["id"].as_str().unwrap_or_default().to_owned(),
                started: when(e["started_at"].as_i64().unwrap_or(0)),
                state: e["state"].as_str().unwrap_or_default().to_owned(),
                rows: e["rows"]
                    .as_object()
                    .map(|m| {
                        m.values()
                            .filter_map(serde_json::Value::as_u64)
                            .sum::<u64>()
                            .to_string()
                    })
                    .unwrap_or_default(),
                size: e["size"].as_u64().map(size).unwrap_or_default(),
            })
            .collect();
        let requests = found
            .into_iter()
            .map(|r| RequestRow {
                what: if r.scope == "tenant" {
                    "the whole organisation".to_owned()
                } else {
                    r.targets.join(", ")
                },
                requested: when(r.requested_at),
                rule: if r.rule == "request" {
                    "asked".into()
                } else {
                    r.rule.replace('_', " ")
                },
                hold: r.hold_until.map(when).unwrap_or_default(),
                done: r.state == "done",
                state: r.state,
                id: r.id,
            })
            .collect();
        Ok(PrivacyPage {
            layout: Layout::privacy(p),
            policy: settings.restricted_policy,
            retention_days: settings
                .session_retention_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            camera_hours: KEEP_SECONDS / 3600,
            after_subscription_days: AFTER_SUBSCRIPTION / 86_400,
            deadline_days: DEADLINE / 86_400,
            subscription_end: tenant.and_then(|t| t.subscription_ends_at).map(when),
            exports,
            requests,
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    request: String,
    origin: String,
}

#[derive(serde::Deserialize)]
pub struct ReceiptQuery {
    request: String,
}

/// `GET /privacy/receipt?request=ID`: after a request to delete the whole
/// organisation (whose administrators are signed out as it goes), where
/// its certificate will be; the receipt itself stays in the address's
/// fragment, which never reaches the server. Public: it shows only the
/// request id it was given.
pub async fn receipt(
    state: State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ReceiptQuery>,
) -> Response {
    use axum::response::IntoResponse;
    let plain = q.request.len() == 32 && q.request.bytes().all(|b| b.is_ascii_hexdigit());
    if !plain {
        return Problem::not_found().into_response();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.tls { "https" } else { "http" };
    let page = super::Html::of(&ReceiptPage {
        request: q.request,
        origin: format!("{scheme}://{host}"),
    });
    super::PageResponse(page, state.tls).into_response()
}
