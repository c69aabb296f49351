//! Admission tickets: the control plane's signed statement that a member may
//! join a session on one relay, until a time.
//!
//! ```text
//! payload   version 01 | role (1) | 00 00 | tenant (16) | session (16) | relay (16)
//!           | member (4) | not before (8, Unix seconds) | not after (8) | nonce (8)
//! ticket    payload (80) | Ed25519 signature (64) over "FH1 relay ticket" ‖ payload
//! ```
//!
//! The relay holds only the public key. A ticket names its relay, so one
//! stolen for relay A is worthless at relay B; it is short-lived; and it gives
//! the member id the relay checks every data frame's sender against.

use crate::ids::{MemberId, RelayId, SessionId, TenantId};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

/// Length of an encoded ticket.
pub const TICKET_LEN: usize = PAYLOAD_LEN + 64;
const PAYLOAD_LEN: usize = 80;
const TICKET_VERSION: u8 = 1;
const DOMAIN: &[u8] = b"FH1 relay ticket";
/// Clock difference tolerated between control plane and relay.
pub const CLOCK_SKEW_SECS: u64 = 30;

/// What a member is in its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The expert who leads the session and holds its keys.
    Leader,
    /// Another expert invited into the session.
    Expert,
    /// The customer (browser or agent) in an attended session.
    Customer,
    /// An unattended agent.
    Agent,
    /// A member who only watches.
    Viewer,
}

impl Role {
    /// The role's code in a ticket.
    pub const fn byte(self) -> u8 {
        match self {
            Role::Leader => 1,
            Role::Expert => 2,
            Role::Customer => 3,
            Role::Agent => 4,
            Role::Viewer => 5,
        }
    }

    /// The role with ticket code `b`.
    pub fn from_byte(b: u8) -> Option<Role> {
        Some(match b {
            1 => Role::Leader,
            2 => Role::Expert,
            3 => Role::Customer,
            4 => Role::Agent,
            5 => Role::Viewer,
            _ => return None,
        })
    }

    /// Stable lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Expert => "expert",
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }
}

/// The claims of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Tenant that owns the session.
    pub tenant: TenantId,
    /// The session.
    pub session: SessionId,
    /// The relay this ticket admits to.
    pub relay: RelayId,
    /// The member id the holder will have.
    pub member: MemberId,
    /// The holder's role.
    pub role: Role,
    /// Valid from (Unix seconds).
    pub not_before: u64,
    /// Valid until (Unix seconds).
    pub not_after: u64,
    /// Random, so two tickets with equal claims differ.
    pub nonce: [u8; 8],
}

/// Why a ticket is refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    /// Wrong length, version or role byte.
    #[error("malformed ticket")]
    Malformed,
    /// The signature does not verify under the control plane's key.
    #[error("ticket signature does not verify")]
    BadSignature,
    /// Past its end.
    #[error("ticket expired")]
    Expired,
    /// Before its start.
    #[error("ticket not valid yet")]
    NotYetValid,
    /// For another relay.
    #[error("ticket is for another relay")]
    WrongRelay,
}

