//! Incoming e-mail (bytes from anyone who can send mail to the desk): a
//! message is read or refused with a typed error, never a panic; what is
//! read keeps the limits the desk relies on (one-line subject within the
//! title limit, text within the text limit, no NUL, a sender address,
//! file names without path separators). An mbox splits without a panic.
#![no_main]

use fernhand_desk::mail::{self, FILES_MAX, TEXT_MAX, TITLE_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = mail::parse(data) {
        assert!(m.subject.chars().count() <= TITLE_MAX);
        assert!(!m.subject.contains('\n') && !m.subject.contains('\0'));
        assert!(m.text.chars().count() <= TEXT_MAX && !m.text.contains('\0'));
        assert!(m.from.contains('@'));
        assert!(m.files.len() <= FILES_MAX);
        for f in &m.files {
            assert!(!f.name.is_empty() && !f.name.contains('/') && !f.name.contains('\\'));
        }
    }
    for raw in mail::mbox(data) {
        let _ = mail::parse(&raw);
    }
});
