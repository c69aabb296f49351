//! The relay core fed arbitrary first frames and data frames: no panic, no
//! admission without a valid ticket.
#![no_main]

use bytes::Bytes;
use ed25519_dalek::SigningKey;
use fernhand_protocol::RelayId;
use fernhand_relay::core::{ConnId, RelayCore};
use fernhand_relay::{Limits, RelayMetrics};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
    let mut core: RelayCore<u8> = RelayCore::new(RelayId([1; 16]), key, Limits::default(), Arc::new(RelayMetrics::default()));
    let mut parts = data.split(|b| *b == 0xfe);
    if let Some(first) = parts.next() {
        assert!(core.admit(ConnId(1), 0, first, 1_800_000_000).is_err());
    }
    for part in parts {
        let _ = core.on_frame(ConnId(1), Bytes::copy_from_slice(part));
        let _ = core.outbound(ConnId(1), 16);
    }
    core.on_disconnect(ConnId(1), Instant::now());
    let _ = core.tick(Instant::now());
});
