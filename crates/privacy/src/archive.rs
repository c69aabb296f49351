//! The archive container: writing entries while hashing them, and reading
//! an archive back into a private folder, refusing anything its manifest
//! does not vouch for (a changed, missing or extra entry, a path that is
//! not plain, a link, an entry too large).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The archive's format name and version.
pub const FORMAT: &str = "fernhand-tenant-export";
/// The version this code writes and reads.
pub const VERSION: u64 = 1;
/// The manifest's entry name.
pub const MANIFEST: &str = "manifest.json";
/// The largest manifest read.
const MAX_MANIFEST: u64 = 64 << 20;
/// The largest single entry read.
const MAX_ENTRY: u64 = 4 << 30;

/// Why an archive cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading or writing.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// Not a tar archive, or a damaged one.
    #[error("not a readable archive: {0}")]
    Damaged(String),
    /// An entry that is not a plain file with a plain path.
    #[error("entry refused: {0}")]
    Entry(String),
    /// No manifest, or one that does not parse or names another format.
    #[error("manifest: {0}")]
    Manifest(String),
    /// An entry differs from what the manifest says.
    #[error("{0} does not match the manifest (changed after export)")]
    Tampered(String),
    /// The manifest lists an entry the archive lacks.
    #[error("{0} is in the manifest but not in the archive")]
    Missing(String),
    /// The archive holds an entry the manifest does not list.
    #[error("{0} is in the archive but not in the manifest")]
    Unlisted(String),
}

/// Writes an archive: entries hashed as they go, the manifest last.
pub struct ArchiveWriter<W: Write> {
    tar: tar::Builder<W>,
    files: BTreeMap<String, (u64, String)>,
    mtime: u64,
}

impl<W: Write> ArchiveWriter<W> {
    /// An archive into `out`, its entries dated `mtime` (Unix seconds).
    pub fn new(out: W, mtime: u64) -> ArchiveWriter<W> {
        ArchiveWriter {
            tar: tar::Builder::new(out),
            files: BTreeMap::new(),
            mtime,
        }
    }

    fn header(&self, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_size(size);
        h.set_mode(0o600);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h
    }

    /// Add an entry from memory.
    pub fn add_bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        check_path(path).map_err(|e| io::Error::other(e.to_string()))?;
        let mut h = self.header(data.len() as u64);
        self.tar.append_data(&mut h, path, data)?;
        self.files.insert(
            path.to_owned(),
            (data.len() as u64, hex::encode(Sha256::digest(data))),
        );
        Ok(())
    }

    /// Add an entry from a file on disk (hashed, then streamed in).
    pub fn add_file(&mut self, path: &str, file: &Path) -> io::Result<()> {
        check_path(path).map_err(|e| io::Error::other(e.to_string()))?;
        let (size, sha256) = hash_file(file)?;
        let mut h = self.header(size);
        self.tar
            .append_data(&mut h, path, std::fs::File::open(file)?)?;
        self.files.insert(path.to_owned(), (size, sha256));
        Ok(())
    }

    /// Write the manifest (`manifest` with the `files` list added) and end
    /// the archive; returns the writer.
    pub fn finish(mut self, mut manifest: Value) -> io::Result<W> {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|(path, (size, sha256))| json!({"path": path, "size": size, "sha256": sha256}))
            .collect();
        manifest["format"] = json!(FORMAT);
        manifest["version"] = json!(VERSION);
        manifest["files"] = Value::from(files);
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
        let mut h = self.header(bytes.len() as u64);
        self.tar.append_data(&mut h, MANIFEST, bytes.as_slice())?;
        self.tar.into_inner()
    }
}

fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(h.finalize())))
}

/// A plain relative path: lower-case letters, digits, `-`, `_`, `.` in
/// `/`-separated parts, none of them empty, `.` or `..`.
fn check_path(path: &str) -> Result<(), ArchiveError> {
    let plain = !path.is_empty()
        && path.len() <= 200
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        });
    if plain {
        Ok(())
    } else {
        Err(ArchiveError::Entry(format!("{path:?} is not a plain path")))
    }
}

