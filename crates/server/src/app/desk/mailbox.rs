//! Where incoming mail is read from: the extension point of the e-mail
//! intake. A [`Mailbox`] hands out raw messages and hears what became of
//! each; two are built in — a Maildir (each file of `new/` moves to `cur/`
//! once read, flagged `F` when refused) and an mbox file (left as it is;
//! the Message-IDs already read make a second pass change nothing). Mail
//! reaches either from the mail system (a local delivery agent, fetchmail,
//! an IMAP sync); Fernhand runs no SMTP server of its own.

use super::mail::{self, Outcome};
use crate::app::crypto::Sealer;
use fernhand_store::Store;
use std::path::{Path, PathBuf};

/// The largest message read (larger ones are refused unread).
pub const MESSAGE_MAX: u64 = 64 * 1024 * 1024;

/// Why a mailbox cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// A file or folder.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store (nothing of the message was written; it stays unread).
    #[error("the desk could not take a message: {0}")]
    Desk(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MailboxError + '_ {
    move |source| MailboxError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A message handed out: a name for reports, and its bytes or why it
/// cannot be read.
pub type Waiting = (String, Result<Vec<u8>, String>);

/// A source of raw messages.
pub trait Mailbox {
    /// The next unread message: a name for reports and its bytes (`Err`:
    /// refused unread, with why).
    fn next(&mut self) -> Result<Option<Waiting>, MailboxError>;
    /// What became of the message last handed out.
    fn done(&mut self, outcome: &Outcome) -> Result<(), MailboxError>;
}

/// A Maildir: `new/`, `cur/`, `tmp/`.
pub struct Maildir {
    dir: PathBuf,
    waiting: Vec<PathBuf>,
    current: Option<PathBuf>,
}

impl Maildir {
    /// The messages waiting in `dir/new`, oldest name first.
    pub fn open(dir: &Path) -> Result<Maildir, MailboxError> {
        let new = dir.join("new");
        std::fs::create_dir_all(dir.join("cur")).map_err(io(dir))?;
        let mut waiting: Vec<PathBuf> = std::fs::read_dir(&new)
            .map_err(io(&new))?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .collect();
        waiting.sort();
        waiting.reverse();
        Ok(Maildir {
            dir: dir.to_owned(),
            waiting,
            current: None,
        })
    }
}

impl Mailbox for Maildir {
    fn next(&mut self) -> Result<Option<Waiting>, MailboxError> {
        let Some(path) = self.waiting.pop() else {
            return Ok(None);
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        let bytes = if size > MESSAGE_MAX {
            Err(format!("larger than {} MiB", MESSAGE_MAX >> 20))
        } else {
            Ok(std::fs::read(&path).map_err(io(&path))?)
        };
        self.current = Some(path);
        Ok(Some((name, bytes)))
    }

    fn done(&mut self, outcome: &Outcome) -> Result<(), MailboxError> {
        let Some(path) = self.current.take() else {
            return Ok(());
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = name.split(":2,").next().unwrap_or(&name).to_owned();
        let flags = if matches!(outcome, Outcome::Refused(_)) {
            "FS"
        } else {
            "S"
        };
        let to = self.dir.join("cur").join(format!("{base}:2,{flags}"));
        std::fs::rename(&path, &to).map_err(io(&path))
    }
}

/// An mbox file, read whole.
pub struct Mbox {
    messages: std::vec::IntoIter<Vec<u8>>,
    n: usize,
}

impl Mbox {
    /// The messages of the mbox file at `path`.
    pub fn open(path: &Path) -> Result<Mbox, MailboxError> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        Ok(Mbox {
            messages: fernhand_desk::mail::mbox(&bytes).into_iter(),
            n: 0,
        })
    }
}

impl Mailbox for Mbox {
    fn next(&mut self) -> Result<Option<Waiting>, MailboxError> {
        Ok(self.messages.next().map(|m| {
            self.n += 1;
            (format!("message {}", self.n), Ok(m))
        }))
    }

    fn done(&mut self, _: &Outcome) -> Result<(), MailboxError> {
        Ok(())
    }
}

/// What a run did: each message's name and outcome.
pub type Report = Vec<(String, Outcome)>;

/// Reads every waiting message of `mailbox` into `tenant`'s desk. A store
/// error stops the run with that message unread (and nothing of it
/// written), to be read again next time.
pub async fn read(
    store: &Store,
    sealer: &Sealer,
    tenant: &str,
    mailbox: &mut dyn Mailbox,
    now: i64,
) -> Result<Report, MailboxError> {
    let mut report = Vec::new();
    while let Some((name, bytes)) = mailbox.next()? {
        let outcome = match bytes {
            Err(why) => Outcome::Refused(why),
            Ok(raw) => match mail::take(store, sealer, tenant, &raw, now).await {
                Ok(outcome) => outcome,
                // The desk refused what the message asked (nothing of it
                // was written): it will not do better next time.
                Err(e) if e.status.is_client_error() => Outcome::Refused(e.detail),
                Err(e) => return Err(MailboxError::Desk(e.detail)),
            },
        };
        mailbox.done(&outcome)?;
        report.push((name, outcome));
    }
    Ok(report)
}
