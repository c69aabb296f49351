//! Remote support from the desk: start a session from a record (linked to
//! it, in its history) and attach the session's record when it ends. The
//! join code's secret half is made by the expert's own client and reaches
//! the customer from there (copied, read out, or sent from the expert's
//! mail) — never through the server, which could otherwise join. The
//! session record (members, times, transcript, files, diagnostics) comes
//! from the expert's endpoint for the same reason: the server never sees
//! session content.

use super::sessions;
use crate::app::AppState;
use crate::app::desk::records as desk;
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fernhand_store::desk::{history, sessions as record_sessions, text};
use fernhand_store::{audit, now, support, users};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Starts a remote session from a desk record.
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    start_kind(&state, &principal, &id, support::REMOTE).await
}

/// Starts a camera share from a desk record.
pub async fn start_camera(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    start_kind(&state, &principal, &id, support::CAMERA).await
}

async fn start_kind(
    state: &AppState,
    principal: &Principal,
    id: &str,
    kind: &str,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::RunSessions)?;
    principal.require(Permission::WorkDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, id).await?;
    // Whom the expert's console offers to e-mail the join link: the
    // requester's address (a user of the tenant, or a contact given as one).
    let notify = match r.requester.as_deref() {
        Some(who) => match users::get(&mut tx, who).await? {
            Some(u) => Some(u.email),
            None => who.contains('@').then(|| who.to_owned()),
        },
        None => None,
    };
    tx.commit().await?;
    if r.state_category == "closed" {
        return Err(Problem::conflict("a closed record cannot change"));
    }
    let mut body = sessions::open(state, principal, Some(&r.id), kind).await?;
    body["desk_record"] = json!(r.id);
    body["desk_reference"] = json!(desk::reference_of(&r).map(|x| x.to_string()));
    body["notify_email"] = json!(notify);
    Ok((StatusCode::CREATED, Json(body)))
}

/// A member of the session, as the expert's endpoint saw it.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Display name.
    name: String,
    /// `expert`, `customer`, `agent`.
    role: String,
    /// Joined (Unix seconds).
    joined_at: i64,
    /// Left (Unix seconds), if before the end.
    #[serde(default)]
    left_at: Option<i64>,
}

/// A chat line.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// When (Unix seconds).
    pub(super) at: i64,
    /// Who.
    pub(super) from: String,
    /// What.
    pub(super) text: String,
}

/// A file moved.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileMoved {
    /// Name.
    name: String,
    /// Bytes.
    size: u64,
    /// SHA-256 (hex).
    sha256: String,
    /// `to_customer` or `from_customer`.
    direction: String,
}

/// The record of an ended session, from the expert's endpoint.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Who took part.
    members: Vec<Member>,
    /// Started (Unix seconds).
    started_at: i64,
    /// Ended (Unix seconds).
    ended_at: i64,
    /// The chat.
    #[serde(default)]
    transcript: Vec<Line>,
    /// Files moved.
    #[serde(default)]
    files: Vec<FileMoved>,
    /// A diagnostics snapshot, as the agent reported it.
    #[serde(default)]
    diagnostics: Option<Value>,
}

impl Summary {
    fn check(&self) -> Result<(), Problem> {
        let bad = |m: &str| Err(Problem::bad_request(m.to_owned()));
        const YEAR_9999: i64 = 253_402_300_799;
        if !(0..=YEAR_9999).contains(&self.started_at) || !(0..=YEAR_9999).contains(&self.ended_at)
        {
            return bad("started_at and ended_at are Unix seconds");
        }
        if self.ended_at < self.started_at {
            return bad("ended_at is before started_at");
        }
        if self.members.len() > 64 || self.files.len() > 1000 || self.transcript.len() > 5000 {
            return bad("at most 64 members, 1,000 files and 5,000 chat lines");
        }
        let short = |s: &str| s.chars().count() <= 200 && !s.contains('\0');
        if !self
            .members
            .iter()
            .all(|m| short(&m.name) && matches!(m.role.as_str(), "expert" | "customer" | "agent"))
        {
            return bad(
                "a member has a name of at most 200 characters and a role of expert, customer or agent",
            );
        }
        if !self
            .transcript
            .iter()
            .all(|l| short(&l.from) && l.text.chars().count() <= 4000 && !l.text.contains('\0'))
        {
            return bad("a chat line is at most 4,000 characters from a name of at most 200");
        }
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !self.files.iter().all(|f| {
            short(&f.name)
                && hex64(&f.sha256)
                && matches!(f.direction.as_str(), "to_customer" | "from_customer")
        }) {
            return bad(
                "a file has a name, a SHA-256 in hex and a direction (to_customer or from_customer)",
            );
        }
        Ok(())
    }
}

/// Attaches an ended session's record to the desk records it was started
/// from.
pub async fn attach(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Summary>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::RunSessions)?;
    body.check()?;
    let mut tx = principal.tx().await?;
    let Some(session) = support::get(&mut tx, &id).await? else {
        return Err(Problem::not_found());
    };
    // A camera share's chat and times are kept with the share, sealed, and
    // go with it after 72 hours; on the ticket (searchable, for good) they
    // would outlive that.
    if session.kind == support::CAMERA {
        return Err(Problem::conflict(
            "a camera share's record is kept with the share (POST /api/v1/sessions/{id}/camera/record), not on the ticket",
        ));
    }
    if !record_sessions::is_linked(&mut tx, &id).await? {
        return Err(Problem::conflict(
            "this session was not started from a desk record",
        ));
    }
    let t = now();
    let mut summary = serde_json::to_value(&body).map_err(|_| Problem::internal())?;
    summary["duration_seconds"] = json!(body.ended_at - body.started_at);
    let records = record_sessions::attach(&mut tx, &id, &summary, t).await?;
    if records.is_empty() {
        return Err(Problem::conflict(
            "this session's record is already attached",
        ));
    }
    let transcript: String = body
        .transcript
        .iter()
        .map(|l| format!("{}: {}\n", l.from, l.text))
        .collect();
    for r in &records {
        // The machine's diagnostics refresh its configuration item.
        if let Some(Value::Object(diagnostics)) = &body.diagnostics
            && let Some(record) = fernhand_store::desk::records::get(&mut tx, r).await?
            && let Some(ci) = record.ci_id.as_deref()
        {
            crate::app::desk::inventory::diagnostics_reported(&mut tx, ci, diagnostics, t).await?;
        }
        history::append(
            &mut tx,
            r,
            t,
            &principal.user.id,
            &[("session_record".into(), None, Some(id.clone()))],
        )
        .await?;
        if !transcript.is_empty() {
            text::put(&mut tx, r, &format!("session:{id}:{r}"), &transcript).await?;
        }
        if let Some(record) = fernhand_store::desk::records::get(&mut tx, r).await? {
            crate::app::desk::events::emit(
                &mut tx,
                &record,
                "session_record_attached",
                &principal.user.id,
                json!({"session": id, "duration_seconds": summary["duration_seconds"]}),
                t,
            )
            .await?;
        }
    }
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.session_record",
        &id,
        &json!({"records": records}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"attached_to": records})))
}
