//! Engine tests on a manual clock with an in-memory channel: planning across
//! restarts, missed fires and clock jumps; at-most-once filing; the
//! canned-text rule; uncertain filings; expiry.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::Engine;
use crate::channel::{Channel, ChannelError, Fetched, FileOutcome, FollowUp, Inbound, Outgoing};
use crate::clock::{Clock, ManualClock};
use crate::config;
use crate::model::{Class, MatchedBy, Origin, ProbeState, TimeSource};
use crate::store::{Mode, Store};

fn config_text() -> String {
    [
        r#"
[daemon]
missed-grace = "15m"
filing-retry-window = "1m"

[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
helpdesk = "zendesk"
caps = { per-day = 5, per-week = 20 }
"#,
        &crate::testkit::persona_toml("me", "Dana Probe", "dana@probe.example", ""),
        r#"
[[probe]]
name = "nightly"
vendor = "acme"
persona = "me"
schedule = "0 30 2 * * *"
zones = ["Europe/Berlin"]
jitter = "10m"
answer-within = "1d"
subject = "Support test {token}"
body = "A scheduled support-response test."
"#,
    ]
    .concat()
}

/// A channel that accepts (or not) what it is given and hands out the
/// messages a test puts in its inbox.
#[derive(Debug, Default)]
struct TestChannel {
    /// What `file` answers; `None` = accepted at the clock's now.
    outcome: Mutex<Option<FileOutcome>>,
    sent: Mutex<Vec<Outgoing>>,
    inbox: Mutex<Vec<Inbound>>,
    clock: Option<ManualClock>,
}

#[async_trait]
impl Channel for TestChannel {
    fn kind(&self) -> &'static str {
        "email"
    }
    fn watch_key(&self) -> String {
        "test".into()
    }
    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        self.sent.lock().unwrap().push(probe.clone());
        match self.outcome.lock().unwrap().clone() {
            Some(o) => o,
            None => FileOutcome::Accepted {
                at: self.clock.as_ref().unwrap().now(),
                source: TimeSource::Simulated,
                detail: "250 ok".into(),
                ticket_ref: None,
            },
        }
    }
    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        self.file(&message.message).await
    }
    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        _since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let inbox = self.inbox.lock().unwrap();
        let from = position.and_then(|p| p.as_u64()).unwrap_or(0) as usize;
        Ok(Fetched {
            messages: inbox[from.min(inbox.len())..].to_vec(),
            position: serde_json::json!(inbox.len()),
            rescanned: false,
            more: false,
        })
    }
}

struct Rig {
    clock: ManualClock,
    channel: Arc<TestChannel>,
    engine: Engine,
}

