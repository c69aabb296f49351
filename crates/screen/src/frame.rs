//! Pictures of the screen: a [`Frame`] is width × height pixels, each a
//! `u32` holding `0x00RRGGBB` (the X server's 24-bit TrueColor layout, so
//! a capture needs no conversion), rows top to bottom with no padding.

/// A rectangle in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: u16,
    /// Top edge.
    pub y: u16,
    /// Width.
    pub w: u16,
    /// Height.
    pub h: u16,
}

impl Rect {
    /// A rectangle.
    pub const fn new(x: u16, y: u16, w: u16, h: u16) -> Rect {
        Rect { x, y, w, h }
    }

    /// Whether it covers no pixel.
    pub fn is_empty(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    /// One past the right edge.
    pub fn right(&self) -> u32 {
        u32::from(self.x) + u32::from(self.w)
    }

    /// One past the bottom edge.
    pub fn bottom(&self) -> u32 {
        u32::from(self.y) + u32::from(self.h)
    }

    /// Whether it lies inside a `width` × `height` picture.
    pub fn fits(&self, width: u16, height: u16) -> bool {
        self.right() <= u32::from(width) && self.bottom() <= u32::from(height)
    }

    /// Pixels covered.
    pub fn area(&self) -> usize {
        usize::from(self.w) * usize::from(self.h)
    }

    /// The part of it inside `other` (empty if none).
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        if x1 <= u32::from(x0) || y1 <= u32::from(y0) {
            return Rect::default();
        }
        // Both ends are at most u16::MAX + u16::MAX apart from x0 but no
        // further than the smaller rectangle's edge, which fits in u16.
        let w = u16::try_from(x1 - u32::from(x0)).unwrap_or(u16::MAX);
        let h = u16::try_from(y1 - u32::from(y0)).unwrap_or(u16::MAX);
        Rect::new(x0, y0, w, h)
    }

    /// The smallest rectangle holding both (an empty one adds nothing).
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let x0 = self.x.min(other.x);
        let y0 = self.y.min(other.y);
        let x1 = self.right().max(other.right());
        let y1 = self.bottom().max(other.bottom());
        let w = u16::try_from(x1 - u32::from(x0)).unwrap_or(u16::MAX);
        let h = u16::try_from(y1 - u32::from(y0)).unwrap_or(u16::MAX);
        Rect::new(x0, y0, w, h)
    }
}

/// A picture of (part of) the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    width: u16,
    height: u16,
    pixels: Vec<u32>,
}

impl Frame {
    /// A black picture.
    pub fn new(width: u16, height: u16) -> Frame {
        Frame {
            width,
            height,
            pixels: vec![0; usize::from(width) * usize::from(height)],
        }
    }

