//! The broker: places sessions on relays and issues admission tickets.
//!
//! Relays register over mutual TLS (`relay_link`) and report load; the broker
//! places each session on the least-loaded healthy relay in the region
//! nearest its leader (`registry`). Members present a grant (`grants`) and
//! get the session's relay and a ticket signed with the control plane's
//! Ed25519 key, which relays verify with the public half. When a relay dies,
//! members ask again naming it; the session moves and nothing in the session
//! depends on which relay carries it.

pub mod client;
mod grants;
pub mod http;
mod registry;
pub mod relay_link;

pub use grants::Grant;
pub use registry::{Regions, RelayStatus};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use fernhand_protocol::ticket::{Role, Ticket};
use fernhand_protocol::{MemberId, RelayId, SessionId, TenantId};
use grants::Grants;
use registry::{Registry, RelayRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// Broker settings.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// How long a ticket is valid.
    pub ticket_lifetime: Duration,
    /// How often relays report.
    pub heartbeat: Duration,
    /// Missed heartbeats before a relay is taken out of placement.
    pub missed_heartbeats: u32,
    /// Region geography for "nearest".
    pub regions: Regions,
    /// Region assumed when a leader gives none.
    pub default_region: String,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            ticket_lifetime: Duration::from_secs(300),
            heartbeat: Duration::from_secs(1),
            missed_heartbeats: 3,
            regions: Regions::standard(),
            default_region: "eu-west".to_owned(),
        }
    }
}

/// Why the broker cannot help.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BrokerError {
    /// The grant token is unknown or has expired.
    #[error("unknown or expired grant")]
    BadGrant,
    /// No healthy relay can take the session.
    #[error("no relay available")]
    NoRelay,
    /// The operating system's random source failed.
    #[error("no entropy")]
    Entropy,
}

/// What a member gets: where to connect and the ticket to present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGrant {
    /// The relay.
    pub relay: RelayId,
    /// Its member-facing URL.
    pub url: String,
    /// The signed ticket, base64url.
    pub ticket: String,
    /// The member id it carries.
    pub member: u32,
    /// Valid until (Unix seconds).
    pub expires_at: u64,
}

impl TicketGrant {
    /// The ticket's bytes.
    pub fn ticket_bytes(&self) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(&self.ticket).ok()
    }
}

struct Placement {
    relay: RelayId,
}

#[derive(Default)]
struct State {
    registry: Registry,
    placements: HashMap<SessionId, Placement>,
    grants: Grants,
    next_link: u64,
}

