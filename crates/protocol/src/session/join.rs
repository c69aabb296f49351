//! Joining and keys: the SRP handshake on both sides, key deliveries and key
//! requests, admissions, removals and the roster.
//!
//! Handshake frames (payload kind `Handshake`) carry the four SRP messages of
//! `fernhand-e2e` plus two of this layer:
//!
//! ```text
//! 06 | epoch (4)      KeyRequest   member → leader: "send me the current key"
//! 07                  Poke         leader → unattended device: "are you here?"
//! 08                  Knock        device → leader: "here; send your Hello"
//! 7F | reason (1)     JoinRefused  leader → member: 1 wrong secret, 2 locked,
//!                                  3 no common suite, 4 malformed, 5 unknown identity, 6 other
//! ```

use super::{Answering, DeviceJoin, Endpoint, Event, JoinRefusal, Keys, SendError, Target};
use crate::frame::{Envelope, PayloadKind, TrafficClass};
use crate::ids::MemberId;
use crate::message::{Message, Roster, RosterEntry};
use fernhand_e2e::{ClientHandshake, Established, HandshakeError, Member, Policy};
use std::time::Instant;
use zeroize::Zeroizing;

const HELLO: u8 = 0x01;
const CHALLENGE: u8 = 0x02;
const PROOF: u8 = 0x03;
const CONFIRM: u8 = 0x04;
const KEY_REQUEST: u8 = 0x06;
const POKE: u8 = 0x07;
const KNOCK: u8 = 0x08;
/// How often the leader asks a device that has not knocked yet.
const POKE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// How long the leader waits for the device to finish a handshake before
/// starting over.
const HELLO_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
const JOIN_REFUSED: u8 = 0x7f;

impl Endpoint {
    /// Queue a frame that is not sealed (handshake, key delivery).
    pub(super) fn push_frame(&mut self, kind: PayloadKind, to: MemberId, payload: &[u8]) {
        let envelope = Envelope {
            class: TrafficClass::Reliable,
            kind,
            session: self.session,
            sender: self.me,
            target: to,
        };
        self.transmit.push_back(envelope.frame(payload));
    }

    /// Joiner: send (again) a Hello to the leader.
    pub(super) fn start_join(&mut self) -> Result<(), HandshakeError> {
        let Keys::Member {
            client,
            awaiting,
            policy,
            identity,
            secret,
            answers: None,
            ..
        } = &mut self.keys
        else {
            return Ok(());
        };
        let (state, hello) = ClientHandshake::start(policy, identity, secret)?;
        *client = Some(Box::new(state));
        *awaiting = None;
        let leader = self.leader_id;
        self.push_frame(PayloadKind::Handshake, leader, &hello);
        Ok(())
    }

    /// Member: ask the leader for the current epoch's key.
    pub(super) fn request_key(&mut self) {
        let epoch = self.epoch().unwrap_or(0);
        let mut payload = vec![KEY_REQUEST];
        payload.extend_from_slice(&epoch.to_be_bytes());
        let leader = self.leader_id;
        self.push_frame(PayloadKind::Handshake, leader, &payload);
    }

    pub(super) fn on_handshake(&mut self, from: MemberId, payload: &[u8], now: Instant) {
        let Some(&kind) = payload.first() else {
            self.drop_frame(from, "empty handshake frame");
            return;
        };
        if self.is_leader() {
            let from_device = matches!(&self.keys,
                Keys::Leader { device: Some(d), .. } if d.device == from);
            match kind {
                HELLO => self.leader_on_hello(from, payload),
                PROOF => self.leader_on_proof(from, payload),
                KEY_REQUEST => self.redeliver(from),
                KNOCK if from_device => self.leader_on_knock(now),
                CHALLENGE if from_device => self.leader_on_device_challenge(payload),
                CONFIRM if from_device => self.leader_on_device_confirm(payload),
                JOIN_REFUSED if from_device => {
                    let reason = JoinRefusal::from_byte(payload.get(1).copied().unwrap_or(0));
                    self.events.push_back(Event::JoinRefused(reason));
                }
                _ => self.drop_frame(from, "unexpected handshake message at the leader"),
            }
        } else if from != self.leader_id {
            self.drop_frame(from, "handshake message from a member that does not lead");
        } else if matches!(
            &self.keys,
            Keys::Member {
                answers: Some(_),
                ..
            }
        ) {
            match kind {
                POKE => self.push_frame(PayloadKind::Handshake, from, &[KNOCK]),
                HELLO => self.device_on_hello(payload),
                PROOF => self.device_on_proof(payload),
                _ => self.drop_frame(from, "unexpected handshake message at a device"),
            }
        } else {
            match kind {
                CHALLENGE => self.joiner_on_challenge(payload),
                CONFIRM => self.joiner_on_confirm(payload),
                JOIN_REFUSED => {
                    let reason = JoinRefusal::from_byte(payload.get(1).copied().unwrap_or(0));
                    self.events.push_back(Event::JoinRefused(reason));
                }
                _ => self.drop_frame(from, "unexpected handshake message at a joiner"),
            }
        }
    }

