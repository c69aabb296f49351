//! Every shipped lifecycle: its whole allowed path works for the right
//! roles with the right fields, every move not listed is refused, and edits
//! that would break a lifecycle are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_desk::RecordKind;
use fernhand_desk::lifecycle::{
    DeskRole, Guard, JsonFacts, Lifecycle, LifecycleError, StateCategory, TransitionError,
};
use serde_json::{Map, Value, json};

fn filled(kind: RecordKind) -> Map<String, Value> {
    Lifecycle::fields_of(kind)
        .iter()
        .map(|f| ((*f).to_owned(), json!("x")))
        .collect()
}

const ALL_GUARDS: &[Guard] = &[];

#[test]
fn shipped_lifecycles_are_whole() {
    for kind in RecordKind::ALL {
        let l = Lifecycle::default_for(kind);
        assert_eq!(l.validate(kind), Ok(()), "{kind}");
        // Round-trips as the data a tenant admin edits.
        let text = serde_json::to_string(&l).unwrap();
        let back: Lifecycle = serde_json::from_str(&text).unwrap();
        assert_eq!(back, l);
    }
}

#[test]
fn every_pair_of_states_is_allowed_exactly_when_listed() {
    for kind in RecordKind::ALL {
        let l = Lifecycle::default_for(kind);
        let fields = filled(kind);
        let guards = [
            Guard::CabApproved,
            Guard::CabRejected,
            Guard::StandardChange,
            Guard::NotStandardChange,
        ];
        let facts = JsonFacts {
            fields: &fields,
            guards: &guards,
        };
        for from in &l.states {
            for to in &l.states {
                let listed = l
                    .transitions
                    .iter()
                    .any(|t| t.from == from.id && t.to == to.id);
                let got = l.check(&from.id, &to.id, DeskRole::Manager, &facts);
                if listed {
                    assert!(
                        got.is_ok(),
                        "{kind}: {} → {} refused: {got:?}",
                        from.id,
                        to.id
                    );
                } else {
                    assert!(
                        matches!(got, Err(TransitionError::NotAllowed { .. })),
                        "{kind}: {} → {} should be refused, got {got:?}",
                        from.id,
                        to.id
                    );
                }
            }
        }
    }
}

#[test]
fn incident_path_and_refusals() {
    let l = Lifecycle::default_for(RecordKind::Incident);
    let mut fields = Map::new();
    let agent = DeskRole::Agent;
    let check = |from: &str, to: &str, role, f: &Map<String, Value>| {
        l.check(
            from,
            to,
            role,
            &JsonFacts {
                fields: f,
                guards: ALL_GUARDS,
            },
        )
        .map(|t| t.action.clone())
    };
    // Cannot skip: new → resolved is not a transition.
    let err = check("new", "resolved", agent, &fields).unwrap_err();
    assert_eq!(
        err,
        TransitionError::NotAllowed {
            from: "new".into(),
            to: "resolved".into(),
            allowed: vec!["assigned".into()]
        }
    );
    assert!(err.to_string().contains("can go to: assigned"));
    // Assign needs an assignee; a blank one does not count.
    fields.insert("assignee".into(), json!("  "));
    assert_eq!(
        check("new", "assigned", agent, &fields),
        Err(TransitionError::MissingFields {
            action: "Assign".into(),
            missing: vec!["assignee".into()]
        })
    );
    fields.insert("assignee".into(), json!("u-1"));
    assert_eq!(check("new", "assigned", agent, &fields).unwrap(), "Assign");
    // A requester may not assign, but may reopen and close.
    assert!(matches!(
        check("new", "assigned", DeskRole::Requester, &fields),
        Err(TransitionError::Role { .. })
    ));
    // Pending needs a reason; pending ↔ assigned.
    assert!(matches!(
        check("assigned", "pending", agent, &fields),
        Err(TransitionError::MissingFields { .. })
    ));
    fields.insert("pending_reason".into(), json!("waiting for the customer"));
    assert!(check("assigned", "pending", agent, &fields).is_ok());
    assert!(check("pending", "assigned", DeskRole::Requester, &fields).is_ok());
    // Resolve needs a resolution; closed is final.
    assert!(matches!(
        check("assigned", "resolved", agent, &fields),
        Err(TransitionError::MissingFields { .. })
    ));
    fields.insert("resolution".into(), json!("replaced the cable"));
    assert!(check("assigned", "resolved", agent, &fields).is_ok());
    assert_eq!(
        check("resolved", "assigned", DeskRole::Requester, &fields).unwrap(),
        "Reopen"
    );
    assert!(check("resolved", "closed", DeskRole::Requester, &fields).is_ok());
    assert!(l.from("closed").next().is_none());
    assert_eq!(l.category("pending"), Some(StateCategory::Pending));
    // Unknown states are named as such.
    assert!(matches!(
        check("new", "nowhere", agent, &fields),
        Err(TransitionError::UnknownState(_))
    ));
}

