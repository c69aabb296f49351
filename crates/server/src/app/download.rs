//! The agent for customers to download: the server's own executable (one
//! binary is server, relay, agent and expert), streamed from disk at
//! `/download/fernhand` for the join page's "get the app" link. It runs on
//! the platform the server runs on, which the page says. The same
//! streaming, with byte ranges for resuming, serves tenant export archives.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Read this much per chunk.
const CHUNK: usize = 256 * 1024;

/// The platform the served binary runs on, e.g. `linux-x86_64`.
pub fn platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// `GET /download/fernhand`: the executable, as an attachment.
pub async fn agent(headers: HeaderMap) -> Response {
    let Ok(path) = std::env::current_exe() else {
        return (StatusCode::NOT_FOUND, "not available").into_response();
    };
    let name = format!("fernhand-{}", platform());
    file(&path, &name, "application/octet-stream", &headers).await
}

/// The first byte and the end (exclusive) a `Range: bytes=…` header asks
/// for, of a file of `len` bytes. One range only (`a-b`, `a-`, `-n`);
/// anything else is answered whole.
fn range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            (len.saturating_sub(n), len)
        }
        (a, "") => (a.parse().map_err(|_| ())?, len),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| ())?, b.parse().map_err(|_| ())?);
            (a, b.saturating_add(1).min(len))
        }
    };
    if start >= len || start >= end {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// A file from disk as a download named `name`, streamed, answering one
/// byte range (`206 Partial Content`) so a broken download resumes.
pub async fn file(
    path: &Path,
    name: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Response {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return (StatusCode::NOT_FOUND, "not available").into_response();
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let (status, start, end) = match range(headers, len) {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Err(()) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "seek failed").into_response();
    }
    let body = Body::from_stream(stream::unfold(
        Some((file, end - start)),
        |state| async move {
            let (mut file, left) = state?;
            if left == 0 {
                return None;
            }
            let mut buf = vec![0u8; CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(buf), Some((file, left - n as u64))))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    ));
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&(end - start).to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    response
}
