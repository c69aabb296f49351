//! A bounds-checked reader for the crate's binary messages.
//!
//! Every parser reads through [`Reader`], which never indexes out of range and
//! names the field that was missing when input ends early.

use crate::error::MessageError;
use crate::suite::Suite;

/// Reads fields front to back from a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// The next `len` bytes.
    pub(crate) fn take(
        &mut self,
        field: &'static str,
        len: usize,
    ) -> Result<&'a [u8], MessageError> {
        if self.rest.len() < len {
            return Err(MessageError::Truncated {
                field,
                needed: len.saturating_sub(self.rest.len()),
            });
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], MessageError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, MessageError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, MessageError> {
        Ok(u32::from_be_bytes(self.array::<4>(field)?))
    }

    /// A one-byte length followed by that many bytes, length within `min..=max`.
    pub(crate) fn short_vec(
        &mut self,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], MessageError> {
        let len = usize::from(self.u8(field)?);
        if len < min || len > max {
            return Err(MessageError::BadLength {
                field,
                len,
                min,
                max,
            });
        }
        self.take(field, len)
    }

    /// A suite identifier we know.
    pub(crate) fn suite(&mut self, field: &'static str) -> Result<Suite, MessageError> {
        let id = self.u8(field)?;
        Suite::from_id(id).ok_or(MessageError::UnknownSuite(id))
    }

    /// The message type byte, which must be `expected`.
    pub(crate) fn expect_type(&mut self, expected: u8) -> Result<(), MessageError> {
        let got = self.u8("message type")?;
        if got != expected {
            return Err(MessageError::UnexpectedType { expected, got });
        }
        Ok(())
    }

    /// Succeeds only if every byte has been read.
    pub(crate) fn finish(self) -> Result<(), MessageError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(MessageError::TrailingBytes {
                count: self.rest.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_names_missing_fields_and_leftovers() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(
            r.u32("b"),
            Err(MessageError::Truncated {
                field: "b",
                needed: 2
            })
        );
        let mut r = Reader::new(&[2, 9, 9, 7]);
        assert_eq!(r.short_vec("v", 1, 4).unwrap(), &[9, 9]);
        assert_eq!(r.finish(), Err(MessageError::TrailingBytes { count: 1 }));
        let mut r = Reader::new(&[5, 0]);
        assert!(matches!(
            r.short_vec("v", 1, 4),
            Err(MessageError::BadLength { len: 5, .. })
        ));
    }
}