    /// A picture from `0x00RRGGBB` pixels; `None` if there are not exactly
    /// width × height of them.
    pub fn from_pixels(width: u16, height: u16, mut pixels: Vec<u32>) -> Option<Frame> {
        if pixels.len() != usize::from(width) * usize::from(height) {
            return None;
        }
        for p in &mut pixels {
            *p &= 0x00FF_FFFF;
        }
        Some(Frame {
            width,
            height,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The whole picture as a rectangle.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// Every pixel, row by row.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// Every pixel, to change.
    pub fn pixels_mut(&mut self) -> &mut [u32] {
        &mut self.pixels
    }

    /// Row `y` from column `x`, `w` pixels wide. The caller keeps inside the
    /// picture; outside it, the slice is shorter (possibly empty).
    pub fn row(&self, x: u16, y: u16, w: u16) -> &[u32] {
        let start = usize::from(y) * usize::from(self.width) + usize::from(x);
        let end = (start + usize::from(w)).min(self.pixels.len());
        self.pixels.get(start..end).unwrap_or(&[])
    }

    /// Row `y` from column `x`, `w` pixels wide, to change.
    pub fn row_mut(&mut self, x: u16, y: u16, w: u16) -> &mut [u32] {
        let start = usize::from(y) * usize::from(self.width) + usize::from(x);
        let end = (start + usize::from(w)).min(self.pixels.len());
        let len = self.pixels.len();
        self.pixels.get_mut(start.min(len)..end).unwrap_or(&mut [])
    }

    /// The pixel at (x, y), black outside.
    pub fn get(&self, x: u16, y: u16) -> u32 {
        if x >= self.width || y >= self.height {
            return 0;
        }
        self.pixels[usize::from(y) * usize::from(self.width) + usize::from(x)]
    }

    /// Fill `r` (clipped to the picture) with `colour`.
    pub fn fill(&mut self, r: Rect, colour: u32) {
        let r = r.intersect(&self.bounds());
        for y in r.y..r.y + r.h {
            self.row_mut(r.x, y, r.w).fill(colour & 0x00FF_FFFF);
        }
    }

    /// Copy `src` to `dst_x`, `dst_y` within the picture, as if through a
    /// temporary buffer (overlapping moves such as scrolls come out right).
    /// Parts outside the picture are clipped.
    pub fn copy_within(&mut self, src: Rect, dst_x: u16, dst_y: u16) {
        let src = src.intersect(&self.bounds());
        let dst = Rect::new(dst_x, dst_y, src.w, src.h).intersect(&self.bounds());
        let (w, h) = (dst.w.min(src.w), dst.h.min(src.h));
        if w == 0 || h == 0 {
            return;
        }
        let stride = usize::from(self.width);
        let rows: Box<dyn Iterator<Item = u16>> = if dst_y > src.y {
            Box::new((0..h).rev())
        } else {
            Box::new(0..h)
        };
        for i in rows {
            let s = usize::from(src.y + i) * stride + usize::from(src.x);
            let d = usize::from(dst_y + i) * stride + usize::from(dst_x);
            self.pixels.copy_within(s..s + usize::from(w), d);
        }
    }

    /// Copy the pixels of `r` out, row by row.
    pub fn crop(&self, r: Rect) -> Vec<u32> {
        let r = r.intersect(&self.bounds());
        let mut out = Vec::with_capacity(r.area());
        for y in r.y..r.y + r.h {
            out.extend_from_slice(self.row(r.x, y, r.w));
        }
        out
    }

    /// Write `pixels` (row by row, `r.w` wide) into `r`; `false` (and no
    /// change) if `r` is not inside the picture or the count is wrong.
    pub fn paste(&mut self, r: Rect, pixels: &[u32]) -> bool {
        if !r.fits(self.width, self.height) || pixels.len() != r.area() {
            return false;
        }
        if r.w == 0 {
            return true;
        }
        for (i, chunk) in pixels.chunks_exact(usize::from(r.w)).enumerate() {
            let y = r.y + u16::try_from(i).unwrap_or(u16::MAX);
            self.row_mut(r.x, y, r.w).copy_from_slice(chunk);
        }
        true
    }

    /// Peak signal-to-noise ratio of `other` against this picture, in dB,
    /// over R, G and B (infinite when equal; pictures of the same size).
    pub fn psnr(&self, other: &Frame) -> f64 {
        let mut sum = 0f64;
        for (p, q) in self.pixels.iter().zip(&other.pixels) {
            for s in [16, 8, 0] {
                let d = f64::from((p >> s) & 0xFF) - f64::from((q >> s) & 0xFF);
                sum += d * d;
            }
        }
        if sum == 0.0 {
            return f64::INFINITY;
        }
        let samples = 3.0 * self.pixels.len().max(1) as f64;
        10.0 * (255.0f64 * 255.0 / (sum / samples)).log10()
    }

    /// Append `r`'s pixels to `out` as packed `R G B` bytes, row by row
    /// (what JPEG and H.264 encoders take).
    pub fn rgb_bytes_into(&self, r: Rect, out: &mut Vec<u8>) {
        out.reserve(r.area() * 3);
        for y in r.y..r.y + r.h {
            for &p in self.row(r.x, y, r.w) {
                out.extend_from_slice(&p.to_be_bytes()[1..]);
            }
        }
    }

    /// Whether `r` holds the same pixels here and in `other` (same size).
    pub fn same_in(&self, other: &Frame, r: Rect) -> bool {
        (r.y..r.y + r.h).all(|y| self.row(r.x, y, r.w) == other.row(r.x, y, r.w))
    }
}

/// Packed `R G B` bytes (what JPEG and H.264 decoders give) as
/// `0x00RRGGBB` pixels; a trailing partial pixel is ignored.
pub fn pixels_from_rgb(rgb: &[u8]) -> Vec<u32> {
    rgb.chunks_exact(3)
        .map(|p| (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_copies_move_like_a_scroll() {
        let mut f = Frame::new(4, 4);
        for (i, p) in f.pixels_mut().iter_mut().enumerate() {
            *p = u32::try_from(i).unwrap();
        }
        let before = f.clone();
        // Scroll up by one row: rows 1..4 move to 0..3.
        f.copy_within(Rect::new(0, 1, 4, 3), 0, 0);
        assert_eq!(f.row(0, 0, 4), before.row(0, 1, 4));
        assert_eq!(f.row(0, 2, 4), before.row(0, 3, 4));
        // Scroll down by one row.
        let mut g = before.clone();
        g.copy_within(Rect::new(0, 0, 4, 3), 0, 1);
        assert_eq!(g.row(0, 3, 4), before.row(0, 2, 4));
        assert_eq!(g.row(0, 1, 4), before.row(0, 0, 4));
        // Clipped, never out of bounds.
        g.copy_within(Rect::new(2, 2, 10, 10), 3, 3);
        g.copy_within(Rect::new(0, 0, 4, 4), 60_000, 0);
    }

    #[test]
    fn psnr_is_infinite_for_equal_pictures_and_falls_with_error() {
        let a = Frame::from_pixels(2, 1, vec![0x00_10_20_30, 0x00_40_50_60]).unwrap();
        assert!(a.psnr(&a).is_infinite());
        let near = Frame::from_pixels(2, 1, vec![0x00_11_20_30, 0x00_40_50_60]).unwrap();
        let far = Frame::from_pixels(2, 1, vec![0x00_90_20_30, 0x00_40_50_60]).unwrap();
        // One sample off by 1 of six: 10·log10(255² · 6) ≈ 55.9 dB.
        assert!((a.psnr(&near) - 55.9).abs() < 0.1, "{}", a.psnr(&near));
        assert!(a.psnr(&far) < a.psnr(&near));
    }

    #[test]
    fn rectangles_clip_and_join() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, 5, 10, 10);
        assert_eq!(a.intersect(&b), Rect::new(5, 5, 5, 5));
        assert_eq!(a.union(&b), Rect::new(0, 0, 15, 15));
        assert!(a.intersect(&Rect::new(20, 20, 1, 1)).is_empty());
        assert!(!Rect::new(65_000, 0, 1000, 1).fits(u16::MAX, 1));
    }
}
