//! Fault tests: our own infrastructure fails, the vendor is never blamed.
//!
//! The kit's TCP proxy ([`crate::kit::proxy`]) sits between the engine and
//! the real mail stack and, on command, refuses connections, stalls them, or cuts
//! them mid-transaction (when the client has sent a given command, or after
//! the message data). Further cases: TLS with the wrong CA, TLS against a
//! plaintext server, wrong passwords. Each asserts the probe's state
//! (`not-filed` before the data, `uncertain` after it), that the outage is
//! recorded as ours, that watching pauses and resumes without losing or
//! doubling a reply, that nothing panics, and that no vendor figure counts
//! the failure.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::kit::MailStack;
use crate::kit::config::{ConfigText, Probe, Vendor, offline_persona};
use crate::kit::proxy::{Fault, Proxy};
use jiff::{SignedDuration, Timestamp};
use support_probe::channel::Channel;
use support_probe::channel::email::{EmailChannel, EmailSettings, Password, Security, Server};
use support_probe::clock::{Clock, ManualClock, SystemClock};
use support_probe::config;
use support_probe::engine::{Breaker, Engine};
use support_probe::model::{Class, ProbeState};
use support_probe::report::own::{self, OwnSide};
use support_probe::report::status;
use support_probe::store::{Mode, OutageKind, Store};

// ---------------------------------------------------------------- the rig

fn config_text(answer_within: &str) -> String {
    ConfigText::new()
        .section("[daemon]\nfiling-retry-window = \"2s\"")
        .vendor(
            Vendor::new("acme")
                .address("support@vendor.test")
                .caps(20, 100),
        )
        .persona(&offline_persona(
            "dana",
            "Dana Probe",
            "dana@probe.test",
            "",
        ))
        .probe(
            Probe::new("acme-fault", "acme", "dana")
                .line(&format!("answer-within = \"{answer_within}\""))
                .subject("Fault test {token}")
                .body("Hello {vendor}, this is a scheduled support-response test."),
        )
        .build()
}

fn server(port: u16, security: Security, user: &str, password: &str, ca: Option<&Path>) -> Server {
    Server {
        host: "127.0.0.1".into(),
        port,
        security,
        username: user.into(),
        password: Password::new(password),
        ca_file: ca.map(Path::to_path_buf),
    }
}

/// SMTP straight to the stack's plain port (no AUTH), as our relay would take it.
fn plain_smtp(stack: &MailStack) -> Server {
    server(stack.smtp_plain_port, Security::Insecure, "", "", None)
}

/// IMAP to the stack's plain port as dana.
fn dana_imap(stack: &MailStack, port: u16) -> Server {
    server(
        port,
        Security::Insecure,
        "dana@probe.test",
        &stack.password("dana@probe.test"),
        None,
    )
}

fn engine(
    state: &Path,
    smtp: Server,
    imap: Server,
    clock: Arc<dyn Clock>,
    answer_within: &str,
) -> Engine {
    let loaded = config::parse_str(&config_text(answer_within), Path::new("faults.toml")).unwrap();
    let settings = EmailSettings {
        smtp,
        imap,
        mailbox: "INBOX".into(),
        idle: false,
        timeout: Duration::from_secs(1),
    };
    let channel = EmailChannel::new(settings, Arc::clone(&clock)).unwrap();
    let mut channels: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    channels.insert("dana".into(), Arc::new(channel));
    let store = Store::open(state, Mode::Shared).unwrap();
    Engine::new(Arc::new(loaded.config), Arc::new(store), clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(50))
        // Opens after three failures, tries again after a second.
        .with_breaker(Breaker::new(
            3,
            Duration::from_secs(1),
            Duration::from_secs(2),
        ))
}

fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// How many copies of probe `id` the vendor's mailbox holds (counted by the
/// mailbox, not by our store).
fn received(stack: &MailStack, id: &str) -> usize {
    stack
        .fetch_all("support@vendor.test", "INBOX")
        .unwrap()
        .iter()
        .filter(|m| m.header("X-Support-Probe").as_deref() == Some(id))
        .count()
}

/// Nothing our side did wrong shows up in the vendor's figures.
fn assert_vendor_not_blamed(engine: &Engine) {
    let store = engine.store();
    let all = store.all().unwrap();
    let own = OwnSide::new(&store.cursors().unwrap(), store.outages().unwrap());
    let now = engine.clock().now();
    for s in status::summarize(&all, now, &own) {
        let f = s.figures();
        assert_eq!(f.unanswered, 0, "no probe counted unanswered: {s:?}");
        assert_eq!(f.undeliverable, 0, "{s:?}");
    }
    for p in &all {
        if matches!(p.state, ProbeState::NotFiled | ProbeState::Uncertain) {
            assert!(
                own::observation(p, now).is_none(),
                "{} ({}) enters no latency figure",
                p.id,
                p.state
            );
        }
    }
}

