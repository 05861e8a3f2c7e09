//! End-to-end tests of the `probe` binary: exit codes, exact output where it is
//! deterministic, and the store round trip after `probe demo`.
//!
//! Every invocation gets an explicit `--config` and a `--state-dir` inside a
//! fresh temporary directory, and the environment variables that could point
//! the binary elsewhere are removed. Nothing here needs the network.
//! The runner is the kit's ([`crate::kit::run`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use support_probe::model::{Class, ProbeRecord, ProbeState};
use tempfile::TempDir;

use crate::kit::run::{Out, probe, probes, root};

/// A fresh temporary directory with an empty `state` directory inside.
struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("state")).expect("the state directory");
        Scratch { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A config path that does not exist: for commands that need none.
    fn no_config(&self) -> PathBuf {
        self.dir.path().join("no-config.toml")
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("a scratch file");
        path
    }

    /// `probe` with no config file and this scratch's state directory.
    fn run(&self, args: &[&str]) -> Out {
        probe(&self.no_config(), &self.state(), args)
    }
}

fn as_u64(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count in {v}"))
}

// ---------------------------------------------------------------------------
// probe check
// ---------------------------------------------------------------------------

#[test]
fn check_accepts_the_shipped_example_and_names_every_probe() {
    let s = Scratch::new();
    let out = probe(Path::new("probes.toml"), &s.state(), &["check"]);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("probes.toml: valid (2 vendors, 1 persona, 2 probes)"),
        "{out:?}"
    );
    assert_eq!(lines.len(), 4, "{out:?}");
    assert!(lines[1].starts_with("  acme-nightly "), "{out:?}");
    assert!(lines[2].starts_with("  globex-weekday-morning "), "{out:?}");
    // The last line names what the classifier loaded from its data files.
    assert!(lines[3].starts_with("classifier: "), "{out:?}");
    assert!(lines[3].contains(" zh-CN "), "{out:?}");
    assert!(lines[3].ends_with(" helpdesks"), "{out:?}");
    for line in &lines[1..3] {
        assert!(line.contains(" next: "), "{out:?}");
        assert!(!line.contains("disabled"), "{out:?}");
    }
    // acme-nightly fires at 02:30 local in one of its zones; globex at 09:00 in Berlin.
    assert!(lines[1].contains(" 02:30:00 "), "{out:?}");
    assert!(lines[2].contains(" 09:00:00 "), "{out:?}");
    assert!(lines[2].ends_with(" in Europe/Berlin)"), "{out:?}");
}

#[test]
fn check_json_is_valid_with_one_entry_per_probe() {
    let s = Scratch::new();
    let out = probe(
        Path::new("probes.toml"),
        &s.state(),
        &["check", "--format", "json"],
    );
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["valid"], json!(true));
    assert_eq!(v["config"], json!("probes.toml"));
    assert_eq!(v["enabled"], json!(true));
    assert_eq!(v["vendors"], json!(2));
    assert_eq!(v["personas"], json!(1));
    let probes = v["probes"].as_array().expect("probes is an array");
    let names: Vec<&str> = probes.iter().filter_map(|p| p["probe"].as_str()).collect();
    assert_eq!(names, ["acme-nightly", "globex-weekday-morning"]);
    let expected: [(&str, &[&str], &str); 2] = [
        (
            "acme-nightly",
            &["Asia/Shanghai", "Europe/Berlin", "America/Los_Angeles"],
            "T02:30:00",
        ),
        ("globex-weekday-morning", &["Europe/Berlin"], "T09:00:00"),
    ];
    for (p, (name, zones, local_time)) in probes.iter().zip(expected) {
        assert_eq!(p["enabled"], json!(true), "{p}");
        let next = &p["next"];
        assert_eq!(next["probe"], json!(name), "{p}");
        let zone = next["zone"].as_str().expect("next.zone");
        assert!(zones.contains(&zone), "{p}");
        let local = next["local"].as_str().expect("next.local");
        assert!(local.contains(local_time), "{p}");
        let utc = next["utc"].as_str().expect("next.utc");
        assert!(utc.ends_with('Z'), "{p}");
    }
}

/// A config with four mistakes in four different entries. The line numbers
/// in `broken_config_reports_every_error_with_its_position` refer to it.
const BROKEN_CONFIG: &str = r#"enabled = true

[[vendor]]
name = "acme"
addresses = ["support@acme.example"]

[[vendor]]
name = "globex"
addresses = ["help@globex.example"]
colour = "blue"

[[persona]]
name = "p1"
display-name = "Dana"
address = "dana@team.example"
[persona.smtp]
host = "smtp.team.example"
port = 587
security = "starttls"
username = "dana"
password = { env = "X_PW" }
[persona.imap]
host = "imap.team.example"
port = 993
security = "tls"
username = "dana"
password = { env = "X_PW" }

[[probe]]
name = "bad-zone"
vendor = "acme"
persona = "p1"
schedule = "0 30 2 * * *"
zones = ["UTC", "Mars/Olympus_Mons"]
subject = "s {token}"
body = "b"

[[probe]]
name = "bad-cron"
vendor = "acme"
persona = "p1"
schedule = "0 61 2 * * *"
zones = ["UTC"]
subject = "s {token}"
body = "b"

[[probe]]
name = "bad-vendor"
vendor = "nobody"
persona = "p1"
schedule = "0 0 9 * * *"
zones = ["UTC"]
subject = "s {token}"
body = "b"
"#;

