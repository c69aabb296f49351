//! The relays the broker knows, their health and load, and how a session's
//! relay is chosen: the least-loaded healthy relay in the region nearest the
//! leader, falling back to farther regions. A [`Registry`] is a snapshot of
//! the shared table, taken per decision; choosing is pure.

use fernhand_protocol::RelayId;
use fernhand_store::broker::RelayRow;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One relay as the broker sees it.
#[derive(Clone, Debug)]
pub(crate) struct RelayRecord {
    pub(crate) region: String,
    pub(crate) url: String,
    pub(crate) capacity: u32,
    pub(crate) sessions: u32,
    pub(crate) members: u32,
    pub(crate) healthy: bool,
}

impl RelayRecord {
    /// Fraction of capacity in use (full if capacity is zero).
    fn load(&self) -> f64 {
        if self.capacity == 0 {
            1.0
        } else {
            f64::from(self.members) / f64::from(self.capacity)
        }
    }
}

/// A relay's state, for operators.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RelayStatus {
    /// Its id.
    pub id: RelayId,
    /// Region.
    pub region: String,
    /// Member-facing URL.
    pub url: String,
    /// Whether placements may use it.
    pub healthy: bool,
    /// Sessions it reported.
    pub sessions: u32,
    /// Members it reported.
    pub members: u32,
    /// Its stated capacity.
    pub capacity: u32,
}

/// Where regions are, for "nearest". Regions without coordinates are near
/// only to themselves.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    coordinates: HashMap<String, (f64, f64)>,
}

impl Regions {
    /// Common cloud regions with approximate coordinates.
    pub fn standard() -> Regions {
        let mut r = Regions::default();
        for (name, lat, lon) in [
            ("eu-west", 53.3, -6.3),
            ("eu-central", 50.1, 8.7),
            ("eu-north", 59.3, 18.1),
            ("us-east", 38.9, -77.0),
            ("us-west", 45.5, -122.7),
            ("ap-south", 19.1, 72.9),
            ("ap-northeast", 35.7, 139.7),
            ("ap-southeast", 1.35, 103.8),
            ("sa-east", -23.5, -46.6),
        ] {
            r.coordinates.insert(name.to_owned(), (lat, lon));
        }
        r
    }

    /// Add or move a region.
    pub fn insert(&mut self, name: &str, latitude: f64, longitude: f64) {
        self.coordinates
            .insert(name.to_owned(), (latitude, longitude));
    }

    /// Great-circle distance in km; 0 for the same region, "far" when
    /// coordinates are unknown.
    pub fn distance(&self, a: &str, b: &str) -> f64 {
        if a == b {
            return 0.0;
        }
        match (self.coordinates.get(a), self.coordinates.get(b)) {
            (Some(&(lat1, lon1)), Some(&(lat2, lon2))) => {
                let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
                let dp = (lat2 - lat1).to_radians();
                let dl = (lon2 - lon1).to_radians();
                let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
                2.0 * 6371.0 * h.sqrt().asin()
            }
            _ => 40_000.0,
        }
    }
}

/// Every known relay.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) relays: BTreeMap<RelayId, RelayRecord>,
}

impl Registry {
    /// The registry as stored at `now_ms`: a relay is healthy while its link
    /// is open and it was heard from within `grace_ms` (so a relay whose
    /// link was held by a replica that died drops out too). Rows whose id
    /// does not parse are skipped.
    pub(crate) fn from_rows(rows: Vec<RelayRow>, now_ms: i64, grace_ms: i64) -> Registry {
        let relays = rows
            .into_iter()
            .filter_map(|row| {
                let id = row.id.parse::<RelayId>().ok()?;
                let healthy = row.linked && now_ms.saturating_sub(row.seen_ms) <= grace_ms;
                Some((
                    id,
                    RelayRecord {
                        region: row.region,
                        url: row.url,
                        capacity: row.capacity,
                        sessions: row.sessions,
                        members: row.members,
                        healthy,
                    },
                ))
            })
            .collect();
        Registry { relays }
    }

    pub(crate) fn is_healthy(&self, id: RelayId) -> bool {
        self.relays.get(&id).is_some_and(|r| r.healthy)
    }

