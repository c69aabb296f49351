//! Sealing, opening and reliable streams: numbering, acknowledgements,
//! resend requests, and where each member's view of a broadcast stream
//! starts (so a newcomer is never sent what was said before it joined).

use super::{Endpoint, Event, Keys, Target};
use crate::frame::{self, Envelope, PayloadKind, TrafficClass};
use crate::ids::{ALL_MEMBERS, MemberId};
use crate::message::{self, Message, MessageType, Reliable, Stream, StreamPosition};
use crate::reliable::{Arrival, InStream};
use fernhand_e2e::{Compression, OpenError, SealError};
use std::collections::BTreeMap;
use std::time::Instant;

impl Endpoint {
    /// Number, seal and send a reliable message, keeping it for resends.
    pub(super) fn send_reliable(
        &mut self,
        target: Target,
        message: &Message,
    ) -> Result<(), SealError> {
        let kind = message.kind();
        let stream = match target {
            Target::All => Stream::Broadcast,
            Target::One(_) => Stream::Direct,
        };
        let rseq = self.out.entry(target).or_default().next_rseq();
        let plaintext = message::encode(message, Some(Reliable { stream, rseq }));
        let compress = kind.compression() == Compression::IfSmaller;
        let to = match target {
            Target::All => ALL_MEMBERS,
            Target::One(id) => id,
        };
        self.seal_and_push(kind.class(), to, &plaintext, compress)?;
        self.out
            .entry(target)
            .or_default()
            .push(plaintext, compress);
        Ok(())
    }

    fn send_unreliable(&mut self, to: MemberId, message: &Message) {
        let plaintext = message::encode(message, None);
        // Without a key there is nothing to acknowledge yet: not sent.
        let _ = self.seal_and_push(TrafficClass::Reliable, to, &plaintext, false);
    }

    fn seal_and_push(
        &mut self,
        class: TrafficClass,
        to: MemberId,
        plaintext: &[u8],
        compress: bool,
    ) -> Result<(), SealError> {
        let envelope = Envelope {
            class,
            kind: PayloadKind::Sealed,
            session: self.session,
            sender: self.me,
            target: to,
        };
        let mut frame = Vec::with_capacity(plaintext.len().saturating_add(96));
        envelope.start_frame(&mut frame);
        let compression = if compress {
            Compression::IfSmaller
        } else {
            Compression::Never
        };
        let aad = envelope.aad();
        match &mut self.keys {
            Keys::Leader { leader, .. } => {
                leader.seal_into(&aad, plaintext, compression, &mut frame)?;
            }
            Keys::Member {
                member: Some(m), ..
            } => m.seal_into(&aad, plaintext, compression, &mut frame)?,
            Keys::Member { member: None, .. } => return Err(SealError::NoKey),
        }
        frame::finish_frame(&mut frame);
        self.transmit.push_back(frame);
        Ok(())
    }

    pub(super) fn on_sealed(&mut self, envelope: &Envelope, payload: &[u8], now: Instant) {
        let aad = envelope.aad();
        let from = envelope.sender;
        let opened = match &mut self.keys {
            Keys::Leader { leader, .. } => leader.open_owned(&aad, payload.to_vec()),
            Keys::Member {
                member: Some(m), ..
            } => m.open_owned(&aad, payload.to_vec()),
            // Not keyed yet: senders resend once we are.
            Keys::Member { member: None, .. } => return,
        };
        let opened = match opened {
            Ok(o) => o,
            Err(OpenError::UnknownEpoch(e)) if self.epoch().is_some_and(|mine| e > mine) => {
                // A newer epoch whose key we have not received: ask for it.
                self.request_key();
                self.sync_due = true;
                return;
            }
            Err(e) => {
                self.drop_frame(from, &format!("packet refused: {e}"));
                return;
            }
        };
        if opened.sender != from {
            self.drop_frame(from, "sealed sender differs from the envelope");
            return;
        }
        let (kind, reliable, body) = match message::split(opened.plaintext()) {
            Ok(parts) => parts,
            Err(e) => {
                self.drop_frame(from, &format!("bad message: {e}"));
                return;
            }
        };
        let Some(r) = reliable else {
            self.on_unreliable(from, kind, body);
            return;
        };
        let max_held = self.config.max_held_bytes;
        // Broadcast streams of others began before we joined: anchored by the
        // sender's StreamStart. Direct streams begin with us.
        let stream = self
            .inbound
            .entry((from, r.stream))
            .or_insert_with(|| match r.stream {
                Stream::Broadcast => InStream::unanchored(max_held),
                Stream::Direct => InStream::new(max_held),
            });
        match stream.arrive(r.rseq, (kind, body.to_vec()), body.len()) {
            Arrival::Deliver(ready) => {
                for (kind, body) in ready {
                    self.deliver(from, kind, &body);
                }
            }
            Arrival::Duplicate => {}
            Arrival::Held | Arrival::Dropped => self.sync_due = true,
        }
        self.unacked = self.unacked.saturating_add(1);
        if self.unacked >= self.config.ack_every {
            self.send_ack();
        } else if self.ack_deadline.is_none() {
            self.ack_deadline = Some(now + self.config.ack_delay);
        }
        if self.sync_due {
            self.request_resend(now);
        }
    }

