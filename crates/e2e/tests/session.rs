//! Whole sessions through the public API: joins, epochs, removal, packets,
//! lockout, downgrade — one scenario per test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

mod common;

use common::{deliver, handshake, handshake_with, session};
use fernhand_e2e::{
    ClientHandshake, Compression, HandshakeError, JoinCode, JoinLink, KeyError, Leader, Member,
    MemberId, OpenError, Policy, SealError, Suite, Verifier, VerifierStore,
};

#[test]
fn both_sides_agree_for_every_suite() {
    for suite in Suite::ALL {
        let policy = Policy::only(&[suite]);
        let (client, server, wire) =
            handshake(&policy, b"code:123456", b"789012", b"789012").unwrap();
        assert_eq!(client.suite(), suite);
        assert_eq!(server.suite(), suite);
        assert_eq!(client.transcript_hash(), server.transcript_hash());
        assert_eq!(wire.challenge[1], suite.id());
        assert_eq!(server.identity(), b"code:123456");
    }
}

#[test]
fn default_policy_negotiates_3072() {
    let policy = Policy::default();
    let (client, _, _) = handshake(&policy, b"code:123456", b"s", b"s").unwrap();
    assert_eq!(client.suite(), Suite::Srp3072Aes256HmacSha256);
}

#[test]
fn classic_is_refused_unless_enabled() {
    let server_policy = Policy::default();
    let mut store = VerifierStore::new(server_policy.clone());
    store.insert(Verifier::new(&server_policy, b"code:1", b"s").unwrap());
    let classic_only = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    assert_eq!(
        handshake_with(&mut store, &classic_only, b"code:1", b"s").err(),
        Some(HandshakeError::NoCommonSuite)
    );
    let enabled = Policy::with_classic();
    let (client, _, _) = handshake(&enabled, b"code:1", b"s", b"s").unwrap();
    assert_eq!(client.suite(), Suite::Srp3072Aes256HmacSha256);
}

#[test]
fn join_code_and_link_work_end_to_end() {
    let policy = Policy::only(&[Suite::Srp2048Aes256HmacSha256]);
    let code = JoinCode::for_locator(&JoinCode::generate_locator().unwrap()).unwrap();
    let link = JoinLink::for_locator(&JoinLink::generate_locator().unwrap()).unwrap();
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, &code.identity(), code.secret()).unwrap());
    store.insert(Verifier::new(&policy, &link.identity(), link.secret()).unwrap());

    // The customer types the code it heard; another opens the link.
    let typed = JoinCode::parse(&code.display()).unwrap();
    let (c1, s1, _) =
        handshake_with(&mut store, &policy, &typed.identity(), typed.secret()).unwrap();
    let opened = JoinLink::parse(&link.to_url("https://support.example")).unwrap();
    let (c2, s2, _) =
        handshake_with(&mut store, &policy, &opened.identity(), opened.secret()).unwrap();
    assert_eq!(c1.transcript_hash(), s1.transcript_hash());
    assert_eq!(c2.transcript_hash(), s2.transcript_hash());
    assert_eq!(s2.identity(), link.identity().as_slice());
}

#[test]
fn wrong_secret_gives_no_key_and_counts_toward_the_lock() {
    let policy = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:555555", b"123123").unwrap());
    for attempt in 1..=3 {
        let (client, hello) = ClientHandshake::start(&policy, b"code:555555", b"999999").unwrap();
        let (server, challenge) = store.respond(&hello).unwrap();
        let (_client, proof) = client.on_challenge(&challenge).unwrap();
        assert_eq!(
            store.finish(server, &proof).err(),
            Some(HandshakeError::WrongSecret)
        );
        assert_eq!(store.failures(), attempt);
    }
    assert!(store.is_locked());
    // Now even the right secret is refused, before any SRP work is done.
    assert_eq!(
        handshake_with(&mut store, &policy, b"code:555555", b"123123").err(),
        Some(HandshakeError::Locked)
    );
}

