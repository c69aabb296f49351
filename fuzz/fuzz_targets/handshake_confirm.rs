//! A client checking an arbitrary Confirm: without the verifier no Confirm
//! verifies.
#![no_main]

#[path = "common.rs"]
mod common;

use fernhand_e2e::ClientHandshake;
use fernhand_e2e::testing::with_seed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    with_seed(6, || {
        let store = common::store();
        let (client, hello) =
            ClientHandshake::start(&common::policy(), common::IDENTITY, common::SECRET).unwrap();
        let (_server, challenge) = store.respond(&hello).unwrap();
        let (client, _proof) = client.on_challenge(&challenge).unwrap();
        assert!(client.on_confirm(data).is_err(), "forged confirm accepted");
    });
});
