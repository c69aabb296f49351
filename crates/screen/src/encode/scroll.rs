//! Scroll detection: finds the vertical move that explains most of a changed
//! region (a terminal scrolling, a page scrolled in a browser or an
//! editor), so the viewer copies the rows it already has instead of
//! receiving them again.
//!
//! Rows of the changed columns are hashed in the old and the new picture;
//! each new row votes for the offsets at which the same row appears in the
//! old one; the winning offset is confirmed by comparing rows exactly, and
//! the longest confirmed run becomes one copy.

use crate::frame::{Frame, Rect};
use std::collections::HashMap;

/// Rows a confirmed run needs before a copy is worth sending.
const MIN_RUN: u16 = 8;
/// Old rows remembered per hash (repeated rows carry no information).
const PER_HASH: usize = 4;

fn row_hash(row: &[u32]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &p in row {
        h = (h ^ u64::from(p)).wrapping_mul(0x0000_0100_0000_01B3);
        h ^= h >> 29;
    }
    h
}

fn uniform(row: &[u32]) -> bool {
    row.first().is_none_or(|f| row.iter().all(|p| p == f))
}

/// The pixel-exact bounds of what differs between `old` and `new` within
/// `region` (same-sized pictures), if anything does.
pub fn diff_bounds(old: &Frame, new: &Frame, region: Rect) -> Option<Rect> {
    let mut bounds = Rect::default();
    for y in region.y..region.y + region.h {
        let (a, b) = (
            old.row(region.x, y, region.w),
            new.row(region.x, y, region.w),
        );
        if a == b {
            continue;
        }
        let first = a.iter().zip(b).position(|(p, q)| p != q)?;
        let last = a.iter().zip(b).rposition(|(p, q)| p != q)?;
        let x = region.x + u16::try_from(first).ok()?;
        let w = u16::try_from(last - first + 1).ok()?;
        bounds = bounds.union(&Rect::new(x, y, w, 1));
    }
    (!bounds.is_empty()).then_some(bounds)
}

/// A vertical move within `region`: `(src, dst_y)`, meaning rows `src` of
/// `old` appear at `dst_y` (same columns) in `new`.
pub fn detect(old: &Frame, new: &Frame, region: Rect) -> Option<(Rect, u16)> {
    if region.h < MIN_RUN * 2 || region.w < 8 {
        return None;
    }
    let mut old_rows: HashMap<u64, Vec<u16>> = HashMap::with_capacity(usize::from(region.h));
    for y in region.y..region.y + region.h {
        let row = old.row(region.x, y, region.w);
        if uniform(row) {
            continue;
        }
        let seen = old_rows.entry(row_hash(row)).or_default();
        if seen.len() < PER_HASH {
            seen.push(y);
        }
    }
    let mut votes: HashMap<i32, u32> = HashMap::new();
    for y in region.y..region.y + region.h {
        let row = new.row(region.x, y, region.w);
        if uniform(row) {
            continue;
        }
        if let Some(ys) = old_rows.get(&row_hash(row)) {
            for &from in ys {
                let dy = i32::from(y) - i32::from(from);
                if dy != 0 {
                    *votes.entry(dy).or_default() += 1;
                }
            }
        }
    }
    let (&dy, &count) = votes
        .iter()
        .max_by_key(|(dy, count)| (**count, -dy.abs()))?;
    if count < u32::from(MIN_RUN) / 2 {
        return None;
    }
    // The longest run of rows that match exactly at this offset.
    let (top, bottom) = (
        i32::from(region.y),
        i32::from(region.y) + i32::from(region.h),
    );
    let (mut best, mut run_start, mut run) = ((0i32, 0i32), 0i32, 0i32);
    for y in top..bottom {
        let from = y - dy;
        let same = (top..bottom).contains(&from)
            && u16::try_from(y)
                .ok()
                .zip(u16::try_from(from).ok())
                .is_some_and(|(y, f)| {
                    new.row(region.x, y, region.w) == old.row(region.x, f, region.w)
                });
        if same {
            if run == 0 {
                run_start = y;
            }
            run += 1;
            if run > best.1 {
                best = (run_start, run);
            }
        } else {
            run = 0;
        }
    }
    let (start, len) = best;
    if len < i32::from(MIN_RUN) {
        return None;
    }
    let src = Rect::new(
        region.x,
        u16::try_from(start - dy).ok()?,
        region.w,
        u16::try_from(len).ok()?,
    );
    Some((src, u16::try_from(start).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_like(width: u16, height: u16, seed: u32) -> Frame {
        let mut f = Frame::new(width, height);
        for y in 0..height {
            for x in 0..width {
                let mut v = u32::from(x).wrapping_mul(0x9E37_79B1)
                    ^ u32::from(y).wrapping_mul(0x85EB_CA77)
                    ^ seed.wrapping_mul(0xC2B2_AE3D);
                v ^= v >> 15;
                v = v.wrapping_mul(0x2C1B_3C6D);
                v ^= v >> 12;
                let p = if v >> 29 == 0 {
                    0x00_20_20_20
                } else {
                    0x00_FF_FF_FF
                };
                f.row_mut(x, y, 1)[0] = p;
            }
        }
        f
    }

    #[test]
    fn a_scrolled_region_is_found_with_its_offset() {
        let old = text_like(200, 120, 1);
        let mut new = old.clone();
        // Scroll rows 10..110 of columns 20..180 up by 13 rows.
        new.copy_within(Rect::new(20, 23, 160, 87), 20, 10);
        let region = diff_bounds(&old, &new, Rect::new(0, 0, 200, 120)).unwrap();
        assert!(region.x >= 20 && region.right() <= 180, "{region:?}");
        let (src, dst_y) = detect(&old, &new, Rect::new(20, 0, 160, 120)).unwrap();
        assert_eq!(i32::from(dst_y) - i32::from(src.y), -13);
        let mut predicted = old.clone();
        predicted.copy_within(src, src.x, dst_y);
        assert!(predicted.same_in(&new, Rect::new(20, dst_y, 160, src.h)));
        assert!(src.h >= 80, "{src:?}");
    }

    #[test]
    fn unrelated_pictures_have_no_scroll() {
        let old = text_like(100, 100, 1);
        let new = text_like(100, 100, 999);
        assert_eq!(detect(&old, &new, Rect::new(0, 0, 100, 100)), None);
        assert_eq!(diff_bounds(&old, &old, Rect::new(0, 0, 100, 100)), None);
    }
}