#[test]
fn parallel_attempts_cannot_exceed_the_lock() {
    let policy = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:1", b"right").unwrap());
    // An attacker opens ten handshakes before submitting any proof.
    let mut pending = Vec::new();
    for _ in 0..10 {
        let (client, hello) = ClientHandshake::start(&policy, b"code:1", b"wrong").unwrap();
        let (server, challenge) = store.respond(&hello).unwrap();
        let (_, proof) = client.on_challenge(&challenge).unwrap();
        pending.push((server, proof));
    }
    let outcomes: Vec<_> = pending
        .into_iter()
        .map(|(server, proof)| store.finish(server, &proof).err())
        .collect();
    let tested = outcomes
        .iter()
        .filter(|e| **e == Some(HandshakeError::WrongSecret))
        .count();
    assert_eq!(tested, 3, "only three guesses may be checked");
    assert!(
        outcomes[3..]
            .iter()
            .all(|e| *e == Some(HandshakeError::Locked))
    );
}

#[test]
fn impostor_server_is_detected_by_the_client() {
    // The "server" holds a verifier for another secret: the client must not
    // accept its Confirm. (Here the client's proof fails first at the server;
    // simulate an impostor that answers anyway with a forged Confirm.)
    let policy = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:1", b"impostor").unwrap());
    let (client, hello) = ClientHandshake::start(&policy, b"code:1", b"real").unwrap();
    let (server, challenge) = store.respond(&hello).unwrap();
    let (client, proof) = client.on_challenge(&challenge).unwrap();
    assert!(store.finish(server, &proof).is_err());
    let mut forged = vec![0x04];
    forged.extend_from_slice(&[0u8; 20 + 32]);
    assert_eq!(
        client.on_confirm(&forged).err(),
        Some(HandshakeError::ServerProofMismatch)
    );
}

#[test]
fn stripping_the_strong_suite_is_caught_as_a_transcript_mismatch() {
    // Both sides accept 3072 and 2048. A man in the middle removes 3072 from
    // the Hello so that 2048 is chosen. SRP alone would succeed; the finished
    // values do not.
    let policy = Policy::default();
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:1", b"s").unwrap());
    let (client, hello) = ClientHandshake::start(&policy, b"code:1", b"s").unwrap();
    assert_eq!(&hello[..5], &[0x01, 0x01, 0x02, 0x01, 0x02]);
    let mut downgraded = vec![0x01, 0x01, 0x01, 0x02];
    downgraded.extend_from_slice(&hello[5..]);
    let (server, challenge) = store.respond(&downgraded).unwrap();
    assert_eq!(challenge[1], Suite::Srp2048Aes256HmacSha256.id());
    let (_client, proof) = client.on_challenge(&challenge).unwrap();
    assert_eq!(
        store.finish(server, &proof).err(),
        Some(HandshakeError::TranscriptMismatch)
    );
}

#[test]
fn a_suite_the_client_did_not_offer_is_refused() {
    let client_policy = Policy::only(&[Suite::Srp3072Aes256HmacSha256]);
    let server_policy = Policy::only(&[Suite::Srp2048Aes256HmacSha256]);
    let mut store = VerifierStore::new(server_policy.clone());
    store.insert(Verifier::new(&server_policy, b"code:1", b"s").unwrap());
    let (client, hello) = ClientHandshake::start(&client_policy, b"code:1", b"s").unwrap();
    // A server that ignores the offer (or a MITM rewriting the Hello).
    let mut rewritten = hello.clone();
    rewritten[3] = Suite::Srp2048Aes256HmacSha256.id();
    let (_server, challenge) = store.respond(&rewritten).unwrap();
    assert_eq!(
        client.on_challenge(&challenge).err(),
        Some(HandshakeError::SuiteNotAllowed(
            Suite::Srp2048Aes256HmacSha256
        ))
    );
}

