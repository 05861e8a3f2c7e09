//! `probe demo`: the real pipeline — config parsing, scheduler, engine,
//! matcher, classifier, store, readings — against simulated helpdesks on a
//! simulated clock, so two weeks of nightly probes take seconds and need no
//! network or credentials.
//!
//! Only the channel is simulated ([`helpdesk::SimHelpdesk`]); everything it
//! feeds is the production code. At the end the recorded time to first
//! human reply of every answered probe is compared with the simulator's
//! truth.

mod characters;
pub mod helpdesk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::channel::Channel;
use crate::clock::{Clock, ManualClock};
use crate::config::{self, ConfigErrors};
use crate::engine::{Engine, EngineError};
use crate::model::{ProbeRecord, ProbeState};
use crate::report::status::{self, VendorStatus};
use crate::store::{Mode, Store, StoreError};

/// The demo's configuration, embedded in the binary.
pub const DEMO_CONFIG: &str = include_str!("demo.toml");

/// The longest simulated step: the loop wakes at least this often.
const MAX_STEP: SignedDuration = SignedDuration::from_mins(30);

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the embedded demo config is invalid: {0}")]
    Config(ConfigErrors),
    #[error(
        "{0} already holds a store; the demo writes only to a new directory, so simulated vendors never mix with real readings"
    )]
    ExistingStore(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot compose the digest: {0}")]
    Digest(crate::digest::DigestError),
}

/// What the demo produced.
#[derive(Debug)]
pub struct DemoOutcome {
    pub state_dir: PathBuf,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: Vec<VendorStatus>,
    pub probes: Vec<ProbeRecord>,
    /// Answered probes whose recorded first human reply differs from the truth.
    pub mismatches: Vec<String>,
    /// Answered probes compared with the truth.
    pub checked: usize,
    /// The weekly digest of each simulated week, oldest first.
    pub digests: Vec<crate::digest::Digest>,
    /// The status page the daemon would serve at the end of the run.
    pub status_page: String,
}

/// Runs `days` simulated days from `start`, storing into `state_dir`.
pub async fn run(
    state_dir: &Path,
    start: Timestamp,
    days: u32,
    seed: u64,
) -> Result<DemoOutcome, DemoError> {
    if state_dir.join(crate::store::FILE_NAME).exists() {
        return Err(DemoError::ExistingStore(state_dir.to_path_buf()));
    }
    let loaded =
        config::parse_str(DEMO_CONFIG, Path::new("demo.toml")).map_err(DemoError::Config)?;
    let config = Arc::new(loaded.config);
    let clock = ManualClock::new(start);
    let shared_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let sim = Arc::new(helpdesk::SimHelpdesk::new(
        &config,
        Arc::clone(&shared_clock),
        seed,
    ));
    let mut channels: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    for p in &config.personas {
        channels.insert(p.name.clone(), Arc::clone(&sim) as Arc<dyn Channel>);
    }
    let store = Arc::new(Store::open(state_dir, Mode::Exclusive)?);
    let engine = Engine::new(
        Arc::clone(&config),
        Arc::clone(&store),
        shared_clock,
        channels,
    )?
    .with_seed(seed);
    let end = start + SignedDuration::from_hours(24 * i64::from(days));
    let personas: Vec<String> = engine.personas().map(str::to_string).collect();
    loop {
        engine.plan()?;
        engine.file_due().await?;
        engine.converse_due().await?;
        for p in &personas {
            engine.watch_once(p).await?;
        }
        engine.expire()?;
        let now = clock.now();
        if now >= end {
            break;
        }
        let mut next = (now + MAX_STEP).min(end);
        if let Some(due) = engine.next_due()? {
            next = next.min(due);
        }
        if let Some(delivery) = sim.next_delivery() {
            next = next.min(delivery);
        }
        clock.set(next.max(now + SignedDuration::from_secs(1)));
    }
    let probes = store.all()?;
    let truth = sim.truth();
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for p in probes.iter().filter(|p| p.state == ProbeState::Answered) {
        checked += 1;
        if truth.get(&p.id) != p.first_human_at.as_ref() {
            mismatches.push(format!(
                "{} ({}): recorded {:?}, true {:?}",
                p.id,
                p.vendor,
                p.first_human_at,
                truth.get(&p.id)
            ));
        }
    }
    for (id, at) in &truth {
        if let Some(p) = probes.iter().find(|p| &p.id == id)
            && p.state != ProbeState::Answered
            && p.answer_deadline().is_some_and(|d| *at <= d)
            && *at <= end
        {
            mismatches.push(format!(
                "{id} ({}): answered at {at} but recorded as {}",
                p.vendor, p.state
            ));
        }
    }
    mismatches.extend(check_evidence(&probes, &sim.expected(), end));
    // One digest per simulated week: every complete one, or the (partial)
    // week the run started in when it is shorter than that.
    let tz = &config.report.zone;
    let first = crate::report::IsoWeek::containing(start, tz);
    let last =
        crate::digest::last_complete_week(end, tz).map_err(|e| DemoError::Digest(e.into()))?;
    let mut weeks = vec![last];
    while let Some(w) = weeks.last().copied().filter(|w| *w > first) {
        weeks.push(w.previous().map_err(|e| DemoError::Digest(e.into()))?);
    }
    weeks.retain(|w| *w >= first);
    if weeks.is_empty() {
        weeks.push(first);
    }
    weeks.reverse();
    let own = crate::report::own::OwnSide::from_store(&store)?;
    let digests = weeks
        .into_iter()
        .map(|w| crate::digest::compose(&probes, &config, w, end, &own))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DemoError::Digest)?;
    let (from, until) = crate::view::status::row_span(end);
    let rows: Vec<crate::model::ReadingRow> = probes
        .iter()
        .map(crate::model::ReadingRow::of)
        .filter(|r| from <= r.anchor() && r.anchor() < until)
        .collect();
    let status_page = crate::view::status::page(&rows, &config, end, &own);
    Ok(DemoOutcome {
        digests,
        status_page,
        state_dir: state_dir.to_path_buf(),
        start,
        end,
        summary: status::summarize(&probes, end, &crate::report::own::OwnSide::default()),
        probes,
        mismatches,
        checked,
    })
}

