//! The leader (SRP server) answering an arbitrary Hello.
#![no_main]

#[path = "common.rs"]
mod common;

use fernhand_e2e::testing::with_seed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let store = common::store();
    let _ = with_seed(3, || store.respond(data).map(|(_, challenge)| challenge));
});
