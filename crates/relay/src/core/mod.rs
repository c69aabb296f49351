//! The relay's logic, sans-IO: admission by ticket, routing of data frames by
//! their cleartext envelope, per-member outbound queues with back-pressure,
//! hop acknowledgements, and resume after a dropped connection.
//!
//! The driver (`crate::server`) owns the sockets; it tells the core what
//! arrived and asks it what to write. Connection handles `W` are whatever the
//! driver uses to wake a connection's writer; the core returns the handles to
//! wake and never performs I/O. Time is passed in.

mod outbound;

use crate::limits::Limits;
use crate::metrics::RelayMetrics;
use bytes::Bytes;
use ed25519_dalek::VerifyingKey;
use fernhand_protocol::frame::{self, CloseCode, Frame, RESUME_TOKEN_LEN, Resume, TrafficClass};
use fernhand_protocol::ticket::{Role, Ticket, TicketError};
use fernhand_protocol::{ALL_MEMBERS, MemberId, RelayId, SessionId};
use outbound::{OutQueue, Pushed};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// A connection, as numbered by the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Why the relay refuses or closes a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The close code sent to the member.
    pub code: CloseCode,
    /// Detail for the security log (no secrets).
    pub detail: String,
}

impl Refusal {
    fn new(code: CloseCode, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            detail: detail.into(),
        }
    }
}

/// A successful admission.
#[derive(Debug)]
pub struct Admission<W> {
    /// The session joined.
    pub session: SessionId,
    /// The member, from the ticket.
    pub member: MemberId,
    /// Its role, from the ticket.
    pub role: Role,
    /// The `Admitted` frame to send first.
    pub admitted: Bytes,
    /// Whether earlier state was resumed.
    pub resumed: bool,
    /// An older connection of the same member, to close (it was replaced).
    pub replaced: Option<W>,
}

/// What a connection's writer should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Outbound {
    /// Write these frames (possibly none).
    Frames(Vec<Bytes>),
    /// Send this close notice and close the connection.
    Close(Refusal),
}

struct MemberState<W> {
    role: Role,
    conn: Option<(ConnId, W)>,
    token_hash: [u8; 32],
    out: OutQueue,
    /// Reliable data frames received from the member (hop count).
    received: u64,
    /// The count last acknowledged to the member.
    acked_to_member: u64,
    disconnected_at: Option<Instant>,
    close: Option<Refusal>,
}

struct SessionState<W> {
    members: BTreeMap<MemberId, MemberState<W>>,
}

impl<W> Default for SessionState<W> {
    fn default() -> Self {
        SessionState {
            members: BTreeMap::new(),
        }
    }
}

/// The relay's whole state.
pub struct RelayCore<W> {
    id: RelayId,
    ticket_key: VerifyingKey,
    limits: Limits,
    metrics: Arc<RelayMetrics>,
    sessions: HashMap<SessionId, SessionState<W>>,
    conns: HashMap<ConnId, (SessionId, MemberId)>,
}

fn token_hash(token: &[u8; RESUME_TOKEN_LEN]) -> [u8; 32] {
    Sha256::digest(token).into()
}

fn ticket_refusal(e: TicketError) -> Refusal {
    let code = match e {
        TicketError::Malformed | TicketError::BadSignature => CloseCode::BadTicket,
        TicketError::Expired | TicketError::NotYetValid => CloseCode::ExpiredTicket,
        TicketError::WrongRelay => CloseCode::WrongRelay,
    };
    Refusal::new(code, e.to_string())
}

impl<W: Clone> RelayCore<W> {
    /// A relay `id` that trusts tickets signed by `ticket_key`.
    pub fn new(
        id: RelayId,
        ticket_key: VerifyingKey,
        limits: Limits,
        metrics: Arc<RelayMetrics>,
    ) -> Self {
        RelayCore {
            id,
            ticket_key,
            limits,
            metrics,
            sessions: HashMap::new(),
            conns: HashMap::new(),
        }
    }

