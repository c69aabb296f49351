//! Desk records (incidents, problems, changes, releases): one row each, the
//! columns lists filter on, and the kind-specific fields as a JSON object.
//! Updates carry the version read, so two people editing at once cannot
//! silently overwrite each other.

use crate::{Backend, StoreError, TenantTx};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// A stored record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// Id.
    pub id: String,
    /// `incident`, `problem`, `change` or `release`.
    pub kind: String,
    /// The tenant's number for it within its kind.
    pub number: i64,
    /// Short summary.
    pub title: String,
    /// Long text.
    pub description: String,
    /// Lifecycle state.
    pub state: String,
    /// The state's category when entered.
    pub state_category: String,
    /// `p1` … `p5`, for kinds with a priority.
    pub priority: Option<String>,
    /// Queue (assignment group).
    pub assignee_group: Option<String>,
    /// Assigned user id.
    pub assignee: Option<String>,
    /// Who it is for (user id or contact).
    pub requester: Option<String>,
    /// The configuration item concerned.
    pub ci_id: Option<String>,
    /// Every other field, as a JSON object.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Who raised it.
    pub created_by: String,
    /// Raised (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
    /// Bumped by every update.
    pub version: i64,
    /// The SLA level last escalated.
    pub sla_level: String,
    /// When the running SLA clock breaches next (Unix seconds).
    pub sla_due_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, number, title, description, state, state_category, priority, assignee_group, \
     assignee, requester, ci_id, fields, created_by, created_at, updated_at, version, sla_level, sla_due_at";

fn record(r: &sqlx::any::AnyRow) -> Result<Record, StoreError> {
    let fields: String = r.try_get("fields")?;
    let fields = match serde_json::from_str(&fields) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(StoreError::Corrupt("desk_records.fields")),
    };
    Ok(Record {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        state: r.try_get("state")?,
        state_category: r.try_get("state_category")?,
        priority: r.try_get("priority")?,
        assignee_group: r.try_get("assignee_group")?,
        assignee: r.try_get("assignee")?,
        requester: r.try_get("requester")?,
        ci_id: r.try_get("ci_id")?,
        fields,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
        sla_level: r.try_get("sla_level")?,
        sla_due_at: r.try_get("sla_due_at")?,
    })
}

/// Stores a new record (its number already taken with
/// [`super::next_number`]).
pub async fn insert(tx: &mut TenantTx, r: &Record) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    bind_record(sqlx::query(AssertSqlSafe(insert_sql(1))), &tenant, r)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "record (id or number)"))?;
    Ok(())
}

/// What a new record is written with, beside the record itself.
pub struct Raised<'a> {
    /// Its first state.
    pub first: &'a super::history::Entered,
    /// Who raised it.
    pub actor: &'a str,
    /// Its first history lines.
    pub changes: &'a [(String, Option<String>, Option<String>)],
    /// Its search text after the reference (`INC 42 ` is put before it:
    /// two words, which both backends' parsers keep apart — PostgreSQL's
    /// would read `INC-42` as `inc` and `-42`).
    pub text: &'a str,
    /// The reference's prefix (`INC`).
    pub prefix: &'a str,
    /// The audit entry's action (its target is the record, its detail the
    /// kind and number).
    pub audit: &'a str,
}

