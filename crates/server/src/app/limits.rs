//! Abuse limits: per-address rate limits on sign-in, join and enrolment
//! (token buckets, `governor`), and the account lockout schedule.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Failed sign-ins before an account locks.
pub const LOCK_AFTER: i64 = 5;

/// Seconds an account stays locked after `failures` consecutive failures:
/// 0 below the threshold, then 1, 2, 4 … minutes, at most an hour.
pub fn lock_seconds(failures: i64) -> i64 {
    if failures < LOCK_AFTER {
        return 0;
    }
    let doublings = u32::try_from((failures - LOCK_AFTER).min(6)).unwrap_or(6);
    (60i64 << doublings).min(3600)
}

/// Per-address limiters.
pub struct Limiters {
    login: DefaultKeyedRateLimiter<IpAddr>,
    join: DefaultKeyedRateLimiter<IpAddr>,
    enrol: DefaultKeyedRateLimiter<IpAddr>,
}

/// Requests per minute and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitConfig {
    /// Sign-in attempts.
    pub login: u32,
    /// Join lookups.
    pub join: u32,
    /// Device enrolments.
    pub enrol: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            login: 10,
            join: 30,
            enrol: 30,
        }
    }
}

impl Limiters {
    /// Limiters allowing `config` per minute and address.
    pub fn new(config: LimitConfig) -> Limiters {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Limiters {
            login: RateLimiter::keyed(quota(config.login)),
            join: RateLimiter::keyed(quota(config.join)),
            enrol: RateLimiter::keyed(quota(config.enrol)),
        }
    }

    /// May `ip` enrol a device now?
    pub fn enrol(&self, ip: IpAddr) -> bool {
        self.enrol.check_key(&ip).is_ok()
    }

    /// May `ip` try to sign in now?
    pub fn login(&self, ip: IpAddr) -> bool {
        self.login.check_key(&ip).is_ok()
    }

    /// May `ip` look up a join locator now?
    pub fn join(&self, ip: IpAddr) -> bool {
        self.join.check_key(&ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_backs_off_and_is_capped() {
        assert_eq!(lock_seconds(4), 0);
        assert_eq!(lock_seconds(5), 60);
        assert_eq!(lock_seconds(6), 120);
        assert_eq!(lock_seconds(100), 3600);
    }

    #[test]
    fn limits_are_per_address() {
        let l = Limiters::new(LimitConfig {
            login: 3,
            join: 3,
            enrol: 3,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| l.login(a)));
        assert!(!l.login(a));
        assert!(l.login(b));
    }
}
