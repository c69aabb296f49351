//! The session runtime: one tokio task drives a member's protocol
//! [`Endpoint`] over its [`MemberLink`] — frames out, frames in, timers,
//! relay moves (resync when frames may have been lost) — and the
//! application talks to it through a [`Session`] handle. The protocol stays
//! sans-IO; this file is the thin I/O around it.

use fernhand_protocol::message::Message;
use fernhand_protocol::{Endpoint, Event, MemberId, RelayId};
use fernhand_relay::{Delivery, LinkError, MemberLink, TicketSource};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::mpsc;

/// What the application hears from its session.
#[derive(Debug)]
pub enum SessionEvent {
    /// The first event: connected to the session through `relay`.
    Connected {
        /// The relay carrying the session.
        relay: RelayId,
    },
    /// Something the protocol reports (join, keys, roster, messages, drops).
    Protocol(Event),
    /// The link was re-established on `relay` (resynced if not resumed).
    Moved {
        /// The relay now carrying the session.
        relay: RelayId,
        /// Whether the relay kept our state (nothing lost).
        resumed: bool,
    },
    /// The link gave up; the session is over for this member.
    Closed(String),
}

/// Why a request to the session failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The session task has ended.
    #[error("the session has ended")]
    Ended,
    /// The endpoint refused the message.
    #[error("message refused: {0}")]
    Refused(String),
}

enum Command {
    Send(MemberId, Message),
    SetRole(MemberId, String, Vec<String>),
    Remove(MemberId),
}

/// The application's handle on a running session.
pub struct Session {
    me: MemberId,
    commands: mpsc::Sender<Command>,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    unacked: Arc<AtomicUsize>,
    in_channel: Arc<AtomicUsize>,
    /// Tells the task to leave; heard even while the send window is full.
    close: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    reporter: Option<crate::broker::SecurityReporter>,
    chat_policy: fernhand_privacy::restricted::Policy,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

/// A cheap, cloneable way to send into a session from other tasks.
#[derive(Clone, Debug)]
pub struct Sender {
    commands: mpsc::Sender<Command>,
    unacked: Arc<AtomicUsize>,
    in_channel: Arc<AtomicUsize>,
}

impl Sender {
    /// Send `message` to `to` ([`fernhand_protocol::ALL_MEMBERS`] for
    /// everyone). Waits while the reliable window is full, so a large file
    /// never piles up in memory.
    pub async fn send(&self, to: MemberId, message: Message) -> Result<(), SessionError> {
        // Counted until the session task takes it, so `flushed` waits for it.
        self.in_channel.fetch_add(1, Ordering::Relaxed);
        let sent = self.commands.send(Command::Send(to, message)).await;
        if sent.is_err() {
            self.in_channel.fetch_sub(1, Ordering::Relaxed);
        }
        sent.map_err(|_| SessionError::Ended)
    }

    /// Bytes sent but not yet acknowledged by every receiver (messages
    /// not yet taken by the session task count one each).
    pub fn unacked_bytes(&self) -> usize {
        self.unacked.load(Ordering::Relaxed) + self.in_channel.load(Ordering::Relaxed)
    }

