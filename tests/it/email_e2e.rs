//! End to end over a real Postfix + Dovecot on loopback: probes are filed
//! over SMTP (STARTTLS and implicit TLS, with AUTH), a scripted vendor reads
//! them from its mailbox and answers the way helpdesks do, and the readings
//! are checked against the servers' own timestamps.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::kit::config::{config_text, default_probes, internaldate};
use crate::kit::engine::init_tls;
use crate::kit::{FetchedMail, MailStack};
use jiff::Timestamp;
use support_probe::clock::{Clock, SystemClock};
use support_probe::config;
use support_probe::engine::Engine;
use support_probe::model::{Class, MatchedBy, ProbeState, TimeSource};
use support_probe::store::{Mode, Store};

const WAIT: Duration = Duration::from_secs(20);

fn engine(stack: &MailStack, dir: &Path, extra: &str) -> Engine {
    let text = config_text(stack, dir, &format!("{}{extra}", default_probes()));
    crate::kit::engine::engine(&text, dir)
}

fn probe_mail(stack: &MailStack, mailbox_user: &str, probe_id: &str) -> FetchedMail {
    stack
        .wait_for(mailbox_user, WAIT, |m| {
            m.header("X-Support-Probe").as_deref() == Some(probe_id)
        })
        .unwrap()
}

/// Delivers `raw` and returns it as the persona's mailbox stored it.
fn vendor_sends(stack: &MailStack, to: &str, marker: &str, raw: String) -> FetchedMail {
    stack
        .deliver("support@vendor.test", &[to], raw.as_bytes())
        .unwrap();
    stack
        .wait_for(to, WAIT, |m| m.text().contains(marker))
        .unwrap()
}

