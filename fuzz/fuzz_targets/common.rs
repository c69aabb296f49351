//! Fixtures shared by the fuzz targets: a fixed session set up once per
//! process with the seeded random source, on the classic suite (the parsers
//! are the same for every suite; the small group keeps iterations fast).

#![allow(dead_code)]

use fernhand_e2e::testing::with_seed;
use fernhand_e2e::{
    ClientHandshake, Established, Leader, Member, MemberId, Policy, Suite, Verifier, VerifierStore,
};
use std::sync::{Mutex, OnceLock};

pub const SUITE: Suite = Suite::ClassicSrp1024Aes128HmacSha1;
pub const IDENTITY: &[u8] = b"code:123456";
pub const SECRET: &[u8] = b"789012";

pub fn policy() -> Policy {
    Policy::only(&[SUITE])
}

/// A verifier for IDENTITY/SECRET, computed once.
pub fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| with_seed(1, || Verifier::new(&policy(), IDENTITY, SECRET).unwrap()).0)
}

pub fn store() -> VerifierStore {
    let mut store = VerifierStore::new(policy());
    store.insert(verifier().clone());
    store
}

fn join() -> (Established, Established) {
    let mut store = store();
    let (client, hello) = ClientHandshake::start(&policy(), IDENTITY, SECRET).unwrap();
    let (server, challenge) = store.respond(&hello).unwrap();
    let (client, proof) = client.on_challenge(&challenge).unwrap();
    let (confirm, server_done) = store.finish(server, &proof).unwrap();
    (client.on_confirm(&confirm).unwrap(), server_done)
}

/// A leader (1) and a member (2) holding the same epoch key.
pub fn session() -> &'static Mutex<(Leader, Member)> {
    static S: OnceLock<Mutex<(Leader, Member)>> = OnceLock::new();
    S.get_or_init(|| {
        let (leader, member) = with_seed(2, || {
            let (client, server) = join();
            let mut leader = Leader::new(SUITE, MemberId(1)).unwrap();
            let mut member = Member::new(client);
            for d in leader.admit(MemberId(2), server).unwrap() {
                member.accept(d.as_bytes()).unwrap();
            }
            (leader, member)
        })
        .0;
        Mutex::new((leader, member))
    })
}
