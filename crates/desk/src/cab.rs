//! Change approval by a change advisory board: the board's members vote,
//! a change is approved when approvals reach the quorum, and rejected as
//! soon as the quorum can no longer be reached. Whoever requested a change
//! may not approve it (segregation of duties); each member votes once.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A board: who may vote, how many approvals are needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    /// Member user ids.
    pub members: BTreeSet<String>,
    /// Approvals needed.
    pub quorum: usize,
}

/// A member's vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// For.
    Approve,
    /// Against.
    Reject,
}

impl Vote {
    /// Stored name.
    pub fn name(self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Vote> {
        match s {
            "approve" => Some(Vote::Approve),
            "reject" => Some(Vote::Reject),
            _ => None,
        }
    }
}

/// A vote cast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    /// The member.
    pub member: String,
    /// Their vote.
    pub vote: Vote,
}

/// Where a change's approval stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Still open.
    Pending {
        /// Approvals so far.
        approvals: usize,
        /// Approvals needed.
        quorum: usize,
    },
    /// Quorum reached.
    Approved,
    /// Quorum out of reach.
    Rejected,
}

/// Why a vote or a board is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CabError {
    /// The quorum is zero or larger than the board.
    #[error("the quorum must be between 1 and the number of board members ({0})")]
    Quorum(usize),
    /// The voter is not on the board.
    #[error("only members of the change advisory board may vote")]
    NotMember,
    /// The voter requested the change.
    #[error("the requester of a change may not vote on it")]
    OwnChange,
    /// The voter has voted.
    #[error("this member has already voted on this change")]
    AlreadyVoted,
    /// The decision is made.
    #[error("the board has already decided this change")]
    Decided,
}

impl Board {
    /// Checks the board's shape.
    pub fn validate(&self) -> Result<(), CabError> {
        if self.quorum == 0 || self.quorum > self.members.len() {
            return Err(CabError::Quorum(self.members.len()));
        }
        Ok(())
    }

    /// The decision the ballots make (ballots of non-members are ignored,
    /// a member counts once). The requester cannot approve, so a board whose
    /// other members cannot reach quorum rejects.
    pub fn decide(&self, requester: &str, ballots: &[Ballot]) -> Decision {
        let mut seen = BTreeSet::new();
        let (mut approvals, mut rejections) = (0usize, 0usize);
        for b in ballots {
            if !self.members.contains(&b.member) || b.member == requester || !seen.insert(&b.member)
            {
                continue;
            }
            match b.vote {
                Vote::Approve => approvals += 1,
                Vote::Reject => rejections += 1,
            }
        }
        let eligible = self.members.iter().filter(|m| *m != requester).count();
        if approvals >= self.quorum {
            Decision::Approved
        } else if eligible.saturating_sub(rejections) < self.quorum {
            Decision::Rejected
        } else {
            Decision::Pending {
                approvals,
                quorum: self.quorum,
            }
        }
    }

    /// Whether `member` may cast a vote now.
    pub fn may_vote(
        &self,
        requester: &str,
        ballots: &[Ballot],
        member: &str,
    ) -> Result<(), CabError> {
        if !self.members.contains(member) {
            return Err(CabError::NotMember);
        }
        if member == requester {
            return Err(CabError::OwnChange);
        }
        if ballots.iter().any(|b| b.member == member) {
            return Err(CabError::AlreadyVoted);
        }
        if !matches!(self.decide(requester, ballots), Decision::Pending { .. }) {
            return Err(CabError::Decided);
        }
        Ok(())
    }
}
