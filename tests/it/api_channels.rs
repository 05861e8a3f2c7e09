//! Ticket-API channels end to end against stateful fakes of each vendor's
//! API (`tests/kit/fake_api.rs`): filing, reading across pages, authorship,
//! exact readings, rate limits and server errors, a create that times out
//! (uncertain, never a second ticket, resolved by token search), the
//! closing courtesy, clock skew, and a new API described only in config.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::kit::config::{self as kit_config, ConfigText, Probe, Vendor};
use crate::kit::fake_api::{Fake, Fault, Flavor, Line, Who};
use jiff::{SignedDuration, Timestamp};
use support_probe::channel::Channel;
use support_probe::channel::http::{HttpChannel, NoHook, build, presets};
use support_probe::clock::{Clock, ManualClock};
use support_probe::config::{self, SecretString};
use support_probe::engine::Engine;
use support_probe::model::{Class, ProbeRecord, ProbeState, TimeSource};
use support_probe::store::{Mode, Store};

const ACK: &str = "Your request has been received and is being reviewed by our support staff.";
const HUMAN: &str = "Hi Dana, the export fails because of the date filter. Remove it and run the export again, then tell me if the file arrives.";
const OURS: &str = "Adding a detail: it happens on every export.";
const BYSTANDER: &str = "Same problem here, any news?";
const BOT: &str = "Build 1234 deployed to staging.";
const CLOSING: &str = "Thanks, this was a scheduled support-response test; please close it.";

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn line(after: SignedDuration, who: Who, body: &str) -> Line {
    Line {
        after,
        who,
        body: body.to_string(),
    }
}

/// The standard script: an automation acknowledgement, our own follow-up,
/// a bystander, the first human answer, a bot.
fn script(flavor: Flavor) -> Vec<Line> {
    let staff = if flavor == Flavor::Github {
        // A private org member: author_association says CONTRIBUTOR.
        Who::PrivateMember
    } else {
        Who::Staff
    };
    let mut s = vec![
        line(mins(2), Who::Automation, ACK),
        line(mins(10), Who::Us, OURS),
        line(mins(45), staff, HUMAN),
        line(mins(50), Who::Bot, BOT),
    ];
    if flavor != Flavor::Jsm {
        // JSM treats every public commenter but us and automation as staff.
        s.push(line(mins(20), Who::Bystander, BYSTANDER));
    }
    s
}

/// The `[persona.api]` table of `flavor` against `base`, with the closing courtesy.
fn api_table(flavor: Flavor, base: &str) -> String {
    let mut extra = format!("closing-message = \"{CLOSING}\"\n");
    if matches!(flavor, Flavor::Zendesk | Flavor::Github) {
        extra.push_str("mark-solved = true\n");
    }
    let mut api = kit_config::api_table(flavor, base, "{ env = \"SP_TEST_TOKEN\" }", &extra);
    if flavor == Flavor::Helpy {
        api.push_str(
            "[persona.api.spec.close]\nmethod = \"POST\"\nurl = \"/v1/tickets/{ticket}/posts\"\n\
             body = { content = \"{message}\" }\n",
        );
    }
    api
}

/// A whole config: one API-only vendor, one API persona, one probe.
fn config_text(flavor: Flavor, base: &str, state_dir: Option<&Path>) -> String {
    let mut text = ConfigText::new();
    if let Some(d) = state_dir {
        text = text.section(&format!("[daemon]\nstate-dir = \"{}\"", d.display()));
    }
    text.vendor(Vendor::new("acme").caps(5, 20))
        .persona(&kit_config::api_persona(
            "dana",
            "Dana Probe",
            "dana@probe.example",
            &api_table(flavor, base),
        ))
        .probe(
            Probe::new("acme-api", "acme", "dana")
                .schedule("0 0 9 * * mon")
                .line("answer-within = \"2d\"")
                .subject("Export question {token}")
                .body(
                    "Our nightly export stopped arriving. Can you help? (A scheduled support-response test.)",
                ),
        )
        .build()
}

