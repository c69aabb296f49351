//! A joining client processing an arbitrary Challenge.
#![no_main]

#[path = "common.rs"]
mod common;

use fernhand_e2e::ClientHandshake;
use fernhand_e2e::testing::with_seed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (client, _hello) =
        ClientHandshake::start(&common::policy(), common::IDENTITY, common::SECRET).unwrap();
    let _ = with_seed(4, || client.on_challenge(data).map(|(_, proof)| proof));
});