#[test]
fn broken_config_reports_every_error_with_its_position() {
    let s = Scratch::new();
    let config = s.write("broken.toml", BROKEN_CONFIG.as_bytes());
    let file = config.display().to_string();
    // (line, col, what the message must say, the text found at that position)
    let expected = [
        (10, 1, "unknown key `colour`", "colour"),
        (
            34,
            17,
            "unknown time zone `Mars/Olympus_Mons`",
            "\"Mars/Olympus_Mons\"",
        ),
        (
            42,
            15,
            "invalid schedule `0 61 2 * * *`: minute field `61`",
            "61",
        ),
        (
            49,
            10,
            "unknown vendor `nobody`, expected one of acme",
            "\"nobody\"",
        ),
    ];
    // The positions really point at the culprits (guards the table above).
    let lines: Vec<&str> = BROKEN_CONFIG.lines().collect();
    for (line, col, _, text) in expected {
        assert!(
            lines[line - 1][col - 1..].starts_with(text),
            "{line}:{col} is not at {text:?}"
        );
    }
    for format in ["table", "json"] {
        let out = probe(&config, &s.state(), &["check", "--format", format]);
        out.expect_code(78);
        assert_eq!(out.stdout, "", "{out:?}");
        let stderr = out
            .stderr
            .strip_prefix("error: ")
            .unwrap_or_else(|| panic!("stderr starts with `error: `:\n{out:?}"));
        let got: Vec<&str> = stderr.lines().collect();
        assert_eq!(got.len(), expected.len(), "{out:?}");
        for (line, (l, c, message, _)) in got.iter().zip(expected) {
            let prefix = format!("{file}:{l}:{c}: ");
            assert!(line.starts_with(&prefix), "want {prefix:?}:\n{out:?}");
            assert!(line.contains(message), "want {message:?}:\n{out:?}");
        }
    }
}

#[test]
fn missing_config_exits_78_naming_the_path() {
    let s = Scratch::new();
    let missing = s.no_config();
    let out = probe(&missing, &s.state(), &["check"]);
    out.expect_code(78);
    assert_eq!(out.stdout, "", "{out:?}");
    let want = format!("error: {}: cannot read the config file", missing.display());
    assert!(out.stderr.starts_with(&want), "want {want:?}:\n{out:?}");
}

// ---------------------------------------------------------------------------
// probe schedule
// ---------------------------------------------------------------------------

fn preview(cron: &str, from: &str, next: &str, format: &str) -> Out {
    let s = Scratch::new();
    s.run(&[
        "schedule",
        "--cron",
        cron,
        "--zone",
        "America/New_York",
        "--from",
        from,
        "--next",
        next,
        "--format",
        format,
    ])
}

fn fire(utc: &str, local: &str, offset: &str, abbrev: &str) -> Value {
    json!({
        "probe": "",
        "zone": "America/New_York",
        "utc": utc,
        "local": local,
        "offset": offset,
        "abbrev": abbrev,
    })
}

#[test]
fn schedule_skips_the_missing_hour_on_spring_forward_day() {
    let out = preview("0 30 2 * * *", "2026-03-07T12:00:00Z", "3", "json");
    out.expect_code(0);
    assert_eq!(
        out.json(),
        json!([
            // 02:30 does not exist on 2026-03-08: it fires at 03:00 EDT.
            fire(
                "2026-03-08T07:00:00Z",
                "2026-03-08T03:00:00-04:00",
                "-04:00",
                "EDT"
            ),
            fire(
                "2026-03-09T06:30:00Z",
                "2026-03-09T02:30:00-04:00",
                "-04:00",
                "EDT"
            ),
            fire(
                "2026-03-10T06:30:00Z",
                "2026-03-10T02:30:00-04:00",
                "-04:00",
                "EDT"
            ),
        ])
    );
}

#[test]
fn schedule_table_shows_the_same_spring_forward_fires() {
    let out = preview("0 30 2 * * *", "2026-03-07T12:00:00Z", "3", "table");
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "PROBE  ZONE              UTC                   LOCAL\n\
         \x20      America/New_York  2026-03-08T07:00:00Z  2026-03-08 03:00:00 -04:00 EDT\n\
         \x20      America/New_York  2026-03-09T06:30:00Z  2026-03-09 02:30:00 -04:00 EDT\n\
         \x20      America/New_York  2026-03-10T06:30:00Z  2026-03-10 02:30:00 -04:00 EDT\n"
    );
}

#[test]
fn schedule_fires_once_in_the_repeated_hour_on_fall_back_day() {
    let out = preview("0 30 1 * * *", "2026-10-31T12:00:00Z", "3", "json");
    out.expect_code(0);
    assert_eq!(
        out.json(),
        json!([
            // 01:30 happens twice on 2026-11-01; a fixed-time job fires at the first.
            fire(
                "2026-11-01T05:30:00Z",
                "2026-11-01T01:30:00-04:00",
                "-04:00",
                "EDT"
            ),
            fire(
                "2026-11-02T06:30:00Z",
                "2026-11-02T01:30:00-05:00",
                "-05:00",
                "EST"
            ),
            fire(
                "2026-11-03T06:30:00Z",
                "2026-11-03T01:30:00-05:00",
                "-05:00",
                "EST"
            ),
        ])
    );
}

