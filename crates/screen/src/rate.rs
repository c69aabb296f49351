//! Pacing and quality from a bandwidth target and the viewer's
//! acknowledgements (sans-IO: the caller passes the time).
//!
//! The host sends an update only while few enough are unacknowledged, so a
//! slow link never fills with stale pictures: captures taken meanwhile are
//! folded into the next update instead of queued. JPEG quality follows the
//! measured send rate: down when over the target, back up when well under.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Rate-control settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RateConfig {
    /// Bytes per second the stream should stay under.
    pub target_bytes_per_second: u64,
    /// Updates that may be unacknowledged at once.
    pub max_in_flight: usize,
    /// Lowest JPEG quality.
    pub min_quality: u8,
    /// Highest JPEG quality.
    pub max_quality: u8,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            target_bytes_per_second: 2_000_000,
            max_in_flight: 2,
            min_quality: 25,
            max_quality: 85,
        }
    }
}

/// Tracks updates in flight and the recent send rate.
#[derive(Debug)]
pub struct RateControl {
    config: RateConfig,
    quality: u8,
    in_flight: VecDeque<(u32, Instant)>,
    sent: VecDeque<(Instant, u64)>,
    round_trip: Option<Duration>,
}

const WINDOW: Duration = Duration::from_secs(1);

impl RateControl {
    /// A controller starting at `quality`.
    pub fn new(config: RateConfig, quality: u8) -> RateControl {
        let quality = quality.clamp(config.min_quality, config.max_quality);
        RateControl {
            config,
            quality,
            in_flight: VecDeque::new(),
            sent: VecDeque::new(),
            round_trip: None,
        }
    }

    /// Whether an update may go now.
    pub fn may_send(&self) -> bool {
        self.in_flight.len() < self.config.max_in_flight.max(1)
    }

    /// The JPEG quality to use next.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// The last measured round trip (send to acknowledgement).
    pub fn round_trip(&self) -> Option<Duration> {
        self.round_trip
    }

    /// Bytes sent in the last second.
    pub fn rate(&self, now: Instant) -> u64 {
        self.sent
            .iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) <= WINDOW)
            .map(|(_, b)| b)
            .sum()
    }

    /// Update `seq` of `bytes` bytes went out at `now`.
    pub fn sent(&mut self, seq: u32, bytes: usize, now: Instant) {
        self.in_flight.push_back((seq, now));
        self.sent
            .push_back((now, u64::try_from(bytes).unwrap_or(u64::MAX)));
        while self
            .sent
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > WINDOW)
        {
            self.sent.pop_front();
        }
        let rate = self.rate(now);
        let target = self.config.target_bytes_per_second.max(1);
        if rate > target {
            self.quality = self.quality.saturating_sub(10).max(self.config.min_quality);
        } else if rate < target / 2 {
            self.quality = (self.quality + 5).min(self.config.max_quality);
        }
    }

    /// The viewer showed `seq` (and so every update before it).
    pub fn acked(&mut self, seq: u32, now: Instant) {
        while let Some(&(s, at)) = self.in_flight.front() {
            // Sequence numbers wrap; "at or before seq" within half the space.
            if seq.wrapping_sub(s) < u32::MAX / 2 {
                self.in_flight.pop_front();
                if s == seq {
                    self.round_trip = Some(now.saturating_duration_since(at));
                }
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unacknowledged_updates_hold_the_next_and_acks_release_it() {
        let mut r = RateControl::new(RateConfig::default(), 75);
        let t = Instant::now();
        assert!(r.may_send());
        r.sent(1, 1000, t);
        r.sent(2, 1000, t);
        assert!(!r.may_send(), "two in flight");
        r.acked(1, t + Duration::from_millis(30));
        assert!(r.may_send());
        assert_eq!(r.round_trip(), Some(Duration::from_millis(30)));
        r.acked(2, t + Duration::from_millis(40));
        assert!(r.may_send());
    }

    #[test]
    fn quality_drops_over_the_target_and_recovers_under_it() {
        let config = RateConfig {
            target_bytes_per_second: 100_000,
            max_in_flight: 100,
            ..RateConfig::default()
        };
        let mut r = RateControl::new(config, 75);
        let t = Instant::now();
        for i in 0..10 {
            r.sent(i, 50_000, t + Duration::from_millis(u64::from(i) * 10));
        }
        assert_eq!(r.quality(), 25);
        let later = t + Duration::from_secs(5);
        for i in 10..20 {
            r.sent(i, 100, later + Duration::from_millis(u64::from(i)));
        }
        assert!(r.quality() > 60, "{}", r.quality());
    }
}
