//! Security events raised by a session's endpoints, which alone see a
//! session's content: today a received file the malware check quarantined.
//! The endpoint authenticates with its session grant; the event is stored
//! in the security log, forwarded to the alert webhook (signed) and noted
//! in the tenant's audit log. Carries the threat's name and the file's
//! SHA-256, never the file or its name.

use super::Peer;
use crate::app::AppState;
use crate::app::json::ApiJson;
use crate::app::problem::Problem;
use crate::broker::BrokerError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use fernhand_store::audit;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionEvent {
    /// `malware_quarantined`.
    kind: String,
    /// The threat's name, as the scanner reported it.
    threat: String,
    /// SHA-256 (hex) of the quarantined file, if known.
    #[serde(default)]
    sha256: String,
}

/// Records a security event from a session member.
pub async fn report(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    ApiJson(event): ApiJson<SessionEvent>,
) -> Result<StatusCode, Problem> {
    let Some(grant) = crate::broker::http::bearer(&headers) else {
        return Err(Problem::unauthorized());
    };
    let (tenant, session, member) = match state.broker.member_of(grant).await {
        Ok(who) => who,
        Err(BrokerError::BadGrant) => {
            state
                .security_event(None, "bad_grant", peer, json!({"what": "session event"}))
                .await;
            return Err(Problem::unauthorized());
        }
        Err(e) => return Err(e.into()),
    };
    if event.kind != "malware_quarantined" {
        return Err(Problem::bad_request("kind is malware_quarantined"));
    }
    let printable = |s: &str| s.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if event.threat.is_empty() || event.threat.len() > 200 || !printable(&event.threat) {
        return Err(Problem::bad_request(
            "threat is 1 to 200 printable characters",
        ));
    }
    if !(event.sha256.is_empty()
        || event.sha256.len() == 64 && event.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(Problem::bad_request("sha256 is 64 hex digits"));
    }
    let detail = json!({
        "session": session,
        "member": member,
        "threat": event.threat,
        "sha256": event.sha256.to_ascii_lowercase(),
    });
    state
        .security_event(Some(&tenant), &event.kind, peer, detail.clone())
        .await;
    let mut tx = state.store.tenant(&tenant).await?;
    audit::append(
        &mut tx,
        &format!("member:{member}"),
        "session.malware_quarantined",
        &session,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