struct Rig {
    fake: Fake,
    clock: Arc<ManualClock>,
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn t0() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

async fn rig(flavor: Flavor, script: Vec<Line>) -> Rig {
    rig_edited(flavor, script, |t| t).await
}

/// A rig whose config text is first changed by `edit`.
async fn rig_edited(flavor: Flavor, script: Vec<Line>, edit: fn(String) -> String) -> Rig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = Arc::new(ManualClock::new(t0()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let fake = Fake::start(flavor, Arc::clone(&dyn_clock), script).await;
    let text = edit(config_text(flavor, &fake.base, None));
    let loaded = config::parse_str(&text, Path::new("probes.toml")).unwrap();
    let cfg = loaded.config;
    let persona = cfg.persona("dana").unwrap().clone();
    let api = persona.api.clone().unwrap();
    let mut settings = build::settings(
        &persona,
        &api,
        Some(SecretString::new("secret-token".into())),
    );
    // Short pauses so that the fault tests run quickly; the create timeout
    // must stay well above a loopback round trip.
    settings.timeout = Duration::from_millis(700);
    settings.backoff = Duration::from_millis(20);
    let channel = match presets::find(&api.preset) {
        Some(p) => HttpChannel::new(settings, (p.spec)(), (p.hook)(), Arc::clone(&dyn_clock)),
        None => HttpChannel::new(
            settings,
            api.spec.clone().unwrap(),
            Arc::new(NoHook),
            Arc::clone(&dyn_clock),
        ),
    }
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
    let mut channels: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    channels.insert("dana".into(), Arc::new(channel));
    let engine = Engine::new(Arc::new(cfg), Arc::new(store), dyn_clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(20));
    Rig {
        fake,
        clock,
        engine,
        _dir: dir,
    }
}

impl Rig {
    fn record(&self) -> ProbeRecord {
        let all = self.engine.store().all().unwrap();
        assert_eq!(all.len(), 1, "one probe");
        all.into_iter().next().unwrap()
    }

    fn list_requests(&self) -> usize {
        self.fake.with(|s| {
            s.log
                .iter()
                .filter(|l| {
                    l.starts_with("GET")
                        && (l.contains("/comment") || l.contains("replies") || l.contains("/posts"))
                })
                .count()
        })
    }
}

/// Files, reads across pages through a 429 and a 500, and checks every
/// reading exactly; then the courtesy and a quiet second pass.
async fn files_and_reads(flavor: Flavor) {
    let rig = rig(flavor, script(flavor)).await;
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let ticket = rig.fake.with(|s| s.tickets[0].id.clone());
    let rec = rig.record();
    assert_eq!(rec.filed_at, Some(t0()));
    assert_eq!(rec.filed_time_source, Some(TimeSource::ApiCreated));
    assert_eq!(rec.vendor_refs, vec![ticket.clone()]);
    assert_eq!(
        rec.channel,
        presets::find(&format!("{flavor:?}").to_lowercase()).map_or("http", |p| p.name)
    );
    // The token went into the ticket.
    assert!(
        rig.fake
            .with(|s| s.tickets[0].request.to_string().contains(&rec.token))
    );

    // Nothing yet: the script starts two minutes after filing.
    let first = rig.engine.watch_once("dana").await.unwrap();
    assert!(first.recorded.is_empty(), "{first:?}");

    rig.fake.with(|s| {
        let rate_limit = if s.flavor == Flavor::Slack {
            Fault::SlackRateLimited(1)
        } else {
            Fault::Status(429, Some(1))
        };
        s.list_faults.push_back(rate_limit);
        s.list_faults.push_back(Fault::Status(500, None));
    });
    let before = rig.list_requests();
    rig.clock.advance(SignedDuration::from_hours(1));
    let report = rig.engine.watch_once("dana").await.unwrap();
    let got: Vec<(Class, Timestamp)> = report.recorded.iter().map(|r| (r.class, r.at)).collect();
    assert_eq!(
        got,
        vec![
            (Class::Ack, t0() + mins(2)),
            (Class::Human, t0() + mins(45)),
            (Class::Automated, t0() + mins(50)),
        ],
        "{flavor:?}: {report:?}"
    );
    // 429, 500, then at least two pages of messages.
    assert!(
        rig.list_requests() - before >= 4,
        "{:?}",
        rig.fake.with(|s| s.log.clone())
    );

    let rec = rig.record();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.first_ack_at, Some(t0() + mins(2)));
    assert_eq!(rec.first_human_at, Some(t0() + mins(45)));
    assert_eq!(rec.time_to_first_human(), Some(mins(45)));
    assert_eq!(rec.time_to_first_ack(), Some(mins(2)));
    let human = rec
        .messages
        .iter()
        .find(|m| m.class == Class::Human)
        .unwrap();
    assert!(
        human.reasons[0].starts_with("author is vendor staff"),
        "{:?}",
        human.reasons
    );
    assert_eq!(human.time_source, TimeSource::ApiCreated);
    if flavor == Flavor::Github {
        // Only the org-membership hook can tell: the comment says CONTRIBUTOR.
        assert!(
            human.reasons[0].contains("carol is a member of acme"),
            "{:?}",
            human.reasons
        );
    }

    // The courtesy: posted once, recorded.
    let (posted, solved) = rig
        .fake
        .with(|s| (s.tickets[0].posted.clone(), s.tickets[0].solved));
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].1, CLOSING);
    assert_eq!(solved, matches!(flavor, Flavor::Zendesk | Flavor::Github));
    assert!(
        rec.notes
            .iter()
            .any(|n| n.starts_with("etiquette: posted the closing message")),
        "{:?}",
        rec.notes
    );

    // Reading again finds nothing new (our closing message is ours) and
    // never posts the courtesy twice.
    rig.clock.advance(SignedDuration::from_hours(1));
    let again = rig.engine.watch_once("dana").await.unwrap();
    assert!(again.recorded.is_empty(), "{again:?}");
    assert_eq!(rig.fake.with(|s| s.tickets[0].posted.len()), 1);
    assert_eq!(rig.fake.with(|s| s.creates), 1);
}

