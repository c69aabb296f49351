//! Record kinds and their per-tenant references (`INC-1042`, `PRB-17`,
//! `CHG-88`, `REL-5`; configuration items are named, not numbered).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kinds of desk record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Something broke for someone: restore service.
    Incident,
    /// The unknown cause of one or more incidents.
    Problem,
    /// A planned change to a configuration item.
    Change,
    /// A set of changes deployed together.
    Release,
}

impl RecordKind {
    /// Every numbered kind.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Incident,
        RecordKind::Problem,
        RecordKind::Change,
        RecordKind::Release,
    ];

    /// Prefix of the kind's references.
    pub fn prefix(self) -> &'static str {
        match self {
            RecordKind::Incident => "INC",
            RecordKind::Problem => "PRB",
            RecordKind::Change => "CHG",
            RecordKind::Release => "REL",
        }
    }

    /// The stored and URL name (`incident`, …).
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Incident => "incident",
            RecordKind::Problem => "problem",
            RecordKind::Change => "change",
            RecordKind::Release => "release",
        }
    }

    /// From the stored name.
    pub fn parse(name: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// From a reference prefix.
    fn from_prefix(prefix: &str) -> Option<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.prefix().eq_ignore_ascii_case(prefix))
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A record's reference within its tenant: kind and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Which kind of record.
    pub kind: RecordKind,
    /// The tenant's number for it, from 1.
    pub number: u64,
}

/// Why a text is not a reference.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    /// Not `PREFIX-NUMBER`.
    #[error("a reference looks like INC-1042")]
    Shape,
    /// The prefix names no kind.
    #[error("unknown record prefix {0:?} (INC, PRB, CHG or REL)")]
    Prefix(String),
    /// The number is zero, too long or not decimal.
    #[error("a reference number is a positive decimal number")]
    Number,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind.prefix(), self.number)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        let (prefix, digits) = s.split_once('-').ok_or(ReferenceError::Shape)?;
        let kind = RecordKind::from_prefix(prefix)
            .ok_or_else(|| ReferenceError::Prefix(prefix.chars().take(8).collect()))?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReferenceError::Number);
        }
        let number: u64 = digits.parse().map_err(|_| ReferenceError::Number)?;
        if number == 0 {
            return Err(ReferenceError::Number);
        }
        Ok(Reference { kind, number })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_and_refuse_garbage() {
        let r: Reference = "inc-1042".parse().unwrap();
        assert_eq!(
            r,
            Reference {
                kind: RecordKind::Incident,
                number: 1042
            }
        );
        assert_eq!(r.to_string(), "INC-1042");
        assert_eq!("CHG-0".parse::<Reference>(), Err(ReferenceError::Number));
        assert_eq!("CHG-+1".parse::<Reference>(), Err(ReferenceError::Number));
        assert_eq!("CHG1".parse::<Reference>(), Err(ReferenceError::Shape));
        assert!(matches!(
            "XYZ-1".parse::<Reference>(),
            Err(ReferenceError::Prefix(_))
        ));
        assert_eq!(
            "REL-99999999999999999999".parse::<Reference>(),
            Err(ReferenceError::Number)
        );
    }
}
