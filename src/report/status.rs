//! `probe status` and the demo's per-vendor lines: everything in the store,
//! per vendor, as a projection of the report's own figures.
//!
//! Nothing is counted here that the report does not count: the figures come
//! from [`super::build`] over all time, so the status line and
//! `probe report` cannot disagree. The status line adds the two things a
//! report over filed probes has no place for: probes still planned, and the
//! latest first human reply.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::km::Estimate;
use super::own::OwnSide;
use super::{Options, VendorReport};
use crate::model::{ProbeRecord, ProbeState};

/// One vendor's line. The field names are `probe status --format json`'s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorStatus {
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
    pub median_business_hours: Estimate,
    /// The same, filed outside business hours (off-hours, weekend, holiday).
    pub median_outside_hours: Estimate,
    pub n_business_hours: usize,
    pub n_outside_hours: usize,
    /// The latest first human reply.
    pub last_answer: Option<Timestamp>,
    /// Probes whose reading rests on a classification marked `unsure`
    /// (`ProbeRecord::rests_on_unsure`): `probe review` lists them.
    pub unsure: usize,
}

/// One line per vendor with any probe, in name order, read at `now` with
/// our own downtime kept out (see [`super::own`]).
pub fn summarize(probes: &[ProbeRecord], now: Timestamp, own: &OwnSide) -> Vec<VendorStatus> {
    let opts = Options {
        period: None,
        previous: None,
        vendor: None,
        by: Vec::new(),
        now,
        own: own.clone(),
    };
    let mut reports: BTreeMap<String, VendorReport> = super::build(probes, None, &opts)
        .vendors
        .into_iter()
        .map(|v| (v.vendor.clone(), v))
        .collect();
    let mut by_vendor: BTreeMap<&str, Vec<&ProbeRecord>> = BTreeMap::new();
    for p in probes {
        by_vendor.entry(p.vendor.as_str()).or_default().push(p);
    }
    by_vendor
        .into_iter()
        .map(|(vendor, ps)| {
            // A vendor with only planned probes is in no report: its figures
            // are those of no probe, computed the report's way.
            let r = reports
                .remove(vendor)
                .unwrap_or_else(|| VendorReport::of_nothing(vendor));
            let (inside, outside) = (
                &r.scorecard.first_reply_business_hours,
                &r.scorecard.first_reply_outside_hours,
            );
            VendorStatus {
                vendor: vendor.to_string(),
                filed: r.overall.filed,
                answered: r.overall.answered,
                pending: r.overall.pending,
                unanswered: r.overall.unanswered,
                undeliverable: r.overall.undeliverable,
                uncertain: r.overall.uncertain,
                not_filed: r.overall.not_filed,
                skipped: r.overall.skipped,
                planned: ps.iter().filter(|p| p.state == ProbeState::Planned).count(),
                acknowledged: r.overall.acknowledged,
                median_business_hours: inside.median,
                median_outside_hours: outside.median,
                n_business_hours: inside.n,
                n_outside_hours: outside.n,
                last_answer: ps.iter().filter_map(|p| p.first_human_at).max(),
                unsure: r.overall.unsure,
            }
        })
        .collect()
}
