//! Tests of the config loader: the shipped example, a matrix of mistakes
//! with their exact positions, defaults, and secrecy of passwords.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::model::WeekdayKey;

/// A small valid config. Lines are numbered in the comments of the tests;
/// the `# slot` lines are free for a test to replace.
const BASE: &str = r#"# slot-top
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
# slot-vendor
[vendor.sla]
P1 = "1h"

[[persona]]
name = "me"
display-name = "Me"
address = "me@team.example"
[persona.smtp]
host = "smtp.team.example"
port = 587
security = "starttls"
username = "me"
password = { env = "SMTP_PW" }
[persona.imap]
host = "imap.team.example"
port = 993
security = "tls"
username = "me"
password = { credential = "imap-password" }

[[probe]]
name = "nightly"
vendor = "acme"
persona = "me"
schedule = "0 30 2 * * *"
zones = ["Europe/Berlin"]
subject = "Test {token}"
body = "Hello {vendor}"
# slot-probe
"#;

/// `BASE` with the given 1-based lines replaced.
fn edit(changes: &[(usize, &str)]) -> String {
    let mut lines: Vec<String> = BASE.lines().map(String::from).collect();
    for &(n, text) in changes {
        lines[n - 1] = text.to_string();
    }
    lines.join("\n") + "\n"
}

fn parse(text: &str) -> Result<Loaded, ConfigErrors> {
    parse_str(text, Path::new("probes.toml"))
}

fn errors_of(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("expected errors, the config loaded:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that `text` gives exactly these errors, each starting with the
/// given `probes.toml:line:col: message` prefix, in this order.
fn assert_errors(text: &str, expected: &[&str]) {
    let got = errors_of(text);
    assert_eq!(got.len(), expected.len(), "errors: {got:#?}");
    for (g, e) in got.iter().zip(expected) {
        assert!(g.starts_with(e), "expected `{e}`, got `{g}`");
    }
}

fn assert_edit_errors(changes: &[(usize, &str)], expected: &[&str]) {
    assert_errors(&edit(changes), expected);
}

#[test]
fn the_base_config_is_valid() {
    let loaded = parse(BASE).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn the_shipped_example_loads_without_errors_or_warnings() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/probes.toml"));
    let loaded = match load(path) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    assert!(c.enabled);
    assert_eq!(c.source, path);
    assert_eq!(c.vendors.len(), 2);
    assert_eq!(c.personas.len(), 1);
    assert_eq!(c.probes.len(), 2);
    let acme = c.vendor("acme-cdn").unwrap();
    assert_eq!(acme.helpdesk, Helpdesk::new("zendesk"));
    assert_eq!(acme.sla_target("P2"), Some(Duration::from_secs(16_200)));
    assert_eq!(acme.overrides.len(), 2);
    assert_eq!(
        acme.overrides[1].field,
        OverrideField::Header("x-acme-survey".into())
    );
    assert!(
        acme.overrides[0]
            .pattern
            .is_match("[ACME] Ticket received #1")
    );
    assert_eq!(acme.calendar.hours.len(), 2);
    let globex = c.vendor("globex-mail").unwrap();
    assert_eq!(
        globex.calendar.hours,
        vec![(jiff::civil::Time::midnight(), None)]
    );
    let nightly = c.probe("acme-nightly").unwrap();
    assert_eq!(nightly.zones.len(), 3);
    assert_eq!(nightly.zones[0].0, "Asia/Shanghai");
    assert!(c.persona("night-shift").is_some());
    assert!(matches!(
        c.persona("night-shift")
            .unwrap()
            .smtp
            .as_ref()
            .unwrap()
            .password,
        Secret::Env(_)
    ));
    assert_eq!(c.active_probes().count(), 2);
}

#[test]
fn defaults_are_applied() {
    let c = parse(BASE).unwrap().config;
    assert!(c.enabled);
    assert_eq!(c.daemon, DaemonSettings::default());
    assert_eq!(c.daemon.poll_interval, Duration::from_secs(60));
    let v = c.vendor("acme").unwrap();
    assert_eq!(v.helpdesk, Helpdesk::generic());
    assert_eq!(
        v.caps,
        Caps {
            per_day: 2,
            per_week: 10
        }
    );
    assert_eq!(v.calendar.zone, jiff::tz::TimeZone::UTC);
    assert_eq!(v.calendar.days.len(), 7);
    assert!(v.calendar.days.contains(&WeekdayKey(7)));
    let p = c.persona("me").unwrap();
    assert_eq!(p.imap.as_ref().unwrap().mailbox, "INBOX");
    assert!(p.imap.as_ref().unwrap().idle);
    assert_eq!(p.imap.as_ref().unwrap().server.security, Security::Tls);
    let probe = c.probe("nightly").unwrap();
    assert_eq!(probe.jitter, Duration::ZERO);
    assert_eq!(probe.answer_within, Duration::from_secs(7 * 86_400));
    assert_eq!(probe.token_in, TokenIn::Both);
    assert_eq!(probe.priority, None);
    assert!(probe.enabled);
    assert!(c.vendor("nope").is_none());
}

#[test]
fn the_global_switch_disables_every_probe() {
    let c = parse(&edit(&[(1, "enabled = false")])).unwrap().config;
    assert!(!c.enabled);
    assert_eq!(c.active_probes().count(), 0);
    let c = parse(&edit(&[(34, "enabled = false")])).unwrap().config;
    assert_eq!(c.active_probes().count(), 0);
    assert!(!c.probes[0].enabled);
}

#[test]
fn a_missing_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let err = load(&path).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.exit_code(), 78);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}: cannot read the config file: ",
            path.display()
        )),
        "{text}"
    );
}

