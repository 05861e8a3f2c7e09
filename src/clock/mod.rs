//! The wall clock, injected.
//!
//! Everything that needs "now" for schedules, business hours, filing times and
//! expiry asks a [`Clock`] instead of calling `Timestamp::now()`, so that tests
//! and the demo can run weeks of simulated time in seconds. Sleeping and
//! timeouts use tokio's monotonic clock; this trait is only about the calendar.

mod backoff;

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

pub use backoff::{Backoff, Jitter};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The host's real clock (`CLOCK_REALTIME`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: for tests and the simulated demo.
#[derive(Debug, Clone)]
pub struct ManualClock {
    /// Shared so that a test can hold one handle and the engine another. A std
    /// mutex is right here: it is never held across an `.await`.
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the clock to `to` (it may move backwards, as a real clock can after an NTP step).
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-03-08T06:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(
            clock.now(),
            "2026-03-08T06:01:30Z".parse::<Timestamp>().unwrap()
        );
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
