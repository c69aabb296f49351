//! The expert's side of a connection, as a library: the scripted expert
//! client (`fernhand expert`) and tests drive it. It asks the host for
//! permissions, decodes the host's screen with the reference decoder
//! (acknowledging each update, asking for a keyframe when it must), sends
//! input, chat and files, fetches files and diagnostics, and keeps what
//! the host said (granted permissions, refusals, chat, the end).

use crate::files::FileError;
use crate::runtime::{Sender, Session, SessionEvent};
use crate::screen_pieces::{self, Joiner};
use crate::transfer::{self, Received, Receiving};
use fernhand_privacy::restricted::{self, Kind};
use fernhand_protocol::control::{ALL_PERMISSIONS, Control};
use fernhand_protocol::input::{InputEvent, ModifierKey, PointerButton};
use fernhand_protocol::message::{Chat, Message};
use fernhand_protocol::{Event, MemberId};
use fernhand_screen::decode::Decoder;
use fernhand_screen::wire;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why an expert operation failed.
#[derive(Debug, Error)]
pub enum ExpertError {
    /// The tenant's policy blocks the message (restricted data).
    #[error(transparent)]
    Restricted(restricted::Blocked),
    /// Waited too long.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The session is over.
    #[error("the session ended: {0}")]
    Ended(String),
    /// The host refused.
    #[error("the host refused {what}: {reason}")]
    Denied {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// No host has accepted yet.
    #[error("no host in this session has consented yet")]
    NoHost,
    /// A key combination that is not understood.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// Writing the screenshot failed.
    #[error("screenshot: {0}")]
    Png(String),
    /// The control plane refused or could not be reached.
    #[error(transparent)]
    Api(#[from] crate::api::ApiError),
    /// The session could not be set up.
    #[error("session set-up: {0}")]
    Setup(String),
}

/// A freshly opened attended session: the expert's end, and what to give
/// the customer.
pub struct Opened {
    /// The expert's end.
    pub expert: Expert,
    /// The session id.
    pub session: String,
    /// The join code, grouped for reading aloud.
    pub code: zeroize::Zeroizing<String>,
    /// The join link.
    pub link: zeroize::Zeroizing<String>,
}

fn setup(e: impl std::fmt::Display) -> ExpertError {
    ExpertError::Setup(e.to_string())
}

/// Open an attended session as its leader: the control plane issues the
/// public halves of the code and link, this side makes the secrets and
/// keeps only their verifiers.
pub async fn open_session(
    api: &crate::api::Api,
    name: &str,
    downloads: &Path,
    tls: Option<rustls::ClientConfig>,
) -> Result<Opened, ExpertError> {
    use fernhand_e2e::{JoinCode, JoinLink, Policy, Verifier, VerifierStore};
    let (record, grant) = api.new_session().await?;
    let locator = |field: &str| {
        record[field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| setup(format!("no {field} in the answer")))
    };
    let code = JoinCode::for_locator(&locator("code_locator")?).map_err(setup)?;
    let link = JoinLink::for_locator(&locator("link_locator")?).map_err(setup)?;
    let policy = Policy::default();
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, &code.identity(), code.secret()).map_err(setup)?);
    store.insert(Verifier::new(&policy, &link.identity(), link.secret()).map_err(setup)?);
    let session_id: fernhand_protocol::SessionId =
        grant.session.parse().map_err(|_| setup("bad session id"))?;
    let endpoint = fernhand_protocol::Endpoint::leader(
        session_id,
        MemberId(1),
        fernhand_e2e::Suite::Srp3072Aes256HmacSha256,
        store,
        fernhand_protocol::EndpointConfig::default(),
    )
    .map_err(setup)?;
    let policy = grant.restricted_policy.clone();
    let broker =
        crate::broker::BrokerClient::new(api.base(), grant.grant, tls.clone()).map_err(setup)?;
    let reporter = crate::broker::SecurityReporter::new(broker.clone());
    let mut session = Session::start(endpoint, broker, tls.map(std::sync::Arc::new))
        .await
        .map_err(setup)?;
    session.set_reporter(reporter);
    session.set_chat_policy(policy.as_deref());
    Ok(Opened {
        expert: Expert::new(session, true, name, downloads),
        session: grant.session,
        code: code.display(),
        link: link.to_url(api.base()),
    })
}

