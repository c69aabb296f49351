//! The shipped lifecycles, following ITIL practice, and the fields each
//! record kind has.

use super::{DeskRole, Guard, Lifecycle, State, StateCategory, Transition};
use crate::kind::RecordKind;

use DeskRole::{Agent, Manager, Requester};
use StateCategory::{Active, Closed, New, Pending, Resolved};

const INCIDENT: &[&str] = &[
    "title",
    "description",
    "category",
    "service",
    "assignee_group",
    "assignee",
    "ci",
    "impact",
    "urgency",
    "requester",
    "pending_reason",
    "resolution",
];
const PROBLEM: &[&str] = &[
    "title",
    "description",
    "category",
    "service",
    "assignee_group",
    "assignee",
    "ci",
    "impact",
    "urgency",
    "pending_reason",
    "root_cause",
    "workaround",
    "resolution",
];
const CHANGE: &[&str] = &[
    "title",
    "description",
    "category",
    "service",
    "assignee_group",
    "assignee",
    "ci",
    "change_type",
    "risk",
    "plan",
    "backout_plan",
    "planned_start",
    "planned_end",
    "outcome",
    "review",
];
const RELEASE: &[&str] = &[
    "title",
    "description",
    "category",
    "service",
    "assignee_group",
    "assignee",
    "ci",
    "window_start",
    "window_end",
    "outcome",
];

pub(super) fn fields_of(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Incident => INCIDENT,
        RecordKind::Problem => PROBLEM,
        RecordKind::Change => CHANGE,
        RecordKind::Release => RELEASE,
    }
}

pub(super) fn for_kind(kind: RecordKind) -> Lifecycle {
    match kind {
        RecordKind::Incident => incident(),
        RecordKind::Problem => problem(),
        RecordKind::Change => change(),
        RecordKind::Release => release(),
    }
}

fn state(id: &str, label: &str, category: StateCategory) -> State {
    State {
        id: id.into(),
        label: label.into(),
        category,
    }
}

fn go(from: &str, to: &str, action: &str, roles: &[DeskRole], requires: &[&str]) -> Transition {
    Transition {
        from: from.into(),
        to: to.into(),
        action: action.into(),
        roles: roles.to_vec(),
        requires: requires.iter().map(|f| (*f).to_owned()).collect(),
        guards: Vec::new(),
    }
}

fn guarded(mut t: Transition, guard: Guard) -> Transition {
    t.guards.push(guard);
    t
}

/// new → assigned → pending ↔ assigned → resolved → closed, and reopen.
fn incident() -> Lifecycle {
    Lifecycle {
        kind: RecordKind::Incident,
        initial: "new".into(),
        states: vec![
            state("new", "New", New),
            state("assigned", "Assigned", Active),
            state("pending", "Pending", Pending),
            state("resolved", "Resolved", Resolved),
            state("closed", "Closed", Closed),
        ],
        transitions: vec![
            go("new", "assigned", "Assign", &[Agent], &["assignee"]),
            go(
                "assigned",
                "pending",
                "Put on hold",
                &[Agent],
                &["pending_reason"],
            ),
            go("pending", "assigned", "Resume", &[Agent, Requester], &[]),
            go("assigned", "resolved", "Resolve", &[Agent], &["resolution"]),
            go("resolved", "closed", "Close", &[Agent, Requester], &[]),
            go("resolved", "assigned", "Reopen", &[Agent, Requester], &[]),
        ],
    }
}

/// new → assigned → known error → resolved → closed, with pending and reopen.
fn problem() -> Lifecycle {
    Lifecycle {
        kind: RecordKind::Problem,
        initial: "new".into(),
        states: vec![
            state("new", "New", New),
            state("assigned", "Under investigation", Active),
            state("pending", "Pending", Pending),
            state("known_error", "Known error", Active),
            state("resolved", "Resolved", Resolved),
            state("closed", "Closed", Closed),
        ],
        transitions: vec![
            go("new", "assigned", "Assign", &[Agent], &["assignee"]),
            go(
                "assigned",
                "pending",
                "Put on hold",
                &[Agent],
                &["pending_reason"],
            ),
            go("pending", "assigned", "Resume", &[Agent], &[]),
            go(
                "assigned",
                "known_error",
                "Record known error",
                &[Agent],
                &["root_cause", "workaround"],
            ),
            go(
                "known_error",
                "resolved",
                "Resolve",
                &[Agent],
                &["resolution"],
            ),
            go(
                "assigned",
                "resolved",
                "Resolve",
                &[Agent],
                &["root_cause", "resolution"],
            ),
            go("resolved", "closed", "Close", &[Agent], &[]),
            go("resolved", "assigned", "Reopen", &[Agent], &[]),
        ],
    }
}

