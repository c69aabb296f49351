//! The replay window of one sender in one epoch.
//!
//! Remembers the highest sequence number accepted and which of the
//! [`REPLAY_WINDOW`] numbers below it have been seen. A packet is fresh if it is
//! above the highest, or inside the window and not yet seen. Checking and
//! marking are separate so that a packet is marked only after its tag verified.

/// How many sequence numbers below the highest one are still accepted.
pub const REPLAY_WINDOW: u64 = 1024;

const WORDS: usize = (REPLAY_WINDOW / 64) as usize;

/// Sliding bitmap over the last [`REPLAY_WINDOW`] sequence numbers.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReplayWindow {
    /// One more than the highest sequence number accepted; 0 = none yet.
    next: u64,
    /// Bit i set ⇔ sequence number (next − 1 − i) has been accepted.
    seen: [u64; WORDS],
}

impl ReplayWindow {
    /// Would `seq` be accepted now?
    pub(crate) fn is_fresh(&self, seq: u64) -> bool {
        if seq >= self.next {
            return true;
        }
        let age = self.next.wrapping_sub(1).wrapping_sub(seq);
        if age >= REPLAY_WINDOW {
            return false;
        }
        !self.bit(age)
    }

    /// Record `seq` as accepted. Call only after [`Self::is_fresh`] said yes and
    /// the packet authenticated.
    pub(crate) fn mark(&mut self, seq: u64) {
        if seq >= self.next {
            let shift = seq.wrapping_sub(self.next).saturating_add(1);
            self.shift(shift);
            self.next = seq.saturating_add(1);
            self.set(0);
        } else {
            let age = self.next.wrapping_sub(1).wrapping_sub(seq);
            if age < REPLAY_WINDOW {
                self.set(age);
            }
        }
    }

    fn bit(&self, age: u64) -> bool {
        let (word, bit) = split(age);
        self.seen.get(word).is_some_and(|w| w & (1u64 << bit) != 0)
    }

    fn set(&mut self, age: u64) {
        let (word, bit) = split(age);
        if let Some(w) = self.seen.get_mut(word) {
            *w |= 1u64 << bit;
        }
    }

    /// Age every entry by `by` positions, forgetting those that fall out.
    fn shift(&mut self, by: u64) {
        if by >= REPLAY_WINDOW {
            self.seen = [0; WORDS];
            return;
        }
        let (words, bits) = split(by);
        // Highest word first, so every source is read before it is overwritten.
        for i in (0..WORDS).rev() {
            let value = match i.checked_sub(words) {
                None => 0,
                Some(src) => {
                    let low = self.seen.get(src).copied().unwrap_or(0);
                    let carry = match (bits, src.checked_sub(1)) {
                        (0, _) | (_, None) => 0,
                        (_, Some(j)) => self
                            .seen
                            .get(j)
                            .map_or(0, |w| w >> 64u32.saturating_sub(bits)),
                    };
                    (low << bits) | carry
                }
            };
            if let Some(slot) = self.seen.get_mut(i) {
                *slot = value;
            }
        }
    }
}

/// Age → (word index, bit index). Ages are below `REPLAY_WINDOW` here.
fn split(age: u64) -> (usize, u32) {
    let word = usize::try_from(age / 64).unwrap_or(usize::MAX);
    let bit = u32::try_from(age % 64).unwrap_or(0);
    (word, bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(w: &mut ReplayWindow, seq: u64) -> bool {
        if w.is_fresh(seq) {
            w.mark(seq);
            true
        } else {
            false
        }
    }

    #[test]
    fn in_order_then_duplicates() {
        let mut w = ReplayWindow::default();
        for seq in 0..3000 {
            assert!(accept(&mut w, seq));
        }
        assert!(!accept(&mut w, 2999));
        assert!(!accept(&mut w, 2999 - 500));
        assert!(!accept(&mut w, 0));
    }

    #[test]
    fn reorder_inside_window_is_accepted_once() {
        let mut w = ReplayWindow::default();
        assert!(accept(&mut w, 100));
        assert!(accept(&mut w, 5));
        assert!(!accept(&mut w, 5));
        assert!(accept(&mut w, 99));
        assert!(accept(&mut w, 1100)); // 100 is now 1000 behind: still inside
        assert!(!accept(&mut w, 100));
        assert!(accept(&mut w, 1100 - (REPLAY_WINDOW - 1))); // oldest position, unseen
        assert!(!accept(&mut w, 1100 - REPLAY_WINDOW)); // one older: outside
    }

    #[test]
    fn big_jump_forgets_everything_older() {
        let mut w = ReplayWindow::default();
        assert!(accept(&mut w, 1));
        assert!(accept(&mut w, 1_000_000));
        assert!(!accept(&mut w, 1));
        assert!(accept(&mut w, 999_999));
        assert!(!accept(&mut w, 1_000_000 - REPLAY_WINDOW));
        assert!(accept(&mut w, 1_000_000 - REPLAY_WINDOW + 1));
    }

    #[test]
    fn shifts_across_word_boundaries_keep_bits() {
        let mut w = ReplayWindow::default();
        for seq in [10u64, 70, 75, 200, 333] {
            assert!(accept(&mut w, seq));
        }
        for seq in [10u64, 70, 75, 200, 333] {
            assert!(!w.is_fresh(seq), "seq {seq} should be remembered");
        }
        for seq in [11u64, 71, 199, 332] {
            assert!(w.is_fresh(seq), "seq {seq} was never seen");
        }
    }

    #[test]
    fn highest_possible_sequence_is_handled() {
        let mut w = ReplayWindow::default();
        assert!(accept(&mut w, u64::MAX - 1));
        assert!(!accept(&mut w, u64::MAX - 1));
        assert!(accept(&mut w, u64::MAX - 2));
    }
}
