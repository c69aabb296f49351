//! The broker's shared state: grants (by the hash of their token), where each
//! session runs, and the relays with their load and last heartbeat. Platform
//! tables, so that any control-plane replica can answer any member and place
//! any session on any relay, whichever replica holds the relay's link.
//!
//! Times are Unix milliseconds passed in by the caller (heartbeats come
//! several times a second; the broker decides what "now" is).

use crate::{PlatformTx, StoreError};
use sqlx::Row;

/// A grant as stored (the token itself never is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRow {
    /// Tenant of the session.
    pub tenant_id: String,
    /// The session.
    pub session_id: String,
    /// Member number its tickets carry.
    pub member: u32,
    /// Role code (see the ticket format).
    pub role: u8,
    /// Placement hint.
    pub region: String,
    /// Valid until (ms).
    pub expires_ms: i64,
}

/// A relay as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayRow {
    /// Relay id.
    pub id: String,
    /// Region.
    pub region: String,
    /// Member-facing URL.
    pub url: String,
    /// Stated capacity (members).
    pub capacity: u32,
    /// Sessions it reported.
    pub sessions: u32,
    /// Members it reported.
    pub members: u32,
    /// Whether its registration link is open.
    pub linked: bool,
    /// Which link is current (a newer registration supersedes).
    pub link: String,
    /// Last registration or heartbeat (ms).
    pub seen_ms: i64,
}

fn int(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Store a grant under the hash of its token.
pub async fn insert_grant(
    tx: &mut PlatformTx,
    token_hash: &str,
    grant: &GrantRow,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO broker_grants (token_hash, tenant_id, session_id, member, role, region, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(token_hash)
        .bind(&grant.tenant_id)
        .bind(&grant.session_id)
        .bind(i64::from(grant.member))
        .bind(i64::from(grant.role))
        .bind(&grant.region)
        .bind(grant.expires_ms)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "grant"))?;
    Ok(())
}

/// The unexpired grant whose token hashes to `token_hash`.
pub async fn find_grant(
    tx: &mut PlatformTx,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query("SELECT tenant_id, session_id, member, role, region, expires_ms FROM broker_grants WHERE token_hash = $1 AND expires_ms > $2")
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(tx.conn())
        .await?;
    row.map(|r| {
        let role: i64 = r.try_get("role")?;
        Ok(GrantRow {
            tenant_id: r.try_get("tenant_id")?,
            session_id: r.try_get("session_id")?,
            member: int(r.try_get("member")?),
            role: u8::try_from(role).map_err(|_| StoreError::Corrupt("grant role"))?,
            region: r.try_get("region")?,
            expires_ms: r.try_get("expires_ms")?,
        })
    })
    .transpose()
}

/// The session is over: its grants and placement go.
pub async fn end_session(tx: &mut PlatformTx, session_id: &str) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM broker_grants WHERE session_id = $1",
        "DELETE FROM broker_placements WHERE session_id = $1",
    ] {
        sqlx::query(sql).bind(session_id).execute(tx.conn()).await?;
    }
    Ok(())
}

/// Delete grants expired before `now_ms`, placements of sessions that have
/// no grant left, and relays not seen since `forget_before_ms`; returns how
/// many grants went.
pub async fn sweep(
    tx: &mut PlatformTx,
    now_ms: i64,
    forget_before_ms: i64,
) -> Result<u64, StoreError> {
    let grants = sqlx::query("DELETE FROM broker_grants WHERE expires_ms <= $1")
        .bind(now_ms)
        .execute(tx.conn())
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM broker_placements WHERE NOT EXISTS (SELECT 1 FROM broker_grants g WHERE g.session_id = broker_placements.session_id)")
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM broker_relays WHERE seen_ms < $1")
        .bind(forget_before_ms)
        .execute(tx.conn())
        .await?;
    Ok(grants)
}

/// The relay a session is placed on.
pub async fn placement(
    tx: &mut PlatformTx,
    session_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT relay_id FROM broker_placements WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Place a session on `relay_id` if it is still where the caller saw it
/// (`seen`: `None` for "not placed"). Returns the placement that holds
/// afterwards: the caller's, or the one another replica made first.
pub async fn place(
    tx: &mut PlatformTx,
    session_id: &str,
    tenant_id: &str,
    relay_id: &str,
    seen: Option<&str>,
    now_ms: i64,
) -> Result<String, StoreError> {
    match seen {
        None => {
            sqlx::query("INSERT INTO broker_placements (session_id, tenant_id, relay_id, placed_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING")
                .bind(session_id)
                .bind(tenant_id)
                .bind(relay_id)
                .bind(now_ms)
                .execute(tx.conn())
                .await?;
        }
        Some(old) => {
            sqlx::query("UPDATE broker_placements SET relay_id = $1, placed_ms = $2 WHERE session_id = $3 AND relay_id = $4")
                .bind(relay_id)
                .bind(now_ms)
                .bind(session_id)
                .bind(old)
                .execute(tx.conn())
                .await?;
        }
    }
    placement(tx, session_id)
        .await?
        .ok_or(StoreError::Corrupt("placement vanished"))
}

/// A relay (re)registered on link `link`: it is linked and seen now.
pub async fn register_relay(tx: &mut PlatformTx, relay: &RelayRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO broker_relays (id, region, url, capacity, sessions, members, linked, link, seen_ms) VALUES ($1, $2, $3, $4, 0, 0, 1, $5, $6) ON CONFLICT (id) DO UPDATE SET region = excluded.region, url = excluded.url, capacity = excluded.capacity, sessions = 0, members = 0, linked = 1, link = excluded.link, seen_ms = excluded.seen_ms")
        .bind(&relay.id)
        .bind(&relay.region)
        .bind(&relay.url)
        .bind(i64::from(relay.capacity))
        .bind(&relay.link)
        .bind(relay.seen_ms)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A heartbeat on link `link` (ignored if a newer link superseded it).
pub async fn relay_heartbeat(
    tx: &mut PlatformTx,
    id: &str,
    link: &str,
    sessions: u32,
    members: u32,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE broker_relays SET sessions = $1, members = $2, seen_ms = $3, linked = 1 WHERE id = $4 AND link = $5")
        .bind(i64::from(sessions))
        .bind(i64::from(members))
        .bind(now_ms)
        .bind(id)
        .bind(link)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Link `link` closed (ignored if a newer link superseded it).
pub async fn relay_unlinked(tx: &mut PlatformTx, id: &str, link: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE broker_relays SET linked = 0 WHERE id = $1 AND link = $2")
        .bind(id)
        .bind(link)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Every relay, by id.
pub async fn relays(tx: &mut PlatformTx) -> Result<Vec<RelayRow>, StoreError> {
    let rows = sqlx::query("SELECT id, region, url, capacity, sessions, members, linked, link, seen_ms FROM broker_relays ORDER BY id")
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter()
        .map(|r| {
            let linked: i64 = r.try_get("linked")?;
            Ok(RelayRow {
                id: r.try_get("id")?,
                region: r.try_get("region")?,
                url: r.try_get("url")?,
                capacity: int(r.try_get("capacity")?),
                sessions: int(r.try_get("sessions")?),
                members: int(r.try_get("members")?),
                linked: linked != 0,
                link: r.try_get("link")?,
                seen_ms: r.try_get("seen_ms")?,
            })
        })
        .collect()
}