#[tokio::test]
async fn a_probe_is_filed_and_every_kind_of_reply_is_read_with_server_timestamps() {
    // Alone: its second read must see nothing new in dana's mailbox, which
    // the conversation test writes to as well.
    let _gate = crate::kit::gate::enter_alone(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(stack, dir.path(), "");

    let before = Timestamp::now();
    let report = engine.run_now("acme-dana").await.unwrap();
    let after = Timestamp::now();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let filed_at = rec.filed_at.unwrap();
    assert!(before <= filed_at && filed_at <= after);
    assert_eq!(rec.filed_time_source, Some(TimeSource::SmtpAccept));
    assert!(
        rec.attempts[0].outcome.starts_with("accepted: 250"),
        "{:?}",
        rec.attempts
    );

    // The vendor sees our probe with our Message-ID, the probe header and the token.
    let probe = probe_mail(stack, "support@vendor.test", rec.id.as_str());
    let our_mid = rec.message_id.clone().unwrap();
    assert_eq!(probe.header("Message-ID").unwrap(), format!("<{our_mid}>"));
    let subject = probe.header("Subject").unwrap();
    assert!(subject.contains(&rec.token), "{subject}");
    assert!(probe.text().contains("scheduled support-response test"));

    // Ticket numbers and markers are unique per run: the stack's mailboxes
    // outlive a test run.
    let ticket = 10_000 + (Timestamp::now().as_millisecond() % 90_000);
    let token = rec.token.clone();
    // 1. An automatic acknowledgement that references the probe.
    let ack = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("ACK-{ticket}"),
        format!(
            "From: Acme Support <support@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: [#{ticket}] Ticket received: {subject}\r\nMessage-ID: <ack-{ticket}@vendor.test>\r\n\
             In-Reply-To: <{our_mid}>\r\nReferences: <{our_mid}>\r\nAuto-Submitted: auto-replied\r\n\
             \r\nThis is an automated response: we have received your request (ACK-{ticket}).\r\n\
             A ticket has been created with ID {ticket}.\r\n"
        ),
    );
    // 2. An out-of-office from someone on the thread.
    let ooo = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("back on Monday ({token})"),
        format!(
            "From: Kim <kim@vendor.test>\r\nTo: dana@probe.test\r\nSubject: Automatic reply: {subject}\r\n\
             Message-ID: <ooo-{ticket}@vendor.test>\r\nIn-Reply-To: <{our_mid}>\r\nAuto-Submitted: auto-replied\r\n\
             \r\nI am out of the office and back on Monday ({token}).\r\n"
        ),
    );
    // 3. The human answer references only the acknowledgement and carries
    //    the ticket number in the subject; its Date header is two hours off
    //    (a wrong sender clock).
    let human = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("purged the edge cache (case {ticket})"),
        format!(
            "From: Sam at Acme <support@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: Re: [#{ticket}] your request\r\nMessage-ID: <reply-{ticket}-1@vendor.test>\r\n\
             In-Reply-To: <ack-{ticket}@vendor.test>\r\nReferences: <ack-{ticket}@vendor.test>\r\n\
             Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nHi Dana,\r\n\r\nI looked at your account and \
             purged the edge cache (case {ticket}) for your zone; the stale objects are gone now.\r\n\r\nSam\r\n"
        ),
    );
    // 4. A follow-up with no threading headers at all: only the ticket number.
    let follow_up = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("one more thing about case {ticket}"),
        format!(
            "From: Sam at Acme <support@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: [#{ticket}] follow-up\r\nMessage-ID: <reply-{ticket}-2@vendor.test>\r\n\r\n\
             Hi again, one more thing about case {ticket}: the purge also covered your images.\r\n"
        ),
    );
    // Unrelated mail in the same mailbox is left alone.
    vendor_sends(
        stack,
        "dana@probe.test",
        &format!("newsletter-{ticket}"),
        format!(
            "From: news@vendor.test\r\nTo: dana@probe.test\r\nSubject: Our news\r\n\r\nnewsletter-{ticket}\r\n"
        ),
    );

    let report = engine.watch_once("dana").await.unwrap();
    assert_eq!(report.recorded.len(), 4, "{report:?}");
    assert!(report.unmatched >= 1);

    let rec = engine.store().get(&rec.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
    let by_key = |mid: &str| {
        rec.messages
            .iter()
            .find(|m| m.message_id.as_deref() == Some(mid))
            .unwrap_or_else(|| panic!("no message {mid} in {:#?}", rec.messages))
    };
    let (a, o, h, f) = (
        by_key(&format!("ack-{ticket}@vendor.test")),
        by_key(&format!("ooo-{ticket}@vendor.test")),
        by_key(&format!("reply-{ticket}-1@vendor.test")),
        by_key(&format!("reply-{ticket}-2@vendor.test")),
    );
    assert_eq!(
        (a.class, o.class, h.class, f.class),
        (Class::Ack, Class::OutOfOffice, Class::Human, Class::Human)
    );
    assert_eq!(a.matched_by, MatchedBy::OurMessageId);
    assert_eq!(o.matched_by, MatchedBy::OurMessageId);
    assert_eq!(h.matched_by, MatchedBy::ThreadMessageId);
    assert_eq!(f.matched_by, MatchedBy::VendorRef);
    for (m, mail) in [(a, &ack), (o, &ooo), (h, &human), (f, &follow_up)] {
        assert_eq!(m.time_source, TimeSource::ImapInternaldate);
        assert_eq!(
            m.at,
            internaldate(mail),
            "recorded time is the server's INTERNALDATE"
        );
    }
    assert!(
        h.notes.iter().any(|n| n.contains("Date header")),
        "the wrong Date header is noted: {:?}",
        h.notes
    );
    assert_eq!(rec.first_ack_at, Some(internaldate(&ack)));
    assert_eq!(rec.first_human_at, Some(internaldate(&human)));
    assert_eq!(
        rec.time_to_first_human(),
        Some(internaldate(&human).duration_since(filed_at))
    );
    assert_eq!(rec.vendor_refs, vec![format!("#{ticket}")]);

    // A second read finds nothing new: the checkpoint holds.
    let again = engine.watch_once("dana").await.unwrap();
    assert_eq!((again.seen, again.recorded.len()), (0, 0), "{again:?}");

    // The server renumbers the mailbox (UIDVALIDITY changes): a safe rescan
    // back to the earliest open filing finds the same mail and records
    // nothing twice. Simulated by a checkpoint with another UIDVALIDITY.
    let key = engine.channel("dana").unwrap().watch_key();
    let mut cursor = engine.store().cursor(&key).unwrap().unwrap();
    let real = cursor.position.clone();
    cursor.position = serde_json::json!({ "uidvalidity": 1, "last_uid": 999_999 });
    engine
        .store()
        .write(|tx| tx.set_cursor(&key, &cursor))
        .unwrap();
    // A second probe is still open, so the rescan reaches back to today.
    assert_eq!(
        engine.run_now("acme-dana").await.unwrap().state,
        ProbeState::Filed
    );
    let rescan = engine.watch_once("dana").await.unwrap();
    assert_eq!(rescan.recorded.len(), 0, "{rescan:?}");
    assert!(
        rescan.duplicates >= 4,
        "the first probe's messages were seen again: {rescan:?}"
    );
    let after = engine.store().get(&rec.id).unwrap().unwrap();
    assert_eq!(after.messages.len(), 4);
    let position = engine.store().cursor(&key).unwrap().unwrap().position;
    assert_eq!(position["uidvalidity"], real["uidvalidity"]);
    assert!(position["last_uid"].as_u64() >= real["last_uid"].as_u64());
}

