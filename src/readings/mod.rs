//! Readings: per-vendor figures from probe records, as `probe status` and
//! the demo print them.
//!
//! An unanswered or still-pending probe is a *censored* observation: we know
//! the vendor took longer than the time we watched, not how long. Medians
//! are therefore Kaplan–Meier estimates over answered and censored probes;
//! when fewer than half the probes have been answered by the longest time
//! watched, the median is reported as "more than" that time instead of a
//! number taken from the answered probes alone (which would flatter a vendor
//! that ignores hard tickets).
//!
//! Probes we failed to file (`not-filed`, `skipped`) and undeliverable ones
//! are counted but never enter latency figures; `uncertain` ones neither.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::model::{ProbeRecord, ProbeState, Window};

pub mod own;

/// A median that may be censored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "secs", rename_all = "kebab-case")]
pub enum Median {
    /// No probe in the group was filed.
    None,
    /// The Kaplan–Meier median.
    Exactly(i64),
    /// Fewer than half answered by this many seconds (the longest watched).
    MoreThan(i64),
}

impl Median {
    /// For tables: `42m 10s`, `> 3d 0h`, `-`.
    pub fn display(&self) -> String {
        match self {
            Median::None => "-".into(),
            Median::Exactly(s) => crate::engine::human(SignedDuration::from_secs(*s)),
            Median::MoreThan(s) => {
                format!("> {}", crate::engine::human(SignedDuration::from_secs(*s)))
            }
        }
    }
}

/// One observation: seconds to first human reply, or censored at seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub secs: i64,
    pub answered: bool,
}

/// The Kaplan–Meier median of `obs`. Ties: answers at a time count before
/// censorings at the same time (the usual convention).
pub fn km_median(obs: &[Observation]) -> Median {
    if obs.is_empty() {
        return Median::None;
    }
    let mut sorted = obs.to_vec();
    sorted.sort_by_key(|o| (o.secs, !o.answered));
    let mut at_risk = sorted.len() as f64;
    let mut survival = 1.0f64;
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
            survival *= 1.0 - events as f64 / at_risk;
            if survival <= 0.5 + 1e-12 {
                return Median::Exactly(t);
            }
        }
        at_risk -= leaving as f64;
    }
    Median::MoreThan(sorted.iter().map(|o| o.secs).max().unwrap_or(0))
}

/// The observation a probe contributes at `now`, if it enters latency figures.
pub fn observation(p: &ProbeRecord, now: Timestamp) -> Option<Observation> {
    let filed = p.filed_at?;
    match p.state {
        ProbeState::Answered => Some(Observation {
            secs: p.time_to_first_human()?.as_secs().max(0),
            answered: true,
        }),
        ProbeState::Unanswered => Some(Observation {
            secs: p.censored_at?.duration_since(filed).as_secs().max(0),
            answered: false,
        }),
        ProbeState::Filed => {
            // Still waiting: censored now, or at the deadline if that passed
            // (the daemon has not closed it yet).
            let until = p.answer_deadline().map_or(now, |d| d.min(now));
            Some(Observation {
                secs: until.duration_since(filed).as_secs().max(0),
                answered: false,
            })
        }
        _ => None,
    }
}

/// Per-vendor counts and medians.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorSummary {
    pub vendor: String,
    /// Probes that reached (or may have reached) the vendor.
    pub filed: usize,
    pub answered: usize,
    /// Filed, waiting, still inside `answer_within`.
    pub pending: usize,
    pub unanswered: usize,
    pub undeliverable: usize,
    pub uncertain: usize,
    /// Our failures: never the vendor's.
    pub not_filed: usize,
    pub skipped: usize,
    pub planned: usize,
    /// Probes that got an automatic acknowledgement.
    pub acknowledged: usize,
    /// Median time to first human reply, filed inside business hours.
    pub median_business_hours: Median,
    /// The same, filed outside business hours (off-hours, weekend, holiday).
    pub median_outside_hours: Median,
    pub n_business_hours: usize,
    pub n_outside_hours: usize,
    /// The latest first human reply.
    pub last_answer: Option<Timestamp>,
}

