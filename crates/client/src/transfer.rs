//! File transfers over a session, both directions, one protocol:
//!
//! ```text
//! sender                         receiver
//!   FileOffer {id, name, size}  ──▶  checks the name, opens (or resumes) a part file
//!                               ◀──  Control file_accept {id, offset}  |  file_error {id, error}
//!   FileChunk {id, offset, …}…  ──▶  appends in order (errors: file_error, part kept)
//!   FileEnd {id, sha256}        ──▶  checks SHA-256, renames into place
//! ```
//!
//! A transfer cut by a lost connection resumes from the part file the next
//! time the same file is offered; disk-full and permission errors go back
//! to the sender as `file_error` and are reported on both sides.

use crate::files::{FileError, Incoming};
use crate::runtime::{Sender, SessionError};
use fernhand_privacy::malware::{Scanner, Scanners};
use fernhand_protocol::MemberId;
use fernhand_protocol::control::Control;
use fernhand_protocol::message::{FileEnd, FileOffer, MAX_FILE_CHUNK, Message};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// What became of an incoming file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Whole and checked, at this path.
    Done {
        /// Transfer id.
        id: u32,
        /// Where it is.
        path: PathBuf,
    },
    /// Failed; the sender was told.
    Failed {
        /// Transfer id.
        id: u32,
        /// Why.
        error: FileError,
    },
}

/// The receiving side: part files per (sender, transfer), and the
/// malware check every whole file passes before it gets its name.
pub struct Receiving {
    folder: PathBuf,
    open: HashMap<(MemberId, u32), Incoming>,
    scanner: Arc<dyn Scanner>,
}

impl std::fmt::Debug for Receiving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiving")
            .field("folder", &self.folder)
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl Receiving {
    /// Receive into `folder`, checking files with the built-in scanner.
    pub fn new(folder: &Path) -> Receiving {
        Receiving::with_scanner(folder, Arc::new(Scanners::builtin()))
    }

    /// Receive into `folder`, checking files with `scanner`.
    pub fn with_scanner(folder: &Path, scanner: Arc<dyn Scanner>) -> Receiving {
        Receiving {
            folder: folder.to_path_buf(),
            open: HashMap::new(),
            scanner,
        }
    }

    /// The folder files go to.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// An offer arrived: the answer to send back.
    pub fn offer(&mut self, from: MemberId, offer: &FileOffer) -> Control {
        if let Some(old) = self.open.remove(&(from, offer.id)) {
            old.suspend();
        }
        match Incoming::open(&self.folder, &offer.name, offer.size) {
            Ok(incoming) => {
                let offset = incoming.offset();
                self.open.insert((from, offer.id), incoming);
                Control::FileAccept {
                    id: offer.id,
                    offset,
                }
            }
            Err(error) => failure(offer.id, &error),
        }
    }

    /// A chunk arrived; on failure (bytes out of place, disk full, …) the
    /// transfer ends, its part file is deleted, and the error is returned
    /// to tell the sender.
    pub fn chunk(&mut self, from: MemberId, id: u32, offset: u64, data: &[u8]) -> Option<Received> {
        let incoming = self.open.get_mut(&(from, id))?;
        match incoming.write(offset, data) {
            Ok(()) => None,
            Err(error) => {
                if let Some(i) = self.open.remove(&(from, id)) {
                    i.abort();
                }
                Some(Received::Failed { id, error })
            }
        }
    }

    /// Bytes held of transfer `id` from `from`, and its size.
    pub fn progress(&self, from: MemberId, id: u32) -> Option<(u64, u64)> {
        self.open.get(&(from, id)).map(|i| (i.offset(), i.size()))
    }

    /// The sender says it is complete.
    pub fn end(&mut self, from: MemberId, end: &FileEnd) -> Option<Received> {
        let incoming = self.open.remove(&(from, end.id))?;
        Some(match incoming.finish(&end.sha256, self.scanner.as_ref()) {
            Ok(path) => Received::Done { id: end.id, path },
            Err(error) => Received::Failed { id: end.id, error },
        })
    }

    /// The sender gave up on `id`: keep the part file for a later try.
    pub fn cancelled(&mut self, from: MemberId, id: u32) {
        if let Some(i) = self.open.remove(&(from, id)) {
            i.suspend();
        }
    }
}

