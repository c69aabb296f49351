//! The broker: places sessions on relays and issues admission tickets.
//!
//! Relays register over mutual TLS (`relay_link`) and report load; the broker
//! places each session on the least-loaded healthy relay in the region
//! nearest its leader (`registry`). Members present a grant (`grants`) and
//! get the session's relay and a ticket signed with the control plane's
//! Ed25519 key, which relays verify with the public half. When a relay dies,
//! members ask again naming it; the session moves and nothing in the session
//! depends on which relay carries it.
//!
//! All of the broker's state — grants, placements, relays and their
//! heartbeats — lives in the store, so every control-plane replica answers
//! every member, whichever replica issued its grant or holds its relay's
//! link; replicas share the ticket key (`keys/tickets.key`).

mod grants;
pub mod http;
mod registry;
pub mod relay_link;

pub use grants::Grant;
pub use registry::{Regions, RelayStatus};

use crate::security_log::SecurityLog;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use fernhand_protocol::ticket::{Role, Ticket};
use fernhand_protocol::{MemberId, RelayId, SessionId, TenantId};
use fernhand_store::broker::{self as state, GrantRow, RelayRow};
use fernhand_store::{Store, StoreError};
use registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;

pub use fernhand_protocol::broker_link::TicketGrant;

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
    /// The shared state could not be read or written.
    #[error("broker state unavailable: {0}")]
    State(String),
}

impl From<StoreError> for BrokerError {
    fn from(e: StoreError) -> Self {
        BrokerError::State(e.to_string())
    }
}

/// The broker, shared by its HTTP surface and the relay links.
pub struct Broker {
    config: BrokerConfig,
    signing: SigningKey,
    store: Store,
    security: Arc<SecurityLog>,
    /// Prefix of this process's relay-link names (random per start).
    links: String,
    next_link: AtomicU64,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How long a relay that left is remembered (for operators) before its row
/// is swept.
const FORGET_RELAYS: Duration = Duration::from_secs(86_400);

impl Broker {
    /// A broker signing tickets with `signing`, keeping its state in `store`
    /// and its security events in `security`.
    pub fn new(
        signing: SigningKey,
        config: BrokerConfig,
        store: Store,
        security: Arc<SecurityLog>,
    ) -> Result<Arc<Broker>, BrokerError> {
        let mut raw = [0u8; 8];
        getrandom::fill(&mut raw).map_err(|_| BrokerError::Entropy)?;
        Ok(Arc::new(Broker {
            config,
            signing,
            store,
            security,
            links: hex::encode(raw),
            next_link: AtomicU64::new(0),
        }))
    }

    /// Its settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The key relays verify tickets with.
    pub fn ticket_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// Where its security events go.
    pub fn security(&self) -> &SecurityLog {
        &self.security
    }

    fn grace_ms(&self) -> i64 {
        millis(self.config.heartbeat * self.config.missed_heartbeats.max(1))
    }

    /// A relay registered on a new link; returns the link's name.
    pub(crate) async fn relay_registered(
        &self,
        id: RelayId,
        region: String,
        url: String,
        capacity: u32,
    ) -> Result<String, BrokerError> {
        let n = self.next_link.fetch_add(1, Ordering::Relaxed);
        let link = format!("{}-{n}", self.links);
        let mut p = self.store.platform().await?;
        state::register_relay(
            &mut p,
            &RelayRow {
                id: id.to_string(),
                region,
                url,
                capacity,
                sessions: 0,
                members: 0,
                linked: true,
                link: link.clone(),
                seen_ms: unix_ms(SystemTime::now()),
            },
        )
        .await?;
        p.commit().await?;
        tracing::info!(relay = %id, "relay registered");
        Ok(link)
    }

    pub(crate) async fn relay_heartbeat(
        &self,
        id: RelayId,
        link: &str,
        sessions: u32,
        members: u32,
    ) -> Result<(), BrokerError> {
        let mut p = self.store.platform().await?;
        let now = unix_ms(SystemTime::now());
        state::relay_heartbeat(&mut p, &id.to_string(), link, sessions, members, now).await?;
        Ok(p.commit().await?)
    }

    /// A relay's link closed: it takes no more placements until it returns.
    pub(crate) async fn relay_gone(&self, id: RelayId, link: &str) -> Result<(), BrokerError> {
        let mut p = self.store.platform().await?;
        state::relay_unlinked(&mut p, &id.to_string(), link).await?;
        p.commit().await?;
        tracing::warn!(relay = %id, "relay link lost; out of placement");
        Ok(())
    }

    /// Periodic upkeep: expired grants, placements of sessions with no
    /// grant left, and relays gone for a day are deleted.
    pub async fn tick(&self) -> Result<(), BrokerError> {
        let now = SystemTime::now();
        let mut p = self.store.platform().await?;
        state::sweep(&mut p, unix_ms(now), unix_ms(now - FORGET_RELAYS)).await?;
        Ok(p.commit().await?)
    }

