//! Join codes typed by people and join links pasted from messages.
#![no_main]

use fernhand_e2e::{JoinCode, JoinLink};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = JoinCode::parse(text) {
        assert_eq!(JoinCode::parse(&code.display()), Ok(code));
    }
    if let Ok(link) = JoinLink::parse(text) {
        assert_eq!(JoinLink::parse(&link.to_url("https://h")), Ok(link));
    }
});
