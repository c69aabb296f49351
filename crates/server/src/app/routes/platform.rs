//! Platform routes for the operator: the tenants of the service, creating
//! one with its first administrator, and setting when a subscription ends
//! (the retention rules count from it). Recorded in the tenant's audit log.

use crate::admin::{self, AdminError};
use crate::app::AppState;
use crate::app::json::ApiJson;
use crate::app::operator::Operator;
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fernhand_store::tenants::{self, Tenant};
use fernhand_store::{StoreError, audit};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub async fn list(
    _operator: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<Tenant>>, Problem> {
    let mut p = state.store.platform().await?;
    Ok(Json(tenants::list(&mut p).await?))
}

pub async fn get(
    _operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, Problem> {
    let mut p = state.store.platform().await?;
    tenants::get(&mut p, &id)
        .await?
        .map(Json)
        .ok_or_else(Problem::not_found)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    slug: String,
    name: String,
    admin_email: String,
}

pub async fn create(
    operator: Operator,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    if body.name.trim().is_empty() || body.name.chars().count() > 200 {
        return Err(Problem::bad_request("a tenant's name is 1–200 characters"));
    }
    let password = admin::create_tenant(
        &state.store,
        &body.slug,
        body.name.trim(),
        &body.admin_email,
    )
    .await
    .map_err(|e| match e {
        AdminError::Invalid(why) => Problem::bad_request(why),
        AdminError::Store(StoreError::Conflict(what)) => {
            Problem::conflict(format!("{what} already exists"))
        }
        other => {
            tracing::error!("tenant creation: {other}");
            Problem::internal()
        }
    })?;
    let mut p = state.store.platform().await?;
    let tenant = tenants::by_slug(&mut p, &body.slug)
        .await?
        .ok_or_else(Problem::internal)?;
    drop(p);
    let mut tx = state.store.tenant(&tenant.id).await?;
    audit::append(
        &mut tx,
        &operator.actor(),
        "tenant.create",
        &tenant.id,
        &json!({"slug": tenant.slug}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "tenant": tenant,
            "admin": {"email": body.admin_email.trim().to_lowercase(), "one_time_password": password.as_str()},
        })),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Unix seconds, or null for "no end".
    ends_at: Option<i64>,
}

pub async fn set_subscription(
    operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Subscription>,
) -> Result<StatusCode, Problem> {
    if body
        .ends_at
        .is_some_and(|t| !(0..=253_402_300_799).contains(&t))
    {
        return Err(Problem::bad_request(
            "ends_at is Unix seconds up to the year 9999",
        ));
    }
    let mut p = state.store.platform().await?;
    if !tenants::set_subscription_end(&mut p, &id, body.ends_at).await? {
        return Err(Problem::not_found());
    }
    p.commit().await?;
    let mut tx = state.store.tenant(&id).await?;
    audit::append(
        &mut tx,
        &operator.actor(),
        "subscription.set",
        &id,
        &json!({"ends_at": body.ends_at}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
