//! Restricted-data rules on any text (chat, desk text and file names come
//! from other people): no panic; findings in order, not overlapping, on
//! character boundaries; masking keeps the text's length and everything
//! outside the findings; each policy answers consistently.
#![no_main]

use fernhand_privacy::restricted::{Policy, check, mask, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found = scan(text);
    let mut at = 0;
    for f in &found {
        assert!(f.start >= at && f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        at = f.end;
    }
    let masked = mask(text);
    assert_eq!(masked.len(), text.len());
    let mut at = 0;
    for f in &found {
        assert_eq!(&masked[at..f.start], &text[at..f.start]);
        at = f.end;
    }
    assert_eq!(&masked[at..], &text[at..]);
    let warned = check(Policy::Warn, text).expect("warn never refuses");
    assert_eq!(warned.text, text);
    assert_eq!(check(Policy::Block, text).is_err(), !found.is_empty());
    assert_eq!(check(Policy::Mask, text).map(|c| c.text).ok(), Some(masked));
});