/// requested → assessed → awaiting approval → approved/rejected → scheduled
/// → implementing → review → closed/failed/backed out. Standard changes are
/// pre-approved and go from assessed straight to scheduled.
fn change() -> Lifecycle {
    Lifecycle {
        kind: RecordKind::Change,
        initial: "requested".into(),
        states: vec![
            state("requested", "Requested", New),
            state("assessed", "Assessed", Active),
            state("awaiting_approval", "Awaiting approval", Pending),
            state("approved", "Approved", Active),
            state("rejected", "Rejected", Closed),
            state("scheduled", "Scheduled", Active),
            state("implementing", "Implementing", Active),
            state("review", "Post-implementation review", Resolved),
            state("closed", "Closed", Closed),
            state("failed", "Failed", Closed),
            state("backed_out", "Backed out", Closed),
        ],
        transitions: vec![
            go(
                "requested",
                "assessed",
                "Assess",
                &[Agent],
                &["change_type", "risk", "plan", "backout_plan"],
            ),
            guarded(
                go(
                    "assessed",
                    "awaiting_approval",
                    "Submit to the board",
                    &[Agent],
                    &[],
                ),
                Guard::NotStandardChange,
            ),
            guarded(
                go(
                    "assessed",
                    "scheduled",
                    "Schedule (pre-approved)",
                    &[Agent],
                    &["planned_start", "planned_end"],
                ),
                Guard::StandardChange,
            ),
            guarded(
                go("awaiting_approval", "approved", "Approve", &[Agent], &[]),
                Guard::CabApproved,
            ),
            guarded(
                go("awaiting_approval", "rejected", "Reject", &[Agent], &[]),
                Guard::CabRejected,
            ),
            go(
                "approved",
                "scheduled",
                "Schedule",
                &[Agent],
                &["planned_start", "planned_end"],
            ),
            go(
                "scheduled",
                "implementing",
                "Start implementation",
                &[Agent],
                &[],
            ),
            go(
                "implementing",
                "review",
                "Finish implementation",
                &[Agent],
                &["outcome"],
            ),
            go(
                "review",
                "closed",
                "Close as successful",
                &[Manager],
                &["review"],
            ),
            go(
                "review",
                "failed",
                "Close as failed",
                &[Manager],
                &["review"],
            ),
            go(
                "review",
                "backed_out",
                "Close as backed out",
                &[Manager],
                &["review"],
            ),
        ],
    }
}

/// planned → building → testing → deploying → deployed → closed, failures
/// closing as failed.
fn release() -> Lifecycle {
    Lifecycle {
        kind: RecordKind::Release,
        initial: "planned".into(),
        states: vec![
            state("planned", "Planned", New),
            state("building", "Building", Active),
            state("testing", "Testing", Active),
            state("deploying", "Deploying", Active),
            state("deployed", "Deployed", Resolved),
            state("closed", "Closed", Closed),
            state("failed", "Failed", Closed),
        ],
        transitions: vec![
            go(
                "planned",
                "building",
                "Start build",
                &[Agent],
                &["window_start", "window_end"],
            ),
            go("building", "testing", "Test", &[Agent], &[]),
            go("testing", "building", "Back to build", &[Agent], &[]),
            go("testing", "deploying", "Deploy", &[Manager], &[]),
            go("testing", "failed", "Abandon", &[Manager], &["outcome"]),
            go(
                "deploying",
                "deployed",
                "Mark deployed",
                &[Agent],
                &["outcome"],
            ),
            go("deploying", "failed", "Mark failed", &[Agent], &["outcome"]),
            go("deployed", "closed", "Close", &[Agent], &[]),
        ],
    }
}