// ---- The error matrix: shape errors ---------------------------------------

#[test]
fn unknown_key_lists_the_expected_ones() {
    assert_edit_errors(
        &[(14, "hostt = \"smtp.team.example\"")],
        &[
            "probes.toml:14:1: unknown key `hostt`, expected one of host, port, security, username, password, ca-file",
        ],
    );
}

#[test]
fn unknown_top_level_key() {
    assert_edit_errors(
        &[(1, "enable = true")],
        &[
            "probes.toml:1:1: unknown key `enable`, expected one of enabled, daemon, vendor, persona, probe",
        ],
    );
}

#[test]
fn wrong_types() {
    assert_edit_errors(
        &[(15, "port = \"587\"")],
        &["probes.toml:15:8: invalid type: string \"587\", expected an integer"],
    );
    assert_edit_errors(
        &[(1, "enabled = \"yes\"")],
        &["probes.toml:1:11: invalid type: string \"yes\", expected true or false"],
    );
}

#[test]
fn missing_key_points_at_the_entry_header() {
    assert_edit_errors(
        &[(29, "# no persona")],
        &["probes.toml:26:1: missing key `persona`"],
    );
}

#[test]
fn unknown_enum_values() {
    assert_edit_errors(
        &[(5, "helpdesk = \"zendsk\"")],
        &["probes.toml:5:12: unknown value `zendsk`, expected one of "],
    );
    assert_edit_errors(
        &[(16, "security = \"ssl\"")],
        &["probes.toml:16:12: unknown value `ssl`, expected one of tls, starttls, insecure"],
    );
    assert_edit_errors(
        &[(34, "token-in = \"header\"")],
        &["probes.toml:34:12: unknown value `header`, expected one of subject, body, both"],
    );
}

#[test]
fn a_single_table_where_an_array_of_tables_is_needed() {
    let text = BASE.replacen("[[vendor]]", "[vendor]", 1);
    assert_errors(
        &text,
        &[
            "probes.toml:2:1: `vendor` must be an array of tables: write [[vendor]]",
            "probes.toml:28:10: unknown vendor `acme`, no [[vendor]] is defined",
        ],
    );
}

#[test]
fn toml_syntax_errors_have_positions() {
    assert_edit_errors(
        &[(30, "schedule = \"0 30 2 * * *")],
        &["probes.toml:30:25: invalid basic string, expected `\"`"],
    );
    assert_edit_errors(
        &[(1, "enabled = = true"), (33, "body = Hello")],
        &[
            "probes.toml:1:11: extra `=`",
            "probes.toml:33:8: string values must be quoted",
        ],
    );
}

// ---- The error matrix: meaning errors -------------------------------------

#[test]
fn unknown_references() {
    assert_edit_errors(
        &[(28, "vendor = \"acme-cdn\""), (29, "persona = \"you\"")],
        &[
            "probes.toml:28:10: unknown vendor `acme-cdn`, expected one of acme",
            "probes.toml:29:11: unknown persona `you`, expected one of me",
        ],
    );
}

#[test]
fn bad_zones() {
    assert_edit_errors(
        &[(
            31,
            "zones = [\"Europe/Berlin\", \"Europe/Berlim\", \"Europe/Berlin\"]",
        )],
        &[
            "probes.toml:31:27: unknown time zone `Europe/Berlim`",
            "probes.toml:31:44: zone `Europe/Berlin` is listed twice",
        ],
    );
    assert_edit_errors(
        &[(31, "zones = []")],
        &["probes.toml:31:9: a probe needs at least one zone"],
    );
}

#[test]
fn bad_cron_schedules() {
    assert_edit_errors(
        &[(30, "schedule = \"30 2 * * *\"")],
        &[
            "probes.toml:30:12: invalid schedule `30 2 * * *`: must have 6 fields (second minute hour day-of-month month day-of-week), found 5",
        ],
    );
    assert_edit_errors(
        &[(30, "schedule = \"0 61 2 * * *\"")],
        &[
            "probes.toml:30:15: invalid schedule `0 61 2 * * *`: minute field `61`: Number out of bounds",
        ],
    );
    assert_edit_errors(
        &[(30, "schedule = \"0 0 9 * * mon-fry\"")],
        &["probes.toml:30:23: invalid schedule `0 0 9 * * mon-fry`: day-of-week field `mon-fry`: "],
    );
}

#[test]
fn bad_durations_point_at_the_character() {
    assert_edit_errors(
        &[(34, "jitter = \"10x\"")],
        &[
            "probes.toml:34:13: invalid duration `10x`: unknown unit `x`, expected one of w, d, h, m, s",
        ],
    );
    assert_edit_errors(
        &[(7, "P1 = \"30m1h\"")],
        &["probes.toml:7:11: invalid duration `30m1h`: unit `h` repeated or out of order"],
    );
    assert_edit_errors(
        &[(1, "daemon = { poll-interval = \"60\" }")],
        &["probes.toml:1:31: invalid duration `60`: missing unit"],
    );
}

