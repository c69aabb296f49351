//! The audit log (auditors, admins) and the tenant's security events (admins).

use crate::app::AppState;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Query, State};
use fernhand_store::audit::AuditEntry;
use fernhand_store::security::SecurityEntry;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Since {
    #[serde(default)]
    since: i64,
}

pub async fn audit(
    principal: Principal,
    Query(q): Query<Since>,
) -> Result<Json<Vec<AuditEntry>>, Problem> {
    principal.require(Permission::ReadAudit)?;
    let mut tx = principal.tx().await?;
    Ok(Json(
        fernhand_store::audit::list(&mut tx, q.since, 10_000).await?,
    ))
}

pub async fn security(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<Since>,
) -> Result<Json<Vec<SecurityEntry>>, Problem> {
    principal.require(Permission::ManageTenant)?;
    let mut p = state.store.platform().await?;
    Ok(Json(
        fernhand_store::security::for_tenant(&mut p, &principal.tenant_id, q.since).await?,
    ))
}