/// The SRP identity of a device's access password.
pub fn device_identity(device: &str) -> Vec<u8> {
    format!("device:{device}").into_bytes()
}

/// Connect to an unattended device as the session's leader; the device
/// checks `password` against its verifier. Returns the expert's end and
/// the session id.
pub async fn connect_device(
    api: &crate::api::Api,
    device: &str,
    password: &[u8],
    name: &str,
    downloads: &Path,
    tls: Option<rustls::ClientConfig>,
) -> Result<(Expert, String), ExpertError> {
    use fernhand_e2e::{Policy, VerifierStore};
    let (grant, device_member) = api.connect_device(device).await?;
    let session_id: fernhand_protocol::SessionId =
        grant.session.parse().map_err(|_| setup("bad session id"))?;
    let mut endpoint = fernhand_protocol::Endpoint::leader(
        session_id,
        MemberId(1),
        fernhand_e2e::Suite::Srp3072Aes256HmacSha256,
        VerifierStore::new(Policy::default()),
        fernhand_protocol::EndpointConfig::default(),
    )
    .map_err(setup)?;
    endpoint
        .connect_device(
            MemberId(device_member),
            Policy::default(),
            &device_identity(device),
            password,
            Instant::now(),
        )
        .map_err(setup)?;
    let policy = grant.restricted_policy.clone();
    let broker =
        crate::broker::BrokerClient::new(api.base(), grant.grant, tls.clone()).map_err(setup)?;
    let reporter = crate::broker::SecurityReporter::new(broker.clone());
    let mut session = Session::start(endpoint, broker, tls.map(std::sync::Arc::new))
        .await
        .map_err(setup)?;
    session.set_reporter(reporter);
    session.set_chat_policy(policy.as_deref());
    Ok((Expert::new(session, true, name, downloads), grant.session))
}

/// State of a file this expert sends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SendState {
    Offered(PathBuf, u64),
    Streaming,
    Done,
    Failed(String),
}

/// The expert's end of a session.
pub struct Expert {
    session: Session,
    sender: Sender,
    name: String,
    leader: bool,
    /// The member the leader asked for permissions: the only one whose
    /// answers, screen and files are taken.
    requested: Option<MemberId>,
    /// Ids of fetches waiting for the host's offer.
    fetching: std::collections::HashSet<u32>,
    host: Option<MemberId>,
    granted: Vec<String>,
    decoder: Decoder,
    joiner: Joiner,
    updates: u64,
    last_update: Option<Instant>,
    chats: Vec<(MemberId, String)>,
    denied: Vec<(String, String)>,
    receiving: Receiving,
    received: HashMap<u32, Result<PathBuf, String>>,
    /// Transfers the malware check quarantined (either side): id, threat.
    quarantined: Vec<(u32, String)>,
    sends: HashMap<u32, SendState>,
    diagnostics: Option<serde_json::Value>,
    ended: Option<String>,
    next_id: u32,
    progress: Option<Progress>,
}

/// Hears (bytes done, size) as a file moves.
pub type Progress = std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>;

impl std::fmt::Debug for Expert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expert")
            .field("host", &self.host)
            .field("granted", &self.granted)
            .finish_non_exhaustive()
    }
}

/// Named keys and their X11 (evdev) key codes: Linux input code + 8, what
/// the X11 agent plays.
const KEYS: &[(&str, u32)] = &[
    ("escape", 9),
    ("backspace", 22),
    ("tab", 23),
    ("return", 36),
    ("enter", 36),
    ("space", 65),
    ("f1", 67),
    ("f2", 68),
    ("f3", 69),
    ("f4", 70),
    ("f5", 71),
    ("f6", 72),
    ("f7", 73),
    ("f8", 74),
    ("f9", 75),
    ("f10", 76),
    ("f11", 95),
    ("f12", 96),
    ("home", 110),
    ("up", 111),
    ("pageup", 112),
    ("left", 113),
    ("right", 114),
    ("end", 115),
    ("down", 116),
    ("pagedown", 117),
    ("insert", 118),
    ("delete", 119),
];

