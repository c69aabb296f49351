//! Configuration items and the relations between them.

use crate::{StoreError, TenantTx};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// A configuration item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ci {
    /// Id.
    pub id: String,
    /// Name, unique in the tenant.
    pub name: String,
    /// `device`, `server`, `application`, `service` or `network`.
    pub ci_type: String,
    /// Typed attributes (OS, memory, addresses, versions …).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The enrolled device it is, if any.
    pub device_id: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Changed (Unix seconds).
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, ci_type, attributes, device_id, created_at, updated_at";

fn ci(r: &sqlx::any::AnyRow) -> Result<Ci, StoreError> {
    let attributes: String = r.try_get("attributes")?;
    let attributes = match serde_json::from_str(&attributes) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(StoreError::Corrupt("desk_cis.attributes")),
    };
    Ok(Ci {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        ci_type: r.try_get("ci_type")?,
        attributes,
        device_id: r.try_get("device_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Stores a new item; a taken name is a conflict.
pub async fn insert(tx: &mut TenantTx, c: &Ci) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_cis (tenant_id, id, name, ci_type, attributes, device_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant)
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.ci_type)
    .bind(serde_json::Value::Object(c.attributes.clone()).to_string())
    .bind(&c.device_id)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "configuration item name"))?;
    Ok(())
}

/// Replaces an item's attributes.
pub async fn set_attributes(
    tx: &mut TenantTx,
    id: &str,
    attributes: &serde_json::Map<String, serde_json::Value>,
    at: i64,
) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE desk_cis SET attributes = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(serde_json::Value::Object(attributes.clone()).to_string())
    .bind(at)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An item by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<Ci>, StoreError> {
    one(tx, "id", id).await
}

/// An item by name.
pub async fn by_name(tx: &mut TenantTx, name: &str) -> Result<Option<Ci>, StoreError> {
    one(tx, "name", name).await
}

/// The item of an enrolled device.
pub async fn by_device(tx: &mut TenantTx, device_id: &str) -> Result<Option<Ci>, StoreError> {
    one(tx, "device_id", device_id).await
}

/// `column` is one of this module's constants, never input.
async fn one(
    tx: &mut TenantTx,
    column: &'static str,
    value: &str,
) -> Result<Option<Ci>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!("SELECT {COLUMNS} FROM desk_cis WHERE tenant_id = $1 AND {column} = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(value)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(ci).transpose()
}

/// Items by name, optionally of one type, at most `limit`.
pub async fn list(
    tx: &mut TenantTx,
    ci_type: Option<&str>,
    limit: u32,
) -> Result<Vec<Ci>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let sql = format!(
        "SELECT {COLUMNS} FROM desk_cis WHERE tenant_id = $1 AND ($2 = '' OR ci_type = $2) ORDER BY name LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(ci_type.unwrap_or(""))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(ci).collect()
}

/// A relation between two items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relation {
    /// The dependent item.
    pub from_ci: String,
    /// `runs-on`, `depends-on` or `connected-to`.
    pub relation: String,
    /// The item needed.
    pub to_ci: String,
}

/// Adds a relation (adding it twice is harmless).
pub async fn relate(tx: &mut TenantTx, r: &Relation) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO desk_ci_relations (tenant_id, from_ci, relation, to_ci) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(&r.from_ci)
    .bind(&r.relation)
    .bind(&r.to_ci)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every relation of the tenant (the impact view walks them in memory).
pub async fn relations(tx: &mut TenantTx) -> Result<Vec<Relation>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows =
        sqlx::query("SELECT from_ci, relation, to_ci FROM desk_ci_relations WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(tx.conn())
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Relation {
                from_ci: r.try_get("from_ci")?,
                relation: r.try_get("relation")?,
                to_ci: r.try_get("to_ci")?,
            })
        })
        .collect()
}

/// Forgets a removed device: its item stays, no longer linked.
pub async fn unlink_device(tx: &mut TenantTx, device_id: &str, at: i64) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("UPDATE desk_cis SET device_id = NULL, updated_at = $1 WHERE tenant_id = $2 AND device_id = $3")
        .bind(at)
        .bind(tenant)
        .bind(device_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