    /// This relay's id.
    pub fn id(&self) -> RelayId {
        self.id
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Admit connection `conn` with the first frame it sent. `now_unix` is
    /// the wall clock in seconds (ticket validity).
    pub fn admit(
        &mut self,
        conn: ConnId,
        waker: W,
        first_frame: &[u8],
        now_unix: u64,
    ) -> Result<Admission<W>, Refusal> {
        let (ticket, resume) = match Frame::parse(first_frame) {
            Ok(Frame::Admit { ticket, resume }) => (ticket, resume),
            Ok(_) => {
                return Err(Refusal::new(
                    CloseCode::ProtocolError,
                    "first frame is not Admit",
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    CloseCode::ProtocolError,
                    format!("bad Admit: {e}"),
                ));
            }
        };
        let ticket =
            Ticket::verify(ticket, &self.ticket_key, self.id, now_unix).map_err(ticket_refusal)?;
        let max_members = self.limits.max_members_per_session;
        let session = self.sessions.entry(ticket.session).or_default();
        if !session.members.contains_key(&ticket.member) && session.members.len() >= max_members {
            if session.members.is_empty() {
                self.sessions.remove(&ticket.session);
            }
            return Err(Refusal::new(
                CloseCode::SessionFull,
                format!("session has {max_members} members"),
            ));
        }

        let mut token = [0u8; RESUME_TOKEN_LEN];
        getrandom::fill(&mut token)
            .map_err(|_| Refusal::new(CloseCode::Shutdown, "no entropy for a resume token"))?;
        let existing = session.members.remove(&ticket.member);
        let (mut state, resumed, replaced) = match (existing, resume) {
            (
                Some(mut old),
                Some(Resume {
                    token: offered,
                    received,
                }),
            ) if bool::from(old.token_hash.ct_eq(&token_hash(&offered))) => {
                let replaced = old.conn.take().map(|(id, w)| {
                    self.conns.remove(&id);
                    w
                });
                if replaced.is_some() {
                    old.out.disconnected();
                }
                old.out.ack(received);
                (old, true, replaced)
            }
            (existing, _) => {
                // A fresh start: whatever was held for this member is dropped
                // (it will resync end to end).
                let replaced = existing.and_then(|old| {
                    old.conn.map(|(id, w)| {
                        self.conns.remove(&id);
                        w
                    })
                });
                let state = MemberState {
                    role: ticket.role,
                    conn: None,
                    token_hash: [0; 32],
                    out: OutQueue::default(),
                    received: 0,
                    acked_to_member: 0,
                    disconnected_at: None,
                    close: None,
                };
                (state, false, replaced)
            }
        };
        state.token_hash = token_hash(&token);
        state.conn = Some((conn, waker));
        state.disconnected_at = None;
        state.close = None;
        state.role = ticket.role;
        state.acked_to_member = state.received;
        let admitted = Bytes::from(frame::admitted(
            ticket.member,
            &token,
            state.received,
            resumed,
        ));
        session.members.insert(ticket.member, state);
        self.conns.insert(conn, (ticket.session, ticket.member));
        if resumed {
            self.metrics.resumes.inc();
        }
        Ok(Admission {
            session: ticket.session,
            member: ticket.member,
            role: ticket.role,
            admitted,
            resumed,
            replaced,
        })
    }

    /// A frame arrived on an admitted connection. Returns the connections to
    /// wake (their queues grew), or a refusal that closes this connection.
    pub fn on_frame(&mut self, conn: ConnId, bytes: Bytes) -> Result<Vec<W>, Refusal> {
        let Some(&(session_id, sender)) = self.conns.get(&conn) else {
            return Err(Refusal::new(
                CloseCode::ProtocolError,
                "frame on a connection not admitted",
            ));
        };
        self.metrics.frames_in.inc();
        self.metrics.bytes_in.inc_by(bytes.len() as u64);
        let envelope = match Frame::parse(&bytes) {
            Ok(Frame::Data { envelope, .. }) => envelope,
            Ok(Frame::Ack(count)) => {
                if let Some(m) = self.member_mut(session_id, sender) {
                    m.out.ack(count);
                }
                return Ok(Vec::new());
            }
            Ok(_) => {
                return Err(Refusal::new(
                    CloseCode::ProtocolError,
                    "unexpected frame type",
                ));
            }
            Err(e) => {
                return Err(Refusal::new(
                    CloseCode::ProtocolError,
                    format!("malformed frame: {e}"),
                ));
            }
        };
        if envelope.session != session_id || envelope.sender != sender {
            return Err(Refusal::new(
                CloseCode::WrongIdentity,
                format!(
                    "frame names session {} member {}, ticket says session {} member {}",
                    envelope.session, envelope.sender.0, session_id, sender.0
                ),
            ));
        }
        let reliable = envelope.class == TrafficClass::Reliable;
        let mut wake = Vec::new();
        let buffer_limit = self.limits.max_reliable_buffer_bytes;
        let skip_above = self.limits.latest_wins_skip_bytes;
        let ack_every = self.limits.ack_every;
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return Ok(wake);
        };
        let mut overflowed = Vec::new();
        let targets: Vec<MemberId> = if envelope.target == ALL_MEMBERS {
            session
                .members
                .keys()
                .copied()
                .filter(|m| *m != sender)
                .collect()
        } else if session.members.contains_key(&envelope.target) && envelope.target != sender {
            vec![envelope.target]
        } else {
            self.metrics.drop_frame("unknown_target");
            Vec::new()
        };
        for target in targets {
            let Some(member) = session.members.get_mut(&target) else {
                continue;
            };
            if member.close.is_some() {
                continue;
            }
            let pushed = if reliable {
                member.out.push_reliable(bytes.clone(), buffer_limit)
            } else if member.conn.is_none() {
                Pushed::Skipped
            } else {
                member.out.push_latest(bytes.clone(), skip_above)
            };
            match pushed {
                Pushed::Queued => {
                    if let Some((_, w)) = &member.conn {
                        wake.push(w.clone());
                    }
                }
                Pushed::Skipped => self.metrics.drop_frame("slow_member_latest_wins"),
                Pushed::Overflow => {
                    self.metrics.drop_frame("slow_member_reliable");
                    overflowed.push(target);
                }
            }
        }
        // The sender's hop count, acknowledged every few frames.
        if reliable && let Some(me) = session.members.get_mut(&sender) {
            me.received = me.received.saturating_add(1);
            if me.received.saturating_sub(me.acked_to_member) >= ack_every {
                me.acked_to_member = me.received;
                me.out.push_unnumbered(Bytes::from(frame::ack(me.received)));
                if let Some((_, w)) = &me.conn {
                    wake.push(w.clone());
                }
            }
        }
        for target in overflowed {
            wake.extend(self.too_slow(session_id, target));
        }
        Ok(wake)
    }

