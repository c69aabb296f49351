//! The broker's HTTP surface, mounted by the control plane:
//!
//! `POST /broker/v1/tickets` with `Authorization: Bearer <grant>` and body
//! `{"failed_relay": "<relay id>"}` (optional) → `200` with a
//! [`super::TicketGrant`]; `400` for a body that is not that, `401` for a
//! bad grant (also a security event), `503` when no relay can take the
//! session; errors as `application/problem+json`.

use super::{Broker, BrokerError};
use crate::app::Peer;
use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fernhand_protocol::RelayId;
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;

/// Body of a ticket request.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The relay the member could not reach, if any.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub failed_relay: Option<RelayId>,
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn tickets(
    State(broker): State<Arc<Broker>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    request_ticket(&broker, peer, &headers, &body).await
}

/// Answer one ticket request (also mounted by the control plane's route
/// table, which documents it).
pub async fn request_ticket(
    broker: &Broker,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(token) = bearer(headers) else {
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "grant_required",
            "send Authorization: Bearer <grant>",
        )
        .into_response();
    };
    // The body is optional: empty means "no failed relay".
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        TicketRequest::default()
    } else {
        match serde_json::from_slice::<TicketRequest>(body) {
            Ok(r) => r,
            Err(e) => {
                return Problem::bad_request(format!("malformed ticket request: {e}"))
                    .into_response();
            }
        }
    };
    match broker.ticket(token, request.failed_relay).await {
        Ok(grant) => Json(grant).into_response(),
        Err(BrokerError::BadGrant) => {
            broker
                .security()
                .record(
                    None,
                    "bad_grant",
                    peer,
                    serde_json::json!({"what": "ticket request with an unknown or expired grant"}),
                )
                .await;
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
        Err(e @ (BrokerError::Entropy | BrokerError::State(_))) => {
            tracing::error!("ticket request failed: {e}");
            Problem::internal().into_response()
        }
    }
}

/// The routes for members.
pub fn router(broker: Arc<Broker>) -> Router {
    Router::new()
        .route("/broker/v1/tickets", post(tickets))
        .with_state(broker)
}
