//! The tile cache both ends keep, so content the viewer has been sent
//! before (a typed letter with the cursor after it, a button, an icon)
//! costs a reference instead of its pixels again.
//!
//! The rule, the same on both sides: every Palette operation of at most
//! [`MAX_AREA`] pixels in an applied update is stored, in order, in the next
//! of [`SLOTS`] slots, round robin; a keyframe empties the cache before its
//! operations are stored. A Cached operation names a slot and paints what it
//! holds. Nothing about the cache travels but the slot numbers.

use crate::frame::Rect;
use std::collections::HashMap;

/// Slots in the cache.
pub const SLOTS: u16 = 512;
/// Largest stored rectangle (pixels): a 64 × 64 tile. The cache holds at
/// most `SLOTS × MAX_AREA` pixels (8 MiB).
pub const MAX_AREA: usize = 64 * 64;

/// One stored rectangle: its size and pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Width.
    pub w: u16,
    /// Height.
    pub h: u16,
    /// `0x00RRGGBB`, row by row.
    pub pixels: Vec<u32>,
}

impl Entry {
    /// Whether it fits `rect` exactly.
    pub fn fits(&self, rect: Rect) -> bool {
        (self.w, self.h) == (rect.w, rect.h)
    }
}

/// Whether a Palette operation over `rect` is stored.
pub fn stored(rect: Rect) -> bool {
    rect.area() <= MAX_AREA
}

/// The slots and which comes next; what both sides keep.
#[derive(Clone, Debug, Default)]
pub struct Slots {
    entries: HashMap<u16, Entry>,
    next: u16,
}

impl Slots {
    /// Empty it (a keyframe).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.next = 0;
    }

    /// The slot the next stored rectangle goes to.
    pub fn next(&self) -> u16 {
        self.next
    }

    /// What `slot` holds.
    pub fn get(&self, slot: u16) -> Option<&Entry> {
        self.entries.get(&slot)
    }

    /// Store `entry` in the next slot; returns the slot and what it held.
    pub fn push(&mut self, entry: Entry) -> (u16, Option<Entry>) {
        let slot = self.next;
        self.next = (self.next + 1) % SLOTS;
        (slot, self.entries.insert(slot, entry))
    }
}

fn key(w: u16, h: u16, pixels: &[u32]) -> u64 {
    let mut k: u64 = 0xCBF2_9CE4_8422_2325 ^ (u64::from(w) << 16) ^ u64::from(h);
    for &p in pixels {
        k = (k ^ u64::from(p)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    k
}

/// The encoder's side: the slots plus an index by content.
#[derive(Clone, Debug, Default)]
pub struct EncoderCache {
    slots: Slots,
    by_content: HashMap<u64, u16>,
}

impl EncoderCache {
    /// Empty it (a keyframe).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.by_content.clear();
    }

    /// The slot holding exactly these pixels, if any.
    pub fn find(&self, w: u16, h: u16, pixels: &[u32]) -> Option<u16> {
        let slot = *self.by_content.get(&key(w, h, pixels))?;
        let e = self.slots.get(slot)?;
        (e.w == w && e.h == h && e.pixels == pixels).then_some(slot)
    }

    /// Store them as the viewer will.
    pub fn store(&mut self, w: u16, h: u16, pixels: Vec<u32>) {
        let k = key(w, h, &pixels);
        let (slot, old) = self.slots.push(Entry { w, h, pixels });
        if let Some(old) = old {
            let old_key = key(old.w, old.h, &old.pixels);
            if self.by_content.get(&old_key) == Some(&slot) {
                self.by_content.remove(&old_key);
            }
        }
        self.by_content.insert(k, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_go_round_and_evict_what_they_replace() {
        let mut c = EncoderCache::default();
        c.store(1, 1, vec![7]);
        assert_eq!(c.find(1, 1, &[7]), Some(0));
        assert_eq!(c.find(1, 1, &[8]), None);
        for i in 1..SLOTS {
            c.store(1, 1, vec![1000 + u32::from(i)]);
        }
        assert_eq!(c.find(1, 1, &[7]), Some(0));
        // Slot 0 is reused: 7 is gone.
        c.store(1, 1, vec![9]);
        assert_eq!(c.find(1, 1, &[7]), None);
        assert_eq!(c.find(1, 1, &[9]), Some(0));
        c.clear();
        assert_eq!(c.find(1, 1, &[9]), None);
    }
}
