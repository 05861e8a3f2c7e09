//! Chaos: a real `probe daemon` filing probes to three vendors on a short
//! cron with small caps, against the real mail stack, is killed with SIGKILL
//! at random moments (seeded; the seed is printed, `CHAOS_SEED=n` replays
//! it) and restarted, many times, while a responder answers every probe the
//! vendors receive. Afterwards, counting by the vendors' mailboxes, not by our
//! store:
//!
//! - every ticket a vendor received maps to exactly one probe record, and
//!   that record says it may have reached the vendor;
//! - every record that says `filed`/`answered` is in the vendor's mailbox;
//! - every reply is recorded exactly once, on its probe;
//! - no probe is left in a state recovery should have settled;
//! - no vendor received more probes than its caps allow;
//! - each probe's follow-up (sent one second after the vendor's answer)
//!   reached the vendor at most once, only if its record says it may have,
//!   and always if its record says it was sent; follow-ups count in the caps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::kit::MailStack;
use jiff::{SignedDuration, Timestamp};
use support_probe::clock::{Clock, ManualClock};
use support_probe::config;
use support_probe::engine::Engine;
use support_probe::model::{ProbeRecord, ProbeState, RoundState};
use support_probe::store::{Mode, Store};

use crate::kit::config::{ConfigText, Probe, Vendor, dana_persona};
use crate::kit::run::{Daemon, probes};

const KILLS: usize = 24;
/// (vendor, address, per-day cap, per-week cap)
const VENDORS: [(&str, &str, u32, u32); 3] = [
    ("acme", "support@vendor.test", 6, 8),
    ("globex", "helpdesk@vendor.test", 5, 5),
    ("initech", "slow@vendor.test", 4, 9),
];

fn config_text(stack: &MailStack, dir: &Path, run: &str, enabled: bool) -> String {
    let mut text = ConfigText::new()
        .top(&format!("enabled = {enabled}"))
        .section("[daemon]\nfiling-retry-window = \"2s\"")
        .persona(&dana_persona(stack, dir));
    for (name, address, day, week) in VENDORS {
        text = text
            .vendor(Vendor::new(name).address(address).caps(day, week))
            .probe(
                Probe::new(&format!("{name}-chaos"), name, "dana")
                    .schedule("*/2 * * * * *")
                    .subject(&format!("Chaos {run} {{token}}"))
                    .body("Hello {vendor}, this is a scheduled support-response test.")
                    .line(
                        "follow-ups = [{ after = \"1s\", body = \"Thank you. One more question about {token}: is anything else needed?\" }]",
                    ),
            );
    }
    text.build()
}

/// The probes of this run a vendor's mailbox holds: (probe id, raw message).
fn received(stack: &MailStack, address: &str, run: &str) -> Vec<(String, crate::kit::FetchedMail)> {
    stack
        .fetch_all(address, "INBOX")
        .unwrap()
        .into_iter()
        .filter(|m| m.header("Subject").is_some_and(|s| s.contains(run)))
        .map(|m| (m.header("X-Support-Probe").unwrap_or_default(), m))
        .collect()
}