#[test]
fn durations_out_of_range() {
    assert_edit_errors(
        &[(34, "jitter = \"1d\"")],
        &["probes.toml:34:10: jitter must be less than 24h"],
    );
    assert_edit_errors(
        &[(34, "answer-within = \"91d\"")],
        &["probes.toml:34:17: answer-within must be more than 0s and at most 90d"],
    );
    assert_edit_errors(
        &[(34, "answer-within = \"0s\"")],
        &["probes.toml:34:17: answer-within must be more than 0s and at most 90d"],
    );
    assert_edit_errors(
        &[(1, "daemon = { poll-interval = \"0s\" }")],
        &["probes.toml:1:28: poll-interval must be greater than zero"],
    );
}

#[test]
fn duplicate_names() {
    let text = edit(&[(
        34,
        "[[probe]]\nname = \"nightly\"\nvendor = \"acme\"\npersona = \"me\"\n\
         schedule = \"0 0 3 * * *\"\nzones = [\"UTC\"]\nsubject = \"s\"\nbody = \"b\"",
    )]);
    assert_errors(
        &text,
        &["probes.toml:35:8: duplicate probe name `nightly`, first defined on line 27"],
    );
}

#[test]
fn invalid_names() {
    assert_edit_errors(
        &[(3, "name = \"Acme CDN\""), (28, "vendor = \"Acme CDN\"")],
        &["probes.toml:3:8: invalid vendor name `Acme CDN`, use only a-z, 0-9, - and _"],
    );
}

#[test]
fn insecure_is_only_for_loopback() {
    assert_edit_errors(
        &[(16, "security = \"insecure\"")],
        &[
            "probes.toml:16:12: security = \"insecure\" is only allowed for 127.0.0.1, ::1 or localhost, not `smtp.team.example`",
        ],
    );
    for host in ["127.0.0.1", "::1", "localhost"] {
        let text = edit(&[
            (14, &format!("host = \"{host}\"")),
            (16, "security = \"insecure\""),
        ]);
        assert!(parse(&text).is_ok(), "{host}");
    }
}

#[test]
fn template_mistakes_point_inside_the_string() {
    assert_edit_errors(
        &[(32, "subject = \"Test {tokn} {token}\"")],
        &["probes.toml:32:17: unknown placeholder `{tokn}`, expected one of {vendor}, {probe}"],
    );
    let text = BASE.replace(
        "body = \"Hello {vendor}\"",
        "body = \"\"\"\nHello {vendor},\nsee { this }\"\"\"",
    );
    assert_errors(
        &text,
        &[
            "probes.toml:35:5: unescaped `{`, write `{{` for a literal brace",
            "probes.toml:35:12: unescaped `}`, write `}}` for a literal brace",
        ],
    );
    assert_edit_errors(
        &[(32, "subject = \"Test\\n{token}\"")],
        &["probes.toml:32:11: subject must be a single line"],
    );
}

#[test]
fn caps_limits() {
    assert_edit_errors(
        &[(5, "caps = { per-day = 30 }")],
        &["probes.toml:5:20: per-day must be between 1 and 24, not 30"],
    );
    assert_edit_errors(
        &[(5, "caps = { per-day = 5, per-week = 3 }")],
        &["probes.toml:5:34: per-week (3) must be at least per-day (5)"],
    );
    assert_edit_errors(
        &[(5, "caps = { per-week = 101 }")],
        &["probes.toml:5:21: per-week must be between 1 and 100, not 101"],
    );
}

#[test]
fn priority_must_be_an_sla_label() {
    assert_edit_errors(
        &[(34, "priority = \"P9\"")],
        &[
            "probes.toml:34:12: priority `P9` is not in vendor `acme`'s sla table, expected one of P1",
        ],
    );
    let c = parse(&edit(&[(34, "priority = \"P1\"")])).unwrap().config;
    assert_eq!(c.probes[0].priority.as_deref(), Some("P1"));
}

#[test]
fn bad_addresses() {
    assert_edit_errors(
        &[(
            4,
            "addresses = [\"support@acme.example\", \"Acme <support@acme.example>\"]",
        )],
        &["probes.toml:4:38: invalid address `Acme <support@acme.example>`: the part before @"],
    );
    assert_edit_errors(
        &[(12, "address = \"me.team.example\"")],
        &["probes.toml:12:11: invalid address `me.team.example`: expected local@domain"],
    );
    assert_edit_errors(
        &[(4, "addresses = []")],
        &["probes.toml:4:13: a vendor needs at least one address"],
    );
}

#[test]
fn business_hours_mistakes() {
    let hours = "[vendor.business-hours]\nzone = \"America/New_Yrok\"\n\
                 days = [\"mon\", \"monday\", \"mon\"]\n\
                 hours = [\"17:00-09:00\", \"09:00-13:00\", \"12:00-18:00\", \"9-5\"]\n\
                 holidays = [\"2026-13-01\"]";
    assert_edit_errors(
        &[(5, hours)],
        &[
            "probes.toml:6:8: unknown time zone `America/New_Yrok`",
            "probes.toml:7:16: unknown day `monday`, expected one of mon",
            "probes.toml:7:26: day `mon` is listed twice",
            "probes.toml:8:10: invalid hours range `17:00-09:00`: the end must be after the start",
            "probes.toml:8:40: hours range `12:00-18:00` overlaps `09:00-13:00`",
            "probes.toml:8:55: invalid hours range `9-5`: expected HH:MM-HH:MM",
            "probes.toml:9:13: invalid holiday `2026-13-01`, expected YYYY-MM-DD",
        ],
    );
}

