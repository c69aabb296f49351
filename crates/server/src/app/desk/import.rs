//! Bringing tickets over from GLPI or iTop: their CSV exports (GLPI's
//! ticket list, `;`-separated; iTop's user requests or incidents,
//! `,`-separated) become incidents that keep their old number as their
//! reference (GLPI ticket 1234 is INC-1234, iTop R-000123 is INC-123), so
//! links and mails people kept still lead somewhere. Status and priority
//! are mapped onto the shipped incident lifecycle; requester and assignee
//! become the tenant's users where an e-mail address matches, and are kept
//! as text otherwise. A row that cannot be read is reported with its line
//! and skipped; a number already in the desk is skipped, so an import can
//! be run again. Times without a zone are taken as UTC.

use crate::problem::Problem;
use fernhand_desk::RecordKind;
use fernhand_desk::priority::Priority;
use fernhand_store::desk::records::{self, Record};
use fernhand_store::{TenantTx, users};
use serde_json::Map;

/// The desk an export comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// GLPI's ticket list export.
    Glpi,
    /// iTop's user request or incident export.
    Itop,
}

impl Source {
    /// From its name (`glpi`, `itop`).
    pub fn parse(name: &str) -> Option<Source> {
        match name.to_ascii_lowercase().as_str() {
            "glpi" => Some(Source::Glpi),
            "itop" => Some(Source::Itop),
            _ => None,
        }
    }

    /// Column names that mean each field, by source, first match wins.
    fn columns(self, field: &str) -> &'static [&'static str] {
        match (self, field) {
            (Source::Glpi, "number") => &["ID"],
            (Source::Glpi, "title") => &["Title", "Titre"],
            (Source::Glpi, "description") => &["Description"],
            (Source::Glpi, "status") => &["Status", "Statut"],
            (Source::Glpi, "priority") => &["Priority", "Priorité"],
            (Source::Glpi, "requester") => &["Requester - Requester", "Requester"],
            (Source::Glpi, "assignee") => &["Assigned to - Technician", "Technician"],
            (Source::Glpi, "category") => &["Category", "Catégorie"],
            (Source::Glpi, "opened") => &["Opening date", "Date d'ouverture"],
            (Source::Glpi, "updated") => &["Last update", "Dernière modification"],
            (Source::Itop, "number") => &["ref", "Ref", "id"],
            (Source::Itop, "title") => &["title", "Title"],
            (Source::Itop, "description") => &["description", "Description"],
            (Source::Itop, "status") => &["status", "Status"],
            (Source::Itop, "priority") => &["priority", "Priority"],
            (Source::Itop, "requester") => {
                &["caller_id->email", "caller_id->friendlyname", "caller_id"]
            }
            (Source::Itop, "assignee") => {
                &["agent_id->email", "agent_id->friendlyname", "agent_id"]
            }
            (Source::Itop, "category") => &[
                "service_id->friendlyname",
                "servicesubcategory_id->friendlyname",
            ],
            (Source::Itop, "opened") => &["start_date", "Start date"],
            (Source::Itop, "updated") => &["last_update", "Last update"],
            _ => &[],
        }
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// References brought in.
    pub imported: Vec<String>,
    /// Numbers already in the desk.
    pub existing: usize,
    /// Lines not read, and why.
    pub skipped: Vec<(u64, String)>,
}

/// The digits of an old reference (`R-000123` → 123, `1234` → 1234).
fn number(text: &str) -> Option<i64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

/// An old status as a state of the shipped incident lifecycle.
fn state(status: &str) -> Option<(&'static str, &'static str)> {
    let s = status.to_lowercase();
    let has = |w: &str| s.contains(w);
    if has("closed") || has("clos") {
        Some(("closed", "closed"))
    } else if has("solved") || has("resolved") || has("résolu") {
        Some(("resolved", "resolved"))
    } else if has("pending") || has("waiting") || has("attente") {
        Some(("pending", "pending"))
    } else if has("assigned")
        || has("processing")
        || has("planned")
        || has("escalated")
        || has("cours")
    {
        Some(("assigned", "active"))
    } else if has("new") || has("nouveau") || s == "incoming" {
        Some(("new", "new"))
    } else {
        None
    }
}

/// An old priority as ours (GLPI: very high … very low, major; iTop 1–4).
fn priority(text: &str) -> Option<Priority> {
    let t = text.trim().to_lowercase();
    let p = match t.as_str() {
        "major" | "very high" | "très haute" | "1" => "p1",
        "high" | "haute" | "2" => "p2",
        "medium" | "moyenne" | "3" => "p3",
        "low" | "basse" | "4" => "p4",
        "very low" | "très basse" | "5" => "p5",
        _ => return None,
    };
    Priority::parse(p)
}

