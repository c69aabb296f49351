//! A relay's link to the broker: register over mutual TLS, learn the ticket
//! key, report load on every heartbeat (with the security events logged
//! since the last one), and re-register with backoff if the link drops. [`RegisteredRelay`] runs a relay together with its link.

use crate::security::SecurityLog;
use crate::server::{self, RelayConfig, RelayError, RelayHandle};
use ed25519_dalek::VerifyingKey;
use fernhand_protocol::RelayId;
use fernhand_protocol::broker_link::{BrokerToRelay, RelayToBroker};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// What a relay says about itself when it registers.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Its id (its certificate must name it).
    pub relay: RelayId,
    /// Its region.
    pub region: String,
    /// Where members reach it.
    pub url: String,
    /// Members it is meant to carry.
    pub capacity: u32,
}

/// Why registration failed.
#[derive(Debug, Error)]
pub enum RegistrationError {
    /// The broker could not be reached or the link broke.
    #[error("broker link: {0}")]
    Link(String),
    /// The broker refused the registration.
    #[error("broker refused the registration: {0}")]
    Refused(String),
    /// The broker sent something unexpected.
    #[error("broker protocol: {0}")]
    Protocol(String),
    /// The relay itself could not start.
    #[error(transparent)]
    Relay(#[from] RelayError),
}

type Link = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn register(
    broker_url: &str,
    tls: Arc<rustls::ClientConfig>,
    reg: &Registration,
) -> Result<(Link, VerifyingKey, Duration), RegistrationError> {
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        broker_url,
        None,
        true,
        Some(Connector::Rustls(tls)),
    )
    .await
    .map_err(|e| RegistrationError::Link(e.to_string()))?;
    let hello = RelayToBroker::Register {
        relay: reg.relay,
        region: reg.region.clone(),
        url: reg.url.clone(),
        capacity: reg.capacity,
    };
    ws.send(Message::Text(
        serde_json::to_string(&hello)
            .map_err(|e| RegistrationError::Protocol(e.to_string()))?
            .into(),
    ))
    .await
    .map_err(|e| RegistrationError::Link(e.to_string()))?;
    let answer = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .map_err(|_| RegistrationError::Link("no answer to registration".to_owned()))?;
    let Some(Ok(Message::Text(text))) = answer else {
        return Err(RegistrationError::Link(
            "link closed during registration".to_owned(),
        ));
    };
    match serde_json::from_str::<BrokerToRelay>(&text) {
        Ok(BrokerToRelay::Registered {
            ticket_key,
            heartbeat_ms,
        }) => {
            let mut key = [0u8; 32];
            hex::decode_to_slice(&ticket_key, &mut key)
                .map_err(|_| RegistrationError::Protocol("bad ticket key".to_owned()))?;
            let key = VerifyingKey::from_bytes(&key)
                .map_err(|_| RegistrationError::Protocol("bad ticket key".to_owned()))?;
            Ok((ws, key, Duration::from_millis(heartbeat_ms.max(100))))
        }
        Ok(BrokerToRelay::Refused { reason }) => Err(RegistrationError::Refused(reason)),
        Err(e) => Err(RegistrationError::Protocol(e.to_string())),
    }
}

/// Send heartbeats, and forward security events, until the link fails.
async fn heartbeats(
    mut link: Link,
    every: Duration,
    stats: &(dyn Fn() -> (u32, u32) + Send + Sync),
    security: &SecurityLog,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let (sessions, members) = stats();
                let mut messages = vec![RelayToBroker::Heartbeat { sessions, members }];
                messages.extend(security.take_unforwarded().into_iter().map(|e| {
                    RelayToBroker::Security {
                        reason: e.reason.to_owned(),
                        peer: e.peer.map(|p| p.to_string()),
                        detail: e.detail,
                    }
                }));
                for message in messages {
                    let Ok(text) = serde_json::to_string(&message) else { return };
                    if link.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            }
            message = link.next() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                _ => {}
            },
        }
    }
}

/// A relay registered with a broker; dropping it does not stop it, use
/// [`RegisteredRelay::shutdown`] or [`RegisteredRelay::kill`].
pub struct RegisteredRelay {
    /// The relay.
    pub relay: RelayHandle,
    link: JoinHandle<()>,
}

impl RegisteredRelay {
    /// Register with the broker at `broker_url` (mutual TLS with `tls`),
    /// learn the ticket key, start the relay on `listener`, and keep the
    /// link up (re-registering with backoff when it drops).
    pub async fn start(
        listener: TcpListener,
        mut config: RelayConfig,
        broker_url: String,
        tls: Arc<rustls::ClientConfig>,
        reg: Registration,
    ) -> Result<RegisteredRelay, RegistrationError> {
        let (link, key, every) = register(&broker_url, tls.clone(), &reg).await?;
        config.ticket_key = key;
        let relay = server::start(listener, config)?;
        let shared = relay.stats_source();
        let stats = move || {
            let (sessions, members) = shared();
            (
                u32::try_from(sessions).unwrap_or(u32::MAX),
                u32::try_from(members).unwrap_or(u32::MAX),
            )
        };
        let security = relay.security.clone();
        let link = tokio::spawn(async move {
            heartbeats(link, every, &stats, &security).await;
            let mut backoff = Duration::from_millis(250);
            loop {
                tracing::warn!("broker link lost; re-registering");
                match register(&broker_url, tls.clone(), &reg).await {
                    Ok((link, _, every)) => {
                        backoff = Duration::from_millis(250);
                        heartbeats(link, every, &stats, &security).await;
                    }
                    Err(e) => {
                        tracing::warn!("re-registration failed: {e}");
                        tokio::time::sleep(backoff + jitter(backoff)).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
        });
        Ok(RegisteredRelay { relay, link })
    }

    /// Stop gracefully.
    pub async fn shutdown(self) {
        self.link.abort();
        self.relay.shutdown().await;
    }

    /// Stop at once, as a crash would.
    pub fn kill(self) {
        self.link.abort();
        self.relay.kill();
    }
}

/// Up to half of `base`, random, so relays do not re-register in lockstep.
fn jitter(base: Duration) -> Duration {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return Duration::ZERO;
    }
    base.mul_f64(f64::from(u16::from_be_bytes(b)) / f64::from(u16::MAX) / 2.0)
}
