//! The configuration items' pages: the list by type, and an item with its
//! attributes, relations, impact view, open records and — for an enrolled
//! device — "Connect", which opens the console on it.

use super::{Layout, respond, when};
use crate::app::AppState;
use crate::app::desk::cmdb::{self, CiView};
use crate::app::principal::{Permission, Principal};
use crate::problem::Problem;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use fernhand_store::desk::cis;
use serde::Deserialize;
use serde_json::Value;

const TYPES: &[&str] = &["device", "server", "application", "service", "network"];

/// A row of the list.
pub struct Row {
    id: String,
    name: String,
    ci_type: String,
    device: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "ci_list.html")]
struct ListPage {
    layout: Layout,
    types: &'static [&'static str],
    shown_type: String,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default, rename = "type")]
    ci_type: String,
}

/// `GET /desk/cis`.
pub async fn list(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Query(q): Query<ListQuery>,
) -> Response {
    respond(&state, &uri, who, Layout::desk, async |p| {
        list_page(p, q).await
    })
    .await
}

async fn list_page(p: &Principal, q: ListQuery) -> Result<ListPage, Problem> {
    p.require(Permission::ReadDesk)?;
    let ci_type = TYPES
        .contains(&q.ci_type.as_str())
        .then_some(q.ci_type.as_str());
    let mut tx = p.tx().await?;
    let found = cis::list(&mut tx, ci_type, 500).await?;
    tx.commit().await?;
    Ok(ListPage {
        layout: Layout::desk(p),
        types: TYPES,
        shown_type: ci_type.unwrap_or_default().to_owned(),
        rows: found
            .into_iter()
            .map(|c| Row {
                updated: when(c.updated_at),
                device: c.device_id.is_some(),
                id: c.id,
                name: c.name,
                ci_type: c.ci_type,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "ci.html")]
struct CiPage {
    layout: Layout,
    may_sessions: bool,
    attributes: Vec<(String, String)>,
    impact: Vec<(String, String, String, u64)>,
    open: Vec<(String, String, String)>,
    v: CiView,
}

/// `GET /desk/cis/{key}` (id or name).
pub async fn item(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Path(key): Path<String>,
) -> Response {
    respond(&state, &uri, who, Layout::desk, async |p| {
        item_page(p, &key).await
    })
    .await
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn item_page(p: &Principal, key: &str) -> Result<CiPage, Problem> {
    p.require(Permission::ReadDesk)?;
    let mut tx = p.tx().await?;
    let v = cmdb::view(&mut tx, key).await?;
    tx.commit().await?;
    let str_at = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_owned();
    Ok(CiPage {
        layout: Layout::desk(p),
        may_sessions: p.require(Permission::RunSessions).is_ok(),
        attributes: v
            .ci
            .attributes
            .iter()
            .map(|(k, x)| (k.clone(), text(x)))
            .collect(),
        impact: v
            .impact
            .iter()
            .map(|a| {
                (
                    str_at(a, "id"),
                    str_at(a, "name"),
                    str_at(a, "ci_type"),
                    a["depth"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
        open: v
            .open_records
            .iter()
            .map(|r| {
                (
                    str_at(r, "reference"),
                    str_at(r, "title"),
                    str_at(r, "state"),
                )
            })
            .collect(),
        v,
    })
}