    fn refuse(&mut self, to: MemberId, error: HandshakeError) {
        let reason = JoinRefusal::from_error(&error);
        self.push_frame(PayloadKind::Handshake, to, &[JOIN_REFUSED, reason.byte()]);
        self.events.push_back(Event::JoinFailed { from: to, error });
    }

    fn leader_on_hello(&mut self, from: MemberId, hello: &[u8]) {
        let Keys::Leader {
            verifiers, pending, ..
        } = &mut self.keys
        else {
            return;
        };
        match verifiers.respond(hello) {
            Ok((state, challenge)) => {
                pending.insert(from, state);
                self.push_frame(PayloadKind::Handshake, from, &challenge);
            }
            Err(e) => self.refuse(from, e),
        }
    }

    fn leader_on_proof(&mut self, from: MemberId, proof: &[u8]) {
        let Keys::Leader {
            verifiers, pending, ..
        } = &mut self.keys
        else {
            return;
        };
        let Some(state) = pending.remove(&from) else {
            self.drop_frame(from, "proof without a handshake in progress");
            return;
        };
        let (confirm, established) = match verifiers.finish(state, proof) {
            Ok(done) => done,
            Err(e) => {
                self.refuse(from, e);
                return;
            }
        };
        self.admit(from, established, Some(&confirm));
    }

    /// Leader: admit `from` after a completed handshake, send it the
    /// confirm (when the leader was the SRP server) and everyone the new
    /// epoch's keys, and announce the roster.
    fn admit(&mut self, from: MemberId, established: Established, confirm: Option<&[u8]>) {
        let Keys::Leader { leader, roles, .. } = &mut self.keys else {
            return;
        };
        // A member that joins again (it lost its key) is first removed, so an
        // epoch it may still hold is not the one it gets.
        let mut deliveries = Vec::new();
        if leader.members().any(|m| m == from) {
            match leader.remove(from) {
                Ok(d) => deliveries.extend(d),
                Err(e) => {
                    self.drop_frame(from, &format!("rejoin failed: {e}"));
                    return;
                }
            }
        }
        match leader.admit(from, established) {
            Ok(d) => deliveries.extend(d),
            Err(e) => {
                self.drop_frame(from, &format!("admission failed: {e}"));
                return;
            }
        }
        roles.entry(from).or_insert_with(|| RosterEntry {
            id: from.0,
            role: "member".to_owned(),
            permissions: Vec::new(),
        });
        let epoch = leader.epoch();
        if let Some(confirm) = confirm {
            self.push_frame(PayloadKind::Handshake, from, confirm);
        }
        for d in deliveries {
            self.push_frame(PayloadKind::KeyDelivery, d.recipient(), d.as_bytes());
        }
        self.note_epoch(epoch);
        self.events.push_back(Event::MemberAdmitted(from));
        self.events.push_back(Event::Keyed { epoch });
        if let Err(e) = self.announce_roster() {
            self.drop_frame(from, &format!("roster not sent: {e}"));
        }
    }

