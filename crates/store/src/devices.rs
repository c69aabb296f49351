//! Unattended devices: enrolment tokens (single use, expiring, stored as
//! SHA-256), enrolled devices (a credential stored as SHA-256, a policy,
//! last seen), device groups, and which experts may reach which group.

use crate::{StoreError, TenantTx, new_id, now};
use serde::Serialize;
use sqlx::Row;

/// An enrolled device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Id.
    pub id: String,
    /// Name the agent gave (host name).
    pub name: String,
    /// Operating system the agent reported.
    pub os: String,
    /// Its group, if any.
    pub group_id: Option<String>,
    /// `unattended` (experts may connect) or `ask` (the user present must accept).
    pub policy: String,
    /// Enrolled (Unix seconds).
    pub enrolled_at: i64,
    /// Last control connection activity (Unix seconds).
    pub last_seen: i64,
    /// The replica holding its control connection, if that replica is alive.
    #[serde(skip)]
    pub online_at: Option<String>,
}

/// A replica silent this long no longer counts as holding connections.
pub const REPLICA_TIMEOUT: i64 = 30;

/// A device group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceGroup {
    /// Id.
    pub id: String,
    /// Name (unique in the tenant).
    pub name: String,
    /// Experts who may reach its devices.
    pub experts: Vec<String>,
}

/// An enrolment token's record (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnrolmentToken {
    /// Id.
    pub id: String,
    /// Group the enrolled device joins.
    pub group_id: Option<String>,
    /// Expires (Unix seconds).
    pub expires_at: i64,
    /// Used (Unix seconds), if used.
    pub used_at: Option<i64>,
}

/// `SELECT` of every device column followed by the rest of the statement.
macro_rules! select_devices {
    ($rest:literal) => {
        concat!(
            "SELECT d.id, d.name, d.os, d.group_id, d.policy, d.enrolled_at, d.last_seen, d.online_replica, \
             r.seen_at AS replica_seen_at FROM devices d LEFT JOIN replicas r ON r.id = d.online_replica ",
            $rest
        )
    };
}

fn device(r: &sqlx::any::AnyRow) -> Result<Device, StoreError> {
    Ok(Device {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        os: r.try_get("os")?,
        group_id: r.try_get("group_id")?,
        policy: r.try_get("policy")?,
        enrolled_at: r.try_get("enrolled_at")?,
        last_seen: r.try_get("last_seen")?,
        online_at: {
            let replica: Option<String> = r.try_get("online_replica")?;
            let seen: Option<i64> = r.try_get("replica_seen_at")?;
            replica.filter(|_| seen.is_some_and(|t| t > now() - REPLICA_TIMEOUT))
        },
    })
}

/// Store an enrolment token by its hash.
pub async fn create_enrolment_token(
    tx: &mut TenantTx,
    token_hash: &str,
    group_id: Option<&str>,
    created_by: &str,
    expires_at: i64,
) -> Result<EnrolmentToken, StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO enrolment_tokens (tenant_id, id, token_hash, group_id, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(token_hash)
    .bind(group_id)
    .bind(created_by)
    .bind(now())
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(EnrolmentToken {
        id,
        group_id: group_id.map(str::to_owned),
        expires_at,
        used_at: None,
    })
}

/// Use an enrolment token: if it exists, is unused and unexpired, mark it
/// used (once, even under concurrent attempts) and return its group.
/// `Ok(None)` for a token that cannot be used.
pub async fn use_enrolment_token(
    tx: &mut TenantTx,
    token_hash: &str,
) -> Result<Option<Option<String>>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let t = now();
    let row = sqlx::query(
        "SELECT id, group_id FROM enrolment_tokens WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(&tenant)
    .bind(token_hash)
    .bind(t)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    let group: Option<String> = row.try_get("group_id")?;
    let done = sqlx::query("UPDATE enrolment_tokens SET used_at = $1 WHERE tenant_id = $2 AND id = $3 AND used_at IS NULL")
        .bind(t)
        .bind(&tenant)
        .bind(&id)
        .execute(tx.conn())
        .await?;
    Ok((done.rows_affected() == 1).then_some(group))
}

/// What an agent reports when it enrols.
pub struct NewDevice<'a> {
    /// Host name.
    pub name: &'a str,
    /// Operating system.
    pub os: &'a str,
    /// Group.
    pub group_id: Option<&'a str>,
    /// Policy.
    pub policy: &'a str,
    /// SHA-256 of the device credential.
    pub credential_hash: &'a str,
}