#[test]
fn zero_and_oversized_public_values_are_refused() {
    let suite = Suite::ClassicSrp1024Aes128HmacSha1;
    let policy = Policy::only(&[suite]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:1", b"s").unwrap());

    // B = 0 and B = N (all-ones is above N) in the Challenge.
    let (_, hello) = ClientHandshake::start(&policy, b"code:1", b"s").unwrap();
    let (_server, challenge) = store.respond(&hello).unwrap();
    let b_at = challenge.len() - suite.modulus_len();
    for fill in [0x00u8, 0xff] {
        let (client, _) = ClientHandshake::start(&policy, b"code:1", b"s").unwrap();
        let mut bad = challenge.clone();
        bad[b_at..].fill(fill);
        assert_eq!(
            client.on_challenge(&bad).err(),
            Some(HandshakeError::IllegalPublicValue("B"))
        );
    }

    // A = 0 in the Proof: refused, and not counted as a guess.
    let (client, hello) = ClientHandshake::start(&policy, b"code:1", b"s").unwrap();
    let (server, challenge) = store.respond(&hello).unwrap();
    let (_client, mut proof) = client.on_challenge(&challenge).unwrap();
    proof[1..1 + suite.modulus_len()].fill(0);
    assert_eq!(
        store.finish(server, &proof).err(),
        Some(HandshakeError::IllegalPublicValue("A"))
    );
    assert_eq!(store.failures(), 0);
}

#[test]
fn unknown_identity_is_refused() {
    let policy = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(&policy, b"code:1", b"s").unwrap());
    let (_, hello) = ClientHandshake::start(&policy, b"code:2", b"s").unwrap();
    assert_eq!(
        store.respond(&hello).err(),
        Some(HandshakeError::UnknownIdentity)
    );
}

#[test]
fn packets_flow_both_ways_and_carry_the_sender() {
    for suite in Suite::ALL {
        let (mut leader, mut members) = session(suite, 2);
        let aad = b"envelope: session 7, to all, reliable";
        let from_leader = leader
            .seal(aad, b"hello from the expert", Compression::Never)
            .unwrap();
        for m in members.iter_mut() {
            let opened = m.open(aad, &from_leader).unwrap();
            assert_eq!(opened.sender, MemberId(1));
            assert_eq!(opened.plaintext(), b"hello from the expert");
        }
        let text = "Grüße aus dem Büro — 你好".repeat(20);
        let from_member = members[0]
            .seal(aad, text.as_bytes(), Compression::IfSmaller)
            .unwrap();
        assert!(
            from_member.len() < text.len(),
            "compressible text was compressed"
        );
        let opened = leader.open(aad, &from_member).unwrap();
        assert_eq!(opened.sender, MemberId(2));
        assert_eq!(opened.plaintext(), text.as_bytes());
        assert_eq!(
            members[1].open(aad, &from_member).unwrap().plaintext(),
            text.as_bytes()
        );
        // The wrong envelope fails authentication.
        let fresh = leader.seal(aad, b"again", Compression::Never).unwrap();
        assert_eq!(
            members[1].open(b"other envelope", &fresh),
            Err(OpenError::BadTag)
        );
        // A failed open leaves no trace: the right envelope still opens it.
        assert_eq!(members[1].open(aad, &fresh).unwrap().plaintext(), b"again");
    }
}

#[test]
fn never_compress_keeps_length_equal_to_plaintext() {
    let (mut leader, _) = session(Suite::ClassicSrp1024Aes128HmacSha1, 1);
    let keystrokes =
        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let sealed = leader.seal(b"", keystrokes, Compression::Never).unwrap();
    assert_eq!(
        sealed.len(),
        fernhand_e2e::HEADER_LEN + keystrokes.len() + leader.suite().tag_len()
    );
    assert_eq!(sealed[2], 0, "compressed flag clear");
}

#[test]
fn a_removed_member_cannot_read_or_write_the_next_epoch() {
    let (mut leader, mut members) = session(Suite::Srp3072Aes256HmacSha256, 2);
    let before = leader.epoch();
    let stale_from_removed = members[1]
        .seal(b"", b"sent before removal", Compression::Never)
        .unwrap();

    let deliveries = leader.remove(MemberId(3)).unwrap();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].revokes_previous());
    assert_eq!(leader.epoch(), before + 1);
    // The removed member gets nothing it can use, even if it sees the delivery.
    assert!(matches!(
        members[1].accept(deliveries[0].as_bytes()),
        Err(KeyError::WrongRecipient { .. })
    ));
    deliver(&mut members[..1], &deliveries);

    let secret = leader
        .seal(b"", b"after removal", Compression::Never)
        .unwrap();
    assert_eq!(
        members[0].open(b"", &secret).unwrap().plaintext(),
        b"after removal"
    );
    assert_eq!(
        members[1].open(b"", &secret),
        Err(OpenError::UnknownEpoch(before + 1))
    );
    // What it sends under the old key is no longer accepted by anyone.
    assert_eq!(
        members[0].open(b"", &stale_from_removed),
        Err(OpenError::UnknownEpoch(before))
    );
    assert_eq!(
        leader.open(b"", &stale_from_removed),
        Err(OpenError::UnknownEpoch(before))
    );
}

