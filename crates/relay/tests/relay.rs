//! A real relay on loopback, real WebSocket clients: admission, forwarding,
//! every refusal with its close code and security-log event, limits, resume,
//! back-pressure, metrics, and TLS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use bytes::Bytes;
use ed25519_dalek::SigningKey;
use fernhand_pki::{Ca, Usage};
use fernhand_protocol::frame::{CloseCode, Envelope, PayloadKind, TrafficClass};
use fernhand_protocol::ticket::{Role, Ticket};
use fernhand_protocol::{MemberId, RelayId, SessionId, TenantId};
use fernhand_relay::{ClientError, Limits, RelayClient, RelayConfig, RelayHandle};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const RELAY: RelayId = RelayId([1; 16]);
const SESSION: SessionId = SessionId([2; 16]);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ticket(session: SessionId, member: u32, relay: RelayId, valid_for: i64) -> Vec<u8> {
    let now = now() as i64;
    Ticket {
        tenant: TenantId([3; 16]),
        session,
        relay,
        member: MemberId(member),
        role: Role::Customer,
        not_before: (now - 60) as u64,
        not_after: (now + valid_for) as u64,
        nonce: [member as u8; 8],
    }
    .sign(&key())
}

fn good(member: u32) -> Vec<u8> {
    ticket(SESSION, member, RELAY, 300)
}

async fn relay(limits: Limits) -> RelayHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = RelayConfig::new(RELAY, key().verifying_key());
    config.limits = limits;
    fernhand_relay::start(listener, config).unwrap()
}

fn url(r: &RelayHandle) -> String {
    format!("ws://{}/", r.addr)
}

fn data(sender: u32, target: u32, class: TrafficClass, payload: &[u8]) -> Vec<u8> {
    Envelope {
        class,
        kind: PayloadKind::Sealed,
        session: SESSION,
        sender: MemberId(sender),
        target: MemberId(target),
    }
    .frame(payload)
}

async fn recv(c: &mut RelayClient) -> Bytes {
    tokio::time::timeout(Duration::from_secs(5), c.recv())
        .await
        .expect("frame in time")
        .unwrap()
}

async fn refused(result: Result<RelayClient, ClientError>) -> CloseCode {
    match result {
        Err(ClientError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn frames_are_forwarded_verbatim_to_all_or_one() {
    let r = relay(Limits::default()).await;
    let mut a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let mut b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    let mut c = RelayClient::connect(&url(&r), None, good(3)).await.unwrap();
    assert_eq!(b.member(), MemberId(2));
    let to_all = data(1, 0, TrafficClass::Reliable, b"hello everyone");
    a.send(to_all.clone()).await.unwrap();
    assert_eq!(recv(&mut b).await, to_all);
    assert_eq!(recv(&mut c).await, to_all);
    let to_c = data(2, 3, TrafficClass::LatestWins, b"just for three");
    b.send(to_c.clone()).await.unwrap();
    assert_eq!(recv(&mut c).await, to_c);
    assert_eq!(r.counts(), (1, 3));
}

#[tokio::test]
async fn every_bad_admission_is_refused_logged_and_counted() {
    let r = relay(Limits::default()).await;
    let u = url(&r);
    assert_eq!(
        refused(RelayClient::connect(&u, None, b"not a ticket".to_vec()).await).await,
        CloseCode::BadTicket
    );
    let mut forged = good(1);
    forged[40] ^= 1;
    assert_eq!(
        refused(RelayClient::connect(&u, None, forged).await).await,
        CloseCode::BadTicket
    );
    let other_key = SigningKey::from_bytes(&[8u8; 32]);
    let foreign = Ticket {
        tenant: TenantId([3; 16]),
        session: SESSION,
        relay: RELAY,
        member: MemberId(1),
        role: Role::Leader,
        not_before: now() - 10,
        not_after: now() + 100,
        nonce: [0; 8],
    }
    .sign(&other_key);
    assert_eq!(
        refused(RelayClient::connect(&u, None, foreign).await).await,
        CloseCode::BadTicket
    );
    assert_eq!(
        refused(RelayClient::connect(&u, None, ticket(SESSION, 1, RELAY, -120)).await).await,
        CloseCode::ExpiredTicket
    );
    assert_eq!(
        refused(RelayClient::connect(&u, None, ticket(SESSION, 1, RelayId([9; 16]), 300)).await)
            .await,
        CloseCode::WrongRelay
    );
    let reasons: Vec<&str> = r.security.recent().iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        [
            "bad_ticket",
            "bad_ticket",
            "bad_ticket",
            "expired_ticket",
            "wrong_relay"
        ]
    );
    assert!(
        r.security
            .recent()
            .iter()
            .all(|e| e.peer.is_some_and(|p| p.is_loopback()))
    );
    assert_eq!(r.metrics.refusals_for("bad_ticket"), 3);
    assert_eq!(r.counts(), (0, 0));
}

#[tokio::test]
async fn a_ticket_for_another_session_cannot_speak_in_this_one() {
    let r = relay(Limits::default()).await;
    let mut victim = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let other = SessionId([5; 16]);
    let mut intruder = RelayClient::connect(&url(&r), None, ticket(other, 9, RELAY, 300))
        .await
        .unwrap();
    // The intruder forges an envelope naming the victim's session.
    intruder
        .send(data(9, 0, TrafficClass::Reliable, b"let me in"))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), intruder.recv())
        .await
        .unwrap()
    {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, CloseCode::WrongIdentity),
        other => panic!("expected WrongIdentity, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), victim.recv())
            .await
            .is_err(),
        "nothing reached the victim"
    );
    assert!(
        r.security
            .recent()
            .iter()
            .any(|e| e.reason == "wrong_identity")
    );
}

