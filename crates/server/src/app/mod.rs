//! The control plane's HTTP API (axum): accounts, sign-in with MFA, API
//! tokens, attended sessions and joining, audit and security logs, health.
//! JSON in and out; every error is `application/problem+json`.
//!
//! Routes are declared once, as data ([`routes`]): the router is built from
//! the table, and the tenant-isolation test walks the same table, so a new
//! route cannot escape it.

pub mod agents;
pub mod camera;
pub mod crypto;
pub mod desk;
pub mod download;
pub mod export;
pub mod ice;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod operator;
mod pages;
pub mod principal;
pub mod privacy;
pub mod public_address;
pub mod tenant_keys;
pub mod web;
pub use crate::problem;
mod routes;
pub use routes::Peer;
pub mod webhook;

use crate::broker::Broker;
use crate::security_log::SecurityLog;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use axum::routing::MethodRouter;
use crypto::Sealer;
use fernhand_store::Store;
use limits::Limiters;
pub use principal::Permission;
use std::net::IpAddr;
use std::sync::Arc;

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The broker (session placement, tickets).
    pub broker: Arc<Broker>,
    /// Seals secrets at rest.
    pub sealer: Arc<Sealer>,
    /// Rate limits.
    pub limits: Arc<Limiters>,
    /// Unattended agents online on this replica.
    pub agents: Arc<agents::AgentHub>,
    /// Prometheus metrics.
    pub metrics: Arc<metrics::ServerMetrics>,
    /// Where security events go.
    pub security: Arc<SecurityLog>,
    /// This replica's id (random per start).
    pub replica: Arc<str>,
    /// Whether cookies get `Secure` and responses HSTS (served over TLS).
    pub tls: bool,
    /// Whether tenants' desk webhooks may point at loopback addresses.
    pub desk_webhooks_to_loopback: bool,
    /// STUN and TURN for camera shares.
    pub ice: Arc<ice::Ice>,
    /// Signs deletion certificates (`keys/certificates.key`).
    pub certificates: Arc<ed25519_dalek::SigningKey>,
    /// Wakes the retention job (a deletion request was made).
    pub retention_wake: Arc<tokio::sync::Notify>,
    /// Tenant exports made through the API, for download.
    pub exports: Arc<export::jobs::Exports>,
}

impl AppState {
    /// Record a security event (see [`SecurityLog`]).
    pub async fn security_event(
        &self,
        tenant: Option<&str>,
        kind: &str,
        peer: Option<IpAddr>,
        detail: serde_json::Value,
    ) {
        self.security.record(tenant, kind, peer, detail).await;
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (rate-limited where it matters).
    Public,
    /// A signed-in user who may still owe MFA or a password change.
    Pending,
    /// A fully signed-in user with this permission.
    Needs(Permission),
    /// An enrolled device, by its credential.
    Device,
    /// A session member, by the grant the control plane gave it.
    Grant,
    /// The platform operator, by an operator token.
    Operator,
}

/// One route: method, path (axum syntax; `{id}` names a tenant-owned
/// object), access, and a valid example body (JSON; empty when it takes
/// none) that tests and the API document use.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// A valid request body, or `""`.
    pub example: &'static str,
    /// JSON Schema of the request body, for routes that take one.
    pub body: Option<fn() -> serde_json::Value>,
}

impl RouteSpec {
    /// This route takes a JSON body of type `T`.
    pub fn body<T: schemars::JsonSchema>(mut self) -> RouteSpec {
        self.body = Some(openapi::schema_of::<T>);
        self
    }
}

/// Every route of the API, with its handler.
pub fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    routes::all()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in routes() {
        router = router.route(spec.path, handler);
    }
    let tls = state.tls;
    router
        .merge(web::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(move |r| {
            security_headers(r, tls)
        }))
}

async fn security_headers(mut response: Response, tls: bool) -> Response {
    let h = response.headers_mut();
    // Pages set their own (see `web`); everything else gets the strictest.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