fn rig(dir: &Path, start: &str, config_text: &str) -> Rig {
    let clock = ManualClock::new(start.parse().unwrap());
    let channel = Arc::new(TestChannel {
        clock: Some(clock.clone()),
        ..TestChannel::default()
    });
    let loaded = config::parse_str(config_text, Path::new("t.toml")).unwrap();
    let mut channels: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    channels.insert("me".into(), channel.clone());
    let store = Store::open(dir, Mode::Exclusive).unwrap();
    let engine = Engine::new(
        Arc::new(loaded.config),
        Arc::new(store),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        channels,
    )
    .unwrap()
    .with_retry_pause(std::time::Duration::from_millis(1));
    Rig {
        clock,
        channel,
        engine,
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn reply(key: &str, at: Timestamp, in_reply_to: &str, body: &str) -> Inbound {
    let raw = format!(
        "From: Acme <support@acme.zendesk.com>\r\nTo: dana@probe.example\r\nSubject: Re: test\r\n\
         Message-ID: <{key}@acme.zendesk.com>\r\nIn-Reply-To: <{in_reply_to}>\r\n\
         Auto-Submitted: auto-generated\r\nX-Mailer: Zendesk Mailer\r\n\r\n{body}\r\n"
    );
    Inbound {
        key: key.into(),
        at,
        source: TimeSource::ImapInternaldate,
        raw: raw.into_bytes(),
        probe_hint: None,
        api: None,
    }
}

#[tokio::test]
async fn the_next_fire_is_planned_once_with_its_jitter_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let first = r.engine.plan().unwrap();
    assert_eq!(first.planned.len(), 1);
    assert!(r.engine.plan().unwrap().planned.is_empty(), "planned once");
    let p = r.engine.store().get(&first.planned[0]).unwrap().unwrap();
    // 02:30 Berlin on Nov 3 is 01:30Z; jitter up to 10 minutes.
    assert_eq!(p.scheduled_for, ts("2026-11-03T01:30:00Z"));
    assert!(
        p.due_at >= p.scheduled_for && p.due_at <= p.scheduled_for + SignedDuration::from_mins(10)
    );
    assert_eq!((p.state, p.origin), (ProbeState::Planned, Origin::Schedule));
    drop(r);

    // A new process on the same store: nothing new, the same jittered time.
    let r = rig(dir.path(), "2026-11-02T13:00:00Z", &config_text());
    assert!(r.engine.plan().unwrap().planned.is_empty());
    let again = r.engine.store().get(&p.id).unwrap().unwrap();
    assert_eq!(again.due_at, p.due_at);

    // At the due time it is filed once; planning then moves to the next night.
    r.clock.set(p.due_at);
    let filed = r.engine.file_due().await.unwrap();
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].state, ProbeState::Filed);
    assert!(r.engine.file_due().await.unwrap().is_empty());
    let next = r.engine.plan().unwrap();
    assert_eq!(next.planned.len(), 1);
    let n = r.engine.store().get(&next.planned[0]).unwrap().unwrap();
    assert_eq!(n.scheduled_for, ts("2026-11-04T01:30:00Z"));
    assert_eq!(r.channel.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn fires_missed_while_down_are_skipped_not_sent_late_in_bulk() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let planned = r.engine.plan().unwrap().planned[0].clone();
    // The daemon was down for three days (or the clock jumped forward).
    r.clock.set(ts("2026-11-05T12:00:00Z"));
    let report = r.engine.plan().unwrap();
    // Nov 4 and Nov 5 02:30 Berlin were missed; Nov 6 is planned.
    assert_eq!(report.skipped.len(), 2, "{report:?}");
    assert_eq!(report.planned.len(), 1);
    let filed = r.engine.file_due().await.unwrap();
    // The Nov 3 probe, planned before the outage, is refused as missed.
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].id, planned);
    assert_eq!(filed[0].state, ProbeState::Skipped);
    assert!(filed[0].reason.as_deref().unwrap().starts_with("missed"));
    assert!(
        r.channel.sent.lock().unwrap().is_empty(),
        "nothing was sent late"
    );
    for id in &report.skipped {
        let p = r.engine.store().get(id).unwrap().unwrap();
        assert_eq!(p.state, ProbeState::Skipped);
        assert!(p.state_reason.as_deref().unwrap().contains("not running"));
    }
}

#[tokio::test]
async fn a_clock_jumping_back_does_not_fire_twice() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = r.engine.plan().unwrap().planned[0].clone();
    let due = r.engine.store().get(&id).unwrap().unwrap().due_at;
    r.clock.set(due);
    r.engine.file_due().await.unwrap();
    r.engine.plan().unwrap();
    // An NTP step back by two hours, to before the fire.
    r.clock.set(due - SignedDuration::from_hours(2));
    assert!(r.engine.plan().unwrap().planned.is_empty());
    assert!(r.engine.file_due().await.unwrap().is_empty());
    r.clock.set(due + SignedDuration::from_mins(5));
    assert!(r.engine.file_due().await.unwrap().is_empty());
    assert_eq!(r.channel.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_text_on_a_second_probe_is_canned_and_corrects_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let one = r.engine.run_now("nightly").await.unwrap().id;
    let mid1 = r
        .engine
        .store()
        .get(&one)
        .unwrap()
        .unwrap()
        .message_id
        .unwrap();
    // A Zendesk trigger reply in plain words: no automatic wording at all, so
    // on its own it reads as a person's answer.
    let text = |n: u32| {
        format!(
            "Hello Dana Probe,\r\n\r\nA member of our team will pick up ticket {n} during the next \
             shift and answer you in this thread with the details of your case.\r\n\r\nAcme"
        )
    };
    r.channel.inbox.lock().unwrap().push(reply(
        "m1",
        ts("2026-11-02T12:00:30Z"),
        &mid1,
        &text(4101),
    ));
    r.engine.watch_once("me").await.unwrap();
    let p1 = r.engine.store().get(&one).unwrap().unwrap();
    assert_eq!(p1.state, ProbeState::Answered, "read as human at first");

    r.clock.set(ts("2026-11-03T12:00:00Z"));
    let two = r.engine.run_now("nightly").await.unwrap().id;
    let mid2 = r
        .engine
        .store()
        .get(&two)
        .unwrap()
        .unwrap()
        .message_id
        .unwrap();
    r.channel.inbox.lock().unwrap().push(reply(
        "m2",
        ts("2026-11-03T12:00:20Z"),
        &mid2,
        &text(4102),
    ));
    let report = r.engine.watch_once("me").await.unwrap();
    assert_eq!(report.reclassified, 1);
    let p2 = r.engine.store().get(&two).unwrap().unwrap();
    assert_eq!(p2.messages[0].class, Class::Ack);
    assert!(p2.messages[0].reasons.iter().any(|r| r.contains("canned")));
    let p1 = r.engine.store().get(&one).unwrap().unwrap();
    assert_eq!(
        p1.state,
        ProbeState::Filed,
        "the first probe's reading is corrected"
    );
    assert_eq!(p1.messages[0].class, Class::Ack);
    assert_eq!(p1.first_ack_at, Some(ts("2026-11-02T12:00:30Z")));
    assert_eq!(p1.first_human_at, None);
}

