//! Tenant exports through the API: start one (it runs in the background),
//! follow its progress, download the archive (resumable with byte
//! ranges). Administrators of the tenant only; each step is audited.

use crate::app::AppState;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use fernhand_store::audit;
use serde_json::{Value, json};

/// Starts an export of the caller's tenant.
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::ManageTenant)?;
    let id = state.exports.start(
        state.store.clone(),
        state.sealer.clone(),
        &principal.tenant_id,
    )?;
    let mut tx = principal.tx().await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "privacy.export_started",
        &id,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": id,
            "state": "running",
            "status": format!("/api/v1/privacy/exports/{id}"),
            "archive": format!("/api/v1/privacy/exports/{id}/archive"),
        })),
    ))
}

/// An export's progress: tables done and their rows; when done, its size
/// and until when it can be downloaded.
pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageTenant)?;
    state
        .exports
        .status(&principal.tenant_id, &id)
        .map(Json)
        .ok_or_else(Problem::not_found)
}

/// The archive of a finished export (`Range` answered for resuming).
pub async fn archive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    principal.require(Permission::ManageTenant)?;
    let path = state
        .exports
        .archive(&principal.tenant_id, &id)
        .ok_or_else(Problem::not_found)?;
    if !headers.contains_key(header::RANGE) {
        let mut tx = principal.tx().await?;
        audit::append(
            &mut tx,
            &principal.user.id,
            "privacy.export_downloaded",
            &id,
            &json!({}),
        )
        .await?;
        tx.commit().await?;
    }
    let name = format!("fernhand-export-{id}.tar");
    Ok(crate::app::download::file(&path, &name, "application/x-tar", &headers).await)
}
