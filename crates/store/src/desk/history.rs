//! A record's full history (who changed which field from what to what, and
//! when) and its state log (the states entered, with their category: what
//! SLA clocks are computed from). Both are append-only.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// One change of one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Order within the record, from 1.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who (user id, or `system:…`).
    pub actor: String,
    /// Which field (`state`, `assignee`, `note`, `session`, …).
    pub field: String,
    /// Before, if any.
    pub old_value: Option<String>,
    /// After, if any.
    pub new_value: Option<String>,
}

/// The first lines of a new record: the state it starts in and its
/// history from seq 1 (nothing to look up first).
pub async fn begin(
    tx: &mut TenantTx,
    record_id: &str,
    first: &Entered,
    actor: &str,
    changes: &[(String, Option<String>, Option<String>)],
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("INSERT INTO desk_state_log (tenant_id, record_id, seq, at, state, category) VALUES ($1, $2, 1, $3, $4, $5)")
        .bind(&tenant)
        .bind(record_id)
        .bind(first.at)
        .bind(&first.state)
        .bind(&first.category)
        .execute(tx.conn())
        .await?;
    insert_changes(tx, record_id, 0, first.at, actor, changes).await
}

/// The history `INSERT` of `rows` changes with parameters after `$after`.
pub(crate) fn changes_sql(after: usize, rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO desk_history (tenant_id, record_id, seq, at, actor, field, old_value, new_value) VALUES ",
    );
    super::placeholders_after(&mut sql, after, rows, 8);
    sql
}

/// Binds `changes` (numbered after `after_seq`) in [`changes_sql`]'s order.
pub(crate) fn bind_changes<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    tenant: &str,
    record_id: &str,
    after_seq: i64,
    at: i64,
    actor: &str,
    changes: &[(String, Option<String>, Option<String>)],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for (seq, (field, old, new)) in (after_seq + 1..).zip(changes) {
        q = q
            .bind(tenant.to_owned())
            .bind(record_id.to_owned())
            .bind(seq)
            .bind(at)
            .bind(actor.to_owned())
            .bind(field.clone())
            .bind(old.clone())
            .bind(new.clone());
    }
    q
}

async fn insert_changes(
    tx: &mut TenantTx,
    record_id: &str,
    after_seq: i64,
    at: i64,
    actor: &str,
    changes: &[(String, Option<String>, Option<String>)],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let tenant = tx.tenant().to_owned();
    let q = sqlx::query(AssertSqlSafe(changes_sql(0, changes.len())));
    let q = bind_changes(q, &tenant, record_id, after_seq, at, actor, changes);
    q.execute(tx.conn()).await?;
    Ok(())
}

/// Appends changes to a record's history, in order.
pub async fn append(
    tx: &mut TenantTx,
    record_id: &str,
    at: i64,
    actor: &str,
    changes: &[(String, Option<String>, Option<String>)],
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(seq) FROM desk_history WHERE tenant_id = $1 AND record_id = $2",
    )
    .bind(&tenant)
    .bind(record_id)
    .fetch_one(tx.conn())
    .await?;
    insert_changes(tx, record_id, last.unwrap_or(0), at, actor, changes).await
}

/// A record's history, oldest first.
pub async fn list(tx: &mut TenantTx, record_id: &str) -> Result<Vec<Change>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT seq, at, actor, field, old_value, new_value FROM desk_history \
         WHERE tenant_id = $1 AND record_id = $2 ORDER BY seq",
    )
    .bind(tenant)
    .bind(record_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Change {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                field: r.try_get("field")?,
                old_value: r.try_get("old_value")?,
                new_value: r.try_get("new_value")?,
            })
        })
        .collect()
}

/// A state entered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entered {
    /// When (Unix seconds).
    pub at: i64,
    /// The state.
    pub state: String,
    /// Its category then.
    pub category: String,
}

/// Records that a record entered a state.
pub async fn enter_state(
    tx: &mut TenantTx,
    record_id: &str,
    e: &Entered,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_state_log (tenant_id, record_id, seq, at, state, category) \
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5 FROM desk_state_log WHERE tenant_id = $1 AND record_id = $2",
    )
    .bind(tenant)
    .bind(record_id)
    .bind(e.at)
    .bind(&e.state)
    .bind(&e.category)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The states a record entered, oldest first.
pub async fn states(tx: &mut TenantTx, record_id: &str) -> Result<Vec<Entered>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = sqlx::query(
        "SELECT at, state, category FROM desk_state_log WHERE tenant_id = $1 AND record_id = $2 ORDER BY seq",
    )
    .bind(tenant)
    .bind(record_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Entered {
                at: r.try_get("at")?,
                state: r.try_get("state")?,
                category: r.try_get("category")?,
            })
        })
        .collect()
}
