//! Tenant export archives to import come from outside: reading one never
//! panics, never writes outside its folder, and only an archive whose
//! every entry matches its manifest is accepted.
#![no_main]

use fernhand_privacy::archive::unpack;
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU64, Ordering};

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let base = std::env::temp_dir().join(format!(
        "fernhand-fuzz-archive-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("scratch folder");
    let file = base.join("in.tar");
    std::fs::write(&file, data).expect("input written");
    let into = base.join("out");
    if let Ok(manifest) = unpack(&file, &into) {
        assert!(manifest["files"].is_array());
    }
    // Nothing beside the input and the output folder.
    for entry in std::fs::read_dir(&base).expect("scratch folder") {
        let name = entry.expect("entry").file_name();
        assert!(name == "in.tar" || name == "out", "{name:?} written outside");
    }
    let _ = std::fs::remove_dir_all(&base);
});