    fn deliver(&mut self, from: MemberId, kind: MessageType, body: &[u8]) {
        let message = match Message::decode_body(kind, body) {
            Ok(m) => m,
            Err(e) => {
                self.drop_frame(from, &format!("bad message body: {e}"));
                return;
            }
        };
        match message {
            Message::Roster(roster) => {
                if from != self.leader_id {
                    self.drop_frame(from, "roster from a member that does not lead");
                    return;
                }
                // A roster from the leader naming another member as leader
                // hands the session over: keys and rosters come from that
                // member from now on (protocol §7.3).
                if !self.is_leader() && roster.leader != self.leader_id.0 {
                    self.leader_id = MemberId(roster.leader);
                }
                self.adopt_roster(&roster);
                self.events.push_back(Event::Roster(roster));
            }
            Message::StreamStart(start) => {
                let max_held = self.config.max_held_bytes;
                let ready = self
                    .inbound
                    .entry((from, Stream::Broadcast))
                    .or_insert_with(|| InStream::unanchored(max_held))
                    .anchor(start);
                for (kind, body) in ready {
                    self.deliver(from, kind, &body);
                }
            }
            message => self.events.push_back(Event::Received { from, message }),
        }
    }

    fn on_unreliable(&mut self, from: MemberId, kind: MessageType, body: &[u8]) {
        let message = match Message::decode_body(kind, body) {
            Ok(m) => m,
            Err(e) => {
                self.drop_frame(from, &format!("bad message body: {e}"));
                return;
            }
        };
        match message {
            Message::Ack(positions) => self.on_positions(from, &positions, false),
            Message::Sync { epoch, positions } => {
                self.on_positions(from, &positions, true);
                let first_since_resync = self
                    .heard_since_resync
                    .as_mut()
                    .is_some_and(|answered| answered.insert(from));
                if first_since_resync {
                    // It reached the relay after our own request went out,
                    // so it never saw that: tell it where we stand.
                    let epoch = self.epoch().unwrap_or(0);
                    let positions = self.positions();
                    self.send_unreliable(from, &Message::Sync { epoch, positions });
                }
                if self.is_leader() && self.epoch().is_some_and(|mine| epoch < mine) {
                    self.redeliver(from);
                }
            }
            _ => self.drop_frame(from, "reliable type without reliable header"),
        }
    }

    /// Acknowledgements (and, if `resend`, resend requests) from `from`
    /// about our streams.
    fn on_positions(&mut self, from: MemberId, positions: &[StreamPosition], resend: bool) {
        let me = self.me;
        for p in positions.iter().filter(|p| p.sender == me) {
            let (target, start) = match p.stream {
                Stream::Broadcast => {
                    // Never below where the member joined: what came before
                    // was not meant for it.
                    let Some(&joined) = self.join_points.get(&from) else {
                        continue;
                    };
                    let acked = self.broadcast_acked.entry(from).or_insert(joined);
                    *acked = (*acked).max(p.next);
                    (Target::All, p.next.max(joined))
                }
                Stream::Direct => {
                    if let Some(out) = self.out.get_mut(&Target::One(from)) {
                        out.trim(p.next);
                    }
                    (Target::One(from), p.next)
                }
            };
            if resend {
                self.resend(target, from, start);
            }
        }
        self.trim_broadcast();
    }

    fn resend(&mut self, target: Target, to: MemberId, start: u64) {
        let again: Vec<(Vec<u8>, bool)> = self
            .out
            .get(&target)
            .map(|out| {
                out.from(start)
                    .map(|s| (s.plaintext.clone(), s.compress))
                    .collect()
            })
            .unwrap_or_default();
        for (plaintext, compress) in again {
            if let Err(e) = self.seal_and_push(TrafficClass::Reliable, to, &plaintext, compress) {
                self.drop_frame(to, &format!("resend failed: {e}"));
                return;
            }
        }
    }

    /// Forget broadcast messages every current member has acknowledged (or
    /// that were sent before it joined).
    pub(super) fn trim_broadcast(&mut self) {
        let upto = self
            .known
            .iter()
            .map(|id| {
                self.broadcast_acked
                    .get(id)
                    .or_else(|| self.join_points.get(id))
                    .copied()
                    .unwrap_or(0)
            })
            .min();
        if let Some(out) = self.out.get_mut(&Target::All) {
            // With no other member known, nobody is waiting for anything.
            out.trim(upto.unwrap_or(u64::MAX));
        }
    }

    /// Where this member stands in every stream it knows of: those it reads,
    /// and (at 0) those of roster members it has not heard from.
    fn positions(&self) -> Vec<StreamPosition> {
        let mut known: BTreeMap<(MemberId, Stream), u64> = self
            .inbound
            .iter()
            .map(|(key, s)| (*key, s.next().unwrap_or(0)))
            .collect();
        for id in &self.known {
            for stream in [Stream::Broadcast, Stream::Direct] {
                known.entry((*id, stream)).or_insert(0);
            }
        }
        known
            .into_iter()
            .map(|((sender, stream), next)| StreamPosition {
                sender,
                stream,
                next,
            })
            .collect()
    }

    pub(super) fn send_ack(&mut self) {
        self.unacked = 0;
        self.ack_deadline = None;
        let positions = self.positions();
        if !positions.is_empty() {
            self.send_unreliable(ALL_MEMBERS, &Message::Ack(positions));
        }
    }

    pub(super) fn request_resend(&mut self, now: Instant) {
        if self
            .last_sync
            .is_some_and(|t| now.saturating_duration_since(t) < self.config.sync_interval)
        {
            self.sync_due = true;
            return;
        }
        self.sync_due = false;
        self.last_sync = Some(now);
        let epoch = self.epoch().unwrap_or(0);
        let positions = self.positions();
        self.send_unreliable(ALL_MEMBERS, &Message::Sync { epoch, positions });
    }
}
