//! Forwarding security events to the operator's alerting: each event is
//! POSTed as JSON to a webhook, signed with HMAC-SHA-256 over
//! `<timestamp>.<body>` (headers `X-Fernhand-Timestamp` and
//! `X-Fernhand-Signature: sha256=<hex>`), retried with backoff on network
//! errors, 429 and 5xx. A bounded queue keeps a flood from growing memory:
//! when it is full, new events are counted as dropped (they are still in
//! the stored security log).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

/// Events waiting to be sent.
const QUEUE: usize = 1024;
/// Attempts per event.
const ATTEMPTS: u32 = 6;

/// Why a webhook cannot be configured.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not https (plain http only to loopback).
    #[error("the webhook URL must be https:// (http:// only to a loopback address)")]
    Insecure,
    /// Unparseable URL.
    #[error("the webhook URL does not parse")]
    Url,
    /// The secret is too short.
    #[error("the webhook secret must be at least 16 bytes")]
    WeakSecret,
    /// The HTTP client.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// The sending side, shared by handlers.
pub struct Webhook {
    queue: mpsc::Sender<String>,
    /// Events not queued because the queue was full.
    pub dropped: AtomicU64,
    /// Events given up after every attempt.
    pub failed: Arc<AtomicU64>,
}

/// `sha256=<hex>` of HMAC-SHA-256(secret, `timestamp.body`).
pub fn signature(secret: &[u8], timestamp: u64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Refuses URLs that are not https (plain http only to a loopback address).
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| WebhookError::Url)?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(WebhookError::Insecure)
            }
        }
        _ => Err(WebhookError::Url),
    }
}

impl Webhook {
    /// Start the sender task for `url` with `secret`.
    pub fn start(url: String, secret: Zeroizing<Vec<u8>>) -> Result<Webhook, WebhookError> {
        check_url(&url)?;
        if secret.len() < 16 {
            return Err(WebhookError::WeakSecret);
        }
        let client = client()?;
        let (queue, mut rx) = mpsc::channel::<String>(QUEUE);
        let failed = Arc::new(AtomicU64::new(0));
        let failures = failed.clone();
        tokio::spawn(async move {
            while let Some(body) = rx.recv().await {
                if !deliver(&client, &url, &secret, &body).await {
                    failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        "security webhook: gave up on an event after {ATTEMPTS} attempts"
                    );
                }
            }
        });
        Ok(Webhook {
            queue,
            dropped: AtomicU64::new(0),
            failed,
        })
    }

    /// Queue an event (JSON object text).
    pub fn send(&self, event: String) {
        if self.queue.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The HTTP client webhooks are sent with: 10 s timeout, no redirects.
pub fn client() -> Result<reqwest::Client, WebhookError> {
    builder()
        .build()
        .map_err(|e| WebhookError::Client(e.to_string()))
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
}

/// The client tenants' webhooks are sent with: as [`client`], and names
/// that resolve to non-public addresses fail (unless the operator allows
/// local receivers).
pub fn tenant_client(allow_local: bool) -> Result<reqwest::Client, WebhookError> {
    let b = builder();
    let b = if allow_local {
        b
    } else {
        b.dns_resolver(Arc::new(crate::app::public_address::PublicOnly))
    };
    b.build().map_err(|e| WebhookError::Client(e.to_string()))
}

/// How one attempt went.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered,
    /// Worth trying again (network error, 429, 5xx), with why.
    Retry(String),
    /// The receiver refused it (another 4xx, or a redirect).
    Refused(String),
}

/// POSTs `body` once to `url`, signed with `secret`.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    body: &str,
) -> Attempt {
    send(client.post(url), secret, body).await
}

/// The same for a queued event, whose id goes in `X-Fernhand-Event` for
/// receivers to drop a repeat.
pub async fn post_signed_event(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    event: &str,
    body: &str,
) -> Attempt {
    send(
        client.post(url).header("x-fernhand-event", event),
        secret,
        body,
    )
    .await
}

async fn send(request: reqwest::RequestBuilder, secret: &[u8], body: &str) -> Attempt {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let sent = request
        .header("content-type", "application/json")
        .header("x-fernhand-timestamp", timestamp.to_string())
        .header("x-fernhand-signature", signature(secret, timestamp, body))
        .body(body.to_owned())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Attempt::Delivered,
        Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
            Attempt::Retry(format!("HTTP {}", r.status().as_u16()))
        }
        Ok(r) => Attempt::Refused(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Attempt::Retry(if e.is_timeout() {
            "timed out".into()
        } else {
            "not reachable".into()
        }),
    }
}

async fn deliver(client: &reqwest::Client, url: &str, secret: &[u8], body: &str) -> bool {
    let mut backoff = Duration::from_millis(250);
    for attempt in 1..=ATTEMPTS {
        let retry = match post_signed(client, url, secret, body).await {
            Attempt::Delivered => return true,
            Attempt::Retry(_) => true,
            Attempt::Refused(_) => false,
        };
        if !retry || attempt == ATTEMPTS {
            return false;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_and_strong_secrets() {
        assert!(check_url("https://alerts.example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_url("http://[::1]:9/hook").is_ok());
        assert!(matches!(
            check_url("http://alerts.example.com/hook"),
            Err(WebhookError::Insecure)
        ));
        assert!(matches!(check_url("ftp://x/"), Err(WebhookError::Url)));
        // The signature depends on the secret, the timestamp and the body.
        let a = signature(b"0123456789abcdef", 1, "{}");
        assert_ne!(a, signature(b"0123456789abcdeF", 1, "{}"));
        assert_ne!(a, signature(b"0123456789abcdef", 2, "{}"));
        assert_ne!(a, signature(b"0123456789abcdef", 1, "{ }"));
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
    }

    /// A tenant's webhook to a name that resolves inside (here
    /// `localhost`) never connects; with local receivers allowed it does.
    #[tokio::test]
    async fn tenant_webhooks_do_not_reach_names_that_resolve_inside() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        fernhand_pki::install_default_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/hook");
        let refused = tenant_client(false).unwrap().post(&url).send().await;
        assert!(refused.is_err(), "reached a local receiver");
        let allowed = tenant_client(true)
            .unwrap()
            .post(&url)
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), reqwest::StatusCode::NO_CONTENT);
    }
}
