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
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::own::OwnSide;
use super::{Figures, Latency, Options, VendorReport};
use crate::model::{ProbeRecord, ProbeState};

/// One vendor's line: its report over everything in the store, and the two
/// facts a report over filed probes has no place for.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorStatus {
    /// The vendor's report over all time (no grouping).
    pub report: VendorReport,
    /// Probes still planned (a report counts only what was filed or due).
    pub planned: usize,
    /// The latest first human reply.
    pub last_answer: Option<Timestamp>,
}

impl VendorStatus {
    /// The vendor's name.
    pub fn vendor(&self) -> &str {
        &self.report.vendor
    }

    /// Counts and latencies over all its probes.
    pub fn figures(&self) -> &Figures {
        &self.report.overall
    }

    /// First human reply of the probes filed inside business hours.
    pub fn in_hours(&self) -> &Latency {
        &self.report.scorecard.first_reply_business_hours
    }

    /// The same, filed outside (off-hours, weekend, holiday).
    pub fn out_of_hours(&self) -> &Latency {
        &self.report.scorecard.first_reply_outside_hours
    }
}

/// `probe status --format json`'s shape for a vendor, kept as it was when
/// status had figures of its own: flat counts, two medians, their sizes.
impl Serialize for VendorStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let f = self.figures();
        let mut st = serializer.serialize_struct("VendorStatus", 17)?;
        st.serialize_field("vendor", self.vendor())?;
        st.serialize_field("filed", &f.filed)?;
        st.serialize_field("answered", &f.answered)?;
        st.serialize_field("pending", &f.pending)?;
        st.serialize_field("unanswered", &f.unanswered)?;
        st.serialize_field("undeliverable", &f.undeliverable)?;
        st.serialize_field("uncertain", &f.uncertain)?;
        st.serialize_field("not_filed", &f.not_filed)?;
        st.serialize_field("skipped", &f.skipped)?;
        st.serialize_field("planned", &self.planned)?;
        st.serialize_field("acknowledged", &f.acknowledged)?;
        st.serialize_field("median_business_hours", &self.in_hours().median)?;
        st.serialize_field("median_outside_hours", &self.out_of_hours().median)?;
        st.serialize_field("n_business_hours", &self.in_hours().n)?;
        st.serialize_field("n_outside_hours", &self.out_of_hours().n)?;
        st.serialize_field("last_answer", &self.last_answer)?;
        st.serialize_field("unsure", &f.unsure)?;
        st.end()
    }
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
            VendorStatus {
                report: reports
                    .remove(vendor)
                    .unwrap_or_else(|| VendorReport::of_nothing(vendor)),
                planned: ps.iter().filter(|p| p.state == ProbeState::Planned).count(),
                last_answer: ps.iter().filter_map(|p| p.first_human_at).max(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::record;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_line_is_the_reports_figures_plus_planned_and_the_last_answer() {
        let at = ts("2026-11-02T10:00:00Z");
        let answered = ProbeRecord {
            vendor: "acme".into(),
            state: ProbeState::Answered,
            filed_at: Some(at),
            first_human_at: Some(ts("2026-11-02T10:30:00Z")),
            window: Some(crate::model::Window::BusinessHours),
            ..record(at)
        };
        let planned = ProbeRecord {
            vendor: "acme".into(),
            ..record(ts("2026-11-03T10:00:00Z"))
        };
        let only_planned = ProbeRecord {
            vendor: "beta".into(),
            ..record(at)
        };
        let now = ts("2026-11-04T00:00:00Z");
        let lines = summarize(&[answered, planned, only_planned], now, &OwnSide::default());
        let json = serde_json::to_value(&lines).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({
                "vendor": "acme", "filed": 1, "answered": 1, "pending": 0,
                "unanswered": 0, "undeliverable": 0, "uncertain": 0,
                "not_filed": 0, "skipped": 0, "planned": 1, "acknowledged": 0,
                "median_business_hours": {"kind": "exactly", "secs": 1800},
                "median_outside_hours": {"kind": "none"},
                "n_business_hours": 1, "n_outside_hours": 0,
                "last_answer": "2026-11-02T10:30:00Z", "unsure": 0
            })
        );
        // A vendor with nothing but a planned probe still has its line.
        assert_eq!(json[1]["vendor"], "beta");
        assert_eq!(
            (json[1]["planned"].clone(), json[1]["filed"].clone()),
            (1.into(), 0.into())
        );
    }
}
