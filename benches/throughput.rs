//! Measure 6 of BENCHMARKS.md: filing throughput, and that the caps and
//! at-most-once filing hold under that load.
//!
//! 50 vendors, 20 probes each (1 000), all due at once: the planned records
//! are written to the store, then the real engine path `Engine::file_due`
//! files them, round by round across the vendors. Each vendor's per-day cap
//! is 16, so 4 probes per vendor must be refused. Two runs:
//!
//! - **API**: each vendor is its own stateful ticket-API fake
//!   (`tests/kit/fake_api.rs`), the presets in turn: Zendesk, Jira
//!   Service Management, GitHub, Slack and a config-only generic API,
//!   10 vendors each, one API persona per vendor.
//! - **SMTP**: the real Postfix submission port (STARTTLS + AUTH) of the
//!   mail stack, two personas; every vendor's address is the stack's
//!   `support@vendor.test`, the vendor's name is in the subject.
//!
//! Then the vendor side is counted — the fakes' tickets, the vendor's
//! mailbox read over IMAP — and checked against the store: no token reached
//! a vendor twice, every probe recorded as filed has exactly one ticket or
//! mail at its own vendor, nothing reached a vendor without a probe record,
//! no vendor got more than its cap, and the refusals are recorded as cap
//! refusals. Any failure panics with what it found.
//!
//! Then both runs again under faults (unless `BENCH_FAULTS=0`):
//!
//! - **API**: each fake answers one create in 20 with 429 + `Retry-After: 1`
//!   (not processed: retried), one with 500 (maybe processed: `uncertain`,
//!   or repeated with the same key where the API has an idempotency header)
//!   and processes one but answers after the 1 s timeout (`uncertain`, the
//!   ticket exists; or repeated with the same key).
//! - **SMTP**: a proxy in front of the submission port cuts one connection
//!   in ten after a random number of the client's bytes (up to a whole
//!   transaction): before the data it is a definite failure, retried; after
//!   it the outcome is unknown (`uncertain`, never re-sent), and Postfix may
//!   or may not have taken the message.
//!
//! A third API run files into a store that already holds `BENCH_HISTORY`
//! (default 100 000, `0` to leave it out) finished probes of the past year.
//! Every `Channel::file` call is timed by a pass-through wrapper channel, so
//! the tables split a filing into the send and the rest (store, engine).
//!
//! `BENCH_ROUNDS` (default 20) changes the probes per vendor.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kit::bench::{self, Table, describe, fmt_secs};
use kit::proxy::{Fault, Proxy};
use kit::throughput::{
    CAP_PER_DAY, Run, VENDOR_MAILBOX, VENDORS, api_run, commit_time, file_all, head,
    is_cap_refusal, plant, planted_records, probe, timed_engine, verify,
};
use support_probe::model::{ProbeRecord, ProbeState};

const BENCH: &str = "throughput";

fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    bench::init();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .map_or(20, |s| s.parse().expect("BENCH_ROUNDS: a count"));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "{BENCH}: {VENDORS} vendors x {rounds} probes, per-day cap {CAP_PER_DAY}; machine: {}; load {}",
        bench::machine(),
        load.join(" ")
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let faults = std::env::var("BENCH_FAULTS").map_or(true, |v| v != "0");
    let history: usize = std::env::var("BENCH_HISTORY")
        .ok()
        .map_or(100_000, |s| s.parse().expect("BENCH_HISTORY: a count"));
    let mut runs = vec![
        rt.block_on(api_run(rounds, false, 0)),
        rt.block_on(smtp_run(rounds, false)),
    ];
    if history > 0 {
        runs.push(rt.block_on(api_run(rounds, false, history)));
    }
    if faults {
        runs.push(rt.block_on(api_run(rounds, true, 0)));
        runs.push(rt.block_on(smtp_run(rounds, true)));
    }

    let mut table = Table::new(
        BENCH,
        &format!(
            "6. Throughput: {} probes across {VENDORS} vendors due at once, `Engine::file_due`, \
             per-day cap {CAP_PER_DAY} (load average at start {})",
            VENDORS * rounds,
            load.join(" ")
        ),
        &[
            "channel",
            "probes decided",
            "filed",
            "uncertain",
            "not filed",
            "refused by cap",
            "wall time",
            "probes/s (all decided)",
            "filings/s (sent)",
            "filing latency (filed) median",
            "p90",
            "max",
        ],
    );
    for run in &runs {
        table.row(row(run));
    }
    table.emit();

    let mut checks = Table::new(
        BENCH,
        "6b. Vendor-side checks under that load (counted at the vendor, compared with the store)",
        &[
            "channel",
            "tickets/mails at vendors",
            "distinct tokens",
            "filed records with exactly one",
            "without a record",
            "max per vendor (cap)",
            "cap refusals recorded",
        ],
    );
    for run in &runs {
        checks.row(verify(run, rounds));
    }
    checks.emit();

    let mut split = Table::new(
        BENCH,
        "6c. Where the time goes: the sends (`Channel::file`, every attempt) and the rest \
         (store, engine), and one small store write transaction timed after each run",
        &[
            "run",
            "sends",
            "send median",
            "p90",
            "time in sends",
            "the rest, per decided probe",
            "one commit, median",
            "p90",
        ],
    );
    for run in &runs {
        let in_sends: f64 = run.sends.iter().sum();
        let (_, median, p90, _) = if run.sends.is_empty() {
            (0.0, 0.0, 0.0, 0.0)
        } else {
            describe(&run.sends)
        };
        let (c_median, c_p90) = run.commit.unwrap_or_default();
        split.row(vec![
            run.label.clone(),
            run.sends.len().to_string(),
            fmt_latency(median),
            fmt_latency(p90),
            fmt_secs(in_sends),
            fmt_latency((run.elapsed.as_secs_f64() - in_sends) / run.probes as f64),
            fmt_latency(c_median),
            fmt_latency(c_p90),
        ]);
    }
    split.emit();
}

/// The table row of a run.
fn row(run: &Run) -> Vec<String> {
    let count = |s: ProbeState| run.records.iter().filter(|r| r.state == s).count();
    let filed = count(ProbeState::Filed);
    let refused = run
        .records
        .iter()
        .filter(|r| r.state == ProbeState::Skipped && is_cap_refusal(r))
        .count();
    let uncertain = count(ProbeState::Uncertain);
    let not_filed = count(ProbeState::NotFiled);
    let latencies: Vec<f64> = run
        .records
        .iter()
        .filter(|r| r.state == ProbeState::Filed)
        .filter_map(|r| {
            let start = r.filing_started_at?;
            let end = r.attempts.last()?.at;
            Some(end.duration_since(start).as_secs_f64())
        })
        .collect();
    let (_, median, p90, max) = if latencies.is_empty() {
        (0.0, 0.0, 0.0, 0.0)
    } else {
        describe(&latencies)
    };
    let secs = run.elapsed.as_secs_f64();
    vec![
        run.label.clone(),
        run.probes.to_string(),
        filed.to_string(),
        uncertain.to_string(),
        not_filed.to_string(),
        refused.to_string(),
        fmt_secs(secs),
        format!("{:.0}", run.probes as f64 / secs),
        format!("{:.0}", filed as f64 / secs),
        fmt_latency(median),
        fmt_latency(p90),
        fmt_latency(max),
    ]
}

fn fmt_latency(s: f64) -> String {
    if s < 0.01 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        fmt_secs(s)
    }
}

