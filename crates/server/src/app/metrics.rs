//! The control plane's Prometheus metrics at `/metrics`: requests by route
//! and status class with their duration, security events by kind, agents
//! online on this replica and healthy relays. Served only to loopback
//! callers unless the operator opens it (`--metrics-public`); the figures
//! name no tenant, user or device.

use super::AppState;
use super::routes::Peer;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Instant;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template (`/api/v1/users/{id}`), or `unmatched`.
    pub route: String,
    /// Method.
    pub method: String,
    /// `2xx`, `4xx`, `5xx` …
    pub status: String,
}

/// Labels of a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// Route template.
    pub route: String,
}

/// Labels of a security event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// Event kind.
    pub kind: String,
}

/// Every metric of the control plane.
pub struct ServerMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabel, Histogram>,
    security_events: Family<KindLabel, Counter>,
    agents_online: Gauge,
    relays_healthy: Gauge,
    /// Whether callers other than loopback may read `/metrics`.
    pub public: bool,
}

fn histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl ServerMetrics {
    /// Metrics, readable from loopback only unless `public`.
    pub fn new(public: bool) -> ServerMetrics {
        let mut registry = Registry::with_prefix("fernhand_server");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations =
            Family::<RouteLabel, Histogram>::new_with_constructor(histogram as fn() -> Histogram);
        let security_events = Family::<KindLabel, Counter>::default();
        let agents_online = Gauge::default();
        let relays_healthy = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration by route",
            durations.clone(),
        );
        registry.register(
            "security_events",
            "Security events by kind",
            security_events.clone(),
        );
        registry.register(
            "agents_online",
            "Unattended agents with a control connection to this replica",
            agents_online.clone(),
        );
        registry.register(
            "relays_healthy",
            "Relays the broker may place sessions on",
            relays_healthy.clone(),
        );
        ServerMetrics {
            registry,
            requests,
            durations,
            security_events,
            agents_online,
            relays_healthy,
            public,
        }
    }

    /// Count a security event.
    pub fn security_event(&self, kind: &str) {
        self.security_events
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }
}

/// Middleware: count and time every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.durations
        .get_or_create(&RouteLabel {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    let status = format!("{}xx", response.status().as_u16() / 100);
    m.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .inc();
    response
}

/// `GET /metrics` in Prometheus text format.
pub async fn serve(State(state): State<AppState>, Peer(peer): Peer) -> Response {
    if !state.metrics.public && !peer.is_some_and(|p| p.is_loopback()) {
        return super::problem::Problem::not_found().into_response();
    }
    let m = &state.metrics;
    m.agents_online
        .set(i64::try_from(state.agents.count()).unwrap_or(i64::MAX));
    let healthy = match state.broker.relays().await {
        Ok(relays) => relays.iter().filter(|r| r.healthy).count(),
        Err(e) => {
            tracing::error!("relay registry unreadable: {e}");
            0
        }
    };
    m.relays_healthy
        .set(i64::try_from(healthy).unwrap_or(i64::MAX));
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