/// A file name to offer under the tenant's restricted-data `policy`:
/// unchanged, masked (with `x`: `*` is not a legal name character), or
/// refused.
pub fn name_under_policy(
    policy: fernhand_privacy::restricted::Policy,
    name: &str,
) -> Result<String, fernhand_privacy::restricted::Blocked> {
    Ok(fernhand_privacy::restricted::check(policy, name)?
        .text
        .replace('*', "x"))
}

/// The control message that tells the sender transfer `id` failed (with
/// the threat's name when the file was quarantined).
pub fn failure(id: u32, error: &FileError) -> Control {
    Control::FileError {
        id,
        error: error.to_string(),
        threat: error.threat().map(str::to_owned),
    }
}

/// Why sending a file failed.
#[derive(Debug, Error)]
pub enum SendFileError {
    /// Reading the local file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The session ended.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// The offer for `path` (name given, size from the file).
pub fn offer_for(path: &Path, id: u32, name: &str) -> Result<FileOffer, FileError> {
    let size = std::fs::metadata(path)
        .map_err(|e| FileError::io("reading the file", &e))?
        .len();
    Ok(FileOffer {
        id,
        name: name.to_owned(),
        size,
    })
}

/// Send the first `size` bytes of `path` (the size offered: a file that
/// grows meanwhile is cut there) from `offset` as chunks of transfer `id`,
/// then its end with their SHA-256; `progress` hears (sent, size). A file
/// that shrank below `size` is an error (the receiver would wait forever).
pub async fn stream_file(
    sender: &Sender,
    to: MemberId,
    id: u32,
    path: &Path,
    size: u64,
    offset: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<String, SendFileError> {
    let mut file = std::fs::File::open(path).map_err(|e| FileError::io("opening", &e))?;
    let mut hasher = Sha256::new();
    let mut position = 0u64;
    let mut buf = vec![0u8; MAX_FILE_CHUNK];
    while position < size {
        let want = usize::try_from(size - position)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = read_full(&mut file, &mut buf[..want]).map_err(|e| FileError::io("reading", &e))?;
        if n == 0 {
            return Err(FileError::Incomplete {
                have: position,
                size,
            }
            .into());
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        let end = position + n as u64;
        if end > offset {
            let skip = usize::try_from(offset.saturating_sub(position)).unwrap_or(0);
            sender
                .send(
                    to,
                    Message::FileChunk {
                        id,
                        offset: position + skip as u64,
                        data: chunk[skip..].to_vec(),
                    },
                )
                .await?;
            progress(end, size);
        }
        position = end;
    }
    let sha256 = hex::encode(hasher.finalize());
    sender
        .send(
            to,
            Message::FileEnd(FileEnd {
                id,
                sha256: sha256.clone(),
            }),
        )
        .await?;
    Ok(sha256)
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fernhand_privacy::restricted::Policy;

    #[test]
    fn offered_names_follow_the_policy() {
        let name = "receipt 4111 1111 1111 1111.pdf";
        assert_eq!(
            name_under_policy(Policy::Warn, name).ok().as_deref(),
            Some(name)
        );
        assert_eq!(
            name_under_policy(Policy::Mask, name).ok().as_deref(),
            Some("receipt xxxx xxxx xxxx 1111.pdf")
        );
        assert!(crate::files::check_name("receipt xxxx xxxx xxxx 1111.pdf").is_ok());
        assert!(name_under_policy(Policy::Block, name).is_err());
        assert_eq!(
            name_under_policy(Policy::Block, "notes.txt")
                .ok()
                .as_deref(),
            Some("notes.txt")
        );
    }
}
