//! A session member controls what it compresses: decompression of arbitrary
//! bodies must stay within the size limit and never panic.
#![no_main]

use fernhand_e2e::MAX_PLAINTEXT_LEN;
use fernhand_e2e::testing::decompress_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(plain) = decompress_body(data) {
        assert!(!plain.is_empty() && plain.len() <= MAX_PLAINTEXT_LEN);
    }
});