#[tokio::test]
async fn silence_after_connecting_times_out_and_is_logged() {
    let limits = Limits {
        handshake_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let r = relay(limits).await;
    let mut tcp = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "the relay hung up");
    assert!(
        r.security
            .recent()
            .iter()
            .any(|e| e.reason == "handshake_timeout")
    );
}

#[tokio::test]
async fn connections_per_address_are_limited() {
    let limits = Limits {
        max_connections_per_ip: 2,
        ..Limits::default()
    };
    let r = relay(limits).await;
    let _a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let _b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    assert!(RelayClient::connect(&url(&r), None, good(3)).await.is_err());
    assert!(
        r.security
            .recent()
            .iter()
            .any(|e| e.reason == "too_many_connections")
    );
}

#[tokio::test]
async fn oversized_frames_close_the_connection() {
    let limits = Limits {
        max_frame_bytes: 4096,
        ..Limits::default()
    };
    let r = relay(limits).await;
    let mut a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let _b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    a.send(data(1, 0, TrafficClass::Reliable, &vec![0u8; 10_000]))
        .await
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), a.recv())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Refused {
                code: CloseCode::FrameTooLarge,
                ..
            } | ClientError::Lost(_)
        ),
        "{err:?}"
    );
    assert!(
        r.security
            .recent()
            .iter()
            .any(|e| e.reason == "frame_too_large")
    );
}

#[tokio::test]
async fn sessions_are_limited_in_members() {
    let limits = Limits {
        max_members_per_session: 2,
        ..Limits::default()
    };
    let r = relay(limits).await;
    let _a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let _b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    assert_eq!(
        refused(RelayClient::connect(&url(&r), None, good(3)).await).await,
        CloseCode::SessionFull
    );
}

#[tokio::test]
async fn a_dropped_connection_resumes_without_losing_or_repeating_frames() {
    let r = relay(Limits::default()).await;
    let mut a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let mut b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    for i in 0..10u8 {
        a.send(data(1, 2, TrafficClass::Reliable, &[i]))
            .await
            .unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(recv(&mut b).await[32]);
    }
    b.sever().await;
    // While it is gone, more is sent to it.
    for i in 10..20u8 {
        a.send(data(1, 2, TrafficClass::Reliable, &[i]))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(b.resume().await.unwrap(), "state was kept");
    while got.len() < 20 {
        got.push(recv(&mut b).await[32]);
    }
    assert_eq!(got, (0..20).collect::<Vec<u8>>());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), b.recv())
            .await
            .is_err(),
        "no duplicates"
    );
    // The sender side resumes too: frames it sent while cut off are not lost.
    a.sever().await;
    a.send(data(1, 2, TrafficClass::Reliable, b"during"))
        .await
        .ok();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(a.resume().await.unwrap());
    a.send(data(1, 2, TrafficClass::Reliable, b"after"))
        .await
        .unwrap();
    let mut tail = Vec::new();
    while tail.len() < 2 {
        tail.push(recv(&mut b).await.slice(32..));
    }
    assert_eq!(
        tail,
        vec![Bytes::from_static(b"during"), Bytes::from_static(b"after")]
    );
}