#[test]
fn schedule_with_a_wildcard_hour_fires_in_both_repeated_hours() {
    let out = preview("0 30 * * * *", "2026-11-01T04:00:00Z", "4", "json");
    out.expect_code(0);
    assert_eq!(
        out.json(),
        json!([
            fire(
                "2026-11-01T04:30:00Z",
                "2026-11-01T00:30:00-04:00",
                "-04:00",
                "EDT"
            ),
            fire(
                "2026-11-01T05:30:00Z",
                "2026-11-01T01:30:00-04:00",
                "-04:00",
                "EDT"
            ),
            fire(
                "2026-11-01T06:30:00Z",
                "2026-11-01T01:30:00-05:00",
                "-05:00",
                "EST"
            ),
            fire(
                "2026-11-01T07:30:00Z",
                "2026-11-01T02:30:00-05:00",
                "-05:00",
                "EST"
            ),
        ])
    );
}

#[test]
fn schedule_rejects_bad_input_with_usage_exit_code() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "0 61 2 * * *",
            "2026-03-07T12:00:00Z",
            &["--cron", "minute", "61"],
        ),
        (
            "0 30 2 * *",
            "2026-03-07T12:00:00Z",
            &["--cron", "6 fields", "found 5"],
        ),
        ("0 30 2 * * *", "not-a-time", &["--from", "not-a-time"]),
        ("nonsense", "2026-03-07T12:00:00Z", &["--cron"]),
    ];
    for (cron, from, wanted) in cases {
        let out = preview(cron, from, "3", "json");
        out.expect_code(2);
        assert_eq!(out.stdout, "", "{cron:?}:\n{out:?}");
        assert!(out.stderr.starts_with("error: "), "{cron:?}:\n{out:?}");
        for w in wanted {
            assert!(out.stderr.contains(w), "want {w:?}:\n{out:?}");
        }
    }
    let s = Scratch::new();
    let out = s.run(&["schedule", "--cron", "0 0 * * * *", "--zone", "Mars/Base"]);
    out.expect_code(2);
    assert!(out.stderr.contains("Mars/Base"), "{out:?}");
}

// ---------------------------------------------------------------------------
// probe classify
// ---------------------------------------------------------------------------

/// The fixtures, relative to the crate root, sorted.
fn fixtures() -> Vec<String> {
    let dir = root().join("tests/fixtures/mail");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixtures directory")
        .map(|e| e.expect("a directory entry").file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .map(|n| format!("tests/fixtures/mail/{n}"))
        .collect();
    names.sort();
    names
}

/// The class a fixture is named for: `<class>--<what>.eml`.
fn fixture_class(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split_once("--")
        .map(|(class, _)| class)
        .unwrap_or_else(|| panic!("{name} is not named <class>--<what>.eml"))
}

const CLASSES: [&str; 6] = [
    "human",
    "ack",
    "out-of-office",
    "bounce",
    "delay",
    "automated",
];

#[test]
fn classify_puts_every_fixture_in_the_class_it_is_named_for() {
    let s = Scratch::new();
    let files = fixtures();
    assert!(files.len() >= CLASSES.len(), "too few fixtures: {files:?}");
    let mut args = vec!["classify", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let out = s.run(&args);
    out.expect_code(0);
    let verdicts = out.json();
    let verdicts = verdicts.as_array().expect("an array of verdicts");
    assert_eq!(verdicts.len(), files.len(), "{out:?}");
    let mut seen = BTreeSet::new();
    for (v, file) in verdicts.iter().zip(&files) {
        assert_eq!(v["file"], json!(file), "{v}");
        assert_eq!(v["class"], json!(fixture_class(file)), "{v}");
        assert_eq!(v["error"], Value::Null, "{v}");
        let reasons = v["reasons"].as_array().expect("reasons is an array");
        assert!(!reasons.is_empty(), "no reasons: {v}");
        assert!(
            reasons
                .iter()
                .all(|r| r.as_str().is_some_and(|r| !r.is_empty())),
            "{v}"
        );
        seen.insert(fixture_class(file).to_string());
    }
    let all: BTreeSet<String> = CLASSES.iter().map(|c| c.to_string()).collect();
    assert_eq!(seen, all, "the fixtures cover every class");
}

#[test]
fn classify_reports_an_unreadable_file_and_still_classifies_the_others() {
    let s = Scratch::new();
    let missing = s.dir.path().join("does-not-exist.eml");
    let missing = missing.to_str().expect("a UTF-8 temp path");
    let first = "tests/fixtures/mail/human--zendesk-agent-reply.eml";
    let last = "tests/fixtures/mail/bounce--postfix-dsn.eml";
    let out = s.run(&["classify", "--format", "json", first, missing, last]);
    out.expect_code(1);
    let v = out.json();
    let v = v.as_array().expect("an array of verdicts");
    assert_eq!(v.len(), 3, "{out:?}");
    assert_eq!(v[0]["class"], json!("human"), "{out:?}");
    assert_eq!(v[0]["error"], Value::Null, "{out:?}");
    assert_eq!(v[1]["file"], json!(missing), "{out:?}");
    assert_eq!(v[1]["class"], Value::Null, "{out:?}");
    assert_eq!(v[1]["reasons"], json!([]), "{out:?}");
    let error = v[1]["error"]
        .as_str()
        .expect("an error for the missing file");
    assert!(error.starts_with("cannot read: "), "{out:?}");
    assert_eq!(v[2]["class"], json!("bounce"), "{out:?}");
    assert_eq!(v[2]["error"], Value::Null, "{out:?}");

    // The table says the same.
    let out = s.run(&["classify", first, missing]);
    out.expect_code(1);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with(missing))
        .unwrap_or_else(|| panic!("no row for the missing file:\n{out:?}"));
    assert!(row.contains("  error  -  "), "{out:?}");
    assert!(row.contains("  cannot read: "), "{out:?}");
}

/// xorshift64*: deterministic bytes, so a failure reproduces.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn classify_survives_random_bytes() {
    let s = Scratch::new();
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0],
        b"\r\n\r\n".to_vec(),
        vec![b'a'; 200_000],
        b"Subject: =?utf-8?B?////?=\r\nFrom: <\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n"
            .to_vec(),
    ];
    for (i, len) in [1, 7, 64, 513, 4096, 65_537].into_iter().enumerate() {
        inputs.push(noise(0x5EED + i as u64, len));
        let mut headers = b"From: x@y\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        headers.extend(noise(0xBEEF + i as u64, len));
        inputs.push(headers);
    }
    let paths: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let p = s.write(&format!("noise-{i}.eml"), bytes);
            p.to_str().expect("a UTF-8 temp path").to_string()
        })
        .collect();
    let mut args = vec!["classify", "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let out = s.run(&args);
    out.expect_code(0);
    let v = out.json();
    let v = v.as_array().expect("an array of verdicts");
    assert_eq!(v.len(), inputs.len(), "{out:?}");
    for verdict in v {
        let class = verdict["class"].as_str().expect("a class");
        assert!(CLASSES.contains(&class), "{verdict}");
        assert_eq!(verdict["error"], Value::Null, "{verdict}");
        assert!(
            verdict["reasons"].as_array().is_some_and(|r| !r.is_empty()),
            "{verdict}"
        );
    }
}