// ---------------------------------------------------------------- SMTP faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_cut_before_the_data_is_not_filed_and_recorded_as_our_outage() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(stack.smtp_plain_port).await;
    proxy.set(Fault::CutAfterClientSent("MAIL FROM"));
    let smtp = server(proxy.port, Security::Insecure, "", "", None);
    let e = engine(
        dir.path(),
        smtp,
        dana_imap(stack, stack.imap_port),
        system(),
        "1h",
    );

    let report = e.run_now("acme-fault").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled, "{report:?}");
    let p = e.store().get(&report.id).unwrap().unwrap();
    assert!(
        p.attempts.len() >= 2,
        "retried within the window: {:?}",
        p.attempts
    );
    assert!(
        p.attempts.iter().all(|a| a.outcome.contains("failed")),
        "{:?}",
        p.attempts
    );
    let outages = e.store().outages().unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert_eq!(outages[0].kind, OutageKind::Send);
    assert!(outages[0].endpoint.starts_with("smtp:"), "{outages:?}");
    assert!(outages[0].ended_at.is_none(), "still down");
    assert_eq!(received(stack, p.id.as_str()), 0, "the vendor never got it");

    // The breaker held some retries: the dead server was not hammered. Only
    // the attempts it let through reached the proxy.
    let held = p
        .attempts
        .iter()
        .filter(|a| a.outcome.contains("circuit breaker open"))
        .count();
    assert!(held > 0, "{:?}", p.attempts);
    assert_eq!(
        proxy.connections(),
        p.attempts.len() - held,
        "{:?}",
        p.attempts
    );

    // Our SMTP comes back: after the cool-down the next probe is filed and
    // closes the outage.
    proxy.set(Fault::Pass);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let report = e.run_now("acme-fault").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let outages = e.store().outages().unwrap();
    assert!(outages[0].ended_at.is_some(), "{outages:?}");
    stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").as_deref() == Some(report.id.as_str())
        })
        .unwrap();
    assert_vendor_not_blamed(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_cut_after_the_data_is_uncertain_never_resent() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(stack.smtp_plain_port).await;
    // The message data ends with CRLF . CRLF; the server gets it, we never
    // see its answer.
    proxy.set(Fault::CutAfterClientSent("\r\n.\r\n"));
    let smtp = server(proxy.port, Security::Insecure, "", "", None);
    let e = engine(
        dir.path(),
        smtp,
        dana_imap(stack, stack.imap_port),
        system(),
        "1h",
    );
    let report = e.run_now("acme-fault").await.unwrap();
    assert_eq!(report.state, ProbeState::Uncertain, "{report:?}");
    let p = e.store().get(&report.id).unwrap().unwrap();
    assert_eq!(p.attempts.len(), 1, "never re-sent: {:?}", p.attempts);
    assert!(
        p.attempts[0].outcome.starts_with("unknown"),
        "{:?}",
        p.attempts
    );
    // The server did accept it: the vendor has exactly one copy.
    stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").as_deref() == Some(p.id.as_str())
        })
        .unwrap();
    assert_eq!(received(stack, p.id.as_str()), 1);
    assert_eq!(proxy.connections(), 1);
    let outages = e.store().outages().unwrap();
    assert_eq!(outages.len(), 1);
    assert_eq!(outages[0].kind, OutageKind::Send);
    assert_vendor_not_blamed(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_that_hangs_after_the_data_times_out_as_uncertain() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(stack.smtp_plain_port).await;
    proxy.set(Fault::StallAfterClientSent("\r\n.\r\n"));
    let smtp = server(proxy.port, Security::Insecure, "", "", None);
    let e = engine(
        dir.path(),
        smtp,
        dana_imap(stack, stack.imap_port),
        system(),
        "1h",
    );
    let report = e.run_now("acme-fault").await.unwrap();
    assert_eq!(report.state, ProbeState::Uncertain, "{report:?}");
    let reason = report.reason.unwrap_or_default();
    assert!(
        reason.contains("no reply to the message data within 1 s"),
        "the per-step timeout fired: {reason}"
    );
    assert_eq!(proxy.connections(), 1, "never re-sent");
    stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").as_deref() == Some(report.id.as_str())
        })
        .unwrap();
    assert_eq!(received(stack, report.id.as_str()), 1);
    assert_vendor_not_blamed(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_that_refuses_or_stalls_times_out_and_is_not_filed() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    for fault in [Fault::Refuse, Fault::Stall] {
        let dir = tempfile::tempdir().unwrap();
        let proxy = Proxy::start(stack.smtp_plain_port).await;
        proxy.set(fault);
        let smtp = server(proxy.port, Security::Insecure, "", "", None);
        let e = engine(
            dir.path(),
            smtp,
            dana_imap(stack, stack.imap_port),
            system(),
            "1h",
        );
        let report = e.run_now("acme-fault").await.unwrap();
        assert_eq!(report.state, ProbeState::NotFiled, "{fault:?}: {report:?}");
        let reason = report.reason.unwrap_or_default();
        if fault == Fault::Stall {
            assert!(reason.contains("timed out"), "{reason}");
        }
        assert_eq!(e.store().outages().unwrap().len(), 1, "{fault:?}");
        assert_vendor_not_blamed(&e);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_wrong_ca_or_against_plaintext_and_a_wrong_password_are_our_outages() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dana = "dana@probe.test";
    let pw = stack.password(dana);
    let ca = stack.ca_file.as_path();
    let cases = [
        (
            "implicit TLS without our CA (system roots only)",
            server(stack.smtp_tls_port, Security::Tls, dana, &pw, None),
        ),
        (
            "TLS expected, plaintext server",
            server(stack.smtp_plain_port, Security::Tls, dana, &pw, Some(ca)),
        ),
        (
            "wrong password",
            server(
                stack.smtp_submission_port,
                Security::StartTls,
                dana,
                "not-the-password",
                Some(ca),
            ),
        ),
    ];
    for (what, smtp) in cases {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(
            dir.path(),
            smtp,
            dana_imap(stack, stack.imap_port),
            system(),
            "1h",
        );
        let report = e.run_now("acme-fault").await.unwrap();
        assert_eq!(report.state, ProbeState::NotFiled, "{what}: {report:?}");
        let outages = e.store().outages().unwrap();
        assert_eq!(outages.len(), 1, "{what}: {outages:?}");
        assert_eq!(outages[0].kind, OutageKind::Send);
        assert_eq!(received(stack, report.id.as_str()), 0, "{what}");
        assert_vendor_not_blamed(&e);
    }

    // The same for reading: TLS to a plaintext IMAP port, the wrong CA, a wrong password.
    let imap_cases = [
        (
            "IMAPS expected, plaintext server",
            server(stack.imap_port, Security::Tls, dana, &pw, Some(ca)),
        ),
        (
            "IMAPS without our CA",
            server(stack.imaps_port, Security::Tls, dana, &pw, None),
        ),
        (
            "wrong IMAP password",
            server(stack.imap_port, Security::Insecure, dana, "nope", None),
        ),
    ];
    for (what, imap) in imap_cases {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path(), plain_smtp(stack), imap, system(), "1h");
        let err = e.watch_once("dana").await.unwrap_err();
        let outages = e.store().outages().unwrap();
        assert_eq!(outages.len(), 1, "{what}: {err}");
        assert_eq!(outages[0].kind, OutageKind::Watch, "{what}");
        assert!(outages[0].endpoint.starts_with("imap:"), "{what}");
    }
}

