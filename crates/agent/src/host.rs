//! The host side of one session: the agent's user consents, and then the
//! host shows its screen, plays the input, exchanges chat, clipboard and
//! files, and answers diagnostics requests — each only for members the
//! user's permissions allow, checked on every packet. Refused packets are
//! dropped, logged, and answered with a `denied` control message so the
//! other side knows why.

use crate::console::{Action, Notice};
use crate::diagnostics;
use crate::permissions::{Permissions, needed};
use crate::screen_host::{self, ScreenCommand};
use fernhand_client::files::{self, FileError};
use fernhand_client::runtime::{Sender, Session, SessionEvent};
use fernhand_client::screen_pieces::{self, Joiner};
use fernhand_client::transfer::{self, Received, Receiving};
use fernhand_privacy::restricted;
use fernhand_protocol::control::{self, Control};
use fernhand_protocol::input::{InputEvent, ModifierKey, PointerButton};
use fernhand_protocol::message::Message;
use fernhand_protocol::{ALL_MEMBERS, Event, MemberId};
use fernhand_screen::capture::{Capture, CaptureError};
use fernhand_screen::input::{Button, Input, InputError, Modifier, Special};
use fernhand_screen::wire;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// Largest screen message a viewer may send the host (acks, refresh).
const VIEWER_MESSAGE_LIMIT: usize = 1024;

/// Opens a capture backend (again, after view is granted anew).
pub type CaptureFactory = Box<dyn Fn() -> Result<Box<dyn Capture>, CaptureError> + Send>;

/// How the host behaves.
pub struct HostOptions {
    /// The folder files are received into and fetched from.
    pub folder: PathBuf,
    /// Unattended, policy "unattended": the permissions asked are granted
    /// without a prompt (the indicator still shows).
    pub grant_without_asking: bool,
    /// The screen.
    pub capture: CaptureFactory,
    /// Input injection, if this machine allows it.
    pub input: Option<Box<dyn Input>>,
    /// How long to wait for the user's answer before refusing.
    pub consent_timeout: Duration,
    /// Unattended machines: the command that restarts the machine when an
    /// expert with control asks (`None`: reboot requests are refused).
    pub reboot: Option<Vec<String>>,
    /// Unattended machines: told of every join attempt on the device's
    /// access password (`true`: the right password), to lock it out across
    /// sessions.
    pub on_join: Option<JoinReport>,
    /// The malware check every received file passes before it gets its
    /// name (built-in EICAR detector, clamd where configured).
    pub scanner: std::sync::Arc<dyn fernhand_privacy::malware::Scanner>,
}

/// Hears whether each join attempt on a device password succeeded.
pub type JoinReport = std::sync::Arc<dyn Fn(bool) + Send + Sync>;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The agent's user ended it.
    ByUser,
    /// A member ended it.
    ByMember(String),
    /// The user refused consent.
    Refused,
    /// The connection was lost for good.
    Lost(String),
    /// An expert restarted the machine.
    Rebooting,
}

/// An outgoing transfer waiting for its answer or running.
enum Outgoing {
    Offered(PathBuf, u64),
    Running(tokio::task::JoinHandle<()>),
}