/// The SMTP run: the real Postfix submission port, two personas.
async fn smtp_run(rounds: usize, faults: bool) -> Run {
    let stack = kit::MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let run = format!("run{:08x}", fastrand::u32(..));
    let personas = [
        bench::persona_imaps(stack, "dana", "dana@probe.test", false),
        bench::persona_imaps(stack, "eve", "eve@probe.test", false),
    ];
    // The head (caps, missed-grace), the stack's personas, the probes.
    let mut config = head(true);
    for p in &personas {
        config = config.persona(&p.text(stack, dir.path()));
    }
    for v in 0..VENDORS {
        config = config.probe(probe(v, &personas[v % 2].name, &run));
    }
    let mut text = config.build();
    let proxy = if faults {
        let proxy = Proxy::start(stack.smtp_submission_port).await;
        proxy.set(Fault::CutOneIn(10));
        let from = format!("port = {}\n", stack.smtp_submission_port);
        assert!(text.contains(&from));
        text = text.replace(&from, &format!("port = {}\n", proxy.port));
        Some(proxy)
    } else {
        None
    };
    let (engine, sends) = timed_engine(&text, dir.path());
    let planted = plant(&engine, rounds);
    let elapsed = file_all(&engine, if faults { "smtp, faults" } else { "smtp" }).await;
    if let Some(p) = &proxy {
        println!(
            "{BENCH}: smtp, faults: {} of {} connections cut",
            p.cuts(),
            p.connections()
        );
    }
    let records = planted_records(&engine, &planted);
    let commit = commit_time(&engine, &records);
    let sends = sends.lock().unwrap().clone();
    // Uncertain ones may or may not be there; they are awaited by the
    // mailbox no longer growing.
    let filed = records
        .iter()
        .filter(|r| r.state == ProbeState::Filed)
        .count();

    // Postfix delivers after its 250: wait until the vendor's mailbox has at
    // least what was filed and has stopped growing.
    let mails = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut last = usize::MAX;
        let mut stable_since = Instant::now();
        loop {
            let mine: Vec<_> = stack
                .fetch_all(VENDOR_MAILBOX, "INBOX")
                .unwrap()
                .into_iter()
                .filter(|m| m.header("Subject").is_some_and(|s| s.contains(&run)))
                .collect();
            if mine.len() != last {
                last = mine.len();
                stable_since = Instant::now();
            }
            if mine.len() >= filed && stable_since.elapsed() >= Duration::from_secs(3) {
                return mine;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "smtp: only {} of {filed} mails reached {VENDOR_MAILBOX} within 5 min",
                mine.len()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    })
    .await
    .unwrap();
    println!("{BENCH}: smtp: {} mails in {VENDOR_MAILBOX}", mails.len());

    let by_token: BTreeMap<&str, &ProbeRecord> =
        records.iter().map(|r| (r.token.as_str(), r)).collect();
    let mut received: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for m in &mails {
        let subject = m.header("Subject").unwrap();
        // "Throughput <run> <vendor> <token>"
        let words: Vec<&str> = subject.split_whitespace().collect();
        let (Some(vendor), Some(token)) = (words.get(2), words.get(3)) else {
            mismatches.push(format!("unexpected subject {subject:?}"));
            continue;
        };
        let mid = m
            .header("Message-ID")
            .unwrap_or_default()
            .trim_matches(|c| c == '<' || c == '>')
            .to_string();
        if let Some(r) = by_token.get(token)
            && r.message_id.as_deref() != Some(mid.as_str())
        {
            mismatches.push(format!(
                "{vendor}: {token} arrived as <{mid}>, recorded as {:?}",
                r.message_id
            ));
        }
        received
            .entry((*vendor).to_string())
            .or_default()
            .push((*token).to_string());
    }
    Run {
        label: match &proxy {
            Some(p) => format!(
                "SMTP, {} of {} connections cut at a random byte",
                p.cuts(),
                p.connections()
            ),
            None => "SMTP (Postfix submission, STARTTLS + AUTH)".into(),
        },
        probes: VENDORS * rounds,
        elapsed,
        records,
        received,
        mismatches,
        commit,
        sends,
    }
}