    /// Leader of an unattended session: start the handshake with `device`,
    /// which holds the verifier of the access password `secret`.
    pub fn connect_device(
        &mut self,
        device: MemberId,
        policy: Policy,
        identity: &[u8],
        secret: &[u8],
        now: Instant,
    ) -> Result<(), SendError> {
        let Keys::Leader { device: slot, .. } = &mut self.keys else {
            return Err(SendError::NotLeader);
        };
        *slot = Some(Box::new(DeviceJoin {
            device,
            policy,
            identity: identity.to_vec(),
            secret: Zeroizing::new(secret.to_vec()),
            client: None,
            awaiting: None,
            admitted: false,
            hello_sent: false,
            hello_at: None,
            last_poke: None,
        }));
        // The device may not have reached the relay yet: it is asked until
        // it knocks, and only then does the one Hello go out (two Hellos
        // in flight would cross their challenges).
        self.poke_device(now);
        Ok(())
    }

    /// Device: tell the leader it is here.
    pub(super) fn knock(&mut self) {
        let leader = self.leader_id;
        self.push_frame(PayloadKind::Handshake, leader, &[KNOCK]);
    }

    /// Leader: when the device join next needs attention — asking again
    /// whether the device is there, or starting over when a Hello went
    /// unanswered (lost with a relay, say).
    pub(super) fn next_poke(&self) -> Option<Instant> {
        match &self.keys {
            Keys::Leader {
                device: Some(join), ..
            } if !join.admitted => match (join.hello_sent, join.hello_at, join.last_poke) {
                (true, Some(at), _) => Some(at + HELLO_PATIENCE),
                (_, _, Some(poked)) => Some(poked + POKE_EVERY),
                _ => None,
            },
            _ => None,
        }
    }

    /// Leader: the device join's timer fired.
    pub(super) fn device_timer(&mut self, now: Instant) {
        let hello_sent = matches!(&self.keys,
            Keys::Leader { device: Some(join), .. } if join.hello_sent);
        if hello_sent {
            self.restart_device_join(now);
        } else {
            self.poke_device(now);
        }
    }

    /// Leader: ask the device to knock.
    pub(super) fn poke_device(&mut self, now: Instant) {
        let Keys::Leader {
            device: Some(join), ..
        } = &mut self.keys
        else {
            return;
        };
        join.last_poke = Some(now);
        let to = join.device;
        self.push_frame(PayloadKind::Handshake, to, &[POKE]);
    }

    /// Leader, after a reconnect: a device handshake cut short starts over.
    pub(super) fn restart_device_join(&mut self, now: Instant) {
        let Keys::Leader {
            device: Some(join), ..
        } = &mut self.keys
        else {
            return;
        };
        if join.admitted {
            return;
        }
        join.hello_sent = false;
        join.hello_at = None;
        join.client = None;
        join.awaiting = None;
        self.poke_device(now);
    }

    /// Leader: the device is there; send the Hello (once).
    fn leader_on_knock(&mut self, now: Instant) {
        let Keys::Leader {
            device: Some(join), ..
        } = &mut self.keys
        else {
            return;
        };
        if join.admitted || join.hello_sent {
            return;
        }
        let to = join.device;
        match ClientHandshake::start(&join.policy, &join.identity, &join.secret) {
            Ok((state, hello)) => {
                join.client = Some(state);
                join.awaiting = None;
                join.hello_sent = true;
                join.hello_at = Some(now);
                self.push_frame(PayloadKind::Handshake, to, &hello);
            }
            Err(e) => self.drop_frame(to, &format!("device handshake failed: {e}")),
        }
    }

    fn leader_on_device_challenge(&mut self, challenge: &[u8]) {
        let Keys::Leader {
            device: Some(join), ..
        } = &mut self.keys
        else {
            return;
        };
        let to = join.device;
        let Some(state) = join.client.take() else {
            self.drop_frame(to, "challenge without a hello");
            return;
        };
        match state.on_challenge(challenge) {
            Ok((next, proof)) => {
                join.awaiting = Some(next);
                self.push_frame(PayloadKind::Handshake, to, &proof);
            }
            Err(e) => self.drop_frame(to, &format!("device handshake failed: {e}")),
        }
    }

