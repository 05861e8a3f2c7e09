//! What the benchmarks share: the mail stack, configs built for a measure,
//! a scripted vendor's replies, a byte-counting TCP proxy, and plain
//! statistics and Markdown tables for BENCHMARKS.md.
//!
//! The benchmarks are programs (`harness = false`), run by `scripts/bench`.
//! Under `cargo test --all-targets` they are built but do nothing: a
//! measurement needs minutes and a quiet machine, and timings never belong
//! in the test suite.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use support_probe::channel::Channel;
use support_probe::clock::{Clock, SystemClock};
use support_probe::config;
use support_probe::engine::Engine;
use support_probe::store::{Mode, Store};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[path = "../../tests/kit/mod.rs"]
pub mod support;

pub use support::MailStack;

/// Whether this run is a real measurement (`cargo bench` passes `--bench`).
/// Under `cargo test` the benchmark prints how to run it and returns.
pub fn measuring(name: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!("{name}: a benchmark, not a test; run it with `scripts/bench {name}`");
    false
}

/// Installs the TLS provider, as `main` does, and with `BENCH_LOG` set
/// (a tracing filter such as `support_probe=debug`) logs to stderr.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// A persona of the stack: its address and how its IMAP is reached.
#[derive(Debug, Clone)]
pub struct PersonaSpec {
    pub name: String,
    pub address: String,
    /// IMAP port; plain IMAP (`insecure` on loopback) unless `imaps`.
    pub imap_port: u16,
    pub imaps: bool,
    pub idle: bool,
}

impl PersonaSpec {
    /// Persona `name` reading `address`'s mailbox over IMAPS with IDLE as given.
    pub fn imaps(stack: &MailStack, name: &str, address: &str, idle: bool) -> Self {
        PersonaSpec {
            name: name.into(),
            address: address.into(),
            imap_port: stack.imaps_port,
            imaps: true,
            idle,
        }
    }

    /// Persona `name` reading over plain IMAP on `port` (the stack's, or a proxy's).
    pub fn plain(name: &str, address: &str, port: u16, idle: bool) -> Self {
        PersonaSpec {
            name: name.into(),
            address: address.into(),
            imap_port: port,
            imaps: false,
            idle,
        }
    }
}

/// Builds a config: `vendors` vendors named `v00`.. (all at support@vendor.test,
/// caps at the maximum), the personas, and `probes` (TOML `[[probe]]` text).
pub fn config_text(
    stack: &MailStack,
    dir: &Path,
    poll: Duration,
    vendors: usize,
    personas: &[PersonaSpec],
    probes: &str,
) -> String {
    let mut text = format!(
        "[daemon]\npoll-interval = \"{}s\"\nfiling-retry-window = \"5s\"\n\n",
        poll.as_secs()
    );
    for v in 0..vendors {
        text.push_str(&format!(
            "[[vendor]]\nname = \"v{v:02}\"\naddresses = [\"support@vendor.test\"]\n\
             caps = {{ per-day = 24, per-week = 100 }}\n\n"
        ));
    }
    let ca = stack.ca_file.display();
    for p in personas {
        let pw = dir.join(format!("{}.pw", p.name));
        std::fs::write(&pw, stack.password(&p.address)).unwrap();
        let pw = pw.display();
        let imap_security = if p.imaps { "tls" } else { "insecure" };
        text.push_str(&format!(
            r#"[[persona]]
name = "{name}"
display-name = "Bench {name}"
address = "{addr}"
[persona.smtp]
host = "127.0.0.1"
port = {sub}
security = "starttls"
username = "{addr}"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
[persona.imap]
host = "127.0.0.1"
port = {imap}
security = "{imap_security}"
username = "{addr}"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
idle = {idle}

"#,
            name = p.name,
            addr = p.address,
            sub = stack.smtp_submission_port,
            imap = p.imap_port,
            idle = p.idle,
        ));
    }
    text.push_str(probes);
    text
}

/// A `[[probe]]` entry that never fires by itself (New Year's Day, 03:00).
pub fn probe_entry(name: &str, vendor: &str, persona: &str) -> String {
    format!(
        "[[probe]]\nname = \"{name}\"\nvendor = \"{vendor}\"\npersona = \"{persona}\"\n\
         schedule = \"0 0 3 1 1 *\"\nzones = [\"UTC\"]\n\
         subject = \"Support test {{token}}\"\n\
         body = \"Hello, this is a scheduled support-response test.\"\n\n"
    )
}

