//! Measure 9 of BENCHMARKS.md: rendering the weekly digest — ranking,
//! scorecards, 12-week heatmaps and trends — and the status page over a
//! year of reading rows.
//!
//! The rows are synthetic and deterministic (`fastrand` seeded): 50
//! vendors, `BENCH_PER_DAY` probes per vendor per day (default 6, filed at
//! random minutes of the day) for 365 days; about 80 % answered after a
//! log-uniform 2 minutes to 3 days, 15 % unanswered (censored at 72 h), the
//! rest bounced. Rows go in memory straight to `digest::compose_rows`
//! (what `probe digest` and the daemon call after reading the rows of
//! `digest::row_span` from the store; the store read is measured by
//! `report_scale`), then `render::html` and `render::text`; and to
//! `view::status::page`. Each is run `BENCH_RUNS` times (default 5); the
//! median is reported.
//!
//! Run: `scripts/bench digest_render` or `cargo bench --bench digest_render`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use kit::bench::{self, Table, describe, fmt_secs};
use kit::digest_fixture::reading_row;
use support_probe::digest::{self, render};
use support_probe::model::{ProbeState, ReadingRow, Window};
use support_probe::report::own::OwnSide;
use support_probe::view;

const BENCH: &str = "digest_render";
const VENDORS: usize = 50;
const DAYS: i64 = 365;
/// The year ends here; the digest is of the week before.
const END: &str = "2026-11-23T08:00:00Z";

fn rows(per_day: usize) -> Vec<ReadingRow> {
    let mut rng = fastrand::Rng::with_seed(12);
    let end: Timestamp = END.parse().unwrap();
    let start = end - SignedDuration::from_hours(24 * DAYS);
    let mut out = Vec::with_capacity(VENDORS * DAYS as usize * per_day);
    for v in 0..VENDORS {
        let vendor: Arc<str> = format!("vendor-{v:02}").into();
        // Each vendor has its own speed: a median of 10 min to 1 day.
        let speed = 600.0 * (144.0f64).powf(v as f64 / VENDORS as f64);
        for day in 0..DAYS {
            for _ in 0..per_day {
                let filed = start
                    + SignedDuration::from_hours(24 * day)
                    + SignedDuration::from_secs(rng.i64(0..86400));
                let roll = rng.f64();
                let (state, first_human_at, censored_at) = if roll < 0.80 {
                    let secs = (speed * (0.2 + rng.f64() * 4.0)).min(70.0 * 3600.0) as i64;
                    (
                        ProbeState::Answered,
                        Some(filed + SignedDuration::from_secs(secs.max(60))),
                        None,
                    )
                } else if roll < 0.95 {
                    (
                        ProbeState::Unanswered,
                        None,
                        Some(filed + SignedDuration::from_hours(72)),
                    )
                } else {
                    (ProbeState::Undeliverable, None, None)
                };
                let window = if rng.bool() {
                    Window::BusinessHours
                } else {
                    Window::OffHours
                };
                out.push(reading_row(
                    &vendor,
                    state,
                    filed,
                    window,
                    first_human_at,
                    censored_at,
                ));
            }
        }
    }
    out.sort_by_key(|r| r.filed_at);
    out
}

fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let per_day: usize = std::env::var("BENCH_PER_DAY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let config = support_probe::config::parse_str(
        &kit::config::business_vendors(VENDORS),
        std::path::Path::new("b.toml"),
    )
    .unwrap()
    .config;
    let all = rows(per_day);
    let now: Timestamp = END.parse().unwrap();
    let week = digest::last_complete_week(now, &config.report.zone).unwrap();
    let (from, until) = digest::row_span(&config, week).unwrap();
    // What the store hands over for the digest: the rows of its span.
    let span: Vec<ReadingRow> = all
        .iter()
        .filter(|r| r.filed_at.is_some_and(|f| f >= from && f < until))
        .cloned()
        .collect();
    let (sfrom, suntil) = view::status::row_span(now);
    let status_rows: Vec<ReadingRow> = all
        .iter()
        .filter(|r| r.filed_at.is_some_and(|f| f >= sfrom && f < suntil))
        .cloned()
        .collect();
    let own = OwnSide::default();
    let (mut compose, mut html, mut text, mut total, mut status) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut sizes = (0, 0, 0);
    for _ in 0..runs {
        let t0 = Instant::now();
        let d = digest::compose_rows(&span, &config, week, now, &own).unwrap();
        let t1 = Instant::now();
        let h = render::html(&d);
        let t2 = Instant::now();
        let x = render::text(&d);
        let t3 = Instant::now();
        let page = view::status::page(&status_rows, &config, now, &own);
        let t4 = Instant::now();
        compose.push((t1 - t0).as_secs_f64());
        html.push((t2 - t1).as_secs_f64());
        text.push((t3 - t2).as_secs_f64());
        total.push((t3 - t0).as_secs_f64());
        status.push((t4 - t3).as_secs_f64());
        sizes = (h.len(), x.len(), page.len());
    }
    let mut t = Table::new(
        BENCH,
        &format!(
            "Digest of {week} and status page: {VENDORS} vendors, {per_day} probes/vendor/day, {} rows in a year, {} in the digest's 12 weeks, {} in the status page's 13; median of {runs} runs",
            all.len(),
            span.len(),
            status_rows.len()
        ),
        &["step", "median", "mean", "p90", "max"],
    );
    for (name, xs) in [
        ("digest::compose_rows", &compose),
        ("render::html", &html),
        ("render::text", &text),
        ("digest total (compose + html + text)", &total),
        ("view::status::page", &status),
    ] {
        let (mean, median, p90, max) = describe(xs);
        t.row(vec![
            name.to_string(),
            fmt_secs(median),
            fmt_secs(mean),
            fmt_secs(p90),
            fmt_secs(max),
        ]);
    }
    t.row(vec![
        format!(
            "sizes: html {} KiB, text {} KiB, status page {} KiB",
            sizes.0 / 1024,
            sizes.1 / 1024,
            sizes.2 / 1024
        ),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    t.emit();
}
