//! The daemon as a service, end to end with the real binary and the mail
//! stack: systemd notifications (a Unix datagram socket stands in for
//! systemd), the watchdog, SIGHUP reload (valid and invalid configs), pause
//! and resume of a running daemon, the /metrics and /healthz listener, and
//! secrets that never reach the output.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::kit::MailStack;
use crate::kit::config::{Probe, config_text};
use support_probe::model::{ProbeRecord, ProbeState};

use crate::kit::run::{Daemon, Out, command, probe, probes};

/// How long any awaited condition may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// A fake systemd: the socket `$NOTIFY_SOCKET` names.
struct Systemd {
    socket: UnixDatagram,
    path: PathBuf,
    seen: Vec<String>,
}

impl Systemd {
    fn new(dir: &Path) -> Systemd {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        Systemd {
            socket,
            path,
            seen: Vec::new(),
        }
    }

    /// Receives notifications until one contains `line` as a whole line; returns it.
    fn expect(&mut self, line: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = [0u8; 4096];
        loop {
            assert!(
                Instant::now() < deadline,
                "no {line:?} from the daemon; got {:?}",
                self.seen
            );
            let n = self
                .socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("waiting for {line:?}: {e}; got {:?}", self.seen));
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.push(msg.clone());
            if msg.lines().any(|l| l == line) {
                return msg;
            }
        }
    }
}

/// Polls the store until `pred` holds, or fails with the daemon's log.
fn wait_until(
    state: &Path,
    daemon: &Daemon,
    what: &str,
    pred: impl Fn(&[ProbeRecord]) -> bool,
) -> Vec<ProbeRecord> {
    crate::kit::run::wait_until(state, daemon, what, PATIENCE, pred)
}

/// What a person at the vendor writes; different each time, because the
/// same text on two probes is a template (the canned-text rule), not a person.
const ANSWERS: [&str; 3] = [
    "Hi, I looked into this for you and changed the setting on our side; it should work now.",
    "Hello Dana, our engineer checked the origin logs and found nothing wrong on our end.",
    "Hi Eve, thanks for waiting. I reproduced the problem and pushed a fix to your account.",
];

/// A human answer from the vendor to our message `mid`, delivered to `to`.
fn answer(stack: &MailStack, to: &str, mid: &str, tag: &str, text: &str) {
    let mail = format!(
        "From: Lee <support@vendor.test>\r\nTo: {to}\r\nSubject: Re: Support test\r\n\
         Message-ID: <service-{tag}@vendor.test>\r\nIn-Reply-To: <{mid}>\r\n\r\n{text}\r\n"
    );
    stack
        .deliver("support@vendor.test", &[to], mail.as_bytes())
        .unwrap();
}

/// A probe that will not fire during a test (1 January, 03:00 UTC).
fn yearly(name: &str, persona: &str, hour: u32) -> String {
    Probe::new(name, "acme", persona)
        .schedule(&format!("0 0 {hour} 1 1 *"))
        .body("Hello {vendor}, this is a scheduled support-response test.")
        .text()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request with a real TCP client; returns (status, body).
fn http(port: u16, request_line: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(s, "{request_line}\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, body.len(), "Content-Length matches the body");
    (status, body.to_string())
}

/// Parses Prometheus text exposition into (name with labels, value), checking every line.
fn parse_exposition(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let kind = rest.split_whitespace().next().unwrap();
            assert!(kind == "HELP" || kind == "TYPE", "bad comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line}");
        }
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        out.push((series.to_string(), v));
    }
    out
}