#[tokio::test]
async fn a_slow_viewer_does_not_slow_the_others_and_is_cut_off_when_too_far_behind() {
    let limits = Limits {
        max_reliable_buffer_bytes: 2 * 1024 * 1024,
        latest_wins_skip_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let r = relay(limits).await;
    let mut presenter = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let mut fast = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    let mut slow = RelayClient::connect(&url(&r), None, good(3)).await.unwrap();
    // The fast viewer reads screen updates until the end marker.
    let reader = tokio::spawn(async move {
        let mut frames = 0;
        loop {
            let f = fast.recv().await.unwrap();
            if f.ends_with(b"end") {
                return frames;
            }
            frames += 1;
        }
    });
    // The slow viewer reads nothing at all. The presenter is not held back.
    let update = data(1, 0, TrafficClass::LatestWins, &vec![1u8; 32 * 1024]);
    let sending = tokio::time::timeout(Duration::from_secs(10), async {
        for _ in 0..400 {
            presenter.send(update.clone()).await.unwrap();
        }
        presenter
            .send(data(1, 2, TrafficClass::Reliable, b"end"))
            .await
            .unwrap();
    });
    sending.await.expect("the presenter was not slowed down");
    let received = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(
        received >= 200,
        "the fast viewer kept up: {received} of 400"
    );
    let skipped: u64 = r
        .metrics
        .render()
        .lines()
        .filter(|l| l.starts_with("fernhand_relay_drops_total{reason=\"slow_member_latest_wins\"}"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        skipped >= 100,
        "updates were skipped for the slow viewer: {skipped}"
    );
    // Reliable traffic beyond its bound gets the slow viewer disconnected.
    let big = data(1, 3, TrafficClass::Reliable, &vec![2u8; 256 * 1024]);
    for _ in 0..16 {
        presenter.send(big.clone()).await.unwrap();
    }
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.recv().await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .unwrap();
    assert!(
        matches!(
            outcome,
            ClientError::Refused {
                code: CloseCode::TooSlow,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(r.security.recent().iter().any(|e| e.reason == "too_slow"));
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text() {
    let r = relay(Limits::default()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(fernhand_relay::server::serve_metrics(
        listener,
        r.metrics.clone(),
    ));
    let mut a = RelayClient::connect(&url(&r), None, good(1)).await.unwrap();
    let mut b = RelayClient::connect(&url(&r), None, good(2)).await.unwrap();
    a.send(data(1, 0, TrafficClass::Reliable, b"x"))
        .await
        .unwrap();
    recv(&mut b).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 200 OK"));
    for metric in [
        "fernhand_relay_sessions 1",
        "fernhand_relay_members_connected 2",
        "fernhand_relay_frames_in_total",
        "fernhand_relay_bytes_out_total",
        "fernhand_relay_buffer_bytes",
    ] {
        assert!(body.contains(metric), "missing {metric} in\n{body}");
    }
}

#[tokio::test]
async fn members_connect_over_tls_with_the_deployment_ca() {
    let ca = Ca::create("Test CA").unwrap();
    let cert = ca
        .issue("relay", &["127.0.0.1".into()], Usage::Server)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = RelayConfig::new(RELAY, key().verifying_key());
    config.tls = Some(Arc::new(
        fernhand_pki::server_config(&cert.chain_pem, &cert.key_pem, None).unwrap(),
    ));
    let r = fernhand_relay::start(listener, config).unwrap();
    let tls = Arc::new(fernhand_pki::client_config(ca.cert_pem(), None).unwrap());
    let u = format!("wss://127.0.0.1:{}/", r.addr.port());
    let mut a = RelayClient::connect(&u, Some(tls.clone()), good(1))
        .await
        .unwrap();
    let mut b = RelayClient::connect(&u, Some(tls), good(2)).await.unwrap();
    a.send(data(1, 2, TrafficClass::Reliable, b"over tls"))
        .await
        .unwrap();
    assert!(recv(&mut b).await.ends_with(b"over tls"));
    // A client that does not trust the deployment CA is not fooled.
    let other = Ca::create("Other").unwrap();
    let wrong = Arc::new(fernhand_pki::client_config(other.cert_pem(), None).unwrap());
    assert!(
        RelayClient::connect(&u, Some(wrong), good(3))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn plain_websocket_is_refused_off_loopback() {
    let listener = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let config = RelayConfig::new(RELAY, key().verifying_key());
    assert!(fernhand_relay::start(listener, config).is_err());
}