/// The broker, shared by its HTTP surface and the relay links.
pub struct Broker {
    config: BrokerConfig,
    signing: SigningKey,
    state: Mutex<State>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Broker {
    /// A broker signing tickets with `signing`.
    pub fn new(signing: SigningKey, config: BrokerConfig) -> Arc<Broker> {
        Arc::new(Broker {
            config,
            signing,
            state: Mutex::new(State::default()),
        })
    }

    /// Its settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The key relays verify tickets with.
    pub fn ticket_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A relay registered on a new link; returns the link's number.
    pub(crate) fn relay_registered(
        &self,
        id: RelayId,
        region: String,
        url: String,
        capacity: u32,
    ) -> u64 {
        let mut state = self.state();
        state.next_link = state.next_link.saturating_add(1);
        let link = state.next_link;
        state.registry.relays.insert(
            id,
            RelayRecord {
                region,
                url,
                capacity,
                sessions: 0,
                members: 0,
                healthy: true,
                last_seen: Instant::now(),
                link,
            },
        );
        tracing::info!(relay = %id, "relay registered");
        link
    }

    pub(crate) fn relay_heartbeat(&self, id: RelayId, link: u64, sessions: u32, members: u32) {
        let mut state = self.state();
        if let Some(r) = state.registry.relays.get_mut(&id)
            && r.link == link
        {
            r.sessions = sessions;
            r.members = members;
            r.last_seen = Instant::now();
            r.healthy = true;
        }
    }

    /// A relay's link closed: it takes no more placements until it returns.
    pub(crate) fn relay_gone(&self, id: RelayId, link: u64) {
        let mut state = self.state();
        if let Some(r) = state.registry.relays.get_mut(&id)
            && r.link == link
        {
            r.healthy = false;
            tracing::warn!(relay = %id, "relay link lost; out of placement");
        }
    }

    /// Periodic upkeep: relays silent too long leave placement; expired
    /// grants go.
    pub fn tick(&self) {
        let grace = self.config.heartbeat * self.config.missed_heartbeats;
        let mut state = self.state();
        state.registry.check(Instant::now(), grace);
        state.grants.expire(SystemTime::now());
    }

    /// Every relay and its state.
    pub fn relays(&self) -> Vec<RelayStatus> {
        self.state().registry.statuses()
    }

    /// Let a member of `session` get tickets: returns the grant token to give
    /// it (keep it secret; only its hash is stored).
    pub fn grant(
        &self,
        tenant: TenantId,
        session: SessionId,
        member: MemberId,
        role: Role,
        region: Option<&str>,
        lifetime: Duration,
    ) -> Result<String, BrokerError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|_| BrokerError::Entropy)?;
        let token = URL_SAFE_NO_PAD.encode(raw);
        let grant = Grant {
            tenant,
            session,
            member,
            role,
            region: region.unwrap_or(&self.config.default_region).to_owned(),
            expires: SystemTime::now() + lifetime,
        };
        self.state().grants.insert(&token, grant);
        Ok(token)
    }

    /// The session is over: forget its placement and grants.
    pub fn end_session(&self, session: SessionId) {
        let mut state = self.state();
        state.placements.remove(&session);
        state.grants.remove_session(session);
    }

    /// Where the session of `grant_token` runs, and a ticket for it. If the
    /// caller reports `failed_relay` and the broker agrees it is unhealthy,
    /// the session moves to another relay.
    pub fn ticket(
        &self,
        grant_token: &str,
        failed_relay: Option<RelayId>,
    ) -> Result<TicketGrant, BrokerError> {
        let now = SystemTime::now();
        let mut state = self.state();
        let grant = state
            .grants
            .get(grant_token)
            .filter(|g| g.expires > now)
            .cloned()
            .ok_or(BrokerError::BadGrant)?;
        let current = state.placements.get(&grant.session).map(|p| p.relay);
        // A session moves only when the broker itself sees its relay
        // unhealthy: a member's report alone (perhaps its own network) does
        // not move everyone.
        let keep = current.filter(|r| state.registry.is_healthy(*r));
        let relay = match keep {
            Some(r) => r,
            None => {
                let exclude = failed_relay.or(current);
                let chosen = state
                    .registry
                    .choose(&self.config.regions, &grant.region, exclude)
                    .ok_or(BrokerError::NoRelay)?;
                if current.is_some() {
                    tracing::warn!(session = %grant.session, to = %chosen, "session moved to another relay");
                }
                state
                    .placements
                    .insert(grant.session, Placement { relay: chosen });
                chosen
            }
        };
        let url = state
            .registry
            .relays
            .get(&relay)
            .map(|r| r.url.clone())
            .ok_or(BrokerError::NoRelay)?;
        drop(state);
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|_| BrokerError::Entropy)?;
        let not_after = now + self.config.ticket_lifetime;
        let ticket = Ticket {
            tenant: grant.tenant,
            session: grant.session,
            relay,
            member: grant.member,
            role: grant.role,
            not_before: unix(now),
            not_after: unix(not_after),
            nonce,
        }
        .sign(&self.signing);
        Ok(TicketGrant {
            relay,
            url,
            ticket: URL_SAFE_NO_PAD.encode(ticket),
            member: grant.member.0,
            expires_at: unix(not_after),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> Arc<Broker> {
        Broker::new(SigningKey::from_bytes(&[1; 32]), BrokerConfig::default())
    }

    #[test]
    fn tickets_need_a_grant_and_a_relay() {
        let b = broker();
        assert_eq!(b.ticket("nope", None), Err(BrokerError::BadGrant));
        let token = b
            .grant(
                TenantId([1; 16]),
                SessionId([2; 16]),
                MemberId(1),
                Role::Leader,
                None,
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(b.ticket(&token, None), Err(BrokerError::NoRelay));
        b.relay_registered(
            RelayId([5; 16]),
            "eu-west".into(),
            "ws://127.0.0.1:1/".into(),
            100,
        );
        let t = b.ticket(&token, None).unwrap();
        assert_eq!(t.relay, RelayId([5; 16]));
        let bytes = t.ticket_bytes().unwrap();
        let claims = Ticket::verify(
            &bytes,
            &b.ticket_key(),
            RelayId([5; 16]),
            unix(SystemTime::now()),
        )
        .unwrap();
        assert_eq!(claims.member, MemberId(1));
        assert_eq!(claims.session, SessionId([2; 16]));
        b.end_session(SessionId([2; 16]));
        assert_eq!(b.ticket(&token, None), Err(BrokerError::BadGrant));
    }

    #[test]
    fn a_session_stays_put_until_its_relay_fails_then_moves() {
        let b = broker();
        let l1 = b.relay_registered(RelayId([1; 16]), "eu-west".into(), "ws://a/".into(), 100);
        b.relay_registered(RelayId([2; 16]), "eu-west".into(), "ws://b/".into(), 100);
        b.relay_heartbeat(RelayId([2; 16]), 2, 0, 50);
        let token = b
            .grant(
                TenantId([1; 16]),
                SessionId([3; 16]),
                MemberId(2),
                Role::Customer,
                Some("eu-west"),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(b.ticket(&token, None).unwrap().relay, RelayId([1; 16]));
        // A claim of failure while the broker still sees the relay healthy
        // does not move the session.
        assert_eq!(
            b.ticket(&token, Some(RelayId([1; 16]))).unwrap().relay,
            RelayId([1; 16])
        );
        b.relay_gone(RelayId([1; 16]), l1);
        let moved = b.ticket(&token, Some(RelayId([1; 16]))).unwrap();
        assert_eq!(moved.relay, RelayId([2; 16]));
        assert_eq!(moved.url, "ws://b/");
        // Everyone else now gets the new relay too, even without reporting.
        assert_eq!(b.ticket(&token, None).unwrap().relay, RelayId([2; 16]));
    }

    #[test]
    fn a_stale_link_cannot_mark_a_reregistered_relay_gone() {
        let b = broker();
        let old = b.relay_registered(RelayId([1; 16]), "eu-west".into(), "ws://a/".into(), 100);
        let _new = b.relay_registered(RelayId([1; 16]), "eu-west".into(), "ws://a/".into(), 100);
        b.relay_gone(RelayId([1; 16]), old);
        assert!(b.relays()[0].healthy);
    }
}
