//! What the benchmarks share beyond the rest of the kit: whether a run
//! measures, the stack personas and config a measure uses, a scripted
//! vendor's replies, and plain statistics and Markdown tables for
//! BENCHMARKS.md.
//!
//! The benchmarks are programs (`harness = false`), run by `scripts/bench`.
//! Under `cargo test --all-targets` they are built but do nothing: a
//! measurement needs minutes and a quiet machine, and timings never belong
//! in the test suite.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::MailStack;
use super::config::{ConfigText, MailPersona, Vendor};

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
    super::engine::init_tls();
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// Persona `name` of the stack reading `address`'s mailbox over IMAPS, with IDLE as given.
pub fn persona_imaps(stack: &MailStack, name: &str, address: &str, idle: bool) -> MailPersona {
    MailPersona {
        idle: Some(idle),
        ..MailPersona::new(stack, name, &format!("Bench {name}"), address)
    }
}

/// Persona `name` reading over plain IMAP on `port` (the stack's, or a proxy's).
pub fn persona_plain(
    stack: &MailStack,
    name: &str,
    address: &str,
    port: u16,
    idle: bool,
) -> MailPersona {
    MailPersona {
        imap: (port, "insecure"),
        ..persona_imaps(stack, name, address, idle)
    }
}

/// A measure's config: `vendors` vendors named `v00`.. (all at
/// support@vendor.test, caps at the maximum), the personas (passwords in
/// files under `dir`), and `probes` (TOML `[[probe]]` text).
pub fn config_text(
    stack: &MailStack,
    dir: &Path,
    poll: Duration,
    vendors: usize,
    personas: &[MailPersona],
    probes: &str,
) -> String {
    let mut text = ConfigText::new().section(&format!(
        "[daemon]\npoll-interval = \"{}s\"\nfiling-retry-window = \"5s\"",
        poll.as_secs()
    ));
    for v in 0..vendors {
        text = text.vendor(
            Vendor::new(&format!("v{v:02}"))
                .address("support@vendor.test")
                .caps(24, 100),
        );
    }
    for p in personas {
        text = text.persona(&p.text(stack, dir));
    }
    text.probes(probes).build()
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
