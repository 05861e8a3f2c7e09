//! The config-error matrix: one valid config, and for each kind of mistake a
//! one-spot edit of it, checked through the binary (`probe --config FILE
//! check`) for the exact message at the exact `file:line:col` and exit code
//! 78 (or, for warnings, the warning and exit 0).

use std::path::Path;

use crate::kit::run::{Out, command};

const BASE: &str = r#"[daemon]
poll-interval = "1m"

[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
caps = { per-day = 2, per-week = 5 }

[[persona]]
name = "dana"
display-name = "Dana Probe"
address = "dana@probe.example"
[persona.smtp]
host = "smtp.probe.example"
port = 587
security = "starttls"
username = "dana"
password = { env = "DANA_PW" }
[persona.imap]
host = "imap.probe.example"
port = 993
security = "tls"
username = "dana"
password = { env = "DANA_PW" }

[[probe]]
name = "acme-nightly"
vendor = "acme"
persona = "dana"
schedule = "0 30 2 * * *"
zones = ["UTC"]
subject = "Support test {token}"
body = "Hello {vendor}, this is a test."
"#;

/// One mistake: replace the first `find` in [`BASE`] with `replace`; expect
/// `message` at `line:col`.
struct Case {
    name: &'static str,
    find: &'static str,
    replace: &'static str,
    line: usize,
    col: usize,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "unknown key",
        find: "poll-interval = \"1m\"",
        replace: "poll-intervall = \"1m\"",
        line: 2,
        col: 1,
        message: "unknown key `poll-intervall`, expected one of poll-interval, missed-grace, filing-retry-window, state-dir, max-filings-per-hour",
    },
    Case {
        name: "unknown top-level key",
        find: "[daemon]",
        replace: "enable = true\n\n[daemon]",
        line: 1,
        col: 1,
        message: "unknown key `enable`, expected one of enabled, daemon, vendor, persona, probe, metrics, report, digest",
    },
    Case {
        name: "unknown key in a server table",
        find: "port = 587",
        replace: "port = 587\ntls = true",
        line: 16,
        col: 1,
        message: "unknown key `tls`, expected one of host, port, security, username, password, ca-file",
    },
    Case {
        name: "wrong type",
        find: "port = 587",
        replace: "port = \"587\"",
        line: 15,
        col: 8,
        message: "invalid type: string \"587\", expected an integer",
    },
    Case {
        name: "TOML syntax",
        find: "name = \"acme\"",
        replace: "name = \"acme",
        line: 5,
        col: 13,
        message: "invalid basic string, expected `\"`",
    },
    Case {
        name: "bad cron field value",
        find: "\"0 30 2 * * *\"",
        replace: "\"0 61 2 * * *\"",
        line: 30,
        col: 15,
        message: "invalid schedule `0 61 2 * * *`: minute field `61`: Number out of bounds",
    },
    Case {
        name: "cron without seconds",
        find: "\"0 30 2 * * *\"",
        replace: "\"30 2 * * *\"",
        line: 30,
        col: 12,
        message: "invalid schedule `30 2 * * *`: must have 6 fields (second minute hour day-of-month month day-of-week), found 5",
    },
    Case {
        name: "bad zone",
        find: "[\"UTC\"]",
        replace: "[\"Europe/Atlantis\"]",
        line: 31,
        col: 10,
        message: "unknown time zone `Europe/Atlantis`, expected an IANA name such as Europe/Berlin",
    },
    Case {
        name: "no zone",
        find: "zones = [\"UTC\"]",
        replace: "zones = []",
        line: 31,
        col: 9,
        message: "a probe needs at least one zone",
    },
    Case {
        name: "duplicate vendor",
        find: "[[persona]]",
        replace: "[[vendor]]\nname = \"acme\"\naddresses = [\"x@acme.example\"]\n\n[[persona]]",
        line: 10,
        col: 8,
        message: "duplicate vendor name `acme`, first defined on line 5",
    },
    Case {
        name: "duplicate probe",
        find: "subject = \"Support test {token}\"",
        replace: "subject = \"Support test {token}\"\nbody = \"b\"\n\n[[probe]]\nname = \"acme-nightly\"\nvendor = \"acme\"\npersona = \"dana\"\nschedule = \"0 30 2 * * *\"\nzones = [\"UTC\"]\nsubject = \"x {token}\"",
        line: 36,
        col: 8,
        message: "duplicate probe name `acme-nightly`, first defined on line 27",
    },
    Case {
        name: "unknown vendor reference",
        find: "vendor = \"acme\"",
        replace: "vendor = \"acne\"",
        line: 28,
        col: 10,
        message: "unknown vendor `acne`, expected one of acme",
    },
    Case {
        name: "unknown persona reference",
        find: "persona = \"dana\"",
        replace: "persona = \"dan\"",
        line: 29,
        col: 11,
        message: "unknown persona `dan`, expected one of dana",
    },
    Case {
        name: "cap out of range",
        find: "per-day = 2",
        replace: "per-day = 25",
        line: 7,
        col: 20,
        message: "per-day must be between 1 and 24, not 25",
    },
    Case {
        name: "cap zero",
        find: "per-day = 2",
        replace: "per-day = 0",
        line: 7,
        col: 20,
        message: "per-day must be between 1 and 24, not 0",
    },
    Case {
        name: "weekly cap below the daily one",
        find: "per-day = 2, per-week = 5",
        replace: "per-day = 9, per-week = 5",
        line: 7,
        col: 34,
        message: "per-week (5) must be at least per-day (9)",
    },
    Case {
        name: "bad duration",
        find: "\"1m\"",
        replace: "\"1 minute\"",
        line: 2,
        col: 19,
        message: "invalid duration `1 minute`: unknown unit ` `, expected one of w, d, h, m, s",
    },
    Case {
        name: "negative duration",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\njitter = \"-5m\"",
        line: 32,
        col: 11,
        message: "invalid duration `-5m`: expected a number, found `-`",
    },
    Case {
        name: "duration out of range",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nanswer-within = \"0s\"",
        line: 32,
        col: 17,
        message: "answer-within must be more than 0s and at most 90d",
    },
    Case {
        name: "missing required key",
        find: "schedule = \"0 30 2 * * *\"\n",
        replace: "",
        line: 26,
        col: 1,
        message: "missing key `schedule`",
    },
    Case {
        name: "an email persona probing a vendor without addresses",
        find: "addresses = [\"support@acme.example\"]\n",
        replace: "",
        line: 28,
        col: 11,
        message: "persona `dana` files by email but vendor `acme` has no addresses",
    },
    Case {
        name: "unknown secret form",
        find: "{ env = \"DANA_PW\" }",
        replace: "{ vault = \"x\" }",
        line: 18,
        col: 12,
        message: "unknown key `vault`, expected one of env, file, credential, command",
    },
    Case {
        name: "empty environment variable name",
        find: "{ env = \"DANA_PW\" }",
        replace: "{ env = \"\" }",
        line: 18,
        col: 12,
        message: "invalid environment variable name ``",
    },
    Case {
        name: "relative password file",
        find: "{ env = \"DANA_PW\" }",
        replace: "{ file = \"relative/pw\" }",
        line: 18,
        col: 12,
        message: "password file must be an absolute path, not `relative/pw`",
    },
    Case {
        name: "credential name with a slash",
        find: "{ env = \"DANA_PW\" }",
        replace: "{ credential = \"a/b\" }",
        line: 18,
        col: 12,
        message: "invalid credential name `a/b`, it must be a plain file name",
    },
    Case {
        name: "template with an unknown placeholder",
        find: "{token}\"",
        replace: "{tokn}\"",
        line: 32,
        col: 25,
        message: "unknown placeholder `{tokn}`, expected one of {vendor}, {probe}, {probe_id}, {token}, {local_time}, {zone}, {priority}, {persona}",
    },
    Case {
        name: "multi-line subject",
        find: "subject = \"Support test {token}\"",
        replace: "subject = \"Support test\\n{token}\"",
        line: 32,
        col: 11,
        message: "subject must be a single line",
    },
    Case {
        name: "insecure to a remote host",
        find: "security = \"starttls\"",
        replace: "security = \"insecure\"",
        line: 16,
        col: 12,
        message: "security = \"insecure\" is only allowed for 127.0.0.1, ::1 or localhost, not `smtp.probe.example`",
    },
    Case {
        name: "unknown enum value",
        find: "security = \"tls\"",
        replace: "security = \"ssl\"",
        line: 22,
        col: 12,
        message: "unknown value `ssl`, expected one of tls, starttls, insecure",
    },
    Case {
        name: "unknown helpdesk",
        find: "caps = {",
        replace: "helpdesk = \"zendeskk\"\ncaps = {",
        line: 7,
        col: 12,
        message: "unknown value `zendeskk`, expected one of rt, zendesk, freshdesk, freshservice, jsm, servicenow, salesforce, helpscout, zoho, zammad, osticket, otrs, front, intercom, gorgias, hubspot, kayako, udesk, meiqia, generic",
    },
    Case {
        name: "port out of range",
        find: "port = 587",
        replace: "port = 70000",
        line: 15,
        col: 8,
        message: "port must be between 1 and 65535, not 70000",
    },
    Case {
        name: "bad vendor address",
        find: "\"support@acme.example\"",
        replace: "\"not-an-address\"",
        line: 6,
        col: 14,
        message: "invalid address `not-an-address`: expected local@domain, without a display name",
    },
    Case {
        name: "relative CA file",
        find: "port = 993",
        replace: "port = 993\nca-file = \"ca.pem\"",
        line: 22,
        col: 11,
        message: "ca-file must be an absolute path, not `ca.pem`",
    },
    Case {
        name: "malformed language tag",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nlanguage = \"zh_CN\"",
        line: 32,
        col: 15,
        message: "invalid language `zh_CN`: subtags are separated by `-`, not `_`; expected a BCP 47 tag such as zh, zh-CN, zh-Hant-TW, es-419 or pt-BR",
    },
    Case {
        name: "language with too much after the region",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nlanguage = \"zh-Hant-TW-x\"",
        line: 32,
        col: 24,
        message: "invalid language `zh-Hant-TW-x`: nothing may follow the region, found `x`; expected a BCP 47 tag such as zh, zh-CN, zh-Hant-TW, es-419 or pt-BR",
    },
    Case {
        name: "{detail} without details",
        find: "\"Support test {token}\"",
        replace: "\"Support test {token} {detail}\"",
        line: 32,
        col: 33,
        message: "placeholder `{detail}` needs a `details` list in this probe to draw from",
    },
    Case {
        name: "duplicate detail",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\ndetails = [\"edge node sg-3\", \"edge node sg-3\"]",
        line: 32,
        col: 30,
        message: "a detail `edge node sg-3` is listed twice",
    },
    Case {
        name: "expect pattern that does not compile",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nexpect = [\"(?i)status page (\"]",
        line: 32,
        col: 11,
        message: "invalid expect pattern `(?i)status page (`: unclosed group",
    },
    Case {
        name: "expect pattern that matches anything",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nexpect = [\"status|\"]",
        line: 32,
        col: 11,
        message: "expect pattern `status|` matches an empty text, so every reply would count as answered",
    },
    Case {
        name: "follow-up waiting longer than answer-within",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nanswer-within = \"1d\"\nfollow-ups = [{ after = \"2d\", body = \"Any news?\" }]",
        line: 33,
        col: 25,
        message: "a follow-up's after (2d) must be at most the probe's answer-within (1d)",
    },
    Case {
        name: "too many follow-ups",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nfollow-ups = [\n{ after = \"1h\", body = \"1\" },\n{ after = \"1h\", body = \"2\" },\n{ after = \"1h\", body = \"3\" },\n{ after = \"1h\", body = \"4\" },\n{ after = \"1h\", body = \"5\" },\n{ after = \"1h\", body = \"6\" },\n]",
        line: 38,
        col: 1,
        message: "at most 5 follow-ups per probe, found 6: each is a message to the vendor's staff, and the cap keeps a mistake from becoming a stream of mail",
    },
    Case {
        name: "unknown key in a follow-up",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nfollow-ups = [{ after = \"1h\", text = \"a\" }]",
        line: 32,
        col: 31,
        message: "unknown key `text`, expected after or body",
    },
    Case {
        name: "empty closing message",
        find: "zones = [\"UTC\"]",
        replace: "zones = [\"UTC\"]\nclosing-message = \"\"",
        line: 32,
        col: 19,
        message: "closing-message must not be empty",
    },
];

fn check(path: &Path) -> (Option<i32>, String, String) {
    let out = Out::of(command(path, None).arg("check"));
    (out.status.code(), out.stdout, out.stderr)
}

fn edited(find: &str, replace: &str) -> String {
    assert!(BASE.contains(find), "the base config has no {find:?}");
    BASE.replacen(find, replace, 1)
}

#[test]
fn the_base_config_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base.toml");
    std::fs::write(&path, BASE).unwrap();
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("valid (1 vendor, 1 persona, 1 probe)"),
        "{stdout}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn every_kind_of_mistake_is_reported_at_its_line_and_column() {
    assert!(CASES.len() >= 20, "the matrix has {} cases", CASES.len());
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, edited(case.find, case.replace)).unwrap();
        let (code, stdout, stderr) = check(&path);
        let expected = format!(
            "error: {}:{}:{}: {}",
            path.display(),
            case.line,
            case.col,
            case.message
        );
        let first = stderr.lines().next().unwrap_or_default();
        if code != Some(78) || first != expected || !stdout.is_empty() {
            failures.push(format!(
                "{}: exit {code:?}\n  expected: {expected}\n  got:      {first}\n  stdout: {stdout}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_inline_password_is_a_warning_with_its_position_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inline.toml");
    std::fs::write(
        &path,
        edited("password = { env = \"DANA_PW\" }", "password = \"hunter2\""),
    )
    .unwrap();
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("valid"), "{stdout}");
    let expected = format!(
        "warning: {}:18:12: password written in the config file, prefer {{ env = \"NAME\" }}, {{ file = \"/path\" }} or {{ credential = \"name\" }}",
        path.display()
    );
    assert!(stderr.lines().any(|l| l == expected), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the secret is never printed");
}

#[test]
fn several_mistakes_are_reported_together_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.toml");
    let text = BASE
        .replacen("per-day = 2", "per-day = 0", 1)
        .replacen("persona = \"dana\"", "persona = \"dan\"", 1)
        .replacen("[\"UTC\"]", "[\"Mars/Olympus\"]", 1);
    std::fs::write(&path, text).unwrap();
    let (code, _, stderr) = check(&path);
    assert_eq!(code, Some(78));
    let p = path.display();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("error: {p}:7:20: per-day must be between 1 and 24, not 0"),
            format!("{p}:29:11: unknown persona `dan`, expected one of dana"),
            format!(
                "{p}:31:10: unknown time zone `Mars/Olympus`, expected an IANA name such as Europe/Berlin"
            ),
        ],
        "{stderr}"
    );
}
