//! What kind of content a tile holds: one colour, a few colours (text, UI:
//! sent lossless as a palette), or many (photographic: sent as JPEG when
//! lossy coding is allowed). Colours are counted with a small
//! open-addressing table that gives up past 256.

/// A tile's content class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// One colour.
    Solid(u32),
    /// 2–256 colours: the palette and an index per pixel.
    Palette(Vec<u32>, Vec<u8>),
    /// More than 256 colours.
    Many,
}

const SLOTS: usize = 1024;
const EMPTY: u32 = u32::MAX;

/// Classify `pixels` (`0x00RRGGBB`).
pub fn classify(pixels: &[u32]) -> Content {
    let Some(&first) = pixels.first() else {
        return Content::Many;
    };
    if pixels.iter().all(|&p| p == first) {
        return Content::Solid(first);
    }
    let mut keys = [EMPTY; SLOTS];
    let mut slot_index = [0u8; SLOTS];
    let mut colours: Vec<u32> = Vec::with_capacity(16);
    let mut indices = Vec::with_capacity(pixels.len());
    let mut last = (EMPTY, 0u8);
    for &p in pixels {
        if p == last.0 {
            indices.push(last.1);
            continue;
        }
        // Multiplicative hash; colours never equal EMPTY (top byte is zero).
        let mut slot = usize::try_from(p.wrapping_mul(0x9E37_79B1) >> 22).unwrap_or(0) % SLOTS;
        let index = loop {
            if keys[slot] == p {
                break slot_index[slot];
            }
            if keys[slot] == EMPTY {
                let Ok(index) = u8::try_from(colours.len()) else {
                    return Content::Many;
                };
                keys[slot] = p;
                slot_index[slot] = index;
                colours.push(p);
                break index;
            }
            slot = (slot + 1) % SLOTS;
        };
        last = (p, index);
        indices.push(index);
    }
    Content::Palette(colours, indices)
}

/// Mean difference between horizontal neighbours (summed over R, G and B)
/// above which a many-colour tile is not photographic but detailed (noise,
/// small print over a picture) and JPEG would smear it.
pub const PHOTO_MAX_GRADIENT: u32 = 64;

/// Whether a many-colour tile `w` pixels wide is smooth enough for JPEG.
pub fn photographic(pixels: &[u32], w: u16) -> bool {
    let w = usize::from(w.max(1));
    let (mut sum, mut n) = (0u64, 0u64);
    for row in pixels.chunks(w) {
        for pair in row.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let d = [16, 8, 0]
                .iter()
                .map(|s| ((a >> s) & 0xFF).abs_diff((b >> s) & 0xFF))
                .sum::<u32>();
            sum += u64::from(d);
            n += 1;
        }
    }
    n == 0 || sum <= u64::from(PHOTO_MAX_GRADIENT) * n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_colour_count() {
        assert_eq!(classify(&[7; 64]), Content::Solid(7));
        let two: Vec<u32> = (0..64).map(|i| if i % 3 == 0 { 1 } else { 2 }).collect();
        match classify(&two) {
            Content::Palette(c, ix) => {
                assert_eq!(c, vec![1, 2]);
                assert!(ix.iter().zip(&two).all(|(&i, &p)| c[usize::from(i)] == p));
            }
            other => panic!("{other:?}"),
        }
        let exactly_256: Vec<u32> = (0..256).collect();
        assert!(matches!(classify(&exactly_256), Content::Palette(c, _) if c.len() == 256));
        let many: Vec<u32> = (0..257).collect();
        assert_eq!(classify(&many), Content::Many);
    }

    #[test]
    fn gradients_are_photographic_and_noise_is_not() {
        let gradient: Vec<u32> = (0..64 * 8).map(|i| (i % 64) * 0x0003_0201).collect();
        assert!(photographic(&gradient, 64));
        let noise: Vec<u32> = (0u32..64 * 8)
            .map(|i| {
                if i.wrapping_mul(2_654_435_761) >> 31 == 0 {
                    0
                } else {
                    0x00FF_FFFF
                }
            })
            .collect();
        assert!(!photographic(&noise, 64));
    }
}
