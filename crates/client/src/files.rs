//! Files on disk, safely: names from the other side are checked before
//! any path is built (no `..`, no separators, no absolute paths, no device
//! names), incoming files are written to a hidden part file in the chosen
//! folder and renamed only when complete and their SHA-256 matches, and an
//! interrupted transfer resumes from what its part file holds.

use fernhand_privacy::malware::{Scanner, Verdict};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// Longest file name accepted, in bytes.
pub const MAX_NAME: usize = 255;

/// The hidden folder, inside the receiving folder, where files the malware
/// check flagged are kept.
pub const QUARANTINE: &str = ".fernhand-quarantine";

/// Why a file could not be received or sent.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The name would leave the folder or is not a plain file name.
    #[error("refused file name {name:?}: {reason}")]
    BadName {
        /// The name as offered (truncated for display).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The disk is full.
    #[error("the disk is full ({0})")]
    DiskFull(String),
    /// Not allowed to write or read there.
    #[error("permission denied ({0})")]
    PermissionDenied(String),
    /// The file is not there.
    #[error("no such file ({0})")]
    NotFound(String),
    /// Any other I/O failure.
    #[error("I/O error: {0}")]
    Io(String),
    /// Bytes arrived out of place or beyond the announced size.
    #[error("chunk at {offset} does not fit (have {have} of {size} bytes)")]
    OutOfPlace {
        /// Where the chunk claimed to go.
        offset: u64,
        /// Bytes held.
        have: u64,
        /// Announced size.
        size: u64,
    },
    /// The transfer ended early.
    #[error("transfer ended at {have} of {size} bytes")]
    Incomplete {
        /// Bytes held.
        have: u64,
        /// Announced size.
        size: u64,
    },
    /// The content does not match the sender's SHA-256.
    #[error("SHA-256 mismatch: the file was not kept")]
    HashMismatch,
    /// The malware check found a threat; the file is in quarantine.
    #[error("malware found ({threat}): the file was quarantined")]
    Quarantined {
        /// The threat's name.
        threat: String,
    },
    /// The malware check could not run; the file is held in quarantine
    /// rather than released unchecked.
    #[error("the malware check failed ({0}): the file was quarantined")]
    NotScanned(String),
}

impl FileError {
    /// The threat's name when the file was quarantined for malware.
    pub fn threat(&self) -> Option<&str> {
        match self {
            FileError::Quarantined { threat } => Some(threat),
            _ => None,
        }
    }
}

impl FileError {
    /// Classify an I/O error, naming what was being done.
    pub fn io(what: &str, e: &io::Error) -> FileError {
        let detail = format!("{what}: {e}");
        match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                FileError::DiskFull(detail)
            }
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                FileError::PermissionDenied(detail)
            }
            io::ErrorKind::NotFound => FileError::NotFound(detail),
            _ => FileError::Io(detail),
        }
    }
}

fn bad(name: &str, reason: &'static str) -> FileError {
    FileError::BadName {
        name: name.chars().take(80).collect(),
        reason,
    }
}

