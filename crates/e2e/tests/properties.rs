//! Property tests (proptest) of the security claims the layer makes:
//! tampering, replay, reordering, wrong secrets, removal, and downgrade.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

mod common;

use common::{deliver, handshake, session};
use fernhand_e2e::{
    ClientHandshake, Compression, HandshakeError, Leader, Member, MemberId, OpenError, Policy,
    REPLAY_WINDOW, Suite, Verifier, VerifierStore,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn compression(compress: bool) -> Compression {
    if compress {
        Compression::IfSmaller
    } else {
        Compression::Never
    }
}

/// Plaintexts that are sometimes very compressible, sometimes not at all.
fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..700),
        (any::<u8>(), 0usize..2000).prop_map(|(b, n)| vec![b; n]),
        "[a-c ]{0,500}".prop_map(String::into_bytes),
    ]
}

fn fails<T, E>(r: Result<T, E>) -> Result<(), TestCaseError> {
    prop_assert!(r.is_err(), "tampered input was accepted");
    Ok(())
}

#[test]
fn any_single_bit_flip_in_packet_or_envelope_is_rejected() {
    for suite in Suite::ALL {
        let (leader, members) = session(suite, 1);
        let state = RefCell::new((leader, members));
        runner(160)
            .run(
                &(
                    plaintext(),
                    proptest::collection::vec(any::<u8>(), 0..48),
                    any::<bool>(),
                    any::<Index>(),
                ),
                |(pt, aad, compress, bit)| {
                    let mut guard = state.borrow_mut();
                    let (leader, members) = &mut *guard;
                    let sealed = leader.seal(&aad, &pt, compression(compress)).unwrap();
                    let bit = bit.index(sealed.len() * 8);
                    let mut bad = sealed.clone();
                    bad[bit / 8] ^= 1 << (bit % 8);
                    fails(members[0].open(&aad, &bad))?;
                    // The envelope (associated data) is covered too, its length included.
                    if !aad.is_empty() {
                        let mut bad_aad = aad.clone();
                        bad_aad[bit % aad.len()] ^= 1 << (bit % 8);
                        fails(members[0].open(&bad_aad, &sealed))?;
                        fails(members[0].open(&aad[..aad.len() - 1], &sealed))?;
                    }
                    let mut longer = aad.clone();
                    longer.push(0);
                    fails(members[0].open(&longer, &sealed))?;
                    // Truncation and extension are tampering too.
                    fails(members[0].open(&aad, &sealed[..sealed.len() - 1]))?;
                    let mut extended = sealed.clone();
                    extended.push(0);
                    fails(members[0].open(&aad, &extended))?;
                    // None of that disturbed the state: the genuine packet opens.
                    let opened = members[0].open(&aad, &sealed).unwrap();
                    prop_assert_eq!(opened.plaintext(), pt.as_slice());
                    Ok(())
                },
            )
            .unwrap();
    }
}

