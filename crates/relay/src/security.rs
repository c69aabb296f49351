//! The relay's security log: every refusal (bad, forged, expired or foreign
//! ticket; wrong identity; limits hit) is an event, written to the
//! `fernhand::security` tracing target and kept in a short in-memory ring.
//!
//! Rate-limited per reason with a token bucket, so a flood cannot fill the
//! disk: past the limit, events are counted and the count is reported with
//! the next event that gets through. Events written also wait in a bounded
//! outbox until the broker link forwards them to the control plane's
//! security log.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// One security event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityEvent {
    /// Stable reason name (e.g. `bad_ticket`).
    pub reason: &'static str,
    /// Remote address, when known.
    pub peer: Option<IpAddr>,
    /// Detail without secrets.
    pub detail: String,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    suppressed: u64,
}

struct Inner {
    buckets: HashMap<&'static str, Bucket>,
    recent: VecDeque<SecurityEvent>,
    outbox: VecDeque<SecurityEvent>,
}

/// Rate-limited security log.
pub struct SecurityLog {
    per_second: f64,
    burst: f64,
    keep: usize,
    inner: Mutex<Inner>,
}

impl Default for SecurityLog {
    fn default() -> Self {
        SecurityLog::new(5.0, 50.0, 256)
    }
}

impl SecurityLog {
    /// A log letting through `per_second` events per reason (bursts of
    /// `burst`), remembering the last `keep`.
    pub fn new(per_second: f64, burst: f64, keep: usize) -> SecurityLog {
        SecurityLog {
            per_second,
            burst,
            keep,
            inner: Mutex::new(Inner {
                buckets: HashMap::new(),
                recent: VecDeque::new(),
                outbox: VecDeque::new(),
            }),
        }
    }

    /// Record an event; returns whether it was written (not rate-limited).
    pub fn record(&self, event: SecurityEvent) -> bool {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = inner.buckets.entry(event.reason).or_insert(Bucket {
            tokens: self.burst,
            last: now,
            suppressed: 0,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.last = now;
        if bucket.tokens < 1.0 {
            bucket.suppressed = bucket.suppressed.saturating_add(1);
            return false;
        }
        bucket.tokens -= 1.0;
        let suppressed = std::mem::take(&mut bucket.suppressed);
        tracing::warn!(
            target: "fernhand::security",
            reason = event.reason,
            peer = ?event.peer,
            suppressed,
            "{}",
            event.detail
        );
        inner.recent.push_back(event.clone());
        while inner.recent.len() > self.keep {
            inner.recent.pop_front();
        }
        inner.outbox.push_back(event);
        while inner.outbox.len() > self.keep {
            inner.outbox.pop_front();
        }
        true
    }

    /// Events written since the last call, oldest first, for forwarding
    /// (at most `keep` wait; older ones are dropped from the outbox only).
    pub fn take_unforwarded(&self) -> Vec<SecurityEvent> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.outbox.drain(..).collect()
    }

    /// The most recent events written, oldest first.
    pub fn recent(&self) -> Vec<SecurityEvent> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.recent.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_events_wait_for_forwarding_once() {
        let log = SecurityLog::new(1000.0, 1000.0, 2);
        for reason in ["a", "b", "c"] {
            assert!(log.record(event(reason)));
        }
        let reasons: Vec<_> = log.take_unforwarded().iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["b", "c"]);
        assert!(log.take_unforwarded().is_empty());
    }

    fn event(reason: &'static str) -> SecurityEvent {
        SecurityEvent {
            reason,
            peer: None,
            detail: "x".into(),
        }
    }

    #[test]
    fn a_flood_is_cut_to_the_burst_per_reason() {
        let log = SecurityLog::new(0.001, 10.0, 1000);
        let written = (0..1000)
            .filter(|_| log.record(event("bad_ticket")))
            .count();
        assert_eq!(written, 10);
        // Another reason has its own bucket.
        assert!(log.record(event("expired_ticket")));
        assert_eq!(log.recent().len(), 11);
    }

    #[test]
    fn the_ring_keeps_only_the_latest() {
        let log = SecurityLog::new(1000.0, 1000.0, 3);
        for _ in 0..10 {
            log.record(event("bad_ticket"));
        }
        assert_eq!(log.recent().len(), 3);
    }
}