// ---------------------------------------------------------------------------
// probe demo, status, show, relabel, resolve
// ---------------------------------------------------------------------------

/// One `probe demo --days 7` run, shared by the tests: its output and a copy
/// of the state directory it left (the directory itself is removed).
struct Demo {
    out: Out,
    state_dir: String,
    files: Vec<(std::ffi::OsString, Vec<u8>)>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let s = Scratch::new();
        let out = s.run(&["demo", "--days", "7", "--format", "json"]);
        let files = std::fs::read_dir(s.state())
            .expect("the demo's state directory")
            .map(|e| {
                let e = e.expect("a directory entry");
                let bytes = std::fs::read(e.path()).expect("a store file");
                (e.file_name(), bytes)
            })
            .collect();
        Demo {
            out,
            state_dir: s.state().display().to_string(),
            files,
        }
    })
}

/// A scratch directory whose state is a copy of the demo's.
fn scratch_after_demo() -> Scratch {
    let d = demo();
    d.out.expect_code(0);
    let s = Scratch::new();
    for (name, bytes) in &d.files {
        std::fs::write(s.state().join(name), bytes).expect("a copied store file");
    }
    s
}

/// An answered probe whose only human message is the one that stopped the
/// clock, so relabeling that message leaves it without an answer.
fn answered_once(state: &Path) -> ProbeRecord {
    probes(state)
        .into_iter()
        .find(|p| {
            p.state == ProbeState::Answered
                && p.first_human_at.is_some()
                && p.messages
                    .iter()
                    .filter(|m| m.effective_class() == Class::Human)
                    .count()
                    == 1
        })
        .expect("the demo answered some probe with exactly one human message")
}

fn vendor<'a>(vendors: &'a Value, name: &str) -> &'a Value {
    vendors
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["vendor"] == json!(name)))
        .unwrap_or_else(|| panic!("no vendor {name} in {vendors}"))
}

const DEMO_VENDORS: [&str; 8] = [
    "asking-stream",
    "closer-saas",
    "gone-vendor",
    "macro-cdn",
    "officehours-stream",
    "panda-live",
    "silent-saas",
    "swiftcdn",
];

