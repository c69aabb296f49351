//! The relay core without sockets: admission, routing, back-pressure, resume.

use super::*;
use ed25519_dalek::SigningKey;
use fernhand_protocol::frame::{Envelope, PayloadKind};
use fernhand_protocol::{RelayId, TenantId};
use std::time::Duration;

const NOW: u64 = 1_800_000_000;
const RELAY: RelayId = RelayId([1; 16]);
const SESSION: SessionId = SessionId([2; 16]);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[5u8; 32])
}

fn ticket_for(session: SessionId, member: u32, relay: RelayId, not_after: u64) -> Vec<u8> {
    Ticket {
        tenant: TenantId([9; 16]),
        session,
        relay,
        member: MemberId(member),
        role: Role::Customer,
        not_before: NOW - 10,
        not_after,
        nonce: member.to_be_bytes().repeat(2).try_into().unwrap(),
    }
    .sign(&key())
}

fn ticket(member: u32) -> Vec<u8> {
    ticket_for(SESSION, member, RELAY, NOW + 60)
}

fn core(limits: Limits) -> RelayCore<u64> {
    RelayCore::new(
        RELAY,
        key().verifying_key(),
        limits,
        Arc::new(RelayMetrics::default()),
    )
}

fn admit(core: &mut RelayCore<u64>, conn: u64, member: u32) -> Admission<u64> {
    core.admit(
        ConnId(conn),
        conn,
        &frame::admit(&ticket(member), None),
        NOW,
    )
    .unwrap()
}

fn data(sender: u32, target: u32, class: TrafficClass, payload: &[u8]) -> Bytes {
    Bytes::from(
        Envelope {
            class,
            kind: PayloadKind::Sealed,
            session: SESSION,
            sender: MemberId(sender),
            target: MemberId(target),
        }
        .frame(payload),
    )
}

fn frames(core: &mut RelayCore<u64>, conn: u64) -> Vec<Bytes> {
    match core.outbound(ConnId(conn), 1000) {
        Outbound::Frames(f) => f,
        Outbound::Close(r) => panic!("unexpected close {r:?}"),
    }
}

fn data_only(frames: Vec<Bytes>) -> Vec<Bytes> {
    frames
        .into_iter()
        .filter(|f| matches!(Frame::parse(f), Ok(Frame::Data { .. })))
        .collect()
}

#[test]
fn every_bad_ticket_is_refused_with_its_reason() {
    let mut c = core(Limits::default());
    let cases: Vec<(Vec<u8>, CloseCode)> = vec![
        (frame::admit(b"garbage", None), CloseCode::BadTicket),
        (
            frame::admit(&ticket_for(SESSION, 2, RELAY, NOW - 100), None),
            CloseCode::ExpiredTicket,
        ),
        (
            frame::admit(&ticket_for(SESSION, 2, RelayId([7; 16]), NOW + 60), None),
            CloseCode::WrongRelay,
        ),
        (frame::ack(1), CloseCode::ProtocolError),
        (vec![0xff, 1, 2], CloseCode::ProtocolError),
    ];
    for (first, code) in cases {
        let err = c.admit(ConnId(1), 1, &first, NOW).err().unwrap();
        assert_eq!(err.code, code, "{}", err.detail);
    }
    // A forged signature: flip one byte of a genuine ticket.
    let mut forged = ticket(2);
    forged[30] ^= 1;
    let err = c
        .admit(ConnId(1), 1, &frame::admit(&forged, None), NOW)
        .err()
        .unwrap();
    assert_eq!(err.code, CloseCode::BadTicket);
    assert_eq!(
        c.counts(),
        (0, 0),
        "nothing is created for a refused ticket"
    );
}

#[test]
fn frames_fan_out_to_all_others_or_go_to_one_without_copying() {
    let mut c = core(Limits::default());
    for m in 1..=4 {
        let a = admit(&mut c, u64::from(m), m);
        assert!(!a.resumed);
    }
    let f = data(1, 0, TrafficClass::Reliable, b"to all");
    let wake = c.on_frame(ConnId(1), f.clone()).unwrap();
    assert_eq!(wake.len(), 3);
    for m in 2..=4u64 {
        let got = data_only(frames(&mut c, m));
        assert_eq!(got, vec![f.clone()]);
        // The same allocation: fan-out shares the bytes.
        assert_eq!(got[0].as_ptr(), f.as_ptr());
    }
    assert!(
        data_only(frames(&mut c, 1)).is_empty(),
        "not echoed to the sender"
    );
    let one = data(2, 4, TrafficClass::Reliable, b"to four");
    c.on_frame(ConnId(2), one.clone()).unwrap();
    assert_eq!(data_only(frames(&mut c, 4)), vec![one]);
    assert!(data_only(frames(&mut c, 3)).is_empty());
}

