//! The replay window of one sender in one epoch.
//!
//! Remembers the highest sequence number accepted and which of the
//! [`REPLAY_WINDOW`] numbers below it have been seen. A packet is fresh if it is
//! above the highest, or inside the window and not yet seen. Checking and
//! marking are separate so that a packet is marked only after its tag verified.
//!
//! The bitmap is a ring indexed by sequence number (as in RFC 6479): moving
//! forward clears only the words being reused, so an in-order packet costs a
//! few instructions instead of shifting the whole bitmap.

/// How many sequence numbers below the highest one are still accepted.
pub const REPLAY_WINDOW: u64 = 1024;

/// Ring size in 64-bit words: a power of two, twice the window, so every
/// sequence number inside the window maps to a word not yet reused.
const RING_WORDS: usize = 32;
/// The same, for arithmetic on sequence numbers.
const RING_WORDS_U64: u64 = 32;
const _: () = assert!(
    RING_WORDS_U64 == RING_WORDS as u64
        && RING_WORDS_U64 * 64 >= 2 * REPLAY_WINDOW
        && RING_WORDS.is_power_of_two()
);

/// Ring bitmap over recent sequence numbers.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReplayWindow {
    /// One more than the highest sequence number accepted; 0 = none yet.
    next: u64,
    /// Bit (seq mod 64) of word ((seq / 64) mod RING_WORDS) set ⇔ seq accepted
    /// (for seq inside the window).
    ring: [u64; RING_WORDS],
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
        let (word, bit) = position(seq);
        self.ring.get(word).is_some_and(|w| w & bit == 0)
    }

    /// Record `seq` as accepted. Call only after [`Self::is_fresh`] said yes and
    /// the packet authenticated.
    pub(crate) fn mark(&mut self, seq: u64) {
        if seq >= self.next {
            let new_block = seq >> 6;
            match self.next.checked_sub(1).map(|top| top >> 6) {
                Some(old_block) if new_block.wrapping_sub(old_block) < RING_WORDS_U64 => {
                    let mut block = old_block;
                    while block != new_block {
                        block = block.wrapping_add(1);
                        if let Some(w) = self.ring.get_mut(ring_index(block)) {
                            *w = 0;
                        }
                    }
                }
                _ => self.ring = [0; RING_WORDS],
            }
            self.next = seq.saturating_add(1);
        }
        let (word, bit) = position(seq);
        if let Some(w) = self.ring.get_mut(word) {
            *w |= bit;
        }
    }
}

fn ring_index(block: u64) -> usize {
    // Below RING_WORDS, so the conversion never fails.
    usize::try_from(block & (RING_WORDS_U64 - 1)).unwrap_or(0)
}

/// Word index and bit mask of `seq` in the ring.
fn position(seq: u64) -> (usize, u64) {
    (ring_index(seq >> 6), 1u64 << (seq & 63))
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

    proptest::proptest! {
        /// The ring agrees with a plain model: fresh iff above the highest seen,
        /// or within the window and never seen.
        #[test]
        fn agrees_with_a_naive_model(steps in proptest::collection::vec((0u64..5000, proptest::bool::ANY), 1..400)) {
            let mut w = ReplayWindow::default();
            let mut seen = std::collections::BTreeSet::new();
            for (delta, jump) in steps {
                // Mostly near the top, sometimes far ahead.
                let top = seen.iter().next_back().copied().unwrap_or(0);
                let seq = if jump { top + delta } else { (top + 10).saturating_sub(delta % 1200) };
                let model_fresh = match seen.iter().next_back() {
                    None => true,
                    Some(&max) => seq > max || (max - seq < REPLAY_WINDOW && !seen.contains(&seq)),
                };
                proptest::prop_assert_eq!(w.is_fresh(seq), model_fresh, "seq {}", seq);
                if model_fresh {
                    w.mark(seq);
                    seen.insert(seq);
                }
            }
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