/// A create the vendor processed but answered too late: uncertain, no
/// second ticket; the token search then finds the ticket.
async fn create_timeout_is_uncertain_then_resolved(flavor: Flavor) {
    let rig = rig(flavor, script(flavor)).await;
    rig.fake.with(|s| {
        s.create_faults
            .push_back(Fault::Stall(Duration::from_secs(3)))
    });
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Uncertain, "{report:?}");
    assert!(report.reason.unwrap().contains("may or may not"));
    assert_eq!(rig.fake.with(|s| (s.creates, s.tickets.len())), (1, 1));

    rig.clock.advance(SignedDuration::from_hours(1));
    let report = rig.engine.watch_once("dana").await.unwrap();
    let rec = rig.record();
    let ticket = rig.fake.with(|s| s.tickets[0].id.clone());
    assert_eq!(rec.vendor_refs, vec![ticket]);
    assert_eq!(rec.filed_at, Some(t0()), "the ticket's own creation time");
    assert!(
        rec.notes
            .iter()
            .any(|n| n.contains("was resolved: a search for"))
    );
    // Resolved before reading, so this very pass read the replies.
    assert_eq!(rec.state, ProbeState::Answered, "{report:?}");
    assert_eq!(rec.first_human_at, Some(t0() + mins(45)));
    assert_eq!(rig.fake.with(|s| (s.creates, s.tickets.len())), (1, 1));
}

#[tokio::test]
async fn zendesk_files_and_reads() {
    files_and_reads(Flavor::Zendesk).await;
}

#[tokio::test]
async fn jsm_files_and_reads() {
    files_and_reads(Flavor::Jsm).await;
}

