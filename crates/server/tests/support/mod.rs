//! A whole deployment on loopback for integration tests: a deployment CA, a
//! broker (relay links over mutual TLS, HTTP for members), relays registered
//! with it, and session members built on `fernhand-e2e` and
//! `fernhand-protocol` that follow their session from relay to relay.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use fernhand_client::broker::BrokerClient;
use fernhand_client::runtime::{Session, SessionEvent};
use fernhand_e2e::{JoinCode, Policy, Suite, Verifier, VerifierStore};
use fernhand_pki::{Ca, Usage};
use fernhand_protocol::broker_link::relay_identity_name;
use fernhand_protocol::message::Message;
use fernhand_protocol::ticket::Role;
use fernhand_protocol::{
    ALL_MEMBERS, Endpoint, EndpointConfig, Event, MemberId, RelayId, SessionId, TenantId,
};
use fernhand_relay::{RegisteredRelay, Registration, RelayConfig};
use fernhand_server::app::metrics::ServerMetrics;
use fernhand_server::broker::{Broker, BrokerConfig};
use fernhand_server::security_log::SecurityLog;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub struct Cluster {
    pub ca: Ca,
    pub broker: Arc<Broker>,
    pub broker_http: String,
    pub link_url: String,
    pub relays: Vec<(RelayId, Option<RegisteredRelay>)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Cluster {
    pub async fn start(relays: usize) -> Cluster {
        Cluster::start_with(relays, |_, url| url).await
    }

    /// `advertise` maps (relay index, its real URL) to the URL members are
    /// told (a recording proxy, say).
    pub async fn start_with(relays: usize, advertise: impl Fn(usize, String) -> String) -> Cluster {
        let ca = Ca::create("Test deployment CA").unwrap();
        let config = BrokerConfig {
            heartbeat: Duration::from_millis(200),
            ..BrokerConfig::default()
        };
        let dir = std::env::temp_dir().join(format!(
            "fernhand-cluster-{}",
            fernhand_store::new_id().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = fernhand_store::Store::embedded(&dir.join("store.db"))
            .await
            .unwrap();
        let security = SecurityLog::new(store.clone(), None, Arc::new(ServerMetrics::new(false)));
        let broker =
            Broker::new(SigningKey::from_bytes(&[11u8; 32]), config, store, security).unwrap();
        let mut tasks = Vec::new();

        // Relay links: mutual TLS with the deployment CA.
        let control = ca
            .issue("control", &["127.0.0.1".into()], Usage::Server)
            .unwrap();
        let mtls =
            fernhand_pki::server_config(&control.chain_pem, &control.key_pem, Some(ca.cert_pem()))
                .unwrap();
        let link_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let link_url = format!(
            "wss://127.0.0.1:{}/",
            link_listener.local_addr().unwrap().port()
        );
        tasks.push(tokio::spawn(
            fernhand_server::broker::relay_link::serve_relay_links(
                link_listener,
                Arc::new(mtls),
                broker.clone(),
            ),
        ));
        // Member-facing HTTP (plain on loopback).
        let http_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let broker_http = format!("http://{}", http_listener.local_addr().unwrap());
        let router = fernhand_server::broker::http::router(broker.clone());
        tasks.push(tokio::spawn(async move {
            axum::serve(http_listener, router).await.unwrap();
        }));
        let ticking = broker.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                ticking.tick().await.unwrap();
            }
        }));

        let mut cluster = Cluster {
            ca,
            broker,
            broker_http,
            link_url,
            relays: Vec::new(),
            tasks,
        };
        for i in 0..relays {
            cluster.add_relay(i, &advertise).await;
        }
        cluster
    }

    async fn add_relay(&mut self, index: usize, advertise: &impl Fn(usize, String) -> String) {
        let id = RelayId::random().unwrap();
        let cert = self
            .ca
            .issue(
                &format!("relay {index}"),
                &["127.0.0.1".into(), relay_identity_name(id)],
                Usage::ServerAndClient,
            )
            .unwrap();
        let tls = Arc::new(
            fernhand_pki::client_config(self.ca.cert_pem(), Some((&cert.chain_pem, &cert.key_pem)))
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = advertise(index, format!("ws://{}/", listener.local_addr().unwrap()));
        let config = RelayConfig::new(id, SigningKey::from_bytes(&[0u8; 32]).verifying_key());
        let relay = RegisteredRelay::start(
            listener,
            config,
            self.link_url.clone(),
            tls,
            Registration {
                relay: id,
                region: "eu-west".into(),
                url,
                capacity: 1000,
            },
        )
        .await
        .unwrap();
        self.relays.push((id, Some(relay)));
    }

    /// Kill (as a crash) the relay with this id.
    pub fn kill(&mut self, id: RelayId) {
        for (rid, relay) in self.relays.iter_mut() {
            if *rid == id {
                relay.take().expect("relay alive").kill();
            }
        }
    }

    pub async fn grant(&self, session: SessionId, member: u32, role: Role) -> String {
        self.broker
            .grant(
                TenantId([1; 16]),
                session,
                MemberId(member),
                role,
                Some("eu-west"),
                Duration::from_secs(3600),
            )
            .await
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for (_, r) in self.relays.iter_mut() {
            if let Some(r) = r.take() {
                r.kill();
            }
        }
    }
}

/// What a test asks a member to do.
pub enum Command {
    Send(MemberId, Message),
}

