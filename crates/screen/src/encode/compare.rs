//! Which tiles differ between the viewer's picture and a capture. Rows are
//! compared whole first (most rows of a screen did not change, and one long
//! comparison is far cheaper than one per tile); only a differing row is
//! looked at tile by tile, and a tile found changed is not looked at again.

use crate::frame::{Frame, Rect};

/// Mark in `changed` (one flag per tile, row by row, `cols` per row) the
/// tiles of side `side` within `area` (tile-aligned) whose pixels differ
/// between `old` and `new` (same size), clearing the others there; returns
/// the union of the changed tiles' rectangles.
pub fn changed_tiles(
    old: &Frame,
    new: &Frame,
    side: u16,
    area: Rect,
    changed: &mut [bool],
) -> Rect {
    let cols = usize::from(new.width().div_ceil(side));
    let (first_col, last_col) = (area.x / side, (area.x + area.w).div_ceil(side));
    let (first_row, last_row) = (area.y / side, (area.y + area.h).div_ceil(side));
    let mut region = Rect::default();
    for ty in first_row..last_row {
        let top = ty * side;
        let bottom = (top + side).min(new.height());
        let base = usize::from(ty) * cols;
        for tx in first_col..last_col {
            if let Some(c) = changed.get_mut(base + usize::from(tx)) {
                *c = false;
            }
        }
        let mut open = usize::from(last_col - first_col);
        for y in top..bottom {
            if old.row(area.x, y, area.w) == new.row(area.x, y, area.w) {
                continue;
            }
            for tx in first_col..last_col {
                let i = base + usize::from(tx);
                if changed.get(i).copied().unwrap_or(true) {
                    continue;
                }
                let x = tx * side;
                let w = side.min(new.width() - x);
                if old.row(x, y, w) != new.row(x, y, w) {
                    changed[i] = true;
                    region = region.union(&Rect::new(x, top, w, bottom - top));
                    open -= 1;
                }
            }
            if open == 0 {
                break;
            }
        }
    }
    region
}

/// The smallest tile-aligned rectangle (tiles of side `side`) holding `r`,
/// clipped to `frame`.
pub fn tile_cover(r: Rect, side: u16, frame: &Frame) -> Rect {
    if r.is_empty() {
        return r;
    }
    let x = r.x / side * side;
    let y = r.y / side * side;
    let right = (u32::from(r.x) + u32::from(r.w)).div_ceil(u32::from(side)) * u32::from(side);
    let bottom = (u32::from(r.y) + u32::from(r.h)).div_ceil(u32::from(side)) * u32::from(side);
    let right = u16::try_from(right.min(u32::from(frame.width()))).unwrap_or(frame.width());
    let bottom = u16::try_from(bottom.min(u32::from(frame.height()))).unwrap_or(frame.height());
    Rect::new(x, y, right - x, bottom - y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tiles_with_a_differing_pixel_are_marked() {
        let old = Frame::new(100, 70);
        let mut new = old.clone();
        new.fill(Rect::new(99, 69, 1, 1), 1); // last tile, clipped
        new.fill(Rect::new(40, 10, 1, 1), 2); // tile (1, 0)
        let mut changed = vec![true; 4 * 3];
        let region = changed_tiles(&old, &new, 32, old.bounds(), &mut changed);
        let marked: Vec<usize> = (0..12).filter(|&i| changed[i]).collect();
        assert_eq!(marked, vec![1, 11]);
        assert_eq!(region, Rect::new(32, 0, 68, 70));
        // Within an area, tiles outside it keep their flags.
        let mut changed = vec![true; 12];
        changed_tiles(
            &old,
            &new,
            32,
            tile_cover(Rect::new(0, 0, 10, 10), 32, &old),
            &mut changed,
        );
        assert!(!changed[0] && changed[1] && changed[5]);
    }

    #[test]
    fn a_cover_is_tile_aligned_and_clipped() {
        let f = Frame::new(100, 70);
        assert_eq!(
            tile_cover(Rect::new(33, 5, 2, 60), 32, &f),
            Rect::new(32, 0, 32, 70)
        );
        assert_eq!(
            tile_cover(Rect::new(90, 60, 10, 10), 32, &f),
            Rect::new(64, 32, 36, 38)
        );
    }
}
