//! Measure 3 of BENCHMARKS.md: the footprint of an idle daemon.
//!
//! Starts the release `probe daemon` with 50 vendors, 200 scheduled probes
//! (none due during the run) and two personas watching their mailboxes with
//! IDLE on the real mail stack, then samples `/proc` for `BENCH_MINUTES`
//! (default 10): resident memory (now and peak), CPU time, and wake-ups —
//! the context switches of all the daemon's threads, which count every
//! time any thread was put to sleep or woken. The first minute (start-up,
//! first mailbox reads) is reported apart from the idle minutes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::process::Command;
use std::time::{Duration, Instant};

use kit::bench::{self, Table};
use kit::run::{Daemon, command};

const BENCH: &str = "footprint";
const VENDORS: usize = 50;
const PROBES_PER_VENDOR: usize = 4;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kb: u64,
    hwm_kb: u64,
    cpu_ticks: u64,
    switches: u64,
}

fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    bench::init();
    let minutes: u64 = std::env::var("BENCH_MINUTES")
        .ok()
        .map_or(10, |s| s.parse().expect("BENCH_MINUTES: a count"));
    let stack = kit::MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let personas = [
        bench::persona_imaps(stack, "dana", "dana@probe.test", true),
        bench::persona_imaps(stack, "eve", "eve@probe.test", true),
    ];
    let mut probes = String::new();
    for v in 0..VENDORS {
        for k in 0..PROBES_PER_VENDOR {
            let persona = &personas[k % personas.len()].name;
            probes.push_str(
                &kit::config::Probe::never(&format!("p{v:02}-{k}"), &format!("v{v:02}"), persona)
                    .text(),
            );
        }
    }
    let text = bench::config_text(
        stack,
        dir.path(),
        Duration::from_secs(60),
        VENDORS,
        &personas,
        &probes,
    );
    let config = dir.path().join("probes.toml");
    std::fs::write(&config, text).unwrap();
    let log_path = bench::results_dir().join("footprint-daemon.log");
    let mut daemon = Daemon::spawn(
        command(&config, Some(&dir.path().join("state")))
            .arg("daemon")
            .env(
                "PROBE_LOG",
                std::env::var("BENCH_LOG").unwrap_or_else(|_| "info".into()),
            ),
        &log_path,
    );
    let pid = daemon.id();
    println!(
        "{BENCH}: daemon pid {pid}, {VENDORS} vendors, {} probes, sampling for {minutes} min; machine: {}",
        VENDORS * PROBES_PER_VENDOR,
        bench::machine()
    );

    let started = Instant::now();
    let mut samples: Vec<(Duration, Sample)> = Vec::new();
    while started.elapsed() < Duration::from_secs(minutes * 60) {
        std::thread::sleep(SAMPLE_EVERY);
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!(
                "the daemon exited with {status}; log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        samples.push((started.elapsed(), sample(pid)));
    }
    daemon.signal("TERM");
    let _ = daemon.wait();

    let ticks = clock_ticks();
    let after_first = samples
        .iter()
        .find(|(t, _)| *t >= Duration::from_secs(60))
        .map(|(_, s)| *s)
        .expect("at least a minute of samples");
    let last = samples.last().map(|(_, s)| *s).unwrap();
    let idle_minutes = (samples.last().unwrap().0.as_secs_f64() - 60.0) / 60.0;
    let max_rss = samples.iter().map(|(_, s)| s.rss_kb).max().unwrap();

    let mut table = Table::new(
        BENCH,
        &format!(
            "3. Footprint of an idle daemon: {VENDORS} vendors, {} probes, 2 personas with IDLE, {minutes} min",
            VENDORS * PROBES_PER_VENDOR
        ),
        &["figure", "value", "target"],
    );
    table.row(vec![
        "RSS at the end".into(),
        format!("{:.1} MB", last.rss_kb as f64 / 1024.0),
        "≤ 15 MB".into(),
    ]);
    table.row(vec![
        "RSS, largest sample".into(),
        format!("{:.1} MB", max_rss as f64 / 1024.0),
        "≤ 15 MB".into(),
    ]);
    table.row(vec![
        "peak RSS (VmHWM, incl. start-up)".into(),
        format!("{:.1} MB", last.hwm_kb as f64 / 1024.0),
        "".into(),
    ]);
    table.row(vec![
        "CPU time, first minute".into(),
        format!("{:.2} s", after_first.cpu_ticks as f64 / ticks),
        "".into(),
    ]);
    table.row(vec![
        "CPU time per idle minute".into(),
        format!(
            "{:.3} s",
            last.cpu_ticks.saturating_sub(after_first.cpu_ticks) as f64 / ticks / idle_minutes
        ),
        "".into(),
    ]);
    table.row(vec![
        "wake-ups (context switches), first minute".into(),
        after_first.switches.to_string(),
        "".into(),
    ]);
    table.row(vec![
        "wake-ups per idle minute".into(),
        format!(
            "{:.1}",
            last.switches.saturating_sub(after_first.switches) as f64 / idle_minutes
        ),
        "no periodic busy work".into(),
    ]);
    table.emit();

    let mut per_minute = Table::new(
        BENCH,
        "3b. Wake-ups per minute of the idle daemon",
        &["minute", "context switches", "CPU ms"],
    );
    let mut prev = Sample {
        rss_kb: 0,
        hwm_kb: 0,
        cpu_ticks: 0,
        switches: 0,
    };
    for m in 1..=minutes {
        if let Some((_, s)) = samples
            .iter()
            .rev()
            .find(|(t, _)| *t <= Duration::from_secs(m * 60))
        {
            per_minute.row(vec![
                m.to_string(),
                s.switches.saturating_sub(prev.switches).to_string(),
                format!(
                    "{:.0}",
                    s.cpu_ticks.saturating_sub(prev.cpu_ticks) as f64 / ticks * 1000.0
                ),
            ]);
            prev = *s;
        }
    }
    per_minute.emit();
}

/// Reads the daemon's memory, CPU time and context switches from `/proc`.
fn sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses): utime is the 14th field
    // of the line, stime the 15th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let cpu_ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path().join("status");
        if let Ok(text) = std::fs::read_to_string(path) {
            switches += field(&text, "voluntary_ctxt_switches:")
                + field(&text, "nonvoluntary_ctxt_switches:");
        }
    }
    Sample {
        rss_kb: field(&status, "VmRSS:"),
        hwm_kb: field(&status, "VmHWM:"),
        cpu_ticks,
        switches,
    }
}

/// Clock ticks per second (`getconf CLK_TCK`).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
