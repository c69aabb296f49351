//! `fernhand server`: everything the control plane runs, put together.
//!
//! The embedded default (no database URL) is one process: the HTTP API on
//! `listen`, SQLite in the data folder, the broker, and an in-process relay
//! that registers with the broker over mutual TLS exactly as a separate
//! relay does. With a PostgreSQL URL the same code runs as one of many
//! replicas; relays elsewhere register on the relay-link port.
//!
//! Plain HTTP only on loopback; any other address is served over TLS with a
//! certificate from the deployment CA kept in the data folder.

pub mod bootstrap;
pub mod housekeeping;
mod presence;
pub use presence::Routed;
pub mod secrets;
mod tls;

use crate::app::agents::AgentHub;
use crate::app::crypto::Sealer;
use crate::app::limits::{LimitConfig, Limiters};
use crate::app::metrics::ServerMetrics;
use crate::app::webhook::{Webhook, WebhookError};
use crate::app::{AppState, router};
use crate::broker::{Broker, BrokerConfig, BrokerError};
use crate::security_log::SecurityLog;
use bootstrap::FirstLogin;
use ed25519_dalek::SigningKey;
use fernhand_pki::{Ca, Usage};
use fernhand_protocol::RelayId;
use fernhand_protocol::broker_link::relay_identity_name;
use fernhand_relay::{RegisteredRelay, Registration, RelayConfig};
use fernhand_store::Store;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

/// What `fernhand server` is told.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Data folder (SQLite file, keys, the deployment CA).
    pub data: PathBuf,
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// PostgreSQL URL of the application role; `None`: SQLite in `data`.
    pub database: Option<String>,
    /// PostgreSQL URL of the owning role, to apply migrations.
    pub database_owner: Option<String>,
    /// Where the in-process relay listens; `None`: no in-process relay.
    pub relay_listen: Option<SocketAddr>,
    /// Where relays register (mutual TLS).
    pub relay_link_listen: SocketAddr,
    /// Region of this replica and its in-process relay; members who name
    /// none are placed near it.
    pub region: String,
    /// Per-address rate limits.
    pub limits: LimitConfig,
    /// Serve `/metrics` to any caller, not only loopback.
    pub metrics_public: bool,
    /// Forward security events to this URL, signed with the secret.
    pub webhook: Option<(String, Zeroizing<Vec<u8>>)>,
    /// Let tenants point desk webhooks at loopback addresses (tests, a
    /// local relay of the operator's); off, they reach https URLs only.
    pub desk_webhooks_to_loopback: bool,
    /// The API's TLS certificate chain and key (PEM). Given, the API is
    /// served over TLS on any address; absent, it is over TLS with a
    /// certificate from the deployment CA off loopback, plain on loopback.
    pub tls: Option<(String, Zeroizing<String>)>,
    /// STUN and TURN for camera shares.
    pub turn: TurnChoice,
}

/// Where camera shares find STUN and TURN.
#[derive(Clone)]
pub enum TurnChoice {
    /// None (browsers connect directly or not at all).
    Off,
    /// The embedded TURN service, listening on UDP `listen` and relaying
    /// on `relay_ip` (default: the listening address, when it is one).
    Embedded {
        /// Where it listens.
        listen: SocketAddr,
        /// The address browsers reach it at.
        relay_ip: Option<IpAddr>,
    },
    /// An external TURN service (coturn with `use-auth-secret`): its URLs
    /// and the shared secret.
    External {
        /// `turn:`/`turns:`/`stun:` URLs.
        urls: Vec<String>,
        /// The shared secret.
        secret: Zeroizing<Vec<u8>>,
    },
}

