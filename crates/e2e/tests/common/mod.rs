//! Shared fixtures for the integration tests: run a whole join handshake and
//! set up a leader with members, through the public API only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]
#![allow(dead_code)]

use fernhand_e2e::{
    ClientHandshake, Established, HandshakeError, Leader, Member, MemberId, Policy, Suite,
    Verifier, VerifierStore,
};

/// The four messages of one handshake, for tests that inspect or alter them.
pub struct Wire {
    pub hello: Vec<u8>,
    pub challenge: Vec<u8>,
    pub proof: Vec<u8>,
    pub confirm: Vec<u8>,
}

/// Run a handshake where the client knows `client_secret` and the store holds
/// a verifier of `server_secret`. Returns (client side, server side, wire).
pub fn handshake(
    policy: &Policy,
    identity: &[u8],
    server_secret: &[u8],
    client_secret: &[u8],
) -> Result<(Established, Established, Wire), HandshakeError> {
    let mut store = VerifierStore::new(policy.clone());
    store.insert(Verifier::new(policy, identity, server_secret)?);
    handshake_with(&mut store, policy, identity, client_secret)
}

/// As [`handshake`], against an existing store.
pub fn handshake_with(
    store: &mut VerifierStore,
    client_policy: &Policy,
    identity: &[u8],
    client_secret: &[u8],
) -> Result<(Established, Established, Wire), HandshakeError> {
    let (client, hello) = ClientHandshake::start(client_policy, identity, client_secret)?;
    let (server, challenge) = store.respond(&hello)?;
    let (client, proof) = client.on_challenge(&challenge)?;
    let (confirm, server_done) = store.finish(server, &proof)?;
    let client_done = client.on_confirm(&confirm)?;
    Ok((
        client_done,
        server_done,
        Wire {
            hello,
            challenge,
            proof,
            confirm,
        },
    ))
}

/// A leader (id 1) and `n` members (ids 2, 3, …), each joined by its own
/// handshake and holding the latest epoch's key.
pub fn session(suite: Suite, n: u32) -> (Leader, Vec<Member>) {
    let policy = Policy::only(&[suite]);
    let mut leader = Leader::new(suite, MemberId(1)).unwrap();
    let mut members: Vec<Member> = Vec::new();
    for i in 0..n {
        let identity = format!("code:{:06}", 100 + i);
        let (client, server, _) =
            handshake(&policy, identity.as_bytes(), b"424242", b"424242").unwrap();
        members.push(Member::new(client));
        let deliveries = leader.admit(MemberId(2 + i), server).unwrap();
        deliver(&mut members, &deliveries);
    }
    (leader, members)
}

/// Hand each delivery to the member it names (members[i] is id i + 2; a
/// member that has no id yet takes the delivery addressed to its slot).
pub fn deliver(members: &mut [Member], deliveries: &[fernhand_e2e::KeyDelivery]) {
    for d in deliveries {
        let slot = (d.recipient().0 - 2) as usize;
        members[slot].accept(d.as_bytes()).unwrap();
    }
}