/// Answers every probe of this run that reached a vendor, once, threading on
/// its Message-ID. Returns the replies' Message-IDs by probe id.
fn respond(
    stack: &'static MailStack,
    run: String,
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<BTreeMap<String, String>>>,
) -> std::thread::JoinHandle<()> {
    // Each reply in its own words: the same text on two probes would rightly
    // be read as a canned template, not a person.
    const TOPICS: [&str; 12] = [
        "origin address",
        "cache rules",
        "billing contact",
        "DNS records",
        "TLS certificate",
        "rate limits",
        "firewall list",
        "API token",
        "purge queue",
        "log export",
        "edge region",
        "webhook target",
    ];
    const ACTIONS: [&str; 6] = [
        "changed",
        "reviewed",
        "rebuilt",
        "corrected",
        "re-enabled",
        "cleaned up",
    ];
    std::thread::spawn(move || {
        let mut n = 0usize;
        loop {
            let last_round = stop.load(Ordering::SeqCst);
            for (_, address, _, _) in VENDORS {
                for (id, m) in received(stack, address, &run) {
                    // The probe, or our follow-up (it answers our reply).
                    let key = match m.header("In-Reply-To") {
                        Some(_) => format!("{id}-follow-up"),
                        None => id.clone(),
                    };
                    if id.is_empty() || sent.lock().unwrap().contains_key(&key) {
                        continue;
                    }
                    let their = m.header("Message-ID").unwrap_or_default();
                    let mid = format!("chaos-reply-{key}@vendor.test");
                    let (topic, action) = (
                        TOPICS[n % TOPICS.len()],
                        ACTIONS[(n / TOPICS.len()) % ACTIONS.len()],
                    );
                    let other = TOPICS[(n + 5) % TOPICS.len()];
                    n += 1;
                    let reply = format!(
                        "From: Agent <{address}>\r\nTo: dana@probe.test\r\nSubject: Re: your request {run}\r\n\
                         Message-ID: <{mid}>\r\nIn-Reply-To: {their}\r\n\r\nHi Dana, I {action} \
                         the {topic} on your account myself; the {other} looked fine.\r\n"
                    );
                    stack
                        .deliver(address, &["dana@probe.test"], reply.as_bytes())
                        .unwrap();
                    sent.lock().unwrap().insert(key, mid);
                }
            }
            if last_round {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    })
}

#[test]
fn sigkill_at_random_moments_loses_nothing_doubles_nothing_and_keeps_the_caps() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let seed: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("chaos seed: {seed} (replay with CHAOS_SEED={seed})");
    eprintln!("chaos seed: {seed} (replay with CHAOS_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let run = format!("run{seed:x}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    std::fs::write(&config, config_text(stack, dir.path(), &run, true)).unwrap();
    let state = dir.path().join("state");
    let stop = Arc::new(AtomicBool::new(false));
    let replies = Arc::new(Mutex::new(BTreeMap::new()));
    let responder = respond(stack, run.clone(), Arc::clone(&stop), Arc::clone(&replies));

    // 1. Kill and restart, at random moments; every other time just after
    //    the daemon logged that it starts a send.
    let mut logs = Vec::new();
    for i in 0..KILLS {
        let log = dir.path().join(format!("daemon{i}.log"));
        let mut child = Daemon::start(
            &config,
            &state,
            &log,
            &[("PROBE_LOG", "support_probe=info")],
        );
        if i % 2 == 1 {
            let deadline = Instant::now() + Duration::from_millis(2500);
            while Instant::now() < deadline
                && !std::fs::read_to_string(&log)
                    .unwrap_or_default()
                    .contains(" filing")
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(rng.u64(0..120)));
        } else {
            std::thread::sleep(Duration::from_millis(rng.u64(150..2500)));
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(status.code().is_none(), "killed by a signal: {status:?}");
        logs.push(log);
    }

    // 2. A last daemon that files nothing more (enabled = false) reads every
    //    reply; the responder answers what is left, then stops.
    stop.store(true, Ordering::SeqCst);
    responder.join().unwrap();
    std::fs::write(&config, config_text(stack, dir.path(), &run, false)).unwrap();
    let log = dir.path().join("final.log");
    let final_start = Timestamp::now();
    let last = Daemon::start(
        &config,
        &state,
        &log,
        &[("PROBE_LOG", "support_probe=info")],
    );
    let replies = replies.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Its watchers (and its SIGTERM handler) run once it says so.
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("daemon running")
    {
        assert!(Instant::now() < deadline, "the last daemon never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    loop {
        let recorded: BTreeSet<String> = probes(&state)
            .iter()
            .flat_map(|p| p.messages.iter().filter_map(|m| m.message_id.clone()))
            .collect();
        if replies.values().all(|mid| recorded.contains(mid)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replies never recorded; final log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // SIGTERM: a graceful stop, exit 0.
    last.stop();

    // 3. What recovery does 15 minutes later (a probe killed mid-send waits
    //    that long before it is called uncertain), on a clock set ahead.
    let later = ManualClock::new(Timestamp::now() + SignedDuration::from_mins(16));
    let loaded = config::load(&config).unwrap();
    let engine = Engine::new(
        Arc::new(loaded.config),
        Arc::new(Store::open(&state, Mode::Shared).unwrap()),
        Arc::new(later.clone()) as Arc<dyn Clock>,
        BTreeMap::new(),
    )
    .unwrap();
    engine.recover().unwrap();

    // 4. The checks.
    let all = probes(&state);
    let by_id: BTreeMap<&str, &ProbeRecord> = all.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut tickets = 0;
    let mut problems = Vec::new();
    for (vendor, address, day, week) in VENDORS {
        let got = received(stack, address, &run);
        tickets += got.len();
        // Caps, counted by the mailbox: everything arrived within minutes,
        // so all of it falls in one day and one week.
        let cap = day.min(week) as usize;
        if got.len() > cap {
            problems.push(format!(
                "{vendor} received {} messages (probes and follow-ups), cap {cap}",
                got.len()
            ));
        }
        // Our follow-ups answer the vendor's reply; the probes do not.
        let (follow_ups, got): (Vec<_>, Vec<_>) = got
            .iter()
            .partition(|(_, m)| m.header("In-Reply-To").is_some());
        let mut followed: BTreeMap<&str, usize> = BTreeMap::new();
        for (id, _) in &follow_ups {
            *followed.entry(id.as_str()).or_default() += 1;
        }
        for (id, n) in &followed {
            if *n != 1 {
                problems.push(format!("{vendor} received {n} follow-ups of {id}"));
            }
            let reached = by_id
                .get(id)
                .and_then(|p| p.rounds.first())
                .is_some_and(|r| {
                    matches!(
                        r.state,
                        RoundState::Sending | RoundState::Sent | RoundState::Uncertain
                    )
                });
            if !reached {
                problems.push(format!(
                    "{vendor} received a follow-up of {id}, whose record says it was not sent: {:?}",
                    by_id.get(id).map(|p| &p.rounds)
                ));
            }
        }
        for p in all.iter().filter(|p| p.vendor == vendor) {
            let sent = p.rounds.iter().any(|r| r.state == RoundState::Sent);
            if sent && !followed.contains_key(p.id.as_str()) {
                problems.push(format!("{}: follow-up recorded sent, never received", p.id));
            }
            if p.rounds.iter().any(|r| r.state == RoundState::Sending) {
                problems.push(format!("{}: a follow-up left sending after recovery", p.id));
            }
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (id, _) in &got {
            *seen.entry(id.as_str()).or_default() += 1;
            match by_id.get(id.as_str()) {
                None => problems.push(format!("{vendor} received {id:?}, which has no record")),
                Some(p) if !p.state.may_have_reached_vendor() => problems.push(format!(
                    "{vendor} received {id}, recorded as {} ({:?})",
                    p.state, p.state_reason
                )),
                Some(p) if p.vendor != vendor => {
                    problems.push(format!("{id} is for {}, reached {vendor}", p.vendor))
                }
                Some(_) => {}
            }
        }
        for (id, n) in &seen {
            if *n != 1 {
                problems.push(format!("{vendor} received {id} {n} times"));
            }
        }
        for p in all.iter().filter(|p| p.vendor == vendor) {
            if matches!(p.state, ProbeState::Filed | ProbeState::Answered)
                && !seen.contains_key(p.id.as_str())
            {
                problems.push(format!("{} is {} but {vendor} never got it", p.id, p.state));
            }
        }
    }
    for (id, mid) in &replies {
        let holders: Vec<&ProbeRecord> = all
            .iter()
            .filter(|p| {
                p.messages
                    .iter()
                    .any(|m| m.message_id.as_deref() == Some(mid))
            })
            .collect();
        let copies: usize = holders
            .iter()
            .map(|p| {
                p.messages
                    .iter()
                    .filter(|m| m.message_id.as_deref() == Some(mid))
                    .count()
            })
            .sum();
        if holders.len() == 1 && holders[0].state != ProbeState::Answered {
            problems.push(format!(
                "{id} has its human reply but is {} ({:?})",
                holders[0].state, holders[0].state_reason
            ));
        }
        let probe_id = id.strip_suffix("-follow-up").unwrap_or(id);
        if copies != 1 || holders.first().map(|p| p.id.as_str()) != Some(probe_id) {
            problems.push(format!(
                "reply {mid} recorded {copies} times, on {:?}",
                holders.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
            ));
        }
    }
    for p in &all {
        let unsettled = match p.state {
            ProbeState::Filing => true,
            // The last daemon refuses everything due (disabled), so a
            // planned probe may only be one not yet due.
            ProbeState::Planned => p.due_at < final_start,
            // A reply proves an uncertain filing; one with a reply is unsettled.
            ProbeState::Uncertain => !p.messages.is_empty(),
            _ => false,
        };
        if unsettled {
            problems.push(format!("{} left {} ({:?})", p.id, p.state, p.state_reason));
        }
    }
    let rounds = |s: RoundState| {
        all.iter()
            .flat_map(|p| &p.rounds)
            .filter(|r| r.state == s)
            .count()
    };
    println!(
        "chaos: follow-ups sent {}, uncertain {}, skipped {}, failed {}",
        rounds(RoundState::Sent),
        rounds(RoundState::Uncertain),
        rounds(RoundState::Skipped),
        rounds(RoundState::Failed)
    );
    let count = |s: ProbeState| all.iter().filter(|p| p.state == s).count();
    println!(
        "chaos: {KILLS} kills, {} records, {tickets} tickets received, {} replies; answered {}, \
         uncertain {}, not-filed {}, skipped {}",
        all.len(),
        replies.len(),
        count(ProbeState::Answered),
        count(ProbeState::Uncertain),
        count(ProbeState::NotFiled),
        count(ProbeState::Skipped),
    );
    assert!(tickets > 0, "the run filed nothing at all");
    assert!(
        problems.is_empty(),
        "seed {seed}:\n{}\nlast daemon log:\n{}",
        problems.join("\n"),
        std::fs::read_to_string(logs.last().unwrap()).unwrap_or_default()
    );
}