    fn leader_on_device_confirm(&mut self, confirm: &[u8]) {
        let Keys::Leader {
            device: Some(join), ..
        } = &mut self.keys
        else {
            return;
        };
        let to = join.device;
        let Some(state) = join.awaiting.take() else {
            self.drop_frame(to, "confirm without a proof");
            return;
        };
        match state.on_confirm(confirm) {
            Ok(established) => {
                join.admitted = true;
                let transcript_hash = established.transcript_hash();
                self.events
                    .push_back(Event::Established { transcript_hash });
                self.admit(to, established, None);
            }
            Err(e) => self.drop_frame(to, &format!("device handshake failed: {e}")),
        }
    }

    fn device_on_hello(&mut self, hello: &[u8]) {
        let Keys::Member {
            answers: Some(answering),
            member,
            ..
        } = &mut self.keys
        else {
            return;
        };
        let Answering { verifiers, pending } = answering.as_mut();
        let leader = self.leader_id;
        match verifiers.respond(hello) {
            Ok((state, challenge)) => {
                *pending = Some(state);
                // A new handshake replaces keys from an earlier one.
                *member = None;
                self.push_frame(PayloadKind::Handshake, leader, &challenge);
            }
            Err(e) => self.refuse(leader, e),
        }
    }

    fn device_on_proof(&mut self, proof: &[u8]) {
        let Keys::Member {
            answers: Some(answering),
            member,
            ..
        } = &mut self.keys
        else {
            return;
        };
        let Answering { verifiers, pending } = answering.as_mut();
        let leader = self.leader_id;
        let Some(state) = pending.take() else {
            self.drop_frame(leader, "proof without a handshake in progress");
            return;
        };
        match verifiers.finish(state, proof) {
            Ok((confirm, established)) => {
                let transcript_hash = established.transcript_hash();
                *member = Some(Box::new(Member::new(established)));
                self.push_frame(PayloadKind::Handshake, leader, &confirm);
                self.events
                    .push_back(Event::Established { transcript_hash });
            }
            Err(e) => self.refuse(leader, e),
        }
    }

    /// Leader: the current key again for `to`, who lost it.
    pub(super) fn redeliver(&mut self, to: MemberId) {
        let Keys::Leader { leader, .. } = &self.keys else {
            return;
        };
        match leader.redeliver(to) {
            Ok(d) => self.push_frame(PayloadKind::KeyDelivery, to, d.as_bytes()),
            Err(e) => self.drop_frame(to, &format!("key request refused: {e}")),
        }
    }

    /// Leader: set the role and permissions announced for a member, and
    /// announce the roster.
    pub fn set_member_role(
        &mut self,
        id: MemberId,
        role: &str,
        permissions: &[&str],
    ) -> Result<(), SendError> {
        let Keys::Leader { roles, .. } = &mut self.keys else {
            return Err(SendError::NotLeader);
        };
        roles.insert(
            id,
            RosterEntry {
                id: id.0,
                role: role.to_owned(),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            },
        );
        self.announce_roster()
    }

    /// Leader: remove a member; a new epoch excludes it.
    pub fn remove_member(&mut self, id: MemberId) -> Result<(), SendError> {
        let Keys::Leader { leader, roles, .. } = &mut self.keys else {
            return Err(SendError::NotLeader);
        };
        let deliveries = leader.remove(id)?;
        roles.remove(&id);
        let epoch = leader.epoch();
        for d in deliveries {
            self.push_frame(PayloadKind::KeyDelivery, d.recipient(), d.as_bytes());
        }
        self.note_epoch(epoch);
        self.events.push_back(Event::Keyed { epoch });
        self.announce_roster()
    }

    /// Leader: send the roster of the current epoch to everyone.
    fn announce_roster(&mut self) -> Result<(), SendError> {
        let Keys::Leader { leader, roles, .. } = &self.keys else {
            return Err(SendError::NotLeader);
        };
        let members: Vec<RosterEntry> = roles
            .iter()
            .filter(|(id, _)| **id == self.me || leader.members().any(|m| m == **id))
            .map(|(_, entry)| entry.clone())
            .collect();
        let roster = Roster {
            epoch: leader.epoch(),
            leader: self.me.0,
            members,
        };
        // Newcomers learn where our stream starts before the roster itself.
        self.adopt_roster(&roster);
        self.send_reliable(Target::All, &Message::Roster(roster))?;
        Ok(())
    }