    /// The relay for a new placement near `region`, avoiding `exclude`.
    pub(crate) fn choose(
        &self,
        regions: &Regions,
        region: &str,
        exclude: Option<RelayId>,
    ) -> Option<RelayId> {
        let candidates: Vec<(&RelayId, &RelayRecord)> = self
            .relays
            .iter()
            .filter(|(id, r)| r.healthy && Some(**id) != exclude && r.load() < 1.0)
            .collect();
        let nearest = candidates
            .iter()
            .map(|(_, r)| regions.distance(region, &r.region))
            .fold(f64::INFINITY, f64::min);
        candidates
            .into_iter()
            .filter(|(_, r)| regions.distance(region, &r.region) <= nearest)
            .min_by(|(ia, a), (ib, b)| a.load().total_cmp(&b.load()).then(ia.cmp(ib)))
            .map(|(id, _)| *id)
    }

    pub(crate) fn statuses(&self) -> Vec<RelayStatus> {
        self.relays
            .iter()
            .map(|(id, r)| RelayStatus {
                id: *id,
                region: r.region.clone(),
                url: r.url.clone(),
                healthy: r.healthy,
                sessions: r.sessions,
                members: r.members,
                capacity: r.capacity,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(region: &str, members: u32, capacity: u32) -> RelayRecord {
        RelayRecord {
            region: region.into(),
            url: format!("wss://{region}"),
            capacity,
            sessions: 0,
            members,
            healthy: true,
        }
    }

    #[test]
    fn nearest_region_first_then_least_loaded_then_fallback() {
        let regions = Regions::standard();
        let mut reg = Registry::default();
        reg.relays
            .insert(RelayId([1; 16]), record("eu-west", 50, 100));
        reg.relays
            .insert(RelayId([2; 16]), record("eu-west", 10, 100));
        reg.relays
            .insert(RelayId([3; 16]), record("us-east", 0, 100));
        reg.relays
            .insert(RelayId([4; 16]), record("eu-central", 0, 100));
        assert_eq!(
            reg.choose(&regions, "eu-west", None),
            Some(RelayId([2; 16]))
        );
        assert_eq!(
            reg.choose(&regions, "us-east", None),
            Some(RelayId([3; 16]))
        );
        // A leader in eu-north is nearer to eu-central than to eu-west.
        assert_eq!(
            reg.choose(&regions, "eu-north", None),
            Some(RelayId([4; 16]))
        );
        // Without the eu-west relays, fall back to the nearest other region.
        reg.relays.get_mut(&RelayId([1; 16])).unwrap().healthy = false;
        assert_eq!(
            reg.choose(&regions, "eu-west", Some(RelayId([2; 16]))),
            Some(RelayId([4; 16]))
        );
        // Full relays are not used.
        reg.relays.get_mut(&RelayId([4; 16])).unwrap().members = 100;
        assert_eq!(
            reg.choose(&regions, "eu-west", Some(RelayId([2; 16]))),
            Some(RelayId([3; 16]))
        );
    }

    fn row(id: u8, linked: bool, seen_ms: i64) -> RelayRow {
        RelayRow {
            id: RelayId([id; 16]).to_string(),
            region: "eu-west".into(),
            url: "wss://x".into(),
            capacity: 10,
            sessions: 0,
            members: 0,
            linked,
            link: "l".into(),
            seen_ms,
        }
    }

    #[test]
    fn silent_or_unlinked_relays_are_unhealthy() {
        let rows = vec![row(1, true, 10_000), row(2, false, 10_000)];
        let reg = Registry::from_rows(rows.clone(), 11_000, 3_000);
        assert!(reg.is_healthy(RelayId([1; 16])));
        assert!(!reg.is_healthy(RelayId([2; 16])));
        let later = Registry::from_rows(rows, 14_001, 3_000);
        assert!(!later.is_healthy(RelayId([1; 16])));
        assert_eq!(later.choose(&Regions::standard(), "eu-west", None), None);
        let mut bad = row(3, true, 10_000);
        bad.id = "not a relay id".into();
        assert!(Registry::from_rows(vec![bad], 10_000, 1).relays.is_empty());
    }

    #[test]
    fn distances_are_sane() {
        let r = Regions::standard();
        let d = r.distance("eu-west", "eu-central");
        assert!((900.0..1300.0).contains(&d), "{d}");
        assert_eq!(r.distance("mars", "mars"), 0.0);
        assert!(r.distance("mars", "eu-west") > 20_000.0);
    }
}
