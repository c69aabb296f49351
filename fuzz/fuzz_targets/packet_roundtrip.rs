//! Whatever a member seals — any body, any envelope, compressed or not — the
//! other side opens to the same plaintext; and a packet altered at a
//! fuzzer-chosen bit is refused.
#![no_main]

#[path = "common.rs"]
mod common;

use fernhand_e2e::Compression;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(control & 0x3f).min(rest.len());
    let (aad, body) = rest.split_at(at);
    let compression = if control & 0x40 != 0 {
        Compression::IfSmaller
    } else {
        Compression::Never
    };
    let mut guard = common::session().lock().unwrap_or_else(|e| e.into_inner());
    let (leader, member) = &mut *guard;
    let sealed = leader.seal(aad, body, compression).expect("sealing a bounded body");
    if control & 0x80 != 0 && !sealed.is_empty() {
        let mut bad = sealed.clone();
        let bit = body.len().wrapping_mul(7) % (bad.len() * 8);
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(member.open(aad, &bad).is_err(), "altered packet accepted");
    }
    let opened = member.open(aad, &sealed).expect("genuine packet refused");
    assert_eq!(opened.plaintext(), body);
});