#[tokio::test]
async fn github_files_and_reads() {
    files_and_reads(Flavor::Github).await;
}

#[tokio::test]
async fn slack_files_and_reads() {
    files_and_reads(Flavor::Slack).await;
}

#[tokio::test]
async fn generic_api_from_config_files_and_reads() {
    files_and_reads(Flavor::Helpy).await;
}

#[tokio::test]
async fn zendesk_create_timeout() {
    create_timeout_is_uncertain_then_resolved(Flavor::Zendesk).await;
}

#[tokio::test]
async fn jsm_create_timeout() {
    create_timeout_is_uncertain_then_resolved(Flavor::Jsm).await;
}

#[tokio::test]
async fn github_create_timeout() {
    create_timeout_is_uncertain_then_resolved(Flavor::Github).await;
}

#[tokio::test]
async fn slack_create_timeout() {
    create_timeout_is_uncertain_then_resolved(Flavor::Slack).await;
}

#[tokio::test]
async fn idempotency_key_makes_a_timed_out_create_safe_to_repeat() {
    let rig = rig(Flavor::Helpy, script(Flavor::Helpy)).await;
    rig.fake.with(|s| {
        s.create_faults
            .push_back(Fault::Stall(Duration::from_secs(3)))
    });
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    // Sent twice with the same key; the API made one ticket.
    assert_eq!(rig.fake.with(|s| (s.creates, s.tickets.len())), (2, 1));
    let rec = rig.record();
    assert_eq!(
        rig.fake.with(|s| s.tickets[0].idempotency_key.clone()),
        Some(rec.id.to_string())
    );
    assert_eq!(rec.filed_at, Some(t0()));
}

#[tokio::test]
async fn a_rate_limited_create_is_retried_by_the_engine_and_files_once() {
    let rig = rig(Flavor::Zendesk, script(Flavor::Zendesk)).await;
    rig.fake
        .with(|s| s.create_faults.push_back(Fault::Status(429, Some(1))));
    let started = std::time::Instant::now();
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    // The retry waited for the vendor's `Retry-After: 1`, not just the
    // engine's own (much shorter) retry pause.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "retried after {:?}",
        started.elapsed()
    );
    // Two create requests reached the API; the refused one made nothing.
    assert_eq!(
        rig.fake
            .with(|s| s.log.iter().filter(|l| l.starts_with("POST")).count()),
        2
    );
    assert_eq!(rig.fake.with(|s| (s.creates, s.tickets.len())), (1, 1));
    let rec = rig.record();
    assert_eq!(rec.attempts.len(), 2);
    assert!(
        rec.attempts[0].outcome.contains("rate-limited"),
        "{:?}",
        rec.attempts
    );
}

#[tokio::test]
async fn a_server_error_on_create_is_uncertain_not_retried() {
    let rig = rig(Flavor::Github, script(Flavor::Github)).await;
    rig.fake
        .with(|s| s.create_faults.push_back(Fault::Status(502, None)));
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Uncertain, "{report:?}");
    // Sent once, never repeated.
    assert_eq!(
        rig.fake
            .with(|s| s.log.iter().filter(|l| l.starts_with("POST")).count()),
        1
    );
}

#[tokio::test]
async fn a_reply_stamped_before_the_filing_is_flagged_never_negative() {
    let script = vec![line(SignedDuration::from_secs(-30), Who::Staff, HUMAN)];
    let rig = rig(Flavor::Zendesk, script).await;
    rig.engine.run_now("acme-api").await.unwrap();
    rig.clock.advance(mins(5));
    rig.engine.watch_once("dana").await.unwrap();
    let rec = rig.record();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.time_to_first_human(), Some(SignedDuration::ZERO));
    assert!(
        rec.notes.iter().any(|n| n.starts_with("clock skew:")),
        "{:?}",
        rec.notes
    );
    let note = &rec.messages[0].notes[0];
    assert!(note.contains("2026-11-23T08:59:30Z"), "{note}");
}

