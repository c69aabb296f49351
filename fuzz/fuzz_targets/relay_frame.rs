//! Every frame a relay or member reads: decoded without panicking, and a
//! data frame's envelope re-encodes to the bytes it came from.
#![no_main]

use fernhand_protocol::frame::{ENVELOPE_LEN, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Frame::Data { envelope, payload }) = Frame::parse(data) {
        let again = envelope.frame(payload);
        assert_eq!(&again[..ENVELOPE_LEN], &data[..ENVELOPE_LEN]);
    }
});
