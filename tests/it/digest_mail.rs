//! The weekly digest through the real Postfix + Dovecot stack: sent by
//! `probe digest --send` and by the daemon's schedule, fetched back over
//! IMAP and parsed — both parts present, subject right — and sent once per
//! week, also across a daemon restart.

use std::path::Path;
use std::time::Duration;

use crate::kit::config::config_text;
use crate::kit::{FetchedMail, MailStack};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use mail_parser::{MessageParser, PartType};
use support_probe::store::{DigestState, Mode, Store};

use crate::kit::run::{Daemon, probe};

const WEEK_HEADER: &str = "X-Support-Probe-Digest";

fn write_config(stack: &MailStack, dir: &Path, digest: &str) -> std::path::PathBuf {
    let path = dir.join("probes.toml");
    let text = format!("{}\n{digest}", config_text(stack, dir, ""));
    std::fs::write(&path, text).unwrap();
    path
}

fn seed(state: &Path) {
    crate::kit::digest_fixture::seed(&Store::open(state, Mode::Shared).unwrap());
}

/// Asserts the message is a multipart/alternative digest with both parts.
fn assert_both_parts(mail: &FetchedMail, subject: &str, text_has: &str, html_has: &str) {
    let raw = mail.raw.clone();
    let msg = MessageParser::default().parse(&raw[..]).unwrap();
    assert_eq!(msg.subject(), Some(subject));
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{:?}",
        mail.header("Content-Type")
    );
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let text = msg
        .parts
        .iter()
        .find_map(|p| match &p.body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .expect("a text/plain part");
    let html = msg
        .parts
        .iter()
        .find_map(|p| match &p.body {
            PartType::Html(h) => Some(h.to_string()),
            _ => None,
        })
        .expect("a text/html part");
    assert!(
        text.contains(text_has),
        "text part lacks {text_has:?}:\n{text}"
    );
    assert!(html.contains(html_has), "html part lacks {html_has:?}");
    assert!(!html.to_ascii_lowercase().contains("<script"));
}

fn digests_for(stack: &MailStack, user: &str, week: &str) -> usize {
    stack
        .fetch_all(user, "INBOX")
        .unwrap()
        .iter()
        .filter(|m| m.header(WEEK_HEADER).as_deref() == Some(week))
        .count()
}

#[test]
fn probe_digest_send_delivers_both_parts_once() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = write_config(
        stack,
        dir.path(),
        "[report]\nzone = \"Europe/Berlin\"\n\n[digest]\npersona = \"dana\"\nrecipients = [\"helpdesk@vendor.test\"]\n",
    );
    seed(&state);

    let out = probe(&config, &state, &["digest", "--week", "2026-W47", "--send"]);
    let stdout = out.stdout.as_str();
    assert!(out.status.success(), "{stdout}{}", out.stderr);
    assert!(
        stdout.contains("digest for 2026-W47 sent to helpdesk@vendor.test"),
        "{stdout}"
    );

    let mail = stack
        .wait_for("helpdesk@vendor.test", Duration::from_secs(30), |m| {
            m.header(WEEK_HEADER).as_deref() == Some("2026-W47")
        })
        .unwrap();
    assert_both_parts(
        &mail,
        "Vendor support, week 47: 1 of 2 vendors missed their 1h target outside business hours",
        "UNANSWERED AND UNDELIVERABLE PROBES",
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
    );
    assert!(mail.header("From").unwrap().contains("dana@probe.test"));

    // A second --send is refused by the store: at most once per week.
    let again = probe(&config, &state, &["digest", "--week", "2026-W47", "--send"]);
    let stdout = again.stdout.as_str();
    assert!(again.status.success());
    assert!(stdout.contains("not sent: it is sent"), "{stdout}");
    let record = Store::open(&state, Mode::Shared)
        .unwrap()
        .digest_record("2026-W47")
        .unwrap()
        .unwrap();
    assert_eq!((record.state, record.attempts), (DigestState::Sent, 1));
    assert_eq!(digests_for(stack, "helpdesk@vendor.test", "2026-W47"), 1);
}

#[test]
fn the_daemon_sends_the_due_week_once_and_not_again_after_a_restart() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // Every minute: the latest fire is always less than a minute old, so the
    // daemon finds the week due at start (the catch-up path) and again at
    // every later fire of the same week.
    let config = write_config(
        stack,
        dir.path(),
        "[digest]\nschedule = \"0 * * * * *\"\nzone = \"UTC\"\njitter = \"0s\"\npersona = \"dana\"\nrecipients = [\"slow@vendor.test\"]\n",
    );
    seed(&state);
    let week = support_probe::digest::last_complete_week(Timestamp::now(), &TimeZone::UTC)
        .unwrap()
        .to_string();

    let log1 = dir.path().join("daemon1.log");
    let first = Daemon::start(
        &config,
        &state,
        &log1,
        &[("PROBE_LOG", "support_probe=debug")],
    );
    let mail = stack
        .wait_for("slow@vendor.test", Duration::from_secs(60), |m| {
            m.header(WEEK_HEADER).as_deref() == Some(week.as_str())
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}\ndaemon log:\n{}",
                std::fs::read_to_string(&log1).unwrap_or_default()
            )
        });
    let subject = mail.header("Subject").unwrap();
    assert!(subject.starts_with("Vendor support, week "), "{subject}");
    assert_both_parts(&mail, &subject, "HOW TO READ THIS", "How to read this");
    first.wait_log("digest sent");
    first.stop();

    // A restart finds the week sent and does not send it again.
    let log2 = dir.path().join("daemon2.log");
    let second = Daemon::start(
        &config,
        &state,
        &log2,
        &[("PROBE_LOG", "support_probe=debug")],
    );
    second.wait_log("digest already handled");
    second.stop();
    let record = Store::open(&state, Mode::Shared)
        .unwrap()
        .digest_record(&week)
        .unwrap()
        .unwrap();
    assert_eq!((record.state, record.attempts), (DigestState::Sent, 1));
    assert_eq!(digests_for(stack, "slow@vendor.test", &week), 1);
}

#[test]
fn a_refused_send_is_recorded_as_failed_and_may_be_retried() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = write_config(
        stack,
        dir.path(),
        "[digest]\npersona = \"dana\"\nrecipients = [\"helpdesk@vendor.test\"]\n",
    );
    seed(&state);
    // config_text put dana's password in this file; a wrong one makes the
    // submission server refuse AUTH: a definite "not sent".
    let pw = dir.path().join("dana@probe.test.pw");
    std::fs::write(&pw, "wrong-password").unwrap();
    let out = probe(&config, &state, &["digest", "--week", "2026-W45", "--send"]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("digest for 2026-W45 not sent"));
    let store = Store::open(&state, Mode::Shared).unwrap();
    let r = store.digest_record("2026-W45").unwrap().unwrap();
    assert_eq!((r.state, r.attempts), (DigestState::Failed, 1));

    std::fs::write(&pw, stack.password("dana@probe.test")).unwrap();
    let out = probe(&config, &state, &["digest", "--week", "2026-W45", "--send"]);
    assert!(out.status.success(), "{}", out.stderr);
    let r = store.digest_record("2026-W45").unwrap().unwrap();
    assert_eq!((r.state, r.attempts), (DigestState::Sent, 2));
    stack
        .wait_for("helpdesk@vendor.test", Duration::from_secs(30), |m| {
            m.header(WEEK_HEADER).as_deref() == Some("2026-W45")
        })
        .unwrap();
}
