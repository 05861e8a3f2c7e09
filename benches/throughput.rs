//! Measure 6 of BENCHMARKS.md: filing throughput, and that the caps and
//! at-most-once filing hold under that load.
//!
//! 50 vendors, 20 probes each (1 000), all due at once: the planned records
//! are written to the store, then the real engine path `Engine::file_due`
//! files them, round by round across the vendors. Each vendor's per-day cap
//! is 16, so 4 probes per vendor must be refused. Two runs:
//!
//! - **API**: each vendor is its own stateful ticket-API fake
//!   (`tests/support/fake_api.rs`), the presets in turn: Zendesk, Jira
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

mod common;

#[path = "../tests/kit/fake_api.rs"]
mod fake_api;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{PersonaSpec, Table, describe, fmt_secs};
use fake_api::{Fake, Fault, Flavor, HELPY_SPEC};
use jiff::SignedDuration;
use support_probe::channel::{
    Channel, ChannelError, CourtesyDone, Fetched, FileOutcome, FoundTicket, OpenTicket, Outgoing,
};
use support_probe::clock::{Clock, SystemClock};
use support_probe::config;
use support_probe::engine::Engine;
use support_probe::engine::draft_record;
use support_probe::model::{Origin, ProbeRecord, ProbeState};
use support_probe::store::{Mode, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BENCH: &str = "throughput";
const VENDORS: usize = 50;
const CAP_PER_DAY: usize = 16;
const FLAVORS: [Flavor; 5] = [
    Flavor::Zendesk,
    Flavor::Jsm,
    Flavor::Github,
    Flavor::Slack,
    Flavor::Helpy,
];
const VENDOR_MAILBOX: &str = "support@vendor.test";

/// What one run measured.
struct Run {
    label: String,
    probes: usize,
    elapsed: Duration,
    records: Vec<ProbeRecord>,
    /// Vendor-side deliveries: vendor name → tokens received (one entry per ticket/mail).
    received: BTreeMap<String, Vec<String>>,
    /// Per-ticket / per-mail cross-checks against the record (ticket id or Message-ID).
    mismatches: Vec<String>,
    /// Median and p90 of one small store write transaction (a record rewritten), seconds.
    commit: Option<(f64, f64)>,
    /// How long each `Channel::file` call took (every attempt), seconds.
    sends: Vec<f64>,
}

fn main() {
    if !common::measuring(BENCH) {
        return;
    }
    common::init();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .map_or(20, |s| s.parse().expect("BENCH_ROUNDS: a count"));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "{BENCH}: {VENDORS} vendors x {rounds} probes, per-day cap {CAP_PER_DAY}; machine: {}; load {}",
        common::machine(),
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

fn is_cap_refusal(r: &ProbeRecord) -> bool {
    r.state_reason
        .as_deref()
        .is_some_and(|s| s.starts_with("cap reached:"))
}

/// Checks the invariants of a run; panics with what it found when one fails.
fn verify(run: &Run, rounds: usize) -> Vec<String> {
    let label = &run.label;
    assert!(
        run.mismatches.is_empty(),
        "{label}: deliveries that disagree with their record:\n{}",
        run.mismatches.join("\n")
    );
    assert_eq!(
        run.records.len(),
        run.probes,
        "{label}: planted records missing from the store"
    );
    let by_token: BTreeMap<&str, &ProbeRecord> =
        run.records.iter().map(|r| (r.token.as_str(), r)).collect();
    // At most once: a token reaches the vendors once.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for tokens in run.received.values() {
        for t in tokens {
            *seen.entry(t.as_str()).or_default() += 1;
        }
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dups.is_empty(),
        "{label}: tokens received more than once: {dups:?}"
    );
    // Nothing without a record, and each at its own vendor.
    let mut orphans = Vec::new();
    for (vendor, tokens) in &run.received {
        for t in tokens {
            match by_token.get(t.as_str()) {
                None => orphans.push(format!("{vendor}: {t}")),
                Some(r) if &r.vendor != vendor => {
                    panic!("{label}: {t} of vendor {} arrived at {vendor}", r.vendor)
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "{label}: received without a probe record: {orphans:?}"
    );
    // Every record settled; every filed record exactly once at the vendor,
    // nothing that is not filed (or uncertain) at the vendor at all.
    let mut filed_once = 0;
    for r in &run.records {
        let n = seen.get(r.token.as_str()).copied().unwrap_or(0);
        match r.state {
            ProbeState::Filed => {
                assert_eq!(
                    n, 1,
                    "{label}: filed {} ({}) reached the vendor {n} times",
                    r.id, r.vendor
                );
                filed_once += 1;
            }
            ProbeState::Uncertain => assert!(
                n <= 1,
                "{label}: uncertain {} reached the vendor {n} times",
                r.id
            ),
            ProbeState::Skipped | ProbeState::NotFiled => assert_eq!(
                n, 0,
                "{label}: {} is {} ({:?}) but reached the vendor",
                r.id, r.state, r.state_reason
            ),
            other => panic!("{label}: {} left in state {other} after file_due", r.id),
        }
    }
    // Caps: per vendor, at most the cap reached it, and exactly the probes
    // beyond the cap (counting those that may have reached it) were refused
    // for the cap.
    let mut max_per_vendor = 0;
    let mut cap_refusals = 0;
    for v in 0..VENDORS {
        let vendor = format!("v{v:02}");
        let got = run.received.get(&vendor).map_or(0, Vec::len);
        assert!(
            got <= CAP_PER_DAY,
            "{label}: {vendor} received {got}, over its per-day cap of {CAP_PER_DAY}"
        );
        max_per_vendor = max_per_vendor.max(got);
        let mine: Vec<&ProbeRecord> = run.records.iter().filter(|r| r.vendor == vendor).collect();
        let may_have_reached = mine
            .iter()
            .filter(|r| matches!(r.state, ProbeState::Filed | ProbeState::Uncertain))
            .count();
        let not_filed = mine
            .iter()
            .filter(|r| r.state == ProbeState::NotFiled)
            .count();
        let refused = mine.iter().filter(|r| is_cap_refusal(r)).count();
        let other_skips = mine
            .iter()
            .filter(|r| r.state == ProbeState::Skipped && !is_cap_refusal(r))
            .map(|r| r.state_reason.clone().unwrap_or_default())
            .collect::<Vec<_>>();
        assert!(
            other_skips.is_empty(),
            "{label}: {vendor} has probes skipped for other reasons: {other_skips:?}"
        );
        let expected_refused = (rounds - not_filed).saturating_sub(CAP_PER_DAY);
        assert!(
            may_have_reached <= CAP_PER_DAY && refused == expected_refused,
            "{label}: {vendor}: {may_have_reached} filed or uncertain, {not_filed} not filed, \
             {refused} refused for the cap; expected {expected_refused} refusals"
        );
        cap_refusals += refused;
    }
    vec![
        label.clone(),
        seen.values().sum::<usize>().to_string(),
        seen.len().to_string(),
        format!("{filed_once} of {filed_once}"),
        "0".into(),
        format!("{max_per_vendor} ({CAP_PER_DAY})"),
        format!(
            "{cap_refusals} (expected {})",
            VENDORS * rounds.saturating_sub(CAP_PER_DAY)
        ),
    ]
}

/// The `[daemon]` table and the vendors, with the bench's caps.
fn head(addresses: bool) -> String {
    // A missed-grace of an hour: a slow run must not turn the last probes
    // into "missed" skips, which would hide what the caps did.
    let mut text =
        String::from("[daemon]\nmissed-grace = \"1h\"\nfiling-retry-window = \"5s\"\n\n");
    for v in 0..VENDORS {
        text.push_str(&format!("[[vendor]]\nname = \"v{v:02}\"\n"));
        if addresses {
            text.push_str(&format!("addresses = [\"{VENDOR_MAILBOX}\"]\n"));
        }
        text.push_str(&format!(
            "caps = {{ per-day = {CAP_PER_DAY}, per-week = 100 }}\n\n"
        ));
    }
    text
}

/// A probe for vendor `v` through `persona` that never fires by itself.
fn probe(v: usize, persona: &str, run: &str) -> String {
    format!(
        "[[probe]]\nname = \"v{v:02}-probe\"\nvendor = \"v{v:02}\"\npersona = \"{persona}\"\n\
         schedule = \"0 0 3 1 1 *\"\nzones = [\"UTC\"]\n\
         subject = \"Throughput {run} {{vendor}} {{token}}\"\n\
         body = \"Hello, this is a scheduled support-response test.\"\n\n"
    )
}

/// Writes `rounds` planned records per vendor, all due now: round k of every
/// vendor is due before round k+1 of any, so the filing interleaves vendors
/// and the caps bite at the end of the run, for every vendor.
fn plant(engine: &Engine, rounds: usize) -> BTreeSet<String> {
    let config = engine.config();
    let start = SystemClock.now() - SignedDuration::from_secs(1);
    let mut recs = Vec::new();
    for k in 0..rounds {
        let fire = start + SignedDuration::from_millis(k as i64);
        for v in 0..VENDORS {
            let p = config.probe(&format!("v{v:02}-probe")).unwrap();
            let channel = engine.channel(&p.persona).unwrap();
            recs.push(
                draft_record(
                    config,
                    p,
                    "UTC",
                    fire,
                    Origin::Schedule,
                    start,
                    SignedDuration::ZERO,
                    Some(&**channel),
                )
                .unwrap(),
            );
        }
    }
    engine
        .store()
        .write(|tx| recs.iter().try_for_each(|r| tx.put(r)))
        .unwrap();
    recs.iter().map(|r| r.id.to_string()).collect()
}

/// The records of the planted probes, as the store has them now.
fn planted_records(engine: &Engine, planted: &BTreeSet<String>) -> Vec<ProbeRecord> {
    engine
        .store()
        .all()
        .unwrap()
        .into_iter()
        .filter(|r| planted.contains(r.id.as_str()))
        .collect()
}

/// Fills the store with `n` finished probes (unanswered, filed and censored)
/// spread over the past year up to 8 days ago, round-robin over the
/// vendors: a store that has run for a while. None counts against a cap.
fn plant_history(engine: &Engine, n: usize) {
    let started = Instant::now();
    let config = engine.config();
    let now = SystemClock.now();
    let span = SignedDuration::from_hours(24 * 357).as_secs();
    let mut recs = Vec::with_capacity(n);
    for i in 0..n {
        let v = i % VENDORS;
        let p = config.probe(&format!("v{v:02}-probe")).unwrap();
        let channel = engine.channel(&p.persona).unwrap();
        let age = SignedDuration::from_hours(24 * 8)
            + SignedDuration::from_secs(span * (n - i) as i64 / n as i64);
        let fire = now - age;
        let mut r = draft_record(
            config,
            p,
            "UTC",
            fire,
            Origin::Schedule,
            fire,
            SignedDuration::ZERO,
            Some(&**channel),
        )
        .unwrap();
        r.state = ProbeState::Unanswered;
        r.filing_started_at = Some(fire);
        r.filed_at = Some(fire);
        r.censored_at = Some(fire + SignedDuration::from_hours(48));
        r.vendor_refs.push(format!("old-{i}"));
        recs.push(r);
    }
    for chunk in recs.chunks(10_000) {
        engine
            .store()
            .write(|tx| chunk.iter().try_for_each(|r| tx.put(r)))
            .unwrap();
    }
    println!(
        "{BENCH}: api: {n} past probes written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Files everything due, timed.
async fn file_all(engine: &Engine, label: &str) -> Duration {
    let started = Instant::now();
    let reports = engine.file_due().await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "{BENCH}: {label}: {} probes decided in {:.2} s",
        reports.len(),
        elapsed.as_secs_f64()
    );
    elapsed
}

/// Every `SP-` token in `text`.
fn tokens(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("SP-") {
        let cand = &rest[i + 3..];
        let id: String = cand
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if id.len() == 10 {
            out.insert(format!("SP-{id}"));
        }
        rest = &rest[i + 3..];
    }
    out
}

/// The `[persona.api]` table of `flavor` against `base` (as tests/api_channels.rs builds them).
fn api_table(flavor: Flavor, base: &str, token: &Path) -> String {
    let token = token.display();
    match flavor {
        Flavor::Zendesk => format!(
            "preset = \"zendesk\"\nbase-url = \"{base}\"\nusername = \"dana@probe.example/token\"\n\
             token = {{ file = \"{token}\" }}\nparams = {{ bot_user_ids = \"900,901\" }}\n"
        ),
        Flavor::Jsm => format!(
            "preset = \"jsm\"\nbase-url = \"{base}\"\nusername = \"dana@probe.example\"\n\
             token = {{ file = \"{token}\" }}\nparams = {{ service_desk_id = \"1\", request_type_id = \"7\", \
             account_id = \"acc-us\", automation_account_ids = \"acc-bot\" }}\n"
        ),
        Flavor::Github => format!(
            "preset = \"github\"\nbase-url = \"{base}\"\ntoken = {{ file = \"{token}\" }}\n\
             params = {{ owner = \"acme\", repo = \"support\", user = \"dana-probe\", org = \"acme\" }}\n"
        ),
        Flavor::Slack => format!(
            "preset = \"slack\"\nbase-url = \"{base}\"\ntoken = {{ file = \"{token}\" }}\n\
             params = {{ channel = \"C0SHARED\", user_id = \"U0US\", team_id = \"T0US\" }}\n"
        ),
        Flavor::Helpy => format!(
            r#"preset = "generic"
base-url = "{base}"
auth = "header:X-Helpy-Key"
token = {{ file = "{token}" }}
params = {{ me = "cust-1" }}

{HELPY_SPEC}"#
        ),
    }
}

/// The API run: one fake per vendor, the presets in turn.
async fn api_run(rounds: usize, faults: bool, history: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let token = dir.path().join("api.token");
    std::fs::write(&token, "bench-token").unwrap();
    let mut fakes = Vec::new();
    let mut text = head(false);
    for v in 0..VENDORS {
        let flavor = FLAVORS[v % FLAVORS.len()];
        let fake = Fake::start(flavor, Arc::clone(&clock), Vec::new()).await;
        let mut api = api_table(flavor, &fake.base, &token);
        if faults {
            // A no-op "fault" keeps the others at their place in the queue.
            let queue = (0..rounds * 2).map(|i| match i % 20 {
                5 => Fault::Status(429, Some(1)),
                10 => Fault::Status(500, None),
                15 => Fault::Stall(Duration::from_millis(1500)),
                _ => Fault::Stall(Duration::ZERO),
            });
            fake.with(|s| s.create_faults.extend(queue));
            api = format!("timeout = \"1s\"\n{api}");
        }
        text.push_str(&format!(
            "[[persona]]\nname = \"p{v:02}\"\ndisplay-name = \"Bench {v:02}\"\n\
             address = \"p{v:02}@probe.test\"\n\n[persona.api]\n{api}\n"
        ));
        fakes.push(fake);
    }
    for v in 0..VENDORS {
        text.push_str(&probe(v, &format!("p{v:02}"), "api"));
    }
    let (engine, sends) = timed_engine(&text, dir.path());
    if history > 0 {
        plant_history(&engine, history);
    }
    let planted = plant(&engine, rounds);
    let elapsed = file_all(&engine, if faults { "api, faults" } else { "api" }).await;
    let records = planted_records(&engine, &planted);
    let commit = commit_time(&engine, &records);
    let sends = sends.lock().unwrap().clone();
    let by_token: BTreeMap<&str, &ProbeRecord> =
        records.iter().map(|r| (r.token.as_str(), r)).collect();
    let mut received: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (v, fake) in fakes.iter().enumerate() {
        let vendor = format!("v{v:02}");
        let (tickets, creates) = fake.with(|s| (s.tickets.clone(), s.creates));
        let keyed = tickets.iter().any(|t| t.idempotency_key.is_some());
        if creates != tickets.len() && !(faults && keyed) {
            mismatches.push(format!(
                "{vendor}: {creates} create requests for {} tickets",
                tickets.len()
            ));
        }
        for t in &tickets {
            let found = tokens(&t.request.to_string());
            if found.len() != 1 {
                mismatches.push(format!(
                    "{vendor}: ticket {} carries tokens {found:?}",
                    t.id
                ));
            }
            for tok in found {
                if let Some(r) = by_token.get(tok.as_str())
                    && r.state == ProbeState::Filed
                    && !r.vendor_refs.contains(&t.id)
                {
                    mismatches.push(format!(
                        "{vendor}: {} recorded ticket {:?}, the vendor has {}",
                        r.id, r.vendor_refs, t.id
                    ));
                }
                received.entry(vendor.clone()).or_default().push(tok);
            }
        }
    }
    Run {
        label: if faults {
            "API fakes, with 429 / 500 / late answer on 3 creates in 20".into()
        } else if history > 0 {
            format!("API fakes, the store already holding {history} past probes")
        } else {
            "API fakes (Zendesk, JSM, GitHub, Slack, generic; 10 vendors each)".into()
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

/// Median and p90 of 200 small store write transactions, each rewriting one
/// record unchanged, as each step of a filing does (the store's own cost).
fn commit_time(engine: &Engine, records: &[ProbeRecord]) -> Option<(f64, f64)> {
    // A moment for the disk to settle after the run's last commit.
    std::thread::sleep(Duration::from_millis(500));
    let ids: Vec<_> = records.iter().take(200).map(|r| r.id.clone()).collect();
    let times: Vec<f64> = ids
        .iter()
        .map(|id| {
            let t = Instant::now();
            engine.store().write(|tx| tx.update(id, |_| {})).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let (_, median, p90, _) = describe(&times);
    Some((median, p90))
}

/// The SMTP run: the real Postfix submission port, two personas.
async fn smtp_run(rounds: usize, faults: bool) -> Run {
    let stack = common::support::MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let run = format!("run{:08x}", fastrand::u32(..));
    let personas = [
        PersonaSpec::imaps(stack, "dana", "dana@probe.test", false),
        PersonaSpec::imaps(stack, "eve", "eve@probe.test", false),
    ];
    let mut probes = String::new();
    for v in 0..VENDORS {
        probes.push_str(&probe(v, &personas[v % 2].name, &run));
    }
    // The mail stack's personas, from the shared builder; the head (caps,
    // missed-grace) replaces its [daemon] table and vendors.
    let full = common::config_text(
        stack,
        dir.path(),
        Duration::from_secs(60),
        0,
        &personas,
        &probes,
    );
    let personas_and_probes = full
        .split_once("[[persona]]")
        .map(|(_, rest)| format!("[[persona]]{rest}"))
        .unwrap();
    let mut text = format!("{}{personas_and_probes}", head(true));
    let proxy = if faults {
        let proxy = CutProxy::start(stack.smtp_submission_port, 10).await;
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
            p.cuts.load(Ordering::SeqCst),
            p.connections.load(Ordering::SeqCst)
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
                p.cuts.load(Ordering::SeqCst),
                p.connections.load(Ordering::SeqCst)
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

/// A TCP proxy that cuts about one connection in `one_in` after a random
/// number of the client's bytes, at most as many as a whole transaction
/// took (learned from the connections it let through). The first
/// connection always passes.
struct CutProxy {
    port: u16,
    connections: Arc<AtomicUsize>,
    cuts: Arc<AtomicUsize>,
}

impl CutProxy {
    async fn start(upstream: u16, one_in: u32) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let cuts = Arc::new(AtomicUsize::new(0));
        let whole = Arc::new(AtomicU64::new(0));
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(6)));
        let (conns, cut_count) = (Arc::clone(&connections), Arc::clone(&cuts));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                conns.fetch_add(1, Ordering::SeqCst);
                let typical = whole.load(Ordering::SeqCst);
                let cut_at = {
                    let mut rng = rng.lock().unwrap();
                    (typical > 0 && rng.u32(..one_in) == 0).then(|| rng.u64(1..=typical))
                };
                let (whole, cut_count) = (Arc::clone(&whole), Arc::clone(&cut_count));
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let down = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                        let _ = cw.shutdown().await;
                    });
                    let mut sent = 0u64;
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let n = match cut_at {
                            Some(at) => n.min(usize::try_from(at - sent).unwrap()),
                            None => n,
                        };
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent += n as u64;
                        if cut_at == Some(sent) {
                            // Both directions die here, as when a link drops.
                            cut_count.fetch_add(1, Ordering::SeqCst);
                            down.abort();
                            return;
                        }
                    }
                    let _ = sw.shutdown().await;
                    let _ = down.await;
                    if cut_at.is_none() {
                        whole.fetch_max(sent, Ordering::SeqCst);
                    }
                });
            }
        });
        CutProxy {
            port,
            connections,
            cuts,
        }
    }
}

/// An engine on `text` (store in `dir/state`) whose channels time every
/// `Channel::file` call; otherwise as `common::engine`.
fn timed_engine(text: &str, dir: &Path) -> (Arc<Engine>, Arc<Mutex<Vec<f64>>>) {
    let config = config::parse_str(text, &dir.join("probes.toml"))
        .unwrap()
        .config;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let names: Vec<&str> = config.personas.iter().map(|p| p.name.as_str()).collect();
    let sends = Arc::new(Mutex::new(Vec::new()));
    let channels: BTreeMap<String, Arc<dyn Channel>> =
        support_probe::cli::wiring::channels(&config, &names, &clock)
            .unwrap()
            .into_iter()
            .map(|(name, inner)| {
                let timed: Arc<dyn Channel> = Arc::new(Timed {
                    inner,
                    sends: Arc::clone(&sends),
                });
                (name, timed)
            })
            .collect();
    let store = Store::open(&dir.join("state"), Mode::Exclusive).unwrap();
    let engine = Engine::new(Arc::new(config), Arc::new(store), clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(200));
    (Arc::new(engine), sends)
}

/// A channel that times `file` and passes everything through.
#[derive(Debug)]
struct Timed {
    inner: Arc<dyn Channel>,
    sends: Arc<Mutex<Vec<f64>>>,
}

#[async_trait::async_trait]
impl Channel for Timed {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn watch_key(&self) -> String {
        self.inner.watch_key()
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        let started = Instant::now();
        let outcome = self.inner.file(probe).await;
        self.sends
            .lock()
            .unwrap()
            .push(started.elapsed().as_secs_f64());
        outcome
    }

    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<jiff::Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.inner.fetch(position, since).await
    }

    fn longest_wait(&self, max: Duration) -> Duration {
        self.inner.longest_wait(max)
    }

    async fn wait(
        &self,
        position: Option<&serde_json::Value>,
        max: Duration,
    ) -> Result<(), ChannelError> {
        self.inner.wait(position, max).await
    }

    async fn fetch_open(
        &self,
        open: &[OpenTicket],
        position: Option<&serde_json::Value>,
        since: Option<jiff::Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.inner.fetch_open(open, position, since).await
    }

    async fn find_filed(
        &self,
        token: &str,
        since: jiff::Timestamp,
    ) -> Result<Option<FoundTicket>, ChannelError> {
        self.inner.find_filed(token, since).await
    }

    fn has_courtesy(&self) -> bool {
        self.inner.has_courtesy()
    }

    async fn courtesy(&self, ticket: &str) -> Result<CourtesyDone, ChannelError> {
        self.inner.courtesy(ticket).await
    }
}
