//! SLA clocks. Each priority has a time-to-own target (until someone takes
//! the record out of the new category) and a time-to-resolve target (until
//! it reaches a resolved or closed state). Clocks count business time of the
//! tenant's calendar only, pause while the record is in a pending state,
//! warn at a share of the target (75 % by default) and breach at the target.
//! A clock's reading is a pure function of the record's state history, the
//! policy, the calendar and "now", so an injected clock tests it exactly.

use crate::calendar::BusinessCalendar;
use crate::lifecycle::StateCategory;
use crate::priority::Priority;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Targets for one priority, in business minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// Time to own, in business minutes.
    pub own_minutes: u32,
    /// Time to resolve, in business minutes.
    pub resolve_minutes: u32,
}

/// A tenant's SLA policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// Targets per priority; a priority without targets has no clocks.
    pub targets: BTreeMap<Priority, Targets>,
    /// Share of a target, in percent, at which a clock warns.
    pub warn_percent: u8,
}

impl Default for SlaPolicy {
    /// Common service-desk targets: P1 owned in 15 minutes, resolved in 4
    /// hours; P5 owned in 2 days, resolved in 20 days (business time).
    fn default() -> SlaPolicy {
        let t = |own_minutes, resolve_minutes| Targets {
            own_minutes,
            resolve_minutes,
        };
        SlaPolicy {
            targets: BTreeMap::from([
                (Priority::P1, t(15, 4 * 60)),
                (Priority::P2, t(30, 8 * 60)),
                (Priority::P3, t(2 * 60, 3 * 8 * 60)),
                (Priority::P4, t(8 * 60, 5 * 8 * 60)),
                (Priority::P5, t(2 * 8 * 60, 20 * 8 * 60)),
            ]),
            warn_percent: 75,
        }
    }
}

/// Why a policy is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlaError {
    /// Warning share outside 1–99 %.
    #[error("the warning share must be between 1 and 99 percent")]
    WarnPercent,
    /// A zero target, or owning after resolving.
    #[error("{0:?}: targets must be positive and time to own at most time to resolve")]
    Targets(Priority),
}

impl SlaPolicy {
    /// Checks an edited policy.
    pub fn validate(&self) -> Result<(), SlaError> {
        if !(1..=99).contains(&self.warn_percent) {
            return Err(SlaError::WarnPercent);
        }
        for (p, t) in &self.targets {
            if t.own_minutes == 0 || t.resolve_minutes == 0 || t.own_minutes > t.resolve_minutes {
                return Err(SlaError::Targets(*p));
            }
        }
        Ok(())
    }
}

/// A record entering a state of some category at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entered {
    /// When.
    pub at: Timestamp,
    /// The category of the state entered.
    pub category: StateCategory,
}

/// How a clock stands; ordered from good to bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Within target.
    Ok,
    /// Past the warning share.
    Warning,
    /// Past the target.
    Breached,
}

impl Level {
    /// Stored name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Breached => "breached",
        }
    }

    /// The escalation to raise when a clock moves from `before` to `self`:
    /// only worsening raises one, and each level is raised once.
    pub fn escalation_from(self, before: Level) -> Option<Level> {
        (self > before).then_some(self)
    }
}

/// One clock's reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// Business time counted so far.
    pub elapsed_seconds: i64,
    /// The target.
    pub target_seconds: i64,
    /// Elapsed as a share of the target, in percent (may exceed 100).
    pub percent: u32,
    /// How it stands.
    pub level: Level,
    /// Whether it is counting right now (not paused, not stopped, and
    /// within business hours or waiting for them).
    pub running: bool,
    /// Whether it is paused by a pending state.
    pub paused: bool,
    /// When it breaches if it keeps running (unix seconds); none once
    /// breached, stopped or paused.
    pub due: Option<i64>,
    /// When its level next worsens if it keeps running: the warning moment
    /// while ok, the breach while warning (unix seconds).
    pub next_escalation: Option<i64>,
}

