//! A member receiving an arbitrary key delivery: refused unless genuine.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut guard = common::session().lock().unwrap_or_else(|e| e.into_inner());
    let (leader, member) = &mut *guard;
    let before = member.epoch();
    if member.accept(data).is_ok() {
        // Only a replay of the current epoch's genuine delivery can succeed,
        // and it changes nothing.
        assert_eq!(member.epoch(), before);
        assert_eq!(member.epoch(), Some(leader.epoch()));
    }
});