/// What a member saw, with when.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub event: Event,
}

/// A running member.
pub struct MemberTask {
    pub id: MemberId,
    pub commands: mpsc::UnboundedSender<Command>,
    /// Messages handed to the member task and not yet to the session.
    pub queued: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// (when, relay) of every reconnection.
    pub moves: Arc<Mutex<Vec<(Instant, RelayId, bool)>>>,
    /// Bytes of sealed frames still unacknowledged end to end (sender side).
    pub unacked: Arc<Mutex<usize>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl MemberTask {
    pub fn events(&self) -> Vec<Event> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.event.clone())
            .collect()
    }

    pub fn send(&self, to: u32, m: Message) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        let _ = self.commands.send(Command::Send(MemberId(to), m));
    }

    pub fn relay(&self) -> Option<RelayId> {
        self.moves.lock().unwrap().last().map(|(_, r, _)| *r)
    }

    pub fn keyed(&self) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, Event::Keyed { .. }))
    }
}

pub const JOIN_CODE: &str = "482193650271";
pub const SUITE: Suite = Suite::Srp3072Aes256HmacSha256;

pub fn leader_endpoint(session: SessionId) -> Endpoint {
    let code = JoinCode::parse(JOIN_CODE).unwrap();
    let policy = Policy::only(&[SUITE]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, &code.identity(), code.secret()).unwrap());
    Endpoint::leader(
        session,
        MemberId(1),
        SUITE,
        store,
        EndpointConfig::default(),
    )
    .unwrap()
}

pub fn viewer_endpoint(session: SessionId, id: u32) -> Endpoint {
    let code = JoinCode::parse(JOIN_CODE).unwrap();
    Endpoint::joiner(
        session,
        MemberId(id),
        MemberId(1),
        Policy::only(&[SUITE]),
        &code.identity(),
        code.secret(),
        EndpointConfig::default(),
    )
    .unwrap()
}

/// Run `endpoint` in the product's session runtime, recording what it sees.
pub async fn spawn_member(cluster: &Cluster, endpoint: Endpoint, grant: String) -> MemberTask {
    let client = BrokerClient::new(&cluster.broker_http, grant, None).unwrap();
    let mut session = Session::start(endpoint, client, None).await.unwrap();
    let id = session.id();
    let (commands, mut rx) = mpsc::unbounded_channel();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let moves = Arc::new(Mutex::new(Vec::new()));
    let unacked = Arc::new(Mutex::new(0usize));
    let sender = session.sender();
    // Sending waits on the reliable window: its own task, so events are
    // recorded when they happen.
    let sending = sender.clone();
    let pending = Arc::new(AtomicUsize::new(0));
    let queued = pending.clone();
    tokio::spawn(async move {
        while let Some(Command::Send(to, m)) = rx.recv().await {
            sending.send(to, m).await.unwrap();
            queued.fetch_sub(1, Ordering::Relaxed);
        }
    });
    let (seen2, moves2, unacked2) = (seen.clone(), moves.clone(), unacked.clone());
    let in_queue = pending.clone();
    let task = tokio::spawn(async move {
        loop {
            let event = tokio::time::timeout(Duration::from_millis(50), session.next_event()).await;
            *unacked2.lock().unwrap() = sender.unacked_bytes() + in_queue.load(Ordering::Relaxed);
            let event = match event {
                Err(_) => continue,
                Ok(None) => return,
                Ok(Some(e)) => e,
            };
            match event {
                SessionEvent::Connected { relay } => {
                    moves2.lock().unwrap().push((Instant::now(), relay, false));
                }
                SessionEvent::Moved { relay, resumed } => {
                    moves2
                        .lock()
                        .unwrap()
                        .push((Instant::now(), relay, resumed));
                }
                SessionEvent::Protocol(event) => seen2.lock().unwrap().push(Seen {
                    at: Instant::now(),
                    event,
                }),
                SessionEvent::Closed(e) => panic!("member {} lost its session: {e}", id.0),
            }
        }
    });
    MemberTask {
        id,
        commands,
        queued: pending,
        seen,
        moves,
        unacked,
        task,
    }
}

/// Wait until `check` holds, polling.
pub async fn until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A session of a leader and `viewers` viewers, all joined and keyed.
pub async fn session(cluster: &Cluster, viewers: u32) -> (SessionId, Vec<MemberTask>) {
    let session = SessionId::random().unwrap();
    let mut members = vec![
        spawn_member(
            cluster,
            leader_endpoint(session),
            cluster.grant(session, 1, Role::Leader).await,
        )
        .await,
    ];
    for v in 0..viewers {
        let id = 2 + v;
        let m = spawn_member(
            cluster,
            viewer_endpoint(session, id),
            cluster.grant(session, id, Role::Viewer).await,
        )
        .await;
        until(Duration::from_secs(20), "viewer keyed", || m.keyed()).await;
        members.push(m);
    }
    let expected = viewers as usize + 1;
    for m in &members[1..] {
        until(Duration::from_secs(20), "full roster", || {
            m.events()
                .iter()
                .any(|e| matches!(e, Event::Roster(r) if r.members.len() == expected))
        })
        .await;
    }
    (session, members)
}

/// A chat message.
pub fn chat(text: &str) -> Message {
    Message::Chat(fernhand_protocol::message::Chat {
        text: text.to_owned(),
    })
}

/// Everyone gets it.
pub const ALL: u32 = ALL_MEMBERS.0;