/// An engine on `text`, with its store in `dir/state`.
pub fn engine(text: &str, dir: &Path) -> Arc<Engine> {
    let loaded = config::parse_str(text, &dir.join("probes.toml")).unwrap();
    let config = loaded.config;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let names: Vec<&str> = config.personas.iter().map(|p| p.name.as_str()).collect();
    let channels: BTreeMap<String, Arc<dyn Channel>> =
        support_probe::cli::wiring::channels(&config, &names, &clock).unwrap();
    let store = Store::open(&dir.join("state"), Mode::Exclusive).unwrap();
    Arc::new(
        Engine::new(Arc::new(config), Arc::new(store), clock, channels)
            .unwrap()
            .with_retry_pause(Duration::from_millis(200)),
    )
}

/// Words that make each scripted reply's text its own: the canned-text rule
/// ignores numbers and tokens, so replies must differ in words.
const TOPICS: &[&str] = &[
    "origin",
    "cache",
    "purge",
    "certificate",
    "edge",
    "routing",
    "stream",
    "manifest",
    "segment",
    "player",
    "token",
    "quota",
    "bucket",
    "replica",
    "ingest",
    "transcode",
    "latency",
    "firewall",
    "resolver",
    "gateway",
    "webhook",
    "invoice",
    "login",
    "export",
];

/// A human reply from the vendor to our message `message_id`; `nonce` names
/// the case, and a random pair of topics keeps every body distinct, so the
/// canned-text rule never fires.
pub fn human_reply(to: &str, message_id: &str, nonce: &str) -> String {
    let a = TOPICS[fastrand::usize(..TOPICS.len())];
    let b = TOPICS[fastrand::usize(..TOPICS.len())];
    let c = TOPICS[fastrand::usize(..TOPICS.len())];
    format!(
        "From: Alex Rivera <support@vendor.test>\r\n\
         To: {to}\r\n\
         Subject: Re: Support test\r\n\
         Message-ID: <reply-{nonce}@vendor.test>\r\n\
         In-Reply-To: <{message_id}>\r\n\
         References: <{message_id}>\r\n\
         Date: {date}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hi, thanks for the report. I had a look at case {nonce}: the {a} and the {b}\r\n\
         look fine from here, so I am checking the {c} logs for you now.\r\n\
         \r\n\
         Alex\r\n",
        date = jiff::fmt::rfc2822::to_string(&Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC))
            .unwrap(),
    )
}

/// A TCP proxy on 127.0.0.1 to `upstream` that counts the bytes in both directions.
#[derive(Debug, Clone)]
pub struct CountingProxy {
    pub port: u16,
    bytes: Arc<AtomicU64>,
}

impl CountingProxy {
    /// Starts the proxy on the current Tokio runtime.
    pub async fn start(upstream: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&bytes);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        pipe(client, server, counter).await;
                    }
                });
            }
        });
        CountingProxy { port, bytes }
    }

    /// Bytes relayed so far, both directions.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }
}

async fn pipe(client: TcpStream, server: TcpStream, counter: Arc<AtomicU64>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = copy_counting(&mut cr, &mut sw, Arc::clone(&counter));
    let down = copy_counting(&mut sr, &mut cw, counter);
    let _ = tokio::join!(up, down);
}

async fn copy_counting(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    counter: Arc<AtomicU64>,
) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// Seconds of a signed duration, as a float.
pub fn secs(d: SignedDuration) -> f64 {
    d.as_secs_f64()
}

/// Mean, median, p90 and max of `xs` (which must not be empty).
pub fn describe(xs: &[f64]) -> (f64, f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let p90 = v[((n as f64 * 0.9).ceil() as usize).clamp(1, n) - 1];
    (mean, median, p90, v[n - 1])
}

/// A Markdown table, printed and appended to `target/bench/<bench>.md`.
pub struct Table {
    bench: String,
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(bench: &str, title: &str, header: &[&str]) -> Table {
        Table {
            bench: bench.into(),
            title: title.into(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table and appends it to the bench's results file.
    pub fn emit(&self) {
        let mut out = format!("\n#### {}\n\n", self.title);
        out.push_str(&format!("| {} |\n", self.header.join(" | ")));
        out.push_str(&format!(
            "|{}|\n",
            self.header
                .iter()
                .map(|_| "---")
                .collect::<Vec<_>>()
                .join("|")
        ));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        print!("{out}");
        let path = results_dir().join(format!("{}.md", self.bench));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(out.as_bytes()).unwrap();
        println!("(appended to {})", path.display());
    }
}

/// `target/bench/`, created if needed.
pub fn results_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A line about the machine for the results: CPU model, cores, kernel.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    format!("{cpu}, {cores} cores, Linux {kernel}")
}

/// Formats seconds with a unit that reads well.
pub fn fmt_secs(s: f64) -> String {
    if s.abs() < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.1} s")
    }
}
