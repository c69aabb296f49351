//! The change schedule: a change planned into a window warns of other
//! changes in overlapping windows that touch the same configuration items,
//! directly or through the impact graph (a change to a server conflicts
//! with one to an application running on it), and of blackout periods.

use crate::cmdb::{Edge, impact};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;

/// Most items an impact expansion follows per window.
const IMPACT_LIMIT: usize = 10_000;

/// A change's planned window and the items it touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// The change's reference (`CHG-88`).
    pub change: String,
    /// Start.
    pub start: Timestamp,
    /// End (after start).
    pub end: Timestamp,
    /// Configuration items it changes.
    pub cis: BTreeSet<String>,
}

/// A period in which no change should run (a sales peak, month-end close).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blackout {
    /// Why.
    pub name: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
}

/// A warning about a planned window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum Conflict {
    /// Another change overlaps in time on related items.
    Change {
        /// Its reference.
        change: String,
        /// Items both touch (directly or by impact).
        cis: Vec<String>,
    },
    /// The window falls into a blackout.
    Blackout {
        /// The blackout's name.
        name: String,
    },
}

fn overlaps(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn reach(w: &Window, edges: &[Edge]) -> BTreeSet<String> {
    let mut all = w.cis.clone();
    for ci in &w.cis {
        all.extend(impact(edges, ci, IMPACT_LIMIT).into_iter().map(|a| a.ci));
    }
    all
}

/// The warnings for `candidate` against the other scheduled windows and
/// the blackouts. The candidate's own earlier window (same reference) is
/// ignored.
pub fn conflicts(
    candidate: &Window,
    scheduled: &[Window],
    blackouts: &[Blackout],
    edges: &[Edge],
) -> Vec<Conflict> {
    let span = (candidate.start, candidate.end);
    let mine = reach(candidate, edges);
    let mut out: Vec<Conflict> = scheduled
        .iter()
        .filter(|w| w.change != candidate.change && overlaps(span, (w.start, w.end)))
        .filter_map(|w| {
            let shared: Vec<String> = reach(w, edges).intersection(&mine).cloned().collect();
            (!shared.is_empty()).then(|| Conflict::Change {
                change: w.change.clone(),
                cis: shared,
            })
        })
        .collect();
    out.extend(
        blackouts
            .iter()
            .filter(|b| overlaps(span, (b.start, b.end)))
            .map(|b| Conflict::Blackout {
                name: b.name.clone(),
            }),
    );
    out
}
