//! Screen messages larger than one `Screen` message's piece limit travel
//! in pieces; the receiver joins them, in the sender's reliable order.

use fernhand_protocol::message::{MAX_SCREEN_PIECE, Message};

/// Largest screen message put back together (a lossless 8K keyframe fits).
pub const MAX_SCREEN_MESSAGE: usize = 128 * 1024 * 1024;

/// The `Screen` messages that carry `bytes`.
pub fn split(bytes: &[u8]) -> Vec<Message> {
    let count = bytes.len().div_ceil(MAX_SCREEN_PIECE).max(1);
    bytes
        .chunks(MAX_SCREEN_PIECE)
        .enumerate()
        .map(|(i, piece)| Message::Screen {
            last: i + 1 == count,
            data: piece.to_vec(),
        })
        .collect()
}

/// Joins pieces from one sender.
#[derive(Debug)]
pub struct Joiner {
    held: Vec<u8>,
    overflow: bool,
    limit: usize,
}

impl Default for Joiner {
    fn default() -> Self {
        Joiner::with_limit(MAX_SCREEN_MESSAGE)
    }
}

impl Joiner {
    /// A joiner that drops messages over `limit` bytes.
    pub fn with_limit(limit: usize) -> Joiner {
        Joiner {
            held: Vec::new(),
            overflow: false,
            limit,
        }
    }

    /// Take a piece; returns a whole screen message when `last`. A message
    /// over the limit is dropped whole (`Err` with the limit).
    pub fn push(&mut self, last: bool, data: &[u8]) -> Result<Option<Vec<u8>>, usize> {
        if !self.overflow && self.held.len() + data.len() <= self.limit {
            self.held.extend_from_slice(data);
        } else {
            self.overflow = true;
            self.held.clear();
        }
        if !last {
            return Ok(None);
        }
        let whole = std::mem::take(&mut self.held);
        if std::mem::take(&mut self.overflow) {
            return Err(self.limit);
        }
        Ok(Some(whole))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::cast_possible_truncation)]
    use super::*;

    #[test]
    fn pieces_join_back_to_the_message() {
        let bytes: Vec<u8> = (0..(2 * MAX_SCREEN_PIECE + 5))
            .map(|i| (i % 251) as u8)
            .collect();
        let pieces = split(&bytes);
        assert_eq!(pieces.len(), 3);
        let mut joiner = Joiner::default();
        let mut out = None;
        for p in pieces {
            let Message::Screen { last, data } = p else {
                panic!()
            };
            assert!(data.len() <= MAX_SCREEN_PIECE);
            out = joiner.push(last, &data).unwrap();
        }
        assert_eq!(out.unwrap(), bytes);
        assert_eq!(split(b"x").len(), 1);
        let mut small = Joiner::with_limit(4);
        assert_eq!(small.push(false, b"abc"), Ok(None));
        assert_eq!(
            small.push(true, b"de"),
            Err(4),
            "over the limit: dropped whole"
        );
        assert_eq!(small.push(true, b"ok"), Ok(Some(b"ok".to_vec())));
    }
}
