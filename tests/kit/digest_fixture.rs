//! A fixed week of probe records for the digest tests: two vendors in
//! week 2026-W47 (Europe/Berlin) and one probe the week before, with a
//! reply subject that tries to inject markup; and that week on disk (a
//! config file and a seeded store) for the tests that run the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use support_probe::config::Config;
use support_probe::model::{
    Class, MatchedBy, MessageRecord, Origin, ProbeId, ProbeRecord, ProbeState, ReadingRow,
    TimeSource, Window,
};
use support_probe::store::{Mode, Store, StoreError};

use super::config::offline_persona;
use super::run::Out;

/// A reply subject with markup, an external image and a script.
pub const EVIL_SUBJECT: &str =
    "Re: <script>alert(\"x\")</script><img src=\"https://evil.example/t.png\"> & </td></tr>";

/// Vendors, persona and reporting zone of the fixture (the persona's
/// servers are never contacted by the render tests).
pub const VENDORS: &str = r#"
[report]
zone = "Europe/Berlin"

[[vendor]]
name = "acme"
addresses = ["support@vendor.test"]
[vendor.business-hours]
zone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]
[vendor.sla]
P1 = "1h"

[[vendor]]
name = "beta"
addresses = ["help@beta.test"]
[vendor.sla]
P1 = "1h"
"#;

/// A config with the fixture's vendors and a persona on dummy servers.
pub fn config() -> Config {
    support_probe::config::parse_str(&config_text(), Path::new("fixture.toml"))
        .unwrap()
        .config
}

