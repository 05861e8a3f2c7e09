//! The daemon's HTTP listener, when `[metrics] enabled = true` (off by
//! default; loopback by default, credentials required elsewhere): the
//! status page at `/`, the report API at `/api/report`, `/metrics`
//! (Prometheus text format 0.0.4) and `/healthz`. The routes and the
//! server are in [`http`] (axum on hyper); this file renders `/metrics`.
//!
//! Every figure is computed from the store at scrape time, so it is the
//! same truth `probe status` shows, survives restarts and needs no counters
//! in memory:
//!
//! - `support_probe_first_human_reply_seconds{vendor,window}`: a histogram
//!   of time from filing to the first human reply, over answered probes
//!   (server timestamps, like the readings);
//! - `support_probe_probes{vendor,state}`: probes by state;
//! - `support_probe_last_filing_timestamp_seconds{persona,channel}`: the
//!   last accepted filing per channel;
//! - `support_probe_last_poll_timestamp_seconds{watch_key}`: when each
//!   mailbox was last read completely;
//! - `support_probe_unsure_readings{vendor}`: probes whose reading rests on
//!   a classification marked unsure, and `support_probe_unmatched_replies{vendor}`:
//!   replies kept because they matched no probe, not yet attached (what
//!   `probe review` lists);
//! - `support_probe_paused{vendor}` (`*` = everything), `support_probe_healthy`,
//!   `support_probe_schema_version`.
//!
//! The histogram is rebuilt from the records on each scrape: a `probe
//! relabel` that takes away a human reply makes its counts go down, which
//! Prometheus reads as a counter reset. That is the honest number.

pub mod http;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{ProbeRecord, ProbeState};
use crate::store::{Store, StoreError};

pub use http::{Credentials, CredentialsError, Server, serve};

/// Upper bounds of the reply-time histogram, in seconds: 5 min to 7 days.
pub const BUCKETS: [f64; 10] = [
    300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 172800.0, 604800.0,
];

/// Escapes a label value (backslash, double quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[derive(Default)]
struct Hist {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the listener needs to know of the daemon's progress, for `/healthz`
/// and `support_probe_healthy`. The daemon's `Health` implements it; the
/// trait keeps this module below the daemon that serves it.
pub trait Liveness: Send + Sync {
    /// `Ok` while everything makes progress, else what is stuck.
    fn check(&self) -> Result<(), String>;
}

/// The exposition text for the records in the store.
pub fn render(store: &Store, health: &dyn Liveness) -> Result<String, StoreError> {
    let records = store.all()?;
    let cursors: Vec<_> = store.cursors()?.into_iter().collect();
    let pauses = store.pauses()?;
    let version = store.schema_version()?;
    let mut unmatched: BTreeMap<String, u64> = BTreeMap::new();
    for u in store.unmatched()?.iter().filter(|u| u.attached.is_none()) {
        *unmatched.entry(u.vendor.clone()).or_default() += 1;
    }
    let text = render_parts(&records, &cursors, &pauses, version, health.check().is_ok());
    Ok(text + &render_review(&records, &unmatched))
}

/// The review gauges: readings resting on unsure classifications per
/// vendor (every vendor with probes, zero included) and unmatched replies
/// not yet attached.
fn render_review(records: &[ProbeRecord], unmatched: &BTreeMap<String, u64>) -> String {
    let mut unsure: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        *unsure.entry(r.vendor.as_str()).or_default() += u64::from(r.rests_on_unsure());
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP support_probe_unsure_readings Probes whose reading rests on a classification marked unsure (probe review)."
    );
    let _ = writeln!(out, "# TYPE support_probe_unsure_readings gauge");
    for (vendor, n) in &unsure {
        let _ = writeln!(
            out,
            "support_probe_unsure_readings{{vendor=\"{}\"}} {n}",
            label(vendor)
        );
    }
    let _ = writeln!(
        out,
        "# HELP support_probe_unmatched_replies Replies from a vendor that matched no probe and wait for a person (probe review, probe attach)."
    );
    let _ = writeln!(out, "# TYPE support_probe_unmatched_replies gauge");
    for (vendor, n) in unmatched {
        let _ = writeln!(
            out,
            "support_probe_unmatched_replies{{vendor=\"{}\"}} {n}",
            label(vendor)
        );
    }
    out
}

