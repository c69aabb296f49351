//! Liveness: the database answers.

use crate::app::AppState;
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::State;

pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Problem> {
    let mut p = state.store.platform().await?;
    fernhand_store::tenants::count(&mut p).await?;
    Ok(Json(serde_json::json!({"status": "ok"})))
}
