//! One member's protocol state machine: join handshake, keys, reliable
//! streams and roster, over data frames. Sans-IO: the caller feeds it frames
//! and the time, and takes frames to send and events to act on.
//!
//! - `join`: the SRP join (leader and joiner sides), key deliveries, key
//!   requests, admissions and the roster.
//! - `streams`: sealing and opening, reliable numbering, acknowledgements,
//!   resend requests and where each member's view of a stream starts.

mod events;
mod join;
mod streams;

pub use events::{EndpointConfig, Event, JoinRefusal, SendError};

use crate::frame::{Frame, PayloadKind};
use crate::ids::{ALL_MEMBERS, MemberId, SessionId};
use crate::message::{Message, MessageType, Roster, RosterEntry, Stream};
use crate::reliable::{InStream, OutStream};
use fernhand_e2e::{
    AwaitingConfirm, ClientHandshake, HandshakeError, KeyError, Leader, Member, Policy,
    ServerHandshake, Suite, VerifierStore,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;
use zeroize::Zeroizing;

/// The key-holding side of an endpoint.
enum Keys {
    /// The session leader: makes the keys, admits members.
    Leader {
        leader: Box<Leader>,
        verifiers: Box<VerifierStore>,
        pending: HashMap<MemberId, ServerHandshake>,
        roles: BTreeMap<MemberId, RosterEntry>,
        /// Unattended: the SRP handshake this leader runs as the client
        /// with the device, which holds the verifier.
        device: Option<Box<DeviceJoin>>,
    },
    /// Any other member: joins with a secret, receives keys.
    Member {
        client: Option<Box<ClientHandshake>>,
        awaiting: Option<Box<AwaitingConfirm>>,
        member: Option<Box<Member>>,
        policy: Policy,
        identity: Vec<u8>,
        secret: Zeroizing<Vec<u8>>,
        /// Unattended device: this member answers the leader's handshake
        /// with the verifier of its access password (SRP server) instead
        /// of joining with a secret.
        answers: Option<Box<Answering>>,
    },
}

/// The leader's side of an unattended join: it knows the device's access
/// password and plays the SRP client towards the device.
struct DeviceJoin {
    device: MemberId,
    policy: Policy,
    identity: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
    client: Option<ClientHandshake>,
    awaiting: Option<AwaitingConfirm>,
    admitted: bool,
    /// Whether the Hello went out (after the device knocked), and when.
    hello_sent: bool,
    hello_at: Option<Instant>,
    /// When the device was last asked whether it is there.
    last_poke: Option<Instant>,
}

/// A device's side of an unattended join: the verifier of its access
/// password and the handshake in progress.
struct Answering {
    verifiers: VerifierStore,
    pending: Option<ServerHandshake>,
}

/// A received message waiting in a stream: its type and body.
type Pending = (MessageType, Vec<u8>);

/// Where a reliable message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    All,
    One(MemberId),
}

