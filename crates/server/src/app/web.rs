//! The browser's pages and modules, embedded in the binary at build time
//! (see `build.rs`): the expert console at `/`, the customer's join page at
//! `/join` and `/join/{locator}`, and every file of `web/` under `/web/`.
//! Pages get a Content-Security-Policy that allows scripts from this origin
//! only and WebSocket connections to the relays (encrypted ones only when
//! the server itself is served over TLS).

use super::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The embedded file at `path` below `web/`, if there is one.
pub fn asset(path: &str) -> Option<&'static [u8]> {
    embedded::ASSETS
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// Paths of every embedded file.
pub fn asset_paths() -> impl Iterator<Item = &'static str> {
    embedded::ASSETS.iter().map(|(name, _)| *name)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The policy for pages: this origin's scripts and styles, pictures the
/// page makes itself, and WebSockets to relays.
pub fn page_policy(tls: bool) -> &'static str {
    if tls {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         media-src 'self' blob:; connect-src 'self' wss:; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    } else {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    }
}

fn serve(path: &str, tls: bool) -> Response {
    let Some(bytes) = asset(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(page_policy(tls)),
    );
    response
}

async fn console(State(state): State<AppState>) -> Response {
    serve("console/index.html", state.tls)
}

async fn join_page(State(state): State<AppState>) -> Response {
    serve("join/index.html", state.tls)
}

async fn join_page_for(State(state): State<AppState>, Path(_locator): Path<String>) -> Response {
    serve("join/index.html", state.tls)
}

async fn file(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    serve(&path, state.tls)
}

/// `GET /web/platform.json`: what the download link serves.
async fn platform() -> axum::Json<serde_json::Value> {
    axum::Json(
        serde_json::json!({ "agent": "/download/fernhand", "platform": super::download::platform() }),
    )
}

/// The routes of the pages and their files.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/download/fernhand", get(super::download::agent))
        .route("/web/platform.json", get(platform))
        .route("/", get(console))
        .route("/join", get(join_page))
        .route("/join/{locator}", get(join_page_for))
        .route("/web/{*path}", get(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No tracking, analytics or third-party code: nothing served names
    /// another origin (the pages' policy would refuse it anyway; this keeps
    /// anyone from adding one and loosening the policy to match).
    #[test]
    fn no_served_file_names_another_origin() {
        let mut files = 0;
        for path in asset_paths() {
            let Some(bytes) = asset(path) else { continue };
            let text = String::from_utf8_lossy(bytes);
            for scheme in [
                "http://",
                "https://",
                "//cdn",
                "googletagmanager",
                "analytics",
            ] {
                assert!(!text.contains(scheme), "{path} names {scheme}");
            }
            files += 1;
        }
        assert!(files > 20, "the pages are embedded ({files} files)");
        for tls in [true, false] {
            assert!(page_policy(tls).contains("script-src 'self';"));
            assert!(page_policy(tls).contains("default-src 'self';"));
        }
    }

    #[test]
    fn the_end_to_end_layer_and_both_pages_are_embedded() {
        for path in [
            "lib/handshake.js",
            "lib/packet.js",
            "console/index.html",
            "join/index.html",
        ] {
            assert!(asset(path).is_some_and(|b| !b.is_empty()), "{path} missing");
        }
    }

    #[test]
    fn tests_and_tooling_are_not_served() {
        for path in asset_paths() {
            assert!(
                !path.starts_with("test/")
                    && !path.starts_with("node_modules/")
                    && !path.ends_with("package.json"),
                "{path} is served"
            );
        }
        assert!(asset("../Cargo.toml").is_none());
    }

    #[test]
    fn plain_http_pages_may_not_reach_plain_websockets_over_tls() {
        assert!(page_policy(true).contains("connect-src 'self' wss:;"));
        assert!(!page_policy(true).contains("ws: "));
        assert!(page_policy(false).contains("ws:"));
    }
}
