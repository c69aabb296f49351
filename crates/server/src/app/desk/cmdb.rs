//! A configuration item as people look at it: its attributes, relations
//! (named, both ways), what its failure affects (the impact view) and its
//! open records. One view for the JSON API and the page.

use super::records::reference_of;
use crate::problem::Problem;
use fernhand_desk::cmdb::{self, Edge, Relation};
use fernhand_store::TenantTx;
use fernhand_store::desk::{cis, records};
use serde::Serialize;
use serde_json::{Value, json};

/// Most items an impact view lists.
pub const IMPACT_LIMIT: usize = 500;

/// An item and everything around it.
#[derive(Serialize)]
pub struct CiView {
    /// The item.
    pub ci: cis::Ci,
    /// Relations from and to it (ids).
    pub relations: Vec<cis::Relation>,
    /// Relations from and to it, with the other item's name.
    #[serde(skip)]
    pub named: Vec<(String, String, String)>,
    /// What its failure affects, nearest first.
    pub impact: Vec<Value>,
    /// Its records not resolved or closed.
    pub open_records: Vec<Value>,
}

/// The relation graph's edges.
pub fn edges(rel: &[cis::Relation]) -> Vec<Edge> {
    rel.iter()
        .filter_map(|r| {
            Some(Edge {
                from: r.from_ci.clone(),
                relation: Relation::parse(&r.relation)?,
                to: r.to_ci.clone(),
            })
        })
        .collect()
}

/// The item with id or name `key`.
pub async fn find(tx: &mut TenantTx, key: &str) -> Result<cis::Ci, Problem> {
    if let Some(ci) = cis::get(tx, key).await? {
        return Ok(ci);
    }
    cis::by_name(tx, key).await?.ok_or_else(Problem::not_found)
}

/// The view of the item with id or name `key`.
pub async fn view(tx: &mut TenantTx, key: &str) -> Result<CiView, Problem> {
    let ci = find(tx, key).await?;
    let all = cis::relations(tx).await?;
    let graph = edges(&all);
    let mut impact = Vec::new();
    for a in cmdb::impact(&graph, &ci.id, IMPACT_LIMIT) {
        if let Some(other) = cis::get(tx, &a.ci).await? {
            impact.push(json!({"id": other.id, "name": other.name, "ci_type": other.ci_type, "depth": a.depth,
                "through": a.through, "relation": a.relation.name()}));
        }
    }
    let relations: Vec<cis::Relation> = all
        .into_iter()
        .filter(|r| r.from_ci == ci.id || r.to_ci == ci.id)
        .collect();
    let mut named = Vec::new();
    for r in &relations {
        let outgoing = r.from_ci == ci.id;
        let other = if outgoing { &r.to_ci } else { &r.from_ci };
        let name = cis::get(tx, other)
            .await?
            .map_or_else(|| other.clone(), |c| c.name);
        let phrase = if outgoing {
            r.relation.replace('-', " ")
        } else {
            format!("needed by ({})", r.relation)
        };
        named.push((phrase, name, other.clone()));
    }
    let open = records::list(
        tx,
        &records::Filter {
            ci_id: Some(ci.id.clone()),
            categories: vec!["new".into(), "active".into(), "pending".into()],
            limit: 50,
            ..Default::default()
        },
    )
    .await?;
    let open_records = open
        .iter()
        .map(|r| {
            json!({"id": r.id, "kind": r.kind, "number": r.number, "title": r.title, "state": r.state,
                "reference": reference_of(r).map(|x| x.to_string())})
        })
        .collect();
    Ok(CiView {
        ci,
        relations,
        named,
        impact,
        open_records,
    })
}
