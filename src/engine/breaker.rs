//! A per-endpoint circuit breaker, and (re-exported from `clock`) the
//! [`Backoff`] every retry of an external call pauses by.
//!
//! [`Breaker`] keeps a dead server from being hammered. It is a small state
//! machine, driven by the injected [`Clock`](crate::clock::Clock):
//!
//! ```text
//!   closed ── threshold consecutive failures ──► open (until now + cool-down)
//!     ▲                                            │ cool-down over
//!     │ the trial call succeeds                     ▼
//!     └──────────────────────────────────────── half-open: one trial call
//!                                                  │ the trial fails
//!                                                  └─► open again, cool-down doubled (capped)
//! ```
//!
//! While open, [`Breaker::admit`] refuses calls without touching the network;
//! in half-open exactly one caller is admitted until it reports back. The
//! cool-down is jittered (±20 %). A clock that jumps back while the breaker is
//! open does not keep it open longer than one cool-down from the jump.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// The pause schedule of filing retries and watcher reconnects; it lives in
/// `clock` so the channels and the digest share it.
pub use crate::clock::Backoff;

/// Consecutive failures that open a breaker.
pub const DEFAULT_THRESHOLD: u32 = 5;
/// The first cool-down of an open breaker.
pub const DEFAULT_COOL_DOWN: Duration = Duration::from_secs(30);
/// The longest cool-down, however often the trial call fails.
pub const MAX_COOL_DOWN: Duration = Duration::from_secs(600);

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive ones have failed.
    Closed { failures: u32 },
    /// Calls are refused until `until`.
    Open { until: Timestamp, since: Timestamp },
    /// One trial call is under way (`trial = true`) or may start.
    HalfOpen { trial: bool },
}

/// The answer to "may I call the endpoint now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead; report the result with [`Breaker::success`] or [`Breaker::failure`].
    Go,
    /// Do not call; the breaker is open until `until` (or a trial is under way).
    Refused { until: Option<Timestamp> },
}

/// A circuit breaker for one endpoint; see the module doc.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: BreakerState,
    threshold: u32,
    base: Duration,
    max: Duration,
    /// The cool-down the next opening uses (doubles on failed trials).
    cool_down: Duration,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::new(DEFAULT_THRESHOLD, DEFAULT_COOL_DOWN, MAX_COOL_DOWN)
    }
}