/// Read `archive` into `into` (a new, private folder) and check every
/// entry against the manifest; returns the manifest.
pub fn unpack(archive: &Path, into: &Path) -> Result<Value, ArchiveError> {
    let file = std::fs::File::open(archive)?;
    let mut tar = tar::Archive::new(file);
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest: Option<Value> = None;
    let entries = tar
        .entries()
        .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        let path = entry
            .path()
            .map_err(|e| ArchiveError::Entry(e.to_string()))?
            .to_str()
            .ok_or_else(|| ArchiveError::Entry("a path that is not UTF-8".into()))?
            .to_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(ArchiveError::Entry(format!("{path:?} is not a plain file")));
        }
        check_path(&path)?;
        if seen.contains_key(&path) || (path == MANIFEST && manifest.is_some()) {
            return Err(ArchiveError::Entry(format!("{path:?} appears twice")));
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        if path == MANIFEST {
            if size > MAX_MANIFEST {
                return Err(ArchiveError::Manifest("too large".into()));
            }
            let mut bytes = Vec::new();
            (&mut entry).take(MAX_MANIFEST).read_to_end(&mut bytes)?;
            manifest = Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| ArchiveError::Manifest(e.to_string()))?,
            );
            continue;
        }
        if size > MAX_ENTRY {
            return Err(ArchiveError::Entry(format!("{path:?} is too large")));
        }
        let to = local(into, &path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&to)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            written += n as u64;
        }
        seen.insert(path, (written, hex::encode(h.finalize())));
    }
    let manifest = manifest.ok_or_else(|| ArchiveError::Manifest("the archive has none".into()))?;
    if manifest["format"] != FORMAT {
        return Err(ArchiveError::Manifest(format!("not a {FORMAT} archive")));
    }
    if manifest["version"].as_u64() != Some(VERSION) {
        return Err(ArchiveError::Manifest(format!(
            "version {} (this Fernhand reads version {VERSION})",
            manifest["version"]
        )));
    }
    let listed = manifest["files"]
        .as_array()
        .ok_or_else(|| ArchiveError::Manifest("no file list".into()))?;
    let mut expected: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for f in listed {
        let (Some(path), Some(size), Some(sha256)) =
            (f["path"].as_str(), f["size"].as_u64(), f["sha256"].as_str())
        else {
            return Err(ArchiveError::Manifest(
                "a file entry lacks path, size or sha256".into(),
            ));
        };
        expected.insert(path.to_owned(), (size, sha256.to_ascii_lowercase()));
    }
    for (path, got) in &seen {
        match expected.get(path) {
            None => return Err(ArchiveError::Unlisted(path.clone())),
            Some(want) if want != got => return Err(ArchiveError::Tampered(path.clone())),
            Some(_) => {}
        }
    }
    if let Some(path) = expected.keys().find(|p| !seen.contains_key(*p)) {
        return Err(ArchiveError::Missing(path.clone()));
    }
    Ok(manifest)
}

/// Where an entry's path lands under `into` (the path is checked plain).
pub fn local(into: &Path, path: &str) -> PathBuf {
    let mut to = into.to_path_buf();
    for part in path.split('/') {
        to.push(part);
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("fernhand-archive-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).ok();
        d
    }

    fn archive(dir: &Path, entries: &[(&str, &[u8])], manifest: Value) -> PathBuf {
        let path = dir.join("a.tar");
        let mut w = ArchiveWriter::new(
            std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}")),
            0,
        );
        for (p, d) in entries {
            w.add_bytes(p, d).unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish(manifest).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn a_written_archive_reads_back_and_a_changed_byte_is_caught() {
        let dir = temp("rt");
        let path = archive(
            &dir,
            &[("tables/users.jsonl", b"{\"id\":\"u1\"}\n")],
            json!({"note": 1}),
        );
        let manifest = unpack(&path, &dir.join("out")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest["note"], 1);
        assert_eq!(
            std::fs::read(dir.join("out/tables/users.jsonl")).ok(),
            Some(b"{\"id\":\"u1\"}\n".to_vec())
        );
        // Flip one byte of the entry's data (it sits after the 512-byte header).
        let mut bytes = std::fs::read(&path).unwrap_or_default();
        bytes[512 + 3] ^= 1;
        std::fs::write(&path, &bytes).ok();
        let _ = std::fs::remove_dir_all(dir.join("out2"));
        match unpack(&path, &dir.join("out2")) {
            Err(ArchiveError::Tampered(p)) => assert_eq!(p, "tables/users.jsonl"),
            other => panic!("not refused: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn paths_that_are_not_plain_are_refused() {
        for bad in ["../x", "/etc/passwd", "a//b", "A.txt", "a/./b", "", "x\\y"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_path("files/attachments/0a1b.bin").is_ok());
    }
}
