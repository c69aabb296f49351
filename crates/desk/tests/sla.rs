//! SLA clocks with an injected clock: business hours, weekends, holidays,
//! pending states, daylight saving, warnings at 75 % and breaches.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_desk::calendar::{CalendarSpec, ClockTime, Day, Opening};
use fernhand_desk::lifecycle::StateCategory::{self, Active, New, Pending, Resolved};
use fernhand_desk::priority::Priority;
use fernhand_desk::sla::{Entered, Level, SlaPolicy, Targets, read};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn t(s: &str) -> Timestamp {
    // Local Berlin wall time, as a person would read it.
    format!("{s}[Europe/Berlin]")
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

/// Mon–Fri 09:00–17:00 in Berlin; 2026-12-25 is a holiday.
fn office() -> CalendarSpec {
    let h = |h| ClockTime::new(h, 0).unwrap();
    CalendarSpec {
        time_zone: "Europe/Berlin".into(),
        hours: [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri]
            .into_iter()
            .map(|day| Opening {
                day,
                from: h(9),
                to: h(17),
            })
            .collect(),
        holidays: BTreeSet::from(["2026-12-25".parse().unwrap()]),
    }
}

fn policy(own: u32, resolve: u32) -> SlaPolicy {
    SlaPolicy {
        targets: BTreeMap::from([(
            Priority::P3,
            Targets {
                own_minutes: own,
                resolve_minutes: resolve,
            },
        )]),
        warn_percent: 75,
    }
}

fn at(s: &str, category: StateCategory) -> Entered {
    Entered { at: t(s), category }
}

#[test]
fn business_time_skips_nights_weekends_and_holidays() {
    let cal = office().build().unwrap();
    // Friday 16:00 → Monday 10:00: one hour Friday, one hour Monday.
    assert_eq!(
        cal.business_time(t("2026-11-27T16:00"), t("2026-11-30T10:00")),
        SignedDuration::from_hours(2)
    );
    // Thursday 24 Dec 16:00 → Monday 28 Dec 10:00 across the holiday.
    assert_eq!(
        cal.business_time(t("2026-12-24T16:00"), t("2026-12-28T10:00")),
        SignedDuration::from_hours(2)
    );
    // A whole week is 40 hours.
    assert_eq!(
        cal.business_time(t("2026-11-23T00:00"), t("2026-11-30T00:00")),
        SignedDuration::from_hours(40)
    );
    // Deadlines: 2 business hours from Friday 16:00 is Monday 10:00.
    assert_eq!(
        cal.add(t("2026-11-27T16:00"), SignedDuration::from_hours(2)),
        Some(t("2026-11-30T10:00"))
    );
    // From Saturday, counting starts Monday 09:00.
    assert_eq!(
        cal.add(t("2026-11-28T12:00"), SignedDuration::from_mins(30)),
        Some(t("2026-11-30T09:30"))
    );
}

#[test]
fn daylight_saving_day_counts_wall_hours() {
    let cal = office().build().unwrap();
    // Clocks go forward on Sunday 29 March 2026; Monday still has 8 hours,
    // and Friday 09:00 → Monday 09:00 is one business day.
    assert_eq!(
        cal.business_time(t("2026-03-27T09:00"), t("2026-03-30T09:00")),
        SignedDuration::from_hours(8)
    );
    assert_eq!(
        cal.business_time(t("2026-03-30T09:00"), t("2026-03-30T17:00")),
        SignedDuration::from_hours(8)
    );
}

#[test]
fn clocks_warn_breach_and_stop() {
    let cal = office().build().unwrap();
    let p = policy(60, 8 * 60);
    let history = [at("2026-11-27T16:00", New)];
    // Friday 16:30: 30 of 60 minutes to own → ok; due at closing time.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-11-27T16:30")).unwrap();
    assert_eq!((c.own.level, c.own.percent), (Level::Ok, 50));
    assert_eq!(c.own.due, Some(t("2026-11-27T17:00").as_second()));
    // It warns at 45 minutes, 16:45; the resolve clock (8 h) later.
    assert_eq!(
        c.own.next_escalation,
        Some(t("2026-11-27T16:45").as_second())
    );
    assert_eq!(c.next_escalation(), Some(t("2026-11-27T16:45").as_second()));
    // Created at 16:30 instead, half the hour is left for Monday morning.
    let late = [at("2026-11-27T16:30", New)];
    let c = read(&p, &cal, Priority::P3, &late, t("2026-11-27T16:40")).unwrap();
    assert_eq!(c.own.due, Some(t("2026-11-30T09:30").as_second()));
    // Over the weekend nothing moves.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-11-29T23:00")).unwrap();
    assert_eq!(c.own.elapsed_seconds, 60 * 60);
    assert_eq!(c.own.level, Level::Breached);
    assert_eq!(c.own.due, None);
    // At 45 of 60 minutes it warns.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-11-27T16:45")).unwrap();
    assert_eq!(c.own.level, Level::Warning);
    // Owned in time: the own clock stops, the resolve clock keeps going.
    let owned = [at("2026-11-27T16:00", New), at("2026-11-27T16:30", Active)];
    let c = read(&p, &cal, Priority::P3, &owned, t("2026-11-30T12:00")).unwrap();
    assert_eq!(
        (c.own.elapsed_seconds, c.own.level, c.own.running),
        (30 * 60, Level::Ok, false)
    );
    assert_eq!(c.resolve.elapsed_seconds, 4 * 3600);
    assert_eq!(c.resolve.percent, 50);
    assert!(c.resolve.running);
    assert_eq!(c.level(), Level::Ok);
}

#[test]
fn pending_pauses_and_reopen_resumes() {
    let cal = office().build().unwrap();
    let p = policy(60, 8 * 60);
    let history = [
        at("2026-11-30T09:00", New),
        at("2026-11-30T10:00", Active),   // 1 h
        at("2026-11-30T12:00", Pending),  // +2 h running, then paused
        at("2026-12-01T09:00", Active),   // paused 12:00 → next day
        at("2026-12-01T11:00", Resolved), // +2 h
        at("2026-12-02T09:00", Active),   // reopened
    ];
    // While pending: 3 h counted, paused, no due time.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-11-30T16:00")).unwrap();
    assert_eq!(c.resolve.elapsed_seconds, 3 * 3600);
    assert!(c.resolve.paused && !c.resolve.running && c.resolve.due.is_none());
    // Resolved: 5 h, stopped.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-12-01T16:00")).unwrap();
    assert_eq!(c.resolve.elapsed_seconds, 5 * 3600);
    assert!(!c.resolve.running);
    // Reopened Wednesday 09:00; at 11:00 it has 7 h of 8 → warning, due 12:00.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-12-02T11:00")).unwrap();
    assert_eq!(c.resolve.elapsed_seconds, 7 * 3600);
    assert_eq!(c.resolve.level, Level::Warning);
    assert_eq!(c.resolve.due, Some(t("2026-12-02T12:00").as_second()));
    // And it breaches past 12:00.
    let c = read(&p, &cal, Priority::P3, &history, t("2026-12-02T12:01")).unwrap();
    assert_eq!(c.resolve.level, Level::Breached);
    assert_eq!(
        Level::Breached.escalation_from(Level::Warning),
        Some(Level::Breached)
    );
    assert_eq!(Level::Warning.escalation_from(Level::Warning), None);
    assert_eq!(Level::Ok.escalation_from(Level::Breached), None);
}

#[test]
fn priorities_without_targets_have_no_clocks_and_bad_policies_are_refused() {
    let cal = office().build().unwrap();
    let p = policy(60, 120);
    assert!(
        read(
            &p,
            &cal,
            Priority::P1,
            &[at("2026-11-30T09:00", New)],
            t("2026-11-30T10:00")
        )
        .is_none()
    );
    assert!(read(&p, &cal, Priority::P3, &[], t("2026-11-30T10:00")).is_none());
    assert!(SlaPolicy::default().validate().is_ok());
    assert!(policy(120, 60).validate().is_err());
    assert!(
        SlaPolicy {
            warn_percent: 100,
            ..SlaPolicy::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn calendars_are_checked() {
    let mut c = office();
    c.time_zone = "Mars/Olympus".into();
    assert!(c.build().is_err());
    let mut c = office();
    c.hours.push(Opening {
        day: Day::Mon,
        from: ClockTime::new(16, 0).unwrap(),
        to: ClockTime::new(18, 0).unwrap(),
    });
    assert!(c.build().is_err());
    let mut c = office();
    c.hours[0].to = ClockTime::new(8, 0).unwrap();
    assert!(c.build().is_err());
    let mut c = office();
    c.hours.clear();
    assert!(c.build().is_err());
    // Round the clock: business time is wall time.
    let always = CalendarSpec::always().build().unwrap();
    assert_eq!(
        always.business_time(t("2026-11-28T00:00"), t("2026-11-29T00:00")),
        SignedDuration::from_hours(24)
    );
    let spec: CalendarSpec = serde_json::from_str(
        r#"{"time_zone":"America/New_York","hours":[{"day":"sat","from":"10:00","to":"24:00"}],"holidays":["2026-07-04"]}"#,
    )
    .unwrap();
    assert!(spec.build().is_ok());
}

proptest! {
    /// Whatever the start and the amount, the deadline `add` finds holds
    /// exactly that much business time, and no earlier instant does.
    #[test]
    fn deadlines_and_counting_agree(start in 1_780_000_000i64..1_830_000_000, minutes in 0i64..20_000) {
        let cal = office().build().unwrap();
        let from = Timestamp::from_second(start).unwrap();
        let amount = SignedDuration::from_mins(minutes);
        let due = cal.add(from, amount).unwrap();
        prop_assert_eq!(cal.business_time(from, due), amount);
        if minutes > 0 {
            let before = due.checked_sub(SignedDuration::from_secs(1)).unwrap();
            prop_assert!(cal.business_time(from, before) < amount);
        }
    }
}
