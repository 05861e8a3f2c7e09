//! Measures 1 and 2 of BENCHMARKS.md: how exact the recorded time to first
//! response is, and how soon a reply is noticed.
//!
//! Against the real Postfix + Dovecot stack, the daemon (in process, the
//! same `daemon::run` as `probe daemon`) watches one persona's mailbox. We
//! file probes, then a scripted vendor replies to each at a known instant
//! (the moment it starts its SMTP transaction). For every reply we compare:
//!
//! * the recorded first-human-reply time (IMAP INTERNALDATE) with the truth;
//! * what a reader that stamps replies at poll time would have recorded —
//!   the moment the daemon noticed the reply — with the truth;
//! * the detection latency: noticed minus truth.
//!
//! Runs per poll interval (`BENCH_INTERVALS`, default `1,60,300` seconds),
//! with and without IDLE. `BENCH_SAMPLES` replies per run (default 10),
//! spread at random over two poll intervals (at least 20 s; 20 s with IDLE,
//! where the interval plays no part).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::time::Duration;

use jiff::Timestamp;
use kit::bench::{self, Table, describe, fmt_secs, secs};
use tokio_util::sync::CancellationToken;

const BENCH: &str = "readings";
/// How often the bench looks at the store to see whether a reply was noticed.
const LOOK_EVERY: Duration = Duration::from_millis(20);

struct Sample {
    recorded_err: f64,
    poll_time_err: f64,
}

#[tokio::main]
async fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    bench::init();
    let intervals: Vec<u64> = std::env::var("BENCH_INTERVALS")
        .unwrap_or_else(|_| "1,60,300".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("BENCH_INTERVALS: seconds, comma separated")
        })
        .collect();
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .map_or(10, |s| s.parse().expect("BENCH_SAMPLES: a count"));
    let seed: u64 = std::env::var("BENCH_SEED")
        .ok()
        .map_or_else(|| fastrand::u64(..), |s| s.parse().expect("BENCH_SEED"));
    fastrand::seed(seed);
    println!(
        "{BENCH}: seed {seed}, {samples} replies per run, machine: {}",
        bench::machine()
    );

    let mut accuracy = Table::new(
        BENCH,
        &format!("1. Accuracy of time to first response ({samples} replies per row)"),
        &[
            "poll interval",
            "IDLE",
            "recorded (INTERNALDATE): mean abs. error",
            "recorded: max abs. error",
            "poll-time reader: mean error",
            "poll-time reader: max error",
        ],
    );
    let mut latency = Table::new(
        BENCH,
        &format!("2. Detection latency, delivery to marked answered ({samples} replies per row)"),
        &["poll interval", "IDLE", "median", "p90", "max"],
    );
    for &interval in &intervals {
        for idle in [true, false] {
            let got = run(interval, idle, samples).await;
            let rec: Vec<f64> = got.iter().map(|s| s.recorded_err.abs()).collect();
            let poll: Vec<f64> = got.iter().map(|s| s.poll_time_err).collect();
            let (rec_mean, _, _, rec_max) = describe(&rec);
            let (poll_mean, poll_median, poll_p90, poll_max) = describe(&poll);
            let label = format!("{interval} s");
            let idle_label = if idle { "yes" } else { "no" }.to_string();
            accuracy.row(vec![
                label.clone(),
                idle_label.clone(),
                fmt_secs(rec_mean),
                fmt_secs(rec_max),
                fmt_secs(poll_mean),
                fmt_secs(poll_max),
            ]);
            latency.row(vec![
                label,
                idle_label,
                fmt_secs(poll_median),
                fmt_secs(poll_p90),
                fmt_secs(poll_max),
            ]);
        }
    }
    accuracy.emit();
    latency.emit();
}

