//! The broker's HTTP surface, mounted by the control plane:
//!
//! `POST /broker/v1/tickets` with `Authorization: Bearer <grant>` and body
//! `{"failed_relay": "<relay id>"}` (optional) → `200` with a
//! [`super::TicketGrant`]; `401` for a bad grant, `503` when no relay can take
//! the session; errors as `application/problem+json`.

use super::{Broker, BrokerError};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
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
        return problem(
            StatusCode::UNAUTHORIZED,
            "Grant required",
            "send Authorization: Bearer <grant>",
        );
    };
    let request = body.map(|Json(b)| b).unwrap_or_default();
    match broker.ticket(token, request.failed_relay) {
        Ok(grant) => Json(grant).into_response(),
        Err(BrokerError::BadGrant) => {
            tracing::warn!(target: "fernhand::security", "ticket request with an unknown or expired grant");
            problem(
                StatusCode::UNAUTHORIZED,
                "Bad grant",
                "unknown or expired grant",
            )
        }
        Err(BrokerError::NoRelay) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "No relay available",
            "no healthy relay can take this session; retry shortly",
        ),
        Err(BrokerError::Entropy) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "try again",
        ),
    }
}

/// The routes for members.
pub fn router(broker: Arc<Broker>) -> Router {
    Router::new()
        .route("/broker/v1/tickets", post(tickets))
        .with_state(broker)
}
