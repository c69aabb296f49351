//! Devices feed the configuration database: an enrolled agent's machine
//! becomes a `device` configuration item (linked to the device, with what
//! the agent reported), so tickets and the impact view can name it, and an
//! expert can connect to it from its page; the diagnostics snapshot of a
//! session on a ticket, and the inventory an unattended agent reports over
//! its control connection, refresh the device item.

use crate::app::problem::Problem;
use fernhand_store::TenantTx;
use fernhand_store::desk::cis;
use serde_json::{Map, Value, json};

/// Creates or refreshes the configuration item of an enrolled device.
/// `reported` holds what the agent said about its machine (`os`, …); it
/// replaces those attributes and keeps any others the desk added.
pub async fn device_reported(
    tx: &mut TenantTx,
    device_id: &str,
    name: &str,
    reported: &Map<String, Value>,
    at: i64,
) -> Result<cis::Ci, Problem> {
    if let Some(mut ci) = cis::by_device(tx, device_id).await? {
        for (k, v) in reported {
            ci.attributes.insert(k.clone(), v.clone());
        }
        cis::set_attributes(tx, &ci.id, &ci.attributes, at).await?;
        ci.updated_at = at;
        return Ok(ci);
    }
    let mut attributes = reported.clone();
    attributes.insert("source".into(), json!("agent"));
    // Host names repeat across sites; the item's name stays unique.
    let taken = cis::by_name(tx, name).await?.is_some();
    let ci = cis::Ci {
        id: fernhand_store::new_id()?,
        name: if taken {
            format!("{name} ({})", &device_id[..device_id.len().min(8)])
        } else {
            name.to_owned()
        },
        ci_type: "device".into(),
        attributes,
        device_id: Some(device_id.to_owned()),
        created_at: at,
        updated_at: at,
    };
    cis::insert(tx, &ci).await?;
    Ok(ci)
}

/// Stores a diagnostics snapshot on a device item (other kinds of item are
/// left alone): the report under `diagnostics`, its time under
/// `diagnostics_at`, and the OS and host name at the top level when the
/// report names them.
pub async fn diagnostics_reported(
    tx: &mut TenantTx,
    ci_id: &str,
    diagnostics: &Map<String, Value>,
    at: i64,
) -> Result<(), Problem> {
    let Some(mut ci) = cis::get(tx, ci_id).await? else {
        return Ok(());
    };
    if ci.ci_type != "device" {
        return Ok(());
    }
    for key in ["os", "hostname"] {
        if let Some(v @ Value::String(_)) = diagnostics.get(key) {
            ci.attributes.insert(key.into(), v.clone());
        }
    }
    // The agent's report names them inside `os` and `hardware`.
    let os = &diagnostics.get("os").cloned().unwrap_or_default();
    let named = [os["name"].as_str(), os["version"].as_str()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !named.is_empty() {
        ci.attributes.insert("os".into(), json!(named));
    }
    if let Some(h) = os["hostname"].as_str() {
        ci.attributes.insert("hostname".into(), json!(h));
    }
    let hardware = diagnostics.get("hardware").cloned().unwrap_or_default();
    if let Some(cpu) = hardware["cpu"].as_str() {
        ci.attributes.insert("cpu".into(), json!(cpu));
    }
    if let Some(m) = hardware["memory_total_bytes"].as_u64() {
        ci.attributes.insert("memory_bytes".into(), json!(m));
    }
    ci.attributes
        .insert("diagnostics".into(), Value::Object(diagnostics.clone()));
    ci.attributes.insert("diagnostics_at".into(), json!(at));
    cis::set_attributes(tx, &ci.id, &ci.attributes, at).await?;
    Ok(())
}

/// An unattended device's inventory (over its control connection)
/// refreshes the configuration item it is.
pub async fn device_inventory(
    tx: &mut TenantTx,
    device_id: &str,
    report: &Map<String, Value>,
    at: i64,
) -> Result<(), Problem> {
    if let Some(ci) = cis::by_device(tx, device_id).await? {
        diagnostics_reported(tx, &ci.id, report, at).await?;
    }
    Ok(())
}