    /// Every relay and its state.
    pub async fn relays(&self) -> Result<Vec<RelayStatus>, BrokerError> {
        let mut p = self.store.platform().await?;
        let rows = state::relays(&mut p).await?;
        p.commit().await?;
        Ok(Registry::from_rows(rows, unix_ms(SystemTime::now()), self.grace_ms()).statuses())
    }

    /// Let a member of `session` get tickets: returns the grant token to give
    /// it (keep it secret; only its hash is stored).
    pub async fn grant(
        &self,
        tenant: TenantId,
        session: SessionId,
        member: MemberId,
        role: Role,
        region: Option<&str>,
        lifetime: Duration,
    ) -> Result<String, BrokerError> {
        let token = crate::app::crypto::token().ok_or(BrokerError::Entropy)?;
        let row = GrantRow {
            tenant_id: tenant.to_string(),
            session_id: session.to_string(),
            member: member.0,
            role: role.byte(),
            region: region.unwrap_or(&self.config.default_region).to_owned(),
            expires_ms: unix_ms(SystemTime::now() + lifetime),
        };
        let mut p = self.store.platform().await?;
        state::insert_grant(&mut p, &grants::hash(&token), &row).await?;
        p.commit().await?;
        // The caller hands it on once; the zeroised copy goes here.
        Ok(token.as_str().to_owned())
    }

    /// The session is over: forget its placement and grants.
    pub async fn end_session(&self, session: SessionId) -> Result<(), BrokerError> {
        let mut p = self.store.platform().await?;
        state::end_session(&mut p, &session.to_string()).await?;
        Ok(p.commit().await?)
    }

    async fn find_grant(
        &self,
        p: &mut fernhand_store::PlatformTx,
        token: &str,
        now: SystemTime,
    ) -> Result<Grant, BrokerError> {
        let row = state::find_grant(p, &grants::hash(token), unix_ms(now))
            .await?
            .ok_or(BrokerError::BadGrant)?;
        let corrupt = || BrokerError::State("unreadable grant".to_owned());
        Ok(Grant {
            tenant: row.tenant_id.parse().map_err(|_| corrupt())?,
            session: row.session_id.parse().map_err(|_| corrupt())?,
            member: MemberId(row.member),
            role: Role::from_byte(row.role).ok_or_else(corrupt)?,
            region: row.region,
            expires: UNIX_EPOCH + Duration::from_millis(u64::try_from(row.expires_ms).unwrap_or(0)),
        })
    }

    /// Whose grant `grant_token` is: tenant, session and member number.
    pub async fn member_of(&self, grant_token: &str) -> Result<(String, String, u32), BrokerError> {
        let mut p = self.store.platform().await?;
        let grant = self
            .find_grant(&mut p, grant_token, SystemTime::now())
            .await?;
        p.commit().await?;
        Ok((
            grant.tenant.to_string(),
            grant.session.to_string(),
            grant.member.0,
        ))
    }

