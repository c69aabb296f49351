//! Lifecycles as data: each record kind has states (each in a category),
//! and the transitions between them name the roles that may take them and
//! the fields and conditions each needs. The shipped defaults follow ITIL
//! practice; a tenant admin may replace them with an edited copy that
//! [`Lifecycle::validate`] accepts. A record moves only along a transition:
//! [`Lifecycle::check`] is the one gate every state change goes through.

use crate::kind::RecordKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

mod defaults;

/// What a state means to clocks, lists and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateCategory {
    /// Raised, nobody owns it yet (the time-to-own clock runs).
    New,
    /// Being worked on.
    Active,
    /// Waiting on someone outside the desk (SLA clocks pause).
    Pending,
    /// Done, may still be reopened.
    Resolved,
    /// Final.
    Closed,
}

/// Who is acting, as far as the desk is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskRole {
    /// An end user following their own tickets in the portal.
    Requester,
    /// A member of the desk.
    Agent,
    /// Runs the desk: may do everything an agent may.
    Manager,
}

impl DeskRole {
    /// Whether someone in this role may take a transition open to `allowed`.
    pub fn may(self, allowed: &[DeskRole]) -> bool {
        allowed.contains(&self) || (self == DeskRole::Manager && allowed.contains(&DeskRole::Agent))
    }
}

/// A condition beyond filled-in fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// The change advisory board reached its approval quorum.
    CabApproved,
    /// The change advisory board can no longer reach its quorum.
    CabRejected,
    /// The change is a standard (pre-approved) change.
    StandardChange,
    /// The change is not a standard change (it needs the board).
    NotStandardChange,
}

/// One state of a lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Stored name: lowercase letters, digits and `_`, at most 32.
    pub id: String,
    /// Words for people.
    pub label: String,
    /// What the state means.
    pub category: StateCategory,
}

/// One allowed move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// From this state …
    pub from: String,
    /// … to this one.
    pub to: String,
    /// The button's words ("Assign", "Resolve").
    pub action: String,
    /// Who may take it.
    pub roles: Vec<DeskRole>,
    /// Fields that must be filled in first.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Conditions that must hold.
    #[serde(default)]
    pub guards: Vec<Guard>,
}

/// The states and transitions of one record kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Which records it governs.
    pub kind: RecordKind,
    /// Where a new record starts.
    pub initial: String,
    /// Every state.
    pub states: Vec<State>,
    /// Every allowed move.
    pub transitions: Vec<Transition>,
}

/// What a lifecycle check asks of a record.
pub trait RecordFacts {
    /// Whether the named field holds a value.
    fn is_set(&self, field: &str) -> bool;
    /// Whether a guard holds.
    fn holds(&self, guard: Guard) -> bool;
}

/// Why a record may not move.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransitionError {
    /// A state the lifecycle does not have.
    #[error("no state {0:?} in this lifecycle")]
    UnknownState(String),
    /// No transition between the two states.
    #[error("a record in {from:?} cannot go to {to:?}; from {from:?} it can go to: {}", allowed.join(", "))]
    NotAllowed {
        /// Current state.
        from: String,
        /// Asked-for state.
        to: String,
        /// Where it could go.
        allowed: Vec<String>,
    },
    /// The actor's role may not take it.
    #[error("{action:?} needs the role {}", needed.iter().map(|r| format!("{r:?}").to_lowercase()).collect::<Vec<_>>().join(" or "))]
    Role {
        /// The transition's action.
        action: String,
        /// Roles that may.
        needed: Vec<DeskRole>,
    },
    /// Fields to fill in first.
    #[error("{action:?} needs these fields filled in: {}", missing.join(", "))]
    MissingFields {
        /// The transition's action.
        action: String,
        /// What is missing.
        missing: Vec<String>,
    },
    /// A condition does not hold.
    #[error("{action:?} needs: {}", guard_words(*guard))]
    Guard {
        /// The transition's action.
        action: String,
        /// The failing condition.
        guard: Guard,
    },
}

