//! The platform operator as an API caller: `Authorization: Bearer
//! fho_<secret>`, a token made with `fernhand admin operator-token`. It
//! reaches the platform routes (tenants and their subscriptions) and
//! nothing of any tenant's content; tenant credentials do not reach the
//! platform routes. A wrong operator token is a security event.

use super::AppState;
use super::crypto;
use super::principal::OPERATOR_PREFIX;
use super::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use fernhand_store::operators::{self, OperatorToken};

/// An authenticated platform operator.
pub struct Operator {
    /// The token it used.
    pub token: OperatorToken,
}

impl Operator {
    /// How its actions appear in a tenant's audit log.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.token.name)
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|v| v.strip_prefix(OPERATOR_PREFIX))
            .ok_or_else(Problem::unauthorized)?;
        let mut p = state.store.platform().await?;
        let found = operators::by_hash(&mut p, &crypto::token_hash(secret)).await?;
        drop(p);
        match found {
            Some(token) => Ok(Operator { token }),
            None => {
                let super::Peer(peer) = super::Peer::of(parts);
                state
                    .security_event(
                        None,
                        "bad_operator_token",
                        peer,
                        serde_json::json!({"what": "unknown or revoked operator token"}),
                    )
                    .await;
                Err(Problem::unauthorized())
            }
        }
    }
}