#[tokio::test]
async fn a_bystander_is_not_an_answer_and_the_deadline_censors() {
    let script = vec![line(mins(5), Who::Bystander, BYSTANDER)];
    let rig = rig(Flavor::Github, script).await;
    rig.engine.run_now("acme-api").await.unwrap();
    rig.clock.advance(SignedDuration::from_hours(49));
    let report = rig.engine.watch_once("dana").await.unwrap();
    assert!(report.recorded.is_empty());
    assert_eq!(report.unmatched, 1);
    let expired = rig.engine.expire().unwrap();
    assert_eq!(expired.len(), 1);
    let rec = rig.record();
    assert_eq!(rec.state, ProbeState::Unanswered);
    assert_eq!(rec.censored_at, Some(t0() + SignedDuration::from_hours(48)));
}

/// The example config's API probes (commented out there because they need
/// real credentials) validate once uncommented.
#[test]
fn the_example_api_probes_validate() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("probes.toml")).unwrap();
    let start = text.find("# --- API probes").expect("the API section");
    let end = text.find("# --- end of API probes").expect("its end");
    let mut uncommented = text[..start].to_string();
    for l in text[start..end].lines().skip(1) {
        let l = l
            .strip_prefix("# ")
            .or_else(|| l.strip_prefix('#'))
            .unwrap_or(l);
        uncommented.push_str(l);
        uncommented.push('\n');
    }
    uncommented.push_str(&text[end..]);
    let loaded = config::parse_str(&uncommented, Path::new("probes.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    let presets: Vec<String> = loaded
        .config
        .personas
        .iter()
        .filter_map(|p| p.api.as_ref().map(|a| a.preset.clone()))
        .collect();
    assert_eq!(presets, ["zendesk", "jsm", "github", "slack"]);
    assert!(loaded.config.probes.len() >= 4);
}

/// Config mistakes in `[persona.api]` are reported with their position.
#[test]
fn api_config_errors_have_positions() {
    let text = config_text(Flavor::Jsm, "http://example.com", None)
        .replace("service_desk_id = \"1\", ", "")
        .replace(
            "account_id = \"acc-us\"",
            "account_id = \"acc-us\", color = \"red\"",
        );
    let err = config::parse_str(&text, Path::new("probes.toml")).unwrap_err();
    let all = err.to_string();
    assert!(
        all.contains("probes.toml:11:10: preset `jsm` needs params.service_desk_id"),
        "{all}"
    );
    assert!(
        all.contains("plain http is only allowed for 127.0.0.1"),
        "{all}"
    );
    assert!(all.contains("has no param `color`"), "{all}");

    let generic = config_text(Flavor::Helpy, "http://127.0.0.1:9", None)
        .replace("\"{me}\"", "\"{myself}\"")
        .replace("\"/data/ticket_id\"", "\"data/ticket_id\"");
    let err = config::parse_str(&generic, Path::new("probes.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("probes.toml:18:1: ticket-id `data/ticket_id` is not a JSON pointer"),
        "{err}"
    );
    assert!(
        err.contains("probes.toml:18:1: the spec uses {myself}, which is neither a params key"),
        "{err}"
    );
}

/// `probe run --vendor acme --wait` files through the API, follows the
/// ticket until a human answers, and `probe show` prints the reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_binary_run_wait_and_show_against_a_fake() {
    let clock: Arc<dyn Clock> = Arc::new(support_probe::clock::SystemClock);
    let script = vec![
        line(SignedDuration::ZERO, Who::Automation, ACK),
        line(SignedDuration::from_secs(2), Who::Staff, HUMAN),
    ];
    let fake = Fake::start(Flavor::Zendesk, clock, script).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = dir.path().join("probes.toml");
    let text = config_text(Flavor::Zendesk, &fake.base, Some(&state)).replace(
        "mark-solved = true\n",
        "mark-solved = true\npoll-interval = \"1s\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let probe = |args: Vec<&'static str>| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            crate::kit::run::command(&config, None)
                .args(args)
                .env("SP_TEST_TOKEN", "secret-token")
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        })
    };
    let dry = probe(vec!["run", "--vendor", "acme", "--dry-run"])
        .await
        .unwrap();
    let dry_out = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(dry.status.success(), "{dry:?}");
    assert!(dry_out.contains("API request: POST"), "{dry_out}");
    assert!(
        dry_out.contains("[redacted]") && !dry_out.contains("secret-token"),
        "{dry_out}"
    );
    assert_eq!(fake.with(|s| s.creates), 0, "a dry run sends nothing");

    let run = probe(vec!["run", "--vendor", "acme", "--wait"])
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(run.status.success(), "{run:?}");
    assert!(out.contains("ack from acme"), "{out}");
    assert!(out.contains("human from acme -> answered"), "{out}");
    assert_eq!(fake.with(|s| (s.creates, s.tickets.len())), (1, 1));
    // The API token was sent as basic authentication, never printed.
    assert!(fake.with(|s| s.auth.iter().all(|a| a.starts_with("Basic "))));
    assert!(!out.contains("secret-token"));

    let id = fake.with(|s| s.tickets[0].id.clone());
    let store = Store::open(&state, Mode::Shared).unwrap();
    let rec = store.all().unwrap().into_iter().next().unwrap();
    assert_eq!(rec.vendor_refs, vec![id]);
    assert_eq!(
        rec.time_to_first_human(),
        Some(SignedDuration::from_secs(2)),
        "from the API's own timestamps"
    );
    let detail = probe_show_one(&config, &rec.id.to_string()).await;
    assert!(detail.contains("answered"), "{detail}");
    assert!(detail.contains("time to first human reply: 2s"), "{detail}");
    assert!(detail.contains("author is vendor staff"), "{detail}");
}

