//! `probe report` and `probe digest --preview` on a seeded store: the
//! table, JSON and CSV outputs, the week and usage errors, and the
//! `[digest]` config errors with their file:line:col.

use crate::kit::digest_fixture::on_disk;

#[test]
fn json_has_the_hand_computed_week_figures() {
    let s = on_disk("");
    let o = s.probe(&["report", "--week", "2026-W47", "--format", "json"]);
    assert!(o.status.success(), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
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
    let s = on_disk("");
    let o = s.probe(&["report", "--week", "2026-W47", "--format", "csv"]);
    assert!(o.status.success(), "{}", o.stderr);
    let text = o.stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 10, "header plus the ten probes of week 47");
    assert!(lines[0].starts_with("id,vendor,probe,persona,region,channel,window"));
    let unanswered = lines.iter().find(|l| l.contains(",unanswered,")).unwrap();
    assert!(unanswered.contains(",false,259200,"), "{unanswered}");
    assert!(unanswered.contains(",breached,"), "{unanswered}");
    let vendor_filter = s.probe(&[
        "report", "--week", "2026-W47", "--vendor", "beta", "--format", "csv",
    ]);
    assert_eq!(vendor_filter.stdout.lines().count(), 1 + 3);
}

#[test]
fn the_table_labels_calendar_and_business_time() {
    let s = on_disk("");
    let o = s.probe(&[
        "report",
        "--since",
        "2026-11-16",
        "--until",
        "2026-11-22",
        "--by",
        "window,region",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let t = o.stdout.clone();
    assert!(
        t.contains("CAL = calendar time, BIZ = business time"),
        "{t}"
    );
    assert!(t.contains("business-hours / eu"), "{t}");
    assert!(t.contains("Our side, not the vendors': not filed"), "{t}");
}

#[test]
fn a_bad_week_or_grouping_is_a_usage_error() {
    let s = on_disk("");
    let o = s.probe(&["report", "--week", "2027-W53"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        o.stderr.contains("ISO week 2027-W53 does not exist"),
        "{}",
        o.stderr
    );
    let o = s.probe(&["report", "--by", "colour"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stderr.contains("unknown grouping \"colour\""));
    let o = s.probe(&["status", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stderr.contains("--format csv is only for probe report"));
}

#[test]
fn digest_preview_writes_both_parts() {
    let s = on_disk("");
    let html = s.state.parent().unwrap().join("week.html");
    let o = s.probe(&[
        "digest",
        "--week",
        "2026-W47",
        "--preview",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(o.stdout.contains(
        "subject: Vendor support, week 47: 1 of 2 vendors missed their 1h target outside business hours"
    ));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    let text = std::fs::read_to_string(html.with_extension("txt")).unwrap();
    assert!(text.contains("== acme =="));
    // Sending needs a [digest] section.
    let o = s.probe(&["digest", "--week", "2026-W47", "--send"]);
    assert_eq!(o.status.code(), Some(78));
    assert!(o.stderr.contains("no [digest] section"), "{}", o.stderr);
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
    let s = on_disk(extra);
    let o = s.probe(&["check"]);
    assert_eq!(o.status.code(), Some(78));
    let err = o.stderr.clone();
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
        on_disk("[digest]\npersona = \"dana\"\nrecipients = [\"a@b.test\"]\ncolour = \"red\"\n");
    let o = unknown.probe(&["check"]);
    assert_eq!(o.status.code(), Some(78));
    assert!(o.stderr.contains("colour"), "{}", o.stderr);
}