#[tokio::test]
async fn an_unknown_outcome_is_uncertain_never_resent_and_settled_by_a_reply() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    *r.channel.outcome.lock().unwrap() = Some(FileOutcome::Unknown {
        reason: "connection reset after the data".into(),
    });
    let report = r.engine.run_now("nightly").await.unwrap();
    assert_eq!(report.state, ProbeState::Uncertain);
    assert_eq!(r.channel.sent.lock().unwrap().len(), 1, "not retried");
    assert!(r.engine.file_due().await.unwrap().is_empty());
    let rec = r.engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.filed_at, None);

    let mid = rec.message_id.unwrap();
    r.channel.inbox.lock().unwrap().push(reply(
        "h",
        ts("2026-11-02T12:20:00Z"),
        &mid,
        "Hi Dana, I reset the origin credentials for your account and everything works again.",
    ));
    r.engine.watch_once("me").await.unwrap();
    let rec = r.engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.filed_at, Some(ts("2026-11-02T12:00:00Z")));
    assert!(
        rec.notes
            .iter()
            .any(|n| n.contains("start of the send attempt")),
        "{:?}",
        rec.notes
    );
    assert_eq!(rec.messages[0].matched_by, MatchedBy::OurMessageId);
}

#[tokio::test]
async fn a_refusal_marked_not_retryable_is_not_filed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    *r.channel.outcome.lock().unwrap() = Some(FileOutcome::Rejected {
        reason: "535 authentication failed".into(),
        retryable: false,
        retry_after: None,
    });
    let report = r.engine.run_now("nightly").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled);
    assert_eq!(
        r.channel.sent.lock().unwrap().len(),
        1,
        "a refusal the channel marks not retryable is sent once"
    );
    // Not-filed probes do not use up the cap and are never the vendor's.
    let summary = crate::report::status::summarize(
        &r.engine.store().all().unwrap(),
        r.clock.now(),
        &crate::report::own::OwnSide::default(),
    );
    assert_eq!(
        (summary[0].figures().filed, summary[0].figures().not_filed),
        (0, 1)
    );
}

/// Plans the next fire and marks it `filing` at the clock's now, as a
/// process does right before it sends; returns its id.
fn begun_filing(r: &Rig) -> crate::model::ProbeId {
    let id = r.engine.plan().unwrap().planned[0].clone();
    let now = r.clock.now();
    let caps = crate::store::Caps {
        per_day: 5,
        per_week: 20,
        global_per_hour: None,
    };
    r.engine
        .store()
        .write(|tx| tx.begin_filing(&id, now, caps, None))
        .unwrap();
    id
}

