//! Change advisory board quorum, impact over configuration relationships,
//! and change-schedule conflicts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_desk::cab::{Ballot, Board, CabError, Decision, Vote};
use fernhand_desk::cmdb::{Edge, Relation, impact};
use fernhand_desk::schedule::{Blackout, Conflict, Window, conflicts};
use jiff::Timestamp;
use std::collections::BTreeSet;

fn board(members: &[&str], quorum: usize) -> Board {
    Board {
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        quorum,
    }
}

fn vote(member: &str, vote: Vote) -> Ballot {
    Ballot {
        member: member.into(),
        vote,
    }
}

#[test]
fn quorum_approves_and_out_of_reach_rejects() {
    let b = board(&["ana", "bo", "cy", "di"], 3);
    assert!(b.validate().is_ok());
    assert!(board(&["ana"], 2).validate().is_err());
    assert!(board(&["ana"], 0).validate().is_err());
    let mut ballots = vec![vote("ana", Vote::Approve), vote("bo", Vote::Approve)];
    assert_eq!(
        b.decide("req", &ballots),
        Decision::Pending {
            approvals: 2,
            quorum: 3
        }
    );
    ballots.push(vote("cy", Vote::Approve));
    assert_eq!(b.decide("req", &ballots), Decision::Approved);
    // Two rejections of four make three approvals impossible.
    let ballots = vec![vote("ana", Vote::Reject), vote("bo", Vote::Reject)];
    assert_eq!(b.decide("req", &ballots), Decision::Rejected);
    // One rejection does not.
    assert!(matches!(
        b.decide("req", &ballots[..1]),
        Decision::Pending { .. }
    ));
}

#[test]
fn votes_are_checked() {
    let b = board(&["ana", "bo", "cy"], 2);
    let ballots = vec![vote("ana", Vote::Approve)];
    assert_eq!(
        b.may_vote("bo", &ballots, "mallory"),
        Err(CabError::NotMember)
    );
    assert_eq!(b.may_vote("bo", &ballots, "bo"), Err(CabError::OwnChange));
    assert_eq!(
        b.may_vote("bo", &ballots, "ana"),
        Err(CabError::AlreadyVoted)
    );
    assert_eq!(b.may_vote("bo", &ballots, "cy"), Ok(()));
    // Stuffed ballots count once; non-members and the requester not at all.
    let stuffed = vec![
        vote("ana", Vote::Approve),
        vote("ana", Vote::Approve),
        vote("bo", Vote::Approve),
        vote("zed", Vote::Approve),
    ];
    assert_eq!(
        b.decide("bo", &stuffed),
        Decision::Pending {
            approvals: 1,
            quorum: 2
        }
    );
    // Once decided, no more votes.
    let done = vec![vote("ana", Vote::Approve), vote("cy", Vote::Approve)];
    assert_eq!(b.may_vote("bo", &done, "cy"), Err(CabError::AlreadyVoted));
    let b3 = board(&["ana", "bo", "cy", "di"], 2);
    assert_eq!(b3.may_vote("bo", &done, "di"), Err(CabError::Decided));
    // A requester on a board of quorum size can never get approval.
    assert_eq!(
        board(&["ana", "bo"], 2).decide("bo", &[vote("ana", Vote::Approve)]),
        Decision::Rejected
    );
}

fn e(from: &str, relation: Relation, to: &str) -> Edge {
    Edge {
        from: from.into(),
        relation,
        to: to.into(),
    }
}

fn graph() -> Vec<Edge> {
    vec![
        e("crm-app", Relation::RunsOn, "srv-01"),
        e("crm-db", Relation::RunsOn, "srv-02"),
        e("crm-app", Relation::DependsOn, "crm-db"),
        e("sales-service", Relation::DependsOn, "crm-app"),
        e("srv-01", Relation::ConnectedTo, "switch-a"),
        e("srv-02", Relation::ConnectedTo, "switch-b"),
        e("laptop-7", Relation::ConnectedTo, "switch-a"),
        // A cycle must not loop.
        e("srv-01", Relation::DependsOn, "sales-service"),
    ]
}