    /// Where the session of `grant_token` runs, and a ticket for it. If the
    /// caller reports `failed_relay` and the broker agrees it is unhealthy,
    /// the session moves to another relay.
    pub async fn ticket(
        &self,
        grant_token: &str,
        failed_relay: Option<RelayId>,
    ) -> Result<TicketGrant, BrokerError> {
        let now = SystemTime::now();
        let mut p = self.store.platform().await?;
        let grant = self.find_grant(&mut p, grant_token, now).await?;
        let registry =
            Registry::from_rows(state::relays(&mut p).await?, unix_ms(now), self.grace_ms());
        let session = grant.session.to_string();
        let seen = state::placement(&mut p, &session).await?;
        let current = seen.as_deref().and_then(|r| r.parse::<RelayId>().ok());
        // A session moves only when the broker itself sees its relay
        // unhealthy: a member's report alone (perhaps its own network) does
        // not move everyone.
        let relay = match current.filter(|r| registry.is_healthy(*r)) {
            Some(r) => r,
            None => {
                let exclude = failed_relay.or(current);
                let chosen = registry
                    .choose(&self.config.regions, &grant.region, exclude)
                    .ok_or(BrokerError::NoRelay)?;
                // Compare-and-set: if another replica placed or moved the
                // session meanwhile, its choice stands.
                let placed = state::place(
                    &mut p,
                    &session,
                    &grant.tenant.to_string(),
                    &chosen.to_string(),
                    seen.as_deref(),
                    unix_ms(now),
                )
                .await?
                .parse::<RelayId>()
                .map_err(|_| BrokerError::State("unreadable placement".to_owned()))?;
                if current.is_some() && placed == chosen {
                    tracing::warn!(session = %grant.session, to = %chosen, "session moved to another relay");
                }
                placed
            }
        };
        p.commit().await?;
        let url = registry
            .relays
            .get(&relay)
            .map(|r| r.url.clone())
            .ok_or(BrokerError::NoRelay)?;
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
    use crate::app::metrics::ServerMetrics;

    async fn store() -> Store {
        let dir = std::env::temp_dir().join(format!(
            "fernhand-broker-{}",
            fernhand_store::new_id().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Store::embedded(&dir.join("store.db")).await.unwrap()
    }

    fn broker_on(store: &Store) -> Arc<Broker> {
        let security = SecurityLog::new(store.clone(), None, Arc::new(ServerMetrics::new(false)));
        Broker::new(
            SigningKey::from_bytes(&[1; 32]),
            BrokerConfig::default(),
            store.clone(),
            security,
        )
        .unwrap()
    }

    async fn grant(b: &Broker, session: u8, role: Role) -> String {
        b.grant(
            TenantId([1; 16]),
            SessionId([session; 16]),
            MemberId(1),
            role,
            Some("eu-west"),
            Duration::from_secs(60),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn tickets_need_a_grant_and_a_relay() {
        let b = broker_on(&store().await);
        assert_eq!(b.ticket("nope", None).await, Err(BrokerError::BadGrant));
        let token = grant(&b, 2, Role::Leader).await;
        assert_eq!(b.ticket(&token, None).await, Err(BrokerError::NoRelay));
        b.relay_registered(
            RelayId([5; 16]),
            "eu-west".into(),
            "ws://127.0.0.1:1/".into(),
            100,
        )
        .await
        .unwrap();
        let t = b.ticket(&token, None).await.unwrap();
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
        assert_eq!(claims.role, Role::Leader);
        b.end_session(SessionId([2; 16])).await.unwrap();
        assert_eq!(b.ticket(&token, None).await, Err(BrokerError::BadGrant));
    }

    #[tokio::test]
    async fn a_session_stays_put_until_its_relay_fails_then_moves() {
        let b = broker_on(&store().await);
        let l1 = b
            .relay_registered(RelayId([1; 16]), "eu-west".into(), "ws://a/".into(), 100)
            .await
            .unwrap();
        let l2 = b
            .relay_registered(RelayId([2; 16]), "eu-west".into(), "ws://b/".into(), 100)
            .await
            .unwrap();
        b.relay_heartbeat(RelayId([2; 16]), &l2, 0, 50)
            .await
            .unwrap();
        let token = grant(&b, 3, Role::Customer).await;
        let first = b.ticket(&token, None).await.unwrap();
        assert_eq!(first.relay, RelayId([1; 16]));
        // A claim of failure while the broker still sees the relay healthy
        // does not move the session.
        let claimed = b.ticket(&token, Some(RelayId([1; 16]))).await.unwrap();
        assert_eq!(claimed.relay, RelayId([1; 16]));
        b.relay_gone(RelayId([1; 16]), &l1).await.unwrap();
        let moved = b.ticket(&token, Some(RelayId([1; 16]))).await.unwrap();
        assert_eq!(moved.relay, RelayId([2; 16]));
        assert_eq!(moved.url, "ws://b/");
        // Everyone else now gets the new relay too, even without reporting.
        let other = b.ticket(&token, None).await.unwrap();
        assert_eq!(other.relay, RelayId([2; 16]));
    }

    #[tokio::test]
    async fn a_stale_link_cannot_mark_a_reregistered_relay_gone() {
        let b = broker_on(&store().await);
        let id = RelayId([1; 16]);
        let old = b
            .relay_registered(id, "eu-west".into(), "ws://a/".into(), 100)
            .await
            .unwrap();
        let new = b
            .relay_registered(id, "eu-west".into(), "ws://a/".into(), 100)
            .await
            .unwrap();
        assert_ne!(old, new);
        b.relay_gone(id, &old).await.unwrap();
        assert!(b.relays().await.unwrap()[0].healthy);
        b.relay_gone(id, &new).await.unwrap();
        assert!(!b.relays().await.unwrap()[0].healthy);
    }

    #[tokio::test]
    async fn replicas_share_grants_placements_and_relays() {
        let shared = store().await;
        let (a, b) = (broker_on(&shared), broker_on(&shared));
        // The relay's link is held by replica A; the grant comes from B.
        a.relay_registered(RelayId([7; 16]), "eu-west".into(), "ws://r/".into(), 100)
            .await
            .unwrap();
        let token = grant(&b, 4, Role::Leader).await;
        let from_a = a.ticket(&token, None).await.unwrap();
        let from_b = b.ticket(&token, None).await.unwrap();
        assert_eq!(from_a.relay, RelayId([7; 16]));
        assert_eq!(from_b.relay, from_a.relay);
        assert_eq!(b.relays().await.unwrap().len(), 1);
        // Ending the session on A revokes the grant B issued.
        a.end_session(SessionId([4; 16])).await.unwrap();
        assert_eq!(b.ticket(&token, None).await, Err(BrokerError::BadGrant));
    }

    #[tokio::test]
    async fn sweeping_removes_expired_grants_only() {
        let shared = store().await;
        let b = broker_on(&shared);
        let live = grant(&b, 5, Role::Leader).await;
        let short = b
            .grant(
                TenantId([1; 16]),
                SessionId([6; 16]),
                MemberId(2),
                Role::Viewer,
                None,
                Duration::from_millis(1),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        b.tick().await.unwrap();
        let mut p = shared.platform().await.unwrap();
        assert!(
            state::find_grant(&mut p, &grants::hash(&live), 0)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            state::find_grant(&mut p, &grants::hash(&short), 0)
                .await
                .unwrap()
                .is_none()
        );
    }
}
