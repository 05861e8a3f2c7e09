//! Measure 6 of BENCHMARKS.md (`benches/throughput.rs`), the part that
//! is also a test (`tests/it/throughput.rs`): 50 vendors with their probes
//! all due at once, filed by the real engine path `Engine::file_due`
//! against one stateful ticket-API fake per vendor, then the vendor side
//! counted and checked against the store ([`verify`]): no token reached a
//! vendor twice, every probe recorded as filed has exactly one ticket at its
//! own vendor, nothing reached a vendor without a probe record, no vendor
//! got more than its cap, and the refusals are recorded as cap refusals.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use support_probe::channel::{
    Channel, ChannelError, CourtesyDone, Fetched, FileOutcome, FoundTicket, OpenTicket, Outgoing,
};
use support_probe::clock::{Clock, SystemClock};
use support_probe::engine::Engine;
use support_probe::engine::draft_record;
use support_probe::model::{Origin, ProbeRecord, ProbeState};

use super::bench::describe;
use super::config::{ConfigText, Probe, Vendor, api_persona, api_table};
use super::fake_api::{Fake, Fault, Flavor};

pub const VENDORS: usize = 50;
pub const CAP_PER_DAY: usize = 16;
pub const FLAVORS: [Flavor; 5] = [
    Flavor::Zendesk,
    Flavor::Jsm,
    Flavor::Github,
    Flavor::Slack,
    Flavor::Helpy,
];
pub const VENDOR_MAILBOX: &str = "support@vendor.test";

/// What one run measured.
pub struct Run {
    pub label: String,
    pub probes: usize,
    pub elapsed: Duration,
    pub records: Vec<ProbeRecord>,
    /// Vendor-side deliveries: vendor name → tokens received (one entry per ticket/mail).
    pub received: BTreeMap<String, Vec<String>>,
    /// Per-ticket / per-mail cross-checks against the record (ticket id or Message-ID).
    pub mismatches: Vec<String>,
    /// Median and p90 of one small store write transaction (a record rewritten), seconds.
    pub commit: Option<(f64, f64)>,
    /// How long each `Channel::file` call took (every attempt), seconds.
    pub sends: Vec<f64>,
}

pub fn is_cap_refusal(r: &ProbeRecord) -> bool {
    r.state_reason
        .as_deref()
        .is_some_and(|s| s.starts_with("cap reached:"))
}

