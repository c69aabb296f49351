//! Control message bodies (JSON from another member): parsed into the typed
//! control enum without panicking; what parses re-encodes to an equal
//! message; over-long text fields are refused.
#![no_main]

use fernhand_protocol::control::{Control, MAX_TEXT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(control) = Control::from_value(&value) {
        let again = control.to_value();
        assert_eq!(Control::from_value(&again).expect("re-encoded control parses"), control);
        assert!(again.to_string().len() < data.len() + 10 * MAX_TEXT + 1024);
    }
});
