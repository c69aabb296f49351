//! Configuration items over HTTP (list, create, read with the impact view,
//! relations), the change schedule's conflict warnings, and the tenant's
//! desk settings.

use crate::app::desk::cmdb::edges;
use crate::app::desk::records as desk;
use crate::app::desk::settings::{self, DeskSettings};
use crate::app::json::ApiJson;
use crate::app::principal::{Permission, Principal};
use crate::app::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use fernhand_desk::cmdb::{CiType, Relation};
use fernhand_desk::schedule::{self, Window};
use fernhand_store::desk::{cis, records};
use fernhand_store::{audit, now};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCi {
    /// Unique name in the tenant.
    name: String,
    /// `device`, `server`, `application`, `service` or `network`.
    ci_type: String,
    /// Typed attributes.
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// Creates a configuration item.
pub async fn create(
    principal: Principal,
    ApiJson(body): ApiJson<NewCi>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Problem::bad_request(
            "a configuration item's name is 1 to 200 printable characters",
        ));
    }
    if CiType::parse(&body.ci_type).is_none() {
        return Err(Problem::bad_request(
            "ci_type is device, server, application, service or network",
        ));
    }
    if Value::Object(body.attributes.clone()).to_string().len() > 64 * 1024 {
        return Err(Problem::bad_request(
            "attributes are at most 64 KiB of JSON",
        ));
    }
    let t = now();
    let ci = cis::Ci {
        id: fernhand_store::new_id()?,
        name: name.to_owned(),
        ci_type: body.ci_type,
        attributes: body.attributes,
        device_id: None,
        created_at: t,
        updated_at: t,
    };
    let mut tx = principal.tx().await?;
    cis::insert(&mut tx, &ci).await?;
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.ci.create",
        &ci.id,
        &json!({"name": ci.name}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(ci))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiQuery {
    ci_type: Option<String>,
    limit: Option<u32>,
}

/// Lists configuration items.
pub async fn list(principal: Principal, Query(q): Query<CiQuery>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let found = cis::list(&mut tx, q.ci_type.as_deref(), q.limit.unwrap_or(200)).await?;
    tx.commit().await?;
    Ok(Json(json!(found)))
}

/// One item (by id or name), its relations, what its failure affects and
/// its open records.
pub async fn get(principal: Principal, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let view = crate::app::desk::cmdb::view(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(Json(json!(view)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    /// `runs-on`, `depends-on` or `connected-to`.
    relation: String,
    /// The item this one needs.
    to: String,
}

/// Relates this item to one it needs.
pub async fn relate(
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRelation>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    principal.require(Permission::WorkDesk)?;
    let relation = Relation::parse(&body.relation)
        .ok_or_else(|| Problem::bad_request("relation is runs-on, depends-on or connected-to"))?;
    let mut tx = principal.tx().await?;
    let from = cis::get(&mut tx, &id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let to = cis::get(&mut tx, &body.to)
        .await?
        .ok_or_else(|| Problem::bad_request("to names no configuration item of this tenant"))?;
    if from.id == to.id {
        return Err(Problem::bad_request("an item does not relate to itself"));
    }
    let rel = cis::Relation {
        from_ci: from.id,
        relation: relation.name().into(),
        to_ci: to.id,
    };
    cis::relate(&mut tx, &rel).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(json!(rel))))
}

/// Schedule conflicts of a change's planned window.
pub async fn conflicts(
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let r = desk::find(&mut tx, &id).await?;
    if r.kind != "change" {
        return Err(Problem::bad_request("only changes have a schedule"));
    }
    let Some(candidate) = window(&r) else {
        return Ok(Json(
            json!({"conflicts": [], "note": "no planned window yet"}),
        ));
    };
    let scheduled = records::list(
        &mut tx,
        &records::Filter {
            kind: Some("change".into()),
            categories: vec!["active".into(), "pending".into(), "new".into()],
            limit: 200,
            ..Default::default()
        },
    )
    .await?;
    let windows: Vec<Window> = scheduled.iter().filter_map(window).collect();
    let graph = edges(&cis::relations(&mut tx).await?);
    let found = schedule::conflicts(&candidate, &windows, &[], &graph);
    tx.commit().await?;
    Ok(Json(json!({"conflicts": found})))
}

fn window(r: &records::Record) -> Option<Window> {
    let fields = crate::app::desk::fields::of(r);
    Some(Window {
        change: r.id.clone(),
        start: crate::app::desk::fields::instant(&fields, "planned_start")?,
        end: crate::app::desk::fields::instant(&fields, "planned_end")?,
        cis: r.ci_id.iter().cloned().collect::<BTreeSet<_>>(),
    })
}

/// The tenant's desk settings (defaults where unset).
pub async fn get_settings(principal: Principal) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ReadDesk)?;
    let mut tx = principal.tx().await?;
    let s = DeskSettings::load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(json!(s)))
}

/// Sets one or more desk settings (`calendar`, `sla`, `cab`,
/// `lifecycle.<kind>`), each checked; all or none are stored.
pub async fn put_settings(
    principal: Principal,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, Problem> {
    principal.require(Permission::ManageDesk)?;
    if body.is_empty() {
        return Err(Problem::bad_request(format!(
            "name at least one of: {}",
            settings::NAMES.join(", ")
        )));
    }
    let mut tx = principal.tx().await?;
    let t = now();
    for (name, value) in &body {
        if !settings::NAMES.contains(&name.as_str()) {
            return Err(Problem::bad_request(format!(
                "desk settings are: {}",
                settings::NAMES.join(", ")
            )));
        }
        settings::put(&mut tx, name, value.clone(), t).await?;
    }
    let names: Vec<&String> = body.keys().collect();
    audit::append(
        &mut tx,
        &principal.user.id,
        "desk.settings",
        "desk",
        &json!({"names": names}),
    )
    .await?;
    let s = DeskSettings::load(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(json!(s)))
}
