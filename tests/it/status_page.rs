//! The daemon's HTTP listener on a seeded store, driven over real TCP:
//! the status page, `/api/report` (compared with `probe report --format
//! json` on the same store), `/metrics`, `/healthz`, HEAD, 404/405, the
//! request-head limits, credentials, a config reload, and the daemon's
//! refusal to start without readable credentials or with an exposed
//! listener lacking them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support_probe::clock::{Clock, ManualClock, SystemClock};
use support_probe::config::Config;
use support_probe::daemon::health::Health;
use support_probe::metrics::{self, Credentials, Server};
use support_probe::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::kit::digest_fixture::{OnDisk, on_disk};
use crate::kit::run::{probe, probe_env};

/// A seeded store and the fixture's config on disk, for the CLI too.
struct Setup {
    _dir: tempfile::TempDir,
    config_path: PathBuf,
    state: PathBuf,
    store: Arc<Store>,
    config: Arc<Config>,
}

fn setup(extra_config: &str) -> Setup {
    let OnDisk {
        dir,
        config: config_path,
        text,
        state,
        store,
    } = on_disk(extra_config);
    let config = support_probe::config::parse_str(&text, &config_path)
        .unwrap()
        .config;
    Setup {
        _dir: dir,
        config_path,
        state,
        store: Arc::new(store),
        config: Arc::new(config),
    }
}

/// A running listener on an ephemeral loopback port.
struct Listening {
    addr: SocketAddr,
    config: watch::Sender<Arc<Config>>,
    stop: CancellationToken,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn listen(s: &Setup, clock: Arc<dyn Clock>, credentials: Credentials) -> Listening {
    let (tx, rx) = watch::channel(Arc::clone(&s.config));
    let stop = CancellationToken::new();
    let addr = metrics::serve(
        "127.0.0.1:0".parse().unwrap(),
        Server {
            store: Arc::clone(&s.store),
            health: Arc::new(Health::default()),
            clock,
            config: rx,
            credentials,
        },
        stop.clone(),
    )
    .await
    .unwrap();
    Listening {
        addr,
        config: tx,
        stop,
    }
}

/// A response as it came over the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    /// The value of a header, by case-insensitive name; all of them joined by `\n`.
    fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends `raw` (a request head without the final blank line) and reads
/// until the server closes.
async fn send(addr: SocketAddr, raw: &str) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{raw}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line in {out:?}"))
        .parse()
        .unwrap();
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

async fn get(addr: SocketAddr, target: &str, auth: Option<&str>) -> Reply {
    let auth = auth
        .map(|a| format!("\r\nAuthorization: {a}"))
        .unwrap_or_default();
    send(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: localhost{auth}"),
    )
    .await
}

/// A report without the instant it was read at, the one field two reads differ in.
fn without_generated_at(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("generated_at").unwrap();
    v
}

const MONDAY_AFTER_W47: &str = "2026-11-23T12:00:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_with_its_content_type_and_unknown_ones_do_not() {
    let s = setup("");
    let clock = Arc::new(ManualClock::new(MONDAY_AFTER_W47.parse().unwrap()));
    let l = listen(&s, clock, Credentials::default()).await;

