//! The agent for customers to download: the server's own executable (one
//! binary is server, relay, agent and expert), streamed from disk at
//! `/download/fernhand` for the join page's "get the app" link. It runs on
//! the platform the server runs on, which the page says.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::io::AsyncReadExt;

/// Read this much per chunk.
const CHUNK: usize = 256 * 1024;

/// The platform the served binary runs on, e.g. `linux-x86_64`.
pub fn platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// `GET /download/fernhand`: the executable, as an attachment.
pub async fn agent() -> Response {
    let Ok(path) = std::env::current_exe() else {
        return (StatusCode::NOT_FOUND, "not available").into_response();
    };
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return (StatusCode::NOT_FOUND, "not available").into_response();
    };
    let len = file.metadata().await.map(|m| m.len()).ok();
    let body = Body::from_stream(stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    }));
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"fernhand-{}\"", platform()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(len) = len.and_then(|l| HeaderValue::from_str(&l.to_string()).ok()) {
        h.insert(header::CONTENT_LENGTH, len);
    }
    response
}
