//! Clock jumps (NTP steps, suspend and resume) against the real engine and
//! store on a manual clock: a jump forward never releases a burst of
//! catch-up fires, and a jump back never fires a schedule instant twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use support_probe::channel::{Channel, ChannelError, Fetched, FileOutcome, Outgoing};
use support_probe::clock::{Clock, ManualClock};
use support_probe::engine::Engine;
use support_probe::model::{ProbeState, TimeSource};
use support_probe::store::{Mode, Store};

use crate::kit::config::{ConfigText, Probe, Vendor, offline_persona};

/// Every minute, generous caps: only the schedule logic limits what is sent.
fn config_text() -> String {
    ConfigText::new()
        .section("[daemon]\nmissed-grace = \"15m\"")
        .vendor(
            Vendor::new("acme")
                .address("support@acme.example")
                .caps(24, 100),
        )
        .persona(&offline_persona(
            "me",
            "Dana Probe",
            "dana@probe.example",
            "",
        ))
        .probe(
            Probe::new("minutely", "acme", "me")
                .schedule("0 * * * * *")
                .body("A scheduled support-response test."),
        )
        .build()
}

/// Accepts everything at the manual clock's time and remembers it.
#[derive(Debug)]
struct Accepting {
    clock: ManualClock,
    sent: Mutex<Vec<Outgoing>>,
}

#[async_trait]
impl Channel for Accepting {
    fn kind(&self) -> &'static str {
        "email"
    }
    fn watch_key(&self) -> String {
        "test".into()
    }
    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        self.sent.lock().unwrap().push(probe.clone());
        FileOutcome::Accepted {
            at: self.clock.now(),
            source: TimeSource::Simulated,
            detail: "250 ok".into(),
            ticket_ref: None,
        }
    }
    async fn fetch(
        &self,
        _position: Option<&serde_json::Value>,
        _since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        Ok(Fetched {
            messages: vec![],
            position: serde_json::json!(0),
            rescanned: false,
            more: false,
        })
    }
}

fn rig(dir: &Path, start: &str) -> (ManualClock, Arc<Accepting>, Engine) {
    let clock = ManualClock::new(start.parse().unwrap());
    let channel = Arc::new(Accepting {
        clock: clock.clone(),
        sent: Mutex::new(vec![]),
    });
    let config = support_probe::config::parse_str(&config_text(), Path::new("t.toml"))
        .unwrap()
        .config;
    let mut channels: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    channels.insert("me".into(), channel.clone());
    let engine = Engine::new(
        Arc::new(config),
        Arc::new(Store::open(dir, Mode::Exclusive).unwrap()),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        channels,
    )
    .unwrap();
    (clock, channel, engine)
}

/// One daemon pass, as `daemon::step` runs it.
async fn pass(engine: &Engine) {
    engine.recover().unwrap();
    engine.plan().unwrap();
    engine.file_due().await.unwrap();
}

/// The schedule instants of every probe that may have reached the vendor.
fn sent_fires(engine: &Engine) -> Vec<Timestamp> {
    engine
        .store()
        .all()
        .unwrap()
        .into_iter()
        .filter(|p| p.state.may_have_reached_vendor())
        .map(|p| p.scheduled_for)
        .collect()
}

#[tokio::test]
async fn a_jump_forward_sends_one_catch_up_fire_not_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, channel, engine) = rig(dir.path(), "2026-11-02T12:00:30Z");
    pass(&engine).await; // plans 12:01
    clock.set("2026-11-02T12:01:00Z".parse().unwrap());
    pass(&engine).await;
    assert_eq!(channel.sent.lock().unwrap().len(), 1);

    // Suspended for 10 minutes (within missed-grace): ten fires are due at
    // once after resume; exactly one is sent, the latest.
    clock.set("2026-11-02T12:11:30Z".parse().unwrap());
    pass(&engine).await;
    let fires = sent_fires(&engine);
    assert_eq!(fires.len(), 2, "{fires:?}");
    assert_eq!(
        fires[1],
        "2026-11-02T12:11:00Z".parse::<Timestamp>().unwrap()
    );
    let all = engine.store().all().unwrap();
    let superseded = all
        .iter()
        .filter(|p| {
            p.state == ProbeState::Skipped
                && p.state_reason
                    .as_deref()
                    .is_some_and(|r| r.contains("a later fire of this schedule was due too"))
        })
        .count();
    assert_eq!(superseded, 9, "12:02 to 12:10 are skipped with the reason");

    // An NTP step forward by 6 hours: fires beyond missed-grace are skipped as
    // missed, those within it superseded by the latest; again one send.
    clock.advance(SignedDuration::from_hours(6));
    pass(&engine).await;
    assert_eq!(channel.sent.lock().unwrap().len(), 3);
    let now = clock.now();
    let last = *sent_fires(&engine).iter().max().unwrap();
    assert!(
        now.duration_since(last) < SignedDuration::from_mins(1),
        "the catch-up fire is the latest one"
    );
    // Nothing planned is left overdue to go out later in bulk.
    let overdue = engine
        .store()
        .active()
        .unwrap()
        .into_iter()
        .filter(|p| p.state == ProbeState::Planned && p.due_at <= now)
        .count();
    assert_eq!(overdue, 0);
}

#[tokio::test]
async fn jumps_back_and_forth_never_send_a_fire_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, channel, engine) = rig(dir.path(), "2026-11-02T12:00:30Z");
    // Run minute by minute, with the clock stepped back an hour twice and
    // forward again, as a confused NTP or a VM restored from a snapshot would.
    let mut t: Timestamp = "2026-11-02T12:00:30Z".parse().unwrap();
    for i in 0..40 {
        t = match i {
            10 | 25 => t - SignedDuration::from_hours(1),
            18 | 33 => t + SignedDuration::from_hours(1),
            _ => t + SignedDuration::from_mins(1),
        };
        clock.set(t);
        pass(&engine).await;
    }
    let fires = sent_fires(&engine);
    let unique: BTreeSet<Timestamp> = fires.iter().copied().collect();
    assert_eq!(
        unique.len(),
        fires.len(),
        "a schedule instant was sent twice: {fires:?}"
    );
    assert_eq!(channel.sent.lock().unwrap().len(), fires.len());
    // Each message went out once: distinct Message-IDs.
    let ids: BTreeSet<String> = channel
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|o| o.message_id.clone())
        .collect();
    assert_eq!(ids.len(), fires.len());
    // Nothing was sent before its instant, whatever the clock did (the
    // store's order is by id, and ids follow the clock, so order is no test).
    for p in engine.store().all().unwrap() {
        if p.state.may_have_reached_vendor() {
            assert!(p.filing_started_at.unwrap() >= p.scheduled_for, "{p:?}");
        }
    }
}