#[tokio::test]
async fn idle_wakes_the_watcher_when_a_reply_is_delivered() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(stack, dir.path(), "");
    let report = engine.run_now("acme-eve").await.unwrap();
    engine.watch_once("eve").await.unwrap();
    let channel = Arc::clone(engine.channel("eve").unwrap());
    let position = engine
        .store()
        .cursor(&channel.watch_key())
        .unwrap()
        .unwrap()
        .position;
    // Wait up to ten minutes for news; the delivery must end the wait long before.
    let waiting = tokio::spawn(async move {
        channel
            .wait(Some(&position), Duration::from_secs(600))
            .await
    });
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let raw = format!(
        "From: Ana <support@vendor.test>\r\nTo: eve@probe.test\r\nSubject: Re: idle\r\n\
         Message-ID: <idle-{}@vendor.test>\r\nIn-Reply-To: <{}>\r\n\r\nHello Eve, the certificate \
         for your edge hostname was renewed this morning.\r\n",
        rec.token,
        rec.message_id.as_deref().unwrap()
    );
    stack
        .deliver("support@vendor.test", &["eve@probe.test"], raw.as_bytes())
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("IDLE returned when the reply arrived")
        .unwrap()
        .unwrap();
    engine.watch_once("eve").await.unwrap();
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
}

#[tokio::test]
async fn a_bounce_makes_the_probe_undeliverable() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(stack, dir.path(), "");
    let report = engine.run_now("gone-dana").await.unwrap();
    // Postfix accepts the recipient; the failure comes later, as a DSN.
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let dsn = stack
        .wait_for("dana@probe.test", WAIT, |m| {
            m.text().contains("report-type=delivery-status")
                && m.text().contains(report.id.as_str())
        })
        .unwrap();
    engine.watch_once("dana").await.unwrap();
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Undeliverable, "{rec:#?}");
    let m = rec
        .messages
        .iter()
        .find(|m| m.class == Class::Bounce)
        .unwrap();
    assert_eq!(m.at, internaldate(&dsn));
    assert!(matches!(
        m.matched_by,
        MatchedBy::OurMessageId | MatchedBy::Token
    ));
    assert_eq!(rec.first_human_at, None);
}

