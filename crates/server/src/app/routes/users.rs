//! Users of the tenant (tenant administrators): list, create with a one-time
//! password, look up.

use crate::app::crypto;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal, Role};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use fernhand_store::audit;
use fernhand_store::users::{self, User};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub async fn list(principal: Principal) -> Result<Json<Vec<User>>, Problem> {
    principal.require(Permission::ManageUsers)?;
    let mut tx = principal.tx().await?;
    Ok(Json(users::list(&mut tx).await?))
}

pub async fn get(principal: Principal, Path(id): Path<String>) -> Result<Json<User>, Problem> {
    principal.require(Permission::ManageUsers)?;
    let mut tx = principal.tx().await?;
    users::get(&mut tx, &id)
        .await?
        .map(Json)
        .ok_or_else(Problem::not_found)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    name: String,
    role: String,
}

/// Create a user with a one-time password (shown once; it must be changed
/// at first sign-in).
pub async fn create(
    principal: Principal,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    principal.require(Permission::ManageUsers)?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        Problem::bad_request("role is tenant_admin, expert, auditor or requester")
    })?;
    let email = body.email.trim().to_lowercase();
    if !email.contains('@')
        || email.len() > 254
        || body.name.trim().is_empty()
        || body.name.len() > 200
    {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_user",
            "give an e-mail address and a name",
        ));
    }
    let password = crypto::password().ok_or_else(Problem::internal)?;
    let hash = crypto::make_hash(&password)
        .await
        .ok_or_else(Problem::internal)?;
    let mut tx = principal.tx().await?;
    let user = users::create(&mut tx, &email, body.name.trim(), role.name(), &hash, true).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "user.create",
        &user.id,
        &json!({"role": role.name()}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user, "one_time_password": password.as_str() })),
    ))
}
