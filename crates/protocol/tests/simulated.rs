//! Whole sessions over a simulated relay: deterministic, replayable from a
//! seed, with loss, reordering of in-flight frames, and relay failure (every
//! frame in flight lost, everyone resyncs) — the way `quinn-proto` tests two
//! endpoints without sockets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::panic
)]

use fernhand_e2e::{Policy, Suite, Verifier, VerifierStore};
use fernhand_protocol::frame::{Frame, TrafficClass};
use fernhand_protocol::message::{Chat, FileEnd, FileOffer, Message};
use fernhand_protocol::{
    ALL_MEMBERS, Endpoint, EndpointConfig, Event, JoinRefusal, MemberId, SessionId,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

const SUITE: Suite = Suite::ClassicSrp1024Aes128HmacSha1;
const SECRET: &[u8] = b"789012";

/// xorshift64*: a tiny deterministic generator for the network's choices.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

struct Net {
    nodes: BTreeMap<u32, Endpoint>,
    in_flight: VecDeque<(u32, Vec<u8>)>,
    rng: Rng,
    now: Instant,
    /// Per mille of sealed data frames lost.
    loss: u64,
    /// Per mille chance a frame is delivered after the next one.
    reorder: u64,
    events: BTreeMap<u32, Vec<Event>>,
}

impl Net {
    fn new(seed: u64) -> Net {
        Net {
            nodes: BTreeMap::new(),
            in_flight: VecDeque::new(),
            rng: Rng(seed.max(1)),
            now: Instant::now(),
            loss: 0,
            reorder: 0,
            events: BTreeMap::new(),
        }
    }

    /// Route what every endpoint wants to send, the way a relay does.
    fn collect(&mut self) {
        for (id, node) in self.nodes.iter_mut() {
            while let Some(frame) = node.poll_transmit() {
                let Ok(Frame::Data { envelope, .. }) = Frame::parse(&frame) else {
                    panic!("endpoint sent a non-data frame");
                };
                assert_eq!(envelope.sender.0, *id, "endpoints send as themselves");
                let targets: Vec<u32> = if envelope.target == ALL_MEMBERS {
                    self.events.keys().copied().filter(|t| t != id).collect()
                } else {
                    vec![envelope.target.0]
                };
                for t in targets {
                    self.in_flight.push_back((t, frame.clone()));
                }
            }
        }
    }

    /// Deliver frames until nothing moves. Returns how many were delivered.
    fn run(&mut self, max_steps: usize) -> usize {
        let mut delivered = 0;
        for _ in 0..max_steps {
            self.collect();
            let Some((to, frame)) = self.in_flight.pop_front() else {
                // Quiet: let timers fire, then see if anything new is sent.
                self.now += Duration::from_millis(60);
                let now = self.now;
                for node in self.nodes.values_mut() {
                    node.handle_timeout(now);
                }
                self.collect();
                if self.in_flight.is_empty() {
                    break;
                }
                continue;
            };
            if self.rng.chance(self.reorder) && !self.in_flight.is_empty() {
                self.in_flight.insert(1, (to, frame));
                continue;
            }
            let sealed = matches!(
                Frame::parse(&frame),
                Ok(Frame::Data { envelope, .. }) if envelope.kind == fernhand_protocol::frame::PayloadKind::Sealed
                    && envelope.class == TrafficClass::Reliable
            );
            if sealed && self.rng.chance(self.loss) {
                continue;
            }
            self.now += Duration::from_micros(100);
            let now = self.now;
            if let Some(node) = self.nodes.get_mut(&to) {
                node.handle_frame(&frame, now);
                while let Some(e) = node.poll_event() {
                    self.events.entry(to).or_default().push(e);
                }
                delivered += 1;
            }
        }
        delivered
    }

    /// The relay dies: everything in flight is lost; members reconnect
    /// elsewhere and resync.
    fn fail_relay(&mut self) {
        self.collect();
        self.in_flight.clear();
        self.now += Duration::from_millis(500);
        let now = self.now;
        for node in self.nodes.values_mut() {
            node.resync(now);
        }
    }

    /// The relay dies and member `late` reaches the new one after the
    /// others: their resync requests are lost for it.
    fn fail_relay_late(&mut self, late: u32) {
        self.collect();
        self.in_flight.clear();
        self.now += Duration::from_millis(500);
        let now = self.now;
        for (id, node) in self.nodes.iter_mut() {
            if *id != late {
                node.resync(now);
            }
        }
        self.collect();
        self.in_flight.retain(|(to, _)| *to != late);
        self.now += Duration::from_millis(100);
        let now = self.now;
        if let Some(node) = self.nodes.get_mut(&late) {
            node.resync(now);
        }
    }

    fn received(&self, id: u32) -> Vec<(MemberId, Message)> {
        self.events
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|e| match e {
                Event::Received { from, message } => Some((*from, message.clone())),
                _ => None,
            })
            .collect()
    }
}

