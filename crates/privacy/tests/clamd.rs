//! The clamd scanner against a real ClamAV daemon: `clamd` started with a
//! private configuration and a signature database of one test signature
//! (a SHA-256 hash signature written by the test, so no download of
//! ClamAV's databases is needed). The daemon reports the test payload, a
//! clean file and a larger one pass, the built-in scanner alone does not
//! know the payload (so it is clamd that caught it), and with the daemon
//! gone a scan is an error, never "clean". `scripts/test` installs ClamAV
//! and sets `FERNHAND_REQUIRE_CLAMD`; without it and without clamd the
//! test is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_privacy::malware::{Clamd, ScanError, Scanner, Scanners, Verdict};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLAMD: &str = "/usr/sbin/clamd";

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fernhand-clamd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("db")).unwrap();
    dir
}

fn start(dir: &Path, signature_of: &[u8]) -> Daemon {
    let sig = format!(
        "{}:{}:Fernhand.Test.Payload\n",
        hex::encode(Sha256::digest(signature_of)),
        signature_of.len()
    );
    std::fs::write(dir.join("db/test.hsb"), sig).unwrap();
    let conf = format!(
        "Foreground yes\nLocalSocket {0}/clamd.sock\nDatabaseDirectory {0}/db\nLogFile {0}/clamd.log\nPidFile {0}/clamd.pid\n",
        dir.display()
    );
    std::fs::write(dir.join("clamd.conf"), conf).unwrap();
    let child = Command::new(CLAMD)
        .arg(format!("--config-file={}/clamd.conf", dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::os::unix::net::UnixStream::connect(dir.join("clamd.sock")).is_err() {
        assert!(
            Instant::now() < deadline,
            "clamd did not start: {}",
            std::fs::read_to_string(dir.join("clamd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon
}

#[test]
fn clamd_finds_its_signature_passes_clean_files_and_its_absence_is_an_error() {
    if !Path::new(CLAMD).exists() {
        assert!(
            std::env::var_os("FERNHAND_REQUIRE_CLAMD").is_none(),
            "FERNHAND_REQUIRE_CLAMD is set but {CLAMD} is missing"
        );
        eprintln!("skipped: no clamd");
        return;
    }
    let dir = temp();
    let payload = format!(
        "a test payload only this run's clamd knows {}\n",
        std::process::id()
    )
    .into_bytes();
    let daemon = start(&dir, &payload);
    let socket = dir.join("clamd.sock");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let bad = write("payload.txt", &payload);
    let clean = write("notes.txt", b"the printer on floor 2 works again\n");
    let mut big = Vec::with_capacity(3 << 20);
    let mut x: u32 = 1;
    while big.len() < (3 << 20) {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        big.extend_from_slice(&x.to_le_bytes());
    }
    let large = write("large.bin", &big);

    let clamd = Clamd::new(&socket);
    match clamd.scan(&bad).unwrap() {
        Verdict::Infected(name) => assert!(name.starts_with("Fernhand.Test.Payload"), "{name}"),
        Verdict::Clean => panic!("clamd missed its own signature"),
    }
    assert_eq!(clamd.scan(&clean).unwrap(), Verdict::Clean);
    assert_eq!(
        clamd.scan(&large).unwrap(),
        Verdict::Clean,
        "a file of many chunks"
    );
    // The built-in scanner does not know the payload: clamd caught it.
    assert_eq!(Scanners::builtin().scan(&bad).unwrap(), Verdict::Clean);
    assert!(matches!(
        Scanners::with_clamd(Some(&socket)).scan(&bad).unwrap(),
        Verdict::Infected(_)
    ));
    // With the daemon gone, nothing is cleared.
    drop(daemon);
    let _ = std::fs::remove_file(&socket);
    assert!(matches!(
        clamd.scan(&clean),
        Err(ScanError::Unavailable { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
