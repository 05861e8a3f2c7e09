//! Measure 4 of BENCHMARKS.md: reading scale — `probe report` and the
//! weekly digest over stores of 10 k, 100 k and 1 M probes.
//!
//! The probes are realistic: the demo (`src/demo`, the real engine,
//! matcher, classifier and store on simulated helpdesks) runs two weeks
//! once, and its records — acknowledgements, human replies, bounces,
//! unanswered and skipped probes, with their messages — are cloned with new
//! ids, tokens and Message-IDs, shifted by whole weeks over 26 weeks (so
//! each keeps its weekday and window) and spread over 20 vendors and 3
//! personas. They are written through `WriteTx::put` (every index kept, as
//! the daemon writes them) in transactions of `BATCH` probes.
//!
//! Then the release `probe` binary runs, `BENCH_RUNS` times each (default
//! 3; the median is reported): `report --week W`, `report` over the whole
//! store, and `digest --week W --preview FILE`. Store bytes per probe is the
//! size of `probes.redb` after the writes. A second table times the phases
//! in process (reading the store, building the reports) to say where the
//! time goes.
//!
//! Settings: `BENCH_SIZES` (default `10000,100000,1000000`), `BENCH_RUNS`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use kit::bench::{self, Table, describe, fmt_secs};
use kit::config::{ConfigText, Probe, Vendor, offline_persona};
use support_probe::model::{
    Attempt, Class, DetectedLanguage, MessageRecord, ProbeId, ProbeRecord, Quality, Relabel,
    Resolution, TimeSource, Trait,
};
use support_probe::report::{self, Dim, IsoWeek, Options, Period};
use support_probe::store::{Mode, Store, StoreError};

const BENCH: &str = "report_scale";
/// The demo run the templates come from: two weeks from a Monday.
const DEMO_START: &str = "2026-04-27T00:00:00Z";
const DEMO_DAYS: u32 = 14;
/// Clones are shifted by 0..WEEKS whole weeks.
const WEEKS: i64 = 26;
/// Each demo vendor becomes this many vendors (`swiftcdn-0` ..).
const VENDOR_COPIES: usize = 5;
const PERSONAS: [(&str, &str); 3] = [("dana-eu", "eu"), ("dana-us", "us"), ("dana-ap", "ap")];
/// Probes per write transaction.
const BATCH: usize = 20_000;
/// The week reported and digested: in the middle of the 26.
const WEEK: &str = "2026-W30";