/// `2024-01-15 10:22[:33]` (UTC) or RFC 3339, as Unix seconds.
fn instant(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let civil = t
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", t).ok())
        .or_else(|| jiff::civil::DateTime::strptime("%d-%m-%Y %H:%M", t).ok())?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn cut(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

/// Reads an export into rows of the desk (nothing is written).
pub async fn read(
    tx: &mut TenantTx,
    source: Source,
    bytes: &[u8],
    now: i64,
) -> Result<(Vec<Record>, Report), Problem> {
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.iter().filter(|b| **b == b';').count()
        > first_line.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let headers = csv
        .headers()
        .map_err(|e| Problem::bad_request(format!("the export's header line: {e}")))?
        .clone();
    let column = |field: &str| {
        source.columns(field).iter().find_map(|name| {
            headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == *name)
        })
    };
    let (Some(number_at), Some(title_at)) = (column("number"), column("title")) else {
        return Err(Problem::bad_request(format!(
            "this does not look like a {source:?} export: it needs the columns {:?} and {:?}",
            source.columns("number"),
            source.columns("title")
        )));
    };
    let at = |field: &str| column(field);
    let (status_at, priority_at, description_at) =
        (at("status"), at("priority"), at("description"));
    let (requester_at, assignee_at, category_at) =
        (at("requester"), at("assignee"), at("category"));
    let (opened_at, updated_at) = (at("opened"), at("updated"));
    let mut report = Report::default();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in csv.records().enumerate() {
        let line = row
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, csv::Position::line);
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                report.skipped.push((line, format!("not CSV: {e}")));
                continue;
            }
        };
        let get = |at: Option<usize>| at.and_then(|i| row.get(i)).unwrap_or_default().trim();
        let Some(n) = number(get(Some(number_at))) else {
            report.skipped.push((line, "no ticket number".into()));
            continue;
        };
        let title = cut(get(Some(title_at)), 200);
        if title.trim().is_empty() {
            report.skipped.push((line, "no title".into()));
            continue;
        }
        let status = get(status_at);
        let Some((state, category)) = (if status.is_empty() {
            Some(("new", "new"))
        } else {
            state(status)
        }) else {
            report
                .skipped
                .push((line, format!("unknown status {status:?}")));
            continue;
        };
        if !seen.insert(n) {
            report
                .skipped
                .push((line, format!("ticket {n} twice in the export")));
            continue;
        }
        if records::by_number(tx, RecordKind::Incident.name(), n)
            .await?
            .is_some()
        {
            report.existing += 1;
            continue;
        }
        let person = |text: &str| {
            let text = cut(text, 200);
            (!text.is_empty()).then_some(text)
        };
        let mut description = cut(get(description_at), 19_000);
        let requester = match person(get(requester_at)) {
            Some(p) if p.contains('@') => Some(
                users::by_email(tx, &p.to_lowercase())
                    .await?
                    .map_or(p, |u| u.id),
            ),
            other => other,
        };
        let mut assignee = None;
        if let Some(a) = person(get(assignee_at)) {
            match users::by_email(tx, &a.to_lowercase()).await? {
                Some(u) if a.contains('@') => assignee = Some(u.id),
                _ => description.push_str(&format!("\n\n(Assigned in {source:?} to {a}.)")),
            }
        }
        let opened = instant(get(opened_at)).unwrap_or(now);
        let updated = instant(get(updated_at)).unwrap_or(opened).max(opened);
        let mut fields = Map::new();
        if let Some(c) = person(get(category_at)) {
            fields.insert("category".into(), c.into());
        }
        fields.insert(
            "imported_from".into(),
            format!("{source:?} {}", get(Some(number_at))).into(),
        );
        rows.push(Record {
            id: fernhand_store::new_id()?,
            kind: RecordKind::Incident.name().into(),
            number: n,
            title,
            description,
            state: state.into(),
            state_category: category.into(),
            priority: priority(get(priority_at)).map(|p| p.name().to_owned()),
            assignee_group: None,
            assignee,
            requester,
            ci_id: None,
            fields,
            created_by: format!("import:{}", format!("{source:?}").to_lowercase()),
            created_at: opened,
            updated_at: updated,
            version: 1,
            sla_level: "ok".into(),
            sla_due_at: None,
        });
        report.imported.push(format!("INC-{n}"));
    }
    Ok((rows, report))
}

/// Reads an export and brings its tickets into the desk, all or nothing.
pub async fn run(
    tx: &mut TenantTx,
    source: Source,
    bytes: &[u8],
    now: i64,
) -> Result<Report, Problem> {
    let (rows, report) = read(tx, source, bytes, now).await?;
    records::import(tx, &rows).await?;
    fernhand_store::audit::append(
        tx,
        "operator",
        "desk.import",
        &format!("{source:?}"),
        &serde_json::json!({"imported": report.imported.len(), "existing": report.existing, "skipped": report.skipped.len()}),
    )
    .await?;
    Ok(report)
}
