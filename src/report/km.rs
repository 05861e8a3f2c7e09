//! The Kaplan–Meier estimator of time to first human reply.
//!
//! An unanswered or still-pending probe is a *censored* observation: the
//! vendor took longer than the time we watched, not "forever" and not
//! "never mind". Quantiles come from the Kaplan–Meier survival curve over
//! answered and censored probes together. When the curve never falls far
//! enough to reach a quantile, the estimate is "more than" the longest time
//! watched ([`Estimate::MoreThan`]) instead of a number taken from the
//! answered probes alone, which would flatter a vendor that ignores hard
//! tickets.
//!
//! Ties: answers at a time count before censorings at the same time (the
//! usual convention: a probe censored at `t` was still at risk at `t`).

use jiff::SignedDuration;
use serde::Serialize;

/// One observation: seconds to first human reply, or censored at seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Seconds from filing to the reply, or to the censoring instant.
    pub secs: i64,
    /// True for an answer, false for a censored observation.
    pub answered: bool,
}

impl Observation {
    /// An answer after `secs`.
    pub fn answer(secs: i64) -> Self {
        Observation {
            secs,
            answered: true,
        }
    }

    /// Still unanswered after `secs`.
    pub fn censored(secs: i64) -> Self {
        Observation {
            secs,
            answered: false,
        }
    }
}

/// A duration estimate that may be censored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "secs", rename_all = "kebab-case")]
pub enum Estimate {
    /// No observation in the group.
    None,
    /// The estimate, in seconds.
    Exactly(i64),
    /// The curve does not reach the quantile: longer than this many seconds
    /// (the longest time watched).
    MoreThan(i64),
}

impl Estimate {
    /// For tables: `42m 10s`, `> 3d 0h`, `-`.
    pub fn display(&self) -> String {
        match self {
            Estimate::None => "-".into(),
            Estimate::Exactly(s) => crate::duration::human(SignedDuration::from_secs(*s)),
            Estimate::MoreThan(s) => {
                format!(
                    "> {}",
                    crate::duration::human(SignedDuration::from_secs(*s))
                )
            }
        }
    }

    /// The seconds of an exact estimate.
    pub fn exact_secs(&self) -> Option<i64> {
        match self {
            Estimate::Exactly(s) => Some(*s),
            _ => None,
        }
    }
}

/// One step of the survival curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The time of the step, in seconds.
    pub secs: i64,
    /// Probability of no human reply yet, just after `secs`.
    pub survival: f64,
    /// Greenwood's variance sum `Σ d / (n (n - d))` up to `secs`.
    pub greenwood: f64,
}

/// The survival curve: one step per distinct answer time, in time order.
pub fn curve(obs: &[Observation]) -> Vec<Step> {
    let mut sorted = obs.to_vec();
    sorted.sort_by_key(|o| (o.secs, !o.answered));
    let mut at_risk = sorted.len() as f64;
    let mut survival = 1.0f64;
    let mut greenwood = 0.0f64;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].secs;
        let mut events = 0usize;
        let mut leaving = 0usize;
        while i < sorted.len() && sorted[i].secs == t {
            if sorted[i].answered {
                events += 1;
            }
            leaving += 1;
            i += 1;
        }
        if events > 0 {
            let d = events as f64;
            survival *= 1.0 - d / at_risk;
            if at_risk > d {
                greenwood += d / (at_risk * (at_risk - d));
            }
            steps.push(Step {
                secs: t,
                survival,
                greenwood,
            });
        }
        at_risk -= leaving as f64;
    }
    steps
}

/// Slack for comparing survival probabilities computed in floating point.
const EPS: f64 = 1e-9;

/// The `q` quantile (0 < q < 1) of time to first human reply: the first
/// time at which the estimated share answered reaches `q`.
pub fn quantile(obs: &[Observation], q: f64) -> Estimate {
    if obs.is_empty() {
        return Estimate::None;
    }
    curve(obs)
        .iter()
        .find(|s| s.survival <= 1.0 - q + EPS)
        .map_or_else(
            || Estimate::MoreThan(longest(obs)),
            |s| Estimate::Exactly(s.secs),
        )
}

/// The median time to first human reply.
pub fn median(obs: &[Observation]) -> Estimate {
    quantile(obs, 0.5)
}

/// The longest time to first human reply: exact when every probe was
/// answered, else "more than" the longest time watched (a probe still
/// unanswered may take longer than any answered one).
pub fn maximum(obs: &[Observation]) -> Estimate {
    if obs.is_empty() {
        Estimate::None
    } else if obs.iter().all(|o| o.answered) {
        Estimate::Exactly(longest(obs))
    } else {
        Estimate::MoreThan(longest(obs))
    }
}