#[test]
fn replayed_packets_are_rejected() {
    let (leader, members) = session(Suite::Srp3072Aes256HmacSha256, 2);
    let state = RefCell::new((leader, members));
    runner(64)
        .run(
            &(1usize..40, any::<Index>(), any::<bool>()),
            |(n, pick, from_member)| {
                let mut guard = state.borrow_mut();
                let (leader, members) = &mut *guard;
                let sealed: Vec<Vec<u8>> = (0..n)
                    .map(|i| {
                        let body = format!("message {i}");
                        if from_member {
                            members[0]
                                .seal(b"e", body.as_bytes(), Compression::Never)
                                .unwrap()
                        } else {
                            leader
                                .seal(b"e", body.as_bytes(), Compression::Never)
                                .unwrap()
                        }
                    })
                    .collect();
                let receiver = &mut members[1];
                for packet in &sealed {
                    receiver.open(b"e", packet).unwrap();
                }
                let again = &sealed[pick.index(n)];
                let replayed =
                    matches!(receiver.open(b"e", again), Err(OpenError::Replayed { .. }));
                prop_assert!(replayed, "a replayed packet was accepted");
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn reordering_within_the_window_is_accepted_exactly_once() {
    let order = (1usize..300).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle());
    let (leader, members) = session(Suite::Srp2048Aes256HmacSha256, 1);
    let state = RefCell::new((leader, members));
    runner(48)
        .run(&order, |order| {
            let mut guard = state.borrow_mut();
            let (leader, members) = &mut *guard;
            let sealed: Vec<Vec<u8>> = (0..order.len())
                .map(|i| {
                    leader
                        .seal(b"", &(i as u32).to_be_bytes(), Compression::Never)
                        .unwrap()
                })
                .collect();
            for &i in &order {
                let opened = members[0].open(b"", &sealed[i]).unwrap();
                let expected = (i as u32).to_be_bytes();
                prop_assert_eq!(opened.plaintext(), expected.as_slice());
            }
            for &i in &order {
                prop_assert!(members[0].open(b"", &sealed[i]).is_err());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn packets_older_than_the_window_are_rejected() {
    let (mut leader, mut members) = session(Suite::ClassicSrp1024Aes128HmacSha1, 1);
    let n = REPLAY_WINDOW as usize + 10;
    let sealed: Vec<Vec<u8>> = (0..n)
        .map(|_| leader.seal(b"", b"x", Compression::Never).unwrap())
        .collect();
    members[0].open(b"", &sealed[n - 1]).unwrap();
    assert!(matches!(
        members[0].open(b"", &sealed[0]),
        Err(OpenError::Replayed { .. })
    ));
    assert!(
        members[0]
            .open(b"", &sealed[n - REPLAY_WINDOW as usize])
            .is_ok()
    );
}

#[test]
fn a_wrong_join_secret_yields_no_key_and_a_typed_error() {
    let secrets = ("[0-9]{6}", "[0-9]{6}").prop_filter("secrets differ", |(a, b)| a != b);
    for (suite, cases) in [
        (Suite::ClassicSrp1024Aes128HmacSha1, 24),
        (Suite::Srp3072Aes256HmacSha256, 4),
    ] {
        let policy = Policy::only(&[suite]);
        runner(cases)
            .run(&secrets, |(real, guess)| {
                let mut store = VerifierStore::new(policy.clone());
                store.insert(Verifier::new(&policy, b"code:123456", real.as_bytes()).unwrap());
                let (client, hello) =
                    ClientHandshake::start(&policy, b"code:123456", guess.as_bytes()).unwrap();
                let (server, challenge) = store.respond(&hello).unwrap();
                let (client, proof) = client.on_challenge(&challenge).unwrap();
                prop_assert_eq!(
                    store.finish(server, &proof).err(),
                    Some(HandshakeError::WrongSecret)
                );
                // Whatever the server then sends, the client does not get a key.
                let mut confirm = vec![0x04];
                confirm.extend(std::iter::repeat_n(0u8, suite.srp_hash_len() + 32));
                prop_assert_eq!(
                    client.on_confirm(&confirm).err(),
                    Some(HandshakeError::ServerProofMismatch)
                );
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn a_removed_member_cannot_open_packets_of_later_epochs() {
    let setup = (2u32..5).prop_flat_map(|n| (Just(n), 0..n, plaintext()));
    runner(12)
        .run(&setup, |(n, removed, message)| {
            let (mut leader, mut members) = session(Suite::Srp2048Aes256HmacSha256, n);
            let removed_id = MemberId(2 + removed);
            let old_epoch = leader.epoch();
            let deliveries = leader.remove(removed_id).unwrap();
            let mut kept: Vec<Member> = Vec::new();
            let mut gone: Option<Member> = None;
            for (i, m) in members.drain(..).enumerate() {
                if i as u32 == removed {
                    gone = Some(m);
                } else {
                    kept.push(m);
                }
            }
            let mut gone = gone.unwrap();
            for d in &deliveries {
                prop_assert!(d.recipient() != removed_id);
                prop_assert!(gone.accept(d.as_bytes()).is_err());
                let m = kept
                    .iter_mut()
                    .find(|m| m.id() == Some(d.recipient()))
                    .unwrap();
                m.accept(d.as_bytes()).unwrap();
            }
            let sealed = leader.seal(b"", &message, Compression::IfSmaller).unwrap();
            prop_assert_eq!(
                gone.open(b"", &sealed).err(),
                Some(OpenError::UnknownEpoch(old_epoch + 1))
            );
            for m in kept.iter_mut() {
                let opened = m.open(b"", &sealed).unwrap();
                prop_assert_eq!(opened.plaintext(), message.as_slice());
                let reply = m.seal(b"", b"still here", Compression::Never).unwrap();
                prop_assert!(gone.open(b"", &reply).is_err());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_changed_suite_anywhere_in_the_transcript_fails_the_handshake() {
    // Client and server both accept every suite. A man in the middle rewrites
    // the Hello's suite list (reorders, drops, duplicates are refused anyway)
    // or the Challenge's suite byte. Whatever he does, no key results.
    let all = Policy::with_classic();
    let rewrite = proptest::sample::subsequence(Suite::ALL.to_vec(), 1..=3).prop_shuffle();
    runner(24)
        .run(&(rewrite, any::<bool>()), |(offer, touch_challenge)| {
            let mut store = VerifierStore::new(all.clone());
            store.insert(Verifier::new(&all, b"code:1", b"s").unwrap());
            let (client, hello) = ClientHandshake::start(&all, b"code:1", b"s").unwrap();
            let mut forged = vec![hello[0], hello[1], offer.len() as u8];
            forged.extend(offer.iter().map(|s| s.id()));
            forged.extend_from_slice(&hello[3 + hello[2] as usize..]);
            let changed = forged != hello;
            let (server, mut challenge) = store.respond(&forged).unwrap();
            if touch_challenge {
                // Claim another suite than the one the server used.
                let other = Suite::ALL.iter().find(|s| s.id() != challenge[1]).unwrap();
                challenge[1] = other.id();
            }
            let outcome = (|| {
                let (client, proof) = client.on_challenge(&challenge)?;
                let (confirm, _server_done) = store.finish(server, &proof)?;
                client.on_confirm(&confirm)
            })();
            if changed || touch_challenge {
                prop_assert!(outcome.is_err(), "altered transcript produced a key");
            } else {
                prop_assert!(outcome.is_ok());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn leader_and_member_roles_are_independent_of_srp_roles() {
    // Unattended: the agent holds the verifier (SRP server) but the expert,
    // the SRP client, leads and makes the keys.
    let policy = Policy::default();
    let (expert_side, agent_side, _) = handshake(
        &policy,
        b"device:42",
        b"access password",
        b"access password",
    )
    .unwrap();
    let mut expert = Leader::new(expert_side.suite(), MemberId(1)).unwrap();
    let mut agent = vec![Member::new(agent_side)];
    let deliveries = expert.admit(MemberId(2), expert_side).unwrap();
    deliver(&mut agent, &deliveries);
    let packet = expert
        .seal(b"", b"move the mouse", Compression::Never)
        .unwrap();
    assert_eq!(
        agent[0].open(b"", &packet).unwrap().plaintext(),
        b"move the mouse"
    );
}
