//! The end-user portal's view of the desk: a requester raises incidents,
//! reads their own tickets (never anyone else's, never internal notes) and
//! replies, resumes, closes or reopens them where the lifecycle lets the
//! requester role do so. One typed view serves the JSON API and the page.

use super::records as desk;
use super::settings::DeskSettings;
use crate::app::problem::Problem;
use fernhand_desk::RecordKind;
use fernhand_desk::lifecycle::{DeskRole, JsonFacts};
use fernhand_store::TenantTx;
use fernhand_store::desk::notes;
use fernhand_store::desk::records::{self, Filter, Record};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A ticket as its requester sees it.
#[derive(Serialize)]
pub struct Ticket {
    /// Id.
    pub id: String,
    /// `INC-42`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// State name.
    pub state: String,
    /// The state's label.
    pub state_label: String,
    /// `new`, `active`, `pending`, `resolved` or `closed`.
    pub state_category: String,
    /// Raised (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
    /// For optimistic concurrency of a move.
    pub version: i64,
    /// The replies (public notes), oldest first.
    pub replies: Vec<Reply>,
    /// Moves the requester may make now.
    pub moves: Vec<Move>,
}

/// A reply on a ticket.
#[derive(Serialize)]
pub struct Reply {
    /// Who: the requester's own replies say `you`.
    pub from: String,
    /// Text.
    pub body: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// A move open to the requester.
#[derive(Serialize)]
pub struct Move {
    /// Target state.
    pub to: String,
    /// Button label.
    pub action: String,
}

/// A ticket raised from the portal.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    /// What is wrong, in a line.
    pub title: String,
    /// More about it.
    #[serde(default)]
    pub description: String,
    /// `high`, `medium` or `low`: how soon it must be fixed.
    #[serde(default)]
    pub urgency: Option<String>,
}

/// The requester's own record `key`; another's is not found.
pub async fn own(tx: &mut TenantTx, user: &str, key: &str) -> Result<Record, Problem> {
    let r = desk::find(tx, key).await?;
    if r.requester.as_deref() != Some(user) {
        return Err(Problem::not_found());
    }
    Ok(r)
}

/// The requester's tickets, newest first.
pub async fn list(
    tx: &mut TenantTx,
    user: &str,
    after: Option<(i64, String)>,
) -> Result<Vec<Record>, Problem> {
    let filter = Filter {
        kind: None,
        state: None,
        categories: Vec::new(),
        priority: None,
        assignee: None,
        assignee_group: None,
        requester: Some(user.to_owned()),
        ci_id: None,
        created_from: None,
        created_to: None,
        text: None,
        after,
        limit: 50,
    };
    Ok(records::list(tx, &filter).await?)
}

/// Raises an incident for the requester.
pub async fn raise(
    tx: &mut TenantTx,
    s: &DeskSettings,
    user: &str,
    t: NewTicket,
    now: i64,
) -> Result<Record, Problem> {
    let mut fields = Map::new();
    fields.insert("title".into(), json!(t.title));
    if !t.description.is_empty() {
        fields.insert("description".into(), json!(t.description));
    }
    if let Some(u) = t.urgency {
        fields.insert("urgency".into(), json!(u));
    }
    fields.insert("requester".into(), json!(user));
    desk::create(tx, s, user, RecordKind::Incident, &fields, now).await
}

/// What the requester sees of `r`.
pub async fn view(
    tx: &mut TenantTx,
    s: &DeskSettings,
    r: &Record,
    user: &str,
) -> Result<Ticket, Problem> {
    let kind = desk::kind_of(r)?;
    let lifecycle = s.lifecycle(kind);
    let values = super::fields::of(r);
    let facts = JsonFacts {
        fields: &values,
        guards: &[],
    };
    let moves = lifecycle
        .from(&r.state)
        .filter(|t| {
            lifecycle
                .check(&r.state, &t.to, DeskRole::Requester, &facts)
                .is_ok()
        })
        .map(|t| Move {
            to: t.to.clone(),
            action: t.action.clone(),
        })
        .collect();
    let replies = notes::list(tx, &r.id, true)
        .await?
        .into_iter()
        .map(|n| Reply {
            from: if n.author == user {
                "you".into()
            } else {
                "the service desk".into()
            },
            body: n.body,
            at: n.created_at,
        })
        .collect();
    Ok(Ticket {
        id: r.id.clone(),
        reference: desk::reference_of(r)
            .map(|x| x.to_string())
            .unwrap_or_default(),
        title: r.title.clone(),
        description: r.description.clone(),
        state: r.state.clone(),
        state_label: lifecycle
            .state(&r.state)
            .map_or_else(|| r.state.clone(), |st| st.label.clone()),
        state_category: r.state_category.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
        replies,
        moves,
    })
}

/// The list entry of a ticket.
pub fn summary(r: &Record) -> Value {
    json!({
        "id": r.id,
        "reference": desk::reference_of(r).map(|x| x.to_string()),
        "title": r.title,
        "state": r.state,
        "state_category": r.state_category,
        "updated_at": r.updated_at,
    })
}
