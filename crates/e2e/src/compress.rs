//! Optional compression of packet bodies before encryption.
//!
//! LZ4 block format behind a 4-byte big-endian length of the original body.
//! Compression happens only when the caller allows it and it makes the body
//! smaller. Input and clipboard traffic must never be compressed: the length of
//! a compressed packet tells an observer how repetitive its content was.
//! Decompression is bounded by [`MAX_PLAINTEXT_LEN`], whatever the length field
//! claims, so a malicious member cannot make another exhaust memory.

use crate::error::OpenError;
use crate::packet::MAX_PLAINTEXT_LEN;

/// Whether a packet body may be compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Never compress. Required for input and clipboard channels, where the
    /// compressed length would leak information about the content.
    Never,
    /// Compress when the body is at least [`Compression::MIN_LEN`] bytes and
    /// compression makes it smaller.
    IfSmaller,
}

impl Compression {
    /// Bodies shorter than this are never compressed.
    pub const MIN_LEN: usize = 64;
}

/// Length of the original-size prefix of a compressed body.
const LEN_PREFIX: usize = 4;
/// LZ4 cannot expand a block by more than this factor (a match token plus 255
/// per extra length byte), so a larger claim is refused before allocating.
const MAX_EXPANSION: usize = 255;

/// Compress `body` if allowed and worthwhile; `None` means "send it as is".
pub(crate) fn maybe_compress(body: &[u8], mode: Compression) -> Option<Vec<u8>> {
    if mode == Compression::Never || body.len() < Compression::MIN_LEN {
        return None;
    }
    let original_len = u32::try_from(body.len()).ok()?;
    let bound = lz4_flex::block::get_maximum_output_size(body.len());
    let mut out = vec![0u8; LEN_PREFIX.checked_add(bound)?];
    out.get_mut(..LEN_PREFIX)?
        .copy_from_slice(&original_len.to_be_bytes());
    let written = lz4_flex::block::compress_into(body, out.get_mut(LEN_PREFIX..)?).ok()?;
    let total = LEN_PREFIX.checked_add(written)?;
    if total >= body.len() {
        return None;
    }
    out.truncate(total);
    Some(out)
}

/// Undo [`maybe_compress`]: check the length prefix against the limit and
/// decompress into exactly that many bytes.
pub(crate) fn decompress(body: &[u8]) -> Result<Vec<u8>, OpenError> {
    let (prefix, block) = body
        .split_first_chunk::<LEN_PREFIX>()
        .ok_or(OpenError::BadCompression)?;
    let original_len =
        usize::try_from(u32::from_be_bytes(*prefix)).map_err(|_| OpenError::BadCompression)?;
    if original_len == 0
        || original_len > MAX_PLAINTEXT_LEN
        || original_len > block.len().saturating_mul(MAX_EXPANSION)
    {
        return Err(OpenError::BadCompression);
    }
    let mut out = vec![0u8; original_len];
    let written =
        lz4_flex::block::decompress_into(block, &mut out).map_err(|_| OpenError::BadCompression)?;
    if written != original_len {
        return Err(OpenError::BadCompression);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_compressible_body() {
        let body = b"the quick brown fox ".repeat(50);
        let packed = maybe_compress(&body, Compression::IfSmaller).unwrap();
        assert!(packed.len() < body.len());
        assert_eq!(decompress(&packed).unwrap(), body);
    }

    #[test]
    fn never_means_never_and_small_or_random_bodies_stay_raw() {
        let body = b"aaaa".repeat(100);
        assert!(maybe_compress(&body, Compression::Never).is_none());
        assert!(maybe_compress(b"short", Compression::IfSmaller).is_none());
        let mut noise = vec![0u8; 4096];
        crate::random::fill("test", &mut noise).unwrap();
        assert!(maybe_compress(&noise, Compression::IfSmaller).is_none());
    }

    #[test]
    fn highly_repetitive_bodies_stay_within_the_expansion_bound() {
        let body = vec![0u8; MAX_PLAINTEXT_LEN];
        let packed = maybe_compress(&body, Compression::IfSmaller).unwrap();
        assert!(packed.len() * MAX_EXPANSION >= body.len());
        assert_eq!(decompress(&packed).unwrap(), body);
    }

    #[test]
    fn lying_length_prefix_is_refused() {
        let body = b"abcdefgh".repeat(40);
        let mut packed = maybe_compress(&body, Compression::IfSmaller).unwrap();
        let claimed = u32::try_from(body.len() + 1).unwrap();
        packed[..4].copy_from_slice(&claimed.to_be_bytes());
        assert_eq!(decompress(&packed), Err(OpenError::BadCompression));
        packed[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decompress(&packed), Err(OpenError::BadCompression));
        assert_eq!(decompress(&[0, 0]), Err(OpenError::BadCompression));
        assert_eq!(decompress(&[0, 0, 0, 0]), Err(OpenError::BadCompression));
    }
}