#[test]
fn impact_travels_against_the_arrows() {
    let g = graph();
    let hit = impact(&g, "switch-b", 100);
    let names: Vec<(&str, usize)> = hit.iter().map(|a| (a.ci.as_str(), a.depth)).collect();
    // srv-01 is reached through the cycle; the laptop only needs switch-a.
    assert_eq!(
        names,
        [
            ("srv-02", 1),
            ("crm-db", 2),
            ("crm-app", 3),
            ("sales-service", 4),
            ("srv-01", 5)
        ]
    );
    assert_eq!(hit[2].through, "crm-db");
    assert_eq!(hit[2].relation, Relation::DependsOn);
    // The laptop shares nothing with srv-02's chain but srv-01's switch.
    let hit: BTreeSet<String> = impact(&g, "switch-a", 100)
        .into_iter()
        .map(|a| a.ci)
        .collect();
    assert_eq!(
        hit,
        ["srv-01", "laptop-7", "crm-app", "sales-service"]
            .map(String::from)
            .into()
    );
    // A leaf affects nothing; the limit bounds the walk.
    assert!(impact(&g, "laptop-7", 100).is_empty());
    assert_eq!(impact(&g, "switch-b", 2).len(), 2);
    assert_eq!(Relation::parse("runs-on"), Some(Relation::RunsOn));
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn window(change: &str, start: &str, end: &str, cis: &[&str]) -> Window {
    Window {
        change: change.into(),
        start: ts(start),
        end: ts(end),
        cis: cis.iter().map(|c| (*c).to_owned()).collect(),
    }
}

#[test]
fn schedule_conflicts_follow_time_and_impact() {
    let g = graph();
    let scheduled = vec![
        window(
            "CHG-1",
            "2026-12-01T20:00Z",
            "2026-12-01T22:00Z",
            &["crm-app"],
        ),
        window(
            "CHG-2",
            "2026-12-01T23:00Z",
            "2026-12-02T01:00Z",
            &["srv-02"],
        ),
        window(
            "CHG-3",
            "2026-12-01T20:00Z",
            "2026-12-01T22:00Z",
            &["laptop-7"],
        ),
    ];
    // Patching srv-01 21:00–23:30 touches crm-app (it runs there) during
    // CHG-1, and crm-app is also downstream of CHG-2's srv-02 (through
    // crm-db); CHG-3's laptop overlaps in time but shares nothing.
    let candidate = window(
        "CHG-9",
        "2026-12-01T21:00Z",
        "2026-12-01T23:30Z",
        &["srv-01"],
    );
    let found = conflicts(&candidate, &scheduled, &[], &g);
    let changes: Vec<&str> = found
        .iter()
        .filter_map(|c| match c {
            Conflict::Change { change, .. } => Some(change.as_str()),
            Conflict::Blackout { .. } => None,
        })
        .collect();
    assert_eq!(changes, ["CHG-1", "CHG-2"]);
    // Touching jointly: adjacent windows do not overlap.
    let later = window(
        "CHG-9",
        "2026-12-01T22:00Z",
        "2026-12-01T23:00Z",
        &["crm-app"],
    );
    assert!(conflicts(&later, &scheduled, &[], &g).is_empty());
    // Blackouts warn whatever the items.
    let blackout = Blackout {
        name: "year-end close".into(),
        start: ts("2026-12-31T00:00Z"),
        end: ts("2027-01-02T00:00Z"),
    };
    let new_year = window(
        "CHG-10",
        "2026-12-31T20:00Z",
        "2026-12-31T21:00Z",
        &["laptop-7"],
    );
    assert_eq!(
        conflicts(&new_year, &scheduled, &[blackout], &g),
        [Conflict::Blackout {
            name: "year-end close".into()
        }]
    );
}