impl ServeOptions {
    /// The embedded default for `data` and `listen`: in-process relay on the
    /// next port, relay links on the one after.
    pub fn embedded(data: PathBuf, listen: SocketAddr) -> ServeOptions {
        let next = |n: u16| {
            let port = if listen.port() == 0 {
                0
            } else {
                listen.port().saturating_add(n)
            };
            SocketAddr::new(listen.ip(), port)
        };
        ServeOptions {
            data,
            listen,
            database: None,
            database_owner: None,
            relay_listen: Some(next(1)),
            relay_link_listen: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), next(2).port()),
            region: "eu-west".to_owned(),
            limits: LimitConfig::default(),
            metrics_public: false,
            webhook: None,
            desk_webhooks_to_loopback: false,
            tls: None,
            turn: TurnChoice::Embedded {
                listen: SocketAddr::new(listen.ip(), next(3).port()),
                relay_ip: None,
            },
        }
    }
}

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A key file.
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    /// The deployment CA or a certificate.
    #[error(transparent)]
    Pki(#[from] fernhand_pki::PkiError),
    /// The store.
    #[error(transparent)]
    Store(#[from] fernhand_store::StoreError),
    /// First-start set-up.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// Listening.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The in-process relay.
    #[error("in-process relay: {0}")]
    Relay(String),
    /// The security webhook.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The broker.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The embedded TURN service.
    #[error(transparent)]
    Turn(#[from] crate::turn::TurnError),
}

/// A running server.
pub struct Running {
    /// Base URL of the API.
    pub url: String,
    /// Where the in-process relay serves members, if there is one.
    pub relay_url: Option<String>,
    /// Where relays register.
    pub relay_link: SocketAddr,
    /// The first administrator's sign-in, on the very first start only.
    pub first_login: Option<FirstLogin>,
    /// Shared state (for tests and tools in the same process).
    pub state: AppState,
    relay: Option<RegisteredRelay>,
    turn: Option<crate::turn::TurnService>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop: the relay first (members resume elsewhere), then the API.
    pub async fn shutdown(mut self) {
        if let Some(relay) = self.relay.take() {
            relay.shutdown().await;
        }
        if let Some(turn) = self.turn.take() {
            turn.close().await;
        }
        for t in &self.tasks {
            t.abort();
        }
        self.state.store.close().await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(relay) = self.relay.take() {
            relay.kill();
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

fn local(listener: &TcpListener, asked: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(asked)
}

/// The store `opts` names: PostgreSQL (migrated with the owner URL when
/// given) or the embedded SQLite file in the data folder.
pub async fn open_store(opts: &ServeOptions) -> Result<Store, ServeError> {
    match &opts.database {
        None => Ok(Store::embedded(&opts.data.join("store.db")).await?),
        Some(url) => {
            if let Some(owner) = &opts.database_owner {
                Store::migrate(owner).await?;
            }
            Ok(Store::open(url, 16).await?)
        }
    }
}

fn load_ca(opts: &ServeOptions) -> Result<Ca, ServeError> {
    let dir = opts.data.join("pki");
    if dir.join("ca.pem").exists() {
        return Ok(Ca::load(&dir)?);
    }
    secrets::private_dir(&dir)?;
    let ca = Ca::create("Fernhand deployment CA")?;
    ca.save(&dir)?;
    Ok(ca)
}

/// Start everything; returns once all listeners are bound and the
/// in-process relay has registered.
pub async fn start(opts: ServeOptions) -> Result<Running, ServeError> {
    fernhand_pki::install_default_provider();
    secrets::private_dir(&opts.data)?;
    let keys = opts.data.join("keys");
    secrets::private_dir(&keys)?;
    let seal_key = secrets::load_or_create_key(&keys.join("seal.key"))?;
    let ticket_key = secrets::load_or_create_key(&keys.join("tickets.key"))?;
    let certificate_key = secrets::load_or_create_key(&keys.join("certificates.key"))?;
    let ca = load_ca(&opts)?;

    let store = open_store(&opts).await?;
    let first_login = bootstrap::first_start(&store).await?;
    let metrics = Arc::new(ServerMetrics::new(opts.metrics_public));
    let webhook = match opts.webhook.clone() {
        Some((url, secret)) => Some(Arc::new(Webhook::start(url, secret)?)),
        None => None,
    };
    let security = SecurityLog::new(store.clone(), webhook, metrics.clone());
    let broker = Broker::new(
        SigningKey::from_bytes(&ticket_key),
        BrokerConfig {
            // Members who name no region are placed near this replica.
            default_region: opts.region.clone(),
            ..BrokerConfig::default()
        },
        store.clone(),
        security.clone(),
    )?;
    let mut tasks = Vec::new();

    // Relay links: mutual TLS with the deployment CA.
    let link_listener = bind(opts.relay_link_listen).await?;
    let relay_link = local(&link_listener, opts.relay_link_listen);
    let link_ip = relay_link.ip().to_string();
    let control = ca.issue(
        "control plane",
        &["127.0.0.1".into(), "localhost".into(), link_ip],
        Usage::Server,
    )?;
    let mtls =
        fernhand_pki::server_config(&control.chain_pem, &control.key_pem, Some(ca.cert_pem()))?;
    tasks.push(tokio::spawn(crate::broker::relay_link::serve_relay_links(
        link_listener,
        Arc::new(mtls),
        broker.clone(),
    )));
    let ticking = broker.clone();
    tasks.push(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        loop {
            every.tick().await;
            if let Err(e) = ticking.tick().await {
                tracing::error!("broker upkeep failed: {e}");
            }
        }
    }));

    let relay = match opts.relay_listen {
        Some(addr) => Some(start_relay(&ca, addr, relay_link, &opts.region).await?),
        None => None,
    };
    let relay_url = relay.as_ref().map(|(_, url)| url.clone());

    let (ice, turn) = start_turn(&opts.turn).await?;

    let replica: Arc<str> = Arc::from(fernhand_store::new_id()?);
    let mut p = store.platform().await?;
    fernhand_store::replicas::beat(&mut p, &replica).await?;
    p.commit().await?;
    let state = AppState {
        store,
        broker,
        sealer: Arc::new(Sealer::new(*seal_key)),
        limits: Arc::new(Limiters::new(opts.limits)),
        agents: Arc::new(AgentHub::default()),
        metrics,
        replica: replica.clone(),
        security,
        tls: opts.tls.is_some() || !opts.listen.ip().is_loopback(),
        desk_webhooks_to_loopback: opts.desk_webhooks_to_loopback,
        ice: Arc::new(ice),
        certificates: Arc::new(SigningKey::from_bytes(&certificate_key)),
        retention_wake: Arc::new(tokio::sync::Notify::new()),
        exports: Arc::new(crate::app::export::jobs::Exports::new(
            opts.data.join("exports"),
        )),
    };
    tasks.push(tokio::spawn(presence::beat(state.clone())));
    tasks.push(tokio::spawn(housekeeping::run(state.clone())));
    tasks.push(tokio::spawn(crate::app::privacy::retention::run(
        state.store.clone(),
        state.certificates.clone(),
        state.exports.clone(),
        state.retention_wake.clone(),
    )));
    tasks.push(tokio::spawn(crate::app::desk::escalation::run(
        state.store.clone(),
    )));
    tasks.push(tokio::spawn(crate::app::desk::delivery::run(
        state.store.clone(),
        state.sealer.clone(),
        state.desk_webhooks_to_loopback,
    )));
    tasks.push(tokio::spawn(crate::app::camera::run(state.store.clone())));
    if let Some(listener) = fernhand_store::replicas::listen(&state.store).await? {
        tasks.push(tokio::spawn(presence::relay_notices(
            state.clone(),
            listener,
        )));
    }
    let listener = bind(opts.listen).await?;
    let addr = local(&listener, opts.listen);
    let app = router(state.clone());
    let url = if state.tls {
        let config = match &opts.tls {
            Some((chain, key)) => fernhand_pki::server_config(chain, key, None)?,
            None => {
                let cert = ca.issue("control plane", &[addr.ip().to_string()], Usage::Server)?;
                fernhand_pki::server_config(&cert.chain_pem, &cert.key_pem, None)?
            }
        };
        tasks.push(tokio::spawn(tls::serve(listener, Arc::new(config), app)));
        format!("https://{addr}")
    } else {
        tasks.push(tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).await {
                tracing::error!("HTTP server stopped: {e}");
            }
        }));
        format!("http://{addr}")
    };
    Ok(Running {
        url,
        relay_url,
        relay_link,
        first_login,
        state,
        relay: relay.map(|(r, _)| r),
        turn,
        tasks,
    })
}