/// One member's end of a session.
pub struct Endpoint {
    session: SessionId,
    me: MemberId,
    leader_id: MemberId,
    config: EndpointConfig,
    keys: Keys,
    roster: Option<Roster>,
    /// Members seen in a roster (other than this one).
    known: BTreeSet<MemberId>,
    /// Per member: the first of our broadcast sequence numbers it may read.
    join_points: BTreeMap<MemberId, u64>,
    /// Per epoch: our broadcast sequence number when it was installed.
    epoch_starts: BTreeMap<u32, u64>,
    out: HashMap<Target, OutStream>,
    broadcast_acked: BTreeMap<MemberId, u64>,
    inbound: HashMap<(MemberId, Stream), InStream<Pending>>,
    queued: VecDeque<(Target, Message)>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    unacked: u32,
    ack_deadline: Option<Instant>,
    sync_due: bool,
    last_sync: Option<Instant>,
    /// Since the last resync: the members whose `Sync` we answered. A
    /// resync request sent before a member reached the new relay is lost
    /// for it, so its own request is answered with ours (once).
    heard_since_resync: Option<BTreeSet<MemberId>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("session", &self.session)
            .field("me", &self.me)
            .field("leader", &self.leader_id)
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The leader of a session (an expert): holds the verifiers of the join
    /// secrets it handed out and makes the keys.
    pub fn leader(
        session: SessionId,
        me: MemberId,
        suite: Suite,
        verifiers: VerifierStore,
        config: EndpointConfig,
    ) -> Result<Endpoint, KeyError> {
        let leader = Leader::new(suite, me)?;
        let mut roles = BTreeMap::new();
        roles.insert(
            me,
            RosterEntry {
                id: me.0,
                role: "leader".to_owned(),
                permissions: Vec::new(),
            },
        );
        let epoch = leader.epoch();
        let mut endpoint = Endpoint::new(
            session,
            me,
            me,
            config,
            Keys::Leader {
                leader: Box::new(leader),
                verifiers: Box::new(verifiers),
                pending: HashMap::new(),
                roles,
                device: None,
            },
        );
        endpoint.note_epoch(epoch);
        Ok(endpoint)
    }

    /// A member joining with a secret (join code or link); the Hello to the
    /// leader is queued at once.
    pub fn joiner(
        session: SessionId,
        me: MemberId,
        leader: MemberId,
        policy: Policy,
        identity: &[u8],
        secret: &[u8],
        config: EndpointConfig,
    ) -> Result<Endpoint, HandshakeError> {
        let mut endpoint = Endpoint::new(
            session,
            me,
            leader,
            config,
            Keys::Member {
                client: None,
                awaiting: None,
                member: None,
                policy,
                identity: identity.to_vec(),
                secret: Zeroizing::new(secret.to_vec()),
                answers: None,
            },
        );
        endpoint.start_join()?;
        Ok(endpoint)
    }

    /// An unattended device: it holds the verifier of its access password
    /// and answers the leader's handshake as the SRP server; the leader
    /// still makes the keys (DESIGN §3.2).
    pub fn device(
        session: SessionId,
        me: MemberId,
        leader: MemberId,
        verifiers: VerifierStore,
        config: EndpointConfig,
    ) -> Endpoint {
        let mut endpoint = Endpoint::new(
            session,
            me,
            leader,
            config,
            Keys::Member {
                client: None,
                awaiting: None,
                member: None,
                policy: Policy::default(),
                identity: Vec::new(),
                secret: Zeroizing::new(Vec::new()),
                answers: Some(Box::new(Answering {
                    verifiers,
                    pending: None,
                })),
            },
        );
        // Tell the leader it may start (it also asks until it hears this).
        endpoint.knock();
        endpoint
    }

    fn new(
        session: SessionId,
        me: MemberId,
        leader_id: MemberId,
        config: EndpointConfig,
        keys: Keys,
    ) -> Endpoint {
        Endpoint {
            session,
            me,
            leader_id,
            config,
            keys,
            roster: None,
            known: BTreeSet::new(),
            join_points: BTreeMap::new(),
            epoch_starts: BTreeMap::new(),
            out: HashMap::new(),
            broadcast_acked: BTreeMap::new(),
            inbound: HashMap::new(),
            queued: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            unacked: 0,
            ack_deadline: None,
            sync_due: false,
            last_sync: None,
            heard_since_resync: None,
        }
    }

    /// This member's id.
    pub fn id(&self) -> MemberId {
        self.me
    }

    /// The session.
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// Whether this endpoint leads the session.
    pub fn is_leader(&self) -> bool {
        matches!(self.keys, Keys::Leader { .. })
    }

    /// The current epoch, once keyed.
    pub fn epoch(&self) -> Option<u32> {
        match &self.keys {
            Keys::Leader { leader, .. } => Some(leader.epoch()),
            Keys::Member { member, .. } => member.as_ref().and_then(|m| m.epoch()),
        }
    }