/// A new record, numbered here, with its first state, its first history
/// lines, its search text and its audit entry; `r.number` is set. On SQLite
/// the six statements go to the database thread together — one round trip
/// instead of six, where most of a create's time went — the number taken
/// inside the batch and read back from it; on PostgreSQL, whose protocol
/// takes one statement with parameters at a time, one after the other.
pub async fn create(
    tx: &mut TenantTx,
    r: &mut Record,
    raised: Raised<'_>,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    let audit_id = crate::new_id()?;
    if raised.changes.is_empty() {
        r.number = super::next_number(tx, &r.kind).await?;
        insert(tx, r).await?;
        super::history::begin(tx, &r.id, raised.first, raised.actor, raised.changes).await?;
        let text = format!("{} {} {}", raised.prefix, r.number, raised.text);
        super::text::add(tx, &r.id, &r.id, &text).await?;
        let detail = serde_json::json!({"kind": r.kind, "number": r.number});
        return crate::audit::append(tx, raised.actor, raised.audit, &r.id, &detail).await;
    }
    // One trip to the database: a batch of statements on SQLite, one
    // statement of data-modifying CTEs on PostgreSQL (its foreign keys are
    // checked at the statement's end, when the record is there).
    // $1 tenant, $2 id, $3 kind as the record binds them; the number ($4)
    // comes from the counter the first statement moves on.
    let after = 25 + 8 * raised.changes.len();
    let p = |k: usize| format!("${}", after + k);
    let (prefix, text, audit_ph, actor, action) = (p(1), p(2), p(3), p(4), p(5));
    let history = super::history::changes_sql(25, raised.changes.len());
    let counter = "INSERT INTO desk_counters (tenant_id, kind, next) VALUES ($1, $3, 1) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET next = desk_counters.next + 1 RETURNING next";
    let state = "INSERT INTO desk_state_log (tenant_id, record_id, seq, at, state, category) VALUES ($21, $22, 1, $23, $24, $25)";
    let sql = match tx.backend() {
        Backend::Sqlite => {
            let number = "(SELECT next FROM desk_counters WHERE tenant_id = $1 AND kind = $3)";
            let record = insert_sql(1).replacen("$4,", &format!("{number},"), 1);
            format!(
                "{counter};\n{record};\n{state};\n{history};\n\
                 INSERT INTO desk_text (tenant_id, record_id, source_id, body) VALUES ($1, $2, $2, {prefix} || ' ' || {number} || ' ' || {text});\n\
                 INSERT INTO audit_log (tenant_id, id, at, actor, action, target, detail) VALUES ($1, {audit_ph}, $16, {actor}, {action}, $2, \
                 json_object('kind', $3, 'number', {number}))"
            )
        }
        Backend::Postgres => {
            let values: Vec<String> = (1..=20)
                .map(|i| {
                    if i == 4 {
                        "c.next".to_owned()
                    } else {
                        format!("${i}")
                    }
                })
                .collect();
            format!(
                "WITH c AS ({counter}), \
                 r AS (INSERT INTO desk_records ({RECORD_COLUMNS}) SELECT {values} FROM c), \
                 s AS ({state}), h AS ({history}), \
                 t AS (INSERT INTO desk_text (tenant_id, record_id, source_id, body) SELECT $1, $2, $2, {prefix} || ' ' || c.next || ' ' || {text} FROM c), \
                 a AS (INSERT INTO audit_log (tenant_id, id, at, actor, action, target, detail) SELECT $1, {audit_ph}, $16, {actor}, {action}, $2, \
                 jsonb_build_object('kind', $3::text, 'number', c.next)::text FROM c) \
                 SELECT next FROM c",
                values = values.join(", ")
            )
        }
    };
    let q = bind_record(sqlx::query(AssertSqlSafe(sql)), &tenant, r)
        .bind(tenant.clone())
        .bind(r.id.clone())
        .bind(raised.first.at)
        .bind(raised.first.state.clone())
        .bind(raised.first.category.clone());
    let q = super::history::bind_changes(
        q,
        &tenant,
        &r.id,
        0,
        raised.first.at,
        raised.actor,
        raised.changes,
    )
    .bind(raised.prefix.to_owned())
    .bind(raised.text.to_owned())
    .bind(audit_id)
    .bind(raised.actor.to_owned())
    .bind(raised.audit.to_owned());
    // All rows, so every statement runs; the only row is the number.
    let rows = q
        .fetch_all(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "record (id or number)"))?;
    r.number = rows
        .first()
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
        .ok_or(StoreError::Corrupt("desk_counters"))?;
    Ok(())
}

/// The columns a record is inserted with, in [`bind_record`]'s order.
const RECORD_COLUMNS: &str = "tenant_id, id, kind, number, title, description, state, state_category, priority, \
     assignee_group, assignee, requester, ci_id, fields, created_by, created_at, updated_at, version, sla_level, sla_due_at";

