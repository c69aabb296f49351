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

/// A row's hash, or `None` for a row of one colour (it says nothing about
/// where it came from). Two pixels per step.
fn row_hash(row: &[u32]) -> Option<u64> {
    let first = *row.first()?;
    if row.iter().all(|&p| p == first) {
        return None;
    }
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    let mut pairs = row.chunks_exact(2);
    for pair in &mut pairs {
        let v = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
        h = (h ^ v).wrapping_mul(0x0000_0100_0000_01B3);
        h ^= h >> 29;
    }
    if let Some(&last) = pairs.remainder().first() {
        h = (h ^ u64::from(last)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    Some(h)
}

/// Row hashes of `region` in one picture, per strip of columns, hashed
/// once and shared by the whole-region and the per-strip searches.
struct Hashes {
    /// Per strip: `(x, w)`.
    strips: Vec<(u16, u16)>,
    /// `[strip][row]`.
    rows: Vec<Vec<Option<u64>>>,
}

impl Hashes {
    fn of(frame: &Frame, region: Rect, strip: u16) -> Hashes {
        let mut strips = Vec::new();
        let end = region.x + region.w;
        let mut x = region.x;
        while x < end {
            let w = strip.min(end - x);
            strips.push((x, w));
            x += w;
        }
        let rows = strips
            .iter()
            .map(|&(x, w)| {
                (region.y..region.y + region.h)
                    .map(|y| row_hash(frame.row(x, y, w)))
                    .collect()
            })
            .collect();
        Hashes { strips, rows }
    }

    /// Whole-row hashes over strips `from..to` (uniform only if every part
    /// is; parts of one colour count by position, so two uniform rows of
    /// different colours are told apart when the confirmation compares).
    fn span(&self, from: usize, to: usize) -> Vec<Option<u64>> {
        let n = self.rows.first().map_or(0, Vec::len);
        (0..n)
            .map(|r| {
                let parts = self.rows[from..to].iter().map(|s| s[r]);
                if parts.clone().all(|p| p.is_none()) {
                    return None;
                }
                Some(parts.fold(0x9E37_79B9_7F4A_7C15u64, |h, p| {
                    (h ^ p.unwrap_or(0x5555))
                        .wrapping_mul(0x0000_0100_0000_01B3)
                        .rotate_left(17)
                }))
            })
            .collect()
    }
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
    let (a, b) = (
        Hashes::of(old, region, region.w.max(1)),
        Hashes::of(new, region, region.w.max(1)),
    );
    let n = a.strips.len();
    detect_hashed(old, new, region, &a.span(0, n), &b.span(0, n))
}

/// [`detect`] with the rows of `region` already hashed in both pictures.
fn detect_hashed(
    old: &Frame,
    new: &Frame,
    region: Rect,
    old_hashes: &[Option<u64>],
    new_hashes: &[Option<u64>],
) -> Option<(Rect, u16)> {
    if region.h < MIN_RUN * 2 || region.w < 8 {
        return None;
    }
    let mut old_rows: HashMap<u64, Vec<u16>> = HashMap::with_capacity(usize::from(region.h));
    for (y, h) in (region.y..).zip(old_hashes) {
        if let Some(h) = h {
            let seen = old_rows.entry(*h).or_default();
            if seen.len() < PER_HASH {
                seen.push(y);
            }
        }
    }
    let mut votes: HashMap<i32, u32> = HashMap::new();
    for (y, h) in (region.y..).zip(new_hashes) {
        if let Some(ys) = h.and_then(|h| old_rows.get(&h)) {
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

/// The vertical moves within `region`: the whole region's, unless moving
/// it whole explains less than strips of `strip` columns each moving on
/// their own do (a spreadsheet's page-break line or scroll bar that does
/// not move with the rows, a sidebar that stays). Neighbouring strips with
/// the same move are merged; the moves never overlap in columns.
pub fn detect_moves(old: &Frame, new: &Frame, region: Rect, strip: u16) -> Vec<(Rect, u16)> {
    let strip = strip.max(8);
    let (a, b) = (
        Hashes::of(old, region, strip),
        Hashes::of(new, region, strip),
    );
    let n = a.strips.len();
    let whole = detect_hashed(old, new, region, &a.span(0, n), &b.span(0, n));
    if let Some((src, dst_y)) = whole
        && src.area() * 2 >= region.area()
    {
        return vec![(src, dst_y)];
    }
    let mut moves: Vec<(Rect, u16)> = Vec::new();
    for (i, &(x, w)) in a.strips.iter().enumerate() {
        let part = Rect::new(x, region.y, w, region.h);
        let Some((src, dst_y)) = detect_hashed(old, new, part, &a.rows[i], &b.rows[i]) else {
            continue;
        };
        match moves.last_mut() {
            Some((prev, prev_dst))
                if *prev_dst == dst_y
                    && (prev.y, prev.h) == (src.y, src.h)
                    && prev.x + prev.w == src.x =>
            {
                prev.w += src.w;
            }
            _ => moves.push((src, dst_y)),
        }
    }
    let by_strips: usize = moves.iter().map(|(r, _)| r.area()).sum();
    match whole {
        Some(w) if w.0.area() >= by_strips => vec![w],
        _ => moves,
    }
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
    fn a_scroll_beside_a_column_that_stays_moves_in_strips() {
        let old = text_like(256, 160, 3);
        let mut new = old.clone();
        // Everything scrolls up by 17 rows but a dashed line at x = 130,
        // whose dashes stay where they are.
        let dashed = |f: &mut Frame| {
            for y in 0..160u16 {
                let dash = (y / 4) % 2 == 0;
                f.row_mut(130, y, 1)[0] = if dash { 0x00_80_80_80 } else { 0x00_FF_FF_FF };
            }
        };
        new.copy_within(Rect::new(0, 17, 256, 143), 0, 0);
        dashed(&mut new);
        let mut old_with_line = old.clone();
        dashed(&mut old_with_line);
        let region = Rect::new(0, 0, 256, 160);
        let moves = detect_moves(&old_with_line, &new, region, 64);
        assert!(moves.len() >= 2, "{moves:?}");
        let mut predicted = old_with_line.clone();
        for &(src, dst_y) in &moves {
            assert_eq!(i32::from(dst_y) - i32::from(src.y), -17);
            predicted.copy_within(src, src.x, dst_y);
            assert!(predicted.same_in(&new, Rect::new(src.x, dst_y, src.w, src.h)));
        }
        let moved: usize = moves.iter().map(|(r, _)| r.area()).sum();
        // All but the strip with the line (a quarter of the width) moves.
        assert!(moved * 10 >= region.area() * 6, "{moves:?}");
    }

    #[test]
    fn unrelated_pictures_have_no_scroll() {
        let old = text_like(100, 100, 1);
        let new = text_like(100, 100, 999);
        assert_eq!(detect(&old, &new, Rect::new(0, 0, 100, 100)), None);
        assert_eq!(diff_bounds(&old, &old, Rect::new(0, 0, 100, 100)), None);
    }
}