#[test]
fn demo_measures_what_the_simulated_helpdesks_did() {
    let d = demo();
    d.out.expect_code(0);
    let v = d.out.json();
    assert_eq!(v["mismatches"], json!([]), "{:?}", d.out);
    assert_eq!(v["state_dir"], json!(d.state_dir));
    assert_eq!(v["simulated_from"], json!("2026-11-02T00:00:00Z"));
    assert_eq!(v["simulated_until"], json!("2026-11-09T00:00:00Z"));
    let checked = as_u64(&v, "checked_against_truth");
    assert!(checked > 0, "{v}");
    let vendors = &v["vendors"];
    let names: Vec<&str> = vendors
        .as_array()
        .expect("vendors is an array")
        .iter()
        .filter_map(|v| v["vendor"].as_str())
        .collect();
    assert_eq!(names, DEMO_VENDORS);

    let gone = vendor(vendors, "gone-vendor");
    assert!(as_u64(gone, "undeliverable") > 0, "{gone}");
    assert_eq!(as_u64(gone, "answered"), 0, "{gone}");
    let silent = vendor(vendors, "silent-saas");
    assert_eq!(as_u64(silent, "answered"), 0, "{silent}");
    assert!(as_u64(silent, "acknowledged") > 0, "{silent}");
    assert!(as_u64(silent, "unanswered") > 0, "{silent}");
    let swift = vendor(vendors, "swiftcdn");
    assert!(as_u64(swift, "answered") > 0, "{swift}");

    // Every answered probe was compared with the truth.
    let answered: u64 = DEMO_VENDORS
        .iter()
        .map(|n| as_u64(vendor(vendors, n), "answered"))
        .sum();
    assert_eq!(checked, answered, "{v}");
    // "filed" is the sum of the states a filed probe can be in.
    for name in DEMO_VENDORS {
        let s = vendor(vendors, name);
        let parts: u64 = [
            "answered",
            "pending",
            "unanswered",
            "undeliverable",
            "uncertain",
        ]
        .iter()
        .map(|k| as_u64(s, k))
        .sum();
        assert_eq!(as_u64(s, "filed"), parts, "{s}");
    }

    // The status page the daemon would serve, over the demo's store: every
    // section, every vendor that was probed.
    assert_eq!(v["status_page"], json!("status.html"));
    let page = d
        .files
        .iter()
        .find(|(name, _)| name == "status.html")
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .expect("the demo writes status.html");
    for id in [
        "ranking",
        "coverage",
        "ranking-30d",
        "coverage-30d",
        "trend",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    for name in DEMO_VENDORS {
        assert!(page.contains(name), "{name} missing from the status page");
    }
}

#[test]
fn status_after_the_demo_lists_its_vendors_and_pending_probes() {
    let s = scratch_after_demo();
    let out = s.run(&["status", "--format", "json"]);
    out.expect_code(0);
    let v = out.json();
    let names: Vec<&str> = v["vendors"]
        .as_array()
        .expect("vendors is an array")
        .iter()
        .filter_map(|v| v["vendor"].as_str())
        .collect();
    assert_eq!(names, DEMO_VENDORS);
    assert_eq!(
        v["store"],
        json!(s.state().join("probes.redb").display().to_string())
    );
    let all = probes(&s.state());
    let pending = v["pending"].as_array().expect("pending is an array");
    let want: BTreeSet<String> = all
        .iter()
        .filter(|p| {
            matches!(
                p.state,
                ProbeState::Planned
                    | ProbeState::Filing
                    | ProbeState::Filed
                    | ProbeState::Uncertain
            )
        })
        .map(|p| p.id.to_string())
        .collect();
    let got: BTreeSet<String> = pending
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), pending.len(), "pending lists no probe twice");

    let table = s.run(&["status"]);
    table.expect_code(0);
    for name in DEMO_VENDORS {
        assert!(
            table.stdout.lines().any(|l| l.starts_with(name)),
            "{table:?}"
        );
    }
}

#[test]
fn show_prints_an_answered_probe() {
    let s = scratch_after_demo();
    let p = answered_once(&s.state());
    let id = p.id.to_string();
    let out = s.run(&["show", &id, "--format", "json"]);
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["id"], json!(id));
    assert_eq!(v["state"], json!("answered"));
    let first_human = v["first_human_at"].as_str().expect("first_human_at is set");
    assert!(v["filed_at"].is_string(), "{v}");
    let key = v["first_human_key"].as_str().expect("first_human_key");
    let m = v["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["key"] == json!(key)))
        .unwrap_or_else(|| panic!("no message {key} in {v}"));
    assert_eq!(m["class"], json!("human"), "{m}");
    assert_eq!(m["at"], json!(first_human), "{m}");

    // Lower-case ids are accepted too.
    let table = s.run(&["show", &id.to_ascii_lowercase()]);
    table.expect_code(0);
    let t = &table.stdout;
    assert!(t.starts_with(&format!("probe {id}  (")), "{table:?}");
    assert!(t.contains("  state: answered"), "{table:?}");
    assert!(t.contains("FILED (clock starts)"), "{table:?}");
    assert!(t.contains("  human  from "), "{table:?}");
    assert!(t.contains("time to first human reply: "), "{table:?}");
}

#[test]
fn relabel_to_automated_unanswers_a_probe_and_keeps_the_original_class() {
    let s = scratch_after_demo();
    let p = answered_once(&s.state());
    let id = p.id.to_string();
    let key = p.first_human_key.clone().expect("the answered probe's key");
    let answered_before = {
        let v = s.run(&["status", "--format", "json"]).json();
        as_u64(vendor(&v["vendors"], &p.vendor), "answered")
    };

    let out = s.run(&["relabel", &id, &key, "automated"]);
    out.expect_code(0);
    let line = out.stdout.trim_end();
    assert!(
        line == format!("relabeled; probe {id} is now filed")
            || line == format!("relabeled; probe {id} is now unanswered"),
        "{out:?}"
    );

    let v = s.run(&["show", &id, "--format", "json"]).json();
    let state = v["state"].as_str().expect("a state");
    assert!(state == "filed" || state == "unanswered", "{v}");
    assert!(
        line.ends_with(state),
        "relabel and show agree: {out:?}\n{v}"
    );
    assert_eq!(v["first_human_at"], Value::Null, "{v}");
    assert_eq!(v["first_human_key"], Value::Null, "{v}");
    let m = v["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["key"] == json!(key)))
        .unwrap_or_else(|| panic!("no message {key} in {v}"));
    assert_eq!(
        m["class"],
        json!("human"),
        "the classifier's verdict is kept: {m}"
    );
    assert_eq!(m["relabel"]["class"], json!("automated"), "{m}");
    assert!(m["relabel"]["at"].is_string(), "{m}");

    let table = s.run(&["show", &id]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("automated (relabeled from human)"),
        "{table:?}"
    );
    assert!(
        !table.stdout.contains("time to first human reply"),
        "{table:?}"
    );

    // The readings use the correction.
    let v = s.run(&["status", "--format", "json"]).json();
    let answered_after = as_u64(vendor(&v["vendors"], &p.vendor), "answered");
    assert_eq!(answered_after + 1, answered_before, "{v}");

    // Relabeling back, by Message-ID in angle brackets, answers it again.
    let message_id = p
        .messages
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| m.message_id.clone());
    if let Some(mid) = message_id {
        let out = s.run(&["relabel", &id, &format!("<{mid}>"), "human"]);
        out.expect_code(0);
        assert_eq!(
            out.stdout.trim_end(),
            format!("relabeled; probe {id} is now answered"),
            "{out:?}"
        );
        let v = s.run(&["show", &id, "--format", "json"]).json();
        assert_eq!(v["state"], json!("answered"), "{v}");
        assert_eq!(v["first_human_key"], json!(key), "{v}");
    }
}