impl Breaker {
    /// Opens after `threshold` consecutive failures (at least one), for
    /// `cool_down`, doubling up to `max` while trial calls fail.
    pub fn new(threshold: u32, cool_down: Duration, max: Duration) -> Self {
        Breaker {
            state: BreakerState::Closed { failures: 0 },
            threshold: threshold.max(1),
            base: cool_down,
            max: max.max(cool_down),
            cool_down,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go to the endpoint at `now`.
    pub fn admit(&mut self, now: Timestamp) -> Admission {
        match self.state {
            BreakerState::Closed { .. } => Admission::Go,
            BreakerState::Open { until, since } => {
                // A clock stepped back to before the opening: count the
                // cool-down from the new "now" instead of waiting out the jump.
                if now < since {
                    let cool = SignedDuration::try_from(self.cool_down).unwrap_or_default();
                    let until = now.saturating_add(cool).unwrap_or(now);
                    self.state = BreakerState::Open { until, since: now };
                    return Admission::Refused { until: Some(until) };
                }
                if now >= until {
                    self.state = BreakerState::HalfOpen { trial: true };
                    Admission::Go
                } else {
                    Admission::Refused { until: Some(until) }
                }
            }
            BreakerState::HalfOpen { trial: false } => {
                self.state = BreakerState::HalfOpen { trial: true };
                Admission::Go
            }
            BreakerState::HalfOpen { trial: true } => Admission::Refused { until: None },
        }
    }

    /// The call succeeded: close, forget failures and the grown cool-down.
    pub fn success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
        self.cool_down = self.base;
    }

    /// The call failed at `now`. Returns `true` if this opened the breaker.
    pub fn failure(&mut self, now: Timestamp, rng: &mut fastrand::Rng) -> bool {
        match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.threshold {
                    self.open(now, rng);
                    true
                } else {
                    self.state = BreakerState::Closed { failures };
                    false
                }
            }
            BreakerState::HalfOpen { .. } => {
                self.cool_down = self.cool_down.saturating_mul(2).min(self.max);
                self.open(now, rng);
                true
            }
            // A call admitted before the breaker opened reports late: it
            // changes nothing.
            BreakerState::Open { .. } => false,
        }
    }

    /// Trial calls that never report (a cancelled future) must not wedge the
    /// breaker: the next caller may try again.
    pub fn abandon_trial(&mut self) {
        if self.state == (BreakerState::HalfOpen { trial: true }) {
            self.state = BreakerState::HalfOpen { trial: false };
        }
    }

    fn open(&mut self, now: Timestamp, rng: &mut fastrand::Rng) {
        // ±20 % jitter, so endpoints that died together are not retried together.
        let ms = u64::try_from(self.cool_down.as_millis()).unwrap_or(u64::MAX);
        let spread = ms / 5;
        let jittered = ms
            .saturating_sub(spread)
            .saturating_add(rng.u64(0..=spread.saturating_mul(2)));
        let cool = SignedDuration::from_millis(i64::try_from(jittered).unwrap_or(i64::MAX));
        let until = now.saturating_add(cool).unwrap_or(now);
        self.state = BreakerState::Open { until, since: now };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn opens_after_the_threshold_and_refuses_without_calling() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut b = Breaker::new(3, Duration::from_secs(30), Duration::from_secs(600));
        let t = ts("2026-11-02T12:00:00Z");
        assert_eq!(b.admit(t), Admission::Go);
        assert!(!b.failure(t, &mut rng));
        assert!(!b.failure(t, &mut rng));
        assert!(b.failure(t, &mut rng), "the third failure opens it");
        match b.admit(t + SignedDuration::from_secs(10)) {
            Admission::Refused { until: Some(u) } => {
                let secs = u.duration_since(t).as_secs();
                assert!((24..=36).contains(&secs), "30 s ± 20 %: {secs}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let mut rng = fastrand::Rng::with_seed(2);
        let mut b = Breaker::new(2, Duration::from_secs(30), Duration::from_secs(600));
        let t = ts("2026-11-02T12:00:00Z");
        b.failure(t, &mut rng);
        b.success();
        assert!(!b.failure(t, &mut rng));
        assert_eq!(b.state(), BreakerState::Closed { failures: 1 });
    }

    #[test]
    fn half_open_admits_one_trial_and_a_failed_trial_doubles_the_cool_down() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut b = Breaker::new(1, Duration::from_secs(30), Duration::from_secs(100));
        let t = ts("2026-11-02T12:00:00Z");
        b.failure(t, &mut rng);
        let later = t + SignedDuration::from_secs(40);
        assert_eq!(b.admit(later), Admission::Go, "the trial");
        assert_eq!(
            b.admit(later),
            Admission::Refused { until: None },
            "only one trial at a time"
        );
        assert!(b.failure(later, &mut rng));
        let BreakerState::Open { until, .. } = b.state() else {
            panic!("open again: {:?}", b.state());
        };
        let secs = until.duration_since(later).as_secs();
        assert!((48..=72).contains(&secs), "60 s ± 20 %: {secs}");
        // Doubling stops at the maximum.
        let mut now = until;
        for _ in 0..5 {
            assert_eq!(b.admit(now), Admission::Go);
            b.failure(now, &mut rng);
            let BreakerState::Open { until, .. } = b.state() else {
                panic!()
            };
            assert!(until.duration_since(now).as_secs() <= 120);
            now = until;
        }
        assert_eq!(b.admit(now), Admission::Go);
        b.success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn an_abandoned_trial_does_not_wedge_the_breaker() {
        let mut rng = fastrand::Rng::with_seed(4);
        let mut b = Breaker::new(1, Duration::from_secs(1), Duration::from_secs(1));
        let t = ts("2026-11-02T12:00:00Z");
        b.failure(t, &mut rng);
        let later = t + SignedDuration::from_secs(5);
        assert_eq!(b.admit(later), Admission::Go);
        b.abandon_trial();
        assert_eq!(b.admit(later), Admission::Go);
    }

    #[test]
    fn a_clock_jumping_back_does_not_keep_it_open_for_the_jump() {
        let mut rng = fastrand::Rng::with_seed(5);
        let mut b = Breaker::new(1, Duration::from_secs(30), Duration::from_secs(30));
        let t = ts("2026-11-02T12:00:00Z");
        b.failure(t, &mut rng);
        let back = t - SignedDuration::from_hours(5);
        assert!(matches!(b.admit(back), Admission::Refused { .. }));
        assert_eq!(b.admit(back + SignedDuration::from_secs(37)), Admission::Go);
    }
}
