//! Erasing a tenant's content: the whole tenant (every row of every table
//! that holds its id) or chosen records (a desk record with everything
//! hanging off it, a support session with its camera items and transcript
//! attachments).
//!
//! A whole tenant goes in batches, one transaction each, so a large
//! tenant neither holds a long lock nor loses its progress when the job is
//! killed: the caller records each batch's count in the same transaction.
//! [`TABLES`] lists every tenant table in an order that respects foreign
//! keys (a test checks that it misses none); the tables the application
//! may only append to are [`PROTECTED`] and go last through
//! [`erase_protected`] (on PostgreSQL a function owned by the owning role
//! that refuses unless the tenant's deletion request is running).

use crate::{Backend, StoreError, TenantTx};
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;

/// Tenant tables the application deletes from, children before parents.
pub const TABLES: &[&str] = &[
    "camera_items",
    "broker_grants",
    "broker_placements",
    "join_locators",
    "desk_mail_seen",
    "desk_outbox",
    "desk_outbox_tenants",
    "desk_webhooks",
    "desk_views",
    "desk_watchers",
    "desk_attachments",
    "desk_text",
    "desk_record_sessions",
    "desk_votes",
    "desk_links",
    "desk_notes",
    "desk_records",
    "desk_ci_relations",
    "desk_cis",
    "desk_counters",
    "desk_settings",
    "privacy_settings",
    "devices",
    "enrolment_tokens",
    "device_group_experts",
    "device_groups",
    "api_tokens",
    "auth_sessions",
    "support_sessions",
    "users",
];

/// Tables the application may only append to, and the tenant row itself.
pub const PROTECTED: &[&str] = &[
    "desk_state_log",
    "desk_history",
    "audit_log",
    "security_log",
    "tenant_keys",
    "tenants",
];

/// Rows deleted per transaction.
pub const BATCH: i64 = 500;

/// Delete up to `limit` of the tenant's rows from `table` (one of
/// [`TABLES`]); returns how many went.
pub async fn erase_batch(tx: &mut TenantTx, table: &str, limit: i64) -> Result<u64, StoreError> {
    let Some(table) = TABLES.iter().find(|t| **t == table) else {
        return Err(StoreError::Config(format!("{table} is not a tenant table")));
    };
    let row_id = match tx.backend() {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "ctid",
    };
    let sql = format!(
        "DELETE FROM {table} WHERE {row_id} IN \
         (SELECT {row_id} FROM {table} WHERE tenant_id = $1 LIMIT $2)"
    );
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(limit)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

/// Delete the tenant's rows from the [`PROTECTED`] tables and the tenant
/// itself; returns the rows deleted by table. Refused unless the tenant's
/// deletion request is running.
pub async fn erase_protected(tx: &mut TenantTx) -> Result<Counts, StoreError> {
    let tenant = tx.tenant().to_owned();
    let mut counts = Counts::new();
    for table in PROTECTED {
        let column = if *table == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&tenant)
            .fetch_one(tx.conn())
            .await?;
        if n > 0 {
            counts.insert((*table).to_owned(), u64::try_from(n).unwrap_or(0));
        }
    }
    match tx.backend() {
        Backend::Postgres => {
            sqlx::query("SELECT erase_tenant_protected($1)")
                .bind(tenant)
                .execute(tx.conn())
                .await?;
        }
        Backend::Sqlite => {
            for table in PROTECTED {
                let column = if *table == "tenants" {
                    "id"
                } else {
                    "tenant_id"
                };
                let sql = format!("DELETE FROM {table} WHERE {column} = $1");
                sqlx::query(AssertSqlSafe(sql))
                    .bind(&tenant)
                    .execute(tx.conn())
                    .await?;
            }
        }
    }
    Ok(counts)
}

/// Rows deleted, by table.
pub type Counts = BTreeMap<String, u64>;

async fn delete_where(
    tx: &mut TenantTx,
    counts: &mut Counts,
    table: &'static str,
    condition: &str,
    value: &str,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND ({condition})");
    let n = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(value)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n > 0 {
        *counts.entry(table.to_owned()).or_default() += n;
    }
    Ok(())
}