/// Both clocks of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Clocks {
    /// Time to own.
    pub own: Reading,
    /// Time to resolve.
    pub resolve: Reading,
}

impl Clocks {
    /// The worse of the two levels.
    pub fn level(&self) -> Level {
        self.own.level.max(self.resolve.level)
    }

    /// The earliest moment either clock's level worsens.
    pub fn next_escalation(&self) -> Option<i64> {
        match (self.own.next_escalation, self.resolve.next_escalation) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Reads a record's clocks at `now`. `history` lists the states entered, in
/// order, the first being the record's creation. `None` when the policy has
/// no targets for the priority or the history is empty.
pub fn read(
    policy: &SlaPolicy,
    calendar: &BusinessCalendar,
    priority: Priority,
    history: &[Entered],
    now: Timestamp,
) -> Option<Clocks> {
    let targets = policy.targets.get(&priority)?;
    let first = history.first()?;
    // Time to own runs from creation until the record first leaves "new".
    let owned_at = history
        .iter()
        .find(|e| e.category != StateCategory::New)
        .map(|e| e.at);
    let own_runs = [(first.at, owned_at.unwrap_or(now).min(now))];
    let own = reading(
        policy,
        calendar,
        &own_runs,
        minutes(targets.own_minutes),
        owned_at.is_none(),
        false,
        now,
    );
    // Time to resolve runs in new and active states, pauses in pending ones
    // and stops in resolved and closed ones (a reopen starts it again).
    let runs_in = |c: StateCategory| matches!(c, StateCategory::New | StateCategory::Active);
    let mut runs = Vec::new();
    for (i, e) in history.iter().enumerate() {
        if e.at > now {
            break;
        }
        if runs_in(e.category) {
            let end = history.get(i + 1).map_or(now, |n| n.at.min(now));
            runs.push((e.at, end));
        }
    }
    let last = history
        .iter()
        .rev()
        .find(|e| e.at <= now)
        .map_or(first.category, |e| e.category);
    let resolve = reading(
        policy,
        calendar,
        &runs,
        minutes(targets.resolve_minutes),
        runs_in(last),
        last == StateCategory::Pending,
        now,
    );
    Some(Clocks { own, resolve })
}

fn minutes(m: u32) -> SignedDuration {
    SignedDuration::from_secs(i64::from(m) * 60)
}

fn reading(
    policy: &SlaPolicy,
    calendar: &BusinessCalendar,
    runs: &[(Timestamp, Timestamp)],
    target: SignedDuration,
    running: bool,
    paused: bool,
    now: Timestamp,
) -> Reading {
    let elapsed: SignedDuration = runs
        .iter()
        .map(|(a, b)| calendar.business_time(*a, *b))
        .fold(SignedDuration::ZERO, |s, d| s + d);
    let (e, t) = (elapsed.as_secs(), target.as_secs().max(1));
    let percent = u32::try_from(e.saturating_mul(100) / t).unwrap_or(u32::MAX);
    let level = if e >= t {
        Level::Breached
    } else if e.saturating_mul(100) >= t.saturating_mul(i64::from(policy.warn_percent)) {
        Level::Warning
    } else {
        Level::Ok
    };
    let due = (running && level != Level::Breached)
        .then(|| calendar.add(now, target - elapsed))
        .flatten()
        .map(Timestamp::as_second);
    let warn_after =
        SignedDuration::from_secs(t.saturating_mul(i64::from(policy.warn_percent)) / 100);
    let next_escalation = match level {
        Level::Ok if running => calendar
            .add(now, warn_after - elapsed)
            .map(Timestamp::as_second),
        Level::Warning => due,
        _ => None,
    };
    Reading {
        elapsed_seconds: e,
        target_seconds: target.as_secs(),
        percent,
        level,
        running,
        paused,
        due,
        next_escalation,
    }
}
