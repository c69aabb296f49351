//! The broker's end of the relay control links: mutual TLS (the relay's
//! certificate must be issued by the deployment CA and name the relay id it
//! registers), then JSON messages: register, heartbeats. A link that closes
//! or falls silent takes its relay out of placement.

use super::Broker;
use fernhand_protocol::broker_link::{BrokerToRelay, RelayToBroker, relay_identity_name};
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// Serve relay links on `listener`. `tls` must require client certificates
/// from the deployment CA (see `fernhand_pki::server_config`).
pub async fn serve_relay_links(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    broker: Arc<Broker>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let broker = broker.clone();
        tokio::spawn(async move {
            if let Err(reason) = link(tcp, acceptor, broker).await {
                tracing::warn!(target: "fernhand::security", peer = %peer, "relay link refused: {reason}");
            }
        });
    }
}

/// At most `max` characters of `text` (a relay is trusted, but what it
/// forwards came from strangers).
fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Whether the certificate is valid for the relay's identity name.
fn certificate_names(cert: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(server_name) = ServerName::try_from(name.to_owned()) else {
        return false;
    };
    webpki::EndEntityCert::try_from(cert)
        .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(&server_name).is_ok())
}

async fn link(
    tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    broker: Arc<Broker>,
) -> Result<(), String> {
    let tls = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out".to_owned())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or("no client certificate")?;
    let mut ws = tokio_tungstenite::accept_async(tls)
        .await
        .map_err(|e| format!("WebSocket upgrade failed: {e}"))?;
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .map_err(|_| "no registration in time".to_owned())?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err("expected a registration message".to_owned());
    };
    let Ok(RelayToBroker::Register {
        relay,
        region,
        url,
        capacity,
    }) = serde_json::from_str::<RelayToBroker>(&text)
    else {
        return Err("malformed registration".to_owned());
    };
    if !certificate_names(&cert, &relay_identity_name(relay)) {
        let refusal = BrokerToRelay::Refused {
            reason: "certificate does not name this relay".to_owned(),
        };
        let _ = ws
            .send(Message::Text(
                serde_json::to_string(&refusal).unwrap_or_default().into(),
            ))
            .await;
        return Err(format!("certificate does not name relay {relay}"));
    }
    let heartbeat = broker.config().heartbeat;
    let registered = BrokerToRelay::Registered {
        ticket_key: hex::encode(broker.ticket_key().to_bytes()),
        heartbeat_ms: u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX),
    };
    ws.send(Message::Text(
        serde_json::to_string(&registered)
            .unwrap_or_default()
            .into(),
    ))
    .await
    .map_err(|e| format!("send failed: {e}"))?;
    let link = broker
        .relay_registered(relay, region, url, capacity)
        .await
        .map_err(|e| format!("registration not stored: {e}"))?;
    let silence = heartbeat * broker.config().missed_heartbeats.max(1);
    loop {
        match tokio::time::timeout(silence, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(&text) {
                Ok(RelayToBroker::Heartbeat { sessions, members }) => {
                    if let Err(e) = broker
                        .relay_heartbeat(relay, &link, sessions, members)
                        .await
                    {
                        tracing::error!(relay = %relay, "heartbeat not stored: {e}");
                    }
                }
                Ok(RelayToBroker::Security {
                    reason,
                    peer,
                    detail,
                }) => {
                    let peer = peer.and_then(|p| p.parse::<IpAddr>().ok());
                    let detail = serde_json::json!({
                        "relay": relay.to_string(),
                        "reason": bounded(&reason, 64),
                        "detail": bounded(&detail, 512),
                    });
                    broker
                        .security()
                        .record(None, "relay_refused", peer, detail)
                        .await;
                }
                _ => {}
            },
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            _ => break,
        }
    }
    if let Err(e) = broker.relay_gone(relay, &link).await {
        tracing::error!(relay = %relay, "relay loss not stored (it drops out when its heartbeats stop): {e}");
    }
    Ok(())
}
