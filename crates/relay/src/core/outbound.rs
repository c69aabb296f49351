//! One member's outbound queue at the relay: frames waiting to be written,
//! and reliable frames kept until the member acknowledges them, so a dropped
//! connection can resume without loss.
//!
//! Reliable frames are numbered per member from 0 (the hop count the member
//! acknowledges). Latest-wins and control frames are not numbered and are
//! forgotten once written or when the connection drops.

use bytes::Bytes;
use std::collections::VecDeque;

struct Queued {
    bytes: Bytes,
    /// Hop number of a reliable frame.
    index: Option<u64>,
}

/// What pushing a frame did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued.
    Queued,
    /// Latest-wins frame skipped: the member is behind.
    Skipped,
    /// Reliable buffer full: the member must be disconnected.
    Overflow,
}

#[derive(Default)]
pub(crate) struct OutQueue {
    frames: VecDeque<Queued>,
    /// Position in `frames` of the first frame not yet written.
    sent: usize,
    /// Number the next reliable frame gets.
    next_index: u64,
    reliable_bytes: usize,
    unsent_bytes: usize,
}

impl OutQueue {
    /// Bytes of reliable frames held (written or not) until acknowledged.
    pub(crate) fn reliable_bytes(&self) -> usize {
        self.reliable_bytes
    }

    pub(crate) fn push_reliable(&mut self, bytes: Bytes, limit: usize) -> Pushed {
        if self.reliable_bytes.saturating_add(bytes.len()) > limit {
            return Pushed::Overflow;
        }
        self.reliable_bytes = self.reliable_bytes.saturating_add(bytes.len());
        self.unsent_bytes = self.unsent_bytes.saturating_add(bytes.len());
        self.frames.push_back(Queued {
            bytes,
            index: Some(self.next_index),
        });
        self.next_index = self.next_index.saturating_add(1);
        Pushed::Queued
    }

    /// A latest-wins frame, skipped when more than `skip_above` bytes are
    /// already waiting.
    pub(crate) fn push_latest(&mut self, bytes: Bytes, skip_above: usize) -> Pushed {
        if self.unsent_bytes > skip_above {
            return Pushed::Skipped;
        }
        self.push_unnumbered(bytes);
        Pushed::Queued
    }

    /// A control frame (hop ack, close notice): never skipped, never kept.
    pub(crate) fn push_unnumbered(&mut self, bytes: Bytes) {
        self.unsent_bytes = self.unsent_bytes.saturating_add(bytes.len());
        self.frames.push_back(Queued { bytes, index: None });
    }

    /// Up to `max` frames to write now.
    pub(crate) fn take(&mut self, max: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(q) = self.frames.get(self.sent) else {
                break;
            };
            self.unsent_bytes = self.unsent_bytes.saturating_sub(q.bytes.len());
            out.push(q.bytes.clone());
            self.sent = self.sent.saturating_add(1);
        }
        self.forget_written_unnumbered();
        out
    }

    /// Unnumbered frames already written are not kept.
    fn forget_written_unnumbered(&mut self) {
        while self.sent > 0 && self.frames.front().is_some_and(|q| q.index.is_none()) {
            self.frames.pop_front();
            self.sent = self.sent.saturating_sub(1);
        }
    }

    /// The member has received `count` reliable frames: forget those.
    pub(crate) fn ack(&mut self, count: u64) {
        while let Some(front) = self.frames.front() {
            let done = match front.index {
                Some(i) => i < count,
                None => self.sent > 0,
            };
            if !done {
                break;
            }
            if let Some(q) = self.frames.pop_front() {
                if q.index.is_some() {
                    self.reliable_bytes = self.reliable_bytes.saturating_sub(q.bytes.len());
                }
                if self.sent > 0 {
                    self.sent = self.sent.saturating_sub(1);
                } else {
                    self.unsent_bytes = self.unsent_bytes.saturating_sub(q.bytes.len());
                }
            }
        }
    }

    /// The connection dropped: forget what is not reliable; everything kept
    /// is to be written again on resume.
    pub(crate) fn disconnected(&mut self) {
        self.frames.retain(|q| q.index.is_some());
        self.sent = 0;
        self.unsent_bytes = self.reliable_bytes;
    }

    /// Whether frames wait to be written.
    pub(crate) fn has_unsent(&self) -> bool {
        self.sent < self.frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    #[test]
    fn reliable_frames_are_kept_until_acked_and_resent_after_a_drop() {
        let mut q = OutQueue::default();
        for _ in 0..5 {
            assert_eq!(q.push_reliable(b(10), 1000), Pushed::Queued);
        }
        assert_eq!(q.push_latest(b(3), 1000), Pushed::Queued);
        assert_eq!(q.take(3).len(), 3);
        q.ack(2);
        assert_eq!(q.reliable_bytes(), 30);
        q.disconnected();
        // Resume: member received 3 of them.
        q.ack(3);
        let again = q.take(100);
        assert_eq!(
            again.len(),
            2,
            "frames 3 and 4; the latest-wins frame is gone"
        );
        assert!(!q.has_unsent());
        q.ack(5);
        assert_eq!(q.reliable_bytes(), 0);
    }

    #[test]
    fn latest_wins_is_skipped_for_a_slow_member_and_reliable_overflows() {
        let mut q = OutQueue::default();
        assert_eq!(q.push_reliable(b(600), 1000), Pushed::Queued);
        assert_eq!(q.push_latest(b(10), 500), Pushed::Skipped);
        assert_eq!(q.push_reliable(b(600), 1000), Pushed::Overflow);
        assert_eq!(q.take(10).len(), 1);
        assert_eq!(q.push_latest(b(10), 500), Pushed::Queued);
    }

    #[test]
    fn control_frames_are_written_once() {
        let mut q = OutQueue::default();
        q.push_unnumbered(b(9));
        assert_eq!(q.take(10).len(), 1);
        q.disconnected();
        assert!(q.take(10).is_empty());
    }
}
