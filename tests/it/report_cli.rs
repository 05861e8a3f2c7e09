//! `probe report` and `probe digest --preview` on a seeded store: the
//! table, JSON and CSV outputs, the week and usage errors, and the
//! `[digest]` config errors with their file:line:col.

// Test code: a panic with its message is how a failure is reported.

use std::path::PathBuf;
use std::process::{Command, Output};

use support_probe::store::{Mode, Store};

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
}

fn setup(extra_config: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n{extra_config}",
            crate::kit::digest_fixture::config_text()
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state, Mode::Shared).unwrap();
    store
        .write(|tx| {
            for p in crate::kit::digest_fixture::probes() {
                tx.put(&p)?;
            }
            Ok::<_, support_probe::store::StoreError>(())
        })
        .unwrap();
    Setup {
        _dir: dir,
        config,
        state,
    }
}

fn probe(s: &Setup, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probe"))
        .arg("--config")
        .arg(&s.config)
        .arg("--state-dir")
        .arg(&s.state)
        .args(args)
        .env_remove("STATE_DIRECTORY")
        .env_remove("PROBE_CONFIG")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_has_the_hand_computed_week_figures() {
    let s = setup("");
    let o = probe(&s, &["report", "--week", "2026-W47", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["period"]["label"], "2026-W47");
    assert_eq!(v["period"]["from"], "2026-11-15T23:00:00Z");
    let acme = &v["vendors"][0];
    assert_eq!(acme["vendor"], "acme");
    assert_eq!(acme["overall"]["filed"], 6);
    assert_eq!(acme["overall"]["not_filed"], 1);
    assert_eq!(
        acme["overall"]["calendar"]["median"],
        serde_json::json!({"kind": "exactly", "secs": 3000})
    );
    assert_eq!(
        acme["overall"]["calendar"]["p90"],
        serde_json::json!({"kind": "more-than", "secs": 259200})
    );
    assert_eq!(acme["overall"]["sla"]["met"], 3);
    assert_eq!(acme["overall"]["sla"]["breached"], 3);
    assert_eq!(acme["change"]["median_secs"], 1800);
    assert_eq!(v["our_side"]["not_filed"][0]["vendor"], "acme");
}

#[test]
fn csv_is_one_row_per_probe_of_the_period() {
    let s = setup("");
    let o = probe(&s, &["report", "--week", "2026-W47", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 10, "header plus the ten probes of week 47");
    assert!(lines[0].starts_with("id,vendor,probe,persona,region,channel,window"));
    let unanswered = lines.iter().find(|l| l.contains(",unanswered,")).unwrap();
    assert!(unanswered.contains(",false,259200,"), "{unanswered}");
    assert!(unanswered.contains(",breached,"), "{unanswered}");
    let vendor_filter = probe(
        &s,
        &[
            "report", "--week", "2026-W47", "--vendor", "beta", "--format", "csv",
        ],
    );
    assert_eq!(stdout(&vendor_filter).lines().count(), 1 + 3);
}

#[test]
fn the_table_labels_calendar_and_business_time() {
    let s = setup("");
    let o = probe(
        &s,
        &[
            "report",
            "--since",
            "2026-11-16",
            "--until",
            "2026-11-22",
            "--by",
            "window,region",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.contains("CAL = calendar time, BIZ = business time"),
        "{t}"
    );
    assert!(t.contains("business-hours / eu"), "{t}");
    assert!(t.contains("Our side, not the vendors': not filed"), "{t}");
}

#[test]
fn a_bad_week_or_grouping_is_a_usage_error() {
    let s = setup("");
    let o = probe(&s, &["report", "--week", "2027-W53"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("ISO week 2027-W53 does not exist"),
        "{}",
        stderr(&o)
    );
    let o = probe(&s, &["report", "--by", "colour"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown grouping \"colour\""));
    let o = probe(&s, &["status", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format csv is only for probe report"));
}

#[test]
fn digest_preview_writes_both_parts() {
    let s = setup("");
    let html = s.state.parent().unwrap().join("week.html");
    let o = probe(
        &s,
        &[
            "digest",
            "--week",
            "2026-W47",
            "--preview",
            html.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(
        "subject: Vendor support, week 47: 1 of 2 vendors missed their 1h target outside business hours"
    ));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    let text = std::fs::read_to_string(html.with_extension("txt")).unwrap();
    assert!(text.contains("== acme =="));
    // Sending needs a [digest] section.
    let o = probe(&s, &["digest", "--week", "2026-W47", "--send"]);
    assert_eq!(o.status.code(), Some(78));
    assert!(stderr(&o).contains("no [digest] section"), "{}", stderr(&o));
}

fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn digest_config_errors_point_at_the_value() {
    let extra = "[digest]\nschedule = \"0 0 25 * * MON\"\nzone = \"Mars/Olympus\"\npersona = \"nobody\"\nrecipients = [\"not an address\"]\njitter = \"2d\"\n";
    let s = setup(extra);
    let o = probe(&s, &["check"]);
    assert_eq!(o.status.code(), Some(78));
    let err = stderr(&o);
    let text = std::fs::read_to_string(&s.config).unwrap();
    let file = s.config.display().to_string();
    let at = |needle: &str| {
        let (l, c) = line_col(&text, needle);
        format!("{file}:{l}:{c}: ")
    };
    assert!(
        err.contains(&format!("{}invalid schedule", at("25 * * MON"))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}unknown time zone `Mars/Olympus`",
            at("\"Mars/Olympus\"")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}unknown persona `nobody`", at("\"nobody\""))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}invalid address `not an address`",
            at("\"not an address\"")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}the digest jitter must be less than a day",
            at("\"2d\"")
        )),
        "{err}"
    );
    let unknown =
        setup("[digest]\npersona = \"dana\"\nrecipients = [\"a@b.test\"]\ncolour = \"red\"\n");
    let o = probe(&unknown, &["check"]);
    assert_eq!(o.status.code(), Some(78));
    assert!(stderr(&o).contains("colour"), "{}", stderr(&o));
}
