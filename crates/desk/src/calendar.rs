//! A tenant's business calendar: opening hours per weekday in the tenant's
//! time zone, and holidays. SLA clocks count only business time; this module
//! answers "how much business time lies between two instants" and "when will
//! this much business time have passed", across weekends, holidays and
//! daylight-saving changes.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// How far a deadline search looks ahead before giving up.
const HORIZON_DAYS: i32 = 3 * 366;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Day {
    fn of(date: Date) -> Day {
        match date.weekday().to_monday_one_offset() {
            1 => Day::Mon,
            2 => Day::Tue,
            3 => Day::Wed,
            4 => Day::Thu,
            5 => Day::Fri,
            6 => Day::Sat,
            _ => Day::Sun,
        }
    }
}

/// A wall-clock time of day, `00:00` to `24:00`, to the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u16);

impl ClockTime {
    /// `hh:mm`; `24:00` is the end of the day.
    pub fn new(hour: u16, minute: u16) -> Option<ClockTime> {
        let m = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && m <= 24 * 60).then_some(ClockTime(m))
    }

    fn on(self, date: Date) -> Option<DateTime> {
        if self.0 == 24 * 60 {
            date.tomorrow().ok().map(|d| d.at(0, 0, 0, 0))
        } else {
            let (h, m) = (self.0 / 60, self.0 % 60);
            Some(date.at(i8::try_from(h).ok()?, i8::try_from(m).ok()?, 0, 0))
        }
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for ClockTime {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<ClockTime, CalendarError> {
        let bad = || CalendarError::Time(s.chars().take(12).collect());
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        ClockTime::new(h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ClockTime, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Open from `from` to `to` on `day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// The weekday.
    pub day: Day,
    /// Opens at.
    pub from: ClockTime,
    /// Closes at.
    pub to: ClockTime,
}

/// The calendar as stored and edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// IANA time zone name (`Europe/Berlin`).
    pub time_zone: String,
    /// Opening hours.
    pub hours: Vec<Opening>,
    /// Days the desk is closed, in the calendar's zone.
    #[serde(default)]
    pub holidays: BTreeSet<Date>,
}

/// Why a calendar is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// Unknown time zone.
    #[error("unknown time zone {0:?} (use an IANA name such as Europe/Berlin)")]
    TimeZone(String),
    /// Not a time of day.
    #[error("{0:?} is not a time of day (hh:mm, 00:00 to 24:00)")]
    Time(String),
    /// Closing before opening.
    #[error("on {day:?} the desk closes ({to}) before it opens ({from})")]
    Order {
        /// The day.
        day: Day,
        /// Opens.
        from: ClockTime,
        /// Closes.
        to: ClockTime,
    },
    /// Two openings of one day overlap.
    #[error("opening hours on {0:?} overlap")]
    Overlap(Day),
    /// Never open.
    #[error("a business calendar needs opening hours")]
    NeverOpen,
    /// Too many entries.
    #[error("a calendar has at most 64 openings and 1,000 holidays")]
    TooLarge,
}

/// A checked calendar, ready to count business time.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    zone: TimeZone,
    /// Openings per weekday (Monday first), sorted.
    week: [Vec<(ClockTime, ClockTime)>; 7],
    holidays: BTreeSet<Date>,
}

impl CalendarSpec {
    /// Round the clock, every day, in UTC.
    pub fn always() -> CalendarSpec {
        let days = [
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ];
        CalendarSpec {
            time_zone: "UTC".into(),
            hours: days
                .into_iter()
                .map(|day| Opening {
                    day,
                    from: ClockTime(0),
                    to: ClockTime(24 * 60),
                })
                .collect(),
            holidays: BTreeSet::new(),
        }
    }

    /// Checks the calendar and readies it for counting.
    pub fn build(&self) -> Result<BusinessCalendar, CalendarError> {
        if self.hours.len() > 64 || self.holidays.len() > 1000 {
            return Err(CalendarError::TooLarge);
        }
        let zone = TimeZone::get(&self.time_zone)
            .map_err(|_| CalendarError::TimeZone(self.time_zone.chars().take(64).collect()))?;
        let mut week: [Vec<(ClockTime, ClockTime)>; 7] = Default::default();
        for o in &self.hours {
            if o.to <= o.from {
                return Err(CalendarError::Order {
                    day: o.day,
                    from: o.from,
                    to: o.to,
                });
            }
            week[o.day as usize].push((o.from, o.to));
        }
        for (i, day) in week.iter_mut().enumerate() {
            day.sort();
            if day.windows(2).any(|w| w[1].0 < w[0].1) {
                let d = self
                    .hours
                    .iter()
                    .find(|o| o.day as usize == i)
                    .map_or(Day::Mon, |o| o.day);
                return Err(CalendarError::Overlap(d));
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(BusinessCalendar {
            zone,
            week,
            holidays: self.holidays.clone(),
        })
    }
}

impl BusinessCalendar {
    /// The open intervals of one local date, as instants.
    fn open_on(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        self.week[Day::of(date) as usize]
            .iter()
            .filter_map(|(from, to)| {
                let a = self
                    .zone
                    .to_ambiguous_timestamp(from.on(date)?)
                    .compatible()
                    .ok()?;
                let b = self
                    .zone
                    .to_ambiguous_timestamp(to.on(date)?)
                    .compatible()
                    .ok()?;
                (b > a).then_some((a, b))
            })
            .collect()
    }

    fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.zone.clone()).date()
    }

    /// Business time between two instants (zero if `to` is not after `from`).
    pub fn business_time(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if to <= from {
            return total;
        }
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            for (a, b) in self.open_on(date) {
                let (a, b) = (a.max(from), b.min(to));
                if b > a {
                    total += b.duration_since(a);
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        total
    }

    /// The instant at which `amount` of business time will have passed
    /// since `from`; `None` if that is beyond the look-ahead horizon.
    pub fn add(&self, from: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
        let mut left = amount;
        if left <= SignedDuration::ZERO {
            return Some(from);
        }
        let mut date = self.local_date(from);
        for _ in 0..HORIZON_DAYS {
            for (a, b) in self.open_on(date) {
                let a = a.max(from);
                if b <= a {
                    continue;
                }
                let open = b.duration_since(a);
                if open >= left {
                    return a.checked_add(left).ok();
                }
                left -= open;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!("08:30".parse::<ClockTime>().unwrap().to_string(), "08:30");
        assert_eq!("24:00".parse::<ClockTime>().unwrap().to_string(), "24:00");
        for bad in ["24:01", "8:30", "08:60", "08-30", "", "aa:bb"] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
    }
}