/// Known wrong today: `relabel` recomputes the state without looking at the
/// answer deadline, so a probe whose window closed long ago becomes `filed`
/// (and `status` lists it as pending) until an engine's `expire` runs.
#[test]
fn relabel_past_the_deadline_gives_unanswered() {
    let s = scratch_after_demo();
    let p = answered_once(&s.state());
    let deadline = p
        .answer_deadline()
        .expect("an answered probe has a deadline");
    assert!(
        deadline < jiff::Timestamp::now(),
        "the demo's deadlines have passed"
    );
    let id = p.id.to_string();
    let key = p.first_human_key.clone().expect("the answered probe's key");
    s.run(&["relabel", &id, &key, "automated"]).expect_code(0);
    let v = s.run(&["show", &id, "--format", "json"]).json();
    assert_eq!(v["state"], json!("unanswered"), "{v}");
}

#[test]
fn relabel_rejects_a_bad_class_or_message() {
    let s = scratch_after_demo();
    let p = answered_once(&s.state());
    let id = p.id.to_string();
    let key = p.first_human_key.clone().expect("the answered probe's key");

    let out = s.run(&["relabel", &id, &key, "robot"]);
    out.expect_code(2);
    assert!(out.stderr.contains("unknown class \"robot\""), "{out:?}");
    assert!(
        out.stderr
            .contains("human, ack, out-of-office, bounce, delay, automated"),
        "{out:?}"
    );

    let out = s.run(&["relabel", &id, "no-such-message", "automated"]);
    out.expect_code(2);
    assert!(out.stderr.contains("has no message"), "{out:?}");

    // Neither attempt changed the probe.
    let v = s.run(&["show", &id, "--format", "json"]).json();
    assert_eq!(v["state"], json!("answered"), "{v}");
    assert!(
        v["messages"]
            .as_array()
            .is_some_and(|ms| ms.iter().all(|m| m["relabel"].is_null())),
        "{v}"
    );
}