#[test]
fn the_daemon_notifies_systemd_serves_metrics_and_stops_cleanly() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("probes.toml");
    let text = format!(
        "{}\n[metrics]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\n",
        config_text(stack, dir.path(), &yearly("acme-dana", "dana", 3))
    );
    std::fs::write(&config, text).unwrap();
    let state = dir.path().join("state");

    // A probe filed by hand and answered by a person before the daemon starts.
    let run = probe(&config, &state, &["run", "--probe", "acme-dana"]);
    assert!(run.status.success(), "{}", run.stderr);
    let filed = probes(&state)
        .into_iter()
        .find(|p| p.state == ProbeState::Filed)
        .unwrap();
    answer(
        stack,
        "dana@probe.test",
        filed.message_id.as_deref().unwrap(),
        &filed.token,
        ANSWERS[0],
    );

    let mut systemd = Systemd::new(dir.path());
    let daemon = Daemon::start(
        &config,
        &state,
        &dir.path().join("daemon.log"),
        &[
            ("NOTIFY_SOCKET", systemd.path.to_str().unwrap()),
            ("WATCHDOG_USEC", "600000"),
        ],
    );
    let ready = systemd.expect("READY=1");
    assert!(ready.contains("STATUS=watching 2 mailbox(es)"), "{ready}");
    // The main loop keeps the watchdog fed while it makes progress.
    for _ in 0..3 {
        systemd.expect("WATCHDOG=1");
    }
    wait_until(&state, &daemon, "the answer to be recorded", |ps| {
        ps.iter()
            .any(|p| p.id == filed.id && p.state == ProbeState::Answered)
    });

    // /metrics, scraped with a real TCP client and parsed line by line.
    let (status, body) = http(port, "GET /metrics HTTP/1.1");
    assert_eq!(status, 200);
    let series = parse_exposition(&body);
    let value = |prefix: &str| {
        series
            .iter()
            .find(|(s, _)| s.starts_with(prefix))
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{prefix} missing in\n{body}"))
    };
    assert_eq!(
        value("support_probe_probes{vendor=\"acme\",state=\"answered\"}"),
        1.0
    );
    assert_eq!(
        value("support_probe_first_human_reply_seconds_count{vendor=\"acme\""),
        1.0
    );
    let inf = series
        .iter()
        .find(|(s, _)| s.contains("_bucket{vendor=\"acme\"") && s.contains("le=\"+Inf\""))
        .unwrap();
    assert_eq!(inf.1, 1.0);
    let buckets: Vec<f64> = series
        .iter()
        .filter(|(s, _)| {
            s.starts_with("support_probe_first_human_reply_seconds_bucket{vendor=\"acme\"")
        })
        .map(|(_, v)| *v)
        .collect();
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative buckets: {buckets:?}"
    );
    let filed_at = filed.filed_at.unwrap().as_second() as f64;
    assert_eq!(
        value("support_probe_last_filing_timestamp_seconds{persona=\"dana\",channel=\"email\"}"),
        filed_at
    );
    assert!(value("support_probe_last_poll_timestamp_seconds{") >= filed_at);
    assert_eq!(value("support_probe_healthy"), 1.0);

    let (status, body) = http(port, "GET /healthz HTTP/1.1");
    assert_eq!((status, body.starts_with("ok ")), (200, true), "{body}");
    assert_eq!(http(port, "POST /metrics HTTP/1.1").0, 405);
    assert_eq!(http(port, "GET /secrets HTTP/1.1").0, 404);
    assert_eq!(http(port, "GET /metrics SPDY/9").0, 400);
    // A request head beyond 8 KiB is refused, not buffered.
    let huge = format!("GET /metrics HTTP/1.1\r\nX-Padding: {}", "a".repeat(10_000));
    assert_eq!(http(port, &huge).0, 431);

    // The status page and the report API, from the same store.
    let (status, page) = http(port, "GET / HTTP/1.1");
    assert_eq!(status, 200);
    assert!(
        page.contains("Last 7 days") && page.contains("acme"),
        "{page}"
    );
    let (status, json) = http(port, "GET /api/report?vendor=acme&week=2026-W47 HTTP/1.1");
    assert_eq!(status, 200, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["period"]["from"], "2026-11-16T00:00:00Z", "weeks in UTC");

    // A reload that moves the reporting zone reaches the listener.
    let mut reloaded = std::fs::read_to_string(&config).unwrap();
    reloaded.push_str("\n[report]\nzone = \"Europe/Berlin\"\n");
    std::fs::write(&config, reloaded).unwrap();
    daemon.signal("HUP");
    systemd.expect("RELOADING=1");
    systemd.expect("READY=1");
    let (_, json) = http(port, "GET /api/report?vendor=acme&week=2026-W47 HTTP/1.1");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["period"]["from"], "2026-11-15T23:00:00Z",
        "weeks in Berlin after the reload"
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    daemon.signal("TERM");
    systemd.expect("STOPPING=1");
    daemon.stop();
}

