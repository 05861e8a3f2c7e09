//! Keeping our own downtime out of vendors' figures.
//!
//! What our side knows about itself ([`OwnSide`]): how far each mailbox has
//! been read (the channel cursors' `caught_up_at`) and the recorded outages
//! of our endpoints (`store::Outage`). The rules, applied by every figure
//! the report layer computes ([`super::build_rows`], [`super::status`]):
//!
//! 1. **Not filed is not counted.** A probe we could not send (our SMTP, DNS
//!    or TLS failing) is `not-filed` and never enters a figure or the caps.
//! 2. **No "unanswered" before we have looked.** A probe's answer window is
//!    closed (`unanswered`) only once its mailbox has been read past the
//!    deadline (`engine::close_if_due`).
//! 3. **A waiting probe is censored where our reading stopped.** A probe
//!    still waiting enters the median as censored at the last instant its
//!    mailbox was read completely (`caught_up_at`), capped by its deadline,
//!    not at "now": while we cannot watch (IMAP down, daemon stopped) its
//!    observation stops growing, so our downtime never reads as vendor
//!    silence. A probe whose mailbox has not been read completely since it
//!    was filed contributes no observation yet.
//! 4. **Flagged, not dropped.** A probe whose send needed retries through an
//!    outage of ours, or whose answer window overlapped an outage of its
//!    persona's mailbox, keeps its figure (both of its times come from
//!    servers, which our IMAP outage does not move) but is listed by
//!    [`OwnSide::degraded`] so a person can look at it.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::km::Observation;
use crate::model::{ProbeRecord, ProbeState, ReadingRow};
use crate::store::{Cursor, Outage, OutageKind, Store, StoreError};

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

/// What we know about our own side; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct OwnSide {
    /// `caught_up_at` per watch key; `None` = unknown, assume read until now
    /// (the default, for callers without a store).
    caught_up: Option<BTreeMap<String, Timestamp>>,
    outages: Vec<Outage>,
}

impl OwnSide {
    /// From the store's cursors and outages.
    pub fn new(cursors: &BTreeMap<String, Cursor>, outages: Vec<Outage>) -> Self {
        OwnSide {
            caught_up: Some(
                cursors
                    .iter()
                    .map(|(k, c)| (k.clone(), c.caught_up_at))
                    .collect(),
            ),
            outages,
        }
    }

    /// From the store: its mailbox cursors and recorded outages.
    pub fn from_store(store: &Store) -> Result<Self, StoreError> {
        Ok(OwnSide::new(&store.cursors()?, store.outages()?))
    }

    /// The outages known.
    pub fn outages(&self) -> &[Outage] {
        &self.outages
    }

    /// The instant up to which `p`'s replies have all been read, if known.
    fn read_until(&self, p: &ProbeRecord, now: Timestamp) -> Option<Timestamp> {
        match (&self.caught_up, &p.watch_key) {
            (Some(map), Some(key)) => map.get(key).copied(),
            _ => Some(now),
        }
    }

    /// The instant up to which the replies of a row's probe have all been
    /// read, at most `now`; `None` when its mailbox was never read
    /// completely.
    pub fn row_read_until(&self, p: &ReadingRow, now: Timestamp) -> Option<Timestamp> {
        let read = match (&self.caught_up, &p.watch_key) {
            (Some(map), Some(key)) => map.get(&**key).copied()?,
            _ => now,
        };
        Some(read.min(now))
    }

    /// [`OwnSide::observation`] for a reading row.
    pub fn row_observation(&self, p: &ReadingRow, now: Timestamp) -> Option<Observation> {
        if p.state != ProbeState::Filed {
            return row_observation(p, now);
        }
        let read = self.row_read_until(p, now)?;
        if read < p.filed_at? {
            return None;
        }
        row_observation(p, read)
    }

    /// The observation `p` contributes at `now` under rule 3.
    pub fn observation(&self, p: &ProbeRecord, now: Timestamp) -> Option<Observation> {
        if p.state != ProbeState::Filed {
            return observation(p, now);
        }
        let read = self.read_until(p, now)?.min(now);
        if read < p.filed_at? {
            return None;
        }
        observation(p, read)
    }