#[tokio::test]
async fn implicit_tls_smtp_and_starttls_imap_work_and_the_caps_hold() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(stack, dir.path(), "");
    let first = engine.run_now("acme-eve").await.unwrap();
    assert_eq!(first.state, ProbeState::Filed, "{first:?}");
    let rec = engine.store().get(&first.id).unwrap().unwrap();
    let probe = probe_mail(stack, "support@vendor.test", first.id.as_str());
    // token-in = "body": the token is in the body, not the subject.
    assert!(probe.text().contains(&format!("Reference: {}", rec.token)));
    assert!(!probe.header("Subject").unwrap().contains(&rec.token));

    let human = vendor_sends(
        stack,
        "eve@probe.test",
        &format!("rotated the API key ({})", rec.token),
        format!(
            "From: Ana <support@vendor.test>\r\nTo: eve@probe.test\r\nSubject: Re: Support test from Eve\r\n\
             Message-ID: <r-{}@vendor.test>\r\nIn-Reply-To: <{}>\r\n\r\nHello Eve, we rotated the API key \
             ({}) for you and checked the logs, nothing else is needed.\r\n",
            rec.token,
            rec.message_id.as_deref().unwrap(),
            rec.token
        ),
    );
    engine.watch_once("eve").await.unwrap();
    let rec = engine.store().get(&first.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.first_human_at, Some(internaldate(&human)));

    // acme's cap is 2 a day: the second probe goes out, the third does not.
    let second = engine.run_now("acme-eve").await.unwrap();
    assert_eq!(second.state, ProbeState::Filed);
    let third = engine.run_now("acme-eve").await.unwrap();
    assert_eq!(third.state, ProbeState::Skipped);
    assert!(
        third.reason.as_deref().unwrap().contains("per-day cap 2"),
        "{third:?}"
    );
    probe_mail(stack, "support@vendor.test", second.id.as_str());
    let received = stack.fetch_all("support@vendor.test", "INBOX").unwrap();
    assert!(
        !received
            .iter()
            .any(|m| m.header("X-Support-Probe").as_deref() == Some(third.id.as_str())),
        "the capped probe must never reach the vendor"
    );
}

#[tokio::test]
async fn our_own_failures_are_never_the_vendors() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    // A wrong SMTP password: definitely not sent, retried within the window, then not-filed.
    let short = r#"
[[probe]]
name = "acme-short"
vendor = "acme"
persona = "dana"
schedule = "0 30 2 * * *"
zones = ["UTC"]
answer-within = "1s"
subject = "Short {token}"
body = "A scheduled support-response test."
"#;
    let engine_ok = engine(stack, dir.path(), short);
    let watched = engine_ok.run_now("acme-short").await.unwrap();
    assert_eq!(watched.state, ProbeState::Filed);
    std::fs::write(dir.path().join("dana@probe.test.pw"), "wrong-password").unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cfg = engine_ok.config().clone();
    let channels = support_probe::cli::wiring::channels(&cfg, &["dana"], &clock).unwrap();
    let engine = Engine::new(cfg, Arc::clone(engine_ok.store()), clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(200));
    let report = engine.run_now("acme-dana").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled, "{report:?}");
    let reason = report.reason.unwrap();
    assert!(reason.contains("logging in"), "{reason}");
    assert!(
        !reason.contains("wrong-password"),
        "no secret in messages: {reason}"
    );

    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert!(
        rec.attempts.len() >= 2,
        "an auth failure is retried within the window: {:?}",
        rec.attempts
    );
    // IMAP login fails too: watching errs, and the filed probe does not
    // expire as unanswered although its answer window is long gone.
    assert!(engine.watch_once("dana").await.is_err());
    let deadline = engine
        .store()
        .get(&watched.id)
        .unwrap()
        .unwrap()
        .answer_deadline()
        .unwrap();
    assert!(deadline < Timestamp::now());
    assert!(engine.expire().unwrap().is_empty());
    let rec = engine.store().get(&watched.id).unwrap().unwrap();
    assert_eq!(
        rec.state,
        ProbeState::Filed,
        "our IMAP outage is not the vendor's silence"
    );
    let summary = support_probe::report::status::summarize(
        &engine.store().all().unwrap(),
        Timestamp::now(),
        &Default::default(),
    );
    let acme = summary
        .iter()
        .find(|s| s.vendor() == "acme")
        .unwrap()
        .figures();
    assert_eq!((acme.filed, acme.not_filed, acme.unanswered), (1, 1, 0));
}