/// Erase one desk record (by id) and everything attached to it: notes,
/// attachments, search text, links both ways, votes, watchers, session
/// attachments; its history and state log go with it (foreign keys).
/// Returns the rows deleted by table; empty if there was no such record.
pub async fn erase_desk_record(tx: &mut TenantTx, record_id: &str) -> Result<Counts, StoreError> {
    let mut counts = Counts::new();
    for (table, condition) in [
        ("desk_text", "record_id = $2"),
        ("desk_attachments", "record_id = $2"),
        ("desk_notes", "record_id = $2"),
        ("desk_links", "from_id = $2 OR to_id = $2"),
        ("desk_votes", "record_id = $2"),
        ("desk_watchers", "record_id = $2"),
        ("desk_record_sessions", "record_id = $2"),
        ("desk_history", "record_id = $2"),
        ("desk_state_log", "record_id = $2"),
        ("desk_records", "id = $2"),
    ] {
        if matches!(table, "desk_history" | "desk_state_log") {
            // Append-only for the application: these go with their record
            // through the foreign key's cascade. Count them first.
            let tenant = tx.tenant().to_owned();
            let sql =
                format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1 AND record_id = $2");
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(tenant)
                .bind(record_id)
                .fetch_one(tx.conn())
                .await?;
            if n > 0 {
                counts.insert(table.to_owned(), u64::try_from(n).unwrap_or(0));
            }
            continue;
        }
        delete_where(tx, &mut counts, table, condition, record_id).await?;
    }
    if !counts.contains_key("desk_records") {
        counts.clear();
    }
    Ok(counts)
}

/// Erase one support session: its camera items, the transcripts attached
/// to desk records, its join locators and broker state, and its record.
/// Returns the rows deleted by table; empty if there was no such session.
pub async fn erase_support_session(
    tx: &mut TenantTx,
    session_id: &str,
) -> Result<Counts, StoreError> {
    let mut counts = Counts::new();
    for (table, condition) in [
        ("camera_items", "session_id = $2"),
        ("desk_text", "source_id LIKE 'session:' || $2 || ':%'"),
        ("desk_record_sessions", "session_id = $2"),
        ("join_locators", "session_id = $2"),
        ("broker_grants", "session_id = $2"),
        ("broker_placements", "session_id = $2"),
        ("support_sessions", "id = $2"),
    ] {
        delete_where(tx, &mut counts, table, condition, session_id).await?;
    }
    if !counts.contains_key("support_sessions") {
        counts.clear();
    }
    Ok(counts)
}

/// Ids of the tenant's support sessions that ended before `before`, at
/// most `limit`.
pub async fn sessions_ended_before(
    tx: &mut TenantTx,
    before: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let tenant = tx.tenant().to_owned();
    Ok(sqlx::query_scalar(
        "SELECT id FROM support_sessions WHERE tenant_id = $1 AND ended_at IS NOT NULL \
         AND ended_at < $2 ORDER BY ended_at LIMIT $3",
    )
    .bind(tenant)
    .bind(before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Transcripts attached to desk records before `before` (sessions of
/// other tenants' retention aside, these are the session records kept on
/// tickets); deletes at most `limit`, returns how many went.
pub async fn transcripts_attached_before(
    tx: &mut TenantTx,
    before: i64,
    limit: i64,
) -> Result<u64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row_id = match tx.backend() {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "ctid",
    };
    let due = format!(
        "SELECT {row_id} FROM desk_record_sessions \
         WHERE tenant_id = $1 AND attached_at IS NOT NULL AND attached_at < $2 LIMIT $3"
    );
    // The transcript's search text first (its source names session and
    // record), then the attachment itself.
    let text = format!(
        "DELETE FROM desk_text WHERE tenant_id = $1 AND source_id IN \
         (SELECT 'session:' || session_id || ':' || record_id FROM desk_record_sessions \
          WHERE {row_id} IN ({due}))"
    );
    sqlx::query(AssertSqlSafe(text))
        .bind(&tenant)
        .bind(before)
        .bind(limit)
        .execute(tx.conn())
        .await?;
    let sql = format!("DELETE FROM desk_record_sessions WHERE {row_id} IN ({due})");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(before)
        .bind(limit)
        .execute(tx.conn())
        .await?
        .rows_affected())
}
