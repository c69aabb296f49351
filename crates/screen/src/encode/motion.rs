//! Which part of the screen changes like video: per tile, how many updates
//! in a row it changed with photographic content. Tiles with a long enough
//! streak, if there are enough of them, give the rectangle the encoder
//! sends as an H.264 stream instead of JPEG tiles.

use crate::frame::Rect;

/// Updates in a row a tile must change photographically to count as video.
pub const VIDEO_AFTER: u8 = 2;
/// Video tiles needed before a stream is worth its start (an IDR picture).
pub const MIN_VIDEO_TILES: usize = 4;
/// The longest streak kept, so a paused video fades within a few updates.
const MAX_STREAK: u8 = 2 * VIDEO_AFTER + 2;

/// Per-tile streaks.
#[derive(Clone, Debug, Default)]
pub struct Motion {
    streak: Vec<u8>,
}

impl Motion {
    /// Forget everything (a new picture size).
    pub fn reset(&mut self, tiles: usize) {
        self.streak = vec![0; tiles];
    }

    /// Make room for `tiles` tiles, keeping what is known if the count is
    /// the same.
    pub fn ensure(&mut self, tiles: usize) {
        if self.streak.len() != tiles {
            self.reset(tiles);
        }
    }

    /// Tile `i` changed; `photographic` says whether to many colours.
    pub fn changed(&mut self, i: usize, photographic: bool) {
        if let Some(s) = self.streak.get_mut(i) {
            *s = if photographic {
                s.saturating_add(1).min(MAX_STREAK)
            } else {
                0
            };
        }
    }

    /// Tile `i` did not change: its streak fades.
    pub fn still(&mut self, i: usize) {
        if let Some(s) = self.streak.get_mut(i) {
            *s = s.saturating_sub(1);
        }
    }

    /// Whether tile `i` counts as video.
    pub fn is_video(&self, i: usize) -> bool {
        self.streak.get(i).is_some_and(|&s| s >= VIDEO_AFTER)
    }

    /// The bounding rectangle of the video tiles, if there are enough;
    /// `rect_of(i)` gives tile `i`'s rectangle.
    pub fn region(&self, rect_of: impl Fn(usize) -> Rect) -> Option<Rect> {
        let mut count = 0;
        let mut region = Rect::default();
        for i in (0..self.streak.len()).filter(|&i| self.is_video(i)) {
            count += 1;
            region = region.union(&rect_of(i));
        }
        (count >= MIN_VIDEO_TILES).then_some(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_needs_consecutive_photographic_changes() {
        let mut m = Motion::default();
        m.reset(8);
        let rect = |i: usize| Rect::new(u16::try_from(i).unwrap_or(0) * 10, 0, 10, 10);
        for _ in 0..VIDEO_AFTER {
            for i in 0..4 {
                m.changed(i, true);
            }
        }
        assert_eq!(m.region(rect), Some(Rect::new(0, 0, 40, 10)));
        // Text drawn over one tile breaks its streak: too few tiles left.
        m.changed(3, false);
        assert_eq!(m.region(rect), None);
        m.changed(3, true);
        m.changed(3, true);
        m.changed(3, true);
        assert!(m.region(rect).is_some());
        // A paused video fades out.
        for _ in 0..VIDEO_AFTER {
            for i in 0..4 {
                m.still(i);
            }
        }
        assert_eq!(m.region(rect), None);
    }
}
