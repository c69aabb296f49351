//! The leader checking an arbitrary Proof: only the genuine client's proof may
//! establish anything.
#![no_main]

#[path = "common.rs"]
mod common;

use fernhand_e2e::ClientHandshake;
use fernhand_e2e::testing::with_seed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    with_seed(5, || {
        let mut store = common::store();
        let (_client, hello) =
            ClientHandshake::start(&common::policy(), common::IDENTITY, common::SECRET).unwrap();
        let (server, _challenge) = store.respond(&hello).unwrap();
        assert!(store.finish(server, data).is_err(), "forged proof accepted");
    });
});
