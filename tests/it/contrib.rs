//! The operator files in `contrib/`: the Prometheus alert rules pass
//! `promtool check rules` and their unit tests (`promtool test rules`), the
//! Grafana dashboard is valid JSON whose queries parse as PromQL, and every
//! metric either of them names is one the daemon exports — read off the
//! daemon's own exposition, not a list kept here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support_probe::daemon::health::Health;
use support_probe::store::{Mode, Store};

fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib")
}

fn promtool(args: &[&str], dir: &Path) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}): install Debian's prometheus package (scripts/test does)"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// The metric names the daemon exports, from the exposition of a real
/// store: each `# TYPE` family, with a histogram's `_bucket`, `_sum` and
/// `_count` series.
fn exported() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
    let text = support_probe::metrics::render(&store, &Health::default()).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            panic!("malformed TYPE line {line:?}");
        };
        names.insert(name.to_string());
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
    }
    assert!(names.len() >= 9, "too few families in\n{text}");
    names
}

/// Every `support_probe_…` identifier in a query.
fn named(query: &str) -> Vec<String> {
    let re = regex::Regex::new(r"support_probe_[a-z_]+").unwrap();
    re.find_iter(query)
        .map(|m| m.as_str().to_string())
        .collect()
}

fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr" | "definition", Value::String(s)) => out.push(s.clone()),
                    ("query", Value::String(s)) if s.contains('(') => out.push(s.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| exprs(i, out)),
        _ => {}
    }
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = contrib().join("prometheus");
    let checked = promtool(&["check", "rules", "alerts.yml"], &dir);
    assert!(checked.contains("SUCCESS: 6 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "alerts.test.yml"], &dir);
    assert!(tested.contains("SUCCESS"), "{tested}");
    // Every rule has a unit test that expects it to fire.
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(dir.join("alerts.test.yml")).unwrap();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            assert!(
                tests.contains(&format!(
                    "alertname: {name}\n        exp_alerts:\n          -"
                )),
                "no unit test sees {name} fire"
            );
        }
    }
}

#[test]
fn the_alert_rules_query_only_exported_metrics() {
    let exported = exported();
    let rules = std::fs::read_to_string(contrib().join("prometheus/alerts.yml")).unwrap();
    let used: BTreeSet<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .flat_map(named)
        .collect();
    assert!(used.len() >= 6, "{used:?}");
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "not exported: {unknown:?} (exported: {exported:?})"
    );
}

#[test]
fn the_dashboard_is_json_over_exported_metrics_and_its_queries_parse() {
    let path = contrib().join("grafana/support-probe.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    assert_eq!(dash["uid"], "support-probe");
    let panels = dash["panels"].as_array().expect("panels");
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Healthy",
        "Probes by state",
        "Time since each mailbox was last read",
    ] {
        assert!(
            titles.contains(&wanted),
            "no {wanted:?} panel in {titles:?}"
        );
    }
    let mut queries = Vec::new();
    exprs(&dash, &mut queries);
    assert!(
        queries.iter().any(|q| q.contains("histogram_quantile(0.5")
            && q.contains("support_probe_first_human_reply_seconds_bucket")),
        "no first-reply median from the histogram"
    );
    let exported = exported();
    let used: BTreeSet<String> = queries.iter().flat_map(|q| named(q)).collect();
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "not exported: {unknown:?} (exported: {exported:?})"
    );
    for family in [
        "support_probe_healthy",
        "support_probe_probes",
        "support_probe_last_poll_timestamp_seconds",
        "support_probe_first_human_reply_seconds_bucket",
    ] {
        assert!(
            used.contains(family),
            "the dashboard does not show {family}"
        );
    }

    // PromQL syntax: each panel query as a recording rule, through promtool
    // (Grafana's variables replaced by what they expand to).
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, q) in queries
        .iter()
        .filter(|q| !q.starts_with("label_values"))
        .enumerate()
    {
        let q = q.replace("$vendor", ".*");
        rules.push_str(&format!(
            "      - record: dashboard_query_{i}\n        expr: {}\n",
            serde_json::to_string(&q).unwrap()
        ));
    }
    std::fs::write(dir.path().join("queries.yml"), &rules).unwrap();
    let checked = promtool(&["check", "rules", "queries.yml"], dir.path());
    assert!(checked.contains("SUCCESS"), "{checked}\n{rules}");
}
