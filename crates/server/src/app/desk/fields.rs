//! A record's fields as the API sees them — one JSON object — checked
//! (names the kind has, values of the right shape, references that exist
//! in the tenant) and split into the store's columns and its JSON rest.

use crate::app::problem::Problem;
use fernhand_desk::RecordKind;
use fernhand_desk::lifecycle::Lifecycle;
use fernhand_desk::priority::{Impact, Priority, Urgency};
use fernhand_store::TenantTx;
use fernhand_store::desk::{cis, records::Record};
use serde_json::{Map, Value};

/// Longest title.
pub const TITLE_MAX: usize = 200;
/// Longest description or other text field.
pub const TEXT_MAX: usize = 20_000;

/// Fields stored in their own columns.
const COLUMNS: [&str; 6] = [
    "title",
    "description",
    "assignee_group",
    "assignee",
    "requester",
    "ci",
];

/// Fields whose value is one of a few words.
fn choices(field: &str) -> Option<&'static [&'static str]> {
    match field {
        "impact" | "urgency" => Some(&["high", "medium", "low"]),
        "change_type" => Some(&["standard", "normal", "emergency"]),
        "risk" => Some(&["low", "medium", "high"]),
        _ => None,
    }
}

/// Fields holding an instant (RFC 3339), with the field they must follow.
fn instant_after(field: &str) -> Option<Option<&'static str>> {
    match field {
        "planned_start" | "window_start" => Some(None),
        "planned_end" => Some(Some("planned_start")),
        "window_end" => Some(Some("window_start")),
        _ => None,
    }
}

/// A text field's value: trimmed of nothing, refused if it holds NUL or is
/// too long.
fn text(field: &str, v: &str) -> Result<(), Problem> {
    let max = if field == "title" {
        TITLE_MAX
    } else {
        TEXT_MAX
    };
    if v.chars().count() > max {
        return Err(Problem::bad_request(format!(
            "{field} is longer than {max} characters"
        )));
    }
    if v.contains('\0') {
        return Err(Problem::bad_request(format!(
            "{field} contains a NUL character"
        )));
    }
    Ok(())
}

/// The id of the tenant's user with id or e-mail `key`.
async fn user_id(tx: &mut TenantTx, key: &str) -> Result<Option<String>, Problem> {
    if let Some(u) = fernhand_store::users::get(tx, key).await? {
        return Ok(Some(u.id));
    }
    if key.contains('@') {
        return Ok(fernhand_store::users::by_email(tx, key.trim())
            .await?
            .map(|u| u.id));
    }
    Ok(None)
}

/// The id of the tenant's configuration item with id or name `key`.
async fn ci_id(tx: &mut TenantTx, key: &str) -> Result<Option<String>, Problem> {
    if let Some(c) = cis::get(tx, key).await? {
        return Ok(Some(c.id));
    }
    Ok(cis::by_name(tx, key.trim()).await?.map(|c| c.id))
}

/// How a form asks for a field.
pub enum Input {
    /// A line of text.
    Text,
    /// Several lines.
    Area,
    /// An RFC 3339 instant.
    Instant,
    /// One of a few words.
    Choice(&'static [&'static str]),
}

/// How a form asks for `field`.
pub fn input_of(field: &str) -> Input {
    if let Some(options) = choices(field) {
        Input::Choice(options)
    } else if instant_after(field).is_some() {
        Input::Instant
    } else if matches!(
        field,
        "description"
            | "resolution"
            | "root_cause"
            | "workaround"
            | "plan"
            | "backout_plan"
            | "review"
            | "pending_reason"
            | "outcome"
    ) {
        Input::Area
    } else {
        Input::Text
    }
}

