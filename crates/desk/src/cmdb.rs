//! The configuration management database's graph: typed configuration
//! items and the relationships between them, and the impact view — what a
//! failing item affects. Relationships point from the dependent item to
//! what it needs: "app runs-on server", "service depends-on app", "laptop
//! connected-to switch"; a failure travels against the arrows.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// What a configuration item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CiType {
    /// A workstation, laptop or phone (often with a Fernhand agent).
    Device,
    /// A server, physical or virtual.
    Server,
    /// Software that runs somewhere.
    Application,
    /// A business service users know by name.
    Service,
    /// A switch, router, firewall or link.
    Network,
}

/// How one item needs another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Software on a machine.
    RunsOn,
    /// Needs the other to work.
    DependsOn,
    /// Reaches the network through the other.
    ConnectedTo,
}

macro_rules! named {
    ($t:ty, $($v:ident => $n:literal),+) => {
        impl $t {
            /// Every value.
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            /// Stored name.
            pub fn name(self) -> &'static str { match self { $(Self::$v => $n),+ } }
            /// From the stored name.
            pub fn parse(name: &str) -> Option<Self> { match name { $($n => Some(Self::$v),)+ _ => None } }
        }
    };
}
named!(CiType, Device => "device", Server => "server", Application => "application", Service => "service", Network => "network");
named!(Relation, RunsOn => "runs-on", DependsOn => "depends-on", ConnectedTo => "connected-to");

/// `from` needs `to` in the way `relation` says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The dependent item.
    pub from: String,
    /// How it needs the other.
    pub relation: Relation,
    /// The item needed.
    pub to: String,
}

/// An item a failure reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// The affected item.
    pub ci: String,
    /// Hops from the failing item.
    pub depth: usize,
    /// The item through which the failure reaches it.
    pub through: String,
    /// How it needs that item.
    pub relation: Relation,
}

/// Everything a failure of `failing` affects, nearest first (each item
/// once, at its shortest distance; cycles are fine). At most `limit` items.
pub fn impact(edges: &[Edge], failing: &str, limit: usize) -> Vec<Affected> {
    let mut dependents: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
    for e in edges {
        dependents.entry(e.to.as_str()).or_default().push(e);
    }
    let mut seen = std::collections::BTreeSet::from([failing]);
    let mut queue = VecDeque::from([(failing, 0usize)]);
    let mut out = Vec::new();
    while let Some((ci, depth)) = queue.pop_front() {
        for e in dependents.get(ci).into_iter().flatten() {
            if out.len() >= limit {
                return out;
            }
            if seen.insert(e.from.as_str()) {
                out.push(Affected {
                    ci: e.from.clone(),
                    depth: depth + 1,
                    through: ci.to_owned(),
                    relation: e.relation,
                });
                queue.push_back((e.from.as_str(), depth + 1));
            }
        }
    }
    out
}
