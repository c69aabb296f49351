//! What each member may do on this machine: the agent's user grants
//! permissions to the session (and may withdraw them at any moment); the
//! leader's roster narrows them per member. Every packet that acts on the
//! machine is checked here, whatever the other side believes it may do.

use fernhand_protocol::MemberId;
use fernhand_protocol::control::{ALL_PERMISSIONS, CLIPBOARD, CONTROL, FILES, VIEW, is_permission};
use fernhand_protocol::message::{Message, Roster};
use std::collections::BTreeSet;

/// The permission a message needs, if any (chat and session control need
/// none; control requests are checked one by one where they are handled).
pub fn needed(message: &Message) -> Option<&'static str> {
    match message {
        Message::Input(_) => Some(CONTROL),
        Message::Clipboard(_) => Some(CLIPBOARD),
        Message::FileOffer(_) | Message::FileChunk { .. } | Message::FileEnd(_) => Some(FILES),
        Message::Screen { .. } => Some(VIEW),
        _ => None,
    }
}

/// The user's grants and the leader's roster.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    granted: BTreeSet<&'static str>,
    leader: Option<MemberId>,
    roster: Option<Roster>,
}

impl Permissions {
    /// Nothing granted yet.
    pub fn new(leader: MemberId) -> Permissions {
        Permissions {
            granted: BTreeSet::new(),
            leader: Some(leader),
            roster: None,
        }
    }

    /// The session was handed over: `leader` leads it now.
    pub fn set_leader(&mut self, leader: MemberId) {
        self.leader = Some(leader);
    }

    /// The user grants exactly `permissions` (unknown words ignored).
    pub fn grant_only(&mut self, permissions: &[String]) {
        self.granted = permissions
            .iter()
            .filter_map(|p| ALL_PERMISSIONS.iter().find(|k| **k == p))
            .copied()
            .collect();
    }

    /// The user grants one more.
    pub fn grant(&mut self, permission: &str) -> bool {
        match ALL_PERMISSIONS.iter().find(|k| **k == permission) {
            Some(p) => self.granted.insert(p),
            None => false,
        }
    }

    /// The user withdraws one.
    pub fn withdraw(&mut self, permission: &str) -> bool {
        self.granted.remove(permission)
    }

    /// The user withdraws everything.
    pub fn withdraw_all(&mut self) {
        self.granted.clear();
    }

    /// What the user grants now.
    pub fn granted(&self) -> Vec<String> {
        self.granted.iter().map(|p| (*p).to_owned()).collect()
    }

    /// Whether the user grants `permission` to the session at all.
    pub fn is_granted(&self, permission: &str) -> bool {
        self.granted.contains(permission)
    }

    /// Take the leader's latest roster.
    pub fn set_roster(&mut self, roster: Roster) {
        self.roster = Some(roster);
    }

    /// The members other than `me` that `permission` allows: the leader,
    /// and those the roster lists with it (none if the user withholds it).
    pub fn members_allowed(&self, permission: &str, me: MemberId) -> Vec<MemberId> {
        let mut out: Vec<MemberId> = self.leader.into_iter().filter(|l| *l != me).collect();
        for m in self.roster.iter().flat_map(|r| &r.members) {
            let id = MemberId(m.id);
            if id != me && !out.contains(&id) {
                out.push(id);
            }
        }
        out.retain(|id| self.allows(*id, permission));
        out
    }

    /// Whether `member` may do what needs `permission`: the user grants it,
    /// and the member is the leader or the roster lists it with it.
    pub fn allows(&self, member: MemberId, permission: &str) -> bool {
        if !is_permission(permission) || !self.granted.contains(permission) {
            return false;
        }
        if Some(member) == self.leader {
            return true;
        }
        self.roster.as_ref().is_some_and(|r| {
            r.members
                .iter()
                .any(|m| m.id == member.0 && m.permissions.iter().any(|p| p == permission))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fernhand_protocol::input::InputEvent;
    use fernhand_protocol::message::RosterEntry;

    #[test]
    fn members_get_what_the_user_grants_narrowed_by_the_roster() {
        let mut p = Permissions::new(MemberId(1));
        assert!(!p.allows(MemberId(1), CONTROL), "nothing before consent");
        p.grant_only(&["view".into(), "control".into(), "format".into()]);
        assert_eq!(p.granted(), vec!["control".to_owned(), "view".to_owned()]);
        assert!(p.allows(MemberId(1), CONTROL));
        assert!(!p.allows(MemberId(1), FILES));
        p.set_roster(Roster {
            epoch: 2,
            leader: 1,
            members: vec![RosterEntry {
                id: 3,
                role: "viewer".into(),
                permissions: vec!["view".into(), "files".into()],
            }],
        });
        assert!(p.allows(MemberId(3), VIEW));
        assert!(!p.allows(MemberId(3), CONTROL), "the roster narrows");
        assert!(
            !p.allows(MemberId(3), FILES),
            "the user did not grant files"
        );
        assert!(!p.allows(MemberId(9), VIEW), "not in the roster");
        assert_eq!(
            p.members_allowed(VIEW, MemberId(2)),
            vec![MemberId(1), MemberId(3)]
        );
        assert_eq!(p.members_allowed(CONTROL, MemberId(2)), vec![MemberId(1)]);
        assert!(p.members_allowed(FILES, MemberId(2)).is_empty());
        assert!(p.withdraw(CONTROL));
        assert!(!p.allows(MemberId(1), CONTROL), "withdrawn at once");
        assert_eq!(
            needed(&Message::Input(InputEvent::CtrlAltDel)),
            Some(CONTROL)
        );
    }
}
