//! What a tenant export holds, table by table: the columns written to the
//! archive (typed, so an import binds them right on either backend), the
//! columns left out (credentials, sealed bytes that travel as files,
//! runtime state), and the order an import inserts them in (parents
//! first). A test checks this list against the database's own catalogue,
//! so a new table or column cannot be forgotten.
//!
//! Reading and writing rows is generic over this list; what the archive
//! looks like and what the left-out columns become on import is the
//! server's business (`app::export`).

use crate::{StoreError, TenantTx};
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Row};

/// A column's type, the same on SQLite (INTEGER / TEXT) and PostgreSQL
/// (BIGINT / TEXT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// A 64-bit integer.
    Int,
    /// Text.
    Text,
}

use ColumnType::{Int, Text};

/// One exported table.
#[derive(Debug)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Columns written, in order.
    pub columns: &'static [(&'static str, ColumnType)],
    /// Columns left out of the archive.
    pub omitted: &'static [&'static str],
}

/// Every exported table, parents before children.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("must_change_password", Int),
            ("created_at", Int),
        ],
        omitted: &[
            "password_hash",
            "mfa_secret",
            "recovery_codes",
            "failed_logins",
            "locked_until",
        ],
    },
    Table {
        name: "device_groups",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("name", Text),
            ("created_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "device_group_experts",
        columns: &[("tenant_id", Text), ("group_id", Text), ("user_id", Text)],
        omitted: &[],
    },
    Table {
        name: "devices",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("name", Text),
            ("os", Text),
            ("group_id", Text),
            ("policy", Text),
            ("enrolled_at", Int),
            ("last_seen", Int),
        ],
        omitted: &["credential_hash", "online_replica"],
    },
    Table {
        name: "support_sessions",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("expert_id", Text),
            ("code_locator", Text),
            ("link_locator", Text),
            ("state", Text),
            ("created_at", Int),
            ("ended_at", Int),
            ("outcome", Text),
            ("features", Text),
            ("members", Text),
            ("kind", Text),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_cis",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("name", Text),
            ("ci_type", Text),
            ("attributes", Text),
            ("device_id", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_ci_relations",
        columns: &[
            ("tenant_id", Text),
            ("from_ci", Text),
            ("relation", Text),
            ("to_ci", Text),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_records",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("kind", Text),
            ("number", Int),
            ("title", Text),
            ("description", Text),
            ("state", Text),
            ("state_category", Text),
            ("priority", Text),
            ("assignee_group", Text),
            ("assignee", Text),
            ("requester", Text),
            ("ci_id", Text),
            ("fields", Text),
            ("created_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("version", Int),
            ("sla_level", Text),
            ("sla_due_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_notes",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("record_id", Text),
            ("author", Text),
            ("public", Int),
            ("body", Text),
            ("created_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_links",
        columns: &[
            ("tenant_id", Text),
            ("from_id", Text),
            ("relation", Text),
            ("to_id", Text),
            ("created_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_votes",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("member", Text),
            ("vote", Text),
            ("comment", Text),
            ("at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_record_sessions",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("session_id", Text),
            ("started_by", Text),
            ("started_at", Int),
            ("summary", Text),
            ("attached_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_history",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("seq", Int),
            ("at", Int),
            ("actor", Text),
            ("field", Text),
            ("old_value", Text),
            ("new_value", Text),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_state_log",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("seq", Int),
            ("at", Int),
            ("state", Text),
            ("category", Text),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_text",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("source_id", Text),
            ("body", Text),
        ],
        omitted: &["id"],
    },
    Table {
        name: "desk_attachments",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("record_id", Text),
            ("name", Text),
            ("size", Int),
            ("sha256", Text),
            ("public", Int),
            ("uploaded_by", Text),
            ("created_at", Int),
        ],
        omitted: &["sealed"],
    },
    Table {
        name: "desk_watchers",
        columns: &[
            ("tenant_id", Text),
            ("record_id", Text),
            ("user_id", Text),
            ("created_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_views",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("user_id", Text),
            ("name", Text),
            ("query", Text),
            ("created_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_webhooks",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("url", Text),
            ("created_at", Int),
        ],
        omitted: &["secret_sealed"],
    },
    Table {
        name: "desk_counters",
        columns: &[("tenant_id", Text), ("kind", Text), ("next", Int)],
        omitted: &[],
    },
    Table {
        name: "desk_settings",
        columns: &[
            ("tenant_id", Text),
            ("name", Text),
            ("value", Text),
            ("updated_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "desk_mail_seen",
        columns: &[
            ("tenant_id", Text),
            ("message_id", Text),
            ("record_id", Text),
            ("outcome", Text),
            ("seen_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "privacy_settings",
        columns: &[
            ("tenant_id", Text),
            ("restricted_policy", Text),
            ("session_retention_days", Int),
            ("updated_at", Int),
        ],
        omitted: &[],
    },
    Table {
        name: "camera_items",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("session_id", Text),
            ("item", Text),
            ("media_type", Text),
            ("size", Int),
            ("created_by", Text),
            ("created_at", Int),
        ],
        omitted: &["key_version", "sealed"],
    },
    Table {
        name: "audit_log",
        columns: &[
            ("tenant_id", Text),
            ("id", Text),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("detail", Text),
        ],
        omitted: &[],
    },
    Table {
        name: "security_log",
        columns: &[
            ("id", Text),
            ("tenant_id", Text),
            ("at", Int),
            ("kind", Text),
            ("peer", Text),
            ("detail", Text),
        ],
        omitted: &[],
    },
];

/// Tenant tables an export leaves out whole: sign-in sessions and API or
/// enrolment tokens (credentials of this instance), relay and broker state,
/// webhook deliveries in flight, and this instance's data keys.
pub const NOT_EXPORTED: &[&str] = &[
    "auth_sessions",
    "api_tokens",
    "enrolment_tokens",
    "broker_grants",
    "broker_placements",
    "join_locators",
    "desk_outbox",
    "desk_outbox_tenants",
    "tenant_keys",
];

/// The table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

fn select(t: &Table) -> String {
    let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let order: Vec<&str> = t
        .columns
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| *c != "tenant_id")
        .take(3)
        .collect();
    format!(
        "SELECT {} FROM {} WHERE tenant_id = $1 ORDER BY {}",
        columns.join(", "),
        t.name,
        order.join(", ")
    )
}

fn value(row: &sqlx::any::AnyRow, column: &str, kind: ColumnType) -> Result<Value, StoreError> {
    Ok(match kind {
        Int => row
            .try_get::<Option<i64>, _>(column)?
            .map_or(Value::Null, Value::from),
        Text => row
            .try_get::<Option<String>, _>(column)?
            .map_or(Value::Null, Value::from),
    })
}

/// Every row of table `t` of the transaction's tenant, in a stable order,
/// each handed to `each` as it is read (nothing held in memory).
pub async fn each_row(
    tx: &mut TenantTx,
    t: &Table,
    mut each: impl FnMut(Map<String, Value>) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = select(t);
    let mut rows = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .fetch(tx.conn());
    let mut n = 0;
    while let Some(row) = rows.try_next().await? {
        let mut object = Map::new();
        for (column, kind) in t.columns {
            object.insert((*column).to_owned(), value(&row, column, *kind)?);
        }
        each(object)?;
        n += 1;
    }
    Ok(n)
}

/// Why a row from an archive does not fit its table.
fn misfit(table: &str, why: String) -> StoreError {
    StoreError::Config(format!("{table}: {why}"))
}

/// Insert one row of table `t` for the transaction's tenant: the archive's
/// columns (checked against the list: no unknown column, each of its type,
/// `tenant_id` forced to the transaction's) and `extra` values for
/// left-out columns.
pub async fn insert_row(
    tx: &mut TenantTx,
    t: &Table,
    row: &Map<String, Value>,
    extra: &[(&str, Value)],
) -> Result<(), StoreError> {
    if let Some(unknown) = row.keys().find(|k| !t.columns.iter().any(|(c, _)| c == k)) {
        return Err(misfit(t.name, format!("unknown column {unknown:?}")));
    }
    let tenant = Value::from(tx.tenant());
    let mut names = Vec::new();
    let mut values: Vec<(ColumnType, &Value)> = Vec::new();
    for (column, kind) in t.columns {
        let v = if *column == "tenant_id" {
            &tenant
        } else {
            row.get(*column).unwrap_or(&Value::Null)
        };
        names.push(*column);
        values.push((*kind, v));
    }
    let extra_kinds: Vec<(ColumnType, &Value)> = extra
        .iter()
        .map(|(_, v)| (if v.is_i64() { Int } else { Text }, v))
        .collect();
    names.extend(extra.iter().map(|(c, _)| *c));
    values.extend(extra_kinds);
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        names.join(", "),
        placeholders.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for ((kind, v), name) in values.into_iter().zip(&names) {
        q = match (kind, v) {
            (Int, Value::Null) => q.bind(None::<i64>),
            (Int, Value::Number(n)) => q.bind(
                n.as_i64()
                    .ok_or_else(|| misfit(t.name, format!("{name} is not a 64-bit integer")))?,
            ),
            (Text, Value::Null) => q.bind(None::<String>),
            (Text, Value::String(s)) => q.bind(s.clone()),
            _ => return Err(misfit(t.name, format!("{name} has the wrong type"))),
        };
    }
    q.execute(tx.conn()).await?;
    Ok(())
}