#[test]
fn whole_day_and_split_hours_build_the_calendar() {
    let hours = "[vendor.business-hours]\nzone = \"Asia/Tokyo\"\ndays = [\"sat\", \"sun\"]\n\
                 hours = [\"13:00-24:00\", \"00:00-01:30\"]\nholidays = [\"2026-01-01\"]";
    let c = parse(&edit(&[(5, hours)])).unwrap().config;
    let cal = &c.vendors[0].calendar;
    assert_eq!(cal.zone, jiff::tz::TimeZone::get("Asia/Tokyo").unwrap());
    let days: Vec<WeekdayKey> = cal.days.iter().copied().collect();
    assert_eq!(days, vec![WeekdayKey(6), WeekdayKey(7)]);
    let t = |h, m| jiff::civil::Time::new(h, m, 0, 0).unwrap();
    assert_eq!(cal.hours, vec![(t(0, 0), Some(t(1, 30))), (t(13, 0), None)]);
    assert_eq!(cal.holidays.len(), 1);
}

#[test]
fn override_mistakes() {
    let rule =
        "[[vendor.override]]\nfield = \"header\"\npattern = \"(?i)[acme\"\nclass = \"robot\"";
    assert_edit_errors(
        &[(5, rule)],
        &["probes.toml:8:9: unknown value `robot`, expected one of human, ack, out-of-office"],
    );
    let rule = "[[vendor.override]]\nfield = \"header\"\npattern = \"(?i)[acme\"\nclass = \"ack\"";
    assert_edit_errors(
        &[(5, rule)],
        &[
            "probes.toml:6:9: unknown override field `header`, expected subject, from, body or header:<name>",
            "probes.toml:7:11: invalid pattern: unclosed character class",
        ],
    );
}

#[test]
fn server_mistakes() {
    assert_edit_errors(
        &[(15, "port = 0"), (21, "port = 70000")],
        &[
            "probes.toml:15:8: port must be between 1 and 65535, not 0",
            "probes.toml:21:8: port must be between 1 and 65535, not 70000",
        ],
    );
    assert_edit_errors(
        &[(17, "username = \"me\"\nca-file = \"certs/ca.pem\"")],
        &["probes.toml:18:11: ca-file must be an absolute path, not `certs/ca.pem`"],
    );
}

#[test]
fn password_table_mistakes() {
    assert_edit_errors(
        &[(18, "password = { env = \"A\", file = \"/b\" }")],
        &[
            "probes.toml:18:12: a password table takes exactly one of env, file, credential, command",
        ],
    );
    assert_edit_errors(
        &[(18, "password = { vault = \"x\" }")],
        &["probes.toml:18:12: unknown key `vault`, expected one of env, file, credential, command"],
    );
    assert_edit_errors(
        &[(24, "password = { credential = \"../etc/shadow\" }")],
        &["probes.toml:24:12: invalid credential name `../etc/shadow`"],
    );
    assert_edit_errors(
        &[(18, "password = { command = [] }")],
        &["probes.toml:18:12: password command must name a program"],
    );
}

#[test]
fn several_errors_in_one_file_are_all_reported_in_order() {
    let third_probe = "[[probe]]\nname = \"second\"\nvendor = \"acme\"\npersona = \"me\"\n\
                       schedule = \"0 0 3 * * *\"\nzones = [\"UTC\"]\nsubject = \"s\"\nbody = \"b\"\n\
                       [[probe]]\nname = \"third\"\nvendor = \"acme\"\npersona = \"me\"\n\
                       schedule = \"0 0 3 * * *\"\nzones = \"UTC\"\nsubject = \"s\"\nbody = \"b\"";
    let text = edit(&[
        (5, "helpdesk = \"zendesk\"\ncolour = \"red\""),
        (34, third_probe),
    ]);
    // Lines after 5 moved down by one.
    assert_errors(
        &text,
        &[
            "probes.toml:6:1: unknown key `colour`",
            "probes.toml:48:9: invalid type: string \"UTC\", expected an array",
        ],
    );
    let text = edit(&[
        (14, "hostt = \"x\""),
        (30, "schedule = \"* * *\""),
        (31, "zones = [\"Mars/Olympus\"]"),
        (33, "body = \"{nope}\""),
    ]);
    assert_errors(
        &text,
        &[
            "probes.toml:14:1: unknown key `hostt`",
            "probes.toml:30:12: invalid schedule `* * *`",
            "probes.toml:31:10: unknown time zone `Mars/Olympus`",
            "probes.toml:33:9: unknown placeholder `{nope}`",
        ],
    );
}

#[test]
fn references_to_a_broken_entry_are_not_reported_again() {
    assert_edit_errors(
        &[(5, "helpdesk = 3")],
        &["probes.toml:5:12: invalid type: integer `3`, expected a string"],
    );
}

#[test]
fn diagnostics_display_one_per_line_without_periods() {
    let err = parse(&edit(&[(28, "vendor = \"x\""), (29, "persona = \"y\"")])).unwrap_err();
    let text = err.to_string();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.lines()
            .all(|l| l.starts_with("probes.toml:") && !l.ends_with('.'))
    );
    assert_eq!(err.exit_code(), EX_CONFIG);
}

// ---- Warnings and secrets -------------------------------------------------