/// `INSERT` of `rows` records.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO desk_records ({RECORD_COLUMNS}) VALUES ");
    super::placeholders(&mut sql, rows, 20);
    sql
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds one record's twenty values, in [`insert_sql`]'s order.
fn bind_record<'q>(q: AnyQuery<'q>, tenant: &str, r: &Record) -> AnyQuery<'q> {
    q.bind(tenant.to_owned())
        .bind(r.id.clone())
        .bind(r.kind.clone())
        .bind(r.number)
        .bind(r.title.clone())
        .bind(r.description.clone())
        .bind(r.state.clone())
        .bind(r.state_category.clone())
        .bind(r.priority.clone())
        .bind(r.assignee_group.clone())
        .bind(r.assignee.clone())
        .bind(r.requester.clone())
        .bind(r.ci_id.clone())
        .bind(serde_json::Value::Object(r.fields.clone()).to_string())
        .bind(r.created_by.clone())
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.version)
        .bind(r.sla_level.clone())
        .bind(r.sla_due_at)
}

/// Writes an edited record if nobody changed it since `r.version` was read;
/// the stored version becomes `r.version + 1`. `Ok(false)` when someone did.
pub async fn update(tx: &mut TenantTx, r: &Record) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE desk_records SET title = $1, description = $2, state = $3, state_category = $4, priority = $5, \
         assignee_group = $6, assignee = $7, requester = $8, ci_id = $9, fields = $10, updated_at = $11, \
         version = version + 1, sla_level = $12, sla_due_at = $13 \
         WHERE tenant_id = $14 AND id = $15 AND version = $16",
    )
    .bind(&r.title)
    .bind(&r.description)
    .bind(&r.state)
    .bind(&r.state_category)
    .bind(&r.priority)
    .bind(&r.assignee_group)
    .bind(&r.assignee)
    .bind(&r.requester)
    .bind(&r.ci_id)
    .bind(serde_json::Value::Object(r.fields.clone()).to_string())
    .bind(r.updated_at)
    .bind(&r.sla_level)
    .bind(r.sla_due_at)
    .bind(tenant)
    .bind(&r.id)
    .bind(r.version)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A record by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<Record>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!("SELECT {COLUMNS} FROM desk_records WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(record).transpose()
}

/// A record by kind and number.
pub async fn by_number(
    tx: &mut TenantTx,
    kind: &str,
    number: i64,
) -> Result<Option<Record>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!(
        "SELECT {COLUMNS} FROM desk_records WHERE tenant_id = $1 AND kind = $2 AND number = $3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(kind)
        .bind(number)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(record).transpose()
}

/// What a list asks for; every filter is optional and they combine with AND.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Record kind.
    pub kind: Option<String>,
    /// Exact state.
    pub state: Option<String>,
    /// State categories (any of).
    pub categories: Vec<String>,
    /// Priority.
    pub priority: Option<String>,
    /// Assignee (user id).
    pub assignee: Option<String>,
    /// Assignment group.
    pub assignee_group: Option<String>,
    /// Requester.
    pub requester: Option<String>,
    /// Configuration item.
    pub ci_id: Option<String>,
    /// Created at or after (Unix seconds).
    pub created_from: Option<i64>,
    /// Created before (Unix seconds).
    pub created_to: Option<i64>,
    /// Full-text query (see [`super::text::match_expression`]).
    pub text: Option<String>,
    /// Continue after this (updated_at, id), newest first.
    pub after: Option<(i64, String)>,
    /// At most this many (capped at 200).
    pub limit: u32,
}

/// The state categories, in the order the partial indexes name them.
const CATEGORIES: [&str; 5] = ["new", "active", "pending", "resolved", "closed"];

enum Arg {
    Text(String),
    Int(i64),
}

/// Records matching a filter, most recently changed first. The statement is
/// assembled from this function's constants only; every value is bound.
///
/// Full-text matches are taken newest-indexed first (every edit
/// re-indexes a record, so that is recent activity), in widening windows:
/// the newest few pages' worth of matches (which both engines read in
/// index order, so a search for a common word costs what one for a rare
/// word does), then the newest [`SEARCH_WINDOW`] (for searches the other
/// filters narrow), and only if those yield less than a page, all matches.
pub async fn list(tx: &mut TenantTx, f: &Filter) -> Result<Vec<Record>, StoreError> {
    let limit = f.limit.clamp(1, 200);
    if f.text.is_some() {
        for window in [limit * FIRST_WINDOW_PAGES, SEARCH_WINDOW] {
            let found = list_with(tx, f, Some(window)).await?;
            if found.len() >= usize::try_from(limit).unwrap_or(200) {
                return Ok(found);
            }
        }
    }
    list_with(tx, f, None).await
}

