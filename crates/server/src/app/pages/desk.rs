//! The desk's pages for its agents: the record list with search and
//! filters, the form raising a record, and a record with its moves, notes,
//! remote sessions (transcript and duration) and history.

use super::{Layout, Names, respond, span, when};
use crate::app::AppState;
use crate::app::desk::fields::{self, Input};
use crate::app::desk::settings::DeskSettings;
use crate::app::desk::{desk_role, records as desk};
use crate::app::principal::{Permission, Principal};
use crate::problem::Problem;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use fernhand_desk::RecordKind;
use fernhand_desk::lifecycle::Lifecycle;
use fernhand_store::desk::{cis, history, notes, records, text};
use fernhand_store::{TenantTx, now};
use serde::Deserialize;
use serde_json::Value;

const KINDS: &[&str] = &["incident", "problem", "change", "release"];
const CATEGORIES: &[&str] = &["new", "active", "pending", "resolved", "closed"];
const PRIORITIES: &[&str] = &["p1", "p2", "p3", "p4", "p5"];

/// The list page's filters, as its form sends them.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// The filters as the list template shows them again.
pub struct Shown {
    text: String,
    kind: String,
    category: String,
    priority: String,
    mine: bool,
}

/// A row of the list.
pub struct Row {
    reference: String,
    title: String,
    state: String,
    priority: String,
    assignee: String,
    sla_level: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "desk_list.html")]
struct ListPage {
    layout: Layout,
    q: Shown,
    kinds: &'static [&'static str],
    categories: &'static [&'static str],
    priorities: &'static [&'static str],
    may_work: bool,
    rows: Vec<Row>,
    next: Option<String>,
    error: Option<String>,
    views: Vec<fernhand_store::desk::views::View>,
    query: String,
}

fn nonempty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}

/// `GET /desk`: records, newest first, filtered and searched.
pub async fn list(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Query(q): Query<ListQuery>,
) -> Response {
    respond(&state, &uri, who, Layout::desk, async |p| {
        list_page(p, &q).await
    })
    .await
}

async fn list_page(p: &Principal, q: &ListQuery) -> Result<ListPage, Problem> {
    p.require(Permission::ReadDesk)?;
    let mut error = None;
    let keep = |s: &str, allowed: &[&str]| allowed.contains(&s).then(|| s.to_owned());
    let filter = records::Filter {
        kind: keep(&q.kind, KINDS),
        state: None,
        categories: keep(&q.category, CATEGORIES).into_iter().collect(),
        priority: keep(&q.priority, PRIORITIES),
        assignee: q.mine.is_some().then(|| p.user.id.clone()),
        assignee_group: None,
        requester: None,
        ci_id: None,
        created_from: None,
        created_to: None,
        text: nonempty(&q.q).filter(|t| !text::words(t).is_empty()),
        after: match crate::app::desk::cursor(q.after.as_deref()) {
            Ok(a) => a,
            Err(e) => {
                error = Some(e.detail);
                None
            }
        },
        limit: 50,
    };
    let mut tx = p.tx().await?;
    let found = records::list(&mut tx, &filter).await?;
    let views = fernhand_store::desk::views::of_user(&mut tx, &p.user.id).await?;
    let mut names = Names::new();
    let mut rows = Vec::with_capacity(found.len());
    for r in &found {
        let assignee = match &r.assignee {
            Some(a) => names.of(&mut tx, a).await?,
            None => String::new(),
        };
        rows.push(Row {
            reference: desk::reference_of(r)
                .map(|x| x.to_string())
                .unwrap_or_default(),
            title: r.title.clone(),
            state: r.state.clone(),
            priority: r.priority.clone().unwrap_or_default().to_uppercase(),
            assignee,
            sla_level: r.sla_level.clone(),
            updated: when(r.updated_at),
        });
    }
    tx.commit().await?;
    let next = (found.len() == 50)
        .then(|| found.last())
        .flatten()
        .map(|last| {
            let mut params: Vec<(String, String)> = vec![
                ("q".into(), q.q.clone()),
                ("kind".into(), q.kind.clone()),
                ("category".into(), q.category.clone()),
                ("priority".into(), q.priority.clone()),
                ("after".into(), format!("{}:{}", last.updated_at, last.id)),
            ];
            if q.mine.is_some() {
                params.push(("mine".into(), "1".into()));
            }
            let query: Vec<String> = params
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k}={}", super::urlencode(v)))
                .collect();
            format!("/desk?{}", query.join("&"))
        });
    let query = {
        let mut params = vec![
            ("q", q.q.as_str()),
            ("kind", q.kind.as_str()),
            ("category", q.category.as_str()),
            ("priority", q.priority.as_str()),
        ];
        if q.mine.is_some() {
            params.push(("mine", "1"));
        }
        params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", super::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    Ok(ListPage {
        layout: Layout::desk(p),
        q: Shown {
            text: q.q.clone(),
            kind: q.kind.clone(),
            category: q.category.clone(),
            priority: q.priority.clone(),
            mine: q.mine.is_some(),
        },
        kinds: KINDS,
        categories: CATEGORIES,
        priorities: PRIORITIES,
        may_work: p.require(Permission::WorkDesk).is_ok(),
        rows,
        next,
        error,
        views,
        query,
    })
}