#[test]
fn a_newcomer_cannot_read_what_was_sent_before_it_joined() {
    let (mut leader, mut members) = session(Suite::Srp2048Aes256HmacSha256, 1);
    let earlier = leader
        .seal(b"", b"before you came", Compression::Never)
        .unwrap();
    let policy = Policy::only(&[Suite::Srp2048Aes256HmacSha256]);
    let (client, server, _) = handshake(&policy, b"code:777777", b"1", b"1").unwrap();
    let mut newcomer = Member::new(client);
    let deliveries = leader.admit(MemberId(3), server).unwrap();
    assert_eq!(deliveries.len(), 2);
    for d in &deliveries {
        if d.recipient() == MemberId(3) {
            newcomer.accept(d.as_bytes()).unwrap();
        } else {
            members[0].accept(d.as_bytes()).unwrap();
        }
    }
    assert!(matches!(
        newcomer.open(b"", &earlier),
        Err(OpenError::UnknownEpoch(_))
    ));
    // The old member still reads in-flight packets of the previous epoch.
    assert_eq!(
        members[0].open(b"", &earlier).unwrap().plaintext(),
        b"before you came"
    );
}

#[test]
fn deliveries_cannot_be_moved_between_epochs_or_members() {
    let (mut leader, mut members) = session(Suite::Srp3072Aes256HmacSha256, 2);
    let next = leader.rekey().unwrap();
    let for_m2 = next.iter().find(|d| d.recipient() == MemberId(2)).unwrap();
    // Re-label the delivery for another epoch: the KEK differs, unwrap fails.
    let mut relabeled = for_m2.as_bytes().to_vec();
    relabeled[6] ^= 0x01;
    assert_eq!(members[0].accept(&relabeled), Err(KeyError::UnwrapFailed));
    // Flip the revoke flag: same.
    let mut flipped = for_m2.as_bytes().to_vec();
    flipped[2] ^= 0x01;
    assert_eq!(members[0].accept(&flipped), Err(KeyError::UnwrapFailed));
    // Deliver it to member 3 relabelled as its own: fails too.
    let mut readdressed = for_m2.as_bytes().to_vec();
    readdressed[7..11].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(members[1].accept(&readdressed), Err(KeyError::UnwrapFailed));
    // The genuine one works, once; a replay of it changes nothing.
    let epoch = members[0].accept(for_m2.as_bytes()).unwrap();
    assert_eq!(epoch, leader.epoch());
    assert_eq!(members[0].accept(for_m2.as_bytes()), Ok(epoch));
}

#[test]
fn an_old_delivery_replayed_later_is_refused() {
    let (mut leader, mut members) = session(Suite::ClassicSrp1024Aes128HmacSha1, 1);
    let first = leader.rekey().unwrap();
    members[0].accept(first[0].as_bytes()).unwrap();
    let second = leader.rekey().unwrap();
    members[0].accept(second[0].as_bytes()).unwrap();
    assert!(matches!(
        members[0].accept(first[0].as_bytes()),
        Err(KeyError::StaleEpoch { .. })
    ));
}

#[test]
fn membership_errors_are_typed() {
    let suite = Suite::ClassicSrp1024Aes128HmacSha1;
    let policy = Policy::only(&[suite]);
    let mut leader = Leader::new(suite, MemberId(1)).unwrap().with_max_members(1);
    let (_, s1, _) = handshake(&policy, b"code:1", b"x", b"x").unwrap();
    assert_eq!(
        leader.admit(MemberId(1), s1).err(),
        Some(KeyError::DuplicateMember(1))
    );
    let (_, s2, _) = handshake(&policy, b"code:1", b"x", b"x").unwrap();
    leader.admit(MemberId(2), s2).unwrap();
    let (_, s3, _) = handshake(&policy, b"code:1", b"x", b"x").unwrap();
    assert_eq!(
        leader.admit(MemberId(3), s3).err(),
        Some(KeyError::TooManyMembers(1))
    );
    assert_eq!(
        leader.remove(MemberId(9)).err(),
        Some(KeyError::UnknownMember(9))
    );
    let other = Policy::only(&[Suite::Srp2048Aes256HmacSha256]);
    let (_, s4, _) = handshake(&other, b"code:1", b"x", b"x").unwrap();
    let mut roomy = Leader::new(suite, MemberId(1)).unwrap();
    assert!(matches!(
        roomy.admit(MemberId(2), s4),
        Err(KeyError::MemberSuiteMismatch { .. })
    ));
}