/// Pages' worth of newest full-text matches a first search attempt takes.
const FIRST_WINDOW_PAGES: u32 = 4;
/// Newest full-text matches a second search attempt considers.
pub const SEARCH_WINDOW: u32 = 5000;

async fn list_with(
    tx: &mut TenantTx,
    f: &Filter,
    window: Option<u32>,
) -> Result<Vec<Record>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let backend = tx.backend();
    let text = f
        .text
        .as_deref()
        .and_then(|q| super::text::match_expression(backend, q));
    let mut args: Vec<Arg> = vec![Arg::Text(tenant)];
    let mut sql = match (&text, backend) {
        // Drive the search from the index: the matches (by rowid), their
        // records by primary key, then the other filters.
        (Some(q), Backend::Sqlite) => {
            args.push(Arg::Text(q.clone()));
            let cap = window.map_or(String::new(), |w| format!(" ORDER BY rowid DESC LIMIT {w}"));
            format!(
                "SELECT {COLUMNS} FROM (SELECT DISTINCT record_id FROM desk_text WHERE +tenant_id = $1 AND id IN \
                 (SELECT rowid FROM desk_text_fts WHERE desk_text_fts MATCH $2{cap})) m \
                 CROSS JOIN desk_records ON desk_records.tenant_id = $1 AND desk_records.id = m.record_id WHERE tenant_id = $1"
            )
        }
        // Through `desk_text_match` (migration 9), which can use the GIN
        // index that row-level security keeps a plain query from.
        (Some(q), Backend::Postgres) => {
            args.push(Arg::Text(q.clone()));
            let cap = window.map_or_else(|| "NULL".to_owned(), |w| w.to_string());
            format!(
                "SELECT {COLUMNS} FROM desk_records WHERE tenant_id = $1 AND id IN \
                 (SELECT record_id FROM desk_text_match(to_tsquery('simple', $2), {cap}))"
            )
        }
        (None, _) => format!("SELECT {COLUMNS} FROM desk_records WHERE tenant_id = $1"),
    };
    let mut push = |sql: &mut String, clause: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    let text_cols: [(&str, &Option<String>); 7] = [
        ("kind", &f.kind),
        ("state", &f.state),
        ("priority", &f.priority),
        ("assignee", &f.assignee),
        ("assignee_group", &f.assignee_group),
        ("requester", &f.requester),
        ("ci_id", &f.ci_id),
    ];
    for (col, value) in text_cols {
        if let Some(v) = value {
            push(&mut sql, &format!(" AND {col} = ?"), Arg::Text(v.clone()));
        }
    }
    if !f.categories.is_empty() {
        // Literals (from the fixed set only), so the planner can match the
        // partial indexes of open records.
        let mut known: Vec<&str> = CATEGORIES
            .iter()
            .copied()
            .filter(|c| f.categories.iter().any(|x| x == c))
            .collect();
        if known.is_empty() {
            known.push("none");
        }
        let list: Vec<String> = known.iter().map(|c| format!("'{c}'")).collect();
        sql.push_str(&format!(" AND state_category IN ({})", list.join(", ")));
    }
    if let Some(from) = f.created_from {
        push(&mut sql, " AND created_at >= ?", Arg::Int(from));
    }
    if let Some(to) = f.created_to {
        push(&mut sql, " AND created_at < ?", Arg::Int(to));
    }
    if let Some((at, id)) = &f.after {
        args.push(Arg::Int(*at));
        let n = args.len();
        args.push(Arg::Text(id.clone()));
        // A row-value comparison keeps the index range usable.
        sql.push_str(&format!(" AND (updated_at, id) < (${n}, ${})", n + 1));
    }
    sql.push_str(&format!(
        " ORDER BY updated_at DESC, id DESC LIMIT {}",
        f.limit.clamp(1, 200)
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(tx.conn()).await?;
    rows.iter().map(record).collect()
}

/// Records whose SLA clock is due at or before `before` and not yet at
/// `breached`, for the escalation job.
pub async fn due(tx: &mut TenantTx, before: i64, limit: u32) -> Result<Vec<Record>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!(
        "SELECT {COLUMNS} FROM desk_records WHERE tenant_id = $1 AND sla_due_at IS NOT NULL AND sla_due_at <= $2 \
         ORDER BY sla_due_at LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(record).collect()
}

/// The states records of a kind are in now.
pub async fn states_in_use(tx: &mut TenantTx, kind: &str) -> Result<Vec<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT state FROM desk_records WHERE tenant_id = $1 AND kind = $2",
    )
    .bind(tenant)
    .bind(kind)
    .fetch_all(tx.conn())
    .await?)
}

