//! Unattended access: enrol this machine into a tenant, keep its control
//! connection to the control plane open (reconnecting with jittered
//! backoff, across server restarts and reboots), and host a session
//! whenever an expert connects.
//!
//! The device access password is turned into an SRP verifier at
//! enrolment and only the verifier is stored (in `agent.json`, readable by
//! its owner only); the expert who connects must know the password, which
//! neither the control plane nor the relay ever sees.

use crate::console::{Action, Notice};
use crate::host::{self, Ended, HostOptions};
use fernhand_client::api::{Api, ApiError};
use fernhand_client::broker::BrokerClient;
use fernhand_client::runtime::Session;
use fernhand_e2e::{Policy, Verifier, VerifierStore};
use fernhand_protocol::{Endpoint, EndpointConfig, MemberId, SessionId};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use zeroize::Zeroizing;

/// The agent's file in its folder.
pub const CONFIG_FILE: &str = "agent.json";
/// Shortest access password accepted.
pub const MIN_PASSWORD: usize = 12;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why an unattended operation failed.
#[derive(Debug, Error)]
pub enum UnattendedError {
    /// The control plane refused or could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The agent's folder or file.
    #[error("{0}")]
    Config(String),
    /// The password is too weak.
    #[error("the access password must be at least {MIN_PASSWORD} characters")]
    WeakPassword,
    /// The crypto layer refused.
    #[error("verifier: {0}")]
    Verifier(String),
}

/// What `agent.json` holds.
#[derive(Clone, Serialize, Deserialize)]
pub struct AgentConfig {
    /// The control plane's URL.
    pub server: String,
    /// This device's id.
    pub device: String,
    /// Its name.
    pub name: String,
    /// `unattended` or `ask`.
    pub policy: String,
    /// The control connection's credential (a secret).
    pub credential: String,
    /// The SRP verifier of the access password.
    pub verifier: String,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("server", &self.server)
            .field("device", &self.device)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

pub use fernhand_client::expert::device_identity;

impl AgentConfig {
    /// Read `agent.json` from `dir`.
    pub fn load(dir: &Path) -> Result<AgentConfig, UnattendedError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            UnattendedError::Config(format!("{}: {e} (enrol first)", path.display()))
        })?;
        serde_json::from_str(&text)
            .map_err(|e| UnattendedError::Config(format!("{}: {e}", path.display())))
    }

    /// Write it to `dir` (owner-only, replaced atomically).
    pub fn save(&self, dir: &Path) -> Result<(), UnattendedError> {
        let err = |e: std::io::Error| UnattendedError::Config(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(err)?;
        let text = Zeroizing::new(serde_json::to_string_pretty(self).unwrap_or_default());
        let temp = dir.join(format!(".{CONFIG_FILE}.new"));
        let _ = std::fs::remove_file(&temp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(err)?;
        file.write_all(text.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
        std::fs::rename(&temp, dir.join(CONFIG_FILE)).map_err(err)
    }

    /// The verifier store a session answers with; while `locked`, it
    /// refuses every password without checking it.
    pub fn verifiers(&self, locked: bool) -> Result<VerifierStore, UnattendedError> {
        let verifier = Verifier::import(&self.verifier)
            .map_err(|e| UnattendedError::Verifier(e.to_string()))?;
        let mut store = VerifierStore::new(Policy::default());
        store.insert(verifier);
        if locked {
            store.lock();
        }
        Ok(store)
    }
}

/// Enrol this machine: the token from the tenant's admin, the access
/// password from the machine's owner. Stores `agent.json` in `dir`.
pub async fn enroll(
    api: &Api,
    token: &str,
    password: &str,
    name: &str,
    policy: &str,
    dir: &Path,
) -> Result<AgentConfig, UnattendedError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(UnattendedError::WeakPassword);
    }
    let (device, credential) = api.enrol(token, name, std::env::consts::OS, policy).await?;
    // `Api::enrol` checked that the answer names the device.
    let id = device["id"].as_str().unwrap_or_default().to_owned();
    let verifier = Verifier::new(
        &Policy::default(),
        &device_identity(&id),
        password.as_bytes(),
    )
    .map_err(|e| UnattendedError::Verifier(e.to_string()))?;
    let config = AgentConfig {
        server: api.base().to_owned(),
        device: id,
        name: name.to_owned(),
        policy: policy.to_owned(),
        credential,
        verifier: verifier.export().to_string(),
    };
    config.save(dir)?;
    Ok(config)
}

/// Wrong access passwords in a row before the device makes experts wait.
const FREE_FAILURES: u32 = 3;
/// The file that counts them, across sessions and restarts.
const LOCKOUT_FILE: &str = "lockout.json";

