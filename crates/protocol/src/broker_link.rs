//! Messages between a relay and the broker on their mutually authenticated
//! control link (JSON text WebSocket messages over mTLS).
//!
//! ```text
//! relay  → broker  {"type":"register","relay":"<id>","region":"eu-west","url":"wss://…","capacity":10000}
//! broker → relay   {"type":"registered","ticket_key":"<hex Ed25519 public key>","heartbeat_ms":1000}
//! relay  → broker  {"type":"heartbeat","sessions":3,"members":9}
//! relay  → broker  {"type":"security","reason":"bad_ticket","peer":"192.0.2.7","detail":"…"}
//! broker → relay   {"type":"refused","reason":"…"}
//! ```
//!
//! The relay's certificate must name the relay id it registers (DNS name
//! `<id>.relay.fernhand.invalid`, see [`relay_identity_name`]), so one relay
//! cannot register as another.

use crate::ids::RelayId;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Relay → broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RelayToBroker {
    /// First message: who and where the relay is.
    Register {
        /// Its id.
        relay: RelayId,
        /// Its region (e.g. `eu-west`).
        region: String,
        /// Where members reach it (`wss://…`, or `ws://` on loopback).
        url: String,
        /// How many members it is meant to carry.
        capacity: u32,
    },
    /// Periodic load report.
    Heartbeat {
        /// Sessions with members.
        sessions: u32,
        /// Connected members.
        members: u32,
    },
    /// A refusal the relay logged (already rate-limited there), for the
    /// control plane's security log and webhook. No secrets: tickets are
    /// never included.
    Security {
        /// Stable reason name (e.g. `bad_ticket`).
        reason: String,
        /// The refused peer's address, when known.
        peer: Option<String>,
        /// What happened.
        detail: String,
    },
}

/// Broker → relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrokerToRelay {
    /// Accepted: the ticket-verifying key and the heartbeat interval.
    Registered {
        /// Ed25519 public key, hex.
        ticket_key: String,
        /// Heartbeat every this many milliseconds.
        heartbeat_ms: u64,
    },
    /// Refused, and why.
    Refused {
        /// Why.
        reason: String,
    },
}

/// The DNS name a relay's certificate must carry for the relay to register
/// as `id` (under `.invalid`, a name that never resolves).
pub fn relay_identity_name(id: RelayId) -> String {
    format!("{id}.relay.fernhand.invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_documented_shape() {
        let m = RelayToBroker::Heartbeat {
            sessions: 3,
            members: 9,
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"type":"heartbeat","sessions":3,"members":9}"#
        );
        let r: BrokerToRelay =
            serde_json::from_str(r#"{"type":"registered","ticket_key":"ab","heartbeat_ms":1000}"#)
                .unwrap();
        assert_eq!(
            r,
            BrokerToRelay::Registered {
                ticket_key: "ab".into(),
                heartbeat_ms: 1000
            }
        );
        assert!(serde_json::from_str::<RelayToBroker>(r#"{"type":"nonsense"}"#).is_err());
    }
}

/// What a member gets from the broker (`POST /broker/v1/tickets`): where
/// to connect and the ticket to present.
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