/// Checks the invariants of a run; panics with what it found when one fails.
pub fn verify(run: &Run, rounds: usize) -> Vec<String> {
    let label = &run.label;
    assert!(
        run.mismatches.is_empty(),
        "{label}: deliveries that disagree with their record:\n{}",
        run.mismatches.join("\n")
    );
    assert_eq!(
        run.records.len(),
        run.probes,
        "{label}: planted records missing from the store"
    );
    let by_token: BTreeMap<&str, &ProbeRecord> =
        run.records.iter().map(|r| (r.token.as_str(), r)).collect();
    // At most once: a token reaches the vendors once.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for tokens in run.received.values() {
        for t in tokens {
            *seen.entry(t.as_str()).or_default() += 1;
        }
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dups.is_empty(),
        "{label}: tokens received more than once: {dups:?}"
    );
    // Nothing without a record, and each at its own vendor.
    let mut orphans = Vec::new();
    for (vendor, tokens) in &run.received {
        for t in tokens {
            match by_token.get(t.as_str()) {
                None => orphans.push(format!("{vendor}: {t}")),
                Some(r) if &r.vendor != vendor => {
                    panic!("{label}: {t} of vendor {} arrived at {vendor}", r.vendor)
                }
                Some(_) => {}
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "{label}: received without a probe record: {orphans:?}"
    );
    // Every record settled; every filed record exactly once at the vendor,
    // nothing that is not filed (or uncertain) at the vendor at all.
    let mut filed_once = 0;
    for r in &run.records {
        let n = seen.get(r.token.as_str()).copied().unwrap_or(0);
        match r.state {
            ProbeState::Filed => {
                assert_eq!(
                    n, 1,
                    "{label}: filed {} ({}) reached the vendor {n} times",
                    r.id, r.vendor
                );
                filed_once += 1;
            }
            ProbeState::Uncertain => assert!(
                n <= 1,
                "{label}: uncertain {} reached the vendor {n} times",
                r.id
            ),
            ProbeState::Skipped | ProbeState::NotFiled => assert_eq!(
                n, 0,
                "{label}: {} is {} ({:?}) but reached the vendor",
                r.id, r.state, r.state_reason
            ),
            other => panic!("{label}: {} left in state {other} after file_due", r.id),
        }
    }
    // Caps: per vendor, at most the cap reached it, and exactly the probes
    // beyond the cap (counting those that may have reached it) were refused
    // for the cap.
    let mut max_per_vendor = 0;
    let mut cap_refusals = 0;
    for v in 0..VENDORS {
        let vendor = format!("v{v:02}");
        let got = run.received.get(&vendor).map_or(0, Vec::len);
        assert!(
            got <= CAP_PER_DAY,
            "{label}: {vendor} received {got}, over its per-day cap of {CAP_PER_DAY}"
        );
        max_per_vendor = max_per_vendor.max(got);
        let mine: Vec<&ProbeRecord> = run.records.iter().filter(|r| r.vendor == vendor).collect();
        let may_have_reached = mine
            .iter()
            .filter(|r| matches!(r.state, ProbeState::Filed | ProbeState::Uncertain))
            .count();
        let not_filed = mine
            .iter()
            .filter(|r| r.state == ProbeState::NotFiled)
            .count();
        let refused = mine.iter().filter(|r| is_cap_refusal(r)).count();
        let other_skips = mine
            .iter()
            .filter(|r| r.state == ProbeState::Skipped && !is_cap_refusal(r))
            .map(|r| r.state_reason.clone().unwrap_or_default())
            .collect::<Vec<_>>();
        assert!(
            other_skips.is_empty(),
            "{label}: {vendor} has probes skipped for other reasons: {other_skips:?}"
        );
        let expected_refused = (rounds - not_filed).saturating_sub(CAP_PER_DAY);
        assert!(
            may_have_reached <= CAP_PER_DAY && refused == expected_refused,
            "{label}: {vendor}: {may_have_reached} filed or uncertain, {not_filed} not filed, \
             {refused} refused for the cap; expected {expected_refused} refusals"
        );
        cap_refusals += refused;
    }
    vec![
        label.clone(),
        seen.values().sum::<usize>().to_string(),
        seen.len().to_string(),
        format!("{filed_once} of {filed_once}"),
        "0".into(),
        format!("{max_per_vendor} ({CAP_PER_DAY})"),
        format!(
            "{cap_refusals} (expected {})",
            VENDORS * rounds.saturating_sub(CAP_PER_DAY)
        ),
    ]
}

/// The `[daemon]` table and the vendors, with the measure's caps.
pub fn head(addresses: bool) -> ConfigText {
    // A missed-grace of an hour: a slow run must not turn the last probes
    // into "missed" skips, which would hide what the caps did.
    let mut text =
        ConfigText::new().section("[daemon]\nmissed-grace = \"1h\"\nfiling-retry-window = \"5s\"");
    for v in 0..VENDORS {
        let mut vendor = Vendor::new(&format!("v{v:02}")).caps(CAP_PER_DAY as u32, 100);
        if addresses {
            vendor = vendor.address(VENDOR_MAILBOX);
        }
        text = text.vendor(vendor);
    }
    text
}

/// A probe for vendor `v` through `persona` that never fires by itself.
pub fn probe(v: usize, persona: &str, run: &str) -> Probe {
    Probe::never(&format!("v{v:02}-probe"), &format!("v{v:02}"), persona)
        .subject(&format!("Throughput {run} {{vendor}} {{token}}"))
}

/// Writes `rounds` planned records per vendor, all due now: round k of every
/// vendor is due before round k+1 of any, so the filing interleaves vendors
/// and the caps bite at the end of the run, for every vendor.
pub fn plant(engine: &Engine, rounds: usize) -> BTreeSet<String> {
    let config = engine.config();
    let start = SystemClock.now() - SignedDuration::from_secs(1);
    let mut recs = Vec::new();
    for k in 0..rounds {
        let fire = start + SignedDuration::from_millis(k as i64);
        for v in 0..VENDORS {
            let p = config.probe(&format!("v{v:02}-probe")).unwrap();
            let channel = engine.channel(&p.persona).unwrap();
            recs.push(
                draft_record(
                    config,
                    p,
                    "UTC",
                    fire,
                    Origin::Schedule,
                    start,
                    SignedDuration::ZERO,
                    Some(&**channel),
                )
                .unwrap(),
            );
        }
    }
    engine
        .store()
        .write(|tx| recs.iter().try_for_each(|r| tx.put(r)))
        .unwrap();
    recs.iter().map(|r| r.id.to_string()).collect()
}

/// The records of the planted probes, as the store has them now.
pub fn planted_records(engine: &Engine, planted: &BTreeSet<String>) -> Vec<ProbeRecord> {
    engine
        .store()
        .all()
        .unwrap()
        .into_iter()
        .filter(|r| planted.contains(r.id.as_str()))
        .collect()
}

/// Fills the store with `n` finished probes (unanswered, filed and censored)
/// spread over the past year up to 8 days ago, round-robin over the
/// vendors: a store that has run for a while. None counts against a cap.
fn plant_history(engine: &Engine, n: usize) {
    let started = Instant::now();
    let config = engine.config();
    let now = SystemClock.now();
    let span = SignedDuration::from_hours(24 * 357).as_secs();
    let mut recs = Vec::with_capacity(n);
    for i in 0..n {
        let v = i % VENDORS;
        let p = config.probe(&format!("v{v:02}-probe")).unwrap();
        let channel = engine.channel(&p.persona).unwrap();
        let age = SignedDuration::from_hours(24 * 8)
            + SignedDuration::from_secs(span * (n - i) as i64 / n as i64);
        let fire = now - age;
        let mut r = draft_record(
            config,
            p,
            "UTC",
            fire,
            Origin::Schedule,
            fire,
            SignedDuration::ZERO,
            Some(&**channel),
        )
        .unwrap();
        r.state = ProbeState::Unanswered;
        r.filing_started_at = Some(fire);
        r.filed_at = Some(fire);
        r.censored_at = Some(fire + SignedDuration::from_hours(48));
        r.vendor_refs.push(format!("old-{i}"));
        recs.push(r);
    }
    for chunk in recs.chunks(10_000) {
        engine
            .store()
            .write(|tx| chunk.iter().try_for_each(|r| tx.put(r)))
            .unwrap();
    }
    println!(
        "throughput: api: {n} past probes written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Files everything due, timed.
pub async fn file_all(engine: &Engine, label: &str) -> Duration {
    let started = Instant::now();
    let reports = engine.file_due().await.unwrap();
    let elapsed = started.elapsed();
    println!(
        "throughput: {label}: {} probes decided in {:.2} s",
        reports.len(),
        elapsed.as_secs_f64()
    );
    elapsed
}

/// Every `SP-` token in `text`.
fn tokens(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("SP-") {
        let cand = &rest[i + 3..];
        let id: String = cand
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if id.len() == 10 {
            out.insert(format!("SP-{id}"));
        }
        rest = &rest[i + 3..];
    }
    out
}

/// The API run: one fake per vendor, the presets in turn.
pub async fn api_run(rounds: usize, faults: bool, history: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let token = dir.path().join("api.token");
    std::fs::write(&token, "bench-token").unwrap();
    let mut fakes = Vec::new();
    let mut text = head(false);
    for v in 0..VENDORS {
        let flavor = FLAVORS[v % FLAVORS.len()];
        let fake = Fake::start(flavor, Arc::clone(&clock), Vec::new()).await;
        let mut api = api_table(
            flavor,
            &fake.base,
            &format!("{{ file = \"{}\" }}", token.display()),
            "",
        );
        if faults {
            // A no-op "fault" keeps the others at their place in the queue.
            let queue = (0..rounds * 2).map(|i| match i % 20 {
                5 => Fault::Status(429, Some(1)),
                10 => Fault::Status(500, None),
                15 => Fault::Stall(Duration::from_millis(1500)),
                _ => Fault::Stall(Duration::ZERO),
            });
            fake.with(|s| s.create_faults.extend(queue));
            api = format!("timeout = \"1s\"\n{api}");
        }
        text = text.persona(&api_persona(
            &format!("p{v:02}"),
            &format!("Bench {v:02}"),
            &format!("p{v:02}@probe.test"),
            &api,
        ));
        fakes.push(fake);
    }
    for v in 0..VENDORS {
        text = text.probe(probe(v, &format!("p{v:02}"), "api"));
    }
    let (engine, sends) = timed_engine(&text.build(), dir.path());
    if history > 0 {
        plant_history(&engine, history);
    }
    let planted = plant(&engine, rounds);
    let elapsed = file_all(&engine, if faults { "api, faults" } else { "api" }).await;
    let records = planted_records(&engine, &planted);
    let commit = commit_time(&engine, &records);
    let sends = sends.lock().unwrap().clone();
    let by_token: BTreeMap<&str, &ProbeRecord> =
        records.iter().map(|r| (r.token.as_str(), r)).collect();
    let mut received: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (v, fake) in fakes.iter().enumerate() {
        let vendor = format!("v{v:02}");
        let (tickets, creates) = fake.with(|s| (s.tickets.clone(), s.creates));
        let keyed = tickets.iter().any(|t| t.idempotency_key.is_some());
        if creates != tickets.len() && !(faults && keyed) {
            mismatches.push(format!(
                "{vendor}: {creates} create requests for {} tickets",
                tickets.len()
            ));
        }
        for t in &tickets {
            let found = tokens(&t.request.to_string());
            if found.len() != 1 {
                mismatches.push(format!(
                    "{vendor}: ticket {} carries tokens {found:?}",
                    t.id
                ));
            }
            for tok in found {
                if let Some(r) = by_token.get(tok.as_str())
                    && r.state == ProbeState::Filed
                    && !r.vendor_refs.contains(&t.id)
                {
                    mismatches.push(format!(
                        "{vendor}: {} recorded ticket {:?}, the vendor has {}",
                        r.id, r.vendor_refs, t.id
                    ));
                }
                received.entry(vendor.clone()).or_default().push(tok);
            }
        }
    }
    Run {
        label: if faults {
            "API fakes, with 429 / 500 / late answer on 3 creates in 20".into()
        } else if history > 0 {
            format!("API fakes, the store already holding {history} past probes")
        } else {
            "API fakes (Zendesk, JSM, GitHub, Slack, generic; 10 vendors each)".into()
        },
        probes: VENDORS * rounds,
        elapsed,
        records,
        received,
        mismatches,
        commit,
        sends,
    }
}

/// Median and p90 of 200 small store write transactions, each rewriting one
/// record unchanged, as each step of a filing does (the store's own cost).
pub fn commit_time(engine: &Engine, records: &[ProbeRecord]) -> Option<(f64, f64)> {
    // A moment for the disk to settle after the run's last commit.
    std::thread::sleep(Duration::from_millis(500));
    let ids: Vec<_> = records.iter().take(200).map(|r| r.id.clone()).collect();
    let times: Vec<f64> = ids
        .iter()
        .map(|id| {
            let t = Instant::now();
            engine.store().write(|tx| tx.update(id, |_| {})).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let (_, median, p90, _) = describe(&times);
    Some((median, p90))
}

/// An engine on `text` (store in `dir/state`) whose channels time every
/// `Channel::file` call; otherwise as [`super::engine::engine`].
pub fn timed_engine(text: &str, dir: &Path) -> (Arc<Engine>, Arc<Mutex<Vec<f64>>>) {
    let sends = Arc::new(Mutex::new(Vec::new()));
    let engine = super::engine::engine_wrapped(text, dir, |inner| {
        Arc::new(Timed {
            inner,
            sends: Arc::clone(&sends),
        })
    });
    (Arc::new(engine), sends)
}

/// A channel that times `file` and passes everything through.
#[derive(Debug)]
struct Timed {
    inner: Arc<dyn Channel>,
    sends: Arc<Mutex<Vec<f64>>>,
}

#[async_trait::async_trait]
impl Channel for Timed {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn watch_key(&self) -> String {
        self.inner.watch_key()
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        let started = Instant::now();
        let outcome = self.inner.file(probe).await;
        self.sends
            .lock()
            .unwrap()
            .push(started.elapsed().as_secs_f64());
        outcome
    }

    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<jiff::Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.inner.fetch(position, since).await
    }

    fn longest_wait(&self, max: Duration) -> Duration {
        self.inner.longest_wait(max)
    }

    async fn wait(
        &self,
        position: Option<&serde_json::Value>,
        max: Duration,
    ) -> Result<(), ChannelError> {
        self.inner.wait(position, max).await
    }

    async fn fetch_open(
        &self,
        open: &[OpenTicket],
        position: Option<&serde_json::Value>,
        since: Option<jiff::Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.inner.fetch_open(open, position, since).await
    }

    async fn find_filed(
        &self,
        token: &str,
        since: jiff::Timestamp,
    ) -> Result<Option<FoundTicket>, ChannelError> {
        self.inner.find_filed(token, since).await
    }

    fn has_courtesy(&self) -> bool {
        self.inner.has_courtesy()
    }

    async fn courtesy(&self, ticket: &str) -> Result<CourtesyDone, ChannelError> {
        self.inner.courtesy(ticket).await
    }
}
