//! Tickets from the network: never accepted unless signed by the key.
#![no_main]

use ed25519_dalek::SigningKey;
use fernhand_protocol::RelayId;
use fernhand_protocol::ticket::Ticket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
    assert!(Ticket::verify(data, &key, RelayId([1; 16]), 1_800_000_000).is_err());
});