#[test]
fn an_inline_password_is_accepted_with_a_warning_at_its_position() {
    let loaded = parse(&edit(&[(18, "password = \"hunter2-inline\"")])).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("probes.toml:18:12: password written in the config file"),
        "{warnings:?}"
    );
    assert!(!warnings[0].contains("hunter2"));
    let smtp = loaded.config.personas[0].smtp.as_ref().unwrap();
    assert_eq!(smtp.password.resolve().unwrap().expose(), "hunter2-inline");
    assert!(!format!("{:?}", loaded.config).contains("hunter2"));
}

#[test]
fn no_secret_appears_in_errors() {
    for password in [
        "password = \"hunter2\"\nport = \"x\"",
        "password = 4242424242",
        "password = [\"hunter2\"]",
        "password = { env = \"X\", value = \"hunter2\" }",
        "password = { value = \"hunter2\" }",
    ] {
        let text = edit(&[(18, password), (15, "# port moved")]);
        let err = parse(&text).unwrap_err();
        let shown = format!("{err}\n{err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("4242424242"), "{shown}");
    }
}

#[test]
fn a_config_without_probes_warns() {
    let text: String = BASE.lines().take(25).collect::<Vec<_>>().join("\n");
    let loaded = parse(&text).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec!["probes.toml: no [[probe]] is defined, nothing will be filed"]
    );
}

#[test]
fn the_global_ceiling_and_the_metrics_listener_are_read_and_checked() {
    let ok = edit(&[(
        1,
        "[daemon]\nmax-filings-per-hour = 4\n[metrics]\nenabled = true\nlisten = \"[::1]:9100\"",
    )]);
    let c = parse(&ok).unwrap().config;
    assert_eq!(c.daemon.max_filings_per_hour, Some(4));
    assert!(c.metrics.enabled);
    assert_eq!(c.metrics.listen.to_string(), "[::1]:9100");
    let off = parse(BASE).unwrap().config;
    assert_eq!(off.daemon.max_filings_per_hour, None);
    assert!(!off.metrics.enabled, "off by default");
    assert!(off.metrics.listen.ip().is_loopback(), "loopback by default");

    assert_edit_errors(
        &[(
            1,
            "[daemon]\nmax-filings-per-hour = 0\n[metrics]\nlisten = \"localhost:http\"",
        )],
        &[
            "probes.toml:2:24: max-filings-per-hour must be between 1 and 1000, not 0",
            "probes.toml:4:10: metrics.listen must be an IP address and port",
        ],
    );
    // The network may not read the listener without credentials.
    assert_edit_errors(
        &[(1, "[metrics]\nenabled = true\nlisten = \"0.0.0.0:9464\"")],
        &[
            "probes.toml:3:10: metrics.listen 0.0.0.0:9464 is not a loopback address: set metrics.token or [metrics.basic-auth]",
        ],
    );
    // A listener that is not enabled binds nothing.
    let off = edit(&[(1, "[metrics]\nlisten = \"0.0.0.0:9464\"")]);
    assert!(parse(&off).unwrap().warnings.is_empty());
}

#[test]
fn the_metrics_credentials_are_secret_references_like_the_passwords() {
    let token = edit(&[(
        1,
        "[metrics]\nenabled = true\nlisten = \"0.0.0.0:9464\"\ntoken = { env = \"PROBE_METRICS_TOKEN\" }",
    )]);
    let loaded = parse(&token).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let auth = loaded.config.metrics.auth;
    assert_eq!(auth.token, Some(Secret::Env("PROBE_METRICS_TOKEN".into())));
    assert!(auth.basic.is_none());

    let basic = edit(&[(
        1,
        "[metrics]\nenabled = true\nlisten = \"[::]:9464\"\n[metrics.basic-auth]\nusername = \"ops\"\npassword = { file = \"/run/probe/metrics\" }",
    )]);
    let c = parse(&basic).unwrap().config;
    let b = c.metrics.auth.basic.unwrap();
    assert_eq!(b.username, "ops");
    assert_eq!(b.password, Secret::File("/run/probe/metrics".into()));

    assert_edit_errors(
        &[(
            1,
            "[metrics]\ntoken = { env = \"\" }\n[metrics.basic-auth]\nusername = \"a:b\"\npassword = { file = \"relative\" }",
        )],
        &[
            "probes.toml:2:9: invalid environment variable name ``",
            "probes.toml:4:12: metrics.basic-auth.username must not be empty nor contain `:`",
            "probes.toml:5:12: password file must be an absolute path, not `relative`",
        ],
    );
}

#[test]
fn report_and_digest_sections_have_defaults_and_the_example_sets_them() {
    let plain = parse(BASE).unwrap().config;
    assert_eq!(plain.report.zone_name, "UTC");
    assert!(plain.digest.is_none(), "the digest is optional");

    let text = format!(
        "{BASE}\n[report]\nzone = \"Europe/Berlin\"\n\n[digest]\npersona = \"me\"\nrecipients = [\"team@team.example\"]\n"
    );
    let c = parse(&text).unwrap().config;
    let d = c.digest.unwrap();
    assert_eq!(d.schedule, "0 0 8 * * MON");
    assert_eq!(
        d.zone_name, "Europe/Berlin",
        "the digest zone defaults to the report zone"
    );
    assert_eq!(d.jitter, Duration::from_secs(1800));
    assert!(d.enabled);
    assert_eq!(d.recipients, vec!["team@team.example".to_string()]);

    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/probes.toml"));
    let example = load(path).unwrap().config;
    assert_eq!(example.report.zone_name, "Europe/Berlin");
    assert_eq!(example.digest.unwrap().persona, "night-shift");
}