/// Applies `changes` (a field → value or null object) to `current`,
/// checking every name and value; the result is what the record would hold.
pub async fn apply(
    tx: &mut TenantTx,
    kind: RecordKind,
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>, Problem> {
    let known = Lifecycle::fields_of(kind);
    let mut out = current.clone();
    for (name, value) in changes {
        if !known.contains(&name.as_str()) {
            return Err(Problem::bad_request(format!(
                "{kind} records have no field {:?}; they have: {}",
                name.chars().take(40).collect::<String>(),
                known.join(", ")
            )));
        }
        match value {
            Value::Null => {
                if name == "title" {
                    return Err(Problem::bad_request("a record needs a title"));
                }
                out.remove(name);
            }
            Value::String(s) => {
                text(name, s)?;
                if let Some(allowed) = choices(name)
                    && !allowed.contains(&s.as_str())
                {
                    return Err(Problem::bad_request(format!(
                        "{name} is one of: {}",
                        allowed.join(", ")
                    )));
                }
                if instant_after(name).is_some() && s.parse::<jiff::Timestamp>().is_err() {
                    return Err(Problem::bad_request(format!(
                        "{name} is an RFC 3339 instant such as 2026-12-01T20:00:00Z"
                    )));
                }
                if name == "title" && s.trim().is_empty() {
                    return Err(Problem::bad_request("a record needs a title"));
                }
                let value = match name.as_str() {
                    "assignee" => Value::String(user_id(tx, s).await?.ok_or_else(|| {
                        Problem::bad_request("assignee is not a user of this tenant")
                    })?),
                    "requester" => {
                        Value::String(user_id(tx, s).await?.unwrap_or_else(|| s.clone()))
                    }
                    "ci" => Value::String(ci_id(tx, s).await?.ok_or_else(|| {
                        Problem::bad_request("ci names no configuration item of this tenant")
                    })?),
                    _ => value.clone(),
                };
                out.insert(name.clone(), value);
            }
            _ => {
                return Err(Problem::bad_request(format!(
                    "{name} must be a string or null"
                )));
            }
        }
    }
    for name in known {
        if let Some(Some(before)) = instant_after(name)
            && let (Some(end), Some(start)) = (instant(&out, name), instant(&out, before))
            && end <= start
        {
            return Err(Problem::bad_request(format!(
                "{name} must be after {before}"
            )));
        }
    }
    Ok(out)
}

/// An instant field's value.
pub fn instant(fields: &Map<String, Value>, name: &str) -> Option<jiff::Timestamp> {
    fields.get(name)?.as_str()?.parse().ok()
}

fn string(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The priority the fields give (incidents and problems; medium impact and
/// urgency when unset).
pub fn priority(kind: RecordKind, fields: &Map<String, Value>) -> Option<Priority> {
    matches!(kind, RecordKind::Incident | RecordKind::Problem).then(|| {
        let impact = string(fields, "impact")
            .and_then(|s| Impact::parse(&s))
            .unwrap_or(Impact::Medium);
        let urgency = string(fields, "urgency")
            .and_then(|s| Urgency::parse(&s))
            .unwrap_or(Urgency::Medium);
        Priority::of(impact, urgency)
    })
}

/// Writes the fields into a record's columns and JSON rest.
pub fn store_into(kind: RecordKind, fields: &Map<String, Value>, r: &mut Record) {
    r.title = string(fields, "title").unwrap_or_default();
    r.description = string(fields, "description").unwrap_or_default();
    r.assignee_group = string(fields, "assignee_group");
    r.assignee = string(fields, "assignee");
    r.requester = string(fields, "requester");
    r.ci_id = string(fields, "ci");
    r.priority = priority(kind, fields).map(|p| p.name().to_owned());
    r.fields = fields
        .iter()
        .filter(|(k, _)| !COLUMNS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
}

/// A record's fields as one object.
pub fn of(r: &Record) -> Map<String, Value> {
    let mut m = r.fields.clone();
    m.insert("title".into(), Value::String(r.title.clone()));
    if !r.description.is_empty() {
        m.insert("description".into(), Value::String(r.description.clone()));
    }
    let cols = [
        ("assignee_group", &r.assignee_group),
        ("assignee", &r.assignee),
        ("requester", &r.requester),
        ("ci", &r.ci_id),
    ];
    for (k, v) in cols {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    m
}

/// The fields that differ, as history entries (field, before, after).
pub fn diff(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let show = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| (n.clone(), show(before.get(n)), show(after.get(n))))
        .collect()
}