// ---------------------------------------------------------------- IMAP faults

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_pauses_while_imap_fails_and_resumes_without_losing_or_doubling_a_reply() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(stack.imap_port).await;
    let clock = ManualClock::new(Timestamp::now());
    let e = engine(
        dir.path(),
        plain_smtp(stack),
        dana_imap(stack, proxy.port),
        Arc::new(clock.clone()),
        "1h",
    );
    // Two probes: one the vendor answers, one it does not.
    let answered = e.run_now("acme-fault").await.unwrap();
    let silent = e.run_now("acme-fault").await.unwrap();
    assert_eq!(answered.state, ProbeState::Filed);
    assert_eq!(silent.state, ProbeState::Filed);
    let rec = e.store().get(&answered.id).unwrap().unwrap();
    let mid = rec.message_id.clone().unwrap();
    stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").as_deref() == Some(answered.id.as_str())
        })
        .unwrap();
    let reply = format!(
        "From: Lee <support@vendor.test>\r\nTo: dana@probe.test\r\nSubject: Re: Fault test\r\n\
         Message-ID: <fault-{}@vendor.test>\r\nIn-Reply-To: <{mid}>\r\n\r\nHi Dana, I looked \
         into this and the configuration on our side is correct.\r\n",
        rec.token
    );
    stack
        .deliver(
            "support@vendor.test",
            &["dana@probe.test"],
            reply.as_bytes(),
        )
        .unwrap();

    stack
        .wait_for("dana@probe.test", Duration::from_secs(20), |m| {
            m.text()
                .contains(&format!("fault-{}@vendor.test", rec.token))
        })
        .unwrap();

    // Our IMAP breaks mid-session (at the fetch), then stalls.
    proxy.set(Fault::CutAfterClientSent("UID FETCH"));
    let err = e.watch_once("dana").await.unwrap_err();
    assert!(!err.to_string().is_empty());
    proxy.set(Fault::Stall);
    let err = e.watch_once("dana").await.unwrap_err();
    assert!(err.to_string().contains("did not answer"), "{err}");
    proxy.set(Fault::StallAfterClientSent("EXAMINE"));
    let err = e.watch_once("dana").await.unwrap_err();
    assert!(err.to_string().contains("did not answer"), "{err}");
    let outages = e.store().outages().unwrap();
    assert_eq!(outages.len(), 1, "one interval: {outages:?}");
    assert_eq!(outages[0].kind, OutageKind::Watch);
    assert_eq!(outages[0].failures, 3);

    // The answer window of both closes while we cannot read: neither is unanswered.
    clock.advance(SignedDuration::from_hours(2));
    assert!(e.expire().unwrap().is_empty());
    for id in [&answered.id, &silent.id] {
        assert_eq!(e.store().get(id).unwrap().unwrap().state, ProbeState::Filed);
    }
    // While down, the waiting probes' observations stop where our reading stopped.
    assert_vendor_not_blamed(&e);

    // IMAP is back: the reply is recorded once, the silent probe is closed,
    // the outage ends.
    proxy.set(Fault::Pass);
    e.watch_once("dana").await.unwrap();
    e.watch_once("dana").await.unwrap();
    let a = e.store().get(&answered.id).unwrap().unwrap();
    assert_eq!(a.state, ProbeState::Answered, "{a:#?}");
    assert_eq!(
        a.messages
            .iter()
            .filter(|m| m.class == Class::Human)
            .count(),
        1,
        "recorded exactly once"
    );
    let expired = e.expire().unwrap();
    assert_eq!(
        expired,
        vec![silent.id.clone()],
        "closed only now that we caught up"
    );
    let outages = e.store().outages().unwrap();
    assert!(outages[0].ended_at.is_some(), "{outages:?}");
    let s = e.store().get(&silent.id).unwrap().unwrap();
    assert_eq!(s.state, ProbeState::Unanswered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_with_a_dead_mailbox_keeps_running_and_resumes_watching() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(stack.imap_port).await;
    proxy.set(Fault::Refuse);
    let e = Arc::new(engine(
        dir.path(),
        plain_smtp(stack),
        dana_imap(stack, proxy.port),
        system(),
        "1h",
    ));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let daemon = tokio::spawn(support_probe::daemon::run(Arc::clone(&e), shutdown.clone()));
    // The watcher fails and records the outage; the daemon keeps running.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while e.store().outages().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no outage recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!daemon.is_finished());
    proxy.set(Fault::Pass);
    while e.store().outages().unwrap()[0].ended_at.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "watching never resumed: {:?}",
            e.store().outages().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        e.store()
            .cursor(&e.channel("dana").unwrap().watch_key())
            .unwrap()
            .is_some()
    );
    shutdown.cancel();
    daemon.await.expect("no panic").expect("a clean stop");
}

// ---------------------------------------------------------------- DNS

/// A host name the resolver rejects on this machine: the empty label makes
/// glibc fail the lookup itself, so no DNS query leaves the machine.
const UNRESOLVABLE: &str = "mx..support-probe.invalid";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_is_our_outage_not_the_vendors() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let mut smtp = plain_smtp(stack);
    smtp.host = UNRESOLVABLE.into();
    let mut imap = dana_imap(stack, stack.imap_port);
    imap.host = UNRESOLVABLE.into();
    let e = engine(dir.path(), smtp, imap, system(), "1h");

    let report = e.run_now("acme-fault").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled, "{report:?}");
    let err = e.watch_once("dana").await.unwrap_err();
    assert!(
        err.to_string().contains("lookup") || err.to_string().contains("resolve"),
        "a DNS failure says so: {err}"
    );
    let outages = e.store().outages().unwrap();
    let kinds: Vec<OutageKind> = outages.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        vec![OutageKind::Send, OutageKind::Watch],
        "{outages:?}"
    );
    assert!(outages.iter().all(|o| o.ended_at.is_none()));
    assert_vendor_not_blamed(&e);
}
