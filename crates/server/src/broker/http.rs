//! The broker's HTTP surface, mounted by the control plane:
//!
//! `POST /broker/v1/tickets` with `Authorization: Bearer <grant>` and body
//! `{"failed_relay": "<relay id>"}` (optional) → `200` with a
//! [`super::TicketGrant`]; `401` for a bad grant, `503` when no relay can take
//! the session; errors as `application/problem+json`.

use super::{Broker, BrokerError};
use crate::problem::Problem;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fernhand_protocol::RelayId;
use serde::Deserialize;
use std::sync::Arc;

/// Body of a ticket request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The relay the member could not reach, if any.
    #[serde(default)]
    pub failed_relay: Option<RelayId>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn tickets(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    body: Option<Json<TicketRequest>>,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "grant_required",
            "send Authorization: Bearer <grant>",
        )
        .into_response();
    };
    let request = body.map(|Json(b)| b).unwrap_or_default();
    match broker.ticket(token, request.failed_relay) {
        Ok(grant) => Json(grant).into_response(),
        Err(BrokerError::BadGrant) => {
            tracing::warn!(target: "fernhand::security", "ticket request with an unknown or expired grant");
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "bad_grant",
                "unknown or expired grant",
            )
            .into_response()
        }
        Err(BrokerError::NoRelay) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_relay",
            "no healthy relay can take this session; retry shortly",
        )
        .into_response(),
        Err(BrokerError::Entropy) => Problem::internal().into_response(),
    }
}

/// The routes for members.
pub fn router(broker: Arc<Broker>) -> Router {
    Router::new()
        .route("/broker/v1/tickets", post(tickets))
        .with_state(broker)
}