    /// A member fell too far behind: close it and drop its state (it will
    /// join afresh and resync end to end).
    fn too_slow(&mut self, session_id: SessionId, member: MemberId) -> Option<W> {
        let session = self.sessions.get_mut(&session_id)?;
        let state = session.members.get_mut(&member)?;
        match &state.conn {
            Some((_, w)) => {
                let w = w.clone();
                state.close = Some(Refusal::new(
                    CloseCode::TooSlow,
                    "reliable buffer limit exceeded; rejoin and resync",
                ));
                Some(w)
            }
            None => {
                session.members.remove(&member);
                None
            }
        }
    }

    /// Close `conn` for `refusal` (a frame it sent was refused). Returns the
    /// handle to wake so its writer sends the close notice.
    pub fn close(&mut self, conn: ConnId, refusal: Refusal) -> Option<W> {
        let &(session_id, member) = self.conns.get(&conn)?;
        let state = self.member_mut(session_id, member)?;
        state.close = Some(refusal);
        state.conn.as_ref().map(|(_, w)| w.clone())
    }

    /// What connection `conn` should write next (at most `max` frames). A
    /// connection the core no longer knows was replaced by a newer one.
    pub fn outbound(&mut self, conn: ConnId, max: usize) -> Outbound {
        let Some(&(session_id, member)) = self.conns.get(&conn) else {
            return Outbound::Close(Refusal::new(
                CloseCode::Replaced,
                "another connection took over this member",
            ));
        };
        let Some(state) = self.member_mut(session_id, member) else {
            return Outbound::Frames(Vec::new());
        };
        if let Some(refusal) = state.close.clone() {
            return Outbound::Close(refusal);
        }
        let frames = state.out.take(max);
        self.metrics.frames_out.inc_by(frames.len() as u64);
        self.metrics
            .bytes_out
            .inc_by(frames.iter().map(|f| f.len() as u64).sum());
        Outbound::Frames(frames)
    }