fn render_parts(
    records: &[ProbeRecord],
    cursors: &[(String, crate::store::Cursor)],
    pauses: &[crate::store::Pause],
    schema_version: u64,
    healthy: bool,
) -> String {
    let mut hist: BTreeMap<(String, String), Hist> = BTreeMap::new();
    let mut states: BTreeMap<String, BTreeMap<ProbeState, u64>> = BTreeMap::new();
    let mut last_filing: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in records {
        *states
            .entry(r.vendor.clone())
            .or_default()
            .entry(r.state)
            .or_default() += 1;
        if let Some(filed) = r.filed_at {
            let e = last_filing
                .entry((r.persona.clone(), r.channel.clone()))
                .or_insert(i64::MIN);
            *e = (*e).max(filed.as_second());
        }
        if r.state != ProbeState::Answered {
            continue;
        }
        let (Some(filed), Some(human)) = (r.filed_at, r.first_human_at) else {
            continue;
        };
        let secs = human.duration_since(filed).as_secs_f64().max(0.0);
        let window = r.window.map_or("unknown", |w| w.as_str()).to_string();
        let h = hist.entry((r.vendor.clone(), window)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP support_probe_first_human_reply_seconds Time from filing (SMTP 250) to the first human reply (IMAP INTERNALDATE), answered probes."
    );
    let _ = writeln!(
        out,
        "# TYPE support_probe_first_human_reply_seconds histogram"
    );
    for ((vendor, window), h) in &hist {
        let (v, w) = (label(vendor), label(window));
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "support_probe_first_human_reply_seconds_bucket{{vendor=\"{v}\",window=\"{w}\",le=\"{bound}\"}} {}",
                h.buckets[i]
            );
        }
        let _ = writeln!(
            out,
            "support_probe_first_human_reply_seconds_bucket{{vendor=\"{v}\",window=\"{w}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "support_probe_first_human_reply_seconds_sum{{vendor=\"{v}\",window=\"{w}\"}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "support_probe_first_human_reply_seconds_count{{vendor=\"{v}\",window=\"{w}\"}} {}",
            h.count
        );
    }

    let _ = writeln!(
        out,
        "# HELP support_probe_probes Probes in the store by vendor and state."
    );
    let _ = writeln!(out, "# TYPE support_probe_probes gauge");
    for (vendor, by_state) in &states {
        for s in ProbeState::ALL {
            let n = by_state.get(&s).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "support_probe_probes{{vendor=\"{}\",state=\"{s}\"}} {n}",
                label(vendor)
            );
        }
    }

    let _ = writeln!(
        out,
        "# HELP support_probe_last_filing_timestamp_seconds When the last probe accepted by the server was filed, per persona and channel (Unix time)."
    );
    let _ = writeln!(
        out,
        "# TYPE support_probe_last_filing_timestamp_seconds gauge"
    );
    for ((persona, channel), at) in &last_filing {
        let _ = writeln!(
            out,
            "support_probe_last_filing_timestamp_seconds{{persona=\"{}\",channel=\"{}\"}} {at}",
            label(persona),
            label(channel)
        );
    }

    let _ = writeln!(
        out,
        "# HELP support_probe_last_poll_timestamp_seconds When each mailbox was last read completely (Unix time)."
    );
    let _ = writeln!(
        out,
        "# TYPE support_probe_last_poll_timestamp_seconds gauge"
    );
    for (key, cursor) in cursors {
        let _ = writeln!(
            out,
            "support_probe_last_poll_timestamp_seconds{{watch_key=\"{}\"}} {}",
            label(key),
            cursor.caught_up_at.as_second()
        );
    }

    let _ = writeln!(
        out,
        "# HELP support_probe_paused 1 while filing is paused (vendor \"*\" = everything)."
    );
    let _ = writeln!(out, "# TYPE support_probe_paused gauge");
    for p in pauses {
        let _ = writeln!(
            out,
            "support_probe_paused{{vendor=\"{}\"}} 1",
            label(p.vendor.as_deref().unwrap_or("*"))
        );
    }

    let _ = writeln!(
        out,
        "# HELP support_probe_healthy 1 while the main loop and every watcher make progress."
    );
    let _ = writeln!(out, "# TYPE support_probe_healthy gauge");
    let _ = writeln!(out, "support_probe_healthy {}", u8::from(healthy));
    let _ = writeln!(
        out,
        "# HELP support_probe_schema_version The store's schema version."
    );
    let _ = writeln!(out, "# TYPE support_probe_schema_version gauge");
    let _ = writeln!(out, "support_probe_schema_version {schema_version}");
    out
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::model::Window;

    fn answered(vendor: &str, filed: &str, human: &str) -> ProbeRecord {
        let mut r = crate::store::tests::planned(vendor, filed);
        r.state = ProbeState::Answered;
        r.filed_at = Some(filed.parse().unwrap());
        r.first_human_at = Some(human.parse().unwrap());
        r.window = Some(Window::BusinessHours);
        r
    }

    #[test]
    fn the_histogram_is_cumulative_per_vendor_and_window() {
        let recs = vec![
            answered("acme", "2026-11-02T10:00:00Z", "2026-11-02T10:04:00Z"),
            answered("acme", "2026-11-03T10:00:00Z", "2026-11-03T11:30:00Z"),
            crate::store::tests::planned("acme", "2026-11-04T10:00:00Z"),
        ];
        let text = render_parts(&recs, &[], &[], 2, true);
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle} missing in\n{text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        };
        let b = "support_probe_first_human_reply_seconds_bucket{vendor=\"acme\",window=\"business-hours\"";
        assert_eq!(line(&format!("{b},le=\"300\"}}")), "1");
        assert_eq!(line(&format!("{b},le=\"3600\"}}")), "1");
        assert_eq!(line(&format!("{b},le=\"7200\"}}")), "2");
        assert_eq!(line(&format!("{b},le=\"+Inf\"}}")), "2");
        assert_eq!(
            line(
                "support_probe_first_human_reply_seconds_sum{vendor=\"acme\",window=\"business-hours\"}"
            ),
            "5640"
        );
        assert_eq!(
            line("support_probe_probes{vendor=\"acme\",state=\"answered\"}"),
            "2"
        );
        assert_eq!(
            line("support_probe_probes{vendor=\"acme\",state=\"planned\"}"),
            "1"
        );
        let last: Timestamp = "2026-11-03T10:00:00Z".parse().unwrap();
        assert_eq!(
            line("support_probe_last_filing_timestamp_seconds{persona=\"me\",channel=\"email\"}"),
            last.as_second().to_string()
        );
        assert_eq!(line("support_probe_healthy"), "1");
    }

    #[test]
    fn the_review_gauges_count_unsure_readings_and_waiting_replies() {
        let mut doubtful = answered("acme", "2026-11-02T10:00:00Z", "2026-11-02T10:30:00Z");
        doubtful.messages.push(crate::model::MessageRecord {
            key: "k".into(),
            message_id: None,
            at: "2026-11-02T10:30:00Z".parse().unwrap(),
            time_source: crate::model::TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: None,
            subject: None,
            class: crate::model::Class::Human,
            confidence: crate::model::Confidence::Unsure,
            reasons: vec![],
            relabel: None,
            matched_by: crate::model::MatchedBy::Token,
            fingerprint: None,
            vendor_refs: vec![],
            notes: vec![],
            markers: vec![],
            quality: None,
        });
        doubtful.recompute();
        let sure = answered("beta", "2026-11-02T10:00:00Z", "2026-11-02T10:30:00Z");
        let waiting = BTreeMap::from([("beta".to_string(), 2)]);
        let text = render_review(&[doubtful, sure], &waiting);
        assert!(
            text.contains("support_probe_unsure_readings{vendor=\"acme\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("support_probe_unsure_readings{vendor=\"beta\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("support_probe_unmatched_replies{vendor=\"beta\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