#[tokio::test]
async fn a_closed_smtp_port_is_not_filed_and_is_retried_within_the_window() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    // Bind and drop a listener to get a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = config_text(stack, dir.path(), &default_probes()).replace(
        &format!("port = {}\n", stack.smtp_submission_port),
        &format!("port = {closed}\n"),
    );
    let loaded = config::parse_str(&text, &dir.path().join("p.toml")).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let channels = support_probe::cli::wiring::channels(&loaded.config, &["dana"], &clock).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("state"), Mode::Exclusive).unwrap());
    let engine = Engine::new(Arc::new(loaded.config), store, clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(200));
    let report = engine.run_now("acme-dana").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled, "{report:?}");
    // The last attempt failed connecting, or (when a slow machine fitted
    // enough failures into the window) was held back by the send
    // endpoint's circuit breaker those failures opened.
    let reason = report.reason.as_deref().unwrap();
    assert!(
        reason.contains("connecting") || reason.contains("circuit breaker open"),
        "{report:?}"
    );
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert!(
        rec.attempts.len() >= 2,
        "retried inside the window: {:?}",
        rec.attempts
    );
    assert!(
        rec.attempts[0].outcome.contains("connecting"),
        "the first failure is the closed port: {:?}",
        rec.attempts
    );
    assert_eq!(rec.filed_at, None);
}

