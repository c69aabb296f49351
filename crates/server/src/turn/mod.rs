//! The embedded TURN service (RFC 5766 over UDP, with STUN binding) for
//! camera shares whose browsers cannot reach each other directly. It runs
//! on the `turn` crate; what is ours is around it: credentials checked by
//! the TURN REST API convention (see `app::ice`), a cap on live
//! allocations, and a peer filter so that an allocation relays only to
//! public addresses and to this service's own relay ports — never into the
//! operator's network. TURN relays DTLS-SRTP it cannot open.

mod auth;
mod peers;

use auth::RestAuth;
use peers::{FilteredRelays, PeerPolicy};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::UdpSocket;
use turn::relay::relay_range::RelayAddressGeneratorRanges;
use turn::server::Server;
use turn::server::config::{ConnConfig, ServerConfig};
use webrtc_util::vnet::net::Net;
use zeroize::Zeroizing;

/// The realm TURN answers with (short: it is in every challenge).
pub const REALM: &str = "fernhand";
/// Relay ports (open them in the firewall with the listening port).
pub const RELAY_PORTS: (u16, u16) = (49152, 65535);
/// Live allocations at most (the crate has no quota of its own).
pub const MAX_ALLOCATIONS: usize = 1000;

/// Why the TURN service did not start.
#[derive(Debug, Error)]
pub enum TurnError {
    /// Binding the listening socket.
    #[error("cannot listen for TURN on {addr}: {source}")]
    Listen {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No randomness for the credential secret.
    #[error("no randomness for the TURN secret: {0}")]
    Random(String),
    /// The TURN library.
    #[error("TURN: {0}")]
    Turn(#[from] turn::Error),
}

/// A running TURN service.
pub struct TurnService {
    server: Server,
    /// Where it listens (UDP).
    pub addr: SocketAddr,
    /// The address put into relayed candidates.
    pub relay_ip: IpAddr,
}

impl TurnService {
    /// Listens on `listen` (UDP); relays on `relay_ip` (the address browsers
    /// reach this host at); accepts credentials made with `secret`.
    pub async fn start(
        listen: SocketAddr,
        relay_ip: IpAddr,
        secret: Zeroizing<Vec<u8>>,
    ) -> Result<TurnService, TurnError> {
        let socket = UdpSocket::bind(listen)
            .await
            .map_err(|source| TurnError::Listen {
                addr: listen,
                source,
            })?;
        let addr = socket.local_addr().map_err(|source| TurnError::Listen {
            addr: listen,
            source,
        })?;
        let relays = FilteredRelays::new(
            RelayAddressGeneratorRanges {
                relay_address: relay_ip,
                min_port: RELAY_PORTS.0,
                max_port: RELAY_PORTS.1,
                max_retries: 0,
                address: listen.ip().to_string(),
                net: Arc::new(Net::new(None)),
            },
            PeerPolicy {
                relay_ip,
                relay_ports: RELAY_PORTS,
            },
            MAX_ALLOCATIONS,
        );
        let server = Server::new(ServerConfig {
            conn_configs: vec![ConnConfig {
                conn: Arc::new(socket),
                relay_addr_generator: Box::new(relays),
            }],
            realm: REALM.to_owned(),
            auth_handler: Arc::new(RestAuth::new(secret, REALM)),
            channel_bind_timeout: Duration::ZERO,
            alloc_close_notify: None,
        })
        .await?;
        Ok(TurnService {
            server,
            addr,
            relay_ip,
        })
    }

    /// The URLs browsers use: STUN and TURN at the relay address.
    pub fn urls(&self) -> (Vec<String>, Vec<String>) {
        let host = match self.relay_ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let port = self.addr.port();
        (
            vec![format!("stun:{host}:{port}")],
            vec![format!("turn:{host}:{port}?transport=udp")],
        )
    }

    /// Stops it: every allocation closes.
    pub async fn close(&self) {
        if let Err(e) = self.server.close().await {
            tracing::debug!("closing TURN: {e}");
        }
    }
}