/// The demo vendors' calendars and SLAs (as in src/demo/demo.toml).
const VENDOR_BODIES: [(&str, &str); 4] = [
    (
        "swiftcdn",
        "helpdesk = \"zendesk\"\n[vendor.business-hours]\nzone = \"America/New_York\"\n\
         days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nhours = [\"09:00-17:00\"]\n\
         [vendor.sla]\nP1 = \"1h\"\n",
    ),
    (
        "officehours-stream",
        "helpdesk = \"freshdesk\"\n[vendor.business-hours]\nzone = \"Europe/Berlin\"\n\
         days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
         hours = [\"09:00-12:30\", \"13:30-17:00\"]\nholidays = [\"2026-11-11\"]\n\
         [vendor.sla]\nP1 = \"1h\"\n",
    ),
    (
        "silent-saas",
        "[vendor.business-hours]\nzone = \"America/Los_Angeles\"\n\
         days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nhours = [\"08:00-18:00\"]\n",
    ),
    ("gone-vendor", ""),
];

fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    bench::init();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_SIZES: counts"))
        .collect();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .map_or(3, |s| s.parse().expect("BENCH_RUNS: a count"));

    let work = tempfile::tempdir().unwrap();
    let templates = demo_records(&work.path().join("demo"));
    let json_bytes: usize = templates
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap().len())
        .sum();
    println!(
        "{} template probes from the demo, {:.0} bytes of JSON each on average",
        templates.len(),
        json_bytes as f64 / templates.len() as f64
    );
    let config = work.path().join("probes.toml");
    std::fs::write(&config, config_text()).unwrap();

    let mut table = Table::new(
        BENCH,
        &format!(
            "Reading scale: median of {runs} runs of the release binary; {}; load {}",
            bench::machine(),
            load()
        ),
        &[
            "probes",
            "store bytes / probe",
            "write (all)",
            &format!("report --week {WEEK}"),
            "report (whole store)",
            &format!("digest --week {WEEK} --preview"),
        ],
    );
    let mut phases = Table::new(
        BENCH,
        "Where the time goes (in process, one run)",
        &[
            "probes",
            "read week rows",
            "build week report",
            "read all rows",
            "build whole report",
            "(decode every full record)",
        ],
    );
    let mut growth: Vec<(usize, [f64; 3])> = Vec::new();
    for &n in &sizes {
        let state = work.path().join(format!("state-{n}"));
        let t = Instant::now();
        write_store(&state, &templates, n);
        let write = t.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(state.join(support_probe::store::FILE_NAME))
            .unwrap()
            .len();
        let preview = work.path().join(format!("digest-{n}.html"));
        let week_args = ["report", "--week", WEEK];
        let whole_args = ["report"];
        let digest_args = [
            "digest",
            "--week",
            WEEK,
            "--preview",
            preview.to_str().unwrap(),
        ];
        let week = median_of(runs, || time_cli(&config, &state, &week_args));
        let whole = median_of(runs, || time_cli(&config, &state, &whole_args));
        let digest = median_of(runs, || time_cli(&config, &state, &digest_args));
        table.row(vec![
            n.to_string(),
            format!("{:.0}", bytes as f64 / n as f64),
            fmt_secs(write),
            fmt_secs(week),
            fmt_secs(whole),
            fmt_secs(digest),
        ]);
        phases.row(in_process(&config, &state, n));
        if n == *sizes.iter().max().unwrap() {
            by_table(&state, n, bytes);
        }
        growth.push((n, [week, whole, digest]));
        println!(
            "{n}: {} bytes/probe, week {week:.3} s, whole {whole:.3} s, digest {digest:.3} s",
            bytes / n as u64
        );
        std::fs::remove_dir_all(&state).unwrap();
    }
    table.emit();
    phases.emit();
    if growth.len() > 1 {
        let mut g = Table::new(
            BENCH,
            "How time grows with size (ratio of times / ratio of sizes, from the previous size)",
            &["probes", "report --week", "report (whole)", "digest"],
        );
        for w in growth.windows(2) {
            let (n0, t0) = w[0];
            let (n1, t1) = w[1];
            let size = n1 as f64 / n0 as f64;
            let cell = |i: usize| format!("{:.2}", (t1[i] / t0[i]) / size);
            g.row(vec![format!("{n0} → {n1}"), cell(0), cell(1), cell(2)]);
        }
        g.emit();
    }
}

/// Runs the demo once and returns its records.
fn demo_records(dir: &Path) -> Vec<ProbeRecord> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start: Timestamp = DEMO_START.parse().unwrap();
    let out = rt
        .block_on(support_probe::demo::run(dir, start, DEMO_DAYS, 7))
        .unwrap();
    assert!(out.mismatches.is_empty(), "{:?}", out.mismatches);
    out.probes
}

/// 20 vendors (5 copies of each demo vendor, same calendars), 3 personas,
/// one probe per vendor.
/// one probe each.
fn config_text() -> String {
    let mut text = ConfigText::new();
    for (name, body) in VENDOR_BODIES {
        for c in 0..VENDOR_COPIES {
            text = text.vendor(
                Vendor::new(&format!("{name}-{c}"))
                    .address(&format!("support@{name}-{c}.example"))
                    .extra(body),
            );
        }
    }
    for (name, region) in PERSONAS {
        text = text.persona(&offline_persona(
            name,
            &format!("Bench {name}"),
            &format!("{name}@probe.example"),
            &format!("region = \"{region}\"\n"),
        ));
    }
    // One probe per vendor so the config is complete; it never fires here.
    for (name, _) in VENDOR_BODIES {
        for c in 0..VENDOR_COPIES {
            text = text.probe(
                Probe::never(
                    &format!("{name}-{c}-nightly"),
                    &format!("{name}-{c}"),
                    "dana-eu",
                )
                .body("Hello."),
            );
        }
    }
    text.build()
}

