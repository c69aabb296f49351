//! API tokens for scripts: scoped, shown once, stored hashed, revocable.

use crate::app::crypto;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal, TOKEN_PREFIX};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use fernhand_store::audit;
use fernhand_store::tokens::{self, ApiToken};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub async fn list(principal: Principal) -> Result<Json<Vec<ApiToken>>, Problem> {
    principal.require(Permission::OwnTokens)?;
    let mut tx = principal.tx().await?;
    Ok(Json(tokens::list(&mut tx, &principal.user.id).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    scopes: Vec<String>,
}

pub async fn create(
    principal: Principal,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    principal.require(Permission::OwnTokens)?;
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(Problem::bad_request(
            "give the token a name (up to 100 characters)",
        ));
    }
    let known = |s: &String| Permission::ALL.iter().any(|p| p.scope() == s);
    if body.scopes.is_empty() || !body.scopes.iter().all(known) {
        return Err(Problem::bad_request(format!(
            "scopes are some of: {}",
            Permission::ALL.map(Permission::scope).join(", ")
        )));
    }
    let secret = crypto::token().ok_or_else(Problem::internal)?;
    let mut tx = principal.tx().await?;
    let record = tokens::create(
        &mut tx,
        &principal.user.id,
        body.name.trim(),
        &body.scopes.join(" "),
        &crypto::token_hash(&secret),
    )
    .await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "token.create",
        &record.id,
        &json!({"scopes": body.scopes}),
    )
    .await?;
    tx.commit().await?;
    let token = format!("{TOKEN_PREFIX}{}_{}", principal.tenant_id, secret.as_str());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "record": record })),
    ))
}

pub async fn revoke(principal: Principal, Path(id): Path<String>) -> Result<StatusCode, Problem> {
    principal.require(Permission::OwnTokens)?;
    let mut tx = principal.tx().await?;
    if !tokens::revoke(&mut tx, &principal.user.id, &id).await? {
        return Err(Problem::not_found());
    }
    audit::append(&mut tx, &principal.user.id, "token.revoke", &id, &json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