fn longest(obs: &[Observation]) -> i64 {
    obs.iter().map(|o| o.secs).max().unwrap_or(0)
}

/// An approximate 95 % interval for the median (Brookmeyer–Crowley style
/// with Greenwood's variance and the plain transform): the times at which
/// the lower and the upper band of the survival curve cross one half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    /// The lower end.
    pub low: Estimate,
    /// The upper end; `MoreThan` when the upper band never reaches one half.
    pub high: Estimate,
}

impl Interval {
    /// `12m 0s – 2h 0m`.
    pub fn display(&self) -> String {
        format!("{} – {}", self.low.display(), self.high.display())
    }
}

/// The smallest sample for which an interval is given; below it the
/// report says "n < 5" instead.
pub const MIN_SAMPLE_FOR_INTERVAL: usize = 5;

/// The 95 % interval of the median, or `None` for fewer than
/// [`MIN_SAMPLE_FOR_INTERVAL`] observations.
pub fn median_interval(obs: &[Observation]) -> Option<Interval> {
    if obs.len() < MIN_SAMPLE_FOR_INTERVAL {
        return None;
    }
    let z = 1.96;
    let steps = curve(obs);
    let band = |s: &Step, sign: f64| {
        let se = s.survival * s.greenwood.sqrt();
        (s.survival + sign * z * se).clamp(0.0, 1.0)
    };
    let cross = |sign: f64| {
        steps
            .iter()
            .find(|s| band(s, sign) <= 0.5 + EPS)
            .map_or_else(
                || Estimate::MoreThan(longest(obs)),
                |s| Estimate::Exactly(s.secs),
            )
    };
    // The lower band falls below one half first: that is the low end.
    Some(Interval {
        low: cross(-1.0),
        high: cross(1.0),
    })
}