/// A conversation over the real mail stack: the vendor asks back, our
/// follow-up goes out in its thread (In-Reply-To, References, its ticket
/// tag, our probe header), the vendor answers, the closing message goes out
/// once, and the vendor's resolved notice sets the resolution at the
/// server's time; each reply's evidence is recorded.
#[tokio::test]
async fn a_conversation_goes_on_in_the_vendors_thread_at_most_once_per_round() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(
        stack,
        dir.path(),
        r#"
[[probe]]
name = "acme-talk"
vendor = "acme"
persona = "dana"
schedule = "0 30 2 * * *"
zones = ["UTC"]
language = "en"
details = ["edge node sg-3"]
expect = ['status\.vendor\.test']
follow-ups = [{ after = "1s", body = "Our account is the one this mail comes from ({detail}). Where do you post incidents?" }]
closing-message = "Thank you, this was a scheduled support-response test."
subject = "Support test {token}: where do you post incidents?"
body = "Hello {vendor}, where do you post incidents about the {detail}?"
"#,
    );
    let report = engine.run_now("acme-talk").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.detail.as_deref(), Some("edge node sg-3"));
    let probe = probe_mail(stack, "support@vendor.test", rec.id.as_str());
    assert!(probe.text().contains("edge node sg-3"), "{}", probe.text());
    let our_mid = rec.message_id.clone().unwrap();
    let ticket = 10_000 + (Timestamp::now().as_millisecond() % 90_000);

    // 1. The agent asks back, in the thread, with the ticket tag.
    let ask = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("ASK-{ticket}"),
        format!(
            "From: Sam at Acme <support@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: [#{ticket}] Re: your request\r\nMessage-ID: <ask-{ticket}@vendor.test>\r\n\
             In-Reply-To: <{our_mid}>\r\nReferences: <{our_mid}>\r\n\r\nHi Dana Probe,\r\n\r\n\
             before I look into this, could you tell me which account you mean (ASK-{ticket})?\r\n\r\n\
             Best,\r\nSam\r\n"
        ),
    );
    engine.watch_once("dana").await.unwrap();
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.first_human_at, Some(internaldate(&ask)));
    let q = rec.messages[0]
        .quality
        .clone()
        .expect("a human reply is judged");
    assert_eq!(q.asks_back.as_ref().map(|t| t.value), Some(true), "{q:?}");
    assert_eq!(q.answers.as_ref().map(|t| t.value), Some(false), "{q:?}");
    assert_eq!(q.language.map(|l| l.tag), Some("en".to_string()));
    assert_eq!(rec.rounds.len(), 1, "{:?}", rec.rounds);
    assert!(rec.conversation_open());

    // 2. The follow-up goes out once it is due, in the vendor's thread.
    // Due `after` the vendor's reply, by the server's clock.
    assert_eq!(
        rec.rounds[0].due_at,
        internaldate(&ask) + jiff::SignedDuration::from_secs(1)
    );
    while Timestamp::now() < rec.rounds[0].due_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = engine.converse_due().await.unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].state, support_probe::model::RoundState::Sent);
    assert!(
        engine.converse_due().await.unwrap().is_empty(),
        "at most once"
    );
    let follow = stack
        .wait_for("support@vendor.test", WAIT, |m| {
            m.header("X-Support-Probe").as_deref() == Some(rec.id.as_str())
                && m.header("In-Reply-To").is_some()
        })
        .unwrap();
    assert_eq!(
        follow.header("In-Reply-To").unwrap(),
        format!("<ask-{ticket}@vendor.test>")
    );
    let refs = follow.header("References").unwrap();
    assert!(
        refs.contains(&our_mid) && refs.contains(&format!("ask-{ticket}@vendor.test")),
        "{refs}"
    );
    assert!(
        follow
            .header("Subject")
            .unwrap()
            .contains(&format!("[#{ticket}]"))
    );
    assert!(follow.text().contains("edge node sg-3"));
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let round = rec.rounds[0].clone();
    assert_eq!(
        follow.header("Message-ID").unwrap(),
        format!("<{}>", round.message_id.clone().unwrap())
    );

    // 3. The answer to our follow-up: the round's time comes from the server.
    let answer = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("ANS-{ticket}"),
        format!(
            "From: Sam at Acme <support@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: [#{ticket}] Re: your request\r\nMessage-ID: <ans-{ticket}@vendor.test>\r\n\
             In-Reply-To: <{}>\r\n\r\nHi Dana Probe,\r\n\r\nwe post every incident at \
             https://status.vendor.test and the edge node sg-3 is fine (ANS-{ticket}).\r\n\r\nSam\r\n",
            round.message_id.clone().unwrap()
        ),
    );
    engine.watch_once("dana").await.unwrap();
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let c = rec.conversation();
    assert_eq!(c.answered_on_first_reply, Some(false));
    assert_eq!(
        c.answered_after.map(|(n, _)| n),
        Some(2),
        "answered on the second human reply"
    );
    assert_eq!(
        c.round_replies,
        vec![Some(
            internaldate(&answer).duration_since(round.sent_at.unwrap())
        )]
    );
    let last = rec
        .messages
        .iter()
        .find(|m| m.message_id.as_deref() == Some(&format!("ans-{ticket}@vendor.test")))
        .unwrap();
    assert_eq!(
        last.quality
            .as_ref()
            .and_then(|q| q.specific.as_ref())
            .map(|t| t.value),
        Some(true)
    );

    // 4. Every follow-up answered: the closing message is due, but acme's
    //    per-day cap is 2 and the probe and its follow-up used both: the
    //    closing message is skipped, never sent, and the conversation ends.
    let closing = engine.converse_due().await.unwrap();
    assert_eq!(closing.len(), 1, "{closing:?}");
    assert_eq!(
        closing[0].state,
        support_probe::model::RoundState::Skipped,
        "{closing:?}"
    );
    assert!(
        closing[0]
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("cap reached"),
        "{closing:?}"
    );
    assert!(engine.converse_due().await.unwrap().is_empty());
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert!(rec.rounds[1].closing);
    assert!(!rec.conversation_open());
    let to_vendor: Vec<_> = stack
        .fetch_all("support@vendor.test", "INBOX")
        .unwrap()
        .into_iter()
        .filter(|m| m.header("X-Support-Probe").as_deref() == Some(rec.id.as_str()))
        .collect();
    assert_eq!(
        to_vendor.len(),
        2,
        "the probe and one follow-up, nothing more"
    );

    // 5. The vendor's resolved notice: the resolution, at the server's time.
    let notice = vendor_sends(
        stack,
        "dana@probe.test",
        &format!("RES-{ticket}"),
        format!(
            "From: Acme Support <noreply@vendor.test>\r\nTo: dana@probe.test\r\n\
             Subject: Request #{ticket} has been resolved\r\nMessage-ID: <res-{ticket}@vendor.test>\r\n\
             In-Reply-To: <{our_mid}>\r\nAuto-Submitted: auto-generated\r\n\r\n\
             Your request #{ticket} has been resolved (RES-{ticket}).\r\n"
        ),
    );
    engine.watch_once("dana").await.unwrap();
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let resolution = rec.resolution.clone().expect("resolved by the notice");
    assert_eq!(resolution.at, internaldate(&notice));
    assert_eq!(
        rec.conversation().rounds_to_resolution,
        Some(2),
        "two human replies before the resolution"
    );
}
