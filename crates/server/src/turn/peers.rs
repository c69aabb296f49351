//! Where an allocation may relay to: public addresses, and this service's
//! own relay ports (two browsers both behind TURN) — never loopback,
//! private, link-local, shared (CGNAT) or multicast addresses, which
//! would let an outsider with a credential reach the operator's network.
//! Datagrams to or from a refused peer are dropped quietly. Also counts
//! live allocations against a cap.

use crate::app::public_address::is_public;
use async_trait::async_trait;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use turn::relay::RelayAddressGenerator;
use turn::relay::relay_range::RelayAddressGeneratorRanges;
use webrtc_util::Conn;

/// The peer rule.
pub struct PeerPolicy {
    /// This service's relay address.
    pub relay_ip: IpAddr,
    /// Its relay ports.
    pub relay_ports: (u16, u16),
}

impl PeerPolicy {
    /// Whether an allocation may exchange datagrams with `peer`.
    pub fn allows(&self, peer: SocketAddr) -> bool {
        let ip = peer.ip().to_canonical();
        if ip == self.relay_ip {
            return (self.relay_ports.0..=self.relay_ports.1).contains(&peer.port());
        }
        is_public(ip)
    }
}

/// Hands out relay sockets that obey the [`PeerPolicy`], at most `cap`
/// alive at once.
pub struct FilteredRelays {
    inner: RelayAddressGeneratorRanges,
    policy: Arc<PeerPolicy>,
    live: Arc<AtomicUsize>,
    cap: usize,
}

impl FilteredRelays {
    /// Around `inner`.
    pub fn new(inner: RelayAddressGeneratorRanges, policy: PeerPolicy, cap: usize) -> Self {
        FilteredRelays {
            inner,
            policy: Arc::new(policy),
            live: Arc::new(AtomicUsize::new(0)),
            cap,
        }
    }
}

/// A place among the live allocations, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait]
impl RelayAddressGenerator for FilteredRelays {
    fn validate(&self) -> Result<(), turn::Error> {
        self.inner.validate()
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        let before = self.live.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(Arc::clone(&self.live));
        if before >= self.cap {
            return Err(turn::Error::Other("allocation limit reached".into()));
        }
        let (inner, relayed) = self.inner.allocate_conn(use_ipv4, requested_port).await?;
        let conn = FilteredConn {
            inner,
            policy: Arc::clone(&self.policy),
            _slot: slot,
        };
        Ok((Arc::new(conn), relayed))
    }
}

/// A relay socket that drops datagrams of refused peers.
struct FilteredConn {
    inner: Arc<dyn Conn + Send + Sync>,
    policy: Arc<PeerPolicy>,
    _slot: Slot,
}

#[async_trait]
impl Conn for FilteredConn {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            if self.policy.allows(from) {
                return Ok((n, from));
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        if self.policy.allows(target) {
            self.inner.send_to(buf, target).await
        } else {
            // Dropped, as the network might: an error would be logged per packet.
            Ok(buf.len())
        }
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_reach_public_peers_and_our_relays_only() {
        let p = PeerPolicy {
            relay_ip: IpAddr::from([127, 0, 0, 1]),
            relay_ports: (49152, 65535),
        };
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(p.allows(at("203.0.113.7:5000")));
        assert!(p.allows(at("[2001:db8::1]:5000")));
        assert!(p.allows(at("127.0.0.1:50000")), "our own relay port");
        assert!(!p.allows(at("127.0.0.1:8080")), "our API");
        assert!(!p.allows(at("127.0.0.2:50000")));
        assert!(!p.allows(at("10.1.2.3:22")));
        assert!(!p.allows(at("192.168.1.1:80")));
        assert!(!p.allows(at("172.16.0.1:80")));
        assert!(!p.allows(at("169.254.169.254:80")), "cloud metadata");
        assert!(!p.allows(at("100.64.0.1:80")));
        assert!(!p.allows(at("224.0.0.1:80")));
        assert!(!p.allows(at("0.0.0.0:80")));
        assert!(!p.allows(at("[::1]:80")));
        assert!(!p.allows(at("[fd00::1]:80")));
        assert!(!p.allows(at("[fe80::1]:80")));
        assert!(!p.allows(at("[::ffff:10.0.0.1]:80")), "mapped private");
    }
}