#[test]
fn reload_applies_a_valid_config_and_keeps_the_old_one_when_the_new_one_is_invalid() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    let state = dir.path().join("state");
    // v1: persona eve does not exist yet; one yearly probe through dana.
    let full = config_text(stack, dir.path(), &yearly("acme-dana", "dana", 3));
    let eve_start = full.find("[[persona]]\nname = \"eve\"").unwrap();
    let eve_end = full[eve_start..].find("\n[[probe]]").unwrap() + eve_start;
    let without_eve = format!("{}{}", &full[..eve_start], &full[eve_end..]);
    std::fs::write(&config, &without_eve).unwrap();

    let mut systemd = Systemd::new(dir.path());
    let daemon = Daemon::start(
        &config,
        &state,
        &dir.path().join("daemon.log"),
        &[("NOTIFY_SOCKET", systemd.path.to_str().unwrap())],
    );
    systemd.expect("READY=1");
    let first_plan = wait_until(&state, &daemon, "the yearly fire to be planned", |ps| {
        ps.iter().any(|p| p.state == ProbeState::Planned)
    });
    let old_planned = first_plan
        .iter()
        .find(|p| p.state == ProbeState::Planned)
        .unwrap()
        .clone();
    assert_eq!(
        old_planned.scheduled_for.to_string().get(11..13),
        Some("03")
    );

    // A probe filed next to the running daemon: pending across the reload.
    let run = probe(&config, &state, &["run", "--probe", "acme-dana"]);
    assert!(run.status.success(), "{}", run.stderr);
    let pending = probes(&state)
        .into_iter()
        .find(|p| p.state == ProbeState::Filed)
        .unwrap();

    // v2: the probe's schedule moves to 04:00, persona eve and a probe through it appear.
    let v2 = config_text(
        stack,
        dir.path(),
        &format!(
            "{}{}",
            yearly("acme-dana", "dana", 4),
            yearly("acme-eve", "eve", 5)
        ),
    );
    std::fs::write(&config, &v2).unwrap();
    daemon.signal("HUP");
    systemd.expect("RELOADING=1");
    let ready = systemd.expect("READY=1");
    assert!(ready.contains("watching 2 mailbox(es)"), "{ready}");
    let after = wait_until(&state, &daemon, "the new schedules to be planned", |ps| {
        ps.iter()
            .any(|p| p.probe == "acme-eve" && p.state == ProbeState::Planned)
            && ps
                .iter()
                .any(|p| p.probe == "acme-dana" && p.state == ProbeState::Planned)
    });
    let replaced = after.iter().find(|p| p.id == old_planned.id).unwrap();
    assert_eq!(replaced.state, ProbeState::Skipped);
    assert!(
        replaced
            .state_reason
            .as_deref()
            .unwrap()
            .contains("schedule of probe acme-dana changed"),
        "{replaced:?}"
    );
    let new_dana = after
        .iter()
        .find(|p| p.probe == "acme-dana" && p.state == ProbeState::Planned)
        .unwrap();
    assert_eq!(new_dana.scheduled_for.to_string().get(11..13), Some("04"));

    // The pending probe was not lost: its answer is recorded after the reload.
    answer(
        stack,
        "dana@probe.test",
        pending.message_id.as_deref().unwrap(),
        &pending.token,
        ANSWERS[1],
    );
    wait_until(&state, &daemon, "the pending probe's answer", |ps| {
        ps.iter()
            .any(|p| p.id == pending.id && p.state == ProbeState::Answered)
    });

    // v3 is broken twice over: the reload is refused with every error, and v2 stays.
    let v3 = v2
        .replace("[daemon]\n", "[daemon]\npoll-intervall = \"1m\"\n")
        .replace("schedule = \"0 0 5 1 1 *\"", "schedule = \"0 0 25 1 1 *\"");
    std::fs::write(&config, &v3).unwrap();
    daemon.signal("HUP");
    systemd.expect("RELOADING=1");
    let refused = systemd.expect("READY=1");
    assert!(refused.contains("reload refused"), "{refused}");
    let log = daemon.log();
    let config_name = config.display().to_string();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("config error:") && l.contains(&config_name))
        .collect();
    assert_eq!(errors.len(), 2, "both errors with file:line:col:\n{log}");
    let line_col = regex_line_col(&config_name);
    assert!(errors.iter().all(|l| line_col(l)), "{errors:?}");
    assert!(log.contains("the old one stays in force"), "{log}");

    // v2 is still in force: eve's watcher (new in v2) records a reply to a
    // probe filed through eve after the refused reload.
    std::fs::write(&config, &v2).unwrap();
    let run = probe(&config, &state, &["run", "--probe", "acme-eve"]);
    assert!(run.status.success(), "{}", run.stderr);
    let eve_probe = probes(&state)
        .into_iter()
        .find(|p| p.probe == "acme-eve" && p.state == ProbeState::Filed)
        .unwrap();
    answer(
        stack,
        "eve@probe.test",
        eve_probe.message_id.as_deref().unwrap(),
        &eve_probe.token,
        ANSWERS[2],
    );
    wait_until(&state, &daemon, "eve's answer", |ps| {
        ps.iter()
            .any(|p| p.id == eve_probe.id && p.state == ProbeState::Answered)
    });
    // The planned fires of v2 were not replaced by the refused reload.
    assert!(
        probes(&state)
            .iter()
            .any(|p| p.id == new_dana.id && p.state == ProbeState::Planned)
    );
    daemon.stop();

    // Edited while stopped: the next start honours it the same way.
    let v4 = config_text(
        stack,
        dir.path(),
        &format!(
            "{}{}",
            yearly("acme-dana", "dana", 6),
            yearly("acme-eve", "eve", 5)
        ),
    );
    std::fs::write(&config, &v4).unwrap();
    let daemon = Daemon::start(&config, &state, &dir.path().join("daemon2.log"), &[]);
    let after = wait_until(&state, &daemon, "the 06:00 fire to be planned", |ps| {
        ps.iter().any(|p| {
            p.probe == "acme-dana"
                && p.state == ProbeState::Planned
                && p.scheduled_for.to_string().get(11..13) == Some("06")
        })
    });
    let stale = after.iter().find(|p| p.id == new_dana.id).unwrap();
    assert_eq!(stale.state, ProbeState::Skipped, "{stale:?}");
    let eve_planned = after
        .iter()
        .filter(|p| p.probe == "acme-eve" && p.state == ProbeState::Planned)
        .count();
    assert_eq!(
        eve_planned, 1,
        "an unchanged schedule keeps its one planned fire"
    );
    daemon.stop();
}