/// Compares the evidence recorded on each character vendor's answered
/// probe (its first reply's language and traits, the reply that answered,
/// the resolution) with what the simulator knows it sent. A macro is
/// templated from its second use on, in the order the replies arrived.
fn check_evidence(
    probes: &[ProbeRecord],
    expected: &BTreeMap<crate::model::ProbeId, characters::Expected>,
    end: Timestamp,
) -> Vec<String> {
    let mut out = Vec::new();
    let macros: Vec<(&ProbeRecord, Timestamp)> = probes
        .iter()
        .filter(|p| expected.get(&p.id).is_some_and(|e| e.macro_reply))
        .filter_map(|p| Some((p, p.first_human_at?)))
        .collect();
    // Each vendor's first reply has nothing to be compared with.
    let mut firsts: BTreeMap<&str, (Timestamp, &crate::model::ProbeId)> = BTreeMap::new();
    for p in probes.iter().filter(|p| expected.contains_key(&p.id)) {
        if let Some(at) = p.first_human_at {
            let e = firsts.entry(p.vendor.as_str()).or_insert((at, &p.id));
            if at < e.0 {
                *e = (at, &p.id);
            }
        }
    }
    let templated: BTreeMap<&crate::model::ProbeId, bool> =
        macros.iter().map(|(p, _)| (&p.id, true)).collect();
    for p in probes.iter().filter(|p| p.state == ProbeState::Answered) {
        let Some(e) = expected.get(&p.id) else {
            continue;
        };
        let c = p.conversation();
        let Some(q) = &c.first else {
            out.push(format!(
                "{} ({}): no evidence recorded on its first reply",
                p.id, p.vendor
            ));
            continue;
        };
        let mut differ = |what: &str, recorded: String, truth: String| {
            if recorded != truth {
                out.push(format!(
                    "{} ({}): {what} recorded {recorded}, true {truth}",
                    p.id, p.vendor
                ));
            }
        };
        if let Some(lang) = e.language {
            let got = q
                .language
                .as_ref()
                .map(|l| l.tag.split('-').next().unwrap_or_default().to_string());
            differ("language", format!("{got:?}"), format!("{:?}", Some(lang)));
        }
        let value = |t: &Option<crate::model::Trait>| t.as_ref().map(|t| t.value);
        let traits = [
            ("personal", value(&q.personal), e.personal),
            ("specific", value(&q.specific), e.specific),
            ("asks back", value(&q.asks_back), e.asks_back),
            ("answers", value(&q.answers), e.answers),
        ];
        for (name, got, want) in traits {
            if want.is_some() {
                differ(name, format!("{got:?}"), format!("{want:?}"));
            }
        }
        let first = firsts.get(p.vendor.as_str()).is_some_and(|f| *f.1 == p.id);
        let want_templated = if first {
            None
        } else {
            Some(templated.get(&p.id).copied().unwrap_or(false))
        };
        differ(
            "templated",
            format!("{:?}", value(&q.templated)),
            format!("{want_templated:?}"),
        );
        // A conversation the simulated week cut short has not answered yet.
        if let (Some(want), Some((n, _))) = (e.answered_on_reply, c.answered_after) {
            differ("answered on reply", n.to_string(), want.to_string());
        }
        if let Some(want) = e.resolved_at.filter(|at| *at <= end) {
            differ(
                "resolution",
                format!("{:?}", p.resolution.as_ref().map(|r| r.at)),
                format!("{:?}", Some(want)),
            );
        }
    }
    out
}