    fn joiner_on_challenge(&mut self, challenge: &[u8]) {
        let Keys::Member {
            client, awaiting, ..
        } = &mut self.keys
        else {
            return;
        };
        let Some(state) = client.take() else {
            self.drop_frame(self.leader_id, "challenge without a hello");
            return;
        };
        match state.on_challenge(challenge) {
            Ok((next, proof)) => {
                *awaiting = Some(Box::new(next));
                let leader = self.leader_id;
                self.push_frame(PayloadKind::Handshake, leader, &proof);
            }
            Err(e) => self.drop_frame(self.leader_id, &format!("join handshake failed: {e}")),
        }
    }

    fn joiner_on_confirm(&mut self, confirm: &[u8]) {
        let Keys::Member {
            awaiting, member, ..
        } = &mut self.keys
        else {
            return;
        };
        let Some(state) = awaiting.take() else {
            self.drop_frame(self.leader_id, "confirm without a proof");
            return;
        };
        match state.on_confirm(confirm) {
            Ok(established) => {
                let transcript_hash = established.transcript_hash();
                *member = Some(Box::new(Member::new(established)));
                self.events
                    .push_back(Event::Established { transcript_hash });
            }
            Err(e) => self.drop_frame(self.leader_id, &format!("join handshake failed: {e}")),
        }
    }

    pub(super) fn on_delivery(&mut self, from: MemberId, payload: &[u8], now: Instant) {
        if from != self.leader_id {
            self.drop_frame(from, "key delivery from a member that does not lead");
            return;
        }
        let Keys::Member {
            member: Some(m), ..
        } = &mut self.keys
        else {
            self.drop_frame(from, "key delivery before the handshake completed");
            return;
        };
        let before = m.epoch();
        match m.accept(payload) {
            Ok(epoch) => {
                if before == Some(epoch) {
                    return;
                }
                self.note_epoch(epoch);
                self.events.push_back(Event::Keyed { epoch });
                if before.is_none() {
                    self.flush_queued();
                    // Ask for anything sent to us before we could read it.
                    self.request_resend(now);
                }
            }
            Err(e) => self.drop_frame(from, &format!("key delivery refused: {e}")),
        }
    }

    fn flush_queued(&mut self) {
        while let Some((target, message)) = self.queued.pop_front() {
            if let Err(e) = self.send_reliable(target, &message) {
                self.drop_frame(self.me, &format!("queued message not sent: {e}"));
            }
        }
    }

    /// Record where our broadcast stream stood when `epoch` was installed:
    /// members who join in that epoch read from there.
    pub(super) fn note_epoch(&mut self, epoch: u32) {
        let next = self.out.get(&Target::All).map_or(0, |o| o.next_rseq());
        self.epoch_starts.entry(epoch).or_insert(next);
        while self.epoch_starts.len() > 64 {
            self.epoch_starts.pop_first();
        }
    }

    /// Take in a roster: tell each member new to us where our broadcast
    /// stream starts for it, and forget members who left.
    pub(super) fn adopt_roster(&mut self, roster: &Roster) {
        let listed: Vec<MemberId> = roster
            .members
            .iter()
            .map(|m| MemberId(m.id))
            .filter(|id| *id != self.me)
            .collect();
        let gone: Vec<MemberId> = self
            .known
            .iter()
            .copied()
            .filter(|id| !listed.contains(id))
            .collect();
        for id in gone {
            self.known.remove(&id);
            self.join_points.remove(&id);
            self.broadcast_acked.remove(&id);
        }
        let start = self
            .epoch_starts
            .get(&roster.epoch)
            .copied()
            .unwrap_or_else(|| self.out.get(&Target::All).map_or(0, |o| o.next_rseq()));
        for id in listed {
            if self.known.insert(id) {
                self.join_points.insert(id, start);
                if let Err(e) = self.send_reliable(Target::One(id), &Message::StreamStart(start)) {
                    self.drop_frame(id, &format!("stream start not sent: {e}"));
                }
            }
        }
        self.roster = Some(roster.clone());
        self.trim_broadcast();
    }
}