/// Record an enrolled device.
pub async fn enrol(tx: &mut TenantTx, d: &NewDevice<'_>) -> Result<Device, StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    let t = now();
    sqlx::query(
        "INSERT INTO devices (tenant_id, id, name, os, group_id, policy, credential_hash, enrolled_at, last_seen) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(d.name)
    .bind(d.os)
    .bind(d.group_id)
    .bind(d.policy)
    .bind(d.credential_hash)
    .bind(t)
    .execute(tx.conn())
    .await?;
    get(tx, &id).await?.ok_or(StoreError::Corrupt("devices"))
}

/// A device by id.
pub async fn get(tx: &mut TenantTx, id: &str) -> Result<Option<Device>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(select_devices!("WHERE d.tenant_id = $1 AND d.id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(device).transpose()
}

/// A device by the hash of its credential.
pub async fn by_credential(
    tx: &mut TenantTx,
    credential_hash: &str,
) -> Result<Option<Device>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(select_devices!(
        "WHERE d.tenant_id = $1 AND d.credential_hash = $2"
    ))
    .bind(tenant)
    .bind(credential_hash)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(device).transpose()
}

/// Devices the user may reach: all of them for `all`, else those in the
/// groups the user is assigned to.
pub async fn list_for(
    tx: &mut TenantTx,
    user_id: &str,
    all: bool,
) -> Result<Vec<Device>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let rows = if all {
        sqlx::query(select_devices!(
            "WHERE d.tenant_id = $1 ORDER BY d.name, d.id LIMIT 10000"
        ))
        .bind(tenant)
        .fetch_all(tx.conn())
        .await?
    } else {
        sqlx::query(select_devices!(
            "WHERE d.tenant_id = $1 AND d.group_id IN \
             (SELECT group_id FROM device_group_experts WHERE tenant_id = $1 AND user_id = $2) ORDER BY d.name, d.id LIMIT 10000"
        ))
        .bind(tenant)
        .bind(user_id)
        .fetch_all(tx.conn())
        .await?
    };
    rows.iter().map(device).collect()
}

/// Whether `user_id` is assigned to the group of device `id`.
pub async fn expert_may_reach(
    tx: &mut TenantTx,
    user_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let row = sqlx::query(
        "SELECT 1 AS ok FROM devices d JOIN device_group_experts g ON g.tenant_id = d.tenant_id AND g.group_id = d.group_id \
         WHERE d.tenant_id = $1 AND d.id = $2 AND g.user_id = $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.is_some())
}

/// Note control-connection activity.
pub async fn touch(tx: &mut TenantTx, id: &str) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    sqlx::query("UPDATE devices SET last_seen = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(now())
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Record which replica holds the device's control connection
/// (`Some`), or that `replica` no longer does (`None` clears it only if it
/// is still that replica's).
pub async fn set_online(
    tx: &mut TenantTx,
    id: &str,
    replica: &str,
    online: bool,
) -> Result<(), StoreError> {
    let tenant = tx.tenant().to_owned();
    let q = if online {
        sqlx::query(
            "UPDATE devices SET online_replica = $1, last_seen = $2 WHERE tenant_id = $3 AND id = $4",
        )
    } else {
        sqlx::query(
            "UPDATE devices SET online_replica = NULL, last_seen = $2 WHERE tenant_id = $3 AND id = $4 AND online_replica = $1",
        )
    };
    q.bind(replica)
        .bind(now())
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Change a device's group and policy. `false` if there is no such device.
pub async fn update(
    tx: &mut TenantTx,
    id: &str,
    group_id: Option<&str>,
    policy: &str,
) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query(
        "UPDATE devices SET group_id = $1, policy = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(group_id)
    .bind(policy)
    .bind(tenant)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forget a device (its credential stops working). `false` if absent.
pub async fn remove(tx: &mut TenantTx, id: &str) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    let done = sqlx::query("DELETE FROM devices WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Create a device group.
pub async fn create_group(tx: &mut TenantTx, name: &str) -> Result<DeviceGroup, StoreError> {
    let id = new_id()?;
    let tenant = tx.tenant().to_owned();
    sqlx::query(
        "INSERT INTO device_groups (tenant_id, id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(name)
    .bind(now())
    .execute(tx.conn())
    .await
    .map_err(|e| StoreError::conflict_on(e, "device group name"))?;
    Ok(DeviceGroup {
        id,
        name: name.to_owned(),
        experts: Vec::new(),
    })
}

/// A group with its experts.
pub async fn get_group(tx: &mut TenantTx, id: &str) -> Result<Option<DeviceGroup>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let Some(row) =
        sqlx::query("SELECT id, name FROM device_groups WHERE tenant_id = $1 AND id = $2")
            .bind(&tenant)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
    else {
        return Ok(None);
    };
    let experts = sqlx::query("SELECT user_id FROM device_group_experts WHERE tenant_id = $1 AND group_id = $2 ORDER BY user_id")
        .bind(&tenant)
        .bind(id)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(DeviceGroup {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        experts,
    }))
}

/// Every group of the tenant (with experts).
pub async fn list_groups(tx: &mut TenantTx) -> Result<Vec<DeviceGroup>, StoreError> {
    let tenant = tx.tenant().to_owned();
    let ids = sqlx::query("SELECT id FROM device_groups WHERE tenant_id = $1 ORDER BY name")
        .bind(&tenant)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<Vec<String>, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(g) = get_group(tx, &id).await? {
            out.push(g);
        }
    }
    Ok(out)
}

/// Replace the experts of a group. `false` if there is no such group.
pub async fn set_group_experts(
    tx: &mut TenantTx,
    id: &str,
    experts: &[String],
) -> Result<bool, StoreError> {
    let tenant = tx.tenant().to_owned();
    if get_group(tx, id).await?.is_none() {
        return Ok(false);
    }
    sqlx::query("DELETE FROM device_group_experts WHERE tenant_id = $1 AND group_id = $2")
        .bind(&tenant)
        .bind(id)
        .execute(tx.conn())
        .await?;
    for user in experts {
        sqlx::query(
            "INSERT INTO device_group_experts (tenant_id, group_id, user_id) VALUES ($1, $2, $3)",
        )
        .bind(&tenant)
        .bind(id)
        .bind(user)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on(e, "group member"))?;
    }
    Ok(true)
}
