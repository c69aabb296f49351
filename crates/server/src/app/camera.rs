//! Camera share, the stored side: snapshots the expert takes and the
//! session's record (chat, annotations, times) its console sends at the
//! end, sealed with AES-256-GCM under the tenant's current data key and
//! bound to tenant, session and item; and the retention job that deletes
//! them 72 hours after their session ends, into the audit log. The video
//! itself is never stored and never passes the server (WebRTC, peer to
//! peer or through TURN, which relays only SRTP).

use crate::app::crypto::Sealer;
use crate::app::problem::Problem;
use crate::app::tenant_keys;
use fernhand_store::camera::{self, CameraItem};
use fernhand_store::support::{self, SupportSession};
use fernhand_store::{Store, TenantTx, audit, new_id, tenants};
use serde_json::json;
use std::time::Duration;
use zeroize::Zeroizing;

/// Largest snapshot accepted.
pub const MAX_SNAPSHOT: usize = 8 << 20;
/// Largest session record accepted.
pub const MAX_RECORD: usize = 2 << 20;
/// How long camera-share items outlive their session.
pub const KEEP_SECONDS: i64 = 72 * 3600;
/// A share nobody ended counts as ended this long after it started (its
/// join link's lifetime and then some).
pub const UNENDED_SECONDS: i64 = 24 * 3600;
/// How often the retention job looks.
const EVERY: Duration = Duration::from_secs(600);
/// Sessions cleared per tenant and pass.
const BATCH: i64 = 200;

/// The image type of `bytes`, by its signature (the declared type is not
/// trusted): JPEG, PNG or WebP.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

pub(crate) fn context(tenant: &str, session: &str, item: &str) -> Vec<u8> {
    format!("camera-item:{tenant}:{session}:{item}").into_bytes()
}

/// The camera-share session `id` of the caller's tenant.
pub async fn session(tx: &mut TenantTx, id: &str) -> Result<SupportSession, Problem> {
    match support::get(tx, id).await? {
        Some(s) if s.kind == support::CAMERA => Ok(s),
        _ => Err(Problem::not_found()),
    }
}

/// What is stored.
pub struct NewItem<'a> {
    /// `snapshot` or `record`.
    pub item: &'a str,
    /// Its media type.
    pub media_type: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Who stores it.
    pub by: &'a str,
}

/// Seals and stores an item of session `s`.
pub async fn store(
    tx: &mut TenantTx,
    sealer: &Sealer,
    s: &SupportSession,
    new: NewItem<'_>,
    now: i64,
) -> Result<CameraItem, Problem> {
    let key = tenant_keys::current(tx, sealer).await?;
    let item = CameraItem {
        id: new_id()?,
        session_id: s.id.clone(),
        item: new.item.to_owned(),
        media_type: new.media_type.to_owned(),
        size: i64::try_from(new.bytes.len()).map_err(|_| Problem::internal())?,
        key_version: key.version,
        created_by: new.by.to_owned(),
        created_at: now,
    };
    let sealed = key
        .seal(new.bytes, &context(tx.tenant(), &s.id, &item.id))
        .ok_or_else(Problem::internal)?;
    camera::insert(tx, &item, &sealed).await?;
    Ok(item)
}

/// An item and its bytes, opened.
pub async fn open(
    tx: &mut TenantTx,
    sealer: &Sealer,
    id: &str,
) -> Result<(CameraItem, Zeroizing<Vec<u8>>), Problem> {
    let (item, sealed) = camera::get(tx, id).await?.ok_or_else(Problem::not_found)?;
    let key = tenant_keys::version(tx, sealer, item.key_version).await?;
    let bytes = key
        .open(&sealed, &context(tx.tenant(), &item.session_id, &item.id))
        .ok_or_else(|| {
            tracing::error!(item = %item.id, "a sealed camera-share item does not open");
            Problem::internal()
        })?;
    Ok((item, bytes))
}

/// One session's items deleted by the retention job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    /// Tenant.
    pub tenant: String,
    /// Session.
    pub session: String,
    /// Items deleted.
    pub items: u64,
}

/// One retention pass at `now` over every tenant: camera-share items of
/// sessions that ended [`KEEP_SECONDS`] ago (or, never ended, started
/// [`UNENDED_SECONDS`] before that) are deleted, each session in its own
/// transaction with an audit entry. Idempotent; a crash mid-pass leaves
/// whole sessions done or untouched, and the next pass carries on.
pub async fn retention_pass(store: &Store, now: i64) -> Result<Vec<Deleted>, Problem> {
    let mut p = store.platform().await?;
    let ids = tenants::ids(&mut p).await?;
    drop(p);
    let mut out = Vec::new();
    for tenant in ids {
        match retention_tenant(store, &tenant, now).await {
            Ok(mut done) => out.append(&mut done),
            Err(e) => tracing::warn!(tenant = %tenant, "camera-share retention: {}", e.detail),
        }
    }
    Ok(out)
}

async fn retention_tenant(store: &Store, tenant: &str, now: i64) -> Result<Vec<Deleted>, Problem> {
    let mut tx = store.tenant(tenant).await?;
    let due = camera::due_sessions(
        &mut tx,
        now - KEEP_SECONDS,
        now - KEEP_SECONDS - UNENDED_SECONDS,
        BATCH,
    )
    .await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for session in due {
        let mut tx = store.tenant(tenant).await?;
        let items = camera::delete_session(&mut tx, &session).await?;
        audit::append(
            &mut tx,
            "system:retention",
            "camera.deleted",
            &session,
            &json!({"items": items, "rule": "camera-share content, 72 hours after its session", "at": now}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(tenant = %tenant, session = %session, items, "camera-share items deleted (72 h after the session)");
        out.push(Deleted {
            tenant: tenant.to_owned(),
            session,
            items,
        });
    }
    Ok(out)
}

/// Runs a retention pass every ten minutes until aborted.
pub async fn run(store: Store) {
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        if let Err(e) = retention_pass(&store, fernhand_store::now()).await {
            tracing::warn!("camera-share retention: {}", e.detail);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn images_are_told_by_their_signature() {
        assert_eq!(image_type(&[0xff, 0xd8, 0xff, 0xe0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(image_type(b""), None);
    }
}
