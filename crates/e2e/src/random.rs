//! The one place random bytes come from.
//!
//! Product builds read the operating system's CSPRNG (`getrandom`) and nothing
//! else. Each draw names its purpose (`label`). With the `deterministic-rng`
//! feature — test fixtures only — a thread may install a seeded source whose
//! draws are recorded, so that golden transcripts can list exactly which random
//! values went into them and another implementation can replay them.

use crate::error::EntropyError;

/// Fill `buf` with random bytes for the purpose named by `label`.
pub(crate) fn fill(label: &'static str, buf: &mut [u8]) -> Result<(), EntropyError> {
    #[cfg(feature = "deterministic-rng")]
    if crate::testing::fill_if_seeded(label, buf) {
        return Ok(());
    }
    let _ = label;
    getrandom::fill(buf).map_err(|_| EntropyError)
}

/// A uniformly random integer in `0..bound` (`bound` > 0), by rejection
/// sampling over 32-bit draws, so that no value is more likely than another.
pub(crate) fn below(label: &'static str, bound: u32) -> Result<u32, EntropyError> {
    let bound = bound.max(1);
    // Largest multiple of `bound` that fits in u32; draws at or above it are
    // rejected so every residue has the same number of preimages.
    let zone = u32::MAX.saturating_sub(u32::MAX.checked_rem(bound).unwrap_or(0));
    loop {
        let mut word = [0u8; 4];
        fill(label, &mut word)?;
        let value = u32::from_be_bytes(word);
        if value < zone {
            return Ok(value.checked_rem(bound).unwrap_or(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_draws_differ() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill("test", &mut a).unwrap();
        fill("test", &mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = below("test", 10).unwrap();
            assert!(v < 10);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(below("test", 1).unwrap(), 0);
    }
}