async fn probe_show_one(config: &Path, id: &str) -> String {
    let config = config.to_path_buf();
    let id = id.to_string();
    let out = tokio::task::spawn_blocking(move || {
        crate::kit::run::command(&config, None)
            .args(["show", &id])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test]
async fn slack_ok_false_on_create_is_a_definite_refusal() {
    let rig = rig_edited(Flavor::Slack, script(Flavor::Slack), |t| {
        t.replace("channel = \"C0SHARED\"", "channel = \"C0WRONG\"")
    })
    .await;
    let report = rig.engine.run_now("acme-api").await.unwrap();
    assert_eq!(report.state, ProbeState::NotFiled, "{report:?}");
    assert!(report.reason.unwrap().contains("channel_not_found"));
    assert!(rig.fake.with(|s| s.tickets.is_empty()));
}

#[tokio::test]
async fn a_ticket_the_vendor_deleted_is_censored_not_an_error() {
    let rig = rig(Flavor::Github, script(Flavor::Github)).await;
    rig.engine.run_now("acme-api").await.unwrap();
    rig.fake.with(|s| s.tickets.clear());
    rig.clock.advance(SignedDuration::from_hours(49));
    let report = rig.engine.watch_once("dana").await.unwrap();
    assert!(report.recorded.is_empty());
    assert_eq!(rig.engine.expire().unwrap().len(), 1);
    assert_eq!(rig.record().state, ProbeState::Unanswered);
}

/// A persona with both a mailbox and an API (line 6 is its name), and a
/// vendor without addresses.
fn email_and_api() -> String {
    let persona = format!(
        "{}[persona.api]\npreset = \"github\"\ntoken = {{ env = \"NEVER_READ\" }}\n\
         params = {{ owner = \"a\", repo = \"b\", user = \"c\" }}\n",
        kit_config::offline_persona("me", "Dana Probe", "dana@probe.example", "")
    );
    let text = ConfigText::new()
        .vendor(Vendor::new("acme"))
        .persona(&persona)
        .probe(
            Probe::new("p", "acme", "me")
                .schedule("0 0 9 * * mon")
                .subject("Test {token}")
                .body("A test."),
        )
        .build();
    format!("\n{text}")
}

#[test]
fn a_persona_has_one_channel_and_email_needs_vendor_addresses() {
    let email_and_api = email_and_api();
    let err = config::parse_str(&email_and_api, Path::new("probes.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("probes.toml:6:8: a persona uses either [persona.api] or"),
        "{err}"
    );
    let start = email_and_api.find("[persona.api]").unwrap();
    let end = email_and_api.find("[[probe]]").unwrap();
    let email_only = format!("{}{}", &email_and_api[..start], &email_and_api[end..]);
    let err = config::parse_str(&email_only, Path::new("probes.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("persona `me` files by email but vendor `acme` has no addresses"),
        "{err}"
    );
}

#[tokio::test]
async fn a_staff_macro_on_two_probes_is_canned_not_an_answer() {
    let macro_text = "Hi, please clear your browser cache and sign in again. Let us know if the export still fails after that.";
    let rig = rig(Flavor::Zendesk, vec![line(mins(5), Who::Staff, macro_text)]).await;
    let first = rig.engine.run_now("acme-api").await.unwrap().id;
    rig.clock.advance(mins(10));
    let r1 = rig.engine.watch_once("dana").await.unwrap();
    assert_eq!(
        r1.recorded[0].class,
        Class::Human,
        "alone, a staff message is an answer"
    );

    rig.clock.advance(SignedDuration::from_hours(2));
    let second = rig.engine.run_now("acme-api").await.unwrap().id;
    rig.clock.advance(mins(10));
    let r2 = rig.engine.watch_once("dana").await.unwrap();
    assert_eq!(r2.recorded.len(), 1);
    assert_eq!(r2.recorded[0].probe, second);
    assert_eq!(r2.recorded[0].class, Class::Ack);
    assert_eq!(r2.reclassified, 1);
    let store = rig.engine.store();
    let first = store.get(&first).unwrap().unwrap();
    assert_eq!(
        first.state,
        ProbeState::Filed,
        "its only 'answer' was a macro"
    );
    assert_eq!(first.messages[0].class, Class::Ack);
    let second = store.get(&second).unwrap().unwrap();
    assert!(
        second.messages[0].reasons[1].contains("a canned macro"),
        "{:?}",
        second.messages[0].reasons
    );
}

/// A create that timed out stays uncertain until the token search finds its
/// ticket; until then `probe resolve ID filed` is refused (its replies could
/// never be read), `not-filed` is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfound_uncertain_api_probe_cannot_be_resolved_filed() {
    let clock: Arc<dyn Clock> = Arc::new(support_probe::clock::SystemClock);
    let fake = Fake::start(Flavor::Github, clock, Vec::new()).await;
    fake.with(|s| {
        s.create_faults
            .push_back(Fault::Stall(Duration::from_secs(4)))
    });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = dir.path().join("probes.toml");
    // Another login than the fake's creator, so a search would find nothing.
    let text = config_text(Flavor::Github, &fake.base, Some(&state))
        .replace("user = \"dana-probe\"", "user = \"someone-else\"")
        .replace(
            "mark-solved = true\n",
            "mark-solved = true\ntimeout = \"1s\"\n",
        );
    std::fs::write(&config, text).unwrap();
    let run = |args: Vec<String>| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            crate::kit::run::command(&config, None)
                .args(args)
                .env("SP_TEST_TOKEN", "secret-token")
                .output()
                .unwrap()
        })
    };
    let filed = run(vec!["run".into(), "--vendor".into(), "acme".into()])
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&filed.stdout).contains("uncertain"),
        "{filed:?}"
    );
    let id = Store::open(&state, Mode::Shared)
        .unwrap()
        .all()
        .unwrap()
        .remove(0)
        .id
        .to_string();
    let refused = run(vec!["resolve".into(), id.clone(), "filed".into()])
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("its ticket id is unknown"));
    let ok = run(vec!["resolve".into(), id, "not-filed".into()])
        .await
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(
        fake.with(|s| s.tickets.len()),
        1,
        "one ticket, never a second"
    );
}