/// One run: a fresh store and daemon, `n` probes filed, `n` replies at known instants.
async fn run(interval: u64, idle: bool, n: usize) -> Vec<Sample> {
    let stack = kit::MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let poll = Duration::from_secs(interval);
    let persona = bench::persona_imaps(stack, "dana", "dana@probe.test", idle);
    let probes = kit::config::Probe::never("bench-dana", "v00", "dana").text();
    let text = bench::config_text(stack, dir.path(), poll, 1, &[persona], &probes);
    let engine = std::sync::Arc::new(kit::engine::engine(&text, dir.path()));

    let mut filed = Vec::new();
    for _ in 0..n {
        let report = engine.run_now("bench-dana").await.unwrap();
        let rec = engine.store().get(&report.id).unwrap().unwrap();
        assert!(rec.filed_at.is_some(), "probe not filed: {:?}", rec.state);
        filed.push(rec);
    }

    let shutdown = CancellationToken::new();
    let daemon = tokio::spawn(support_probe::daemon::run(
        std::sync::Arc::clone(&engine),
        shutdown.clone(),
    ));
    // Let the watcher take its first look (and enter IDLE) before replies come.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Polling: replies spread over two intervals, so they land at every
    // phase of the poll cycle. IDLE: the interval plays no part, 20 s do.
    let span = if idle {
        20.0
    } else {
        (2 * interval).max(20) as f64
    };
    let mut offsets: Vec<f64> = (0..n).map(|_| fastrand::f64() * span).collect();
    offsets.sort_by(f64::total_cmp);

    // Watch the store from the start, in its own task, so a reply is noticed
    // when the daemon records it, not after the last reply was sent.
    let watcher = {
        let engine = std::sync::Arc::clone(&engine);
        let ids: Vec<_> = filed.iter().map(|r| r.id.clone()).collect();
        let deadline = std::time::Instant::now()
            + Duration::from_secs_f64(span)
            + poll
            + Duration::from_secs(60);
        tokio::spawn(async move {
            let mut noticed: Vec<Option<Timestamp>> = vec![None; ids.len()];
            while noticed.iter().any(Option::is_none) && std::time::Instant::now() < deadline {
                for (i, id) in ids.iter().enumerate() {
                    if noticed[i].is_none()
                        && let Some(r) = engine.store().get(id).unwrap()
                        && r.first_human_at.is_some()
                    {
                        noticed[i] = Some(Timestamp::now());
                        tracing::debug!(probe = %id, "noticed");
                    }
                }
                tokio::time::sleep(LOOK_EVERY).await;
            }
            noticed
        })
    };

    let start = std::time::Instant::now();
    let mut truth = Vec::new();
    for (rec, offset) in filed.iter().zip(&offsets) {
        let at = start + Duration::from_secs_f64(*offset);
        tokio::time::sleep_until(at.into()).await;
        let message_id = rec.message_id.clone().unwrap();
        let raw = bench::human_reply("dana@probe.test", &message_id, &rec.token);
        let t = Timestamp::now();
        let delivered = tokio::task::spawn_blocking(move || {
            kit::MailStack::shared().deliver(
                "support@vendor.test",
                &["dana@probe.test"],
                raw.as_bytes(),
            )
        });
        delivered.await.unwrap().unwrap();
        tracing::debug!(probe = %rec.id, truth = %t, "vendor replied");
        truth.push(t);
    }
    let noticed = watcher.await.unwrap();
    shutdown.cancel();
    daemon.await.unwrap().unwrap();

    let mut out = Vec::new();
    for ((rec, t), seen) in filed.iter().zip(&truth).zip(&noticed) {
        let r = engine.store().get(&rec.id).unwrap().unwrap();
        let seen = seen.unwrap_or_else(|| panic!("reply to {} never noticed: {r:#?}", rec.id));
        let recorded = r.first_human_at.unwrap();
        out.push(Sample {
            recorded_err: secs(recorded.duration_since(*t)),
            poll_time_err: secs(seen.duration_since(*t)),
        });
    }
    println!(
        "{BENCH}: poll {interval} s, IDLE {idle}: {} replies measured",
        out.len()
    );
    out
}
