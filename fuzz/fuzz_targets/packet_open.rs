//! Opening arbitrary bytes as a sealed packet (with arbitrary envelope bytes)
//! must return a typed error, never panic, and never succeed without the key.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (aad, packet) = rest.split_at(at);
    let mut guard = common::session().lock().unwrap_or_else(|e| e.into_inner());
    let (leader, member) = &mut *guard;
    assert!(member.open(aad, packet).is_err(), "forged packet accepted");
    assert!(leader.open(aad, packet).is_err(), "forged packet accepted");
});