/// Wrong passwords in a row and when the last one came.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lockout {
    /// Wrong passwords since the last right one.
    pub failures: u32,
    /// When the last came (Unix seconds).
    pub last: u64,
}

impl Lockout {
    /// Read it from `dir` (none yet: no failures).
    pub fn load(dir: &Path) -> Lockout {
        std::fs::read_to_string(dir.join(LOCKOUT_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Write it to `dir`.
    pub fn save(&self, dir: &Path) {
        if let Ok(text) = serde_json::to_string(self)
            && let Err(e) = std::fs::write(dir.join(LOCKOUT_FILE), text)
        {
            tracing::warn!(error = %e, "the lockout count was not saved");
        }
    }

    /// How long from `last` the device refuses every password: nothing for
    /// the first three wrong ones, then 30 s doubling with each, up to an
    /// hour. The count survives sessions and restarts, so a stolen expert
    /// account cannot guess the password at the rate it can open sessions.
    pub fn wait(&self) -> Duration {
        match self.failures.checked_sub(FREE_FAILURES) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_secs(30u64.saturating_mul(1 << extra.min(7)))
                .min(Duration::from_secs(3600)),
        }
    }

    /// Whether passwords are refused at `now` (Unix seconds).
    pub fn locked_at(&self, now: u64) -> bool {
        now < self.last.saturating_add(self.wait().as_secs())
    }

    /// Count one attempt.
    pub fn record(&mut self, right: bool, now: u64) {
        if right {
            *self = Lockout::default();
        } else {
            self.failures = self.failures.saturating_add(1);
            self.last = now;
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A connect notice from the control plane.
#[derive(Debug, Deserialize)]
struct ConnectNotice {
    session: String,
    member: u32,
    leader: u32,
    grant: String,
    #[serde(default)]
    expert: serde_json::Value,
}

/// Builds the options of each hosted session.
pub type OptionsFactory = Arc<dyn Fn() -> HostOptions + Send + Sync>;

/// Keep the control connection and host every session experts open, until
/// the process is stopped. `tls` is for an https control plane.
pub async fn run(
    config: AgentConfig,
    dir: &Path,
    tls: Option<rustls::ClientConfig>,
    options: OptionsFactory,
) -> Result<(), UnattendedError> {
    let mut backoff = Duration::from_secs(1);
    loop {
        match control_connection(&config, dir, tls.clone(), &options).await {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => tracing::warn!(error = %e, "control connection failed"),
        }
        // Full jitter: a restarted server is not met by every agent at once.
        let wait = jitter(backoff);
        tracing::info!(
            seconds = wait.as_secs_f32(),
            "reconnecting to the control plane"
        );
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A random time between a tenth of `limit` and `limit`.
fn jitter(limit: Duration) -> Duration {
    let mut b = [0u8; 4];
    let r = if getrandom::fill(&mut b).is_ok() {
        u32::from_le_bytes(b)
    } else {
        u32::MAX / 2
    };
    let fraction = 0.1 + 0.9 * f64::from(r) / f64::from(u32::MAX);
    limit.mul_f64(fraction)
}

/// One control connection, until it drops. Ok when it was established.
/// How often an unattended agent reports its inventory.
const INVENTORY_EVERY: Duration = Duration::from_secs(6 * 3600);

async fn control_connection(
    config: &AgentConfig,
    dir: &Path,
    tls: Option<rustls::ClientConfig>,
    options: &OptionsFactory,
) -> Result<(), String> {
    let url = format!(
        "{}/api/v1/agent/control",
        config
            .server
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let bearer = Zeroizing::new(format!("Bearer {}", config.credential));
    request.headers_mut().insert(
        "authorization",
        bearer
            .parse()
            .map_err(|_| "credential is not a header value".to_owned())?,
    );
    let connector = tls
        .clone()
        .map(|t| tokio_tungstenite::Connector::Rustls(Arc::new(t)));
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(device = %config.device, "control connection open");
    let (mut write, mut read) = ws.split();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    // The machine's inventory, for the tenant's configuration database: at
    // once, then every six hours.
    let mut inventory = tokio::time::interval(INVENTORY_EVERY);
    let busy = Arc::new(tokio::sync::Mutex::new(()));
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if write.send(WsMessage::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    return Ok(());
                }
            }
            _ = inventory.tick() => {
                let report = tokio::task::spawn_blocking(crate::diagnostics::inventory)
                    .await
                    .unwrap_or_default();
                let message = serde_json::json!({"type": "inventory", "report": report}).to_string();
                if write.send(WsMessage::Text(message.into())).await.is_err() {
                    return Ok(());
                }
            }
            message = read.next() => {
                let text = match message {
                    Some(Ok(WsMessage::Text(t))) => t,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Ok(()),
                };
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if value["type"] != "connect" {
                    continue;
                }
                let Ok(notice) = serde_json::from_value::<ConnectNotice>(value) else {
                    tracing::warn!("malformed connect notice");
                    continue;
                };
                let config = config.clone();
                let tls = tls.clone();
                let options = options.clone();
                let busy = busy.clone();
                let dir = dir.to_path_buf();
                tokio::spawn(async move {
                    // One session at a time on a machine.
                    let _one = busy.lock().await;
                    match host_session(&config, &dir, tls, notice, options()).await {
                        Ok(ended) => tracing::info!(?ended, "unattended session ended"),
                        Err(e) => tracing::warn!(error = %e, "unattended session failed"),
                    }
                });
            }
        }
    }
}

async fn host_session(
    config: &AgentConfig,
    dir: &Path,
    tls: Option<rustls::ClientConfig>,
    notice: ConnectNotice,
    mut options: HostOptions,
) -> Result<Ended, String> {
    let session: SessionId = notice
        .session
        .parse()
        .map_err(|_| "bad session id".to_owned())?;
    let leader = MemberId(notice.leader);
    let lockout = Lockout::load(dir);
    let locked = lockout.locked_at(unix_now());
    if locked {
        tracing::warn!(
            failures = lockout.failures,
            "refusing every password for now: too many wrong ones"
        );
    }
    let endpoint = Endpoint::device(
        session,
        MemberId(notice.member),
        leader,
        config.verifiers(locked).map_err(|e| e.to_string())?,
        EndpointConfig::default(),
    );
    let counted = dir.to_path_buf();
    options.on_join = Some(Arc::new(move |right| {
        let mut lockout = Lockout::load(&counted);
        lockout.record(right, unix_now());
        lockout.save(&counted);
        if !right {
            tracing::warn!(
                failures = lockout.failures,
                "a wrong device access password"
            );
        }
    }));
    let broker =
        BrokerClient::new(&config.server, notice.grant, tls.clone()).map_err(|e| e.to_string())?;
    let reporter = fernhand_client::broker::SecurityReporter::new(broker.clone());
    let mut session = Session::start(endpoint, broker, tls.map(Arc::new))
        .await
        .map_err(|e| e.to_string())?;
    session.set_reporter(reporter);
    tracing::info!(expert = %notice.expert, "an expert connects");
    options.grant_without_asking = config.policy == "unattended";
    // Nobody to ask at an unattended machine (policy `ask` is refused
    // there); the log is its indicator.
    let (_, actions) = mpsc::channel::<Action>(1);
    let (notices, mut notices_rx) = mpsc::unbounded_channel::<Notice>();
    tokio::spawn(async move {
        while let Some(n) = notices_rx.recv().await {
            tracing::info!("{}", crate::console::terminal::render_for_log(&n));
        }
    });
    Ok(host::run(session, leader, options, actions, notices).await)
}

/// A systemd unit that runs the agent from `binary` with its folder `dir`,
/// restarted whenever it stops, started at boot.
pub fn systemd_unit(binary: &Path, dir: &Path, display: Option<&str>) -> String {
    let display = display.map_or(String::new(), |d| format!("Environment=DISPLAY={d}\n"));
    format!(
        "[Unit]\n\
         Description=Fernhand agent (unattended remote support)\n\
         After=network-online.target\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         ExecStart={} agent run --dir {}\n\
         {display}\
         Restart=always\n\
         RestartSec=5\n\
         NoNewPrivileges=yes\n\
         PrivateTmp=yes\n\
         ProtectSystem=full\n\
         ReadWritePaths={}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        binary.display(),
        dir.display(),
        dir.display(),
    )
}

/// Where `install-service` writes the unit by default.
pub fn default_unit_path() -> PathBuf {
    PathBuf::from("/etc/systemd/system/fernhand-agent.service")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_passwords_lock_the_device_longer_each_time_and_the_right_one_resets() {
        let mut l = Lockout::default();
        for i in 0..2 {
            l.record(false, 1000 + i);
            assert!(
                !l.locked_at(1000 + i),
                "the first wrong passwords cost nothing"
            );
        }
        l.record(false, 2000);
        assert_eq!(
            l.wait(),
            Duration::from_secs(30),
            "the third locks for 30 s"
        );
        assert!(l.locked_at(2029) && !l.locked_at(2030));
        l.record(false, 3000);
        assert_eq!(l.wait(), Duration::from_secs(60));
        for _ in 0..20 {
            l.record(false, 4000);
        }
        assert_eq!(l.wait(), Duration::from_secs(3600), "capped at an hour");
        l.record(true, 5000);
        assert_eq!(l, Lockout::default());
    }
}