#[test]
fn a_member_without_a_key_can_neither_seal_nor_open() {
    let policy = Policy::only(&[Suite::ClassicSrp1024Aes128HmacSha1]);
    let (client, _, _) = handshake(&policy, b"code:1", b"x", b"x").unwrap();
    let mut member = Member::new(client);
    assert_eq!(
        member.seal(b"", b"x", Compression::Never),
        Err(SealError::NoKey)
    );
    let (mut leader, _) = session(Suite::ClassicSrp1024Aes128HmacSha1, 1);
    let packet = leader.seal(b"", b"x", Compression::Never).unwrap();
    assert!(matches!(
        member.open(b"", &packet),
        Err(OpenError::UnknownEpoch(_))
    ));
}

#[test]
fn reflected_and_oversized_input_is_refused() {
    let (mut leader, mut members) = session(Suite::ClassicSrp1024Aes128HmacSha1, 1);
    let own = members[0].seal(b"", b"mine", Compression::Never).unwrap();
    assert_eq!(members[0].open(b"", &own), Err(OpenError::Reflected));
    let huge = vec![0u8; fernhand_e2e::MAX_PLAINTEXT_LEN + 1];
    assert!(matches!(
        leader.seal(b"", &huge, Compression::Never),
        Err(SealError::TooLarge { .. })
    ));
    assert!(matches!(
        leader.seal(&vec![0u8; 70_000], b"x", Compression::Never),
        Err(SealError::AadTooLong(70_000))
    ));
    let biggest = vec![7u8; fernhand_e2e::MAX_PLAINTEXT_LEN];
    let sealed = leader.seal(b"", &biggest, Compression::Never).unwrap();
    assert_eq!(
        members[0].open(b"", &sealed).unwrap().plaintext().len(),
        biggest.len()
    );
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        members[0].open(b"", &longer),
        Err(OpenError::TooLong(_))
    ));
}

#[test]
fn a_lost_delivery_can_be_sent_again_identically() {
    let (mut leader, mut members) = session(Suite::Srp2048Aes256HmacSha256, 2);
    let removal = leader.remove(MemberId(3)).unwrap();
    let again = leader.redeliver(MemberId(2)).unwrap();
    assert_eq!(again, removal[0], "same bytes, revoke flag included");
    assert_eq!(members[0].accept(again.as_bytes()), Ok(leader.epoch()));
    assert_eq!(
        leader.redeliver(MemberId(3)).err(),
        Some(KeyError::UnknownMember(3))
    );
    let _ = &mut members;
}

#[test]
fn a_stored_verifier_still_answers_the_right_password_only() {
    let policy = Policy::default();
    let made = Verifier::new(&policy, b"device:pc-7", b"a long access password").unwrap();
    let stored = made.export();
    assert!(!stored.contains("a long access password"));
    let back = Verifier::import(&stored).unwrap();
    assert_eq!(back.identity(), b"device:pc-7");
    let mut store = VerifierStore::new(policy.clone());
    store.insert(back);
    assert!(
        handshake_with(
            &mut store,
            &policy,
            b"device:pc-7",
            b"a long access password"
        )
        .is_ok()
    );
    assert_eq!(
        handshake_with(&mut store, &policy, b"device:pc-7", b"guess").err(),
        Some(HandshakeError::WrongSecret)
    );
    for broken in [
        "",
        "v2.x",
        "v1.ZGV2aWNl",
        "v1.ZGV2aWNl.c2FsdA.1:AA",
        &format!("{}.x", &*stored),
    ] {
        assert!(Verifier::import(broken).is_err(), "{broken:?}");
    }
}