    let page = get(l.addr, "/", None).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.body.starts_with("<!DOCTYPE html>"), "{}", page.body);
    for section in ["Last 7 days", "Last 30 days"] {
        assert!(page.body.contains(section), "{section}: {}", page.body);
    }
    assert!(page.body.contains("acme"), "{}", page.body);
    assert_eq!(
        page.header("content-length"),
        page.body.len().to_string(),
        "the whole page arrives"
    );

    let head = send(l.addr, "HEAD / HTTP/1.1\r\nHost: localhost").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(head.body, "", "HEAD has no body");

    let m = get(l.addr, "/metrics", None).await;
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        m.body
            .contains("support_probe_probes{vendor=\"acme\",state=\"answered\"}"),
        "{}",
        m.body
    );
    let head = send(l.addr, "HEAD /metrics HTTP/1.1\r\nHost: localhost").await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));

    let h = get(l.addr, "/healthz", None).await;
    assert_eq!(
        (h.status, h.body.as_str()),
        (200, "ok 2026-11-23T12:00:00Z\n")
    );

    let api = get(l.addr, "/api/report?week=2026-W47", None).await;
    assert_eq!(api.status, 200, "{api:?}");
    assert_eq!(api.header("content-type"), "application/json");
    let v = api.json();
    assert_eq!(v["period"]["label"], "2026-W47");
    assert_eq!(
        v["generated_at"], "2026-11-23T12:00:00Z",
        "the injected clock"
    );

    let post = send(
        l.addr,
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0",
    )
    .await;
    assert_eq!(post.status, 405);
    assert!(post.header("allow").contains("GET"), "{post:?}");
    assert_eq!(get(l.addr, "/secrets", None).await.status, 404);
    assert_eq!(get(l.addr, "/api/report/x", None).await.status, 404);
    assert_eq!(send(l.addr, "GET /metrics SPDY/9").await.status, 400);
    // A request head beyond 8 KiB is refused, not buffered.
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: {}",
        "a".repeat(10_000)
    );
    assert_eq!(send(l.addr, &huge).await.status, 431);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_off() {
    let s = setup("");
    let l = listen(&s, Arc::new(SystemClock), Credentials::default()).await;
    let mut c = tokio::net::TcpStream::connect(l.addr).await.unwrap();
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut out))
        .await
        .expect("the server closes a slow request head")
        .ok();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.is_empty() || out.starts_with("HTTP/1.1 408"),
        "no metrics for an unfinished request: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_16_connections_are_served_and_shutdown_stops_accepting() {
    let s = setup("");
    let l = listen(&s, Arc::new(SystemClock), Credentials::default()).await;
    // Sixteen clients that connect and say nothing hold every slot...
    let mut idle = Vec::new();
    for _ in 0..16 {
        idle.push(tokio::net::TcpStream::connect(l.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so the seventeenth is closed without an answer, not queued.
    let mut extra = tokio::net::TcpStream::connect(l.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), extra.read_to_end(&mut out))
        .await
        .expect("the connection is closed at once");
    assert!(
        out.is_empty(),
        "served beyond the limit: {}",
        String::from_utf8_lossy(&out)
    );
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        get(l.addr, "/healthz", None).await.status,
        200,
        "slots come back"
    );

    l.stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(l.addr).await.is_err(),
        "the listener is closed after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_api_gives_what_probe_report_prints() {
    let s = setup("");
    let l = listen(&s, Arc::new(SystemClock), Credentials::default()).await;
    for (query, args) in [
        ("", vec![]),
        ("?week=2026-W47", vec!["--week", "2026-W47"]),
        (
            "?since=2026-11-16&until=2026-11-22&vendor=acme",
            vec![
                "--since",
                "2026-11-16",
                "--until",
                "2026-11-22",
                "--vendor",
                "acme",
            ],
        ),
        (
            "?since=2026-11-01&by=persona,region",
            vec!["--since", "2026-11-01", "--by", "persona,region"],
        ),
        // An unknown vendor is an empty report, as in the CLI.
        ("?vendor=nobody", vec!["--vendor", "nobody"]),
    ] {
        let mut cli_args = vec!["report"];
        cli_args.extend(args);
        cli_args.extend(["--format", "json"]);
        // Censored figures grow with the instant a report is read at, in
        // whole seconds: compare two reports read within the same second
        // (a busy machine may need another try to get such a pair).
        let mut tries = 0;
        let (api, printed) = loop {
            let api = get(l.addr, &format!("/api/report{query}"), None).await;
            assert_eq!(api.status, 200, "{query}: {api:?}");
            let cli = probe(&s.config_path, &s.state, &cli_args);
            assert!(cli.status.success(), "{}", cli.stderr);
            let printed: serde_json::Value = serde_json::from_str(&cli.stdout).unwrap();
            let second = |v: &serde_json::Value| {
                let at: jiff::Timestamp = v["generated_at"].as_str().unwrap().parse().unwrap();
                at.as_second()
            };
            tries += 1;
            if second(&api.json()) == second(&printed) || tries == 10 {
                break (api, printed);
            }
        };
        assert_eq!(
            without_generated_at(api.json()),
            without_generated_at(printed),
            "{query}"
        );
        if query.contains("nobody") {
            assert_eq!(api.json()["vendors"], serde_json::json!([]));
        } else {
            assert!(!api.json()["vendors"].as_array().unwrap().is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_report_parameters_are_a_400_naming_the_parameter() {
    let s = setup("");
    let l = listen(&s, Arc::new(SystemClock), Credentials::default()).await;
    for (query, parameter, words) in [
        ("since=2026-13-01", "since", "invalid date"),
        ("since=2026-11-01&until=yesterday", "until", "invalid date"),
        ("until=2026-11-20", "until", "until needs since"),
        (
            "since=2026-11-20&until=2026-11-19",
            "until",
            "the period is empty",
        ),
        ("week=2026-47", "week", "invalid ISO week"),
        (
            "week=2026-W47&since=2026-11-01",
            "week",
            "cannot be combined",
        ),
        ("by=colour", "by", "unknown grouping"),
        ("colour=red", "colour", "unknown parameter"),
        ("vendor=a&vendor=b", "vendor", "more than once"),
    ] {
        let r = get(l.addr, &format!("/api/report?{query}"), None).await;
        assert_eq!(r.status, 400, "{query}: {r:?}");
        assert_eq!(r.header("content-type"), "application/json");
        let v = r.json();
        assert_eq!(v["parameter"], parameter, "{query}");
        let error = v["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("{parameter}: ")) && error.contains(words),
            "{query}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_every_route_but_healthz_asks_for_them() {
    let s = setup("");
    let l = listen(
        &s,
        Arc::new(SystemClock),
        Credentials::new(Some("tok-123"), Some(("ops", "pa:ss"))),
    )
    .await;
    for path in ["/", "/metrics", "/api/report?week=2026-W47"] {
        let none = get(l.addr, path, None).await;
        assert_eq!(none.status, 401, "{path}");
        let challenges = none.header("www-authenticate");
        assert!(
            challenges.contains("Bearer realm=\"support-probe\"")
                && challenges.contains("Basic realm=\"support-probe\""),
            "{challenges}"
        );
        assert!(!none.body.contains("support_probe_"), "nothing leaks");
        for wrong in [
            "Bearer tok-12",
            "Bearer tok-1234",
            "Basic b3BzOnBhOnNT", // ops:pa:sS
            "tok-123",
        ] {
            assert_eq!(get(l.addr, path, Some(wrong)).await.status, 401, "{wrong}");
        }
        assert_eq!(
            get(l.addr, path, Some("Bearer tok-123")).await.status,
            200,
            "{path}"
        );
        // base64("ops:pa:ss")
        assert_eq!(
            get(l.addr, path, Some("Basic b3BzOnBhOnNz")).await.status,
            200,
            "{path}"
        );
    }
    let health = get(l.addr, "/healthz", None).await;
    assert_eq!(health.status, 200, "/healthz stays open: {health:?}");
    assert_eq!(get(l.addr, "/nothing-here", None).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_reads_with_the_config_in_force_after_a_reload() {
    let s = setup("");
    let clock = Arc::new(ManualClock::new(MONDAY_AFTER_W47.parse().unwrap()));
    let l = listen(&s, clock, Credentials::default()).await;
    let from = |r: &Reply| r.json()["period"]["from"].as_str().unwrap().to_string();
    let before = get(l.addr, "/api/report?week=2026-W47", None).await;
    assert_eq!(from(&before), "2026-11-15T23:00:00Z", "Berlin's Monday");
    let page_before = get(l.addr, "/", None).await.body;

    // A reload moves the reporting zone to UTC and acme's opening hours to
    // New York, which changes its business-time figures on the page.
    let text = crate::kit::digest_fixture::config_text()
        .replace(
            "zone = \"Europe/Berlin\"\n\n[[vendor]]",
            "zone = \"UTC\"\n\n[[vendor]]",
        )
        .replace(
            "[vendor.business-hours]\nzone = \"Europe/Berlin\"",
            "[vendor.business-hours]\nzone = \"America/New_York\"",
        );
    let reloaded = support_probe::config::parse_str(&text, Path::new("probes.toml"))
        .unwrap()
        .config;
    assert_eq!(reloaded.report.zone_name, "UTC");
    l.config.send_replace(Arc::new(reloaded));

    let after = get(l.addr, "/api/report?week=2026-W47", None).await;
    assert_eq!(from(&after), "2026-11-16T00:00:00Z", "UTC's Monday");
    let page_after = get(l.addr, "/", None).await;
    assert_eq!(page_after.status, 200);
    assert_ne!(
        page_before, page_after.body,
        "the page is rebuilt on the new config"
    );
}

#[test]
fn an_exposed_listener_without_credentials_is_a_config_error() {
    let OnDisk {
        dir: _dir,
        config: config_path,
        text,
        state,
        store,
    } = on_disk("[metrics]\nenabled = true\nlisten = \"0.0.0.0:9464\"\n");
    drop(store);
    let run = |args: &[&str]| probe_env(&config_path, &state, args, &[("PROBE_TEST_UNUSED", "x")]);
    let line = text
        .lines()
        .position(|l| l.starts_with("listen = "))
        .unwrap()
        + 1;
    let expected = format!(
        "probes.toml:{line}:10: metrics.listen 0.0.0.0:9464 is not a loopback address: set metrics.token or [metrics.basic-auth]"
    );
    for command in ["check", "daemon"] {
        let out = run(&[command]);
        let err = out.stderr.as_str();
        assert_eq!(out.status.code(), Some(78), "{command}: {err}");
        assert!(err.contains(&expected), "{command}: {err}");
    }
}

#[test]
fn the_daemon_refuses_to_start_when_the_token_cannot_be_read() {
    let s = setup(
        "[metrics]\nenabled = true\nlisten = \"127.0.0.1:0\"\ntoken = { env = \"PROBE_TEST_METRICS_TOKEN_UNSET\" }\n",
    );
    let started = Instant::now();
    let daemon = probe_env(
        &s.config_path,
        &s.state,
        &["daemon"],
        &[("PROBE_TEST_UNUSED", "x")],
    );
    let err = daemon.stderr.as_str();
    assert_eq!(
        daemon.status.code(),
        Some(78),
        "like an unreadable mailbox password: {err}"
    );
    assert!(
        err.contains("cannot read metrics.token: environment variable `PROBE_TEST_METRICS_TOKEN_UNSET` is not set"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