/// The text of [`config`].
pub fn config_text() -> String {
    format!(
        "{VENDORS}\n{}",
        offline_persona("dana", "Dana Probe", "dana@probe.test", "region = \"eu\"\n")
    )
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn msg(n: u32, at: Timestamp, class: Class, subject: &str) -> MessageRecord {
    MessageRecord {
        key: format!("fixture:{n}:{}", at.as_second()),
        message_id: None,
        at,
        time_source: TimeSource::ImapInternaldate,
        date_header: None,
        received_header: None,
        from: Some("support@vendor.test".into()),
        subject: Some(subject.into()),
        class,
        confidence: Default::default(),
        reasons: vec![],
        relabel: None,
        matched_by: MatchedBy::Token,
        fingerprint: None,
        vendor_refs: vec![],
        notes: vec![],
        markers: vec![],
        quality: None,
    }
}

/// One probe record, recomputed from its replies like the engine does.
pub fn probe(
    n: u32,
    vendor: &str,
    filed: &str,
    window: Option<Window>,
    replies: &[(i64, Class, &str)],
    state: ProbeState,
) -> ProbeRecord {
    let at = ts(filed);
    let mut p = ProbeRecord {
        id: ProbeId::parse(&format!("01JD00000000000000000{n:05}")).unwrap(),
        token: format!("SP-{n:010}"),
        probe: format!("{vendor}-nightly"),
        vendor: vendor.into(),
        persona: "dana".into(),
        channel: "email".into(),
        watch_key: None,
        zone: "Europe/Berlin".into(),
        origin: Origin::Schedule,
        priority: Some("P1".into()),
        scheduled_for: at,
        due_at: at,
        state,
        state_reason: None,
        subject: Some(format!("Support test SP-{n:010}")),
        message_id: None,
        recipients: vec![],
        filing_started_at: Some(at),
        filed_at: (state != ProbeState::NotFiled).then_some(at),
        filed_time_source: Some(TimeSource::SmtpAccept),
        window,
        answer_within_secs: 72 * 3600,
        sla_target_secs: Some(3600),
        first_ack_at: None,
        first_human_at: None,
        first_human_key: None,
        censored_at: None,
        vendor_refs: vec![],
        messages: replies
            .iter()
            .map(|(secs, c, s)| msg(n, at + SignedDuration::from_secs(*secs), *c, s))
            .collect(),
        attempts: vec![],
        notes: vec![],
        language: None,
        detail: None,
        expect: Vec::new(),
        rounds: Vec::new(),
        resolution: None,
        resolution_unseen_at: None,
    };
    match state {
        ProbeState::Unanswered => p.censored_at = p.answer_deadline(),
        ProbeState::NotFiled => {
            p.state_reason = Some("SMTP server 127.0.0.1:587 refused the connection".into());
        }
        _ => {}
    }
    if state != ProbeState::NotFiled {
        p.recompute();
    }
    assert_eq!(p.state, state, "fixture probe {n}");
    p
}

/// The fixed data set.
pub fn probes() -> Vec<ProbeRecord> {
    use Window::*;
    let ack = "Re: Support test - we received your request";
    let human = "Re: Support test";
    vec![
        probe(
            1,
            "acme",
            "2026-11-16T08:00:00Z",
            Some(BusinessHours),
            &[(40, Class::Ack, ack), (1800, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            2,
            "acme",
            "2026-11-17T09:30:00Z",
            Some(BusinessHours),
            &[(35, Class::Ack, ack), (2400, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            3,
            "acme",
            "2026-11-18T10:00:00Z",
            Some(BusinessHours),
            &[(3000, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            4,
            "acme",
            "2026-11-16T19:00:00Z",
            Some(OffHours),
            &[(50, Class::Ack, ack), (50400, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            5,
            "acme",
            "2026-11-17T21:00:00Z",
            Some(OffHours),
            &[(45, Class::Ack, EVIL_SUBJECT)],
            ProbeState::Unanswered,
        ),
        probe(
            6,
            "acme",
            "2026-11-21T10:00:00Z",
            Some(Weekend),
            &[(172800, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            7,
            "acme",
            "2026-11-19T08:00:00Z",
            None,
            &[],
            ProbeState::NotFiled,
        ),
        probe(
            8,
            "beta",
            "2026-11-16T09:00:00Z",
            Some(BusinessHours),
            &[(5, Class::Bounce, "Undelivered Mail Returned to Sender")],
            ProbeState::Undeliverable,
        ),
        probe(
            9,
            "beta",
            "2026-11-17T09:00:00Z",
            Some(BusinessHours),
            &[(900, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            10,
            "beta",
            "2026-11-18T20:00:00Z",
            Some(OffHours),
            &[(1500, Class::Human, human)],
            ProbeState::Answered,
        ),
        // The week before (2026-W46), for the change.
        probe(
            11,
            "acme",
            "2026-11-10T09:00:00Z",
            Some(BusinessHours),
            &[(1200, Class::Human, human)],
            ProbeState::Answered,
        ),
        probe(
            12,
            "beta",
            "2026-11-10T09:00:00Z",
            Some(BusinessHours),
            &[(600, Class::Human, human)],
            ProbeState::Answered,
        ),
    ]
}

/// The instant the fixture is read at: Monday 23 Nov 2026, 09:00 Berlin.
pub fn read_at() -> Timestamp {
    ts("2026-11-23T08:00:00Z")
}

/// Writes the fixture's [`probes`] into `store`.
pub fn seed(store: &Store) {
    store
        .write(|tx| {
            for p in probes() {
                tx.put(&p)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

/// The fixture on disk: `probes.toml` (the fixture's config plus some
/// extra text) and a seeded store in `state`, both in a temporary directory.
pub struct OnDisk {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// The text of `config`, not parsed: some tests want the binary to refuse it.
    pub text: String,
    pub state: PathBuf,
    pub store: Store,
}

/// [`config_text`] and `extra_config` in a file, and a store seeded with [`probes`].
pub fn on_disk(extra_config: &str) -> OnDisk {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    let text = format!("{}\n{extra_config}", config_text());
    std::fs::write(&config, &text).unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state, Mode::Shared).unwrap();
    seed(&store);
    OnDisk {
        dir,
        config,
        text,
        state,
        store,
    }
}

impl OnDisk {
    /// `probe --config CONFIG --state-dir STATE ARGS...` on this fixture.
    pub fn probe(&self, args: &[&str]) -> Out {
        self.probe_env(args, &[])
    }

    /// [`OnDisk::probe`] with variables set in its environment.
    pub fn probe_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        super::run::probe_env(&self.config, &self.state, args, env)
    }
}

/// A reading row of [`super::config::business_vendors`]' config: probe `p`
/// of `vendor` through dana by email, filed at `filed` in `window`, a 72 h
/// answer window and a 4 h SLA, nothing known of the replies but the last
/// subject.
pub fn reading_row(
    vendor: &Arc<str>,
    state: ProbeState,
    filed: Timestamp,
    window: Window,
    first_human_at: Option<Timestamp>,
    censored_at: Option<Timestamp>,
) -> ReadingRow {
    ReadingRow {
        id: ProbeId::generate(filed),
        vendor: Arc::clone(vendor),
        probe: "p".into(),
        persona: "dana".into(),
        channel: "email".into(),
        watch_key: None,
        state,
        due_at: filed,
        filed_at: Some(filed),
        window: Some(window),
        answer_within_secs: 72 * 3600,
        sla_target_secs: Some(4 * 3600),
        first_ack_at: None,
        first_human_at,
        censored_at,
        state_reason: None,
        last_reply_subject: Some("Re: your request".into()),
        unsure: false,
        replied: state == ProbeState::Answered,
        language_match: None,
        personal: None,
        templated: None,
        specific: None,
        asks_back: None,
        answered_on_first_reply: None,
        rounds_to_resolution: None,
        time_to_resolution_secs: None,
        vendor_follow_ups: 0,
    }
}
