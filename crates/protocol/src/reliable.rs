//! End-to-end reliable streams: sequence numbers, buffers for resending,
//! in-order delivery with duplicates dropped.
//!
//! A sender numbers each reliable message in one of its streams (broadcast, or
//! direct to one member) and keeps it until acknowledged. A receiver delivers
//! each stream in order, drops what it has already delivered, and holds a
//! bounded number of early arrivals while it asks for the missing ones. This
//! is what makes a relay failure lose nothing: after the session moves,
//! receivers say where they stand and senders resend the rest.

use std::collections::{BTreeMap, VecDeque};

/// A sent message kept for resending.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) rseq: u64,
    /// Encoded plaintext (type, reliable header, body).
    pub(crate) plaintext: Vec<u8>,
    pub(crate) compress: bool,
}

/// Sender side of one stream.
#[derive(Debug, Default)]
pub(crate) struct OutStream {
    next: u64,
    buffer: VecDeque<Sent>,
    bytes: usize,
}

impl OutStream {
    /// The sequence number the next message gets.
    pub(crate) fn next_rseq(&self) -> u64 {
        self.next
    }

    /// Keep a message just sent (numbered with [`Self::next_rseq`]).
    pub(crate) fn push(&mut self, plaintext: Vec<u8>, compress: bool) {
        self.bytes = self.bytes.saturating_add(plaintext.len());
        self.buffer.push_back(Sent {
            rseq: self.next,
            plaintext,
            compress,
        });
        self.next = self.next.saturating_add(1);
    }

    /// Forget every message below `upto` (acknowledged).
    pub(crate) fn trim(&mut self, upto: u64) {
        while self.buffer.front().is_some_and(|s| s.rseq < upto) {
            if let Some(s) = self.buffer.pop_front() {
                self.bytes = self.bytes.saturating_sub(s.plaintext.len());
            }
        }
    }

    /// Messages from `start` on, to resend.
    pub(crate) fn from(&self, start: u64) -> impl Iterator<Item = &Sent> {
        self.buffer.iter().filter(move |s| s.rseq >= start)
    }

    /// Bytes waiting for acknowledgement.
    pub(crate) fn unacked_bytes(&self) -> usize {
        self.bytes
    }
}

/// What a receiver does with an arriving message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Arrival<T> {
    /// These are now deliverable, in order (the arrival and any it unblocked).
    Deliver(Vec<T>),
    /// Already delivered: drop it.
    Duplicate,
    /// Early: held until the gap before it is filled (ask for a resend).
    Held,
    /// Early, but the hold buffer is full: dropped (it will be resent).
    Dropped,
}

/// Receiver side of one sender's stream.
///
/// A stream may start *unanchored*: the receiver joined after the sender's
/// stream began and holds what arrives until the sender says where its part
/// starts ([`InStream::anchor`]).
#[derive(Debug)]
pub(crate) struct InStream<T> {
    next: Option<u64>,
    held: BTreeMap<u64, (T, usize)>,
    held_bytes: usize,
    max_held_bytes: usize,
}

impl<T> InStream<T> {
    /// A stream read from its first message (sequence number 0).
    pub(crate) fn new(max_held_bytes: usize) -> InStream<T> {
        InStream {
            next: Some(0),
            held: BTreeMap::new(),
            held_bytes: 0,
            max_held_bytes,
        }
    }

    /// A stream whose starting point is not known yet.
    pub(crate) fn unanchored(max_held_bytes: usize) -> InStream<T> {
        InStream {
            next: None,
            ..InStream::new(max_held_bytes)
        }
    }

    /// The next sequence number expected, once anchored.
    pub(crate) fn next(&self) -> Option<u64> {
        self.next
    }

