//! Incoming e-mail as desk input, without any I/O: a message is parsed
//! (MIME, charsets, HTML bodies turned into text) into what the desk needs
//! — who sent it, the reference it answers (`[INC-42]` in the subject),
//! its new text without the quoted conversation below, its files — and
//! automatic mail (auto-replies, lists, bounces) is recognised so that two
//! robots cannot keep a ticket talking to itself.

use crate::Reference;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

/// Longest text kept (characters).
pub const TEXT_MAX: usize = 20_000;
/// Longest subject kept as a title (characters).
pub const TITLE_MAX: usize = 200;
/// Files taken from one message.
pub const FILES_MAX: usize = 20;

/// A file that came with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailFile {
    /// Its name (a made-up one when the message gave none).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A message as the desk reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// Its Message-ID, or `sha256:<hex>` of the raw message without one:
    /// what makes reading the same mailbox twice change nothing.
    pub message_id: String,
    /// The sender's address, lower case.
    pub from: String,
    /// The sender's name, if given.
    pub from_name: Option<String>,
    /// The subject (a title: one line, at most [`TITLE_MAX`] characters).
    pub subject: String,
    /// The record it answers, from `[INC-42]` in the subject.
    pub reference: Option<Reference>,
    /// The new text, without the quoted conversation.
    pub text: String,
    /// Sent by a machine (auto-reply, list, bounce): never answered.
    pub automatic: bool,
    /// Files, at most [`FILES_MAX`].
    pub files: Vec<MailFile>,
}

/// Why a message cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Not an e-mail message.
    #[error("not an e-mail message")]
    Unparseable,
    /// No sender address.
    #[error("the message has no sender address")]
    NoSender,
}

/// The first `[KIND-N]` in `subject` that names a record.
pub fn reference_in(subject: &str) -> Option<Reference> {
    subject
        .split('[')
        .skip(1)
        .filter_map(|rest| rest.split_once(']'))
        .find_map(|(inside, _)| inside.trim().parse().ok())
}

/// The new part of a reply: lines up to the quoted conversation.
pub fn new_text(body: &str) -> String {
    let mut out = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let quoted = t.starts_with('>')
            || t.starts_with("-----Original Message-----")
            || (t.starts_with("On ") && t.ends_with("wrote:"));
        if quoted {
            break;
        }
        out.push(line.trim_end());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let text = out.join("\n");
    let text = if text.trim().is_empty() {
        body.trim()
    } else {
        text.trim()
    };
    clean(text, TEXT_MAX, true)
}

/// `s` without NUL and (unless `lines`) line breaks or other control
/// characters, cut to `max` characters.
fn clean(s: &str, max: usize, lines: bool) -> String {
    s.chars()
        .filter(|c| *c != '\0')
        .map(|c| {
            if c.is_control() && !(lines && (c == '\n' || c == '\t')) {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect()
}

/// Reads one raw message.
pub fn parse(raw: &[u8]) -> Result<Mail, MailError> {
    let m = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::Unparseable)?;
    if m.headers().is_empty() {
        return Err(MailError::Unparseable);
    }
    let sender = m
        .from()
        .and_then(|a| a.first())
        .ok_or(MailError::NoSender)?;
    let from = sender
        .address()
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@') && a.len() <= 254 && !a.chars().any(char::is_control))
        .ok_or(MailError::NoSender)?;
    let from_name = sender
        .name()
        .map(|n| clean(n.trim(), 200, false))
        .filter(|n| !n.is_empty());
    let subject = clean(m.subject().unwrap_or_default().trim(), TITLE_MAX, false);
    let message_id = match m.message_id() {
        Some(id) if !id.trim().is_empty() => clean(id.trim(), 500, false),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    };
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let automatic = header("Auto-Submitted").is_some_and(|v| v != "no")
        || header("Precedence")
            .is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
        || m.header_raw("X-Autoreply").is_some()
        || m.header_raw("List-Id").is_some()
        || from.starts_with("mailer-daemon@")
        || from.starts_with("postmaster@");
    let body = m.body_text(0).unwrap_or_default();
    let files = m
        .attachments()
        .filter(|p| !p.contents().is_empty())
        .take(FILES_MAX)
        .enumerate()
        .map(|(i, p)| MailFile {
            name: p
                .attachment_name()
                .map(|n| clean(n.trim(), 200, false).replace(['/', '\\'], "_"))
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .unwrap_or_else(|| format!("attachment-{}", i + 1)),
            bytes: p.contents().to_vec(),
        })
        .collect();
    Ok(Mail {
        message_id,
        from,
        from_name,
        reference: reference_in(&subject),
        subject,
        text: new_text(&body),
        automatic,
        files,
    })
}

/// Splits an mbox file into its raw messages (`From ` lines between them).
pub fn mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    mail_parser::mailbox::mbox::MessageIterator::new(bytes)
        .filter_map(Result::ok)
        .map(|m| m.unwrap_contents())
        .collect()
}
