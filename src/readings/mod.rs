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

use jiff::Timestamp;
use serde::Serialize;

use crate::model::{ProbeRecord, ProbeState, ReadingRow, Window};

pub mod own;

/// A median that may be censored: the report layer's estimate type.
pub use crate::report::km::Estimate as Median;
/// One observation: seconds to first human reply, or censored at seconds.
pub use crate::report::km::Observation;

/// The Kaplan–Meier median of `obs` (see [`crate::report::km`]).
pub fn km_median(obs: &[Observation]) -> Median {
    crate::report::km::median(obs)
}

/// The observation a probe contributes at `now`, if it enters latency figures.
pub fn observation(p: &ProbeRecord, now: Timestamp) -> Option<Observation> {
    observe(
        p.state,
        p.filed_at,
        p.time_to_first_human(),
        p.censored_at,
        p.answer_deadline(),
        now,
    )
}

/// [`observation`] of a probe's reading row: the same figure.
pub fn row_observation(p: &ReadingRow, now: Timestamp) -> Option<Observation> {
    observe(
        p.state,
        p.filed_at,
        p.time_to_first_human(),
        p.censored_at,
        p.answer_deadline(),
        now,
    )
}

fn observe(
    state: ProbeState,
    filed_at: Option<Timestamp>,
    to_first_human: Option<jiff::SignedDuration>,
    censored_at: Option<Timestamp>,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> Option<Observation> {
    let filed = filed_at?;
    match state {
        ProbeState::Answered => Some(Observation {
            secs: to_first_human?.as_secs().max(0),
            answered: true,
        }),
        ProbeState::Unanswered => Some(Observation {
            secs: censored_at?.duration_since(filed).as_secs().max(0),
            answered: false,
        }),
        ProbeState::Filed => {
            // Still waiting: censored now, or at the deadline if that passed
            // (the daemon has not closed it yet).
            let until = deadline.map_or(now, |d| d.min(now));
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
    /// Probes whose reading rests on a classification marked `unsure`
    /// (`ProbeRecord::rests_on_unsure`): `probe review` lists them.
    pub unsure: usize,
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
                unsure: ps.iter().filter(|p| p.rests_on_unsure()).count(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_median_is_the_censored_kaplan_meier_one() {
        let obs = [
            Observation::answer(10),
            Observation::answer(20),
            Observation::answer(30),
            Observation::censored(100),
            Observation::censored(100),
        ];
        assert_eq!(km_median(&obs), Median::Exactly(30));
    }
}