#[tokio::test]
async fn a_probe_left_filing_by_a_dead_process_becomes_uncertain() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = begun_filing(&r);
    // Still inside the time a send can take: left alone.
    r.clock.advance(SignedDuration::from_mins(5));
    assert!(r.engine.recover().unwrap().is_empty());
    r.clock.advance(SignedDuration::from_mins(15));
    assert_eq!(r.engine.recover().unwrap(), vec![id.clone()]);
    let p = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(p.state, ProbeState::Uncertain);
    assert!(r.channel.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unanswered_probe_is_censored_at_its_deadline_once_the_mailbox_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = r.engine.run_now("nightly").await.unwrap().id;
    r.engine.watch_once("me").await.unwrap();
    r.clock.advance(SignedDuration::from_hours(30));
    // The mailbox was last read 30 hours ago, before the 24 h deadline.
    assert!(r.engine.expire().unwrap().is_empty());
    r.engine.watch_once("me").await.unwrap();
    assert_eq!(r.engine.expire().unwrap(), vec![id.clone()]);
    let p = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(p.state, ProbeState::Unanswered);
    assert_eq!(p.censored_at, Some(ts("2026-11-03T12:00:00Z")));
}

#[tokio::test]
async fn a_process_that_died_between_failed_attempts_did_not_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = begun_filing(&r);
    let now = r.clock.now();
    r.engine
        .store()
        .write(|tx| {
            tx.update(&id, |p| {
                p.attempts.push(crate::model::Attempt {
                    at: now,
                    outcome: format!("{}: connection refused", super::file::WILL_RETRY),
                })
            })
        })
        .unwrap();
    r.clock.advance(SignedDuration::from_mins(20));
    assert_eq!(r.engine.recover().unwrap(), vec![id.clone()]);
    let p = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(p.state, ProbeState::NotFiled);
    assert!(p.state_reason.unwrap().contains("between retries"));
}

#[tokio::test]
async fn attempts_are_recorded_once_each_with_their_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    *r.channel.outcome.lock().unwrap() = Some(FileOutcome::Rejected {
        reason: "421 try later".into(),
        retryable: true,
        retry_after: None,
    });
    // The retry window is one minute of the manual clock, which does not
    // move by itself: move it past the window from another task.
    let clock = r.clock.clone();
    let mover = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        clock.advance(SignedDuration::from_mins(2));
    });
    let report = r.engine.run_now("nightly").await.unwrap();
    mover.await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled);
    let p = r.engine.store().get(&report.id).unwrap().unwrap();
    assert!(p.attempts.len() >= 2, "{:?}", p.attempts);
    assert!(p.attempts.iter().all(|a| a.outcome != super::file::SENDING));
    assert!(
        p.attempts[..p.attempts.len() - 1]
            .iter()
            .all(|a| a.outcome.starts_with(super::file::WILL_RETRY))
    );
    assert_eq!(p.attempts.last().unwrap().outcome, "failed: 421 try later");
}

#[tokio::test]
async fn a_reply_recorded_while_still_filing_settles_the_probe_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = begun_filing(&r);
    let mid = "crash-after-250@probe.example";
    r.engine
        .store()
        .write(|tx| tx.update(&id, |p| p.message_id = Some(mid.into())))
        .unwrap();
    // The process died after the server's 250; the vendor answered at once.
    r.channel.inbox.lock().unwrap().push(reply(
        "h",
        ts("2026-11-02T12:03:00Z"),
        mid,
        "Hi Dana, I reset the origin credentials for your account and everything works again.",
    ));
    r.engine.watch_once("me").await.unwrap();
    assert_eq!(
        r.engine.store().get(&id).unwrap().unwrap().state,
        ProbeState::Filing
    );
    r.clock.advance(SignedDuration::from_mins(20));
    assert_eq!(r.engine.recover().unwrap(), vec![id.clone()]);
    let p = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(
        p.state,
        ProbeState::Answered,
        "the reply proves receipt: {p:#?}"
    );
    assert_eq!(p.filed_at, p.filing_started_at);
}

fn inbound(key: &str, at: Timestamp, raw: Vec<u8>) -> Inbound {
    Inbound {
        key: key.into(),
        at,
        source: TimeSource::ImapInternaldate,
        raw,
        probe_hint: None,
        api: None,
    }
}