#[test]
fn change_needs_the_board_unless_standard() {
    let l = Lifecycle::default_for(RecordKind::Change);
    let fields = filled(RecordKind::Change);
    let with = |guards: &[Guard], from: &str, to: &str, role| {
        l.check(
            from,
            to,
            role,
            &JsonFacts {
                fields: &fields,
                guards,
            },
        )
        .map(|_| ())
    };
    let normal = [Guard::NotStandardChange];
    let standard = [Guard::StandardChange];
    assert!(with(&normal, "assessed", "awaiting_approval", DeskRole::Agent).is_ok());
    assert!(matches!(
        with(&normal, "assessed", "scheduled", DeskRole::Agent),
        Err(TransitionError::Guard {
            guard: Guard::StandardChange,
            ..
        })
    ));
    assert!(with(&standard, "assessed", "scheduled", DeskRole::Agent).is_ok());
    assert!(matches!(
        with(&standard, "assessed", "awaiting_approval", DeskRole::Agent),
        Err(TransitionError::Guard {
            guard: Guard::NotStandardChange,
            ..
        })
    ));
    // Approval only with the board's quorum; rejection only when out of reach.
    let err = with(&normal, "awaiting_approval", "approved", DeskRole::Manager).unwrap_err();
    assert!(err.to_string().contains("quorum"), "{err}");
    assert!(
        with(
            &[Guard::CabApproved],
            "awaiting_approval",
            "approved",
            DeskRole::Agent
        )
        .is_ok()
    );
    assert!(with(&normal, "awaiting_approval", "rejected", DeskRole::Agent).is_err());
    // Closing after review is the manager's.
    assert!(matches!(
        with(&normal, "review", "closed", DeskRole::Agent),
        Err(TransitionError::Role { .. })
    ));
    for end in ["closed", "failed", "backed_out"] {
        assert!(with(&normal, "review", end, DeskRole::Manager).is_ok());
        assert_eq!(l.category(end), Some(StateCategory::Closed));
    }
    // Assessment needs risk, plan and backout plan.
    let empty = Map::new();
    let err = l
        .check(
            "requested",
            "assessed",
            DeskRole::Agent,
            &JsonFacts {
                fields: &empty,
                guards: &normal,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        TransitionError::MissingFields {
            action: "Assess".into(),
            missing: vec![
                "change_type".into(),
                "risk".into(),
                "plan".into(),
                "backout_plan".into()
            ]
        }
    );
}

#[test]
fn problem_and_release_paths() {
    let p = Lifecycle::default_for(RecordKind::Problem);
    let mut f = Map::new();
    f.insert("root_cause".into(), json!("firmware bug"));
    let facts = JsonFacts {
        fields: &f,
        guards: ALL_GUARDS,
    };
    assert!(matches!(
        p.check("assigned", "known_error", DeskRole::Agent, &facts),
        Err(TransitionError::MissingFields { missing, .. }) if missing == ["workaround"]
    ));
    let r = Lifecycle::default_for(RecordKind::Release);
    let f = filled(RecordKind::Release);
    let facts = JsonFacts {
        fields: &f,
        guards: ALL_GUARDS,
    };
    assert!(
        r.check("testing", "deploying", DeskRole::Agent, &facts)
            .is_err()
    );
    assert!(
        r.check("testing", "deploying", DeskRole::Manager, &facts)
            .is_ok()
    );
    assert!(
        r.check("planned", "deployed", DeskRole::Manager, &facts)
            .is_err()
    );
}

#[test]
fn broken_edits_are_refused() {
    let good = Lifecycle::default_for(RecordKind::Incident);
    let edit = |f: &dyn Fn(&mut Lifecycle)| {
        let mut l = good.clone();
        f(&mut l);
        l.validate(RecordKind::Incident)
    };
    assert!(matches!(
        edit(&|l| l.states[4].id = "Closed!".into()),
        Err(LifecycleError::StateName(_))
    ));
    assert!(matches!(
        edit(&|l| l.states[1].id = "new".into()),
        Err(LifecycleError::DuplicateState(_))
    ));
    assert!(matches!(
        edit(&|l| l.initial = "assigned".into()),
        Err(LifecycleError::Initial(_))
    ));
    assert!(
        matches!(edit(&|l| l.transitions.retain(|t| t.to != "pending")), Err(LifecycleError::Unreachable(s)) if s == "pending")
    );
    assert!(
        matches!(edit(&|l| l.transitions.retain(|t| t.from != "pending")), Err(LifecycleError::DeadEnd(s)) if s == "pending")
    );
    assert!(matches!(
        edit(&|l| l.transitions[0].requires.push("shoe_size".into())),
        Err(LifecycleError::UnknownField { .. })
    ));
    assert!(matches!(
        edit(&|l| l.transitions[0].roles.clear()),
        Err(LifecycleError::NoRole(..))
    ));
    assert!(matches!(
        edit(&|l| l.transitions[1].to = "assigned".into()),
        Err(LifecycleError::SelfTransition(_))
    ));
    assert!(matches!(
        edit(&|l| {
            let t = l.transitions[0].clone();
            l.transitions.push(t)
        }),
        Err(LifecycleError::DuplicateTransition(..))
    ));
    assert!(matches!(
        edit(&|l| l.transitions[0].to = "limbo".into()),
        Err(LifecycleError::UnknownState(_))
    ));
    assert!(matches!(
        edit(&|l| l
            .states
            .iter_mut()
            .for_each(|s| if s.category == StateCategory::Closed {
                s.category = StateCategory::Resolved
            })),
        Err(LifecycleError::NoClosedState)
    ));
    assert!(matches!(
        good.validate(RecordKind::Change),
        Err(LifecycleError::Kind { .. })
    ));
    // A tenant may add a state of its own, joined properly.
    let mut l = good.clone();
    l.states.push(fernhand_desk::lifecycle::State {
        id: "awaiting_vendor".into(),
        label: "Awaiting vendor".into(),
        category: StateCategory::Pending,
    });
    let mut to = l.transitions[1].clone();
    to.to = "awaiting_vendor".into();
    let mut back = l.transitions[2].clone();
    back.from = "awaiting_vendor".into();
    l.transitions.extend([to, back]);
    assert_eq!(l.validate(RecordKind::Incident), Ok(()));
}