/// Summaries per vendor, in name order.
pub fn summarize(probes: &[ProbeRecord], now: Timestamp) -> Vec<VendorSummary> {
    summarize_with(probes, now, &own::OwnSide::default())
}

/// Summaries per vendor, keeping our own downtime out of the figures (see [`own`]).
pub fn summarize_with(
    probes: &[ProbeRecord],
    now: Timestamp,
    own: &own::OwnSide,
) -> Vec<VendorSummary> {
    let mut by_vendor: BTreeMap<&str, Vec<&ProbeRecord>> = BTreeMap::new();
    for p in probes {
        by_vendor.entry(p.vendor.as_str()).or_default().push(p);
    }
    by_vendor
        .into_iter()
        .map(|(vendor, ps)| {
            let count = |s: ProbeState| ps.iter().filter(|p| p.state == s).count();
            let obs = |inside: bool| -> Vec<Observation> {
                ps.iter()
                    .filter(|p| (p.window == Some(Window::BusinessHours)) == inside)
                    .filter_map(|p| own.observation(p, now))
                    .collect()
            };
            let (inside, outside) = (obs(true), obs(false));
            VendorSummary {
                vendor: vendor.to_string(),
                filed: ps
                    .iter()
                    .filter(|p| p.state.may_have_reached_vendor())
                    .count(),
                answered: count(ProbeState::Answered),
                pending: count(ProbeState::Filed),
                unanswered: count(ProbeState::Unanswered),
                undeliverable: count(ProbeState::Undeliverable),
                uncertain: count(ProbeState::Uncertain) + count(ProbeState::Filing),
                not_filed: count(ProbeState::NotFiled),
                skipped: count(ProbeState::Skipped),
                planned: count(ProbeState::Planned),
                acknowledged: ps.iter().filter(|p| p.first_ack_at.is_some()).count(),
                median_business_hours: km_median(&inside),
                median_outside_hours: km_median(&outside),
                n_business_hours: inside.len(),
                n_outside_hours: outside.len(),
                last_answer: ps.iter().filter_map(|p| p.first_human_at).max(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(secs: i64) -> Observation {
        Observation {
            secs,
            answered: true,
        }
    }
    fn c(secs: i64) -> Observation {
        Observation {
            secs,
            answered: false,
        }
    }

    #[test]
    fn median_of_uncensored_data_is_the_usual_lower_median() {
        assert_eq!(km_median(&[a(10), a(20), a(30)]), Median::Exactly(20));
        assert_eq!(
            km_median(&[a(10), a(20), a(30), a(40)]),
            Median::Exactly(20)
        );
        assert_eq!(km_median(&[a(5)]), Median::Exactly(5));
        assert_eq!(km_median(&[]), Median::None);
    }

    #[test]
    fn censoring_pushes_the_median_up_instead_of_being_dropped() {
        // Answered-only median would be 20; with two probes censored at 100
        // the KM survival is 4/5 after 10, 3/5 after 20, 2/5 after 30.
        let obs = [a(10), a(20), a(30), c(100), c(100)];
        assert_eq!(km_median(&obs), Median::Exactly(30));
    }

    #[test]
    fn mostly_unanswered_gives_more_than() {
        assert_eq!(km_median(&[a(10), c(50), c(60)]), Median::MoreThan(60));
        assert_eq!(km_median(&[c(50)]), Median::MoreThan(50));
    }

    #[test]
    fn ties_between_answers_and_censoring_count_the_answer_first() {
        // At 10: one answer among 2 at risk -> S = 0.5 -> median 10.
        assert_eq!(km_median(&[c(10), a(10)]), Median::Exactly(10));
    }

    #[test]
    fn censoring_before_answers_shrinks_the_risk_set() {
        // c(5) leaves; at 10 one of 3 answers (S=2/3); at 20 one of 2 (S=1/3).
        assert_eq!(km_median(&[c(5), a(10), a(20), c(30)]), Median::Exactly(20));
    }
}