/// A conversation on a ticket API: the follow-up is a comment on the
/// ticket, sent once when due; the agent's next comment answers the round;
/// the closing courtesy waits until the conversation is over; the agent
/// solving the request gives the resolution at Zendesk's own time.
#[tokio::test]
async fn zendesk_follow_up_comment_and_the_vendors_resolution() {
    const AGAIN: &str = "Yes, the export runs again tonight at 02:00 as usual.";
    let script = vec![
        line(mins(2), Who::Automation, ACK),
        line(mins(45), Who::Staff, HUMAN),
        line(mins(80), Who::Staff, AGAIN),
    ];
    let rig = rig_edited(Flavor::Zendesk, script, |t| {
        t.replace("mark-solved = true\n", "").replace(
            "answer-within = \"2d\"",
            "answer-within = \"2d\"\nfollow-ups = [{ after = \"15m\", body = \"Thanks! Will it run again tonight?\" }]",
        )
    })
    .await;
    rig.engine.run_now("acme-api").await.unwrap();
    rig.clock.advance(SignedDuration::from_hours(1));
    rig.engine.watch_once("dana").await.unwrap();
    let rec = rig.record();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.rounds.len(), 1);
    assert_eq!(rec.rounds[0].due_at, t0() + mins(60));
    assert!(
        rig.fake.with(|s| s.tickets[0].posted.is_empty()),
        "no courtesy while the conversation goes on"
    );

    let sent = rig.engine.converse_due().await.unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(rig.engine.converse_due().await.unwrap().is_empty(), "once");
    let posted = rig.fake.with(|s| s.tickets[0].posted.clone());
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].1, "Thanks! Will it run again tonight?");

    // The agent answers at +80m and solves the request at +90m.
    rig.fake.with(|s| {
        s.tickets[0].solved = true;
        s.tickets[0].solved_at = Some(t0() + mins(90));
    });
    rig.clock.advance(SignedDuration::from_hours(1));
    rig.engine.watch_once("dana").await.unwrap();
    let rec = rig.record();
    let c = rec.conversation();
    assert_eq!(c.round_replies, vec![Some(mins(20))]);
    let resolution = rec.resolution.clone().expect("the vendor solved it");
    assert_eq!(resolution.at, t0() + mins(90));
    assert_eq!(resolution.time_source, TimeSource::ApiCreated);
    assert_eq!(c.time_to_resolution, Some(mins(90)));
    assert_eq!(c.rounds_to_resolution, Some(2));
    assert!(!rec.awaits_resolution());
    // The conversation over, the closing courtesy (without solving).
    let posted = rig.fake.with(|s| s.tickets[0].posted.clone());
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[1].1, CLOSING);
}

/// A request we solve ourselves (the courtesy's `mark-solved`) is no
/// resolution by the vendor: the look-out ends without one.
#[tokio::test]
async fn a_ticket_we_solved_is_not_the_vendors_resolution() {
    let rig = rig(Flavor::Zendesk, vec![line(mins(45), Who::Staff, HUMAN)]).await;
    rig.engine.run_now("acme-api").await.unwrap();
    rig.clock.advance(SignedDuration::from_hours(1));
    rig.engine.watch_once("dana").await.unwrap();
    assert!(
        rig.fake.with(|s| s.tickets[0].solved),
        "our courtesy solved it"
    );
    rig.clock.advance(SignedDuration::from_hours(1));
    rig.engine.watch_once("dana").await.unwrap();
    let rec = rig.record();
    assert_eq!(rec.resolution, None);
    assert!(rec.resolution_unseen_at.is_some());
    assert!(!rec.awaits_resolution());
}