impl std::fmt::Debug for TurnChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TurnChoice::Off => f.write_str("Off"),
            TurnChoice::Embedded { listen, relay_ip } => f
                .debug_struct("Embedded")
                .field("listen", listen)
                .field("relay_ip", relay_ip)
                .finish(),
            TurnChoice::External { urls, .. } => f
                .debug_struct("External")
                .field("urls", urls)
                .finish_non_exhaustive(),
        }
    }
}

/// The ICE servers camera shares get, and the embedded TURN service if it
/// is the one. The embedded service's secret is random per start (only
/// this process makes and checks its credentials).
async fn start_turn(
    choice: &TurnChoice,
) -> Result<(crate::app::ice::Ice, Option<crate::turn::TurnService>), ServeError> {
    use crate::app::ice::Ice;
    match choice {
        TurnChoice::Off => Ok((Ice::default(), None)),
        TurnChoice::External { urls, secret } => {
            let (stun, turn): (Vec<String>, Vec<String>) =
                urls.iter().cloned().partition(|u| u.starts_with("stun:"));
            Ok((
                Ice {
                    stun,
                    turn: (!turn.is_empty()).then(|| (turn, secret.clone())),
                },
                None,
            ))
        }
        TurnChoice::Embedded { listen, relay_ip } => {
            let Some(relay_ip) = relay_ip.or((!listen.ip().is_unspecified()).then(|| listen.ip()))
            else {
                tracing::warn!(
                    "no TURN: it listens on {listen}; give the address browsers reach it at (--turn-public-ip)"
                );
                return Ok((Ice::default(), None));
            };
            let mut secret = Zeroizing::new(vec![0u8; 32]);
            getrandom::fill(secret.as_mut_slice())
                .map_err(|e| crate::turn::TurnError::Random(e.to_string()))?;
            // Not asked for by name, so a port in use costs TURN, not the server.
            let service =
                match crate::turn::TurnService::start(*listen, relay_ip, secret.clone()).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("no TURN for camera shares: {e}");
                        return Ok((Ice::default(), None));
                    }
                };
            let (stun, turn) = service.urls();
            tracing::info!(addr = %service.addr, "TURN for camera shares");
            Ok((
                Ice {
                    stun,
                    turn: Some((turn, secret)),
                },
                Some(service),
            ))
        }
    }
}

