//! The relay's tokio driver: accepts connections (TLS, or plain only where
//! allowed), speaks WebSocket, and moves frames between sockets and the core.
//!
//! Each connection has a reader (this task) and a writer task woken through a
//! `Notify` when its queue in the core grows. The core sits behind one mutex
//! that is never held across an `.await`.

mod connection;
mod metrics_http;

use crate::core::{ConnId, RelayCore};
use crate::limits::Limits;
use crate::metrics::RelayMetrics;
use crate::security::SecurityLog;
use ed25519_dalek::VerifyingKey;
use fernhand_protocol::RelayId;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use metrics_http::serve_metrics;

/// How a relay is set up.
#[derive(Clone)]
pub struct RelayConfig {
    /// This relay's id (tickets name it).
    pub id: RelayId,
    /// The control plane's ticket-signing public key.
    pub ticket_key: VerifyingKey,
    /// Limits.
    pub limits: Limits,
    /// TLS for members; `None` serves plain WebSocket, which
    /// [`RelayConfig::check_transport`] allows only on loopback or behind a
    /// TLS-terminating proxy.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Explicitly allow plain WebSocket on a non-loopback address because a
    /// TLS-terminating proxy sits in front.
    pub behind_tls_proxy: bool,
    /// How often hop acknowledgements and expiry run.
    pub tick: Duration,
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayConfig")
            .field("id", &self.id)
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A relay that cannot start.
#[derive(Debug, Error)]
pub enum RelayError {
    /// Plain WebSocket was asked for where it is not allowed.
    #[error(
        "refusing plain WebSocket on {0}: use TLS, listen on loopback, or declare a TLS proxy in front"
    )]
    PlainNotAllowed(SocketAddr),
    /// Socket trouble.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

impl RelayConfig {
    /// A relay `id` trusting `ticket_key`, with default limits, no TLS.
    pub fn new(id: RelayId, ticket_key: VerifyingKey) -> RelayConfig {
        RelayConfig {
            id,
            ticket_key,
            limits: Limits::default(),
            tls: None,
            behind_tls_proxy: false,
            tick: Duration::from_millis(100),
        }
    }

    /// Never fall back to an unencrypted path: plain only on loopback or
    /// behind a declared TLS proxy.
    pub fn check_transport(&self, addr: SocketAddr) -> Result<(), RelayError> {
        if self.tls.is_none() && !addr.ip().is_loopback() && !self.behind_tls_proxy {
            return Err(RelayError::PlainNotAllowed(addr));
        }
        Ok(())
    }
}

/// Per-address connection counting with RAII release.
#[derive(Default)]
struct IpLimiter {
    counts: Mutex<HashMap<IpAddr, usize>>,
}

struct IpGuard {
    limiter: Arc<IpLimiter>,
    ip: IpAddr,
}

impl IpLimiter {
    fn acquire(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpGuard> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpGuard {
            limiter: self.clone(),
            ip,
        })
    }
}

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut counts = self
            .limiter
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) core: Mutex<RelayCore<Arc<Notify>>>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<RelayMetrics>,
    pub(crate) security: Arc<SecurityLog>,
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    ip_limiter: Arc<IpLimiter>,
    next_conn: AtomicU64,
}

impl Shared {
    pub(crate) fn core(&self) -> std::sync::MutexGuard<'_, RelayCore<Arc<Notify>>> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_conn(&self) -> ConnId {
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }
}

/// A running relay.
pub struct RelayHandle {
    /// Where members connect.
    pub addr: SocketAddr,
    /// Its metrics.
    pub metrics: Arc<RelayMetrics>,
    /// Its security log.
    pub security: Arc<SecurityLog>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RelayHandle {
    /// Number of sessions and connected members.
    pub fn counts(&self) -> (usize, usize) {
        self.shared.core().counts()
    }

    /// A function reporting (sessions, connected members), for heartbeats.
    pub fn stats_source(&self) -> impl Fn() -> (usize, usize) + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || shared.core().counts()
    }

    /// Stop gracefully: members are told the relay is shutting down.
    pub async fn shutdown(self) {
        let wake = self.shared.core().shutdown();
        for w in wake {
            w.notify_one();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Stop at once, as a crash would: connections are dropped without notice.
    pub fn kill(self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

/// Start a relay on `listener`.
pub fn start(listener: TcpListener, config: RelayConfig) -> Result<RelayHandle, RelayError> {
    let addr = listener.local_addr()?;
    config.check_transport(addr)?;
    let metrics = Arc::new(RelayMetrics::default());
    let security = Arc::new(SecurityLog::default());
    let shared = Arc::new(Shared {
        core: Mutex::new(RelayCore::new(
            config.id,
            config.ticket_key,
            config.limits.clone(),
            metrics.clone(),
        )),
        limits: config.limits.clone(),
        metrics: metrics.clone(),
        security: security.clone(),
        tls: config.tls.clone().map(tokio_rustls::TlsAcceptor::from),
        ip_limiter: Arc::new(IpLimiter::default()),
        next_conn: AtomicU64::new(1),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(listener, shared.clone(), config.tick, stopped));
    Ok(RelayHandle {
        addr,
        metrics,
        security,
        shared,
        stop,
        task,
    })
}

async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    tick: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let Some(guard) = shared.ip_limiter.acquire(peer.ip(), shared.limits.max_connections_per_ip) else {
                    connection::refuse_too_many(&shared, peer);
                    continue;
                };
                let conn = shared.next_conn();
                let shared = shared.clone();
                connections.spawn(async move {
                    connection::serve(stream, peer, conn, shared).await;
                    drop(guard);
                });
            }
            _ = ticker.tick() => {
                let wake = shared.core().tick(Instant::now());
                for w in wake {
                    w.notify_one();
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped.changed() => break,
        }
    }
    connections.abort_all();
}
