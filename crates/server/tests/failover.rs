//! Two relays and a broker on loopback; a presenter and three viewers. The
//! relay carrying the session dies in the middle of a chat and a 50 MiB file
//! transfer: the session continues on the other relay within 5 s, the file's
//! SHA-256 matches, and every chat message arrives exactly once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod support;

use fernhand_protocol::message::{FileEnd, FileOffer, MAX_FILE_CHUNK, Message};
use fernhand_protocol::{Event, MemberId};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use support::{ALL, Cluster, chat, session, until};

const FILE_SIZE: usize = 50 * 1024 * 1024;

fn file_bytes() -> Vec<u8> {
    // Incompressible, reproducible content.
    let mut out = Vec::with_capacity(FILE_SIZE);
    let mut block = Sha256::digest(b"fernhand failover test file").to_vec();
    while out.len() < FILE_SIZE {
        block = Sha256::digest(&block).to_vec();
        out.extend_from_slice(&block);
    }
    out.truncate(FILE_SIZE);
    out
}

/// Progress of the file at one viewer: bytes in order, and its hash so far.
fn received_file(events: &[Event]) -> (usize, Sha256, Option<String>) {
    let mut hasher = Sha256::new();
    let mut len = 0usize;
    let mut announced = None;
    for e in events {
        if let Event::Received { message, .. } = e {
            match message {
                Message::FileChunk {
                    id: 7,
                    offset,
                    data,
                } => {
                    assert_eq!(*offset as usize, len, "chunks arrive in order, each once");
                    hasher.update(data);
                    len += data.len();
                }
                Message::FileEnd(end) if end.id == 7 => announced = Some(end.sha256.clone()),
                _ => {}
            }
        }
    }
    (len, hasher, announced)
}

fn chats(events: &[Event]) -> Vec<(MemberId, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Received {
                from,
                message: Message::Chat(c),
            } => Some((*from, c.text.clone())),
            _ => None,
        })
        .collect()
}

/// The chat lines member `me` should receive: the presenter's (one per 100
/// chunks) and each viewer's 20, not its own.
fn expected_chats(me: MemberId) -> Vec<(MemberId, String)> {
    let mut expected = Vec::new();
    if me.0 != 1 {
        expected.extend(
            (0..800)
                .step_by(100)
                .map(|i| (MemberId(1), format!("presenter {i}"))),
        );
    }
    for k in 1..=3u32 {
        if k + 1 != me.0 {
            expected.extend((0..20).map(|i| (MemberId(k + 1), format!("viewer {k} line {i}"))));
        }
    }
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_relay_mid_transfer_moves_the_session_and_loses_nothing() {
    let mut cluster = Cluster::start(2).await;
    let (_session, members) = session(&cluster, 3).await;
    let before = members[0].relay().unwrap();
    assert!(
        members.iter().all(|m| m.relay() == Some(before)),
        "one session, one relay"
    );

    // The presenter sends a 50 MiB file; everyone chats.
    let file = file_bytes();
    let digest = hex::encode(Sha256::digest(&file));
    members[0].send(
        ALL,
        Message::FileOffer(FileOffer {
            id: 7,
            name: "disk.img".into(),
            size: FILE_SIZE as u64,
        }),
    );
    for (i, chunk) in file.chunks(MAX_FILE_CHUNK).enumerate() {
        members[0].send(
            ALL,
            Message::FileChunk {
                id: 7,
                offset: (i * MAX_FILE_CHUNK) as u64,
                data: chunk.to_vec(),
            },
        );
        if i % 100 == 0 {
            members[0].send(ALL, chat(&format!("presenter {i}")));
        }
    }
    members[0].send(
        ALL,
        Message::FileEnd(FileEnd {
            id: 7,
            sha256: digest.clone(),
        }),
    );
    for (k, m) in members.iter().enumerate().skip(1) {
        for i in 0..20 {
            m.send(ALL, chat(&format!("viewer {k} line {i}")));
        }
    }

    // Kill the relay once a viewer has about a third of the file.
    until(Duration::from_secs(60), "a third of the file", || {
        received_file(&members[1].events()).0 > FILE_SIZE / 3
    })
    .await;
    let killed_at = Instant::now();
    cluster.kill(before);

    // Everyone moves to the other relay within 5 s.
    until(
        Duration::from_secs(10),
        "everyone on the other relay",
        || {
            members
                .iter()
                .all(|m| m.relay().is_some_and(|r| r != before))
        },
    )
    .await;
    for m in &members {
        let moved = m
            .moves
            .lock()
            .unwrap()
            .iter()
            .find(|(_, r, _)| *r != before)
            .map(|(t, _, _)| *t)
            .unwrap();
        let took = moved.duration_since(killed_at);
        eprintln!(
            "member {} moved to the other relay {took:?} after the kill",
            m.id.0
        );
        assert!(
            took < Duration::from_secs(5),
            "member {} took {took:?} to move",
            m.id.0
        );
    }
    // The transfer continues there: new chunks arrive within 5 s of the kill.
    let progress_at_kill = received_file(&members[2].events()).0;
    until(Duration::from_secs(5), "the transfer to continue", || {
        received_file(&members[2].events()).0 > progress_at_kill + 4 * MAX_FILE_CHUNK
    })
    .await;

    // Everything arrives: the file intact, every chat exactly once, in order.
    for v in &members[1..] {
        until(Duration::from_secs(120), "the whole file", || {
            received_file(&v.events()).2.is_some()
        })
        .await;
        let (len, hasher, announced) = received_file(&v.events());
        assert_eq!(len, FILE_SIZE, "viewer {}", v.id.0);
        assert_eq!(hex::encode(hasher.finalize()), digest, "viewer {}", v.id.0);
        assert_eq!(announced.as_deref(), Some(digest.as_str()));
    }
    for m in &members {
        let want = expected_chats(m.id).len();
        until(Duration::from_secs(30), "all chats", || {
            chats(&m.events()).len() >= want
        })
        .await;
    }
    for m in &members {
        let got = chats(&m.events());
        let expected = expected_chats(m.id);
        for (from, text) in &expected {
            assert_eq!(
                got.iter().filter(|(f, t)| f == from && t == text).count(),
                1,
                "member {} got {text:?} exactly once",
                m.id.0
            );
        }
        assert_eq!(
            got.len(),
            expected.len(),
            "member {}: nothing extra",
            m.id.0
        );
        // Per sender, in order.
        for k in 1..=4u32 {
            let from_k: Vec<&String> = got
                .iter()
                .filter(|(f, _)| f.0 == k)
                .map(|(_, t)| t)
                .collect();
            let want: Vec<&String> = expected
                .iter()
                .filter(|(f, _)| f.0 == k)
                .map(|(_, t)| t)
                .collect();
            assert_eq!(
                from_k, want,
                "member {} sees member {k}'s chat in order",
                m.id.0
            );
        }
    }
    // The presenter's buffers drain: every viewer acknowledged everything.
    until(Duration::from_secs(30), "acknowledgements", || {
        *members[0].unacked.lock().unwrap() == 0
    })
    .await;
}