#[test]
fn a_frame_naming_another_session_or_sender_closes_the_connection() {
    let mut c = core(Limits::default());
    admit(&mut c, 1, 1);
    admit(&mut c, 2, 2);
    let spoofed = data(2, 0, TrafficClass::Reliable, b"I am 2");
    let err = c.on_frame(ConnId(1), spoofed).err().unwrap();
    assert_eq!(err.code, CloseCode::WrongIdentity);
    let other_session = Bytes::from(
        Envelope {
            class: TrafficClass::Reliable,
            kind: PayloadKind::Sealed,
            session: SessionId([3; 16]),
            sender: MemberId(1),
            target: MemberId(0),
        }
        .frame(b"x"),
    );
    assert_eq!(
        c.on_frame(ConnId(1), other_session).err().unwrap().code,
        CloseCode::WrongIdentity
    );
    assert_eq!(
        c.on_frame(ConnId(1), Bytes::from_static(&[0x10, 1]))
            .err()
            .unwrap()
            .code,
        CloseCode::ProtocolError
    );
}

#[test]
fn a_slow_member_loses_latest_wins_frames_only() {
    let limits = Limits {
        latest_wins_skip_bytes: 1000,
        ..Limits::default()
    };
    let mut c = core(limits);
    admit(&mut c, 1, 1);
    admit(&mut c, 2, 2);
    admit(&mut c, 3, 3);
    // Member 3 reads; member 2 does not.
    for i in 0..20u8 {
        c.on_frame(ConnId(1), data(1, 0, TrafficClass::LatestWins, &[i; 200]))
            .unwrap();
        let _ = frames(&mut c, 3);
    }
    c.on_frame(ConnId(1), data(1, 0, TrafficClass::Reliable, b"important"))
        .unwrap();
    let slow = data_only(frames(&mut c, 2));
    assert!(
        slow.len() < 10,
        "latest-wins frames were skipped for the slow member"
    );
    assert!(
        slow.iter().any(|f| f.ends_with(b"important")),
        "reliable ones were not"
    );
    // Member 3 was not held back by member 2.
    let _ = frames(&mut c, 3);
    c.on_frame(ConnId(1), data(1, 0, TrafficClass::LatestWins, b"fresh"))
        .unwrap();
    assert_eq!(data_only(frames(&mut c, 3)).len(), 1);
}

#[test]
fn a_member_over_its_reliable_bound_is_closed_and_forgotten() {
    let limits = Limits {
        max_reliable_buffer_bytes: 10_000,
        ..Limits::default()
    };
    let mut c = core(limits);
    admit(&mut c, 1, 1);
    admit(&mut c, 2, 2);
    admit(&mut c, 3, 3);
    let mut woke_two_for_close = false;
    for _ in 0..20 {
        let wake = c
            .on_frame(ConnId(1), data(1, 0, TrafficClass::Reliable, &[0; 1000]))
            .unwrap();
        woke_two_for_close |= wake.contains(&2);
        // Member 3 keeps up (and acknowledges).
        let n = data_only(frames(&mut c, 3)).len() as u64;
        let acked = c
            .on_frame(ConnId(3), Bytes::from(frame::ack(n + 1000)))
            .is_ok();
        assert!(acked);
    }
    assert!(woke_two_for_close);
    match c.outbound(ConnId(2), 10) {
        Outbound::Close(r) => assert_eq!(r.code, CloseCode::TooSlow),
        other => panic!("expected a close, got {other:?}"),
    }
    c.on_disconnect(ConnId(2), Instant::now());
    // Its state is gone: a resume attempt starts fresh.
    let again = c
        .admit(
            ConnId(9),
            9,
            &frame::admit(
                &ticket(2),
                Some(&Resume {
                    token: [0; 32],
                    received: 0,
                }),
            ),
            NOW,
        )
        .unwrap();
    assert!(!again.resumed);
}

fn admitted_token(a: &Admission<u64>) -> ([u8; 32], u64) {
    match Frame::parse(&a.admitted) {
        Ok(Frame::Admitted {
            token, received, ..
        }) => (token, received),
        other => panic!("bad Admitted {other:?}"),
    }
}

