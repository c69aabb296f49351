//! Priority from impact × urgency, the ITIL matrix every desk ships.

use serde::{Deserialize, Serialize};

/// How much of the business an incident touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Many users or a critical service.
    High,
    /// A team or a non-critical service.
    Medium,
    /// One user.
    Low,
}

/// How soon the business needs it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Work has stopped.
    High,
    /// Work is slowed.
    Medium,
    /// It can wait.
    Low,
}

/// P1 (critical) to P5 (planning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Critical.
    P1,
    /// High.
    P2,
    /// Medium.
    P3,
    /// Low.
    P4,
    /// Planning.
    P5,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 5] = [
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ];

    /// The matrix: each step down in impact or urgency lowers priority by one.
    pub fn of(impact: Impact, urgency: Urgency) -> Priority {
        let step = |i: usize| Priority::ALL[i];
        let i = match impact {
            Impact::High => 0,
            Impact::Medium => 1,
            Impact::Low => 2,
        };
        let u = match urgency {
            Urgency::High => 0,
            Urgency::Medium => 1,
            Urgency::Low => 2,
        };
        step(i + u)
    }

    /// Stored name (`p1` …).
    pub fn name(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
            Priority::P4 => "p4",
            Priority::P5 => "p5",
        }
    }

    /// From the stored name.
    pub fn parse(name: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Priority::P1 => "P1 critical",
            Priority::P2 => "P2 high",
            Priority::P3 => "P3 medium",
            Priority::P4 => "P4 low",
            Priority::P5 => "P5 planning",
        }
    }
}

macro_rules! named {
    ($t:ty, $($v:ident => $n:literal),+) => {
        impl $t {
            /// Stored name.
            pub fn name(self) -> &'static str { match self { $(Self::$v => $n),+ } }
            /// From the stored name.
            pub fn parse(name: &str) -> Option<Self> { match name { $($n => Some(Self::$v),)+ _ => None } }
        }
    };
}
named!(Impact, High => "high", Medium => "medium", Low => "low");
named!(Urgency, High => "high", Medium => "medium", Low => "low");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_follows_itil() {
        assert_eq!(Priority::of(Impact::High, Urgency::High), Priority::P1);
        assert_eq!(Priority::of(Impact::High, Urgency::Medium), Priority::P2);
        assert_eq!(Priority::of(Impact::Medium, Urgency::High), Priority::P2);
        assert_eq!(Priority::of(Impact::Low, Urgency::High), Priority::P3);
        assert_eq!(Priority::of(Impact::Medium, Urgency::Medium), Priority::P3);
        assert_eq!(Priority::of(Impact::Low, Urgency::Medium), Priority::P4);
        assert_eq!(Priority::of(Impact::Low, Urgency::Low), Priority::P5);
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.name()), Some(p));
        }
        assert_eq!(Impact::parse("medium"), Some(Impact::Medium));
        assert_eq!(Urgency::parse("urgent"), None);
    }
}