#[test]
fn digest_mistakes_are_reported_at_their_position() {
    let text = format!(
        "{BASE}\n[digest]\npersona = \"ghost\"\nrecipients = []\nschedule = \"0 0 8 * *\"\n"
    );
    let errors = errors_of(&text);
    let base_lines = BASE.lines().count();
    assert_eq!(
        errors,
        vec![
            format!(
                "probes.toml:{}:11: unknown persona `ghost`, expected one of me",
                base_lines + 3
            ),
            format!(
                "probes.toml:{}:14: the digest needs at least one recipient",
                base_lines + 4
            ),
            format!(
                "probes.toml:{}:12: invalid schedule `0 0 8 * *`: must have 6 fields (second minute hour day-of-month month day-of-week), found 5",
                base_lines + 5
            ),
        ]
    );
}

// ---- Issue 11: language, details, expect, follow-ups, closing-message -----

/// The scorecard keys on BASE's probe, with `{detail}` in every template.
const SCORECARD_KEYS: &str = r#"language = "zh-Hant-TW"
details = ["stream key ending 4F7Q", "edge node sg-3"]
expect = ["https://status\\.acme\\.example", "(?i)status page"]
follow-ups = [
  { after = "15m", body = "Any news about {detail}, {vendor}?" },
  { after = "1d", body = "Still waiting ({token})." },
]
closing-message = "Thanks — this was a scheduled support test; please close it.""#;

#[test]
fn the_scorecard_keys_are_accepted_and_kept_as_written() {
    let text = edit(&[
        (32, "subject = \"Test {token} about {detail}\""),
        (33, "body = \"Hello {vendor}, {detail}\""),
        (34, SCORECARD_KEYS),
    ]);
    let loaded = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    let p = c.probe("nightly").unwrap();
    assert_eq!(p.language.as_deref(), Some("zh-Hant-TW"));
    assert_eq!(p.details, ["stream key ending 4F7Q", "edge node sg-3"]);
    assert_eq!(
        p.expect,
        ["https://status\\.acme\\.example", "(?i)status page"]
    );
    assert_eq!(
        p.follow_ups,
        vec![
            FollowUp {
                after: Duration::from_secs(15 * 60),
                body: "Any news about {detail}, {vendor}?".into(),
            },
            FollowUp {
                after: Duration::from_secs(86_400),
                body: "Still waiting ({token}).".into(),
            },
        ]
    );
    let closing = "Thanks — this was a scheduled support test; please close it.";
    assert_eq!(p.closing_message.as_deref(), Some(closing));
    assert_eq!(c.closing_message(p), Some(closing));
}

#[test]
fn the_scorecard_keys_default_to_nothing() {
    let c = parse(BASE).unwrap().config;
    let p = c.probe("nightly").unwrap();
    assert_eq!(p.language, None);
    assert!(p.details.is_empty());
    assert!(p.expect.is_empty());
    assert!(p.follow_ups.is_empty());
    assert_eq!(p.closing_message, None);
    assert_eq!(c.closing_message(p), None);
    assert_eq!(p.detail_for("01JD0000000000000000000000"), None);
}

#[test]
fn well_formed_language_tags_are_accepted_as_written() {
    for tag in [
        "zh",
        "zh-CN",
        "zh-Hant-TW",
        "es-419",
        "pt-BR",
        "yue",
        "sr-Latn",
        "ZH-cn",
    ] {
        let text = edit(&[(34, &format!("language = \"{tag}\""))]);
        let c = parse(&text).unwrap_or_else(|e| panic!("{tag}: {e}")).config;
        assert_eq!(c.probes[0].language.as_deref(), Some(tag));
    }
}

#[test]
fn malformed_language_tags_point_at_the_bad_subtag() {
    let shape = "; expected a BCP 47 tag such as zh, zh-CN, zh-Hant-TW, es-419 or pt-BR";
    let cases = [
        (
            "zh_CN",
            "probes.toml:34:15: invalid language `zh_CN`: subtags are separated by `-`, not `_`",
        ),
        (
            "chinese",
            "probes.toml:34:13: invalid language `chinese`: the language `chinese` must be 2 or 3 letters",
        ),
        (
            "z",
            "probes.toml:34:13: invalid language `z`: the language `z` must be 2 or 3 letters",
        ),
        (
            "zh-C",
            "probes.toml:34:16: invalid language `zh-C`: `C` is neither a 4-letter script nor a 2-letter or 3-digit region",
        ),
        (
            "zh-Hant-TWN",
            "probes.toml:34:21: invalid language `zh-Hant-TWN`: `TWN` is not a 2-letter or 3-digit region",
        ),
        (
            "zh-CN-x",
            "probes.toml:34:19: invalid language `zh-CN-x`: nothing may follow the region, found `x`",
        ),
        (
            "zh-",
            "probes.toml:34:16: invalid language `zh-`: a subtag is empty",
        ),
        (
            "",
            "probes.toml:34:12: invalid language ``: the tag is empty",
        ),
    ];
    for (tag, expected) in cases {
        let text = edit(&[(34, &format!("language = \"{tag}\""))]);
        let got = errors_of(&text);
        assert_eq!(got, vec![format!("{expected}{shape}")], "{tag}");
    }
}