/// A matcher for `FILE:LINE:COL:` right after `FILE` in a log line.
fn regex_line_col(file: &str) -> impl Fn(&str) -> bool + '_ {
    move |line: &str| {
        let Some(at) = line.find(file) else {
            return false;
        };
        let rest = &line[at + file.len()..];
        let mut parts = rest.splitn(4, ':');
        parts.next() == Some("")
            && parts.next().is_some_and(|l| l.parse::<u32>().is_ok())
            && parts.next().is_some_and(|c| c.parse::<u32>().is_ok())
    }
}

#[test]
fn pause_and_resume_take_effect_in_a_running_daemon() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    let state = dir.path().join("state");
    let ticking = r#"
[[probe]]
name = "acme-tick"
vendor = "acme"
persona = "dana"
schedule = "*/2 * * * * *"
zones = ["UTC"]
subject = "Pause test {token}"
body = "Hello {vendor}, this is a scheduled support-response test."
"#;
    std::fs::write(&config, config_text(stack, dir.path(), ticking)).unwrap();

    let paused = probe(
        &config,
        &state,
        &["pause", "acme", "--reason", "vendor asked us to stop"],
    );
    assert!(paused.status.success(), "{}", paused.stderr);
    assert!(paused.stdout.contains("paused vendor acme"));
    let unknown = probe(&config, &state, &["pause", "nobody"]);
    assert_eq!(
        unknown.status.code(),
        Some(2),
        "an unknown vendor is a usage error"
    );

    let daemon = Daemon::start(&config, &state, &dir.path().join("daemon.log"), &[]);
    // Fires come due every two seconds and are refused inside the filing transaction.
    wait_until(&state, &daemon, "three fires refused as paused", |ps| {
        ps.iter()
            .filter(|p| {
                p.state == ProbeState::Skipped
                    && p.state_reason
                        .as_deref()
                        .is_some_and(|r| r.starts_with("paused: vendor acme"))
            })
            .count()
            >= 3
    });
    assert!(
        probes(&state)
            .iter()
            .all(|p| !p.state.may_have_reached_vendor()),
        "nothing filed while paused"
    );
    let status = probe(&config, &state, &["status"]);
    let out = status.stdout.as_str();
    assert!(out.contains("PAUSED: vendor acme since"), "{out}");
    assert!(out.contains("vendor asked us to stop"), "{out}");
    let json = probe(&config, &state, &["--format", "json", "status"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["paused"][0]["vendor"], "acme");

    // Resume from another process: the running daemon files again.
    let resumed = probe(&config, &state, &["resume"]);
    assert!(resumed.stdout.contains("resumed vendor acme"));
    let all = wait_until(&state, &daemon, "a probe filed after resume", |ps| {
        ps.iter().any(|p| p.state == ProbeState::Filed)
    });
    let filed = all.iter().find(|p| p.state == ProbeState::Filed).unwrap();
    stack
        .wait_for("support@vendor.test", PATIENCE, |m| {
            m.header("X-Support-Probe").as_deref() == Some(filed.id.as_str())
        })
        .unwrap();
    // The probe's whole life can be followed in the log by its id.
    let log = daemon.log();
    let life: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("probe={}", filed.id)))
        .collect();
    for step in ["planned", "filing", "filed"] {
        assert!(
            life.iter().any(|l| l.contains(&format!(" {step}"))),
            "no {step:?} event for probe={}: {life:#?}",
            filed.id
        );
    }
    // Every probe that reached the vendor was begun after the resume.
    let skipped_last = all
        .iter()
        .filter(|p| p.state == ProbeState::Skipped)
        .filter_map(|p| {
            p.state_reason
                .as_deref()
                .filter(|r| r.starts_with("paused"))
                .map(|_| p.due_at)
        })
        .max()
        .unwrap();
    assert!(
        all.iter()
            .filter(|p| p.state.may_have_reached_vendor())
            .all(|p| p.filing_started_at.unwrap() >= skipped_last)
    );
    daemon.stop();
}