/// Links one record to another (`caused_by`, `part_of`, `relates_to`).
pub async fn link(
    tx: &mut TenantTx,
    from: &str,
    relation: &str,
    to: &str,
    at: i64,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_links (tenant_id, from_id, relation, to_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(from)
    .bind(relation)
    .bind(to)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A link between records, seen from one of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The other record.
    pub other_id: String,
    /// The relation, read from `from` to `to`.
    pub relation: String,
    /// Whether this record is the link's `from` side.
    pub outgoing: bool,
}

/// Every link of a record, both directions.
pub async fn links(tx: &mut TenantTx, id: &str) -> Result<Vec<Link>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT to_id AS other, relation, CAST(1 AS BIGINT) AS outgoing FROM desk_links WHERE tenant_id = $1 AND from_id = $2 \
         UNION ALL SELECT from_id AS other, relation, CAST(0 AS BIGINT) AS outgoing FROM desk_links WHERE tenant_id = $1 AND to_id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Link {
                other_id: r.try_get("other")?,
                relation: r.try_get("relation")?,
                outgoing: r.try_get::<i64, _>("outgoing")? != 0,
            })
        })
        .collect()
}

/// Rows per statement of [`import`].
const IMPORT_BATCH: usize = 400;

/// Imports many records at once (a migration from another desk, or
/// generated data): each row with one state-log entry for its current state
/// (entered at `updated_at`) and its title and description indexed for
/// search. Multi-row statements keep a million records to minutes.
pub async fn import(tx: &mut TenantTx, rows: &[Record]) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    // Oldest activity first, so the search index's order is that of
    // activity, as it is for records edited here.
    let mut ordered: Vec<&Record> = rows.iter().collect();
    ordered.sort_by_key(|r| r.updated_at);
    for chunk in ordered.chunks(IMPORT_BATCH) {
        let mut q = sqlx::query(AssertSqlSafe(insert_sql(chunk.len())));
        for r in chunk.iter().copied() {
            q = bind_record(q, &tenant, r);
        }
        q.execute(tx.conn())
            .await
            .map_err(|e| StoreError::conflict_on(e, "record (id or number)"))?;

        let mut sql = String::from(
            "INSERT INTO desk_state_log (tenant_id, record_id, seq, at, state, category) VALUES ",
        );
        super::placeholders(&mut sql, chunk.len(), 6);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(tenant.clone())
                .bind(r.id.clone())
                .bind(1i64)
                .bind(r.updated_at)
                .bind(r.state.clone())
                .bind(r.state_category.clone());
        }
        q.execute(tx.conn()).await?;

        let mut sql =
            String::from("INSERT INTO desk_text (tenant_id, record_id, source_id, body) VALUES ");
        super::placeholders(&mut sql, chunk.len(), 4);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(tenant.clone())
                .bind(r.id.clone())
                .bind(r.id.clone())
                .bind(format!("{} {}", r.title, r.description));
        }
        q.execute(tx.conn()).await?;
    }
    let top = rows.iter().map(|r| (r.kind.as_str(), r.number)).fold(
        std::collections::BTreeMap::<&str, i64>::new(),
        |mut m, (k, n)| {
            let e = m.entry(k).or_insert(0);
            *e = (*e).max(n);
            m
        },
    );
    for (kind, n) in top {
        sqlx::query(
            "INSERT INTO desk_counters (tenant_id, kind, next) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, kind) DO UPDATE SET next = CASE WHEN desk_counters.next > $3 THEN desk_counters.next ELSE $3 END",
        )
        .bind(tenant.clone())
        .bind(kind)
        .bind(n)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