/// Names Windows reserves for devices, with or without an extension.
const DEVICE_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Check that `name` is a plain file name that stays in its folder on every
/// platform: not empty, at most [`MAX_NAME`] bytes, no `/` or `\`, not `.`
/// or `..` or hidden (a leading dot), no control characters or characters
/// Windows refuses, no device name, no trailing dot or space.
pub fn check_name(name: &str) -> Result<&str, FileError> {
    if name.is_empty() {
        return Err(bad(name, "empty"));
    }
    if name.len() > MAX_NAME {
        return Err(bad(name, "longer than 255 bytes"));
    }
    if name.contains(['/', '\\']) {
        return Err(bad(name, "contains a path separator"));
    }
    if name.starts_with('.') {
        return Err(bad(name, "starts with a dot (., .. or hidden)"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(bad(name, "contains a control character"));
    }
    if name.contains([':', '*', '?', '"', '<', '>', '|']) {
        return Err(bad(name, "contains a character Windows refuses"));
    }
    if name.ends_with(['.', ' ']) {
        return Err(bad(name, "ends with a dot or space"));
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    if DEVICE_NAMES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Err(bad(name, "is a device name"));
    }
    Ok(name)
}

/// Resolve `relative` (components separated by `/`, each a checked name)
/// inside `folder`, refusing anything that would end outside it — through
/// `..`, an absolute path, or a symbolic link.
pub fn resolve_in(folder: &Path, relative: &str) -> Result<PathBuf, FileError> {
    let root = folder
        .canonicalize()
        .map_err(|e| FileError::io("shared folder", &e))?;
    let mut path = root.clone();
    let parts: Vec<&str> = relative.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(bad(relative, "empty"));
    }
    for part in parts {
        check_name(part).map_err(|_| bad(relative, "has a component that is not a plain name"))?;
        path.push(part);
    }
    let real = path
        .canonicalize()
        .map_err(|e| FileError::io(relative, &e))?;
    if !real.starts_with(&root) || real.components().any(|c| c == Component::ParentDir) {
        return Err(bad(relative, "leads outside the shared folder"));
    }
    Ok(real)
}

/// A file being received.
#[derive(Debug)]
pub struct Incoming {
    folder: PathBuf,
    name: String,
    part: PathBuf,
    file: File,
    hasher: Sha256,
    size: u64,
    have: u64,
}

impl Incoming {
    /// Start (or resume) receiving `name` of `size` bytes into `folder`.
    /// A part file left by an interrupted try is continued: its bytes are
    /// hashed and [`Self::offset`] says where the sender should go on.
    pub fn open(folder: &Path, name: &str, size: u64) -> Result<Incoming, FileError> {
        let name = check_name(name)?;
        let part = folder.join(format!(".{name}.{size}.fernhand-part"));
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&part)
            .map_err(|e| FileError::io("creating the part file", &e))?;
        let mut have = file
            .metadata()
            .map_err(|e| FileError::io("reading the part file", &e))?
            .len();
        if have > size {
            file.set_len(0)
                .map_err(|e| FileError::io("resetting the part file", &e))?;
            have = 0;
        }
        let mut hasher = Sha256::new();
        if have > 0 {
            file.seek(SeekFrom::Start(0))
                .map_err(|e| FileError::io("reading the part file", &e))?;
            let mut buf = vec![0u8; 1 << 16];
            let mut left = have;
            while left > 0 {
                let n = file
                    .read(&mut buf)
                    .map_err(|e| FileError::io("reading the part file", &e))?;
                if n == 0 {
                    break;
                }
                let n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
        }
        Ok(Incoming {
            folder: folder.to_path_buf(),
            name: name.to_owned(),
            part,
            file,
            hasher,
            size,
            have,
        })
    }

    /// Bytes already held: where the sender should start.
    pub fn offset(&self) -> u64 {
        self.have
    }

    /// The announced size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a chunk, which must start where the last one ended.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), FileError> {
        let end = offset.saturating_add(data.len() as u64);
        if offset != self.have || end > self.size {
            return Err(FileError::OutOfPlace {
                offset,
                have: self.have,
                size: self.size,
            });
        }
        self.file
            .write_all(data)
            .map_err(|e| FileError::io("writing", &e))?;
        self.hasher.update(data);
        self.have = end;
        Ok(())
    }

    /// Check the whole file against `sha256` (hex), scan it with
    /// `scanner`, and give it its name — `name`, or `name (2)` and so on if
    /// that exists; nothing is ever overwritten. On a mismatch the part file
    /// is deleted; a file the scanner flags (or cannot scan) is moved to
    /// the folder's quarantine (see [`QUARANTINE`]) and never gets its name.
    pub fn finish(self, sha256: &str, scanner: &dyn Scanner) -> Result<PathBuf, FileError> {
        if self.have != self.size {
            return Err(FileError::Incomplete {
                have: self.have,
                size: self.size,
            });
        }
        let digest = hex::encode(self.hasher.clone().finalize());
        if !digest.eq_ignore_ascii_case(sha256) {
            self.abort();
            return Err(FileError::HashMismatch);
        }
        self.file
            .sync_all()
            .map_err(|e| FileError::io("flushing", &e))?;
        match scanner.scan(&self.part) {
            Ok(Verdict::Clean) => {}
            Ok(Verdict::Infected(threat)) => {
                self.quarantine()?;
                return Err(FileError::Quarantined { threat });
            }
            Err(e) => {
                self.quarantine()?;
                return Err(FileError::NotScanned(e.to_string()));
            }
        }
        for n in 1..10_000u32 {
            let candidate = self.folder.join(numbered(&self.name, n));
            // A hard link fails if the name exists: no overwrite, no race.
            match fs::hard_link(&self.part, &candidate) {
                Ok(()) => {
                    let _ = fs::remove_file(&self.part);
                    return Ok(candidate);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                // File systems without hard links (FAT, some network
                // shares): rename, after checking the name is free.
                Err(_) if !candidate.exists() => {
                    fs::rename(&self.part, &candidate)
                        .map_err(|e| FileError::io("naming the file", &e))?;
                    return Ok(candidate);
                }
                Err(_) => continue,
            }
        }
        Err(FileError::Io("no free name for the file".into()))
    }

    /// Move the part file into the folder's quarantine: a hidden folder
    /// only its owner can enter, the file renamed with a
    /// `.quarantined` suffix and readable by its owner alone, so nothing
    /// opens or runs it by accident.
    fn quarantine(&self) -> Result<PathBuf, FileError> {
        let dir = self.folder.join(QUARANTINE);
        fs::create_dir_all(&dir).map_err(|e| FileError::io("making the quarantine", &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let to = dir.join(format!("{stamp}-{}.quarantined", self.name));
        fs::rename(&self.part, &to).map_err(|e| FileError::io("quarantining the file", &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&to, fs::Permissions::from_mode(0o600));
        }
        Ok(to)
    }

    /// Give up: delete the part file.
    pub fn abort(self) {
        let _ = fs::remove_file(&self.part);
    }

    /// Stop for now, keeping the part file so a later try resumes.
    pub fn suspend(self) {}
}

/// `report.pdf`, `report (2).pdf`, `report (3).pdf`, …
fn numbered(name: &str, n: u32) -> String {
    if n == 1 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, FileError> {
    let mut file = File::open(path).map_err(|e| FileError::io("opening", &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| FileError::io("reading", &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use fernhand_privacy::malware::{Scanners, eicar_test_file};

    fn temp() -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("fernhand-files-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_that_leave_the_folder_or_name_devices_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/etc/passwd",
            "C:\\x",
            "CON",
            "nul.txt",
            "com1.log",
            "Lpt9",
            ".bashrc",
            "a\0b",
            "x\n",
            "report.",
            "report ",
            "a:b",
        ] {
            assert!(check_name(name).is_err(), "{name:?} must be refused");
        }
        for name in [
            "report.pdf",
            "Grüße.txt",
            "console.log",
            "a..b",
            "x (2).tar.gz",
        ] {
            assert_eq!(check_name(name), Ok(name));
        }
        assert!(check_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn a_received_file_appears_only_whole_and_never_overwrites() {
        let dir = temp();
        fs::write(dir.join("notes.txt"), b"mine").unwrap();
        let data = b"hello, world".repeat(1000);
        let sha = hex::encode(Sha256::digest(&data));
        let mut incoming = Incoming::open(&dir, "notes.txt", data.len() as u64).unwrap();
        incoming.write(0, &data[..5000]).unwrap();
        assert!(
            !dir.join("notes (2).txt").exists(),
            "nothing visible before the end"
        );
        // Resume after an interruption: the part file is continued.
        incoming.suspend();
        let mut incoming = Incoming::open(&dir, "notes.txt", data.len() as u64).unwrap();
        assert_eq!(incoming.offset(), 5000);
        assert!(matches!(
            incoming.write(4000, &data[4000..5000]),
            Err(FileError::OutOfPlace { .. })
        ));
        incoming.write(5000, &data[5000..]).unwrap();
        let path = incoming.finish(&sha, &Scanners::builtin()).unwrap();
        assert_eq!(path, dir.join("notes (2).txt"));
        assert_eq!(fs::read(&path).unwrap(), data);
        assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"mine");
        let left: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 2, "no part file left");
    }

    #[test]
    fn an_eicar_file_is_quarantined_never_named() {
        let dir = temp();
        let bytes = eicar_test_file();
        let sha = hex::encode(Sha256::digest(&bytes));
        let mut incoming = Incoming::open(&dir, "invoice.pdf.exe", bytes.len() as u64).unwrap();
        incoming.write(0, &bytes).unwrap();
        let got = incoming.finish(&sha, &Scanners::builtin());
        assert_eq!(
            got,
            Err(FileError::Quarantined {
                threat: "Eicar-Test-Signature".into()
            })
        );
        assert!(!dir.join("invoice.pdf.exe").exists());
        let held: Vec<_> = fs::read_dir(dir.join(QUARANTINE)).unwrap().collect();
        assert_eq!(held.len(), 1);
        let held = held[0].as_ref().unwrap().path();
        assert!(
            held.to_string_lossy()
                .ends_with("invoice.pdf.exe.quarantined")
        );
        assert_eq!(fs::read(&held).unwrap(), bytes);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&held).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Nothing else in the folder: no part file, no named file.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![QUARANTINE.to_owned()]);
        assert!(resolve_in(&dir, &format!("{QUARANTINE}/x")).is_err());
    }

    #[test]
    fn a_wrong_hash_keeps_nothing() {
        let dir = temp();
        let mut incoming = Incoming::open(&dir, "x.bin", 3).unwrap();
        incoming.write(0, b"abc").unwrap();
        assert_eq!(
            incoming.finish(&"00".repeat(32), &Scanners::builtin()),
            Err(FileError::HashMismatch)
        );
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn shared_paths_stay_inside_the_folder() {
        let dir = temp();
        fs::create_dir_all(dir.join("logs")).unwrap();
        fs::write(dir.join("logs/app.log"), b"x").unwrap();
        assert!(resolve_in(&dir, "logs/app.log").is_ok());
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "logs/../../x",
            "",
            "logs/.hidden",
        ] {
            assert!(resolve_in(&dir, bad).is_err(), "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
            assert!(matches!(
                resolve_in(&dir, "etc/hostname"),
                Err(FileError::BadName { .. }) | Err(FileError::NotFound(_))
            ));
        }
    }
}