/// The in-process relay: its own certificate naming its id, registered over
/// mutual TLS like any other relay.
async fn start_relay(
    ca: &Ca,
    addr: SocketAddr,
    relay_link: SocketAddr,
    region: &str,
) -> Result<(RegisteredRelay, String), ServeError> {
    let id = RelayId::random().map_err(|e| ServeError::Relay(e.to_string()))?;
    let cert = ca.issue(
        "in-process relay",
        &[addr.ip().to_string(), relay_identity_name(id)],
        Usage::ServerAndClient,
    )?;
    let link_tls = Arc::new(fernhand_pki::client_config(
        ca.cert_pem(),
        Some((&cert.chain_pem, &cert.key_pem)),
    )?);
    let mut config = RelayConfig::new(id, ed25519_dalek::VerifyingKey::default());
    if !addr.ip().is_loopback() {
        config.tls = Some(Arc::new(fernhand_pki::server_config(
            &cert.chain_pem,
            &cert.key_pem,
            None,
        )?));
    }
    config
        .check_transport(addr)
        .map_err(|e| ServeError::Relay(e.to_string()))?;
    let listener = bind(addr).await?;
    let bound = local(&listener, addr);
    let url = if config.tls.is_some() {
        format!("wss://{bound}/")
    } else {
        format!("ws://{bound}/")
    };
    let link_url = format!("wss://127.0.0.1:{}/", relay_link.port());
    let relay = RegisteredRelay::start(
        listener,
        config,
        link_url,
        link_tls,
        Registration {
            relay: id,
            region: region.to_owned(),
            url: url.clone(),
            capacity: 10_000,
        },
    )
    .await
    .map_err(|e| ServeError::Relay(e.to_string()))?;
    Ok((relay, url))
}