/// The input events of a key combination such as `ctrl+alt+t`, `Return`,
/// `shift+Tab` or `ctrl+alt+del` (the special sequence).
pub fn key_combo(combo: &str) -> Result<Vec<InputEvent>, ExpertError> {
    let lower = combo.trim().to_ascii_lowercase();
    if matches!(lower.as_str(), "ctrl+alt+del" | "ctrl+alt+delete") {
        return Ok(vec![InputEvent::CtrlAltDel]);
    }
    let parts: Vec<&str> = lower.split('+').collect();
    let (key, modifiers) = parts
        .split_last()
        .ok_or_else(|| ExpertError::UnknownKey(combo.to_owned()))?;
    let mut mods = Vec::new();
    for m in modifiers {
        mods.push(match *m {
            "ctrl" | "control" => ModifierKey::Control,
            "shift" => ModifierKey::Shift,
            "alt" => ModifierKey::Alt,
            "super" | "win" | "cmd" | "meta" => ModifierKey::Super,
            _ => return Err(ExpertError::UnknownKey(combo.to_owned())),
        });
    }
    let mut events: Vec<InputEvent> = mods
        .iter()
        .map(|&key| InputEvent::Modifier { key, down: true })
        .collect();
    if let Some((_, code)) = KEYS.iter().find(|(name, _)| name == key) {
        events.push(InputEvent::Key {
            code: *code,
            down: true,
        });
        events.push(InputEvent::Key {
            code: *code,
            down: false,
        });
    } else if key.chars().count() == 1 {
        events.push(InputEvent::Text((*key).to_owned()));
    } else {
        return Err(ExpertError::UnknownKey(combo.to_owned()));
    }
    events.extend(
        mods.iter()
            .rev()
            .map(|&key| InputEvent::Modifier { key, down: false }),
    );
    Ok(events)
}

impl Expert {
    /// Wrap a running session; `downloads` is where fetched files go.
    /// The leader asks the first member to be admitted for every
    /// permission; `name` is shown in the host's consent prompt.
    pub fn new(session: Session, leader: bool, name: &str, downloads: &Path) -> Expert {
        let sender = session.sender();
        Expert {
            session,
            sender,
            name: name.to_owned(),
            leader,
            requested: None,
            fetching: std::collections::HashSet::new(),
            host: None,
            granted: Vec::new(),
            decoder: Decoder::new(),
            joiner: Joiner::default(),
            updates: 0,
            last_update: None,
            chats: Vec::new(),
            denied: Vec::new(),
            receiving: Receiving::new(downloads),
            received: HashMap::new(),
            quarantined: Vec::new(),
            sends: HashMap::new(),
            diagnostics: None,
            ended: None,
            next_id: 1,
            progress: None,
        }
    }

    /// Report the progress of the next transfers to `progress`.
    pub fn set_progress(&mut self, progress: Option<Progress>) {
        self.progress = progress;
    }

    /// The permissions the host grants now.
    pub fn granted(&self) -> &[String] {
        &self.granted
    }

    /// The host, once it has answered.
    pub fn host(&self) -> Option<MemberId> {
        self.host
    }

    /// Screen updates applied so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The decoded picture.
    pub fn picture(&self) -> &fernhand_screen::Frame {
        self.decoder.picture()
    }

    /// Chat lines received, taken.
    pub fn take_chats(&mut self) -> Vec<(MemberId, String)> {
        std::mem::take(&mut self.chats)
    }

