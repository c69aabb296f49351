//! The service desk's tables: records of every kind with their history,
//! state log, notes, links and change-board votes; configuration items and
//! their relations; per-tenant settings; and the full-text index. The rules
//! (lifecycles, SLA, quorum) live in `fernhand-desk`; this module stores
//! what the server decided, in the caller's tenant transaction, so a record
//! and its history are written together or not at all.

pub mod attachments;
pub mod cis;
pub mod history;
pub mod mail;
pub mod notes;
pub mod records;
pub mod sessions;
pub mod settings;
pub mod text;
pub mod views;
pub mod votes;
pub mod watchers;
pub mod webhooks;

use crate::{StoreError, TenantTx};

/// Takes the next number of a record kind in the tenant (1, 2, …). Numbers
/// are never reused; a rolled-back transaction gives its number back.
pub async fn next_number(tx: &mut TenantTx, kind: &str) -> Result<i64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO desk_counters (tenant_id, kind, next) VALUES ($1, $2, 1) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET next = desk_counters.next + 1 RETURNING next",
    )
    .bind(tenant)
    .bind(kind)
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// Appends `($1, …, $k), (…)` to `sql`: placeholders for `rows` rows of
/// `columns` values, for multi-row statements.
pub(crate) fn placeholders(sql: &mut String, rows: usize, columns: usize) {
    placeholders_after(sql, 0, rows, columns);
}

/// The same, numbered from `$after + 1` (for a statement sent together
/// with others that bind the parameters before it).
pub(crate) fn placeholders_after(sql: &mut String, after: usize, rows: usize, columns: usize) {
    let mut n = after;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
}