#[test]
fn detail_mistakes() {
    assert_edit_errors(
        &[(34, "details = []")],
        &["probes.toml:34:11: details needs at least one entry; leave the key out for none"],
    );
    assert_edit_errors(
        &[(34, r#"details = ["a", " ", "a", "x\ny"]"#)],
        &[
            "probes.toml:34:17: a detail must not be empty",
            "probes.toml:34:22: a detail `a` is listed twice",
            "probes.toml:34:27: a detail must be a single line without control characters",
        ],
    );
    assert_edit_errors(
        &[(34, "details = [\"a\", 3]")],
        &["probes.toml:34:17: invalid type: integer `3`, expected a string"],
    );
}

#[test]
fn the_detail_placeholder_needs_details() {
    let needs = "placeholder `{detail}` needs a `details` list in this probe to draw from";
    assert_edit_errors(
        &[(32, "subject = \"Test {detail} {token}\"")],
        &[&format!("probes.toml:32:17: {needs}")],
    );
    assert_edit_errors(
        &[(33, "body = \"Hello {vendor} {detail}\"")],
        &[&format!("probes.toml:33:24: {needs}")],
    );
    assert_edit_errors(
        &[(
            34,
            "follow-ups = [{ after = \"1h\", body = \"About {detail}?\" }]",
        )],
        &[&format!("probes.toml:34:45: {needs}")],
    );
    // `{{detail}}` is literal text, not the placeholder.
    assert!(parse(&edit(&[(32, "subject = \"Test {{detail}} {token}\"")])).is_ok());
}

#[test]
fn expect_mistakes() {
    assert_edit_errors(
        &[(34, r#"expect = ["(unclosed", "a*", "ok", "ok"]"#)],
        &[
            "probes.toml:34:11: invalid expect pattern `(unclosed`: unclosed group",
            "probes.toml:34:24: expect pattern `a*` matches an empty text, so every reply would count as answered",
            "probes.toml:34:36: an expect pattern `ok` is listed twice",
        ],
    );
    assert_edit_errors(
        &[(34, "expect = []")],
        &["probes.toml:34:10: expect needs at least one entry; leave the key out for none"],
    );
    assert_edit_errors(
        &[(34, "expect = [\"\"]")],
        &["probes.toml:34:11: an expect pattern must not be empty"],
    );
}

#[test]
fn follow_up_mistakes() {
    let text = edit(&[(
        34,
        "answer-within = \"2d\"\n\
         follow-ups = [\n\
         { after = \"0s\", body = \"a\" },\n\
         { after = \"3d\", body = \"b\" },\n\
         { after = \"1h\", body = \" \" },\n\
         { after = \"1x\", body = \"{tokn}\" },\n\
         ]",
    )]);
    assert_errors(
        &text,
        &[
            "probes.toml:36:11: a follow-up's after must be more than 0s",
            "probes.toml:37:11: a follow-up's after (3d) must be at most the probe's answer-within (2d)",
            "probes.toml:38:24: a follow-up body must not be empty",
            "probes.toml:39:13: invalid duration `1x`: unknown unit `x`",
            "probes.toml:39:25: unknown placeholder `{tokn}`",
        ],
    );
    assert_edit_errors(
        &[(34, "follow-ups = []")],
        &["probes.toml:34:14: follow-ups needs at least one entry; leave the key out for none"],
    );
    assert_edit_errors(
        &[(34, "follow-ups = [{ after = \"1h\", text = \"a\" }]")],
        &["probes.toml:34:31: unknown key `text`, expected after or body"],
    );
    assert_edit_errors(
        &[(34, "follow-ups = [{ after = \"1h\" }]")],
        &["probes.toml:34:15: missing key `body`"],
    );
}

#[test]
fn a_follow_up_is_not_compared_with_a_broken_answer_within() {
    // The default is 7d; a broken answer-within is reported once, not
    // again on a follow-up longer than the default.
    let text = edit(&[(
        34,
        "answer-within = \"30x\"\nfollow-ups = [{ after = \"8d\", body = \"b\" }]",
    )]);
    assert_errors(
        &text,
        &["probes.toml:34:20: invalid duration `30x`: unknown unit `x`"],
    );
    // And a follow-up as long as answer-within is fine.
    let text = edit(&[(
        34,
        "answer-within = \"8d\"\nfollow-ups = [{ after = \"8d\", body = \"b\" }]",
    )]);
    assert!(parse(&text).is_ok());
}

#[test]
fn at_most_five_follow_ups() {
    let round = "{ after = \"1h\", body = \"more?\" },";
    let five = format!("follow-ups = [\n{}\n]", [round; 5].join("\n"));
    let c = parse(&edit(&[(34, &five)])).unwrap().config;
    assert_eq!(c.probes[0].follow_ups.len(), Probe::MAX_FOLLOW_UPS);
    let six = format!("follow-ups = [\n{}\n]", [round; 6].join("\n"));
    assert_edit_errors(
        &[(34, &six)],
        &[
            "probes.toml:40:1: at most 5 follow-ups per probe, found 6: each is a message to the \
           vendor's staff, and the cap keeps a mistake from becoming a stream of mail",
        ],
    );
}

#[test]
fn closing_message_mistakes() {
    assert_edit_errors(
        &[(34, "closing-message = \"  \"")],
        &["probes.toml:34:19: closing-message must not be empty"],
    );
    assert_edit_errors(
        &[(34, "closing-message = 3")],
        &["probes.toml:34:19: invalid type: integer `3`, expected a string"],
    );
}

/// BASE plus an API persona (`zendesk`, with its own closing message) and
/// a probe through it; `probe_keys` go on that probe.
fn with_api_probe(probe_keys: &str) -> String {
    format!(
        r#"{BASE}
[[persona]]
name = "desk"
display-name = "Desk"
address = "desk@team.example"
[persona.api]
preset = "zendesk"
base-url = "https://acme.zendesk.com"
username = "desk@team.example/token"
token = {{ env = "ZD_TOKEN" }}
closing-message = "Persona's closing"

[[probe]]
name = "via-api"
vendor = "acme"
persona = "desk"
schedule = "0 0 9 * * *"
zones = ["UTC"]
subject = "Test {{token}}"
body = "Hello"
{probe_keys}
"#
    )
}

#[test]
fn the_probe_closing_message_wins_over_the_persona_one() {
    let c = parse(&with_api_probe("")).unwrap().config;
    let p = c.probe("via-api").unwrap();
    assert_eq!(c.closing_message(p), Some("Persona's closing"));
    let c = parse(&with_api_probe("closing-message = \"Probe's closing\""))
        .unwrap()
        .config;
    let p = c.probe("via-api").unwrap();
    assert_eq!(c.closing_message(p), Some("Probe's closing"));
    // An email probe has only its own.
    assert_eq!(c.closing_message(c.probe("nightly").unwrap()), None);
}

#[test]
fn details_are_drawn_by_a_stable_hash_of_the_probe_id() {
    // FNV-1a's published test vectors: the hash never depends on the Rust
    // version or the run, unlike `DefaultHasher`.
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    let text = edit(&[(34, r#"details = ["d0", "d1", "d2"]"#)]);
    let c = parse(&text).unwrap().config;
    let p = &c.probes[0];
    let id = "01JD0000000000000000000000";
    let want = &p.details[usize::try_from(fnv1a(id.as_bytes()) % 3).unwrap()];
    assert_eq!(p.detail_for(id), Some(want.as_str()));
    assert_eq!(p.detail_for(id), p.detail_for(id));
    // Over many ids every detail is drawn.
    let drawn: std::collections::BTreeSet<&str> = (0..300)
        .filter_map(|i| p.detail_for(&format!("01JD{i:022}")))
        .collect();
    assert_eq!(drawn.into_iter().collect::<Vec<_>>(), ["d0", "d1", "d2"]);
}

/// The worked example in probes.toml (commented out there so the shipped
/// file keeps its two live probes) validates once uncommented.
#[test]
fn the_example_two_language_probes_validate() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/probes.toml"));
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("# --- Same question, two languages").unwrap();
    let end = text.find("# --- end of two languages").unwrap();
    let mut uncommented = text[..start].to_string();
    for l in text[start..end].lines().skip(1) {
        let l = l
            .strip_prefix("# ")
            .or_else(|| l.strip_prefix('#'))
            .unwrap_or(l);
        uncommented.push_str(l);
        uncommented.push('\n');
    }
    uncommented.push_str(&text[end..]);
    let loaded = parse(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    let zh = c.probe("globex-status-zh").unwrap();
    let en = c.probe("globex-status-en").unwrap();
    assert_eq!(zh.language.as_deref(), Some("zh-CN"));
    assert_eq!(en.language.as_deref(), Some("en-US"));
    assert_eq!(zh.zones[0].0, "Asia/Shanghai");
    assert_eq!(en.zones[0].0, "America/Los_Angeles");
    assert_eq!(
        (zh.schedule.as_str(), zh.details.len()),
        (en.schedule.as_str(), en.details.len())
    );
    assert_eq!(zh.expect, en.expect);
    assert!(!zh.follow_ups.is_empty());
    assert!(zh.closing_message.is_some());
}

#[test]
fn a_closing_message_needs_an_api_that_can_post_one() {
    // A generic spec without a `close` request cannot post it.
    let text = format!(
        r#"{BASE}
[[persona]]
name = "rt"
display-name = "RT"
address = "rt@team.example"
[persona.api]
preset = "generic"
base-url = "https://rt.example/REST/2.0"
auth = "none"
[persona.api.spec]
ticket-id = "/id"
[persona.api.spec.create]
method = "POST"
url = "/ticket"
body = {{ Subject = "{{subject}}", Content = "{{body}}" }}
[persona.api.spec.list]
items = "/items"
[persona.api.spec.list.request]
url = "/ticket/{{ticket}}/history"
[persona.api.spec.message]
id = "/id"
author = "/Creator/id"
body = "/Content"
created = {{ pointer = "/Created", format = "rfc3339" }}
[persona.api.spec.authors]
default = "other"
staff = [{{ field = "/Type", equals = ["Correspond"] }}]

[[probe]]
name = "via-rt"
vendor = "acme"
persona = "rt"
schedule = "0 0 9 * * *"
zones = ["UTC"]
subject = "Test {{token}}"
body = "Hello"
closing-message = "Thanks, please close it."
"#
    );
    let line = text.lines().count();
    assert_errors(
        &text,
        &[&format!(
            "probes.toml:{line}:19: persona `rt` files through preset `generic`, which cannot post \
             a closing message"
        )],
    );
}
