//! Reports from the store's reading rows equal reports from the full
//! records: on the demo's store (the real engine on simulated helpdesks:
//! answered, acknowledged, unanswered, bounced and skipped probes) and on
//! the digest fixture, for every week, the whole store, and the digest.

use std::path::Path;

use jiff::Timestamp;
use support_probe::config::Config;
use support_probe::report::own::OwnSide;
use support_probe::report::{self, Dim, IsoWeek, Options, Period};
use support_probe::store::{Mode, Store};

fn opts(
    period: Option<Period>,
    previous: Option<Period>,
    now: Timestamp,
    own: &OwnSide,
) -> Options {
    Options {
        period,
        previous,
        vendor: None,
        by: vec![Dim::Window, Dim::Channel, Dim::Persona, Dim::Region],
        now,
        own: own.clone(),
    }
}

/// Compares both ways of reading `store` for `weeks` and the whole store.
fn assert_same(store: &Store, config: &Config, weeks: &[IsoWeek], now: Timestamp) {
    let records = store.all().unwrap();
    assert!(!records.is_empty());
    // Our side as the store knows it (mailbox checkpoints, outages): both
    // paths must censor pending probes the same way.
    let own = OwnSide::from_store(store).unwrap();
    let whole = opts(None, None, now, &own);
    let from_rows = report::build_rows(&store.reading_rows(None).unwrap(), Some(config), &whole);
    assert_eq!(
        from_rows,
        report::build(&records, Some(config), &whole),
        "whole store"
    );
    assert!(!from_rows.vendors.is_empty());
    let tz = &config.report.zone;
    for &week in weeks {
        let period = Period::week(week, tz).unwrap();
        let previous = period.previous(tz).unwrap();
        let o = opts(Some(period), Some(previous), now, &own);
        let span = support_probe::digest::row_span(config, week).unwrap();
        let rows = store.reading_rows(Some(span)).unwrap();
        assert!(rows.len() <= records.len());
        assert_eq!(
            report::build_rows(&rows, Some(config), &o),
            report::build(&records, Some(config), &o),
            "{week}"
        );
        assert_eq!(
            support_probe::digest::compose_rows(&rows, config, week, now, &own).unwrap(),
            support_probe::digest::compose(&records, config, week, now, &own).unwrap(),
            "digest {week}"
        );
    }
}

#[tokio::test]
async fn rows_give_the_same_reports_as_records_on_the_demo_store() {
    let dir = tempfile::tempdir().unwrap();
    let start: Timestamp = "2026-11-02T00:00:00Z".parse().unwrap();
    let out = support_probe::demo::run(dir.path(), start, 14, 7)
        .await
        .unwrap();
    let config =
        support_probe::config::parse_str(support_probe::demo::DEMO_CONFIG, Path::new("demo.toml"))
            .unwrap()
            .config;
    let weeks: Vec<IsoWeek> = out.digests.iter().map(|d| d.week).collect();
    assert!(weeks.len() >= 2, "{weeks:?}");
    let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
    // Read both before and after the end of the run: pending probes are
    // censored at `now`.
    assert_same(&store, &config, &weeks, out.end);
    assert_same(
        &store,
        &config,
        &weeks,
        out.end + jiff::SignedDuration::from_hours(100),
    );
}

#[test]
fn rows_give_the_same_reports_as_records_on_the_digest_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
    crate::kit::digest_fixture::seed(&store);
    let weeks = ["2026-W46", "2026-W47", "2026-W48"].map(|w| w.parse().unwrap());
    assert_same(
        &store,
        &crate::kit::digest_fixture::config(),
        &weeks,
        crate::kit::digest_fixture::read_at(),
    );
}