impl Ticket {
    fn payload(&self) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        let fields: [&[u8]; 8] = [
            &[TICKET_VERSION, self.role.byte(), 0, 0],
            self.tenant.as_bytes(),
            self.session.as_bytes(),
            self.relay.as_bytes(),
            &self.member.0.to_be_bytes(),
            &self.not_before.to_be_bytes(),
            &self.not_after.to_be_bytes(),
            &self.nonce,
        ];
        let mut at = 0usize;
        for field in fields {
            if let Some(dst) = out.get_mut(at..at.saturating_add(field.len())) {
                dst.copy_from_slice(field);
            }
            at = at.saturating_add(field.len());
        }
        out
    }

    /// Sign the claims with the control plane's key.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let payload = self.payload();
        let mut message = Vec::with_capacity(DOMAIN.len() + PAYLOAD_LEN);
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(&payload);
        let signature: Signature = key.sign(&message);
        let mut out = payload.to_vec();
        out.extend_from_slice(&signature.to_bytes());
        out
    }

    /// Check the signature, the relay and the validity period (`now` in Unix
    /// seconds, with [`CLOCK_SKEW_SECS`] of tolerance), and return the claims.
    pub fn verify(
        bytes: &[u8],
        key: &VerifyingKey,
        relay: RelayId,
        now: u64,
    ) -> Result<Ticket, TicketError> {
        let (payload, signature) = bytes
            .split_first_chunk::<PAYLOAD_LEN>()
            .ok_or(TicketError::Malformed)?;
        let signature: &[u8; 64] = signature.try_into().map_err(|_| TicketError::Malformed)?;
        let mut message = Vec::with_capacity(DOMAIN.len() + PAYLOAD_LEN);
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(payload);
        key.verify_strict(&message, &Signature::from_bytes(signature))
            .map_err(|_| TicketError::BadSignature)?;
        let ticket = Ticket::decode(payload)?;
        if ticket.relay != relay {
            return Err(TicketError::WrongRelay);
        }
        if now.saturating_add(CLOCK_SKEW_SECS) < ticket.not_before {
            return Err(TicketError::NotYetValid);
        }
        if now > ticket.not_after.saturating_add(CLOCK_SKEW_SECS) {
            return Err(TicketError::Expired);
        }
        Ok(ticket)
    }

    fn decode(p: &[u8; PAYLOAD_LEN]) -> Result<Ticket, TicketError> {
        let [version, role, r0, r1, rest @ ..] = *p;
        if version != TICKET_VERSION || r0 != 0 || r1 != 0 {
            return Err(TicketError::Malformed);
        }
        let role = Role::from_byte(role).ok_or(TicketError::Malformed)?;
        let take16 = |at: usize| -> [u8; 16] {
            let mut out = [0u8; 16];
            if let Some(src) = rest.get(at..at.saturating_add(16)) {
                out.copy_from_slice(src);
            }
            out
        };
        let take8 = |at: usize| -> [u8; 8] {
            let mut out = [0u8; 8];
            if let Some(src) = rest.get(at..at.saturating_add(8)) {
                out.copy_from_slice(src);
            }
            out
        };
        let mut member = [0u8; 4];
        if let Some(src) = rest.get(48..52) {
            member.copy_from_slice(src);
        }
        Ok(Ticket {
            tenant: TenantId(take16(0)),
            session: SessionId(take16(16)),
            relay: RelayId(take16(32)),
            member: MemberId(u32::from_be_bytes(member)),
            role,
            not_before: u64::from_be_bytes(take8(52)),
            not_after: u64::from_be_bytes(take8(60)),
            nonce: take8(68),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42u8; 32])
    }

    fn ticket() -> Ticket {
        Ticket {
            tenant: TenantId([1; 16]),
            session: SessionId([2; 16]),
            relay: RelayId([3; 16]),
            member: MemberId(7),
            role: Role::Customer,
            not_before: 1_000,
            not_after: 2_000,
            nonce: [9; 8],
        }
    }

    #[test]
    fn signed_ticket_verifies_and_round_trips() {
        let bytes = ticket().sign(&key());
        assert_eq!(bytes.len(), TICKET_LEN);
        let got = Ticket::verify(&bytes, &key().verifying_key(), RelayId([3; 16]), 1_500);
        assert_eq!(got, Ok(ticket()));
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let vk = key().verifying_key();
        let relay = RelayId([3; 16]);
        let bytes = ticket().sign(&key());
        assert_eq!(
            Ticket::verify(&bytes, &vk, relay, 2_000 + CLOCK_SKEW_SECS + 1),
            Err(TicketError::Expired)
        );
        assert_eq!(
            Ticket::verify(&bytes, &vk, relay, 1_000 - CLOCK_SKEW_SECS - 1),
            Err(TicketError::NotYetValid)
        );
        assert_eq!(
            Ticket::verify(&bytes, &vk, RelayId([4; 16]), 1_500),
            Err(TicketError::WrongRelay)
        );
        let other = SigningKey::from_bytes(&[43u8; 32]).verifying_key();
        assert_eq!(
            Ticket::verify(&bytes, &other, relay, 1_500),
            Err(TicketError::BadSignature)
        );
        for i in 0..bytes.len() {
            let mut forged = bytes.clone();
            forged[i] ^= 0x01;
            assert!(
                Ticket::verify(&forged, &vk, relay, 1_500).is_err(),
                "byte {i}"
            );
        }
        assert_eq!(
            Ticket::verify(&bytes[..100], &vk, relay, 1_500),
            Err(TicketError::Malformed)
        );
    }
}
