//! Attachments of a record: size-limited, named safely, sealed with
//! AES-256-GCM under the server's seal key and bound to tenant, record and
//! attachment (a sealed file moved to another row does not open).

use crate::app::crypto::Sealer;
use crate::problem::Problem;
use fernhand_store::TenantTx;
use fernhand_store::desk::attachments::{self, Attachment};
use fernhand_store::desk::records::Record;
use fernhand_store::desk::{history, text};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The largest attachment.
pub const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;

pub(crate) fn context(tenant: &str, record: &str, id: &str) -> String {
    format!("desk-attachment:{tenant}:{record}:{id}")
}

/// Refuses names that could not be saved as given or could mislead.
fn check_name(name: &str) -> Result<(), Problem> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 200
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\'))
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(Problem::bad_request(
            "name is 1 to 200 characters without control characters or slashes",
        ))
    }
}

/// A file to attach.
pub struct NewFile<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Whether the requester sees it.
    pub public: bool,
}

/// Attaches `file` to `r`.
pub async fn attach(
    tx: &mut TenantTx,
    sealer: &Sealer,
    r: &Record,
    actor: &str,
    file: NewFile<'_>,
    now: i64,
) -> Result<Attachment, Problem> {
    let NewFile {
        name,
        bytes,
        public,
    } = file;
    check_name(name)?;
    let mut name = name.to_owned();
    let policy = crate::app::privacy::restricted::policy(tx).await?;
    crate::app::privacy::restricted::apply(policy, &mut name)?;
    let name = name.as_str();
    if bytes.is_empty() {
        return Err(Problem::bad_request("an attachment has at least one byte"));
    }
    if bytes.len() > MAX_ATTACHMENT {
        return Err(Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "an attachment is at most 10 MiB",
        ));
    }
    if r.state_category == "closed" {
        return Err(Problem::conflict("a closed record cannot change"));
    }
    let a = Attachment {
        id: fernhand_store::new_id()?,
        record_id: r.id.clone(),
        name: name.to_owned(),
        size: i64::try_from(bytes.len()).map_err(|_| Problem::internal())?,
        sha256: hex::encode(Sha256::digest(bytes)),
        public,
        uploaded_by: actor.to_owned(),
        created_at: now,
    };
    let sealed = sealer
        .seal(bytes, context(tx.tenant(), &r.id, &a.id).as_bytes())
        .ok_or_else(Problem::internal)?;
    attachments::insert(tx, &a, &sealed).await?;
    text::put(tx, &r.id, &a.id, &a.name).await?;
    history::append(
        tx,
        &r.id,
        now,
        actor,
        &[("attachment".into(), None, Some(a.name.clone()))],
    )
    .await?;
    super::events::emit(
        tx,
        r,
        "attachment_added",
        actor,
        json!({"attachment": {"id": a.id, "name": a.name, "size": a.size, "sha256": a.sha256, "public": a.public}}),
        now,
    )
    .await?;
    Ok(a)
}

/// An attachment and its bytes, opened.
pub async fn open(
    tx: &mut TenantTx,
    sealer: &Sealer,
    id: &str,
) -> Result<(Attachment, zeroize::Zeroizing<Vec<u8>>), Problem> {
    let (a, sealed) = attachments::get(tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let bytes = sealer
        .open(
            &sealed,
            context(tx.tenant(), &a.record_id, &a.id).as_bytes(),
        )
        .ok_or_else(|| {
            tracing::error!(attachment = %a.id, "a sealed attachment does not open");
            Problem::internal()
        })?;
    Ok((a, bytes))
}