    /// Wait until everything sent is acknowledged (or `limit` passes).
    pub async fn flushed(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.unacked_bytes() > 0 {
            if Instant::now() >= deadline || self.commands.is_closed() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Session {
    /// Connect `endpoint` to its session through the relay `source`
    /// names, and start driving it.
    pub async fn start<S: TicketSource + 'static>(
        endpoint: Endpoint,
        source: S,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Session, LinkError> {
        let link = MemberLink::connect(source, tls).await?;
        let me = endpoint.id();
        let (commands, rx) = mpsc::channel(16);
        let (events_tx, events) = mpsc::unbounded_channel();
        let _ = events_tx.send(SessionEvent::Connected {
            relay: link.relay(),
        });
        let unacked = Arc::new(AtomicUsize::new(0));
        let in_channel = Arc::new(AtomicUsize::new(0));
        let (close, close_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(drive(
            endpoint,
            link,
            rx,
            close_rx,
            events_tx,
            unacked.clone(),
            in_channel.clone(),
        ));
        Ok(Session {
            me,
            commands,
            events,
            unacked,
            in_channel,
            close: Some(close),
            task: Some(task),
            reporter: None,
            chat_policy: fernhand_privacy::restricted::Policy::default(),
        })
    }

    /// Where this member raises security events (its broker grant).
    pub fn set_reporter(&mut self, reporter: crate::broker::SecurityReporter) {
        self.reporter = Some(reporter);
    }

    /// The tenant's policy for restricted data in what this member types
    /// into the chat (from the control plane's answer; the check runs here,
    /// never on the server side of the encryption).
    pub fn set_chat_policy(&mut self, policy: Option<&str>) {
        self.chat_policy = policy
            .and_then(fernhand_privacy::restricted::Policy::parse)
            .unwrap_or_default();
    }

    /// See [`Session::set_chat_policy`].
    pub fn chat_policy(&self) -> fernhand_privacy::restricted::Policy {
        self.chat_policy
    }

    /// See [`Session::set_reporter`].
    pub fn reporter(&self) -> Option<crate::broker::SecurityReporter> {
        self.reporter.clone()
    }

    /// This member's id.
    pub fn id(&self) -> MemberId {
        self.me
    }

    /// A sender for other tasks.
    pub fn sender(&self) -> Sender {
        Sender {
            commands: self.commands.clone(),
            unacked: self.unacked.clone(),
            in_channel: self.in_channel.clone(),
        }
    }

    /// See [`Sender::send`].
    pub async fn send(&self, to: MemberId, message: Message) -> Result<(), SessionError> {
        self.sender().send(to, message).await
    }

    /// Leader: set a member's role and permissions in the roster.
    pub async fn set_role(
        &self,
        member: MemberId,
        role: &str,
        permissions: &[&str],
    ) -> Result<(), SessionError> {
        let permissions = permissions.iter().map(|p| (*p).to_owned()).collect();
        self.commands
            .send(Command::SetRole(member, role.to_owned(), permissions))
            .await
            .map_err(|_| SessionError::Ended)
    }

    /// Leader: remove a member (a new epoch excludes it).
    pub async fn remove(&self, member: MemberId) -> Result<(), SessionError> {
        self.commands
            .send(Command::Remove(member))
            .await
            .map_err(|_| SessionError::Ended)
    }

    /// The next event; `None` once the task has ended and all were read.
    pub async fn next_event(&mut self) -> Option<SessionEvent> {
        self.events.recv().await
    }

    /// Events already waiting, without waiting.
    pub fn try_event(&mut self) -> Option<SessionEvent> {
        self.events.try_recv().ok()
    }

    /// Let what was sent reach the others (up to `limit`), then leave —
    /// whatever the others do; the task is stopped if it does not end.
    pub async fn close(mut self, limit: Duration) {
        let _ = self.sender().flushed(limit).await;
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        if let Some(task) = self.task.take() {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                task.abort();
                return;
            };
            // Give it a moment to hand queued frames to the relay.
            runtime.spawn(async move {
                let mut task = task;
                if tokio::time::timeout(Duration::from_secs(2), &mut task)
                    .await
                    .is_err()
                {
                    task.abort();
                }
            });
        }
    }
}

async fn drive<S: TicketSource>(
    mut endpoint: Endpoint,
    mut link: MemberLink<S>,
    mut commands: mpsc::Receiver<Command>,
    mut close: tokio::sync::oneshot::Receiver<()>,
    events: mpsc::UnboundedSender<SessionEvent>,
    unacked: Arc<AtomicUsize>,
    in_channel: Arc<AtomicUsize>,
) {
    let mut pending: VecDeque<(MemberId, Message)> = VecDeque::new();
    let moved = |endpoint: &mut Endpoint, relay: RelayId, resumed: bool| {
        if !resumed {
            endpoint.resync(Instant::now());
        }
        let _ = events.send(SessionEvent::Moved { relay, resumed });
    };
    loop {
        while endpoint.can_send() {
            let Some((to, m)) = pending.pop_front() else {
                break;
            };
            if let Err(e) = endpoint.send(to, m) {
                tracing::warn!(error = %e, "message not sent");
            }
        }
        while let Some(frame) = endpoint.poll_transmit() {
            match link.send(frame).await {
                Ok(None) => {}
                Ok(Some(Delivery::Reconnected { resumed, relay })) => {
                    moved(&mut endpoint, relay, resumed);
                }
                Ok(Some(Delivery::Frame(_))) => {}
                Err(e) => {
                    let _ = events.send(SessionEvent::Closed(e.to_string()));
                    return;
                }
            }
        }
        unacked.store(endpoint.unacked_bytes() + pending.len(), Ordering::Relaxed);
        while let Some(event) = endpoint.poll_event() {
            let _ = events.send(SessionEvent::Protocol(event));
        }
        let timeout = endpoint
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_millis(200));
        tokio::select! {
            delivery = link.recv() => match delivery {
                Ok(Delivery::Frame(bytes)) => endpoint.handle_frame(&bytes, Instant::now()),
                Ok(Delivery::Reconnected { resumed, relay }) => moved(&mut endpoint, relay, resumed),
                Err(e) => {
                    let _ = events.send(SessionEvent::Closed(e.to_string()));
                    return;
                }
            },
            command = commands.recv(), if endpoint.can_send() && pending.is_empty() => match command {
                Some(Command::Send(to, m)) => {
                    in_channel.fetch_sub(1, Ordering::Relaxed);
                    pending.push_back((to, m));
                }
                Some(Command::SetRole(id, role, permissions)) => {
                    let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
                    if let Err(e) = endpoint.set_member_role(id, &role, &permissions) {
                        tracing::warn!(error = %e, "role not set");
                    }
                }
                Some(Command::Remove(id)) => {
                    if let Err(e) = endpoint.remove_member(id) {
                        tracing::warn!(error = %e, "member not removed");
                    }
                }
                None => return,
            },
            _ = &mut close => {
                // Hand what is queued to the relay before leaving — what
                // the application sent last (an `end`, say) included.
                while let Ok(command) = commands.try_recv() {
                    if let Command::Send(to, m) = command {
                        in_channel.fetch_sub(1, Ordering::Relaxed);
                        pending.push_back((to, m));
                    }
                }
                for (to, m) in pending.drain(..) {
                    if let Err(e) = endpoint.send(to, m) {
                        tracing::warn!(error = %e, "message not sent");
                    }
                }
                while let Some(frame) = endpoint.poll_transmit() {
                    if link.send(frame).await.is_err() {
                        break;
                    }
                }
                return;
            },
            _ = tokio::time::sleep_until(timeout.into()) => endpoint.handle_timeout(Instant::now()),
        }
        while let Some(event) = endpoint.poll_event() {
            let _ = events.send(SessionEvent::Protocol(event));
        }
    }
}
