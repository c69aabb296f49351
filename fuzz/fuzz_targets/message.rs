//! Message plaintexts (what a member may put in a sealed packet): split and
//! decoded without panicking; what decodes re-encodes to an equal message.
#![no_main]

use fernhand_protocol::message::{self, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((kind, reliable, body)) = message::split(data)
        && let Ok(m) = Message::decode_body(kind, body)
    {
        let again = message::encode(&m, reliable);
        let (k2, r2, b2) = message::split(&again).expect("re-encoded message splits");
        assert_eq!((k2, r2), (kind, reliable));
        assert_eq!(Message::decode_body(k2, b2).expect("re-encoded body decodes"), m);
    }
});