/// The message mail-parser 0.11.9's debug build panics on, with the
/// probe's subject line in front (so the byte scan can match it).
fn unreadable_reply(token: &str) -> Vec<u8> {
    let fixture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/crash/mail-parser-invalid-part-id.eml"),
    )
    .unwrap();
    let mut raw = format!("Subject: Re: Support test {token}\n").into_bytes();
    raw.extend(fixture);
    raw
}

#[tokio::test]
async fn a_message_the_parser_panics_on_is_recorded_unsure_and_the_checkpoint_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_text());
    let id = r.engine.run_now("nightly").await.unwrap().id;
    let token = r.engine.store().get(&id).unwrap().unwrap().token;
    let raw = unreadable_reply(&token);
    #[cfg(debug_assertions)]
    {
        // The variant still panics the parser itself (debug builds assert).
        let bare = std::panic::catch_unwind(|| crate::classify::parse(&raw));
        assert!(bare.is_err(), "the reproducer no longer panics the parser");
    }
    r.channel
        .inbox
        .lock()
        .unwrap()
        .push(inbound("crash", ts("2026-11-02T12:05:00Z"), raw));
    let report = r.engine.watch_once("me").await.unwrap();
    assert_eq!(report.recorded.len(), 1, "{report:?}");
    let p = r.engine.store().get(&id).unwrap().unwrap();
    let m = &p.messages[0];
    assert_eq!(m.class, Class::Human);
    assert_eq!(m.matched_by, MatchedBy::Token);
    if cfg!(debug_assertions) {
        assert_eq!(m.confidence, crate::model::Confidence::Unsure, "{m:?}");
        assert!(m.reasons[0].contains("could not be read"), "{m:?}");
        assert!(p.rests_on_unsure());
    }
    // The checkpoint moved past it: the next pass reads nothing again.
    let cursor = r.engine.store().cursor("test").unwrap().unwrap();
    assert_eq!(cursor.position, serde_json::json!(1));
    let again = r.engine.watch_once("me").await.unwrap();
    assert_eq!(again.seen, 0);
}

fn config_acme_domain() -> String {
    [
        r#"
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
caps = { per-day = 5, per-week = 20 }

[[vendor]]
name = "globex"
addresses = ["help@globex.example"]
"#,
        &crate::testkit::persona_toml("me", "Dana Probe", "dana@probe.example", ""),
        r#"
[[probe]]
name = "nightly"
vendor = "acme"
persona = "me"
schedule = "0 30 2 * * *"
zones = ["UTC"]
answer-within = "1d"
subject = "Support test {token}"
body = "A scheduled support-response test."
"#,
    ]
    .concat()
}

fn fresh_mail(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: dana@probe.example\r\nSubject: {subject}\r\n\
         Message-ID: <{}@x.example>\r\n\r\n{body}\r\n",
        subject.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn a_vendor_reply_that_threads_to_nothing_is_kept_once_with_the_likely_probe() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config_acme_domain());
    // A reply before any probe is open is not kept: nothing it could answer.
    r.channel.inbox.lock().unwrap().push(inbound(
        "early",
        ts("2026-11-02T11:00:00Z"),
        fresh_mail(
            "sam@acme.example",
            "Hello",
            "An early note about nothing in particular today.",
        ),
    ));
    r.engine.watch_once("me").await.unwrap();
    let older = r.engine.run_now("nightly").await.unwrap().id;
    r.clock.set(ts("2026-11-02T13:00:00Z"));
    let newer = r.engine.run_now("nightly").await.unwrap().id;
    let body =
        "Hi Dana, I looked into the cache problem you described and purged the zone; it works now.";
    let inbox = [
        // An agent answering from her own mailbox, fresh subject, no headers.
        inbound(
            "agent",
            ts("2026-11-02T13:40:00Z"),
            fresh_mail("Sam <sam@mail.acme.example>", "Your cache question", body),
        ),
        // Unrelated senders and our own mail looping back are not kept.
        inbound(
            "spam",
            ts("2026-11-02T13:41:00Z"),
            fresh_mail(
                "offers@shop.example",
                "Deals",
                "Buy now, the best deals of the week for you.",
            ),
        ),
        inbound(
            "loop",
            ts("2026-11-02T13:42:00Z"),
            fresh_mail(
                "dana@probe.example",
                "Note to self",
                "Remember to check the acme probes later.",
            ),
        ),
        // Another vendor with no probe open: not kept.
        inbound(
            "globex",
            ts("2026-11-02T13:43:00Z"),
            fresh_mail(
                "help@globex.example",
                "Newsletter",
                "Our product news for this month, in brief.",
            ),
        ),
    ];
    r.channel.inbox.lock().unwrap().extend(inbox.clone());
    let report = r.engine.watch_once("me").await.unwrap();
    assert_eq!(report.unmatched, 4, "{report:?}");
    assert_eq!(report.kept_unmatched, 1, "{report:?}");
    let kept = r.engine.store().unmatched().unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let u = &kept[0];
    assert_eq!(u.key, "agent");
    assert_eq!(u.vendor, "acme");
    assert_eq!(
        u.likely_probe, newer,
        "the newest open probe filed before it"
    );
    assert_ne!(u.likely_probe, older);
    assert_eq!(u.at, ts("2026-11-02T13:40:00Z"));
    assert_eq!(u.class, Class::Human, "{u:?}");
    assert!(u.why.contains("acme.example"), "{}", u.why);
    assert!(u.attached.is_none());
    // Neither probe changed: only a person ties it to one.
    let p = r.engine.store().get(&newer).unwrap().unwrap();
    assert_eq!(p.state, ProbeState::Filed);
    assert!(p.messages.is_empty());

    // The same message read again (a rescan) is one row.
    r.channel.inbox.lock().unwrap().extend(inbox);
    let again = r.engine.watch_once("me").await.unwrap();
    assert_eq!(again.kept_unmatched, 0, "{again:?}");
    assert_eq!(r.engine.store().unmatched().unwrap().len(), 1);
}

