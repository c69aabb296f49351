//! Errors as `application/problem+json` (RFC 9457): a stable `type`, a
//! title, the status and a detail that never carries secrets or internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fernhand_store::StoreError;

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable short name (`unauthorized`, `mfa_required`, …), the `type`'s last part.
    pub kind: &'static str,
    /// Human explanation.
    pub detail: String,
}

impl Problem {
    /// A problem of `status` and `kind` with `detail`.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            kind,
            detail: detail.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 401: who are you?
    pub fn unauthorized() -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first")
    }

    /// 403: not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 403: the second factor is still owed in this browser session.
    pub fn mfa_required() -> Problem {
        Problem::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "complete multi-factor authentication first",
        )
    }

    /// 404: not there (or not yours — the two are not distinguished).
    pub fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 409: conflicts with what exists.
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 429: slow down.
    pub fn too_many(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail)
    }

    /// 500: our fault; details go to the log, not the client.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong; it was logged",
        )
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        match e {
            StoreError::Conflict(what) => Problem::conflict(format!("{what} already exists")),
            other => {
                tracing::error!("store: {other}");
                Problem::internal()
            }
        }
    }
}

impl From<crate::broker::BrokerError> for Problem {
    fn from(e: crate::broker::BrokerError) -> Problem {
        tracing::error!("broker: {e}");
        Problem::internal()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": format!("https://fernhand.dev/problems/{}", self.kind),
            "title": self.kind.replace('_', " "),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (self.status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}
