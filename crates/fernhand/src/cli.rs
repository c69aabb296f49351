//! Command-line interface: the subcommands and their options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Fernhand: remote support with end-to-end encryption.
#[derive(Debug, Parser)]
#[command(name = "fernhand", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane (with an in-process relay and SQLite by default).
    Server(ServerArgs),
    /// Run a relay (communication server) that registers with a broker.
    Relay(RelayArgs),
    /// Administration: the deployment's certificate authority.
    Admin(AdminArgs),
    /// The agent on the customer's machine: join a session, or enrol and
    /// run unattended.
    Agent(AgentArgs),
    /// A command-line expert for scripts and tests (same protocol as the
    /// browser console).
    Expert(ExpertArgs),
    /// Measure a part of Fernhand against a baseline measured in the same run.
    Bench(BenchArgs),
    /// Record a screen sequence for `bench codec`: capture the X display
    /// every `interval-ms` into numbered PNG files.
    #[command(hide = true)]
    RecordScreen {
        /// Folder to write (created; must be empty or new).
        #[arg(long)]
        out: PathBuf,
        /// Frames to take.
        #[arg(long, default_value_t = 60)]
        frames: u32,
        /// Milliseconds between frames.
        #[arg(long, default_value_t = 50)]
        interval_ms: u64,
    },
    /// The process under test of `bench relay` (started by the bench).
    #[command(hide = true)]
    BenchNode {
        /// `relay` or `baseline`.
        mode: String,
    },
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Data folder: the SQLite database (embedded default), keys, the deployment CA.
    #[arg(long, default_value = "./fernhand-data")]
    pub data: PathBuf,
    /// Address of the API. Off loopback it is served over TLS.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// PostgreSQL URL of the application role (not the owner); SQLite in the
    /// data folder when absent.
    #[arg(long, env = "FERNHAND_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// PostgreSQL URL of the owning role, used only to apply migrations.
    #[arg(long, env = "FERNHAND_DATABASE_OWNER_URL", hide_env_values = true)]
    pub database_owner: Option<String>,
    /// Where the in-process relay serves members (default: the port after --listen).
    #[arg(long)]
    pub relay_listen: Option<SocketAddr>,
    /// Run no in-process relay (separate relays register instead).
    #[arg(long, conflicts_with = "relay_listen")]
    pub no_relay: bool,
    /// Where relays register over mutual TLS (default: 127.0.0.1, two ports after --listen).
    #[arg(long)]
    pub relay_link_listen: Option<SocketAddr>,
    /// Region of the in-process relay.
    #[arg(long, default_value = "eu-west")]
    pub region: String,
    /// Sign-in attempts per minute and address.
    #[arg(long, default_value_t = 10)]
    pub login_per_minute: u32,
    /// Join-code lookups per minute and address.
    #[arg(long, default_value_t = 30)]
    pub join_per_minute: u32,
    /// Device enrolments per minute and address.
    #[arg(long, default_value_t = 30)]
    pub enrol_per_minute: u32,
    /// Serve /metrics to any caller (default: loopback callers only).
    #[arg(long)]
    pub metrics_public: bool,
    /// Let tenants point desk webhooks at loopback and private addresses
    /// (default: public https addresses only).
    #[arg(long)]
    pub desk_webhooks_to_loopback: bool,
    /// Forward security events to this URL (https; http only to loopback).
    #[arg(long, requires = "webhook_secret_file")]
    pub webhook_url: Option<String>,
    /// File holding the webhook's HMAC secret (at least 16 bytes).
    #[arg(long, requires = "webhook_url")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Run no TURN service for camera shares (browsers then need a direct path).
    #[arg(long)]
    pub no_turn: bool,
    /// Where the embedded TURN service listens (UDP; default: the --listen
    /// address, three ports on). Its relays use ports 49152-65535.
    #[arg(long, conflicts_with_all = ["no_turn", "turn_url"])]
    pub turn_listen: Option<SocketAddr>,
    /// The address browsers reach the embedded TURN service at (default:
    /// the listening address; required when that is 0.0.0.0).
    #[arg(long, conflicts_with_all = ["no_turn", "turn_url"])]
    pub turn_public_ip: Option<std::net::IpAddr>,
    /// An external TURN service instead (coturn with use-auth-secret):
    /// its turn:/turns:/stun: URLs, repeatable.
    #[arg(long, requires = "turn_secret_file", conflicts_with = "no_turn")]
    pub turn_url: Vec<String>,
    /// File holding the external TURN service's shared secret.
    #[arg(long, requires = "turn_url")]
    pub turn_secret_file: Option<PathBuf>,
    /// The API's TLS certificate chain (PEM); with it the API is HTTPS on any address.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// This relay's id (32 hex digits); its certificate must name it.
    #[arg(long)]
    pub id: String,
    /// Where members connect.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The URL members are given (wss://…; ws:// only for loopback).
    #[arg(long)]
    pub public_url: String,
    /// Region, for placement near session leaders.
    #[arg(long, default_value = "eu-west")]
    pub region: String,
    /// Members this relay is meant to carry.
    #[arg(long, default_value_t = 10_000)]
    pub capacity: u32,
    /// Certificate chain (PEM) for members' TLS and for registering.
    #[arg(long)]
    pub cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// The deployment CA certificate (PEM), to verify the broker.
    #[arg(long)]
    pub ca: PathBuf,
    /// The broker's relay-link URL (wss://…).
    #[arg(long)]
    pub broker: String,
    /// Serve members plain WebSocket: only on loopback, or with --behind-tls-proxy.
    #[arg(long)]
    pub plain: bool,
    /// A TLS-terminating proxy sits in front (allows --plain off loopback).
    #[arg(long)]
    pub behind_tls_proxy: bool,
    /// Where to serve Prometheus metrics.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub metrics_listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The deployment CA.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Issue a single-use enrolment token for an unattended device.
    EnrolmentToken {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Device group the device joins.
        #[arg(long)]
        group: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl_seconds: i64,
    },
    /// API tokens of the platform operator (tenants and subscriptions).
    OperatorToken {
        #[command(subcommand)]
        command: OperatorTokenCommand,
    },
    /// Bring tickets over from another desk's CSV export (GLPI's ticket
    /// list, iTop's user requests or incidents); they keep their numbers.
    DeskImport {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// glpi or itop.
        #[arg(long)]
        from: String,
        /// The CSV file.
        file: PathBuf,
    },
    /// Read incoming e-mail into a tenant's service desk: new messages raise
    /// incidents, replies with [INC-42] in the subject are added to it.
    MailIntake {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// A Maildir: messages in new/ are read and moved to cur/.
        #[arg(long, conflicts_with = "mbox", required_unless_present = "mbox")]
        maildir: Option<PathBuf>,
        /// An mbox file (read whole; messages read before are skipped).
        #[arg(long)]
        mbox: Option<PathBuf>,
    },
    /// Rotate a tenant's data key (camera-share data): a new version seals
    /// from now on; older ones still open what they sealed.
    RotateTenantKey {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
    },
    /// Export everything a tenant has as a versioned archive with a
    /// SHA-256 manifest (docs/privacy.md, "Export archive").
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// The archive to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a tenant's export archive into this instance (refused if the
    /// archive does not match its manifest or the tenant is already here).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// The archive.
        archive: PathBuf,
    },
    /// Write a consistent copy of the embedded database (while the server runs).
    Backup {
        /// Data folder.
        #[arg(long, default_value = "./fernhand-data")]
        data: PathBuf,
        /// The backup file to create (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place of the embedded database (server stopped).
    Restore {
        /// Data folder.
        #[arg(long, default_value = "./fernhand-data")]
        data: PathBuf,
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
}

/// Which store an admin command works on.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data folder of the embedded default.
    #[arg(long, default_value = "./fernhand-data")]
    pub data: PathBuf,
    /// PostgreSQL URL of the application role.
    #[arg(long, env = "FERNHAND_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first administrator (prints a one-time password).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Short name used at sign-in (a-z, 0-9, -).
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// E-mail of its first administrator.
        #[arg(long)]
        admin_email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorTokenCommand {
    /// Issue a token (printed once; only its hash is stored).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Who or what holds it (shown in audit logs).
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// Its id (from `list`).
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (prints a one-time password).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// E-mail.
        #[arg(long)]
        email: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// tenant_admin, expert or auditor.
        #[arg(long)]
        role: String,
    },
    /// Give a user a one-time password (printed once) they must change at
    /// their next sign-in; ends their sessions.
    ResetPassword {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// E-mail.
        #[arg(long)]
        email: String,
    },
    /// Turn off a user's MFA and end their sessions (lost second factor).
    ResetMfa {
        #[command(flatten)]
        store: StoreArgs,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// E-mail.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the deployment CA in a folder (refuses to overwrite one).
    Init {
        /// Folder for ca.pem, ca.key, ca.json.
        #[arg(long, default_value = "./fernhand-pki")]
        dir: PathBuf,
        /// The CA's name.
        #[arg(long, default_value = "Fernhand deployment CA")]
        name: String,
    },
    /// Issue a certificate signed by the deployment CA.
    Issue {
        /// Folder of the CA; the certificate is written there too.
        #[arg(long, default_value = "./fernhand-pki")]
        dir: PathBuf,
        /// File name (without extension) and certificate name.
        #[arg(long)]
        name: String,
        /// DNS names or IP addresses the certificate answers to.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// What it is for.
        #[arg(long, value_enum, default_value_t = CertUsage::Server)]
        usage: CertUsage,
        /// For a relay: its id (32 hex digits), named in the certificate so it
        /// can register; `new` makes one.
        #[arg(long)]
        relay: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CertUsage {
    /// TLS server (control plane).
    Server,
    /// TLS client.
    Client,
    /// Both (relays).
    Both,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    pub area: BenchArea,
    /// Print one JSON object per scenario instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of measurement per scenario and side.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// `codec`: a folder of sequences, one sub-folder of numbered PNG
    /// frames each (made by `scripts/record-screen-corpus`, or your own).
    #[arg(long, default_value = "target/screen-corpus")]
    pub corpus: PathBuf,
    /// `desk`: tickets generated in the measured tenant.
    #[arg(long, default_value_t = 100_000)]
    pub tickets: u64,
    /// `desk`: PostgreSQL URL of the owning role (migrations), to measure
    /// PostgreSQL too.
    #[arg(long, requires = "pg_app")]
    pub pg_owner: Option<String>,
    /// `desk`: PostgreSQL URL of the application role.
    #[arg(long, requires = "pg_owner")]
    pub pg_app: Option<String>,
    /// `desk`: measure PostgreSQL only (skip the SQLite run).
    #[arg(long, requires = "pg_owner")]
    pub postgres_only: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchArea {
    /// End-to-end layer: seal/open throughput against bare AES-CTR + HMAC,
    /// and the SRP join handshake against bare SRP.
    E2e,
    /// Relay: throughput, added latency and memory per member against a
    /// plain forwarder, on loopback.
    Relay,
    /// Control plane: 10,000 unattended agents' control connections held by
    /// one server (memory) and the delay of a "connect" notice, against a
    /// bare WebSocket push server.
    Agents,
    /// Screen codec: bytes per frame, encode and decode time and PSNR per
    /// recorded sequence, against zlib and PNG over the changed rectangles
    /// and against itself without copy detection.
    Codec,
    /// Service desk: create rate, p95 of a filtered list of 50 and of a
    /// full-text search over `--tickets` generated tickets in one tenant
    /// (with noise tenants), on SQLite and, given `--pg-owner`/`--pg-app`,
    /// PostgreSQL; against offset paging and LIKE search on the same data.
    Desk,
    /// The browser's screen decoder (Chromium, through `web/test`) on the
    /// codec's recorded sequences, checked against the Rust reference
    /// decoder and timed against it; needs Node, `web/node_modules` and
    /// Chromium.
    Browser,
    /// Glass to glass at 1920×1080 on a private Xvfb: a painted change
    /// seen in the expert's decoded picture through the agent, the codec,
    /// the end-to-end layer and a relay process, against the same capture
    /// sending raw pixels over loopback TCP.
    Latency,
}

/// TLS trust for a client: the deployment CA for https control planes.
#[derive(Debug, Args, Clone)]
pub struct TrustArgs {
    /// CA certificate (PEM) that signs the control plane's and relays' TLS
    /// certificates (default: none, which allows only loopback http/ws).
    #[arg(long, global = true)]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// ClamAV's clamd socket: received files are also scanned there (the
    /// built-in EICAR check always runs; a file that cannot be scanned is
    /// quarantined, not released).
    #[arg(long, global = true)]
    pub clamd: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Join an attended session with the code or link the expert gave you.
    Join {
        /// The 12-digit code or the whole link.
        code: String,
        /// The control plane (taken from the link when a link is given).
        #[arg(long)]
        server: Option<String>,
        /// Folder files are received into and fetched from.
        #[arg(long, default_value = ".")]
        folder: PathBuf,
    },
    /// Enrol this machine for unattended access (asks for the access
    /// password; only its SRP verifier is stored).
    Enroll {
        /// The control plane.
        #[arg(long)]
        server: String,
        /// The single-use enrolment token from the tenant's administrator.
        #[arg(long)]
        token: String,
        /// Read the access password from this file instead of asking.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Name of the device (default: the host name).
        #[arg(long)]
        name: Option<String>,
        /// `unattended` (experts connect without asking) or `ask`.
        #[arg(long, default_value = "ask")]
        policy: String,
        /// The agent's folder (agent.json).
        #[arg(long, default_value = "/var/lib/fernhand-agent")]
        dir: PathBuf,
    },
    /// Run unattended: keep the control connection and host the sessions
    /// experts open.
    Run {
        /// The agent's folder.
        #[arg(long, default_value = "/var/lib/fernhand-agent")]
        dir: PathBuf,
        /// Folder files are received into and fetched from (default: the
        /// agent's folder's `files`).
        #[arg(long)]
        folder: Option<PathBuf>,
        /// What restarts the machine when an expert with control asks
        /// (empty: refuse). The service comes back at boot and the expert
        /// connects again.
        #[arg(long, default_value = "systemctl reboot")]
        reboot_command: String,
    },
    /// Write a systemd unit that runs `agent run` at boot and restarts it.
    InstallService {
        /// The agent's folder.
        #[arg(long, default_value = "/var/lib/fernhand-agent")]
        dir: PathBuf,
        /// Where to write the unit.
        #[arg(long, default_value = "/etc/systemd/system/fernhand-agent.service")]
        unit: PathBuf,
        /// X display the agent shows and controls.
        #[arg(long, default_value = ":0")]
        display: String,
    },
}

#[derive(Debug, Args)]
pub struct ExpertArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Where the sign-in is kept (default: ~/.config/fernhand/expert.json).
    #[arg(long, global = true, env = "FERNHAND_EXPERT_CONFIG")]
    pub config: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: ExpertCommand,
}

#[derive(Debug, Subcommand)]
pub enum ExpertCommand {
    /// Sign in and keep a scoped API token for the other commands.
    Login {
        /// The control plane.
        #[arg(long)]
        server: String,
        /// Tenant slug.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// E-mail.
        #[arg(long)]
        email: String,
        /// Read the password from this file instead of asking.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// If the server asks for a new password: read it from this file.
        #[arg(long)]
        new_password_file: Option<PathBuf>,
    },
    /// The tenant's unattended devices you may reach.
    Devices,
    /// Sessions.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// Connect to an unattended device, then read connection commands
    /// (see `session new`) from standard input.
    Connect {
        /// The device id (from `devices`).
        #[arg(long)]
        device: String,
        /// Read the device's access password from this file instead of asking.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Where fetched files go.
        #[arg(long, default_value = ".")]
        downloads: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Open an attended session: prints the code and link for the
    /// customer, then reads connection commands from standard input, one
    /// per line: `wait`, `screenshot FILE.png`, `type TEXT`, `key COMBO`,
    /// `click X Y`, `chat TEXT`, `send FILE [NAME]`, `fetch REMOTE`,
    /// `diagnostics`, `chats`, `denied`, `reboot` (unattended), `sleep MS`,
    /// `end`.
    New {
        /// Where fetched files go.
        #[arg(long, default_value = ".")]
        downloads: PathBuf,
    },
}