/// Standard base64, to look for encoded forms of a secret (SMTP/IMAP AUTH).
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_secret_never_reaches_stdout_stderr_or_the_log() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    let state = dir.path().join("state");
    let secret = "Wr0ng-s3cret-7f3a9c";
    let text = config_text(stack, dir.path(), &yearly("acme-dana", "dana", 3));
    let dana_pw = dir.path().join("dana@probe.test.pw").display().to_string();
    let text = text.replace(
        &format!("password = {{ file = \"{dana_pw}\" }}"),
        "password = { env = \"PROBE_TEST_SECRET\" }",
    );
    assert!(text.contains("PROBE_TEST_SECRET"));
    std::fs::write(&config, text).unwrap();
    let forms = [
        secret.to_string(),
        base64(secret.as_bytes()),
        base64(format!("\0dana@probe.test\0{secret}").as_bytes()),
    ];

    // probe run at trace level: AUTH fails, retried within the window, not filed.
    let run = Out::of(
        command(&config, Some(&state))
            .args(["-vv", "run", "--probe", "acme-dana"])
            .env("PROBE_TEST_SECRET", secret),
    );
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let mut output = run.stdout.clone();
    output.push_str(&run.stderr);
    assert!(
        output.contains("not-filed") || output.contains("not filed"),
        "{output}"
    );

    // The daemon at trace level, in JSON, with the same wrong password for IMAP.
    let log = dir.path().join("daemon.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = command(&config, Some(&state))
        .args(["-vv", "--log-format", "json", "daemon"])
        .env("PROBE_TEST_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(file)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("cannot read replies")
    {
        assert!(Instant::now() < deadline, "the IMAP login never failed");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child.wait().unwrap();
    let daemon_log = std::fs::read_to_string(&log).unwrap();
    assert!(
        daemon_log
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    output.push_str(&stdout);
    output.push_str(&daemon_log);
    for form in &forms {
        let leak = output.lines().find(|l| l.contains(form.as_str()));
        assert!(leak.is_none(), "the secret leaked as {form:?} in: {leak:?}");
    }
}

#[test]
fn logs_have_no_timestamps_or_colours_when_stderr_is_the_journal() {
    let _gate = crate::kit::gate::enter(module_path!());
    use std::os::unix::fs::MetadataExt;
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    std::fs::write(
        &config,
        config_text(stack, dir.path(), &yearly("acme-dana", "dana", 3)),
    )
    .unwrap();
    let run = |journal: bool, name: &str| {
        let log = dir.path().join(name);
        let file = std::fs::File::create(&log).unwrap();
        let meta = file.metadata().unwrap();
        let mut cmd = command(&config, Some(&dir.path().join(name.replace(".log", ""))));
        cmd.arg("daemon")
            .env_remove("INVOCATION_ID")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        if journal {
            // What systemd sets when it connects stderr to the journal.
            cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
        }
        let daemon = Daemon {
            child: cmd.spawn().unwrap(),
            log: log.clone(),
        };
        let deadline = Instant::now() + PATIENCE;
        while !daemon.log().contains("daemon running") {
            assert!(Instant::now() < deadline, "no start: {}", daemon.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon.stop()
    };
    let journal = run(true, "journal.log");
    let first = journal.lines().next().unwrap();
    assert!(
        first.starts_with(" INFO") || first.starts_with("INFO"),
        "{first}"
    );
    assert!(!journal.contains('\u{1b}'), "no ANSI escapes: {journal}");
    let plain = run(false, "plain.log");
    let first = plain.lines().next().unwrap();
    assert!(first.starts_with("20"), "a timestamp first: {first}");
    assert!(
        !plain.contains('\u{1b}'),
        "no colours when stderr is a file: {plain}"
    );
}

#[test]
fn the_global_hourly_ceiling_holds_across_vendors() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    let state = dir.path().join("state");
    let probes_text = format!(
        "{}{}",
        yearly("acme-dana", "dana", 3),
        yearly("acme-dana", "dana", 3)
            .replace("acme-dana", "gone-dana")
            .replace("vendor = \"acme\"", "vendor = \"gone\"")
    );
    let text = config_text(stack, dir.path(), &probes_text)
        .replace("[daemon]\n", "[daemon]\nmax-filings-per-hour = 1\n");
    std::fs::write(&config, text).unwrap();
    let first = probe(&config, &state, &["run", "--probe", "acme-dana"]);
    assert!(first.status.success(), "{}", first.stderr);
    // Another vendor, its own caps untouched: the global ceiling refuses it.
    let second = probe(
        &config,
        &state,
        &["--format", "json", "run", "--probe", "gone-dana"],
    );
    assert_eq!(second.status.code(), Some(1));
    let all = probes(&state);
    let gone = all.iter().find(|p| p.vendor == "gone").unwrap();
    assert_eq!(gone.state, ProbeState::Skipped);
    assert!(
        gone.state_reason
            .as_deref()
            .unwrap()
            .contains("global cap reached: 1 probe(s) to all vendors in the last hour"),
        "{gone:?}"
    );
    assert!(gone.attempts.is_empty(), "nothing was sent");
}
