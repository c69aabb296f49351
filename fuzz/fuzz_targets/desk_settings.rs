//! Desk settings and references from the network (a tenant admin's JSON, a
//! reference in a URL): refused with a typed error or accepted whole,
//! never a panic; whatever is accepted is usable (a lifecycle that
//! validates can check every pair of its states; a calendar that builds
//! can count and add business time).
#![no_main]

use fernhand_desk::cab::Board;
use fernhand_desk::calendar::CalendarSpec;
use fernhand_desk::lifecycle::{DeskRole, JsonFacts, Lifecycle};
use fernhand_desk::sla::SlaPolicy;
use fernhand_desk::{RecordKind, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = text.parse::<Reference>() {
            assert_eq!(r.to_string().parse::<Reference>(), Ok(r));
        }
    }
    if let Ok(l) = serde_json::from_slice::<Lifecycle>(data) {
        if l.validate(l.kind).is_ok() {
            let fields = serde_json::Map::new();
            let facts = JsonFacts { fields: &fields, guards: &[] };
            for a in &l.states {
                for b in &l.states {
                    let _ = l.check(&a.id, &b.id, DeskRole::Manager, &facts);
                }
            }
        }
        let _ = l.validate(RecordKind::Incident);
    }
    if let Ok(c) = serde_json::from_slice::<CalendarSpec>(data)
        && let Ok(cal) = c.build()
    {
        let from = jiff::Timestamp::from_second(1_800_000_000).unwrap_or_default();
        let to = jiff::Timestamp::from_second(1_800_600_000).unwrap_or_default();
        let t = cal.business_time(from, to);
        if let Some(due) = cal.add(from, t) {
            assert_eq!(cal.business_time(from, due), t);
        }
    }
    if let Ok(p) = serde_json::from_slice::<SlaPolicy>(data) {
        let _ = p.validate();
    }
    if let Ok(b) = serde_json::from_slice::<Board>(data) {
        let _ = b.validate();
    }
});