/// A field of a form.
pub struct FieldInput {
    id: String,
    name: String,
    label: String,
    input: Input,
    value: String,
}

impl FieldInput {
    fn of(form: &str, name: &str) -> FieldInput {
        FieldInput {
            id: format!("{form}-{name}"),
            name: name.to_owned(),
            label: label(name),
            input: fields::input_of(name),
            value: String::new(),
        }
    }
}

/// `assignee_group` → `Assignee group`.
fn label(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "desk_new.html")]
struct NewPage {
    layout: Layout,
    kind: &'static str,
    fields: Vec<FieldInput>,
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    kind: String,
}

/// `GET /desk/new?kind=incident`: the form raising a record.
pub async fn new(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Query(q): Query<NewQuery>,
) -> Response {
    respond(&state, &uri, who, Layout::desk, async |p| {
        p.require(Permission::WorkDesk)?;
        let kind = RecordKind::parse(&q.kind).ok_or_else(|| {
            Problem::bad_request("kind is one of: incident, problem, change, release")
        })?;
        Ok(NewPage {
            layout: Layout::desk(p),
            kind: kind.name(),
            fields: Lifecycle::fields_of(kind)
                .iter()
                .map(|f| FieldInput::of("new", f))
                .collect(),
        })
    })
    .await
}

/// A move open from the record's state.
pub struct MoveView {
    to: String,
    action: String,
    requires: Vec<FieldInput>,
    why_not: Option<String>,
}

/// A linked record.
pub struct LinkView {
    relation: String,
    reference: String,
    title: String,
    state: String,
}

/// A remote session started from the record.
pub struct SessionView {
    started: String,
    started_by: String,
    duration: Option<String>,
    from: String,
    to: String,
    members: Vec<String>,
    files: Vec<String>,
    diagnostics: bool,
    transcript: Vec<(String, String, String)>,
    /// A camera share (rather than remote support).
    camera: bool,
    /// A camera share's snapshots: item id and when, until retention
    /// takes them.
    snapshots: Vec<(String, String)>,
}

/// A note.
pub struct NoteView {
    at: String,
    author: String,
    public: bool,
    body: String,
}

/// A line of history.
pub struct HistoryView {
    at: String,
    who: String,
    field: String,
    old: String,
    new: String,
}

/// An attachment.
pub struct AttachmentView {
    id: String,
    name: String,
    size: i64,
    public: bool,
    by: String,
    at: String,
}

/// The configuration item concerned.
pub struct CiView {
    id: String,
    name: String,
    ci_type: String,
    device_id: Option<String>,
}

/// Everything the record page shows.
pub struct RecordView {
    id: String,
    reference: String,
    kind: String,
    title: String,
    description: String,
    state_label: String,
    priority: Option<String>,
    sla_level: String,
    sla_due: Option<String>,
    created: String,
    created_by: String,
    version: i64,
    open: bool,
    fields: Vec<(String, String)>,
    ci: Option<CiView>,
    moves: Vec<MoveView>,
    links: Vec<LinkView>,
    sessions: Vec<SessionView>,
    notes: Vec<NoteView>,
    history: Vec<HistoryView>,
    attachments: Vec<AttachmentView>,
    watchers: Vec<String>,
    watching: bool,
}

#[derive(Template)]
#[template(path = "desk_record.html")]
struct RecordPage {
    layout: Layout,
    r: RecordView,
    may_work: bool,
    may_sessions: bool,
}

