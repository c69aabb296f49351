//! Camera share routes: start one (alone or from a desk record), the ICE
//! servers of a share, and its stored items — snapshots the expert takes
//! and the record the expert's console sends at the end. The video and the
//! chat never pass through here: they go browser to browser, and the
//! signalling that sets the call up travels sealed in the session's
//! end-to-end channel.

use super::desk_sessions::Line;
use super::sessions;
use crate::app::AppState;
use crate::app::camera::{self, MAX_RECORD, MAX_SNAPSHOT, NewItem};
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fernhand_store::camera as stored;
use fernhand_store::{audit, now, support};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The body limit of the snapshot route (one over, so the handler tells
/// "too large" itself).
pub fn snapshot_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_SNAPSHOT + 1)
}

/// Starts a camera share: the locators of its code and link, the leader's
/// grant, the ICE servers.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    let body = sessions::open(&state, &principal, None, support::CAMERA).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// Fresh ICE servers (TURN credentials expire) for a share's expert.
pub async fn ice(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::RunSessions)?;
    let mut tx = principal.tx().await?;
    let s = camera::session(&mut tx, &id).await?;
    tx.commit().await?;
    if s.state != "open" {
        return Err(Problem::conflict("the camera share has ended"));
    }
    Ok(Json(json!({"ice_servers": state.ice.servers(&s.id)})))
}

/// Stores a snapshot (the request body: a JPEG, PNG or WebP image) of an
/// open share.
pub async fn snapshot(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    if body.len() > MAX_SNAPSHOT {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a snapshot is at most {} MiB", MAX_SNAPSHOT >> 20),
        ));
    }
    let mut tx = principal.tx().await?;
    let s = camera::session(&mut tx, &id).await?;
    if s.state != "open" {
        return Err(Problem::conflict("the camera share has ended"));
    }
    let Some(media_type) = camera::image_type(&body) else {
        return Err(Problem::bad_request(
            "a snapshot is a JPEG, PNG or WebP image",
        ));
    };
    let item = camera::store(
        &mut tx,
        &state.sealer,
        &s,
        NewItem {
            item: "snapshot",
            media_type,
            bytes: &body,
            by: &principal.user.id,
        },
        now(),
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "camera.snapshot",
        &s.id,
        &json!({"item": item.id, "size": item.size}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(item))))
}

/// An annotation the expert drew, as the console recorded it.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// When (Unix milliseconds).
    at: i64,
    /// `arrow` or `circle`.
    shape: String,
    /// Start and end points, as shares of the picture's width and height.
    points: [f64; 4],
}

/// The share's record, as the expert's console saw it.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Call connected (Unix seconds), if it did.
    #[serde(default)]
    connected_at: Option<i64>,
    /// Ended (Unix seconds).
    ended_at: i64,
    /// Chat, in order.
    #[serde(default)]
    chat: Vec<Line>,
    /// Annotations, in order.
    #[serde(default)]
    annotations: Vec<Annotation>,
    /// How the path went: `direct` or `relay` (TURN).
    #[serde(default)]
    path: Option<String>,
}

/// Stores the share's record (once).
pub async fn record(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Record>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    if body.chat.len() > 10_000
        || body.annotations.len() > 10_000
        || body
            .chat
            .iter()
            .any(|l| l.text.len() > 4096 || l.from.len() > 200)
        || body.annotations.iter().any(|a| {
            !matches!(a.shape.as_str(), "arrow" | "circle")
                || a.points
                    .iter()
                    .any(|p| !p.is_finite() || !(0.0..=1.0).contains(p))
        })
    {
        return Err(Problem::bad_request(
            "a record holds at most 10,000 lines and annotations; lines are at most 4,096 bytes; shapes are arrow or circle with points between 0 and 1",
        ));
    }
    let bytes = serde_json::to_vec(&body).map_err(|_| Problem::internal())?;
    if bytes.len() > MAX_RECORD {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the record is too large",
        ));
    }
    let mut tx = principal.tx().await?;
    let s = camera::session(&mut tx, &id).await?;
    if stored::list(&mut tx, &s.id)
        .await?
        .iter()
        .any(|i| i.item == "record")
    {
        return Err(Problem::conflict("the share's record is already stored"));
    }
    let item = camera::store(
        &mut tx,
        &state.sealer,
        &s,
        NewItem {
            item: "record",
            media_type: "application/json",
            bytes: &bytes,
            by: &principal.user.id,
        },
        now(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(item))))
}

/// A share's items (descriptions only).
pub async fn items(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadSessions)?;
    let mut tx = principal.tx().await?;
    let s = camera::session(&mut tx, &id).await?;
    let found = stored::list(&mut tx, &s.id).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// One item's bytes, opened: an image (of the type its signature showed
/// when it was stored) or the record's JSON; sandboxed, never sniffed.
pub async fn item(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    principal.require(Permission::ReadSessions)?;
    let mut tx = principal.tx().await?;
    let (item, bytes) = camera::open(&mut tx, &state.sealer, &id).await?;
    tx.commit().await?;
    let mut response = bytes.to_vec().into_response();
    let h = response.headers_mut();
    let media = match item.media_type.as_str() {
        "image/jpeg" => "image/jpeg",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        _ => "application/json",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