fn guard_words(g: Guard) -> &'static str {
    match g {
        Guard::CabApproved => "the change advisory board's approval (quorum not reached)",
        Guard::CabRejected => "a rejection by the change advisory board",
        Guard::StandardChange => "a standard (pre-approved) change",
        Guard::NotStandardChange => "a normal or emergency change",
    }
}

/// Why an edited lifecycle is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LifecycleError {
    /// A lifecycle for another kind.
    #[error("this lifecycle is for {found}, not {expected}")]
    Kind {
        /// The kind being edited.
        expected: RecordKind,
        /// The kind the document names.
        found: RecordKind,
    },
    /// A state name outside the allowed shape.
    #[error("state name {0:?}: use 1–32 lowercase letters, digits or _")]
    StateName(String),
    /// The same state twice.
    #[error("state {0:?} is listed twice")]
    DuplicateState(String),
    /// A transition or the initial state names a state that is not listed.
    #[error("{0:?} is not one of the lifecycle's states")]
    UnknownState(String),
    /// The initial state is not in the New category.
    #[error("the initial state {0:?} must be in the new category")]
    Initial(String),
    /// A state no record can reach.
    #[error("state {0:?} cannot be reached from the initial state")]
    Unreachable(String),
    /// A state that is not closed but has no way out.
    #[error("state {0:?} is not closed but has no transition out")]
    DeadEnd(String),
    /// No way to finish.
    #[error("a lifecycle needs at least one closed state")]
    NoClosedState,
    /// A transition no role may take.
    #[error("transition {0:?} → {1:?} names no role")]
    NoRole(String, String),
    /// Two transitions between the same states.
    #[error("transition {0:?} → {1:?} is listed twice")]
    DuplicateTransition(String, String),
    /// A transition into its own state.
    #[error("transition {0:?} → itself")]
    SelfTransition(String),
    /// A required field the record kind does not have.
    #[error("{kind} records have no field {field:?}")]
    UnknownField {
        /// The kind.
        kind: RecordKind,
        /// The field.
        field: String,
    },
    /// Too large to be a lifecycle.
    #[error("a lifecycle has at most 64 states and 256 transitions")]
    TooLarge,
}

impl Lifecycle {
    /// The shipped default for a kind.
    pub fn default_for(kind: RecordKind) -> Lifecycle {
        defaults::for_kind(kind)
    }

