//! Devices feed the configuration database: an enrolled agent's machine
//! becomes a `device` configuration item (linked to the device, with what
//! the agent reported), so tickets and the impact view can name it, and an
//! expert can connect to it from its page.

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
