//! Identifiers and clock.

use crate::StoreError;
use std::time::{SystemTime, UNIX_EPOCH};

/// A new random id: 16 bytes from the OS CSPRNG, as 32 hex digits.
pub fn new_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| StoreError::Entropy)?;
    Ok(hex::encode(bytes))
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