/// The share answered within `secs` read off the survival curve,
/// `1 − S(secs)`: censored probes count as at risk for as long as they were
/// watched, never as unanswered nor dropped. `None` without observations.
/// The flag is true when `secs` lies beyond the longest time watched while
/// the curve had not reached zero: then the share is only a lower bound
/// (a probe still waiting may yet be answered within `secs`).
pub fn share_within(obs: &[Observation], secs: i64) -> Option<(f64, bool)> {
    if obs.is_empty() {
        return None;
    }
    let survival = curve(obs)
        .iter()
        .take_while(|s| s.secs <= secs)
        .last()
        .map_or(1.0, |s| s.survival);
    let at_least = secs > longest(obs) && survival > EPS;
    Some(((1.0 - survival).max(0.0), at_least))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(secs: i64) -> Observation {
        Observation::answer(secs)
    }
    fn c(secs: i64) -> Observation {
        Observation::censored(secs)
    }

    #[test]
    fn median_of_uncensored_data_is_the_usual_lower_median() {
        assert_eq!(median(&[a(10), a(20), a(30)]), Estimate::Exactly(20));
        assert_eq!(median(&[a(10), a(20), a(30), a(40)]), Estimate::Exactly(20));
        assert_eq!(median(&[]), Estimate::None);
    }

    #[test]
    fn one_sample() {
        assert_eq!(median(&[a(5)]), Estimate::Exactly(5));
        assert_eq!(quantile(&[a(5)], 0.9), Estimate::Exactly(5));
        assert_eq!(maximum(&[a(5)]), Estimate::Exactly(5));
        assert_eq!(median(&[c(7)]), Estimate::MoreThan(7));
        assert_eq!(maximum(&[c(7)]), Estimate::MoreThan(7));
        assert_eq!(median_interval(&[a(5)]), None, "n < 5 gets no interval");
    }

    #[test]
    fn censoring_pushes_quantiles_up_and_p90_says_more_than() {
        // S: 4/5 after 10, 3/5 after 20, 2/5 after 30; two censored at 100.
        let obs = [a(10), a(20), a(30), c(100), c(100)];
        assert_eq!(median(&obs), Estimate::Exactly(30));
        // 1 - S never reaches 0.9: the curve stops at 2/5.
        assert_eq!(quantile(&obs, 0.9), Estimate::MoreThan(100));
        assert_eq!(maximum(&obs), Estimate::MoreThan(100));
    }

    #[test]
    fn all_unanswered_gives_more_than_everywhere() {
        let obs = [c(3600), c(7200), c(7200)];
        assert_eq!(median(&obs), Estimate::MoreThan(7200));
        assert_eq!(quantile(&obs, 0.9), Estimate::MoreThan(7200));
        assert!(curve(&obs).is_empty());
        assert_eq!(share_within(&obs, 3600), Some((0.0, false)));
    }

    #[test]
    fn ties_count_answers_before_censoring() {
        // At 10: one answer among 2 at risk -> S = 0.5 -> median 10.
        assert_eq!(median(&[c(10), a(10)]), Estimate::Exactly(10));
        // Tied answers: at 10 two of four answer -> S = 0.5.
        assert_eq!(median(&[a(10), a(10), a(20), c(30)]), Estimate::Exactly(10));
    }

    #[test]
    fn censoring_before_answers_shrinks_the_risk_set() {
        // c(5) leaves; at 10 one of 3 answers (S=2/3); at 20 one of 2 (S=1/3).
        let obs = [c(5), a(10), a(20), c(30)];
        assert_eq!(median(&obs), Estimate::Exactly(20));
        let steps = curve(&obs);
        assert_eq!(steps.len(), 2);
        assert!((steps[0].survival - 2.0 / 3.0).abs() < 1e-12);
        assert!((steps[1].survival - 1.0 / 3.0).abs() < 1e-12);
        // Greenwood: 1/(3*2) + 1/(2*1) = 2/3.
        assert!((steps[1].greenwood - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn p90_of_ten_answers_is_the_ninth() {
        let obs: Vec<Observation> = (1..=10).map(|i| a(i * 60)).collect();
        assert_eq!(quantile(&obs, 0.9), Estimate::Exactly(540));
        assert_eq!(maximum(&obs), Estimate::Exactly(600));
    }

    #[test]
    fn median_interval_by_hand() {
        // Ten answers at 1..=10 minutes. After the k-th answer S = 1 - k/10,
        // Greenwood sum = k / (10 (10 - k)), se = S * sqrt(sum).
        // Upper band S + 1.96 se first <= 0.5 at k = 8 (0.2 + 1.96*0.2*0.632 = 0.448;
        // at k = 7: 0.3 + 1.96*0.3*0.4830 = 0.584).
        // Lower band S - 1.96 se first <= 0.5 at k = 3 (0.7 - 1.96*0.7*0.2070 = 0.416;
        // at k = 2: 0.8 - 1.96*0.8*0.1581 = 0.552).
        let obs: Vec<Observation> = (1..=10).map(|i| a(i * 60)).collect();
        let ci = median_interval(&obs).unwrap();
        assert_eq!(ci.low, Estimate::Exactly(180));
        assert_eq!(ci.high, Estimate::Exactly(480));
        assert_eq!(median(&obs), Estimate::Exactly(300));
    }

    #[test]
    fn interval_is_open_ended_when_mostly_censored() {
        let obs = [a(60), c(600), c(600), c(600), c(600)];
        let ci = median_interval(&obs).unwrap();
        // At 60: S = 0.8, se = 0.8 * sqrt(1/20) = 0.179, lower band 0.449.
        assert_eq!(ci.low, Estimate::Exactly(60));
        assert_eq!(ci.high, Estimate::MoreThan(600));
    }

    #[test]
    fn shares_within_are_read_off_the_curve_with_censored_probes_at_risk() {
        // Answered at 30 min and 5 h; one pending for 2 h; one unanswered
        // after 72 h. At 1800: 1 of 4 answers, S = 3/4. c(7200) leaves.
        // At 18000: 1 of 2 answers, S = 3/8.
        let obs = [a(1800), a(18000), c(7200), c(259200)];
        let at = |h: i64| share_within(&obs, h * 3600).unwrap();
        assert_eq!(at(1), (0.25, false));
        assert_eq!(at(4), (0.25, false));
        assert_eq!(at(24), (0.625, false));
        assert_eq!(share_within(&[], 3600), None);
        // Watched 2 h at most: the 4 h share is a lower bound.
        assert_eq!(
            share_within(&[a(600), c(7200)], 4 * 3600),
            Some((0.5, true))
        );
        // Everyone answered: beyond the last answer the share is exact.
        assert_eq!(
            share_within(&[a(600), a(1200)], 4 * 3600),
            Some((1.0, false))
        );
        // All censored: nobody answered by then, and nothing is known beyond.
        assert_eq!(share_within(&[c(3600)], 1800), Some((0.0, false)));
        assert_eq!(share_within(&[c(3600)], 7200), Some((0.0, true)));
    }
}