fn session(seed: u64, members: u32) -> Net {
    let mut net = Net::new(seed);
    let session = SessionId([7; 16]);
    let policy = Policy::only(&[SUITE]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:123456", SECRET).unwrap());
    let leader = Endpoint::leader(
        session,
        MemberId(1),
        SUITE,
        store,
        EndpointConfig::default(),
    )
    .unwrap();
    net.nodes.insert(1, leader);
    net.events.insert(1, Vec::new());
    for i in 0..members {
        let id = 2 + i;
        let joiner = Endpoint::joiner(
            session,
            MemberId(id),
            MemberId(1),
            policy.clone(),
            b"code:123456",
            SECRET,
            EndpointConfig::default(),
        )
        .unwrap();
        net.nodes.insert(id, joiner);
        net.events.insert(id, Vec::new());
        net.run(10_000);
    }
    for id in 2..2 + members {
        assert!(
            net.events[&id]
                .iter()
                .any(|e| matches!(e, Event::Keyed { .. })),
            "member {id} got a key"
        );
    }
    net
}

fn chat(text: &str) -> Message {
    Message::Chat(Chat {
        text: text.to_owned(),
    })
}

/// Send `data` from `from` to everyone, as offer, chunks and end.
fn send_file(net: &mut Net, from: u32, id: u32, data: &[u8]) {
    let node = net.nodes.get_mut(&from).unwrap();
    node.send(
        ALL_MEMBERS,
        Message::FileOffer(FileOffer {
            id,
            name: "blob.bin".into(),
            size: data.len() as u64,
        }),
    )
    .unwrap();
    let mut offset = 0usize;
    while offset < data.len() {
        let node = net.nodes.get_mut(&from).unwrap();
        if !node.can_send() {
            net.run(200);
            continue;
        }
        let end = (offset + 16 * 1024).min(data.len());
        node.send(
            ALL_MEMBERS,
            Message::FileChunk {
                id,
                offset: offset as u64,
                data: data[offset..end].to_vec(),
            },
        )
        .unwrap();
        offset = end;
        net.run(20);
    }
    let sha = hex(&Sha256::digest(data));
    net.nodes
        .get_mut(&from)
        .unwrap()
        .send(ALL_MEMBERS, Message::FileEnd(FileEnd { id, sha256: sha }))
        .unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reassemble file `id` from what `at` received; returns (bytes, announced sha).
fn reassemble(net: &Net, at: u32, id: u32) -> (Vec<u8>, Option<String>) {
    let mut data = Vec::new();
    let mut sha = None;
    for (_, m) in net.received(at) {
        match m {
            Message::FileChunk {
                id: i,
                offset,
                data: chunk,
            } if i == id => {
                assert_eq!(offset as usize, data.len(), "chunks arrive in order, once");
                data.extend_from_slice(&chunk);
            }
            Message::FileEnd(e) if e.id == id => sha = Some(e.sha256),
            _ => {}
        }
    }
    (data, sha)
}

#[test]
fn chat_reaches_every_member_exactly_once() {
    let mut net = session(1, 3);
    for i in 0..20 {
        net.nodes
            .get_mut(&1)
            .unwrap()
            .send(ALL_MEMBERS, chat(&format!("line {i}")))
            .unwrap();
    }
    net.nodes
        .get_mut(&3)
        .unwrap()
        .send(ALL_MEMBERS, chat("from member 3"))
        .unwrap();
    net.run(100_000);
    for id in [2, 3, 4] {
        let lines: Vec<String> = net
            .received(id)
            .into_iter()
            .filter(|(from, _)| from.0 == 1)
            .filter_map(|(_, m)| match m {
                Message::Chat(c) => Some(c.text),
                _ => None,
            })
            .collect();
        assert_eq!(
            lines,
            (0..20).map(|i| format!("line {i}")).collect::<Vec<_>>()
        );
    }
    let at_leader = net.received(1);
    assert_eq!(at_leader, vec![(MemberId(3), chat("from member 3"))]);
    for id in 1..=4 {
        assert!(
            net.events[&id]
                .iter()
                .all(|e| !matches!(e, Event::Dropped { .. })),
            "member {id} dropped something: {:?}",
            net.events[&id]
        );
    }
}

#[test]
fn lossy_reordering_network_loses_nothing_and_duplicates_nothing() {
    for seed in [11u64, 22, 33] {
        let mut net = session(seed, 3);
        net.loss = 100; // 10% of sealed frames lost
        net.reorder = 100;
        let file: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for i in 0..30 {
            net.nodes
                .get_mut(&1)
                .unwrap()
                .send(ALL_MEMBERS, chat(&format!("c{i}")))
                .unwrap();
        }
        send_file(&mut net, 1, 1, &file);
        // Losses are repaired by resend requests on gaps and after quiet periods.
        for _ in 0..50 {
            net.run(100_000);
            let now = net.now;
            for node in net.nodes.values_mut() {
                node.resync(now);
            }
        }
        net.loss = 0;
        net.run(100_000);
        for id in [2, 3, 4] {
            let (data, sha) = reassemble(&net, id, 1);
            assert_eq!(data.len(), file.len(), "seed {seed} member {id}");
            assert_eq!(sha.as_deref(), Some(hex(&Sha256::digest(&file)).as_str()));
            assert_eq!(hex(&Sha256::digest(&data)), hex(&Sha256::digest(&file)));
            let chats: Vec<_> = net
                .received(id)
                .into_iter()
                .filter(|(_, m)| matches!(m, Message::Chat(_)))
                .collect();
            assert_eq!(chats.len(), 30, "seed {seed}: every chat exactly once");
        }
    }
}

#[test]
fn relay_failure_mid_transfer_loses_nothing() {
    let mut net = session(5, 3);
    let file: Vec<u8> = (0..500_000u32).map(|i| (i % 251) as u8).collect();
    net.nodes
        .get_mut(&2)
        .unwrap()
        .send(ALL_MEMBERS, chat("before"))
        .unwrap();
    net.run(50);
    net.fail_relay();
    net.nodes
        .get_mut(&2)
        .unwrap()
        .send(ALL_MEMBERS, chat("during"))
        .unwrap();
    send_file(&mut net, 1, 9, &file[..200_000]);
    net.fail_relay();
    net.run(100_000);
    net.fail_relay();
    net.run(100_000);
    for id in [1, 3, 4] {
        let chats: Vec<String> = net
            .received(id)
            .into_iter()
            .filter_map(|(_, m)| match m {
                Message::Chat(c) => Some(c.text),
                _ => None,
            })
            .collect();
        assert_eq!(chats, vec!["before", "during"], "member {id}");
    }
    for id in [2, 3, 4] {
        let (data, _) = reassemble(&net, id, 9);
        assert_eq!(data.len(), 200_000, "member {id}");
        assert!(data == file[..200_000], "member {id}: file differs");
    }
    // Buffers drain once everyone has acknowledged.
    assert_eq!(net.nodes[&1].unacked_bytes(), 0);
}

#[test]
fn a_sender_reaching_the_new_relay_last_still_resends_what_was_lost() {
    let mut net = session(11, 3);
    // The sender (the leader, member 1) puts a whole file on the wire at
    // once (within its window); the relay dies with most of it in flight,
    // and the sender reaches the new relay last, so the others' resend
    // requests never reach it and it has nothing new to send that would
    // show them the gap.
    let file: Vec<u8> = (0..1_000_000u32).map(|i| (i % 241) as u8).collect();
    let sender = net.nodes.get_mut(&1).unwrap();
    sender
        .send(
            ALL_MEMBERS,
            Message::FileOffer(FileOffer {
                id: 4,
                name: "blob.bin".into(),
                size: file.len() as u64,
            }),
        )
        .unwrap();
    for (i, chunk) in file.chunks(16 * 1024).enumerate() {
        sender
            .send(
                ALL_MEMBERS,
                Message::FileChunk {
                    id: 4,
                    offset: (i * 16 * 1024) as u64,
                    data: chunk.to_vec(),
                },
            )
            .unwrap();
    }
    sender
        .send(
            ALL_MEMBERS,
            Message::FileEnd(FileEnd {
                id: 4,
                sha256: hex(&Sha256::digest(&file)),
            }),
        )
        .unwrap();
    net.run(12);
    net.fail_relay_late(1);
    net.run(200_000);
    for id in [2, 3, 4] {
        let (data, _) = reassemble(&net, id, 4);
        assert_eq!(data.len(), file.len(), "member {id}");
        assert!(data == file, "member {id}: file differs");
    }
}

#[test]
fn a_wrong_code_is_refused_with_a_reason() {
    let mut net = session(3, 1);
    let policy = Policy::only(&[SUITE]);
    let intruder = Endpoint::joiner(
        SessionId([7; 16]),
        MemberId(9),
        MemberId(1),
        policy,
        b"code:123456",
        b"000000",
        EndpointConfig::default(),
    )
    .unwrap();
    net.nodes.insert(9, intruder);
    net.events.insert(9, Vec::new());
    net.run(1000);
    assert!(net.events[&9].contains(&Event::JoinRefused(JoinRefusal::WrongSecret)));
    assert!(
        net.events[&9]
            .iter()
            .all(|e| !matches!(e, Event::Keyed { .. }))
    );
    assert!(net.events[&1].iter().any(|e| matches!(
        e,
        Event::JoinFailed {
            from: MemberId(9),
            ..
        }
    )));
    // The intruder reads nothing the session says afterwards.
    net.nodes
        .get_mut(&1)
        .unwrap()
        .send(ALL_MEMBERS, chat("secret plans"))
        .unwrap();
    net.run(1000);
    assert!(net.received(9).is_empty());
    assert_eq!(net.received(2).len(), 1);
}

#[test]
fn a_removed_member_reads_nothing_more() {
    let mut net = session(4, 2);
    net.nodes
        .get_mut(&1)
        .unwrap()
        .remove_member(MemberId(3))
        .unwrap();
    net.run(10_000);
    net.nodes
        .get_mut(&1)
        .unwrap()
        .send(ALL_MEMBERS, chat("after removal"))
        .unwrap();
    net.run(10_000);
    assert!(
        net.received(3)
            .iter()
            .all(|(_, m)| *m != chat("after removal"))
    );
    assert!(
        net.received(2)
            .iter()
            .any(|(_, m)| *m == chat("after removal"))
    );
    let roster = net.nodes[&2].roster().unwrap();
    assert!(!roster.contains(MemberId(3)));
    // What member 3 still sends is not accepted.
    net.nodes
        .get_mut(&3)
        .unwrap()
        .send(ALL_MEMBERS, chat("still here?"))
        .unwrap();
    net.run(10_000);
    assert!(
        net.received(2)
            .iter()
            .all(|(_, m)| *m != chat("still here?"))
    );
}

#[test]
fn messages_sent_before_the_key_arrives_are_delivered_after() {
    let mut net = session(6, 0);
    let policy = Policy::only(&[SUITE]);
    let mut late = Endpoint::joiner(
        SessionId([7; 16]),
        MemberId(5),
        MemberId(1),
        policy,
        b"code:123456",
        SECRET,
        EndpointConfig::default(),
    )
    .unwrap();
    late.send(ALL_MEMBERS, chat("hello early")).unwrap();
    net.nodes.insert(5, late);
    net.events.insert(5, Vec::new());
    net.run(10_000);
    assert_eq!(net.received(1), vec![(MemberId(5), chat("hello early"))]);
}

/// An unattended session: the expert leads and knows the access password;
/// the device holds only its verifier and answers as the SRP server.
fn unattended(seed: u64, password: &[u8]) -> Net {
    let mut net = Net::new(seed);
    let session = SessionId([9; 16]);
    let policy = Policy::only(&[SUITE]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"device:office-pc", b"correct horse").unwrap());
    let device = Endpoint::device(
        session,
        MemberId(2),
        MemberId(1),
        store,
        EndpointConfig::default(),
    );
    let mut leader = Endpoint::leader(
        session,
        MemberId(1),
        SUITE,
        VerifierStore::new(policy.clone()),
        EndpointConfig::default(),
    )
    .unwrap();
    leader
        .connect_device(MemberId(2), policy, b"device:office-pc", password, net.now)
        .unwrap();
    net.nodes.insert(1, leader);
    net.nodes.insert(2, device);
    net.events.insert(1, Vec::new());
    net.events.insert(2, Vec::new());
    net.run(10_000);
    net
}

#[test]
fn an_unattended_device_answers_the_expert_and_gets_the_leaders_keys() {
    let mut net = unattended(11, b"correct horse");
    let fingerprints: Vec<[u8; 32]> = [1, 2]
        .iter()
        .map(|id| {
            net.events[id]
                .iter()
                .find_map(|e| match e {
                    Event::Established { transcript_hash } => Some(*transcript_hash),
                    _ => None,
                })
                .unwrap()
        })
        .collect();
    assert_eq!(fingerprints[0], fingerprints[1], "both saw one handshake");
    assert!(net.events[&1].contains(&Event::MemberAdmitted(MemberId(2))));
    assert!(
        net.events[&2]
            .iter()
            .any(|e| matches!(e, Event::Keyed { .. })),
        "the device got the leader's key"
    );
    for (from, to, text) in [(1, 2, "expert here"), (2, 1, "device here")] {
        net.nodes
            .get_mut(&from)
            .unwrap()
            .send(ALL_MEMBERS, chat(text))
            .unwrap();
        net.run(1000);
        assert_eq!(net.received(to), vec![(MemberId(from), chat(text))]);
        net.events.get_mut(&to).unwrap().clear();
    }
}

#[test]
fn a_wrong_access_password_is_refused_by_the_device() {
    let mut net = unattended(12, b"wrong horse");
    assert!(net.events[&1].contains(&Event::JoinRefused(JoinRefusal::WrongSecret)));
    assert!(net.events[&2].iter().any(|e| matches!(
        e,
        Event::JoinFailed {
            from: MemberId(1),
            ..
        }
    )));
    assert!(
        net.events[&2]
            .iter()
            .all(|e| !matches!(e, Event::Keyed { .. })),
        "no key reaches the device"
    );
    net.nodes
        .get_mut(&1)
        .unwrap()
        .send(ALL_MEMBERS, chat("secret"))
        .unwrap();
    net.run(1000);
    assert!(net.received(2).is_empty());
}

#[test]
fn a_device_that_reaches_the_relay_after_the_expert_still_joins() {
    let mut net = Net::new(13);
    let session = SessionId([9; 16]);
    let policy = Policy::only(&[SUITE]);
    let mut leader = Endpoint::leader(
        session,
        MemberId(1),
        SUITE,
        VerifierStore::new(policy.clone()),
        EndpointConfig::default(),
    )
    .unwrap();
    leader
        .connect_device(
            MemberId(2),
            policy.clone(),
            b"device:pc",
            b"password",
            net.now,
        )
        .unwrap();
    net.nodes.insert(1, leader);
    net.events.insert(1, Vec::new());
    // The expert's first requests go nowhere: the device is not there yet.
    net.run(50);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"device:pc", b"password").unwrap());
    let device = Endpoint::device(
        session,
        MemberId(2),
        MemberId(1),
        store,
        EndpointConfig::default(),
    );
    net.nodes.insert(2, device);
    net.events.insert(2, Vec::new());
    net.run(10_000);
    assert!(net.events[&1].contains(&Event::MemberAdmitted(MemberId(2))));
    assert!(
        net.events[&2]
            .iter()
            .any(|e| matches!(e, Event::Keyed { .. }))
    );
    assert!(
        net.events[&2]
            .iter()
            .all(|e| !matches!(e, Event::JoinFailed { .. })),
        "no crossed handshakes"
    );
}