    /// Whether `conn` has frames waiting.
    pub fn has_outbound(&self, conn: ConnId) -> bool {
        self.conns
            .get(&conn)
            .and_then(|(s, m)| self.sessions.get(s)?.members.get(m))
            .is_some_and(|state| state.out.has_unsent() || state.close.is_some())
    }

    /// Connection `conn` ended. Its member's reliable frames wait for a
    /// resume until the window passes; a member closed by the relay is
    /// forgotten at once.
    pub fn on_disconnect(&mut self, conn: ConnId, now: Instant) {
        let Some((session_id, member)) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(session) = self.sessions.get_mut(&session_id) {
            let forget = match session.members.get_mut(&member) {
                Some(state) if state.conn.as_ref().is_some_and(|(c, _)| *c == conn) => {
                    state.conn = None;
                    state.out.disconnected();
                    state.disconnected_at = Some(now);
                    state.close.is_some()
                }
                _ => false,
            };
            if forget {
                session.members.remove(&member);
            }
            if session.members.is_empty() {
                self.sessions.remove(&session_id);
            }
        }
    }

    /// Periodic work: acknowledge what members sent since the last ack, and
    /// forget members whose resume window has passed. Returns connections to
    /// wake.
    pub fn tick(&mut self, now: Instant) -> Vec<W> {
        let window = self.limits.resume_window;
        let mut wake = Vec::new();
        self.sessions.retain(|_, session| {
            session.members.retain(|_, m| {
                m.disconnected_at
                    .is_none_or(|t| now.saturating_duration_since(t) < window)
            });
            for m in session.members.values_mut() {
                if m.received > m.acked_to_member
                    && let Some((_, w)) = &m.conn
                {
                    m.acked_to_member = m.received;
                    m.out.push_unnumbered(Bytes::from(frame::ack(m.received)));
                    wake.push(w.clone());
                }
            }
            !session.members.is_empty()
        });
        self.refresh_gauges();
        wake
    }

    /// Close every connection (shutdown). Returns the connections to wake.
    pub fn shutdown(&mut self) -> Vec<W> {
        let mut wake = Vec::new();
        for session in self.sessions.values_mut() {
            for m in session.members.values_mut() {
                if let Some((_, w)) = &m.conn {
                    m.close = Some(Refusal::new(CloseCode::Shutdown, "relay shutting down"));
                    wake.push(w.clone());
                }
            }
        }
        wake
    }

    fn member_mut(&mut self, session: SessionId, member: MemberId) -> Option<&mut MemberState<W>> {
        self.sessions.get_mut(&session)?.members.get_mut(&member)
    }

    /// Number of sessions and of connected members.
    pub fn counts(&self) -> (usize, usize) {
        let connected = self
            .sessions
            .values()
            .flat_map(|s| s.members.values())
            .filter(|m| m.conn.is_some())
            .count();
        (self.sessions.len(), connected)
    }

    /// Update the session, member and buffer gauges (called from `tick`:
    /// walking every member per frame would not scale).
    fn refresh_gauges(&self) {
        let mut connected = 0i64;
        let mut resumable = 0i64;
        let mut buffered = 0i64;
        for m in self.sessions.values().flat_map(|s| s.members.values()) {
            if m.conn.is_some() {
                connected += 1;
            } else {
                resumable += 1;
            }
            buffered += i64::try_from(m.out.reliable_bytes()).unwrap_or(i64::MAX);
        }
        self.metrics
            .sessions
            .set(i64::try_from(self.sessions.len()).unwrap_or(i64::MAX));
        self.metrics.members_connected.set(connected);
        self.metrics.members_resumable.set(resumable);
        self.metrics.buffer_bytes.set(buffered);
    }
}

#[cfg(test)]
mod tests;
