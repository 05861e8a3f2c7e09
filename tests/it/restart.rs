//! A real `probe daemon` is killed with SIGKILL right after it filed a
//! probe; the vendor answers while it is down; a restarted daemon records
//! the answer, never files a probe twice, and stops cleanly on SIGTERM.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::kit::MailStack;
use crate::kit::config::{Probe, config_text};
use support_probe::model::{Class, ProbeState};

use crate::kit::run::{Daemon, probe, probes, wait_until};

/// How long the daemon may take to do what a test waits for.
const PATIENCE: Duration = Duration::from_secs(40);

/// Every four seconds: quick enough for a test, the caps stop it after two.
fn ticking_probe() -> String {
    Probe::new("acme-tick", "acme", "dana")
        .schedule("*/4 * * * * *")
        .subject("Restart test {token}")
        .body("Hello {vendor}, this is a scheduled support-response test.")
        .text()
}

#[test]
fn a_killed_daemon_loses_nothing_and_files_nothing_twice() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    std::fs::write(&config, config_text(stack, dir.path(), &ticking_probe())).unwrap();
    let state = dir.path().join("state");
    let log1 = dir.path().join("daemon1.log");

    // 1. The daemon files its first probe; we kill it at once.
    let mut first = Daemon::start(&config, &state, &log1, &[]);
    let all = wait_until(&state, &first, "a filed probe", PATIENCE, |ps| {
        ps.iter().any(|p| p.state == ProbeState::Filed)
    });
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let filed = all
        .iter()
        .find(|p| p.state == ProbeState::Filed)
        .unwrap()
        .clone();

    // A second daemon on the same state directory is refused while one runs;
    // after the kill, the lock is free again (checked by the restart below).

    // 2. While it is down, the vendor answers (a human, threading on our Message-ID).
    let mid = filed.message_id.clone().unwrap();
    let probe_mail = stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").as_deref() == Some(filed.id.as_str())
        })
        .unwrap();
    assert!(probe_mail.text().contains(&filed.token));
    let answer = format!(
        "From: Lee <support@vendor.test>\r\nTo: dana@probe.test\r\nSubject: Re: Restart test\r\n\
         Message-ID: <restart-{}@vendor.test>\r\nIn-Reply-To: <{mid}>\r\n\r\nHi Dana, I checked the \
         origin logs for you and everything on our side is in order.\r\n",
        filed.token
    );
    stack
        .deliver(
            "support@vendor.test",
            &["dana@probe.test"],
            answer.as_bytes(),
        )
        .unwrap();

    // 3. A restarted daemon records the answer.
    let log2 = dir.path().join("daemon2.log");
    let second = Daemon::start(&config, &state, &log2, &[]);
    // Only once it holds the state directory may an intruder try.
    let lock = state.join("daemon.lock");
    let pid = second.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&lock)
        .map(|s| s.trim().to_string())
        .ok()
        != Some(pid.clone())
    {
        assert!(
            Instant::now() < deadline,
            "the restarted daemon never took the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let third = probe(&config, &state, &["daemon"]);
    assert_eq!(
        third.status.code(),
        Some(69),
        "a second daemon on one state dir is refused"
    );
    assert!(third.stderr.contains("another probe daemon is running"));

    wait_until(
        &state,
        &second,
        "the answer to be recorded",
        PATIENCE,
        |ps| {
            ps.iter()
                .any(|p| p.id == filed.id && p.state == ProbeState::Answered)
        },
    );
    // ... and goes on until the per-day cap (2) refuses a probe.
    wait_until(
        &state,
        &second,
        "the cap to refuse a probe",
        PATIENCE,
        |ps| {
            ps.iter().any(|p| {
                p.state == ProbeState::Skipped
                    && p.state_reason.as_deref().is_some_and(|r| r.contains("cap"))
            })
        },
    );

    // 4. SIGTERM stops it cleanly.
    second.stop();

    let all = probes(&state);
    let answered = all.iter().find(|p| p.id == filed.id).unwrap();
    assert_eq!(answered.state, ProbeState::Answered);
    let humans: Vec<_> = answered
        .messages
        .iter()
        .filter(|m| m.class == Class::Human)
        .collect();
    assert_eq!(humans.len(), 1, "the reply is recorded exactly once");

    // Every probe the vendor received maps to exactly one record, and no
    // record that may have reached the vendor is missing from its mailbox.
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for m in stack.fetch_all("support@vendor.test", "INBOX").unwrap() {
        if let Some(id) = m.header("X-Support-Probe")
            && all.iter().any(|p| p.id.as_str() == id)
        {
            *received.entry(id).or_default() += 1;
        }
    }
    assert!(
        received.values().all(|&n| n == 1),
        "a probe was filed twice: {received:?}"
    );
    for p in &all {
        let reached = p.state.may_have_reached_vendor();
        if matches!(p.state, ProbeState::Filed | ProbeState::Answered) {
            assert!(
                received.contains_key(p.id.as_str()),
                "{} is filed but the vendor never got it",
                p.id
            );
        }
        if received.contains_key(p.id.as_str()) {
            assert!(
                reached,
                "{} reached the vendor but is recorded as {}",
                p.id, p.state
            );
        }
    }
    let sent = all
        .iter()
        .filter(|p| p.state.may_have_reached_vendor())
        .count();
    assert!(
        sent <= 2,
        "the per-day cap of 2 held: {sent} probes may have reached the vendor"
    );
}