/// Run the host side of `session` until it ends.
pub async fn run(
    mut session: Session,
    leader: MemberId,
    mut options: HostOptions,
    mut actions: mpsc::Receiver<Action>,
    notices: mpsc::UnboundedSender<Notice>,
) -> Ended {
    let sender = session.sender();
    let me = session.id();
    let chat_policy = session.chat_policy();
    let mut host = Host {
        sender: sender.clone(),
        me,
        leader,
        permissions: Permissions::new(leader),
        notices: notices.clone(),
        receiving: Receiving::with_scanner(&options.folder, options.scanner.clone()),
        reporter: session.reporter(),
        outgoing: HashMap::new(),
        screen: None,
        joiners: HashMap::new(),
        consent: Consent::NotAsked,
        denied_transfers: Vec::new(),
        user_present: true,
    };
    let (screen_tx, mut screen_rx) = mpsc::channel::<Vec<u8>>(4);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
    let mut clipboard_seen: Option<String> = None;
    let mut clipboard_tick = tokio::time::interval(Duration::from_secs(1));
    let mut consent_deadline: Option<tokio::time::Instant> = None;
    // Until the user's front end closes (an unattended agent has none).
    let mut user_present = !actions.is_closed();
    host.user_present = user_present;
    let ended = loop {
        let deadline = consent_deadline;
        tokio::select! {
            event = session.next_event() => {
                let Some(event) = event else { break Ended::Lost("session task ended".into()) };
                match event {
                    SessionEvent::Protocol(event) => {
                        if let Some(end) = host
                            .on_event(event, &mut options, &screen_tx, &done_tx)
                            .await
                        {
                            break end;
                        }
                        if matches!(host.consent, Consent::Asked) && consent_deadline.is_none() {
                            consent_deadline = Some(tokio::time::Instant::now() + options.consent_timeout);
                        }
                    }
                    SessionEvent::Moved { resumed, .. } => {
                        tracing::info!(resumed, "session moved to another relay connection");
                    }
                    SessionEvent::Connected { .. } => {}
                    SessionEvent::Closed(why) => break Ended::Lost(why),
                }
            }
            action = actions.recv(), if user_present => match action {
                None => {
                    user_present = false;
                    host.user_present = false;
                }
                Some(Action::End) => {
                    host.end("the customer ended the session").await;
                    break Ended::ByUser;
                }
                Some(Action::Consent(granted)) => {
                    consent_deadline = None;
                    if granted.is_empty() {
                        host.end("the customer refused").await;
                        break Ended::Refused;
                    }
                    host.consent = Consent::Given;
                    host.permissions.grant_only(&granted);
                    host.announce(&mut options, &screen_tx).await;
                }
                Some(Action::Withdraw(p)) => {
                    if p == "all" {
                        host.permissions.withdraw_all();
                    } else {
                        host.permissions.withdraw(&p);
                    }
                    if !host.permissions.is_granted(control::FILES) {
                        // A fetch in progress stops with the permission.
                        for (_, o) in host.outgoing.drain() {
                            if let Outgoing::Running(task) = o {
                                task.abort();
                            }
                        }
                    }
                    host.announce(&mut options, &screen_tx).await;
                }
                Some(Action::Grant(p)) if host.permissions.grant(&p) => {
                    host.announce(&mut options, &screen_tx).await;
                }
                Some(Action::Grant(_)) => {}
                Some(Action::Chat(text)) => match restricted::check(chat_policy, &text) {
                    Err(blocked) => {
                        let _ = notices.send(Notice::Refused {
                            text: format!("message not sent: {blocked}"),
                        });
                    }
                    Ok(checked) => {
                        if !checked.kinds.is_empty() {
                            let kinds: Vec<&str> = checked.kinds.iter().map(|k| k.describe()).collect();
                            let what = if checked.text == text { "sent as typed" } else { "sent masked" };
                            let _ = notices.send(Notice::Info {
                                text: format!("your message holds {} ({what}); avoid sharing such data in chat", kinds.join(", ")),
                            });
                        }
                        let _ = sender
                            .send(ALL_MEMBERS, Message::Chat(fernhand_protocol::message::Chat { text: checked.text }))
                            .await;
                    }
                },
            },
            Some(bytes) = screen_rx.recv() => {
                // To each member allowed to view, not to everyone: a member
                // the roster lets do nothing sees nothing.
                for member in host.permissions.members_allowed(control::VIEW, me) {
                    for piece in screen_pieces::split(&bytes) {
                        let _ = sender.send(member, piece).await;
                    }
                }
            }
            Some(line) = done_rx.recv() => {
                let _ = notices.send(Notice::File { text: line });
            }
            _ = clipboard_tick.tick() => {
                if host.permissions.is_granted(control::CLIPBOARD)
                    && let Some(input) = options.input.as_mut()
                    && let Ok(Some(text)) = input.clipboard_text()
                    && clipboard_seen.as_ref() != Some(&text)
                    && text.len() <= fernhand_protocol::message::MAX_CLIPBOARD
                {
                    let first = clipboard_seen.is_none();
                    clipboard_seen = Some(text.clone());
                    // What was on the clipboard before the session stays here.
                    if !first {
                        for member in host.permissions.members_allowed(control::CLIPBOARD, me) {
                            let _ = sender.send(member, Message::Clipboard(text.clone())).await;
                        }
                    }
                }
            }
            _ = async { if let Some(d) = deadline { tokio::time::sleep_until(d).await } else { std::future::pending::<()>().await } } => {
                consent_deadline = None;
                if matches!(host.consent, Consent::Asked) {
                    host.end("nobody answered the consent prompt").await;
                    break Ended::Refused;
                }
            }
        }
    };
    host.stop_screen();
    for (_, o) in host.outgoing.drain() {
        if let Outgoing::Running(task) = o {
            task.abort();
        }
    }
    let reason = match &ended {
        Ended::ByUser => "you ended the session".to_owned(),
        Ended::ByMember(r) => r.clone(),
        Ended::Refused => "consent refused".to_owned(),
        Ended::Lost(r) => format!("connection lost: {r}"),
        Ended::Rebooting => "the machine restarts at the expert's request".to_owned(),
    };
    let _ = notices.send(Notice::Ended { reason });
    session.close(Duration::from_secs(3)).await;
    ended
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consent {
    NotAsked,
    Asked,
    Given,
}

struct Host {
    sender: Sender,
    /// This member (the host) in the session.
    me: MemberId,
    leader: MemberId,
    permissions: Permissions,
    notices: mpsc::UnboundedSender<Notice>,
    receiving: Receiving,
    outgoing: HashMap<(MemberId, u32), Outgoing>,
    screen: Option<std::sync::mpsc::Sender<ScreenCommand>>,
    joiners: HashMap<MemberId, Joiner>,
    consent: Consent,
    /// Transfers already answered with `denied` (once each, not per chunk).
    denied_transfers: Vec<(MemberId, u32)>,
    /// Whether someone is at the front end to answer a consent prompt.
    user_present: bool,
    /// Where this endpoint raises security events (quarantined files).
    reporter: Option<fernhand_client::broker::SecurityReporter>,
}

impl Host {
    /// Tell everyone what is granted now, and start or stop the screen.
    async fn announce(&mut self, options: &mut HostOptions, screen_tx: &mpsc::Sender<Vec<u8>>) {
        let permissions = self.permissions.granted();
        let _ = self
            .sender
            .send(
                ALL_MEMBERS,
                Message::Control(
                    Control::Granted {
                        permissions: permissions.clone(),
                    }
                    .to_value(),
                ),
            )
            .await;
        let _ = self.notices.send(Notice::Active { permissions });
        if self.permissions.is_granted(control::VIEW) {
            if self.screen.is_none() {
                match (options.capture)() {
                    Ok(capture) => {
                        self.screen = Some(screen_host::spawn(capture, screen_tx.clone()))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "screen capture unavailable");
                        let _ = self.notices.send(Notice::Refused {
                            text: format!("the screen cannot be shown: {e}"),
                        });
                    }
                }
            }
        } else {
            self.stop_screen();
        }
    }

    fn stop_screen(&mut self) {
        if let Some(s) = self.screen.take() {
            let _ = s.send(ScreenCommand::Stop);
        }
    }

    async fn end(&mut self, reason: &str) {
        let _ = self
            .sender
            .send(
                ALL_MEMBERS,
                Message::Control(
                    Control::End {
                        reason: reason.to_owned(),
                    }
                    .to_value(),
                ),
            )
            .await;
        let _ = self.sender.flushed(Duration::from_secs(2)).await;
    }

    /// Drop and log a refused packet, and tell its sender why.
    async fn deny(&mut self, from: MemberId, what: &str, reason: &str) {
        tracing::warn!(member = from.0, what, reason, "refused a member's packet");
        let _ = self.notices.send(Notice::Refused {
            text: format!("member {} tried {what}: {reason}", from.0),
        });
        let _ = self
            .sender
            .send(
                from,
                Message::Control(
                    Control::Denied {
                        what: what.to_owned(),
                        reason: reason.to_owned(),
                    }
                    .to_value(),
                ),
            )
            .await;
    }

    async fn on_event(
        &mut self,
        event: Event,
        options: &mut HostOptions,
        screen_tx: &mpsc::Sender<Vec<u8>>,
        done_tx: &mpsc::UnboundedSender<String>,
    ) -> Option<Ended> {
        match event {
            Event::Roster(roster) => {
                // Someone new may view (a second expert the leader let
                // in): the picture so far is news to them, so all get a
                // keyframe — updates build on what a viewer already has.
                let before = self.permissions.members_allowed(control::VIEW, self.me);
                // The endpoint takes rosters only from the leader; one that
                // names another leader hands the session over to it.
                let named = MemberId(roster.leader);
                if named != self.leader {
                    self.leader = named;
                    self.permissions.set_leader(named);
                    let _ = self.notices.send(Notice::Info {
                        text: format!("member {} now leads the session", named.0),
                    });
                }
                self.permissions.set_roster(roster);
                let after = self.permissions.members_allowed(control::VIEW, self.me);
                if after.iter().any(|m| !before.contains(m)) {
                    self.screen_command(ScreenCommand::Refresh);
                }
            }
            Event::Dropped { from, reason } => {
                tracing::warn!(member = from.0, %reason, "dropped a frame");
            }
            Event::JoinFailed { error, .. } => {
                if let Some(report) = &options.on_join {
                    report(false);
                }
                // Only a device answers joins: a refused one ends its
                // session, so the machine is free for the next connect
                // (which may try again, counted by the lockout).
                return Some(Ended::Lost(format!("the join was refused: {error}")));
            }
            Event::Established { .. } => {
                if let Some(report) = &options.on_join {
                    report(true);
                }
            }
            Event::JoinRefused(reason) => {
                return Some(Ended::Lost(format!(
                    "the session refused this computer: {reason:?}"
                )));
            }
            Event::Received { from, message } => {
                return self
                    .on_message(from, message, options, screen_tx, done_tx)
                    .await;
            }
            _ => {}
        }
        None
    }

    async fn on_message(
        &mut self,
        from: MemberId,
        message: Message,
        options: &mut HostOptions,
        screen_tx: &mpsc::Sender<Vec<u8>>,
        done_tx: &mpsc::UnboundedSender<String>,
    ) -> Option<Ended> {
        if let Some(permission) = needed(&message)
            && !self.permissions.allows(from, permission)
        {
            let what = match &message {
                Message::FileOffer(o) => Some(o.id),
                Message::FileChunk { id, .. } => Some(*id),
                Message::FileEnd(e) => Some(e.id),
                _ => None,
            };
            // One answer per transfer, not one per chunk.
            if let Some(id) = what {
                if self.denied_transfers.contains(&(from, id)) {
                    return None;
                }
                if self.denied_transfers.len() >= 1024 {
                    self.denied_transfers.remove(0);
                }
                self.denied_transfers.push((from, id));
            }
            let kind = match &message {
                Message::Input(_) => "input",
                Message::Clipboard(_) => "setting the clipboard",
                Message::Screen { .. } => "viewing the screen",
                _ => "a file transfer",
            };
            self.deny(from, kind, &format!("no {permission} permission"))
                .await;
            return None;
        }
        match message {
            Message::Chat(chat) => {
                let _ = self.notices.send(Notice::Chat {
                    from: format!("member {}", from.0),
                    text: chat.text,
                });
            }
            Message::Control(value) => {
                return self.on_control(from, &value, options, screen_tx).await;
            }
            Message::Input(event) => {
                let Some(input) = options.input.as_mut() else {
                    self.deny(from, "input", "this computer takes no input")
                        .await;
                    return None;
                };
                if let Err(e) = play(input.as_mut(), &event) {
                    self.deny(from, "input", &e.to_string()).await;
                }
            }
            Message::Clipboard(text) => {
                if let Some(input) = options.input.as_mut()
                    && let Err(e) = input.set_clipboard_text(&text)
                {
                    self.deny(from, "setting the clipboard", &e.to_string())
                        .await;
                }
            }
            Message::Screen { last, data } => {
                // Viewers send only acks and refresh requests: a few bytes.
                let joiner = self
                    .joiners
                    .entry(from)
                    .or_insert_with(|| Joiner::with_limit(VIEWER_MESSAGE_LIMIT));
                if let Ok(Some(bytes)) = joiner.push(last, &data) {
                    match wire::decode(&bytes) {
                        Ok(wire::Message::Ack { seq }) => {
                            self.screen_command(ScreenCommand::Ack(seq))
                        }
                        Ok(wire::Message::Refresh) => self.screen_command(ScreenCommand::Refresh),
                        _ => {
                            self.deny(
                                from,
                                "a screen message",
                                "viewers send only acks and refresh requests",
                            )
                            .await
                        }
                    }
                }
            }
            Message::FileOffer(offer) => {
                let answer = self.receiving.offer(from, &offer);
                if let Control::FileError { error, .. } = &answer {
                    tracing::warn!(member = from.0, "file offer refused");
                    let _ = self.notices.send(Notice::Refused {
                        text: format!("file {:?}: {error}", offer.name),
                    });
                }
                let _ = self
                    .sender
                    .send(from, Message::Control(answer.to_value()))
                    .await;
            }
            Message::FileChunk { id, offset, data } => {
                if let Some(Received::Failed { id, error }) =
                    self.receiving.chunk(from, id, offset, &data)
                {
                    self.file_failed(from, id, &error, "").await;
                }
            }
            Message::FileEnd(end) => match self.receiving.end(from, &end) {
                Some(Received::Done { id, path }) => {
                    let _ = done_tx.send(format!("received {}", path.display()));
                    let _ = self
                        .sender
                        .send(from, Message::Control(Control::FileDone { id }.to_value()))
                        .await;
                }
                Some(Received::Failed { id, error }) => {
                    self.file_failed(from, id, &error, &end.sha256).await
                }
                None => {}
            },
            _ => {}
        }
        None
    }

    async fn file_failed(&mut self, from: MemberId, id: u32, error: &FileError, sha256: &str) {
        tracing::warn!(member = from.0, id, threat = ?error.threat(), "incoming file failed");
        let _ = self.notices.send(Notice::Refused {
            text: format!("incoming file {id}: {error}"),
        });
        if let (Some(threat), Some(reporter)) = (error.threat(), &self.reporter) {
            reporter.report(serde_json::json!({
                "kind": "malware_quarantined",
                "threat": threat,
                "sha256": sha256,
            }));
        }
        let _ = self
            .sender
            .send(
                from,
                Message::Control(transfer::failure(id, error).to_value()),
            )
            .await;
    }

    fn screen_command(&self, command: ScreenCommand) {
        if let Some(s) = &self.screen {
            let _ = s.send(command);
        }
    }

    async fn on_control(
        &mut self,
        from: MemberId,
        value: &serde_json::Value,
        options: &mut HostOptions,
        screen_tx: &mpsc::Sender<Vec<u8>>,
    ) -> Option<Ended> {
        let control = match Control::from_value(value) {
            Ok(c) => c,
            Err(e) => {
                self.deny(from, "a control message", &format!("not understood: {e}"))
                    .await;
                return None;
            }
        };
        match control {
            Control::Request {
                expert,
                permissions,
            } => {
                if from != self.leader {
                    self.deny(from, "a connection request", "only the session leader asks")
                        .await;
                    return None;
                }
                let permissions: Vec<String> = permissions
                    .into_iter()
                    .filter(|p| control::is_permission(p))
                    .collect();
                if options.grant_without_asking {
                    self.consent = Consent::Given;
                    self.permissions.grant_only(&permissions);
                    self.announce(options, screen_tx).await;
                } else if !self.user_present {
                    self.end("nobody is at this computer to allow the connection")
                        .await;
                    return Some(Ended::Refused);
                } else if self.consent != Consent::Given {
                    self.consent = Consent::Asked;
                    let _ = self.notices.send(Notice::ConsentAsked {
                        expert,
                        permissions,
                    });
                }
            }
            // The leader ends the session; another member ending is its leaving.
            Control::End { reason } if from == self.leader => {
                return Some(Ended::ByMember(reason));
            }
            Control::End { .. } => {}
            Control::DiagnosticsRequest {} => {
                if !self.permissions.allows(from, control::DIAGNOSTICS) {
                    self.deny(from, "diagnostics", "no diagnostics permission")
                        .await;
                    return None;
                }
                let report = tokio::task::spawn_blocking(diagnostics::collect)
                    .await
                    .unwrap_or(serde_json::Value::Null);
                let _ = self
                    .sender
                    .send(
                        from,
                        Message::Control(Control::Diagnostics { report }.to_value()),
                    )
                    .await;
            }
            Control::FileRequest { id, path } => {
                if !self.permissions.allows(from, control::FILES) {
                    self.deny(from, &format!("fetching {path:?}"), "no files permission")
                        .await;
                    return None;
                }
                let resolved = files::resolve_in(self.receiving.folder(), &path);
                let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                match resolved.and_then(|p| transfer::offer_for(&p, id, &name).map(|o| (p, o))) {
                    Ok((p, offer)) => {
                        self.outgoing
                            .insert((from, id), Outgoing::Offered(p, offer.size));
                        let _ = self.sender.send(from, Message::FileOffer(offer)).await;
                    }
                    Err(e) => {
                        tracing::warn!(member = from.0, %path, error = %e, "file request refused");
                        let _ = self
                            .sender
                            .send(from, Message::Control(transfer::failure(id, &e).to_value()))
                            .await;
                    }
                }
            }
            Control::FileAccept { id, offset } => {
                if !self.permissions.allows(from, control::FILES) {
                    self.outgoing.remove(&(from, id));
                    self.deny(from, "a file transfer", "no files permission")
                        .await;
                    return None;
                }
                if let Some(Outgoing::Offered(path, size)) = self.outgoing.remove(&(from, id)) {
                    let sender = self.sender.clone();
                    let task = tokio::spawn(async move {
                        if let Err(e) =
                            transfer::stream_file(&sender, from, id, &path, size, offset, |_, _| {})
                                .await
                        {
                            tracing::warn!(id, error = %e, "sending a file failed");
                        }
                    });
                    self.outgoing.insert((from, id), Outgoing::Running(task));
                }
            }
            Control::FileError { id, error, .. } => {
                if let Some(Outgoing::Running(task)) = self.outgoing.remove(&(from, id)) {
                    task.abort();
                }
                self.receiving.cancelled(from, id);
                let _ = self.notices.send(Notice::Refused {
                    text: format!("file transfer {id} failed at the other end: {error}"),
                });
            }
            Control::FileDone { id } => {
                self.outgoing.remove(&(from, id));
            }
            Control::Granted { .. } | Control::Diagnostics { .. } | Control::Denied { .. } => {}
            Control::Reboot {} => {
                if !self.permissions.allows(from, control::CONTROL) {
                    self.deny(from, "a reboot", "no control permission").await;
                    return None;
                }
                let Some(command) = options.reboot.clone() else {
                    self.deny(
                        from,
                        "a reboot",
                        "only unattended machines restart on request",
                    )
                    .await;
                    return None;
                };
                let Some((program, args)) = command.split_first() else {
                    self.deny(from, "a reboot", "no reboot command is set")
                        .await;
                    return None;
                };
                tracing::warn!(
                    member = from.0,
                    "restarting the machine at the expert's request"
                );
                self.end("the machine restarts; connect again when it is back")
                    .await;
                return match std::process::Command::new(program).args(args).spawn() {
                    Ok(_) => Some(Ended::Rebooting),
                    Err(e) => {
                        tracing::warn!(error = %e, "the reboot command failed");
                        Some(Ended::Lost(format!("the reboot command failed: {e}")))
                    }
                };
            }
        }
        None
    }
}

/// Play one input event.
fn play(input: &mut dyn Input, event: &InputEvent) -> Result<(), InputError> {
    match event {
        InputEvent::Move { x, y } => input.pointer_move(*x, *y),
        InputEvent::Button { button, down } => input.button(
            match button {
                PointerButton::Left => Button::Left,
                PointerButton::Middle => Button::Middle,
                PointerButton::Right => Button::Right,
                PointerButton::Back => Button::Back,
                PointerButton::Forward => Button::Forward,
            },
            *down,
        ),
        InputEvent::Wheel { dx, dy } => input.wheel(i32::from(*dx), i32::from(*dy)),
        InputEvent::Key { code, down } => input.key_code(*code, *down),
        InputEvent::Modifier { key, down } => input.modifier(
            match key {
                ModifierKey::Shift => Modifier::Shift,
                ModifierKey::Control => Modifier::Control,
                ModifierKey::Alt => Modifier::Alt,
                ModifierKey::Super => Modifier::Super,
            },
            *down,
        ),
        InputEvent::Text(text) => input.text(text),
        InputEvent::CtrlAltDel => input.special(Special::CtrlAltDel),
    }
}