    /// The fields a record of this kind has (what `requires` may name).
    pub fn fields_of(kind: RecordKind) -> &'static [&'static str] {
        defaults::fields_of(kind)
    }

    /// A state by name.
    pub fn state(&self, id: &str) -> Option<&State> {
        self.states.iter().find(|s| s.id == id)
    }

    /// The category of a state.
    pub fn category(&self, id: &str) -> Option<StateCategory> {
        self.state(id).map(|s| s.category)
    }

    /// Transitions out of a state.
    pub fn from(&self, id: &str) -> impl Iterator<Item = &Transition> {
        self.transitions.iter().filter(move |t| t.from == id)
    }

    /// Checks that an edited lifecycle for `kind` is whole: every state
    /// reachable, no dead ends but closed states, fields that exist.
    pub fn validate(&self, kind: RecordKind) -> Result<(), LifecycleError> {
        if self.kind != kind {
            return Err(LifecycleError::Kind {
                expected: kind,
                found: self.kind,
            });
        }
        if self.states.len() > 64 || self.transitions.len() > 256 {
            return Err(LifecycleError::TooLarge);
        }
        let mut names = BTreeSet::new();
        for s in &self.states {
            let ok = !s.id.is_empty()
                && s.id.len() <= 32
                && s.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(LifecycleError::StateName(s.id.chars().take(40).collect()));
            }
            if !names.insert(s.id.as_str()) {
                return Err(LifecycleError::DuplicateState(s.id.clone()));
            }
        }
        match self.category(&self.initial) {
            None => return Err(LifecycleError::UnknownState(self.initial.clone())),
            Some(StateCategory::New) => {}
            Some(_) => return Err(LifecycleError::Initial(self.initial.clone())),
        }
        if !self
            .states
            .iter()
            .any(|s| s.category == StateCategory::Closed)
        {
            return Err(LifecycleError::NoClosedState);
        }
        let fields = Lifecycle::fields_of(kind);
        let mut pairs = BTreeSet::new();
        for t in &self.transitions {
            for end in [&t.from, &t.to] {
                if !names.contains(end.as_str()) {
                    return Err(LifecycleError::UnknownState(end.clone()));
                }
            }
            if t.from == t.to {
                return Err(LifecycleError::SelfTransition(t.from.clone()));
            }
            if !pairs.insert((t.from.as_str(), t.to.as_str())) {
                return Err(LifecycleError::DuplicateTransition(
                    t.from.clone(),
                    t.to.clone(),
                ));
            }
            if t.roles.is_empty() {
                return Err(LifecycleError::NoRole(t.from.clone(), t.to.clone()));
            }
            if let Some(f) = t.requires.iter().find(|f| !fields.contains(&f.as_str())) {
                return Err(LifecycleError::UnknownField {
                    kind,
                    field: f.clone(),
                });
            }
        }
        let mut seen = BTreeSet::from([self.initial.as_str()]);
        let mut queue = VecDeque::from([self.initial.as_str()]);
        while let Some(s) = queue.pop_front() {
            for t in self.from(s) {
                if seen.insert(t.to.as_str()) {
                    queue.push_back(t.to.as_str());
                }
            }
        }
        if let Some(s) = self.states.iter().find(|s| !seen.contains(s.id.as_str())) {
            return Err(LifecycleError::Unreachable(s.id.clone()));
        }
        if let Some(s) = self
            .states
            .iter()
            .find(|s| s.category != StateCategory::Closed && self.from(&s.id).next().is_none())
        {
            return Err(LifecycleError::DeadEnd(s.id.clone()));
        }
        Ok(())
    }

    /// The one gate of every state change: may `role` move a record with
    /// these facts from `from` to `to`? Returns the transition taken.
    pub fn check(
        &self,
        from: &str,
        to: &str,
        role: DeskRole,
        record: &dyn RecordFacts,
    ) -> Result<&Transition, TransitionError> {
        for s in [from, to] {
            if self.state(s).is_none() {
                return Err(TransitionError::UnknownState(s.chars().take(40).collect()));
            }
        }
        let Some(t) = self.from(from).find(|t| t.to == to) else {
            return Err(TransitionError::NotAllowed {
                from: from.to_owned(),
                to: to.to_owned(),
                allowed: self.from(from).map(|t| t.to.clone()).collect(),
            });
        };
        if !role.may(&t.roles) {
            return Err(TransitionError::Role {
                action: t.action.clone(),
                needed: t.roles.clone(),
            });
        }
        let missing: Vec<String> = t
            .requires
            .iter()
            .filter(|f| !record.is_set(f))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(TransitionError::MissingFields {
                action: t.action.clone(),
                missing,
            });
        }
        if let Some(&guard) = t.guards.iter().find(|g| !record.holds(**g)) {
            return Err(TransitionError::Guard {
                action: t.action.clone(),
                guard,
            });
        }
        Ok(t)
    }
}

/// A record's fields as a JSON object: a field is set when present, not
/// null and not an empty or blank string. Guards are answered by `guards`.
pub struct JsonFacts<'a> {
    /// The record's fields.
    pub fields: &'a serde_json::Map<String, serde_json::Value>,
    /// The guards that hold.
    pub guards: &'a [Guard],
}

impl RecordFacts for JsonFacts<'_> {
    fn is_set(&self, field: &str) -> bool {
        match self.fields.get(field) {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(serde_json::Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        }
    }

    fn holds(&self, guard: Guard) -> bool {
        self.guards.contains(&guard)
    }
}