/// Writes `n` clones of `templates` into a new store in `state`.
fn write_store(state: &Path, templates: &[ProbeRecord], n: usize) {
    let store = Store::open(state, Mode::Exclusive).unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        let batch: Vec<ProbeRecord> = (i..end)
            .map(|k| {
                let t = &templates[k % templates.len()];
                let weeks = rng.i64(0..WEEKS);
                let vendor = format!("{}-{}", t.vendor, rng.usize(0..VENDOR_COPIES));
                let persona = PERSONAS[rng.usize(0..PERSONAS.len())].0.to_string();
                let mut p = clone_probe(
                    t,
                    SignedDuration::from_hours(24 * 7 * weeks),
                    vendor,
                    persona,
                );
                with_scorecard_evidence(&mut p, k);
                p
            })
            .collect();
        store
            .write(|tx| {
                for p in &batch {
                    tx.put(p)?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        i = end;
    }
}

/// A copy of `t` as a different probe: new id, token and Message-IDs, every
/// instant moved by `shift`.
fn clone_probe(
    t: &ProbeRecord,
    shift: SignedDuration,
    vendor: String,
    persona: String,
) -> ProbeRecord {
    let s = |x: Timestamp| x.checked_add(shift).unwrap();
    let id = ProbeId::generate(s(t.scheduled_for));
    let token = id.token();
    let retoken = |x: &Option<String>| x.as_ref().map(|v| v.replace(&t.token, &token));
    let key = |k: &str| format!("{k}:{id}");
    let messages = t
        .messages
        .iter()
        .map(|m| MessageRecord {
            key: key(&m.key),
            message_id: m.message_id.as_ref().map(|x| format!("{id}.{x}")),
            at: s(m.at),
            date_header: m.date_header.map(s),
            received_header: m.received_header.map(s),
            subject: retoken(&m.subject),
            relabel: m.relabel.as_ref().map(|r| Relabel {
                at: s(r.at),
                ..r.clone()
            }),
            ..m.clone()
        })
        .collect();
    ProbeRecord {
        token: token.clone(),
        vendor,
        persona,
        scheduled_for: s(t.scheduled_for),
        due_at: s(t.due_at),
        subject: retoken(&t.subject),
        message_id: t.message_id.as_ref().map(|_| format!("{id}@probe.example")),
        filing_started_at: t.filing_started_at.map(s),
        filed_at: t.filed_at.map(s),
        first_ack_at: t.first_ack_at.map(s),
        first_human_at: t.first_human_at.map(s),
        first_human_key: t.first_human_key.as_deref().map(key),
        censored_at: t.censored_at.map(s),
        messages,
        attempts: t
            .attempts
            .iter()
            .map(|a| Attempt {
                at: s(a.at),
                ..a.clone()
            })
            .collect(),
        id,
        ..t.clone()
    }
}

/// Gives a clone the evidence the scorecard reads, as the engine records
/// it: a language and (every other probe) an `expect` on the probe, the
/// judged traits on each human reply (varied by `k`, so every rate is
/// neither 0 nor 1), and a resolution an hour after the first human reply
/// on a third of the answered ones. The demo's records may lack it; the
/// rows the reports read then carry it as they will in use.
fn with_scorecard_evidence(p: &mut ProbeRecord, k: usize) {
    p.language = Some(if k.is_multiple_of(4) { "zh-CN" } else { "en" }.to_string());
    if k.is_multiple_of(2) {
        p.expect = vec![r"status\.example\.com".to_string()];
    }
    let judged = |v: bool| Some(Trait::judged(v, "bench"));
    let mut nth = 0usize;
    for m in p.messages.iter_mut() {
        if m.effective_class() != Class::Human {
            continue;
        }
        nth += 1;
        let j = k + nth;
        m.quality = Some(Quality {
            language: Some(DetectedLanguage {
                tag: if j.is_multiple_of(5) { "zh" } else { "en" }.to_string(),
                confidence: 90,
            }),
            new_words: 40 + (j % 60) as u32,
            personal: judged(j.is_multiple_of(2)),
            templated: judged(j.is_multiple_of(3)),
            specific: judged(j % 5 < 2),
            asks_back: judged(j.is_multiple_of(7)),
            answers: (!p.expect.is_empty()).then(|| Trait::judged(j % 3 != 1, "bench")),
            signature: (0..32u32)
                .map(|i| i.wrapping_mul(2_654_435_761) ^ j as u32)
                .collect(),
        });
    }
    if k.is_multiple_of(3)
        && let Some(first) = p.first_human_at
    {
        p.resolution = Some(Resolution {
            at: first.checked_add(SignedDuration::from_hours(1)).unwrap(),
            time_source: TimeSource::Simulated,
            by: "status solved (API)".to_string(),
        });
    }
}

/// Wall-clock seconds of one `probe` run (output discarded; it must
/// succeed and use the config, i.e. print no warning).
fn time_cli(config: &Path, state: &Path, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = kit::run::command(config, Some(state))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    let elapsed = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "probe {args:?} failed: {stderr}");
    assert!(stderr.trim().is_empty(), "probe {args:?}: {stderr}");
    elapsed
}

fn median_of(runs: usize, mut f: impl FnMut() -> f64) -> f64 {
    let xs: Vec<f64> = (0..runs.max(1)).map(|_| f()).collect();
    describe(&xs).1
}

/// The phases of a report in process, as the CLI runs them: reading the
/// reading rows (of the week and the one before, or of every probe), then
/// building the report; and, for comparison, decoding every full record.
fn in_process(config: &Path, state: &Path, n: usize) -> Vec<String> {
    let config = support_probe::config::load(config).unwrap().config;
    let tz = &config.report.zone;
    let now = Timestamp::now();
    let store = Store::open(state, Mode::Shared).unwrap();
    let week: IsoWeek = WEEK.parse().unwrap();
    let period = Period::week(week, tz).unwrap();
    let previous = period.previous(tz).unwrap();
    // Our side as `probe report` reads it from the store.
    let own = support_probe::report::own::OwnSide::from_store(&store).unwrap();
    let opts = |period: Option<Period>, previous: Option<Period>| Options {
        period,
        previous,
        vendor: None,
        by: vec![Dim::Window, Dim::Channel],
        now,
        own: own.clone(),
    };
    let t = Instant::now();
    let span = support_probe::digest::row_span(&config, week).unwrap();
    let week_rows = store.reading_rows(Some(span)).unwrap();
    let week_read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = report::build_rows(
        &week_rows,
        Some(&config),
        &opts(Some(period), Some(previous)),
    );
    let week_build = t.elapsed().as_secs_f64();
    assert!(!r.vendors.is_empty());
    let t = Instant::now();
    let rows = store.reading_rows(None).unwrap();
    let whole_read = t.elapsed().as_secs_f64();
    assert_eq!(rows.len(), n);
    let t = Instant::now();
    let r = report::build_rows(&rows, Some(&config), &opts(None, None));
    let whole_build = t.elapsed().as_secs_f64();
    assert!(!r.vendors.is_empty());
    drop(rows);
    let t = Instant::now();
    let all = store.all().unwrap();
    let records = t.elapsed().as_secs_f64();
    assert_eq!(all.len(), n);
    vec![
        n.to_string(),
        format!("{} ({} rows)", fmt_secs(week_read), week_rows.len()),
        fmt_secs(week_build),
        fmt_secs(whole_read),
        fmt_secs(whole_build),
        fmt_secs(records),
    ]
}

/// Where the bytes go: per table, the key and value bytes stored and the
/// pages its B-tree holds, per probe; the rest of the file is free or
/// freed pages (redb does not shrink a file unless compacted).
fn by_table(state: &Path, n: usize, file_bytes: u64) {
    use redb::{ReadableDatabase, ReadableTableMetadata, TableHandle};
    let db = redb::Database::open(state.join(support_probe::store::FILE_NAME)).unwrap();
    let txn = db.begin_read().unwrap();
    let mut t = Table::new(
        BENCH,
        &format!("Store bytes per probe by table, {n} probes"),
        &["table", "keys + values", "B-tree pages (4 KiB each)"],
    );
    let per = |b: u64| format!("{:.0}", b as f64 / n as f64);
    let (mut stored, mut paged) = (0, 0);
    for handle in txn.list_tables().unwrap() {
        let table = txn.open_untyped_table(handle.clone()).unwrap();
        let st = table.stats().unwrap();
        let pages = (st.leaf_pages() + st.branch_pages()) * 4096;
        stored += st.stored_bytes();
        paged += pages;
        t.row(vec![
            handle.name().to_string(),
            per(st.stored_bytes()),
            per(pages),
        ]);
    }
    t.row(vec!["all tables".into(), per(stored), per(paged)]);
    t.row(vec!["file".into(), String::new(), per(file_bytes)]);
    t.emit();
}

/// The 1-, 5- and 15-minute load averages: the machine is shared.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