/// A follow-up the vendor never answers is censored at its deadline, but
/// only once the mailbox was read that far (our lag is not the vendor's
/// silence); then the closing message goes out, once.
#[tokio::test]
async fn an_unanswered_follow_up_is_censored_once_the_mailbox_was_read_past_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_text().replace(
        "answer-within = \"1d\"",
        "answer-within = \"1d\"\nfollow-ups = [{ after = \"10m\", body = \"Anything else?\" }]\nclosing-message = \"Thanks, this was a test.\"",
    );
    let r = rig(dir.path(), "2026-11-02T12:00:00Z", &config);
    let id = r.engine.run_now("nightly").await.unwrap().id;
    let mid = r
        .engine
        .store()
        .get(&id)
        .unwrap()
        .unwrap()
        .message_id
        .unwrap();
    r.channel.inbox.lock().unwrap().push(reply(
        "h1",
        ts("2026-11-02T12:30:00Z"),
        &mid,
        "Hi Dana, we checked your account and everything is in order on our side.",
    ));
    r.clock.set(ts("2026-11-02T12:35:00Z"));
    r.engine.watch_once("me").await.unwrap();
    r.clock.set(ts("2026-11-02T12:40:00Z"));
    let sent = r.engine.converse_due().await.unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        r.channel.sent.lock().unwrap().len(),
        2,
        "the probe and the follow-up"
    );
    let rec = r.engine.store().get(&id).unwrap().unwrap();
    let round_sent = rec.rounds[0].sent_at.unwrap();
    assert_eq!(round_sent, ts("2026-11-02T12:40:00Z"));

    // Past the round's deadline, but the mailbox was last read before it.
    r.clock.set(ts("2026-11-03T13:00:00Z"));
    r.engine.expire().unwrap();
    let rec = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(rec.rounds[0].censored_at, None, "not read that far yet");
    assert!(rec.conversation_open());

    // Read now: censored at the deadline, the conversation over, closing due.
    r.engine.watch_once("me").await.unwrap();
    r.engine.expire().unwrap();
    let rec = r.engine.store().get(&id).unwrap().unwrap();
    assert_eq!(
        rec.rounds[0].censored_at,
        Some(round_sent + SignedDuration::from_hours(24))
    );
    assert_eq!(rec.conversation().round_replies, vec![None]);
    assert_eq!(rec.state, ProbeState::Answered, "the first reading stays");
    let closing = r.engine.converse_due().await.unwrap();
    assert_eq!(closing.len(), 1);
    assert!(r.engine.converse_due().await.unwrap().is_empty());
    let sent = r.channel.sent.lock().unwrap();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2].body, "Thanks, this was a test.");
}