    /// The outage that makes `p` worth a second look (rule 4), if any.
    pub fn degraded(&self, p: &ProbeRecord) -> Option<&Outage> {
        let filed = p.filed_at?;
        let retried = p
            .attempts
            .iter()
            .filter(|a| !a.outcome.starts_with("accepted"))
            .count()
            > 0;
        let started = p.filing_started_at.unwrap_or(filed);
        let window_end = p
            .first_human_at
            .or(p.censored_at)
            .or_else(|| p.answer_deadline())
            .unwrap_or(filed);
        self.outages.iter().find(|o| {
            o.persona == p.persona
                && match o.kind {
                    OutageKind::Send => retried && o.overlap(started, filed) > SignedDuration::ZERO,
                    OutageKind::Watch => o.overlap(filed, window_end) > SignedDuration::ZERO,
                }
        })
    }
}

/// Our downtime at one endpoint within a period, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Downtime {
    pub kind: OutageKind,
    pub endpoint: String,
    pub persona: String,
    /// Outages overlapping the period.
    pub outages: usize,
    /// Seconds of the period covered by them (an ongoing one until `to`).
    pub secs: i64,
    /// Whether the latest one is still open.
    pub ongoing: bool,
    /// The latest reason.
    pub last_reason: String,
}

/// Total downtime per (kind, endpoint) within `[from, to]`.
pub fn downtime(outages: &[Outage], from: Timestamp, to: Timestamp) -> Vec<Downtime> {
    let mut by: BTreeMap<(OutageKind, &str), Downtime> = BTreeMap::new();
    let mut sorted: Vec<&Outage> = outages
        .iter()
        .filter(|o| o.started_at <= to && o.ended_at.is_none_or(|e| e >= from))
        .collect();
    sorted.sort_by_key(|o| o.started_at);
    for o in sorted {
        let d = by
            .entry((o.kind, o.endpoint.as_str()))
            .or_insert_with(|| Downtime {
                kind: o.kind,
                endpoint: o.endpoint.clone(),
                persona: o.persona.clone(),
                outages: 0,
                secs: 0,
                ongoing: false,
                last_reason: String::new(),
            });
        d.outages += 1;
        d.secs += o.overlap(from, to).as_secs();
        d.ongoing = o.ended_at.is_none();
        d.last_reason = o.last_reason.clone();
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Attempt;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn filed(at: &str) -> ProbeRecord {
        let at = ts(at);
        ProbeRecord {
            vendor: "acme".into(),
            persona: "dana".into(),
            watch_key: Some("imap:dana".into()),
            state: ProbeState::Filed,
            filing_started_at: Some(at),
            filed_at: Some(at),
            answer_within_secs: 86_400,
            ..crate::model::tests::record(at)
        }
    }

    fn cursor(at: &str) -> BTreeMap<String, Cursor> {
        BTreeMap::from([(
            "imap:dana".to_string(),
            Cursor {
                position: serde_json::json!(1),
                caught_up_at: ts(at),
            },
        )])
    }

    fn outage(kind: OutageKind, from: &str, to: Option<&str>) -> Outage {
        Outage {
            kind,
            endpoint: "e".into(),
            persona: "dana".into(),
            started_at: ts(from),
            ended_at: to.map(ts),
            first_reason: "down".into(),
            last_reason: "down".into(),
            failures: 3,
        }
    }

    #[test]
    fn a_waiting_probe_is_censored_where_our_reading_stopped_not_now() {
        let p = filed("2026-11-02T10:00:00Z");
        // Our IMAP has been down since 11:00; it is 15:00.
        let own = OwnSide::new(&cursor("2026-11-02T11:00:00Z"), vec![]);
        let now = ts("2026-11-02T15:00:00Z");
        assert_eq!(
            own.observation(&p, now),
            Some(Observation {
                secs: 3600,
                answered: false
            }),
            "one hour watched, not five"
        );
        // Without knowledge of our side it would have been five hours.
        assert_eq!(
            OwnSide::default().observation(&p, now).unwrap().secs,
            5 * 3600
        );
        // Never read since it was filed: no observation at all yet.
        let own = OwnSide::new(&cursor("2026-11-02T09:00:00Z"), vec![]);
        assert_eq!(own.observation(&p, now), None);
        // No cursor for its mailbox: nothing known.
        let own = OwnSide::new(&BTreeMap::new(), vec![]);
        assert_eq!(own.observation(&p, now), None);
    }

    #[test]
    fn the_summary_does_not_turn_our_downtime_into_vendor_silence() {
        // One answered in 30 min; two waiting, whose mailbox we could not
        // read after 40 min. Censoring them at "now" (10 h later) would say
        // "more than 10 h"; all we know is "more than 40 min".
        let mut answered = filed("2026-11-02T10:00:00Z");
        answered.state = ProbeState::Answered;
        answered.first_human_at = Some(ts("2026-11-02T10:30:00Z"));
        let mut ps = vec![
            answered,
            filed("2026-11-02T10:00:00Z"),
            filed("2026-11-02T10:00:00Z"),
        ];
        for p in &mut ps {
            p.window = Some(crate::model::Window::OffHours);
        }
        let now = ts("2026-11-02T20:00:00Z");
        let own = OwnSide::new(&cursor("2026-11-02T10:40:00Z"), vec![]);
        let with = super::super::status::summarize(&ps, now, &own);
        let without = super::super::status::summarize(&ps, now, &OwnSide::default());
        assert_eq!(with[0].figures().pending, 2);
        assert_eq!(with[0].out_of_hours().n, 3);
        assert_eq!(
            with[0].out_of_hours().median,
            super::super::km::Estimate::MoreThan(2400)
        );
        assert_eq!(
            without[0].out_of_hours().median,
            super::super::km::Estimate::MoreThan(36_000)
        );
    }

    #[test]
    fn probes_overlapping_our_outages_are_flagged() {
        let mut retried = filed("2026-11-02T10:05:00Z");
        retried.filing_started_at = Some(ts("2026-11-02T10:00:00Z"));
        retried.attempts = vec![
            Attempt {
                at: ts("2026-11-02T10:00:00Z"),
                outcome: "failed, will retry: refused".into(),
            },
            Attempt {
                at: ts("2026-11-02T10:05:00Z"),
                outcome: "accepted: 250 ok".into(),
            },
        ];
        let clean = filed("2026-11-03T10:00:00Z");
        let send = outage(
            OutageKind::Send,
            "2026-11-02T09:59:00Z",
            Some("2026-11-02T10:05:00Z"),
        );
        let own = OwnSide::new(&BTreeMap::new(), vec![send]);
        assert!(own.degraded(&retried).is_some());
        assert!(own.degraded(&clean).is_none());
        // A watch outage inside the answer window of the clean one flags it.
        let watch = outage(
            OutageKind::Watch,
            "2026-11-03T12:00:00Z",
            Some("2026-11-03T13:00:00Z"),
        );
        let own = OwnSide::new(&BTreeMap::new(), vec![watch]);
        assert_eq!(own.degraded(&clean).unwrap().kind, OutageKind::Watch);
    }

    #[test]
    fn downtime_adds_up_per_endpoint_within_the_period() {
        let os = vec![
            outage(
                OutageKind::Send,
                "2026-11-01T23:00:00Z",
                Some("2026-11-02T01:00:00Z"),
            ),
            outage(
                OutageKind::Send,
                "2026-11-02T05:00:00Z",
                Some("2026-11-02T05:30:00Z"),
            ),
            outage(OutageKind::Watch, "2026-11-02T23:00:00Z", None),
            outage(OutageKind::Watch, "2026-11-05T00:00:00Z", None),
        ];
        let d = downtime(&os, ts("2026-11-02T00:00:00Z"), ts("2026-11-03T00:00:00Z"));
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].kind, d[0].outages, d[0].secs),
            (OutageKind::Send, 2, 5400)
        );
        assert_eq!(
            (d[1].kind, d[1].secs, d[1].ongoing),
            (OutageKind::Watch, 3600, true)
        );
    }
}