/// `GET /desk/{key}`: one record, by reference or id.
pub async fn record(
    state: State<AppState>,
    uri: Uri,
    who: Result<Principal, Problem>,
    Path(key): Path<String>,
) -> Response {
    respond(&state, &uri, who, Layout::desk, async |p| {
        Ok(RecordPage {
            layout: Layout::desk(p),
            r: record_view(p, &key).await?,
            may_work: p.require(Permission::WorkDesk).is_ok(),
            may_sessions: p.require(Permission::RunSessions).is_ok(),
        })
    })
    .await
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

async fn record_view(p: &Principal, key: &str) -> Result<RecordView, Problem> {
    p.require(Permission::ReadDesk)?;
    let mut tx = p.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    let r = desk::find(&mut tx, key).await?;
    let view = desk::view(&mut tx, &s, &r, desk_role(p.role), now()).await?;
    let mut names = Names::new();
    let r_fields = fields::of(&r);
    let mut shown_fields = Vec::new();
    for (name, value) in &r_fields {
        if matches!(name.as_str(), "title" | "description" | "ci") {
            continue;
        }
        let value = match name.as_str() {
            "assignee" | "requester" => names.of(&mut tx, &shown(value)).await?,
            _ => shown(value),
        };
        shown_fields.push((label(name), value));
    }
    let ci = match &r.ci_id {
        Some(id) => cis::get(&mut tx, id).await?.map(|c| CiView {
            id: c.id,
            name: c.name,
            ci_type: c.ci_type,
            device_id: c.device_id,
        }),
        None => None,
    };
    let moves = view["transitions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| MoveView {
            to: str_at(m, "to").to_owned(),
            action: str_at(m, "action").to_owned(),
            requires: m["requires"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .map(|f| {
                    let mut input = FieldInput::of(&format!("move-{}", str_at(m, "to")), f);
                    input.value = r_fields.get(f).map(shown).unwrap_or_default();
                    input
                })
                .collect(),
            why_not: (m["ready"] != Value::Bool(true))
                .then(|| str_at(m, "why_not").to_owned())
                .filter(|w| !w.is_empty()),
        })
        .collect();
    let links = view["links"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| LinkView {
            relation: str_at(l, "relation").replace('_', " "),
            reference: str_at(l, "reference").to_owned(),
            title: str_at(l, "title").to_owned(),
            state: str_at(l, "state").to_owned(),
        })
        .collect();
    let sessions = sessions_of(&mut tx, &mut names, &r.id).await?;
    let mut note_views = Vec::new();
    for n in notes::list(&mut tx, &r.id, false).await? {
        note_views.push(NoteView {
            at: when(n.created_at),
            author: names.of(&mut tx, &n.author).await?,
            public: n.public,
            body: n.body,
        });
    }
    let mut lines = Vec::new();
    for h in history::list(&mut tx, &r.id).await? {
        lines.push(HistoryView {
            at: when(h.at),
            who: names.of(&mut tx, &h.actor).await?,
            field: h.field,
            old: h.old_value.unwrap_or_default(),
            new: h.new_value.unwrap_or_default(),
        });
    }
    let created_by = names.of(&mut tx, &r.created_by).await?;
    let mut attachments = Vec::new();
    for a in fernhand_store::desk::attachments::list(&mut tx, &r.id, false).await? {
        attachments.push(AttachmentView {
            by: names.of(&mut tx, &a.uploaded_by).await?,
            at: when(a.created_at),
            id: a.id,
            name: a.name,
            size: a.size,
            public: a.public,
        });
    }
    let watcher_ids = fernhand_store::desk::watchers::of_record(&mut tx, &r.id).await?;
    let watching = watcher_ids.contains(&p.user.id);
    let mut watchers = Vec::new();
    for w in &watcher_ids {
        watchers.push(names.of(&mut tx, w).await?);
    }
    tx.commit().await?;
    Ok(RecordView {
        id: r.id.clone(),
        reference: str_at(&view, "reference").to_owned(),
        kind: r.kind.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        state_label: view["state_label"]
            .as_str()
            .unwrap_or(r.state.as_str())
            .to_owned(),
        priority: r.priority.clone(),
        sla_level: r.sla_level.clone(),
        sla_due: r.sla_due_at.map(when),
        created: when(r.created_at),
        created_by,
        version: r.version,
        open: r.state_category != "closed",
        fields: shown_fields,
        ci,
        moves,
        links,
        sessions,
        notes: note_views,
        history: lines,
        attachments,
        watchers,
        watching,
    })
}

async fn sessions_of(
    tx: &mut TenantTx,
    names: &mut Names,
    record: &str,
) -> Result<Vec<SessionView>, Problem> {
    let mut out = Vec::new();
    for s in fernhand_store::desk::sessions::of_record(tx, record).await? {
        let camera = fernhand_store::support::get(tx, &s.session_id)
            .await?
            .is_some_and(|x| x.kind == fernhand_store::support::CAMERA);
        let snapshots = if camera {
            fernhand_store::camera::list(tx, &s.session_id)
                .await?
                .into_iter()
                .filter(|i| i.item == "snapshot")
                .map(|i| (i.id, when(i.created_at)))
                .collect()
        } else {
            Vec::new()
        };
        let summary = s.summary.unwrap_or(Value::Null);
        let list = |k: &str| {
            summary[k]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .to_vec()
        };
        let (from, to) = (summary["started_at"].as_i64(), summary["ended_at"].as_i64());
        out.push(SessionView {
            started: when(s.started_at),
            started_by: names.of(tx, &s.started_by).await?,
            duration: summary["duration_seconds"].as_i64().map(span),
            from: from.map(when).unwrap_or_default(),
            to: to.map(when).unwrap_or_default(),
            members: list("members")
                .iter()
                .map(|m| format!("{} ({})", str_at(m, "name"), str_at(m, "role")))
                .collect(),
            files: list("files")
                .iter()
                .map(|f| {
                    let way = if str_at(f, "direction") == "to_customer" {
                        "to the customer"
                    } else {
                        "from the customer"
                    };
                    format!(
                        "{} ({} bytes, {way})",
                        str_at(f, "name"),
                        f["size"].as_u64().unwrap_or(0)
                    )
                })
                .collect(),
            diagnostics: summary["diagnostics"].is_object(),
            transcript: list("transcript")
                .iter()
                .map(|l| {
                    (
                        l["at"].as_i64().map(when).unwrap_or_default(),
                        str_at(l, "from").to_owned(),
                        str_at(l, "text").to_owned(),
                    )
                })
                .collect(),
            camera,
            snapshots,
        });
    }
    Ok(out)
}