#[test]
fn a_dropped_member_resumes_with_its_token_and_loses_nothing() {
    let mut c = core(Limits::default());
    admit(&mut c, 1, 1);
    let a2 = admit(&mut c, 2, 2);
    let (token, _) = admitted_token(&a2);
    for i in 0..5u8 {
        c.on_frame(ConnId(1), data(1, 2, TrafficClass::Reliable, &[i]))
            .unwrap();
    }
    // Two frames reach member 2, then its connection drops.
    let first = c.outbound(ConnId(2), 2);
    assert!(matches!(first, Outbound::Frames(ref f) if f.len() == 2));
    c.on_disconnect(ConnId(2), Instant::now());
    // While away, more arrives; latest-wins is not kept for it.
    c.on_frame(ConnId(1), data(1, 2, TrafficClass::Reliable, &[5]))
        .unwrap();
    c.on_frame(ConnId(1), data(1, 2, TrafficClass::LatestWins, &[6]))
        .unwrap();
    // It resumes saying it received those two.
    let resumed = c
        .admit(
            ConnId(3),
            3,
            &frame::admit(&ticket(2), Some(&Resume { token, received: 2 })),
            NOW,
        )
        .unwrap();
    assert!(resumed.resumed);
    let rest: Vec<u8> = data_only(frames(&mut c, 3))
        .iter()
        .map(|f| f[f.len() - 1])
        .collect();
    assert_eq!(rest, vec![2, 3, 4, 5]);
    // A wrong token gives a fresh start instead.
    let (token2, _) = admitted_token(&resumed);
    assert_ne!(token, token2, "tokens are single-use");
    c.on_disconnect(ConnId(3), Instant::now());
    let fresh = c
        .admit(
            ConnId(4),
            4,
            &frame::admit(&ticket(2), Some(&Resume { token, received: 0 })),
            NOW,
        )
        .unwrap();
    assert!(!fresh.resumed);
}

#[test]
fn a_second_connection_of_a_member_replaces_the_first() {
    let mut c = core(Limits::default());
    admit(&mut c, 1, 1);
    let a = admit(&mut c, 2, 2);
    let (token, _) = admitted_token(&a);
    let b = c
        .admit(
            ConnId(3),
            3,
            &frame::admit(&ticket(2), Some(&Resume { token, received: 0 })),
            NOW,
        )
        .unwrap();
    assert_eq!(b.replaced, Some(2));
    // The old connection is told to close; its end does not disturb the new one.
    assert!(
        matches!(c.outbound(ConnId(2), 10), Outbound::Close(r) if r.code == CloseCode::Replaced)
    );
    c.on_disconnect(ConnId(2), Instant::now());
    c.on_frame(ConnId(1), data(1, 2, TrafficClass::Reliable, b"x"))
        .unwrap();
    assert_eq!(data_only(frames(&mut c, 3)).len(), 1);
}

#[test]
fn sessions_have_a_member_limit() {
    let limits = Limits {
        max_members_per_session: 2,
        ..Limits::default()
    };
    let mut c = core(limits);
    admit(&mut c, 1, 1);
    admit(&mut c, 2, 2);
    let err = c
        .admit(ConnId(3), 3, &frame::admit(&ticket(3), None), NOW)
        .err()
        .unwrap();
    assert_eq!(err.code, CloseCode::SessionFull);
}

#[test]
fn resumable_state_expires_and_hop_acks_flow() {
    let limits = Limits {
        resume_window: Duration::from_secs(5),
        ack_every: 3,
        ..Limits::default()
    };
    let mut c = core(limits);
    admit(&mut c, 1, 1);
    admit(&mut c, 2, 2);
    for _ in 0..3 {
        c.on_frame(ConnId(1), data(1, 2, TrafficClass::Reliable, b"x"))
            .unwrap();
    }
    let acks: Vec<u64> = frames(&mut c, 1)
        .iter()
        .filter_map(|f| match Frame::parse(f) {
            Ok(Frame::Ack(n)) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(acks, vec![3]);
    c.on_frame(ConnId(1), data(1, 2, TrafficClass::Reliable, b"x"))
        .unwrap();
    let t = Instant::now();
    c.tick(t);
    assert!(
        frames(&mut c, 1)
            .iter()
            .any(|f| Frame::parse(f) == Ok(Frame::Ack(4)))
    );
    c.on_disconnect(ConnId(2), t);
    c.tick(t + Duration::from_secs(1));
    assert_eq!(c.counts(), (1, 1));
    c.on_disconnect(ConnId(1), t);
    c.tick(t + Duration::from_secs(6));
    assert_eq!(c.counts(), (0, 0));
}