    /// Refusals the host sent, taken.
    pub fn take_denied(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.denied)
    }

    /// Refusals the host sent so far (not taken).
    pub fn denied(&self) -> &[(String, String)] {
        &self.denied
    }

    /// Transfers the malware check quarantined, on either side: (transfer
    /// id, threat).
    pub fn quarantined(&self) -> &[(u32, String)] {
        &self.quarantined
    }

    /// Why incoming (or outgoing) transfer `id` failed, if it did.
    pub fn file_error(&self, id: u32) -> Option<&str> {
        match self.received.get(&id) {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Why the session ended, if it did.
    pub fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    /// Handle one event, waiting at most `limit`; false when none came.
    pub async fn step(&mut self, limit: Duration) -> bool {
        if self.ended.is_some() {
            // Nothing more will come: wait instead of spinning.
            tokio::time::sleep(limit).await;
            return false;
        }
        match tokio::time::timeout(limit, self.recv()).await {
            Ok(Some(event)) => {
                self.handle(event).await;
                true
            }
            Ok(None) | Err(_) => false,
        }
    }

    /// The next event from the session (cancel-safe: nothing is lost if
    /// the future is dropped); hand it to [`Expert::handle`].
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        let event = self.session.next_event().await;
        if event.is_none() {
            self.ended
                .get_or_insert_with(|| "session task ended".into());
        }
        event
    }

    /// Act on one event (run it to completion).
    pub async fn handle(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Protocol(e) => self.on_event(e).await,
            SessionEvent::Moved { .. } => {
                // Whatever was lost, a keyframe puts the picture right.
                self.refresh().await;
            }
            SessionEvent::Closed(why) => {
                self.ended.get_or_insert(why);
            }
            SessionEvent::Connected { .. } => {}
        }
    }

    /// Handle events until `done` holds (checked after each), the session
    /// ends, or `limit` passes.
    pub async fn until(
        &mut self,
        what: &'static str,
        limit: Duration,
        mut done: impl FnMut(&Expert) -> bool,
    ) -> Result<(), ExpertError> {
        let deadline = Instant::now() + limit;
        loop {
            if done(self) {
                return Ok(());
            }
            if let Some(why) = &self.ended {
                return Err(ExpertError::Ended(why.clone()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ExpertError::Timeout(what));
            }
            self.step(left.min(Duration::from_millis(50))).await;
        }
    }

    /// Wait for the host's consent (some permission granted).
    pub async fn wait_for_host(&mut self, limit: Duration) -> Result<MemberId, ExpertError> {
        self.until("the customer's consent", limit, |e| {
            e.host.is_some() && !e.granted.is_empty()
        })
        .await?;
        self.host.ok_or(ExpertError::NoHost)
    }

    async fn on_event(&mut self, event: Event) {
        match event {
            Event::MemberAdmitted(id) if self.leader => {
                let permissions: Vec<String> =
                    ALL_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
                if self.requested.is_none() {
                    // The first member admitted is the machine to support.
                    self.requested = Some(id);
                    let _ = self.session.set_role(id, "host", &[]).await;
                    let request = Control::Request {
                        expert: self.name.clone(),
                        permissions,
                    };
                    let _ = self
                        .sender
                        .send(id, Message::Control(request.to_value()))
                        .await;
                } else {
                    // Anyone else may watch, nothing more.
                    let _ = self.session.set_role(id, "viewer", &["view"]).await;
                }
            }
            Event::JoinRefused(reason) => {
                self.ended = Some(format!("the join was refused: {reason:?}"));
            }
            Event::Received { from, message } => self.on_message(from, message).await,
            _ => {}
        }
    }

    async fn on_message(&mut self, from: MemberId, message: Message) {
        let from_host = Some(from) == self.host;
        match message {
            Message::Chat(c) => self.chats.push((from, c.text)),
            Message::Screen { last, data } if from_host => {
                if let Ok(Some(bytes)) = self.joiner.push(last, &data) {
                    self.on_screen(&bytes).await;
                }
            }
            Message::Control(value) => {
                let Ok(control) = Control::from_value(&value) else {
                    return;
                };
                self.on_control(from, control).await;
            }
            Message::FileOffer(offer) if from_host => {
                // Only what this expert asked for.
                let answer = if self.fetching.remove(&offer.id) {
                    self.receiving.offer(from, &offer)
                } else {
                    Control::FileError {
                        id: offer.id,
                        error: "not requested".into(),
                        threat: None,
                    }
                };
                if let Control::FileError { id, error, .. } = &answer {
                    self.received.insert(*id, Err(error.clone()));
                }
                let _ = self
                    .sender
                    .send(from, Message::Control(answer.to_value()))
                    .await;
            }
            Message::FileChunk { id, offset, data } if from_host => {
                if let Some(Received::Failed { id, error }) =
                    self.receiving.chunk(from, id, offset, &data)
                {
                    self.received.insert(id, Err(error.to_string()));
                    let answer = transfer::failure(id, &error);
                    let _ = self
                        .sender
                        .send(from, Message::Control(answer.to_value()))
                        .await;
                }
            }
            Message::FileEnd(end) if from_host => match self.receiving.end(from, &end) {
                Some(Received::Done { id, path }) => {
                    self.received.insert(id, Ok(path));
                }
                Some(Received::Failed { id, error }) => {
                    if let Some(threat) = error.threat() {
                        // The receiving endpoint raises the event.
                        self.quarantined.push((id, threat.to_owned()));
                        if let Some(r) = self.session.reporter() {
                            r.report(serde_json::json!({
                                "kind": "malware_quarantined",
                                "threat": threat,
                                "sha256": end.sha256,
                            }));
                        }
                    }
                    let _ = self
                        .sender
                        .send(
                            from,
                            Message::Control(transfer::failure(id, &error).to_value()),
                        )
                        .await;
                    self.received.insert(id, Err(error.to_string()));
                }
                None => {}
            },
            _ => {}
        }
    }

    async fn on_control(&mut self, from: MemberId, control: Control) {
        // Only the member asked for permissions speaks for the machine.
        if Some(from) != self.requested && Some(from) != self.host {
            tracing::debug!(
                member = from.0,
                "control from a member that is not the host ignored"
            );
            return;
        }
        match control {
            Control::Granted { permissions } => {
                let first = self.host.is_none();
                self.host = Some(from);
                let view_now = permissions.iter().any(|p| p == "view")
                    && !self.granted.iter().any(|p| p == "view");
                self.granted = permissions;
                if first || view_now {
                    self.refresh().await;
                }
            }
            Control::End { reason } => {
                self.ended = Some(reason);
            }
            Control::Diagnostics { report } => self.diagnostics = Some(report),
            Control::Denied { what, reason } => self.denied.push((what, reason)),
            Control::FileAccept { id, offset } => {
                if let Some(SendState::Offered(path, size)) = self.sends.get(&id).cloned() {
                    self.sends.insert(id, SendState::Streaming);
                    let sender = self.sender.clone();
                    let progress = self.progress.clone();
                    tokio::spawn(async move {
                        let report = |done, size| {
                            if let Some(p) = &progress {
                                p(done, size);
                            }
                        };
                        let _ =
                            transfer::stream_file(&sender, from, id, &path, size, offset, report)
                                .await;
                    });
                }
            }
            Control::FileDone { id } => {
                self.sends.insert(id, SendState::Done);
            }
            Control::FileError { id, error, threat } => {
                if let Some(threat) = threat {
                    self.quarantined.push((id, threat));
                }
                if let Some(state) = self.sends.get_mut(&id) {
                    *state = SendState::Failed(error);
                } else {
                    self.receiving.cancelled(from, id);
                    self.received.insert(id, Err(error));
                }
            }
            _ => {}
        }
    }

    async fn on_screen(&mut self, bytes: &[u8]) {
        let Some(host) = self.host else { return };
        match wire::decode(bytes) {
            Ok(wire::Message::Update(update)) => match self.decoder.apply(&update) {
                Ok(()) => {
                    self.updates += 1;
                    self.last_update = Some(Instant::now());
                    let ack = wire::encode(&wire::Message::Ack { seq: update.seq }, 0);
                    for piece in screen_pieces::split(&ack) {
                        let _ = self.sender.send(host, piece).await;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "screen update refused; asking for a keyframe");
                    self.refresh().await;
                }
            },
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "malformed screen message");
                self.refresh().await;
            }
        }
    }

    /// Ask the host for a keyframe.
    pub async fn refresh(&mut self) {
        if let Some(host) = self.host {
            let bytes = wire::encode(&wire::Message::Refresh, 0);
            for piece in screen_pieces::split(&bytes) {
                let _ = self.sender.send(host, piece).await;
            }
        }
    }

    fn need_host(&self) -> Result<MemberId, ExpertError> {
        self.host.ok_or(ExpertError::NoHost)
    }

    /// Send input events.
    pub async fn input(&mut self, events: Vec<InputEvent>) -> Result<(), ExpertError> {
        let host = self.need_host()?;
        for e in events {
            self.sender
                .send(host, Message::Input(e))
                .await
                .map_err(|e| ExpertError::Ended(e.to_string()))?;
        }
        Ok(())
    }

    /// Type text (any Unicode; `\n` is Return).
    pub async fn type_text(&mut self, text: &str) -> Result<(), ExpertError> {
        let mut events = Vec::new();
        let mut chunk = String::new();
        for c in text.chars() {
            if chunk.len() + c.len_utf8() > fernhand_protocol::input::MAX_TEXT {
                events.push(InputEvent::Text(std::mem::take(&mut chunk)));
            }
            chunk.push(c);
        }
        if !chunk.is_empty() {
            events.push(InputEvent::Text(chunk));
        }
        self.input(events).await
    }

    /// Click the left button at (`x`, `y`).
    pub async fn click(&mut self, x: i32, y: i32) -> Result<(), ExpertError> {
        self.input(vec![
            InputEvent::Move { x, y },
            InputEvent::Button {
                button: PointerButton::Left,
                down: true,
            },
            InputEvent::Button {
                button: PointerButton::Left,
                down: false,
            },
        ])
        .await
    }

    /// Send a chat line to everyone.
    pub async fn chat(&mut self, text: &str) -> Result<Vec<Kind>, ExpertError> {
        let checked =
            restricted::check(self.session.chat_policy(), text).map_err(ExpertError::Restricted)?;
        self.sender
            .send(
                fernhand_protocol::ALL_MEMBERS,
                Message::Chat(Chat { text: checked.text }),
            )
            .await
            .map_err(|e| ExpertError::Ended(e.to_string()))?;
        Ok(checked.kinds)
    }

    /// Wait until the picture is current: at least one update applied and
    /// none for `settle`.
    pub async fn settled(&mut self, settle: Duration, limit: Duration) -> Result<(), ExpertError> {
        self.until("the screen to settle", limit, |e| {
            e.last_update.is_some_and(|t| t.elapsed() >= settle)
        })
        .await
    }

    /// Write the decoded picture as a PNG.
    pub fn screenshot(&self, path: &Path) -> Result<(), ExpertError> {
        let frame = self.decoder.picture();
        let mut rgb = Vec::new();
        frame.rgb_bytes_into(frame.bounds(), &mut rgb);
        let file = std::fs::File::create(path)
            .map_err(|e| ExpertError::File(FileError::io("screenshot", &e)))?;
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            u32::from(frame.width()),
            u32::from(frame.height()),
        );
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| ExpertError::Png(e.to_string()))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| ExpertError::Png(e.to_string()))
    }

    /// Send a local file to the host's shared folder, as `name`; waits
    /// until the host confirms it whole (or refuses).
    pub async fn send_file(
        &mut self,
        path: &Path,
        name: &str,
        limit: Duration,
    ) -> Result<u64, ExpertError> {
        let host = self.need_host()?;
        let name = transfer::name_under_policy(self.session.chat_policy(), name)
            .map_err(ExpertError::Restricted)?;
        let id = self.next_id();
        let offer = transfer::offer_for(path, id, &name)?;
        let size = offer.size;
        self.sends
            .insert(id, SendState::Offered(path.to_path_buf(), size));
        self.sender
            .send(host, Message::FileOffer(offer))
            .await
            .map_err(|e| ExpertError::Ended(e.to_string()))?;
        self.until("the file to arrive", limit, |e| {
            matches!(
                e.sends.get(&id),
                Some(SendState::Done | SendState::Failed(_))
            )
        })
        .await?;
        match self.sends.remove(&id) {
            Some(SendState::Failed(error)) => Err(ExpertError::Denied {
                what: format!("the file {name:?}"),
                reason: error,
            }),
            _ => Ok(size),
        }
    }

    /// Fetch `remote` (a path under the host's shared folder) into the
    /// downloads folder; returns where it landed.
    pub async fn fetch(&mut self, remote: &str, limit: Duration) -> Result<PathBuf, ExpertError> {
        let host = self.need_host()?;
        let id = self.next_id();
        self.fetching.insert(id);
        let request = Control::FileRequest {
            id,
            path: remote.to_owned(),
        };
        self.sender
            .send(host, Message::Control(request.to_value()))
            .await
            .map_err(|e| ExpertError::Ended(e.to_string()))?;
        self.until("the fetched file", limit, |e| {
            if let (Some(p), Some((done, size))) = (&e.progress, e.receiving.progress(host, id)) {
                p(done, size);
            }
            e.received.contains_key(&id)
        })
        .await?;
        match self.received.remove(&id) {
            Some(Ok(path)) => Ok(path),
            Some(Err(reason)) => Err(ExpertError::Denied {
                what: format!("fetching {remote:?}"),
                reason,
            }),
            None => Err(ExpertError::Timeout("the fetched file")),
        }
    }

    /// Ask for the diagnostics report.
    pub async fn diagnostics(&mut self, limit: Duration) -> Result<serde_json::Value, ExpertError> {
        let host = self.need_host()?;
        self.diagnostics = None;
        let denied_before = self.denied.len();
        self.sender
            .send(
                host,
                Message::Control(Control::DiagnosticsRequest {}.to_value()),
            )
            .await
            .map_err(|e| ExpertError::Ended(e.to_string()))?;
        self.until("the diagnostics report", limit, |e| {
            e.diagnostics.is_some() || e.denied.len() > denied_before
        })
        .await?;
        if let Some(report) = self.diagnostics.take() {
            return Ok(report);
        }
        let (what, reason) = self.denied.pop().unwrap_or_default();
        Err(ExpertError::Denied { what, reason })
    }

    /// Ask an unattended host to restart its machine; returns once the
    /// host has said it is going down. Connect again when it is back.
    pub async fn reboot(&mut self, limit: Duration) -> Result<String, ExpertError> {
        let host = self.need_host()?;
        let denied_before = self.denied.len();
        self.sender
            .send(host, Message::Control(Control::Reboot {}.to_value()))
            .await
            .map_err(|e| ExpertError::Ended(e.to_string()))?;
        let answered = self
            .until("the host to restart", limit, |e| {
                e.denied.len() > denied_before
            })
            .await;
        match answered {
            Ok(()) => {
                let (what, reason) = self.denied.pop().unwrap_or_default();
                Err(ExpertError::Denied { what, reason })
            }
            Err(ExpertError::Ended(reason)) => Ok(reason),
            Err(e) => Err(e),
        }
    }

    /// End the session for everyone and leave.
    pub async fn end(self, reason: &str) {
        let _ = self
            .sender
            .send(
                fernhand_protocol::ALL_MEMBERS,
                Message::Control(
                    Control::End {
                        reason: reason.to_owned(),
                    }
                    .to_value(),
                ),
            )
            .await;
        self.session.close(Duration::from_secs(3)).await;
    }

    /// The sender, for whatever else a script needs to send.
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    fn next_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_combinations_become_input_events() {
        assert_eq!(
            key_combo("ctrl+alt+del").unwrap(),
            vec![InputEvent::CtrlAltDel]
        );
        assert_eq!(
            key_combo("Return").unwrap(),
            vec![
                InputEvent::Key {
                    code: 36,
                    down: true
                },
                InputEvent::Key {
                    code: 36,
                    down: false
                }
            ]
        );
        let ctrl_c = key_combo("ctrl+c").unwrap();
        assert_eq!(
            ctrl_c.first(),
            Some(&InputEvent::Modifier {
                key: ModifierKey::Control,
                down: true
            })
        );
        assert_eq!(ctrl_c[1], InputEvent::Text("c".into()));
        assert_eq!(
            ctrl_c.last(),
            Some(&InputEvent::Modifier {
                key: ModifierKey::Control,
                down: false
            })
        );
        assert!(key_combo("hyper+x").is_err());
        assert!(key_combo("ctrl+nosuchkey").is_err());
    }
}