    /// Set where an unanchored stream starts; returns what became deliverable.
    /// Held messages below the start are dropped. An anchored stream ignores it.
    pub(crate) fn anchor(&mut self, start: u64) -> Vec<T> {
        if self.next.is_some() {
            return Vec::new();
        }
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() >= start {
                break;
            }
            let (_, size) = entry.remove();
            self.held_bytes = self.held_bytes.saturating_sub(size);
        }
        self.next = Some(start);
        self.release()
    }

    fn release(&mut self) -> Vec<T> {
        let mut ready = Vec::new();
        while let Some(next) = self.next {
            let Some((item, size)) = self.held.remove(&next) else {
                break;
            };
            self.held_bytes = self.held_bytes.saturating_sub(size);
            ready.push(item);
            self.next = Some(next.saturating_add(1));
        }
        ready
    }

    /// Accept message `rseq` (of `size` bytes).
    pub(crate) fn arrive(&mut self, rseq: u64, item: T, size: usize) -> Arrival<T> {
        if self.next.is_some_and(|n| rseq < n) || self.held.contains_key(&rseq) {
            return Arrival::Duplicate;
        }
        if self.next != Some(rseq) {
            if self.held_bytes.saturating_add(size) > self.max_held_bytes {
                return Arrival::Dropped;
            }
            self.held_bytes = self.held_bytes.saturating_add(size);
            self.held.insert(rseq, (item, size));
            return Arrival::Held;
        }
        self.next = Some(rseq.saturating_add(1));
        let mut ready = vec![item];
        ready.extend(self.release());
        Arrival::Deliver(ready)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_delivery_with_duplicates_and_gaps() {
        let mut s = InStream::new(1000);
        assert_eq!(s.arrive(0, 'a', 1), Arrival::Deliver(vec!['a']));
        assert_eq!(s.arrive(0, 'a', 1), Arrival::Duplicate);
        assert_eq!(s.arrive(2, 'c', 1), Arrival::Held);
        assert_eq!(s.arrive(2, 'c', 1), Arrival::Duplicate);
        assert_eq!(s.arrive(3, 'd', 1), Arrival::Held);
        assert_eq!(s.arrive(1, 'b', 1), Arrival::Deliver(vec!['b', 'c', 'd']));
        assert_eq!(s.next(), Some(4));
    }

    #[test]
    fn unanchored_stream_waits_for_its_start() {
        let mut s = InStream::unanchored(1000);
        assert_eq!(s.next(), None);
        assert_eq!(s.arrive(7, 'h', 1), Arrival::Held);
        assert_eq!(s.arrive(5, 'f', 1), Arrival::Held);
        assert_eq!(s.arrive(3, 'd', 1), Arrival::Held);
        // Messages before the start are not ours to read.
        assert_eq!(s.anchor(5), vec!['f']);
        assert_eq!(s.arrive(6, 'g', 1), Arrival::Deliver(vec!['g', 'h']));
        assert_eq!(s.anchor(0), Vec::<char>::new());
        assert_eq!(s.arrive(4, 'e', 1), Arrival::Duplicate);
    }

    #[test]
    fn hold_buffer_is_bounded() {
        let mut s = InStream::new(10);
        assert_eq!(s.arrive(5, 'x', 8), Arrival::Held);
        assert_eq!(s.arrive(6, 'y', 8), Arrival::Dropped);
        assert_eq!(s.arrive(0, 'a', 1), Arrival::Deliver(vec!['a']));
    }

    #[test]
    fn sender_keeps_until_acknowledged() {
        let mut out = OutStream::default();
        for i in 0..5u8 {
            assert_eq!(out.next_rseq(), u64::from(i));
            out.push(vec![i; 10], true);
        }
        assert_eq!(out.unacked_bytes(), 50);
        out.trim(3);
        assert_eq!(out.unacked_bytes(), 20);
        let resend: Vec<u64> = out.from(2).map(|s| s.rseq).collect();
        assert_eq!(resend, vec![3, 4]);
        out.trim(100);
        assert_eq!(out.unacked_bytes(), 0);
    }
}