    /// The latest roster received (or, for the leader, its own).
    pub fn roster(&self) -> Option<&Roster> {
        self.roster.as_ref()
    }

    /// Whether reliable sending is within the window (flow control).
    pub fn can_send(&self) -> bool {
        self.unacked_bytes() < self.config.send_window
    }

    /// Bytes of reliable messages not yet acknowledged by every receiver.
    pub fn unacked_bytes(&self) -> usize {
        self.out.values().map(OutStream::unacked_bytes).sum()
    }

    /// Next frame to send to the relay.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sync = self.sync_due.then(|| {
            self.last_sync
                .map_or_else(Instant::now, |t| t + self.config.sync_interval)
        });
        [self.ack_deadline, sync, self.next_poke()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Let time pass: send acknowledgements and resend requests that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.ack_deadline.is_some_and(|d| now >= d) {
            self.send_ack();
        }
        if self.sync_due {
            self.request_resend(now);
        }
        if self.next_poke().is_some_and(|t| now >= t) {
            self.device_timer(now);
        }
    }

    /// After reconnecting (to another relay, or without resuming): say where
    /// this member stands so senders resend what it missed.
    pub fn resync(&mut self, now: Instant) {
        self.restart_device_join(now);
        if self.epoch().is_none() {
            // Still joining: the handshake or the first key may have been lost.
            if let Keys::Member {
                member: None,
                answers: Some(_),
                ..
            } = self.keys
            {
                self.knock();
            } else if let Keys::Member { member: None, .. } = self.keys {
                if let Err(e) = self.start_join() {
                    self.drop_frame(self.me, &format!("cannot restart the join: {e}"));
                }
            } else {
                self.request_key();
            }
            return;
        }
        self.last_sync = None;
        self.heard_since_resync = Some(BTreeSet::new());
        self.request_resend(now);
    }

    /// Send a message to `target` ([`ALL_MEMBERS`] for everyone). Reliable
    /// types are numbered and kept until acknowledged. Before this member has
    /// a key, messages wait.
    pub fn send(&mut self, target: MemberId, message: Message) -> Result<(), SendError> {
        let kind = message.kind();
        if matches!(
            kind,
            MessageType::Roster | MessageType::Ack | MessageType::Sync | MessageType::StreamStart
        ) {
            return Err(SendError::Reserved(kind));
        }
        let target = if target == ALL_MEMBERS {
            Target::All
        } else {
            Target::One(target)
        };
        if self.epoch().is_none() {
            self.queued.push_back((target, message));
            return Ok(());
        }
        self.send_reliable(target, &message)?;
        Ok(())
    }

    /// Feed a data frame received from the relay.
    pub fn handle_frame(&mut self, bytes: &[u8], now: Instant) {
        let (envelope, payload) = match Frame::parse(bytes) {
            Ok(Frame::Data { envelope, payload }) => (envelope, payload),
            Ok(_) => {
                self.drop_frame(ALL_MEMBERS, "relay control frame given to the endpoint");
                return;
            }
            Err(e) => {
                self.drop_frame(ALL_MEMBERS, &format!("malformed frame: {e}"));
                return;
            }
        };
        if envelope.session != self.session {
            self.drop_frame(envelope.sender, "frame for another session");
            return;
        }
        if envelope.target != ALL_MEMBERS && envelope.target != self.me {
            self.drop_frame(envelope.sender, "frame addressed to another member");
            return;
        }
        if envelope.sender == self.me {
            self.drop_frame(envelope.sender, "frame claims to come from this member");
            return;
        }
        match envelope.kind {
            PayloadKind::Handshake => self.on_handshake(envelope.sender, payload, now),
            PayloadKind::KeyDelivery => self.on_delivery(envelope.sender, payload, now),
            PayloadKind::Sealed => self.on_sealed(&envelope, payload, now),
        }
    }

    fn drop_frame(&mut self, from: MemberId, reason: &str) {
        self.events.push_back(Event::Dropped {
            from,
            reason: reason.to_owned(),
        });
    }
}