#[test]
fn resolve_refuses_a_probe_that_is_not_uncertain() {
    let s = scratch_after_demo();
    let p = answered_once(&s.state());
    let id = p.id.to_string();
    for outcome in ["filed", "not-filed"] {
        let out = s.run(&["resolve", &id, outcome]);
        out.expect_code(2);
        assert_eq!(out.stdout, "", "{out:?}");
        assert!(
            out.stderr.contains(&format!(
                "probe {id} is answered, not uncertain; nothing to resolve"
            )),
            "{out:?}"
        );
    }
    let v = s.run(&["show", &id, "--format", "json"]).json();
    assert_eq!(v["state"], json!("answered"), "{v}");
    assert_eq!(v["notes"], serde_json::to_value(&p.notes).expect("notes"));

    // An id in the right format that the store does not hold.
    let out = s.run(&["resolve", "00000000000000000000000000", "filed"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no probe"), "{out:?}");
}

// ---------------------------------------------------------------------------
// probe run --dry-run, probe show with a bad id
// ---------------------------------------------------------------------------

#[test]
fn dry_run_prints_the_probes_and_stores_nothing() {
    let s = Scratch::new();
    let config = Path::new("probes.toml");
    let out = probe(config, &s.state(), &["run", "--dry-run"]);
    out.expect_code(0);
    let text = &out.stdout;
    assert!(
        text.contains("probe acme-nightly -> acme-cdn (persona night-shift)"),
        "{out:?}"
    );
    assert!(
        text.contains("  From: Dana Probe <dana@team.example>"),
        "{out:?}"
    );
    assert!(
        text.contains("  To: help@globex.example, escalations@globex.example"),
        "{out:?}"
    );
    assert!(text.contains("  caps: 3 a day, 21 a week"), "{out:?}");
    assert!(
        text.lines().last()
            == Some(
                "(dry run: nothing was sent or stored; each real probe gets its own id, token and Message-ID)"
            ),
        "{out:?}"
    );

    let out = probe(
        config,
        &s.state(),
        &["run", "--dry-run", "--format", "json"],
    );
    out.expect_code(0);
    let v = out.json();
    let probes = v.as_array().unwrap();
    assert_eq!(probes.len(), 2);
    // The rendered message, not the template: the token is filled in, in the
    // subject for acme (token-in = both: in the body too) and for globex.
    let acme = &probes[0];
    assert_eq!(acme["probe"], "acme-nightly");
    assert_eq!(acme["to"], json!(["support@acme.example"]));
    let subject = acme["subject"].as_str().unwrap();
    assert!(!subject.contains('{'), "{subject}");
    let token = subject
        .split_whitespace()
        .find(|w| w.starts_with("SP-"))
        .unwrap()
        .trim_end_matches(':');
    assert_eq!(token.len(), 13, "{subject}");
    assert!(acme["body"].as_str().unwrap().contains(token));
    let globex = &probes[1];
    assert_eq!(
        globex["to"],
        json!(["help@globex.example", "escalations@globex.example"])
    );
    assert!(
        globex["subject"]
            .as_str()
            .unwrap()
            .starts_with("Scheduled support-response test SP-")
    );
    assert_eq!(globex["caps"], json!({"per_day": 2, "per_week": 10}));

    // Nothing was written: not even an empty store.
    let left: Vec<_> = std::fs::read_dir(s.state())
        .expect("the state directory")
        .collect();
    assert!(left.is_empty(), "the dry run wrote {left:?}");
    let v = probe(config, &s.state(), &["status", "--format", "json"]).json();
    assert_eq!(v["vendors"], json!([]), "{v}");
    assert_eq!(v["pending"], json!([]), "{v}");
}

#[test]
fn show_rejects_what_is_not_a_probe_id() {
    let s = Scratch::new();
    let out = s.run(&["show", "NOT-AN-ID"]);
    out.expect_code(2);
    assert_eq!(out.stdout, "", "{out:?}");
    assert!(
        out.stderr
            .contains("\"NOT-AN-ID\" is not a probe id (26 characters of Crockford base32)"),
        "{out:?}"
    );
    // A well-formed id the store does not hold is a usage error too.
    let out = s.run(&["show", "00000000000000000000000000"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("no probe 00000000000000000000000000 in "),
        "{out:?}"
    );
}

#[test]
fn demo_gives_the_same_readings_for_the_same_seed() {
    let run = || {
        let s = Scratch::new();
        let mut v = s
            .run(&["demo", "--days", "3", "--seed", "11", "--format", "json"])
            .expect_code(0)
            .json();
        v.as_object_mut().unwrap().remove("state_dir");
        v
    };
    assert_eq!(run(), run());
}

#[test]
fn demo_refuses_a_directory_that_already_holds_a_store() {
    let s = Scratch::new();
    s.run(&["demo", "--days", "1", "--format", "json"])
        .expect_code(0);
    let again = s.run(&["demo", "--days", "1"]);
    again.expect_code(2);
    assert!(again.stderr.contains("already holds a store"), "{again:?}");
}

#[test]
fn output_into_a_pipe_that_closes_early_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    // A hundred thousand fires: far more than a pipe holds, so the writer
    // meets the closed pipe (as in `probe schedule ... | head -1`).
    let mut child = Command::new(env!("CARGO_BIN_EXE_probe"))
        .args([
            "schedule",
            "--cron",
            "* * * * * *",
            "--zone",
            "UTC",
            "--from",
            "2026-11-23T00:00:00Z",
            "--next",
            "100000",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is closed here, when the taken stdout is dropped.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}

// ---------------------------------------------------------------------------
// probe classify: the panic boundary and threads
// ---------------------------------------------------------------------------

/// The message on which mail-parser 0.11.9's debug build panics ("Invalid
/// part ID, could not find multipart.").
const CRASH: &str = "tests/fixtures/crash/mail-parser-invalid-part-id.eml";

#[test]
fn classify_reads_a_message_the_parser_panics_on_as_unsure_human() {
    let s = Scratch::new();
    let out = s.run(&["classify", "--format", "json", CRASH]);
    out.expect_code(0);
    let v = out.json();
    let v = &v.as_array().expect("an array of verdicts")[0];
    assert_eq!(v["class"], json!("human"), "{out:?}");
    assert_eq!(v["error"], Value::Null, "{out:?}");
    if cfg!(debug_assertions) {
        assert_eq!(v["confidence"], json!("unsure"), "{out:?}");
        let reason = v["reasons"][0].as_str().expect("a reason");
        assert!(reason.contains("could not be read"), "{out:?}");
    }
    let table = s.run(&["classify", CRASH]);
    table.expect_code(0);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(CRASH))
        .unwrap_or_else(|| panic!("no row:\n{table:?}"));
    assert!(row.contains("  human  "), "{table:?}");
    if cfg!(debug_assertions) {
        assert!(row.contains("  unsure  "), "{table:?}");
    }
}

const THREAD: &str = "tests/fixtures/thread/generic-answered";
const OTHER_THREAD: &str = "tests/fixtures/thread/generic-canned";

#[test]
fn classify_a_thread_skips_our_probe_and_compares_the_threads_given() {
    let s = Scratch::new();
    let out = s.run(&["classify", "--format", "json", "--thread", THREAD]);
    out.expect_code(0);
    let v = out.json();
    let v = v.as_array().expect("an array of verdicts");
    let files: Vec<&str> = v.iter().filter_map(|x| x["file"].as_str()).collect();
    assert_eq!(
        files,
        [
            format!("{THREAD}/01-probe.eml"),
            format!("{THREAD}/02-ack.eml"),
            format!("{THREAD}/03-human.eml"),
        ],
        "in file-name order: {out:?}"
    );
    assert_eq!(v[0]["our_probe"], json!(true), "{out:?}");
    assert_eq!(v[0]["class"], Value::Null, "{out:?}");
    assert!(
        v[0]["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("filed 2026-11-02T10:00:00Z")),
        "{out:?}"
    );
    assert_eq!(v[2]["class"], json!("human"), "{out:?}");
    assert_eq!(v[1]["thread"], json!(THREAD), "{out:?}");
    let canned = |x: &Value| {
        x["reasons"].as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r.as_str().is_some_and(|r| r.contains("canned")))
        })
    };
    assert!(
        !canned(&v[1]),
        "one thread alone has nothing to compare: {out:?}"
    );

    // The same acknowledgement text on another probe's thread: canned.
    let out = s.run(&[
        "classify",
        "--format",
        "json",
        "--thread",
        THREAD,
        "--thread",
        OTHER_THREAD,
    ]);
    out.expect_code(0);
    let v = out.json();
    let v = v.as_array().expect("an array of verdicts");
    assert_eq!(v.len(), 5, "{out:?}");
    assert_eq!(v[1]["class"], json!("ack"), "{out:?}");
    assert!(canned(&v[1]), "{out:?}");
    assert_eq!(v[4]["class"], json!("ack"), "{out:?}");
    assert_eq!(v[2]["class"], json!("human"), "{out:?}");

    let table = s.run(&["classify", "--thread", THREAD, "--thread", OTHER_THREAD]);
    table.expect_code(0);
    assert!(
        table.stdout.starts_with("FILE") && table.stdout.contains("CONFIDENCE"),
        "{table:?}"
    );
    assert!(table.stdout.contains("  our probe  "), "{table:?}");
    assert!(
        table
            .stdout
            .contains("the canned-text rule compared the 2 thread(s) given"),
        "{table:?}"
    );
    // The same files named one by one with --as-thread: the same verdicts.
    let files: Vec<String> = ["01-probe.eml", "02-ack.eml", "03-human.eml"]
        .iter()
        .map(|f| format!("{THREAD}/{f}"))
        .collect();
    let mut args = vec!["classify", "--format", "json", "--as-thread"];
    args.extend(files.iter().map(String::as_str));
    let out = s.run(&args);
    out.expect_code(0);
    let v = out.json();
    let v = v.as_array().expect("an array of verdicts");
    assert_eq!(v[0]["our_probe"], json!(true), "{out:?}");
    assert_eq!(v[2]["class"], json!("human"), "{out:?}");
    assert_eq!(v[2]["file"], json!(files[2]), "{out:?}");

    // A directory that does not exist is an error for it, exit 1.
    let missing = s.run(&["classify", "--thread", "tests/fixtures/thread/none"]);
    missing.expect_code(1);
}

#[test]
fn relabel_corrects_one_judged_trait_and_keeps_what_was_judged() {
    let s = scratch_after_demo();
    let p = probes(&s.state())
        .into_iter()
        .find(|p| p.vendor == "panda-live" && p.state == ProbeState::Answered)
        .expect("panda-live answered a probe");
    let id = p.id.to_string();
    let key = p.first_human_key.clone().expect("its first human reply");
    let before = p
        .messages
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| m.quality.clone())
        .expect("a judged reply");
    assert_eq!(before.personal.as_ref().map(|t| t.value), Some(true));

    let out = s.run(&["relabel", &id, &key, "personal=no"]);
    out.expect_code(0);
    let after = probes(&s.state())
        .into_iter()
        .find(|r| r.id == p.id)
        .unwrap();
    let t = after
        .messages
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| m.quality.clone())
        .and_then(|q| q.personal)
        .unwrap();
    assert!(!t.value && t.corrected, "{t:?}");
    assert!(t.rule.contains(&before.personal.unwrap().rule), "{t:?}");
    let shown = s.run(&["show", &id]);
    assert!(
        shown.stdout.contains("personal: no, corrected"),
        "{shown:?}"
    );

    let out = s.run(&["relabel", &id, &key, "friendly=yes"]);
    out.expect_code(2);
    assert!(out.stderr.contains("unknown trait \"friendly\""), "{out:?}");
    let out = s.run(&["relabel", &id, &key, "personal=maybe"]);
    out.expect_code(2);
}

#[test]
fn completions_and_the_manual_page_name_every_subcommand() {
    let s = Scratch::new();
    let subcommands = [
        "run",
        "daemon",
        "status",
        "show",
        "check",
        "schedule",
        "classify",
        "relabel",
        "review",
        "attach",
        "resolve",
        "demo",
        "pause",
        "resume",
        "report",
        "digest",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let out = s.run(&["completions", shell]);
        out.expect_code(0);
        for sub in subcommands {
            assert!(out.stdout.contains(sub), "{shell} completion lacks {sub}");
        }
        if shell == "bash" {
            // The script must at least parse.
            let file = s.write("probe.bash", out.stdout.as_bytes());
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .unwrap();
            assert!(check.status.success(), "{check:?}");
        }
    }
    let out = s.run(&["completions", "tcsh"]);
    out.expect_code(2);

    let man = s.run(&["man"]);
    man.expect_code(0);
    assert!(man.stdout.contains(".TH probe 1"), "{man:?}");
    for sub in subcommands {
        assert!(man.stdout.contains(sub), "the manual page lacks {sub}");
    }
}
