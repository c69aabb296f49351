//! Incoming e-mail to tickets: one message in one tenant transaction. A
//! new message raises an incident (the sender is its requester: the
//! tenant's user with that address, or the address itself); a message
//! whose subject names a record (`[INC-42]`) and comes from its requester
//! or from someone of the desk is a public reply on it. Automatic mail is
//! read and dropped, never answered; a message read before (same
//! Message-ID) changes nothing. Files come along as sealed attachments.

use super::attachments::{self, MAX_ATTACHMENT, NewFile};
use super::settings::DeskSettings;
use super::{notes, records as desk};
use crate::app::crypto::Sealer;
use crate::app::principal::Role;
use crate::problem::Problem;
use fernhand_desk::RecordKind;
use fernhand_desk::mail::{self, Mail};
use fernhand_store::desk::mail as seen;
use fernhand_store::desk::records::Record;
use fernhand_store::{Store, TenantTx, audit, users};
use serde_json::{Map, json};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new incident (its reference).
    Raised(String),
    /// A reply on a record (its reference).
    Replied(String),
    /// Read before.
    Duplicate,
    /// Sent by a machine; dropped.
    Automatic,
    /// Not a message the desk can read, and why.
    Refused(String),
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Raised(_) => "raised",
            Outcome::Replied(_) => "replied",
            Outcome::Duplicate => "duplicate",
            Outcome::Automatic => "automatic",
            Outcome::Refused(_) => "refused",
        }
    }
}

/// Reads one raw message into `tenant`'s desk.
pub async fn take(
    store: &Store,
    sealer: &Sealer,
    tenant: &str,
    raw: &[u8],
    now: i64,
) -> Result<Outcome, Problem> {
    let m = match mail::parse(raw) {
        Ok(m) => m,
        Err(e) => return Ok(Outcome::Refused(e.to_string())),
    };
    let mut tx = store.tenant(tenant).await?;
    if seen::seen(&mut tx, &m.message_id).await? {
        return Ok(Outcome::Duplicate);
    }
    let (outcome, record) = if m.automatic {
        (Outcome::Automatic, None)
    } else {
        let (outcome, id) = file(&mut tx, sealer, &m, now).await?;
        (outcome, Some(id))
    };
    seen::mark(
        &mut tx,
        &m.message_id,
        record.as_deref(),
        outcome.name(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The record a reply answers, if its sender may answer it.
async fn answered(
    tx: &mut TenantTx,
    m: &Mail,
    sender: Option<&users::User>,
) -> Result<Option<Record>, Problem> {
    let Some(reference) = m.reference else {
        return Ok(None);
    };
    let Ok(r) = desk::find(tx, &reference.to_string()).await else {
        return Ok(None);
    };
    let requester = r.requester.as_deref();
    let is_requester = requester == Some(m.from.as_str())
        || sender.is_some_and(|u| requester == Some(u.id.as_str()));
    let of_the_desk =
        sender.is_some_and(|u| Role::parse(&u.role).is_some_and(|role| role != Role::Requester));
    Ok((r.state_category != "closed" && (is_requester || of_the_desk)).then_some(r))
}

async fn file(
    tx: &mut TenantTx,
    sealer: &Sealer,
    m: &Mail,
    now: i64,
) -> Result<(Outcome, String), Problem> {
    let sender = users::by_email(tx, &m.from).await?;
    let actor = sender
        .as_ref()
        .map_or_else(|| format!("mail:{}", m.from), |u| u.id.clone());
    let mut text = m.text.clone();
    let skipped: Vec<&str> = m
        .files
        .iter()
        .filter(|f| f.bytes.len() > MAX_ATTACHMENT)
        .map(|f| f.name.as_str())
        .collect();
    if !skipped.is_empty() {
        text.push_str(&format!(
            "\n\n[Files over 10 MiB not kept: {}]",
            skipped.join(", ")
        ));
    }
    let (record, outcome) = match answered(tx, m, sender.as_ref()).await? {
        Some(r) => {
            let body = if text.trim().is_empty() {
                "(no text)".to_owned()
            } else {
                text.chars().take(super::fields::TEXT_MAX).collect()
            };
            notes::add(tx, &r, &actor, body, true, now).await?;
            let reference = reference(&r);
            (r, Outcome::Replied(reference))
        }
        None => {
            let s = DeskSettings::load(tx).await?;
            let mut fields = Map::new();
            let title = if m.subject.trim().is_empty() {
                format!("Message from {}", m.from)
            } else {
                m.subject.clone()
            };
            fields.insert("title".into(), json!(title));
            if !text.trim().is_empty() {
                let text: String = text.chars().take(super::fields::TEXT_MAX).collect();
                fields.insert("description".into(), json!(text));
            }
            let requester = sender.as_ref().map_or(m.from.as_str(), |u| u.id.as_str());
            fields.insert("requester".into(), json!(requester));
            let r = desk::create(tx, &s, &actor, RecordKind::Incident, &fields, now).await?;
            let reference = reference(&r);
            (r, Outcome::Raised(reference))
        }
    };
    for f in m.files.iter().filter(|f| f.bytes.len() <= MAX_ATTACHMENT) {
        let file = NewFile {
            name: &f.name,
            bytes: &f.bytes,
            public: true,
        };
        attachments::attach(tx, sealer, &record, &actor, file, now).await?;
    }
    audit::append(
        tx,
        &actor,
        "desk.mail",
        &record.id,
        &json!({"outcome": outcome.name(), "message_id": m.message_id}),
    )
    .await?;
    Ok((outcome, record.id))
}

fn reference(r: &Record) -> String {
    desk::reference_of(r).map_or_else(|| r.id.clone(), |x| x.to_string())
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Raised(r) => write!(f, "raised {r}"),
            Outcome::Replied(r) => write!(f, "a reply on {r}"),
            Outcome::Duplicate => f.write_str("read before; nothing changed"),
            Outcome::Automatic => f.write_str("automatic mail; dropped"),
            Outcome::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}
