//! Test fixtures: a seeded, recorded random source (feature `deterministic-rng`).
//!
//! Product builds never compile this module. Tests run a closure under
//! [`with_seed`]; every random draw the crate makes on that thread inside the
//! closure comes from a deterministic stream and is recorded with its purpose,
//! so a golden transcript can list the values and another implementation can
//! replay them in order.
//!
//! The stream is SHA-256 in counter mode over the seed. It is a fixture, not a
//! random number generator for anything real.

use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// One random draw made while a seed was installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw {
    /// What the bytes were for (e.g. `"srp client ephemeral"`).
    pub label: &'static str,
    /// The bytes handed out.
    pub bytes: Vec<u8>,
}

struct Seeded {
    seed: u64,
    counter: u64,
    draws: Vec<Draw>,
}

thread_local! {
    static SEEDED: RefCell<Option<Seeded>> = const { RefCell::new(None) };
}

/// Run `f` with a deterministic random source seeded by `seed`; return its
/// result and every draw it made, in order. Nested calls replace the outer
/// seed for their duration.
pub fn with_seed<T>(seed: u64, f: impl FnOnce() -> T) -> (T, Vec<Draw>) {
    let outer = SEEDED.with(|cell| {
        cell.borrow_mut().replace(Seeded {
            seed,
            counter: 0,
            draws: Vec::new(),
        })
    });
    let result = f();
    let draws = SEEDED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let inner = slot.take().map(|s| s.draws).unwrap_or_default();
        *slot = outer;
        inner
    });
    (result, draws)
}

/// Fill `buf` from the installed seed, if any. Returns false when no seed is
/// installed on this thread (the caller then uses the OS).
pub(crate) fn fill_if_seeded(label: &'static str, buf: &mut [u8]) -> bool {
    SEEDED.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(seeded) = slot.as_mut() else {
            return false;
        };
        for chunk in buf.chunks_mut(32) {
            let mut hasher = Sha256::new();
            hasher.update(seeded.seed.to_be_bytes());
            hasher.update(seeded.counter.to_be_bytes());
            seeded.counter = seeded.counter.wrapping_add(1);
            let block = hasher.finalize();
            for (out, byte) in chunk.iter_mut().zip(block.iter()) {
                *out = *byte;
            }
        }
        seeded.draws.push(Draw {
            label,
            bytes: buf.to_vec(),
        });
        true
    })
}

/// Decompress a packet body exactly as [`crate::Member::open`] does after the
/// tag has verified; exposed so fuzzing can reach it without forging tags.
pub fn decompress_body(body: &[u8]) -> Result<Vec<u8>, crate::OpenError> {
    crate::compress::decompress(body)
}

/// The member secret a handshake produced, so golden transcripts can show
/// intermediate values to another implementation being debugged against them.
pub fn established_secret(handshake: &crate::Established) -> [u8; 32] {
    *handshake.member_secret().as_bytes()
}
