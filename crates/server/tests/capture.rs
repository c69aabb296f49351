//! What a relay sees: every byte it receives and sends during a session,
//! recorded on the wire, holds none of the session's chat text, file
//! content, file name or join secret in clear — only envelopes it needs to
//! route.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod support;

use fernhand_protocol::Event;
use fernhand_protocol::message::{FileEnd, FileOffer, Message};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{ALL, Cluster, JOIN_CODE, chat, session, until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy that appends every byte in either direction to `capture`.
async fn recording_proxy(
    target: Arc<Mutex<Option<SocketAddr>>>,
    capture: Arc<Mutex<Vec<u8>>>,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let to = target.lock().unwrap().expect("relay address known");
            let server = TcpStream::connect(to).await.unwrap();
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pump(cr, sw, capture.clone()));
            tokio::spawn(pump(sr, cw, capture.clone()));
        }
    });
    addr
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    capture: Arc<Mutex<Vec<u8>>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        capture.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_sees_no_chat_file_or_secret_in_clear() {
    let target = Arc::new(Mutex::new(None));
    let capture = Arc::new(Mutex::new(Vec::new()));
    let proxy = recording_proxy(target.clone(), capture.clone()).await;
    let real = target.clone();
    let cluster = Cluster::start_with(1, move |_, url| {
        let addr: SocketAddr = url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        *real.lock().unwrap() = Some(addr);
        format!("ws://{proxy}/")
    })
    .await;
    let (session, members) = session(&cluster, 2).await;

    let secret_chat = "The printer password is Tr0ub4dor&3, do not share";
    let file: Vec<u8> = (0..2000)
        .flat_map(|i| {
            format!("CONFIDENTIAL PAYROLL ROW {i:05}: Jane Doe IBAN DE89370400440532013000\n")
                .into_bytes()
        })
        .collect();
    members[1].send(ALL, chat(secret_chat));
    members[0].send(
        ALL,
        Message::FileOffer(FileOffer {
            id: 1,
            name: "payroll-2026.xlsx".into(),
            size: file.len() as u64,
        }),
    );
    for (i, chunk) in file.chunks(16 * 1024).enumerate() {
        members[0].send(
            ALL,
            Message::FileChunk {
                id: 1,
                offset: (i * 16 * 1024) as u64,
                data: chunk.to_vec(),
            },
        );
    }
    members[0].send(
        ALL,
        Message::FileEnd(FileEnd {
            id: 1,
            sha256: String::new(),
        }),
    );
    until(Duration::from_secs(30), "the file at both viewers", || {
        members[1..].iter().all(|m| {
            m.events().iter().any(|e| {
                matches!(
                    e,
                    Event::Received {
                        message: Message::FileEnd(_),
                        ..
                    }
                )
            })
        })
    })
    .await;
    until(Duration::from_secs(10), "the chat at the presenter", || {
        members[0].events().iter().any(|e| matches!(e, Event::Received { message: Message::Chat(c), .. } if c.text == secret_chat))
    })
    .await;

    let wire = capture.lock().unwrap().clone();
    // The capture is real: it carries the traffic (compressed before
    // encryption, so smaller than the file) and the envelopes' session id.
    assert!(wire.len() > 20_000, "captured {} bytes", wire.len());
    assert!(
        contains(&wire, session.as_bytes()),
        "envelopes are visible to the relay, as designed"
    );
    // None of the content is.
    assert!(!contains(&wire, secret_chat.as_bytes()));
    assert!(!contains(&wire, b"Tr0ub4dor&3"));
    assert!(!contains(&wire, b"payroll-2026.xlsx"));
    assert!(!contains(&wire, b"CONFIDENTIAL"));
    assert!(!contains(&wire, b"DE89370400440532013000"));
    for window in file.chunks(4096).map(|c| &c[..24]) {
        assert!(!contains(&wire, window));
    }
    // Nor the join code's secret half (the locator half may appear: the
    // control plane knows it anyway).
    assert!(!contains(&wire, &JOIN_CODE.as_bytes()[6..]));
    assert!(!contains(&wire, JOIN_CODE.as_bytes()));
}
