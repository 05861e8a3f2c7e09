//! The one pause schedule for every retry of an external call: exponential
//! from a first pause, capped, with the jitter the caller asks for.
//!
//! Three callers share it: the engine's filing retries and the watchers'
//! reconnects ([`Jitter::Equal`], so several personas failing together do
//! not retry in lock step), the HTTP client's retries within one call
//! ([`Jitter::UpToHalfMore`]) and the weekly digest's re-sends
//! ([`Jitter::None`]: one task, nothing to spread).

use std::time::Duration;

/// How a pause is spread around its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the step.
    None,
    /// "Equal jitter": half the step fixed, the other half drawn at random
    /// (whole milliseconds), so a pause lies in `[step / 2, step]`.
    Equal,
    /// The step plus up to half of it again, in `[step, 1.5 × step)`.
    UpToHalfMore,
}

/// An exponential pause schedule: the `n`-th pause (from 0) is drawn around
/// the step `min(base × 2ⁿ, max)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter: Jitter,
    /// How many pauses [`Backoff::next`] has drawn since the last reset.
    attempt: u32,
}

impl Backoff {
    /// Pauses start at `base` and double up to `max`, with equal jitter.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff::with_jitter(base, max, Jitter::Equal)
    }

    /// Pauses start at `base` and double up to `max` (at least `base`),
    /// spread by `jitter`.
    pub fn with_jitter(base: Duration, max: Duration, jitter: Jitter) -> Self {
        Backoff {
            base,
            max: max.max(base),
            jitter,
            attempt: 0,
        }
    }

    /// The next pause, drawn from `rng`; the step then doubles (up to the
    /// maximum).
    pub fn next(&mut self, rng: &mut fastrand::Rng) -> Duration {
        let pause = self.pause(self.attempt, rng);
        self.attempt = self.attempt.saturating_add(1);
        pause
    }

    /// The pause before retry number `attempt` (from 0), drawn from `rng`,
    /// for callers that count their attempts themselves.
    pub fn pause(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let step = self.step_at(attempt);
        match self.jitter {
            Jitter::None => step,
            Jitter::Equal => {
                let half = step / 2;
                let spread = u64::try_from((step - half).as_millis()).unwrap_or(u64::MAX);
                half + Duration::from_millis(rng.u64(0..=spread))
            }
            Jitter::UpToHalfMore => step + step.mul_f64(rng.f64() * 0.5),
        }
    }

    /// Back to the first step, after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The undrawn current step (for log lines).
    pub fn step(&self) -> Duration {
        self.step_at(self.attempt)
    }

    /// `min(base × 2^attempt, max)`, saturating.
    fn step_at(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt);
        self.base.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_maximum() {
        let mut rng = fastrand::Rng::with_seed(6);
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let mut steps = Vec::new();
        for _ in 0..6 {
            let d = b.next(&mut rng);
            steps.push(d);
        }
        let bounds = [1, 2, 4, 8, 8, 8];
        for (d, hi) in steps.iter().zip(bounds) {
            let hi = Duration::from_secs(hi);
            assert!(
                *d >= hi / 2 && *d <= hi,
                "{d:?} not in [{:?}, {hi:?}]",
                hi / 2
            );
        }
        // Jitter: not all draws land on the same point of their range.
        assert!(steps[3..].windows(2).any(|w| w[0] != w[1]), "{steps:?}");
        b.reset();
        assert_eq!(b.step(), Duration::from_secs(1));
    }

    #[test]
    fn without_jitter_the_pauses_are_the_steps() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut b = Backoff::with_jitter(
            Duration::from_secs(60),
            Duration::from_secs(30 * 60),
            Jitter::None,
        );
        let pauses: Vec<u64> = (0..7).map(|_| b.next(&mut rng).as_secs()).collect();
        assert_eq!(pauses, [60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(b.step(), Duration::from_secs(1800));
        b.reset();
        assert_eq!(b.step(), Duration::from_secs(60));
    }

    #[test]
    fn up_to_half_more_lies_between_the_step_and_half_again() {
        let mut rng = fastrand::Rng::with_seed(3);
        let b = Backoff::with_jitter(
            Duration::from_secs(1),
            Duration::from_secs(60),
            Jitter::UpToHalfMore,
        );
        for (attempt, step) in [(0, 1), (1, 2), (5, 32), (6, 60), (40, 60)] {
            let step = Duration::from_secs(step);
            let d = b.pause(attempt, &mut rng);
            assert!(d >= step && d < step.mul_f64(1.5), "{attempt}: {d:?}");
        }
    }

    #[test]
    fn huge_attempts_saturate_at_the_maximum() {
        let mut rng = fastrand::Rng::with_seed(0);
        let day = Duration::from_secs(86_400);
        let b = Backoff::with_jitter(Duration::from_millis(20), day, Jitter::None);
        assert_eq!(b.pause(u32::MAX, &mut rng), day);
        let b = Backoff::with_jitter(
            Duration::from_secs(u64::MAX / 2),
            Duration::MAX,
            Jitter::None,
        );
        assert_eq!(b.pause(u32::MAX, &mut rng), Duration::MAX);
    }
}
