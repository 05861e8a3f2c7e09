//! `probe status`, `probe show` and `probe resolve`: reading and settling
//! what the store holds. None of them needs the config or the network.

use std::process::ExitCode;

use jiff::Timestamp;

use super::output::{Format, print_json};
use super::{CliError, Global, ResolveOutcome, wiring};
use crate::duration::human;
use crate::model::{Confidence, ProbeId, ProbeRecord, ProbeState, Quality, RoundState};
use crate::report::own::{self, OwnSide};
use crate::report::status::{self, VendorStatus};
use crate::table::columns as table;

fn config_if_any(g: &Global) -> Option<crate::config::Config> {
    crate::config::load(&g.config).ok().map(|l| l.config)
}

fn parse_id(s: &str) -> Result<ProbeId, CliError> {
    ProbeId::parse(s).map_err(|e| CliError::Usage(e.to_string()))
}

/// `probe status`.
pub fn status(g: &Global) -> Result<ExitCode, CliError> {
    let config = config_if_any(g);
    let store = wiring::open_store(g, config.as_ref())?;
    let all = store.all()?;
    let now = Timestamp::now();
    let own = own_side(&store)?;
    let summary = status::summarize(&all, now, &own);
    let waiting = store
        .unmatched()?
        .iter()
        .filter(|u| u.attached.is_none())
        .count();
    let pending: Vec<&ProbeRecord> = all
        .iter()
        .filter(|p| {
            matches!(
                p.state,
                ProbeState::Planned
                    | ProbeState::Filing
                    | ProbeState::Filed
                    | ProbeState::Uncertain
            )
        })
        .collect();
    match g.format {
        Format::Json => print_json(&serde_json::json!({
            "store": store.path(),
            "paused": store.pauses()?,
            "vendors": summary,
            "pending": pending,
            "own_downtime": own_downtime_json(&own, &all, now),
            "unmatched_replies": waiting,
        })),
        Format::Table | Format::Csv => {
            println!("store: {}", store.path().display());
            print!("{}", super::control::render_pauses(&store.pauses()?));
            print!("{}", render_summary(&summary));
            print!("{}", render_unsure(&summary));
            if waiting > 0 {
                println!(
                    "  {waiting} vendor repl{} matched no probe and wait for a person (`probe review`, `probe attach`)",
                    if waiting == 1 { "y" } else { "ies" }
                );
            }
            println!();
            let rows: Vec<Vec<String>> = pending
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.vendor.clone(),
                        p.state.to_string(),
                        match p.state {
                            ProbeState::Planned => format!("due {}", p.due_at),
                            _ => p
                                .filed_at
                                .map(|f| format!("filed {} ago", human(now.duration_since(f))))
                                .unwrap_or_else(|| p.state_reason.clone().unwrap_or_default()),
                        },
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("no pending probes");
            } else {
                print!(
                    "{}",
                    table(&["PENDING PROBE", "VENDOR", "STATE", "WHEN"], &rows)
                );
            }
            print!("{}", render_own_downtime(&own, &all, now));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How far back `probe status` reports our own downtime.
const OWN_DOWNTIME_DAYS: i64 = 30;

/// Our side as the store knows it: mailbox cursors and recorded outages.
fn own_side(store: &crate::store::Store) -> Result<OwnSide, CliError> {
    Ok(OwnSide::from_store(store)?)
}

fn own_period(now: Timestamp) -> Timestamp {
    now.checked_sub(jiff::SignedDuration::from_hours(24 * OWN_DOWNTIME_DAYS))
        .unwrap_or(now)
}

fn own_downtime_json(own: &OwnSide, all: &[ProbeRecord], now: Timestamp) -> serde_json::Value {
    let from = own_period(now);
    let outages: Vec<_> = own
        .outages()
        .iter()
        .filter(|o| o.started_at <= now && o.ended_at.is_none_or(|e| e >= from))
        .collect();
    let flagged: Vec<_> = all
        .iter()
        .filter(|p| own.degraded(p).is_some())
        .map(|p| p.id.to_string())
        .collect();
    serde_json::json!({
        "from": from,
        "to": now,
        "totals": own::downtime(own.outages(), from, now),
        "outages": outages,
        "flagged_probes": flagged,
    })
}

/// The "our own downtime" section of `probe status`: never a vendor's figure.
pub fn render_own_downtime(own: &OwnSide, all: &[ProbeRecord], now: Timestamp) -> String {
    let from = own_period(now);
    let totals = own::downtime(own.outages(), from, now);
    let mut out = format!(
        "\nour own downtime, last {OWN_DOWNTIME_DAYS} days (not counted against any vendor):\n"
    );
    if totals.is_empty() {
        out.push_str("  none recorded\n");
        return out;
    }
    let rows: Vec<Vec<String>> = totals
        .iter()
        .map(|d| {
            vec![
                d.kind.to_string(),
                d.endpoint.clone(),
                d.persona.clone(),
                d.outages.to_string(),
                human(jiff::SignedDuration::from_secs(d.secs)),
                if d.ongoing { "ONGOING" } else { "ok" }.to_string(),
                d.last_reason.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "KIND",
            "ENDPOINT",
            "PERSONA",
            "OUTAGES",
            "DOWN FOR",
            "NOW",
            "LAST REASON",
        ],
        &rows,
    ));
    let flagged = all.iter().filter(|p| own.degraded(p).is_some()).count();
    if flagged > 0 {
        out.push_str(&format!(
            "  {flagged} probe(s) were filed or waited for replies during these outages; their \
             figures stand (server timestamps) but are flagged: `probe status --format json`\n"
        ));
    }
    out
}

/// The per-vendor table of `status` and the demo.
pub fn render_summary(summary: &[VendorStatus]) -> String {
    let rows: Vec<Vec<String>> = summary
        .iter()
        .map(|s| {
            let f = s.figures();
            let (inside, outside) = (s.in_hours(), s.out_of_hours());
            vec![
                s.vendor().to_string(),
                f.filed.to_string(),
                f.answered.to_string(),
                f.pending.to_string(),
                f.unanswered.to_string(),
                f.undeliverable.to_string(),
                f.uncertain.to_string(),
                (f.not_filed + f.skipped).to_string(),
                f.acknowledged.to_string(),
                format!("{} (n={})", inside.median.display(), inside.n),
                format!("{} (n={})", outside.median.display(), outside.n),
            ]
        })
        .collect();
    table(
        &[
            "VENDOR",
            "FILED",
            "ANSWERED",
            "PENDING",
            "UNANSWERED",
            "UNDELIVERABLE",
            "UNCERTAIN",
            "NOT FILED/SKIPPED",
            "ACKED",
            "MEDIAN 1ST HUMAN, IN HOURS",
            "OUT OF HOURS",
        ],
        &rows,
    )
}

/// One line per vendor whose readings rest on classifications marked
/// unsure; nothing when none does.
pub fn render_unsure(summary: &[VendorStatus]) -> String {
    let mut out = String::new();
    for s in summary.iter().filter(|s| s.figures().unsure > 0) {
        let n = s.figures().unsure;
        out.push_str(&format!(
            "  {}: {n} reading{} rest{} on unsure classifications (`probe review` lists them)\n",
            s.vendor(),
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
        ));
    }
    out
}

/// `probe show PROBE`.
pub fn show(g: &Global, probe: &str) -> Result<ExitCode, CliError> {
    let id = parse_id(probe)?;
    let store = wiring::open_store(g, config_if_any(g).as_ref())?;
    let Some(p) = store.get(&id)? else {
        return Err(CliError::Usage(format!(
            "no probe {id} in {}",
            store.path().display()
        )));
    };
    match g.format {
        Format::Json => print_json(&p),
        Format::Table | Format::Csv => print!("{}", timeline(&p)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A probe as a readable timeline.
pub fn timeline(p: &ProbeRecord) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "probe {}  ({} -> {}, via {})",
        p.id, p.persona, p.vendor, p.channel
    ));
    line(format!(
        "  state: {}{}",
        p.state,
        p.state_reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    ));
    line(format!(
        "  token: {}   probe: {}   zone: {}",
        p.token, p.probe, p.zone
    ));
    if p.rests_on_unsure() {
        line(
            "  UNSURE: this reading rests on a classification marked unsure; confirm it with \
             `probe review --confirm` or correct it with `probe relabel`"
                .to_string(),
        );
    }
    if let Some(w) = p.window {
        line(format!("  filed in the vendor's {}", w.as_str()));
    }
    line(format!("  {}  scheduled", p.scheduled_for));
    if p.due_at != p.scheduled_for {
        line(format!("  {}  due (after jitter)", p.due_at));
    }
    for a in &p.attempts {
        line(format!("  {}  send attempt: {}", a.at, a.outcome));
    }
    if let Some(f) = p.filed_at {
        line(format!("  {f}  FILED (clock starts)"));
    }
    let mut msgs: Vec<_> = p.messages.iter().collect();
    msgs.sort_by_key(|m| m.at);
    for m in msgs {
        let class = match &m.relabel {
            Some(r) => format!("{} (relabeled from {})", r.class, m.class),
            None => m.class.to_string(),
        };
        let elapsed = p
            .filed_at
            .map(|f| format!("+{}", human(m.at.duration_since(f))))
            .unwrap_or_default();
        let confidence = m.effective_confidence();
        line(format!(
            "  {}  {elapsed}  {class}  from {}  {:?}{}",
            m.at,
            m.from.as_deref().unwrap_or("?"),
            m.subject.as_deref().unwrap_or(""),
            if confidence == Confidence::Unsure {
                "  [UNSURE]"
            } else {
                ""
            }
        ));
        line(format!(
            "      confidence {confidence}{}  key {}  matched by {:?}, time from {:?}",
            if m.relabel.is_some() {
                " (a person's word)"
            } else {
                ""
            },
            m.key,
            m.matched_by,
            m.time_source
        ));
        for r in &m.reasons {
            line(format!("      because: {r}"));
        }
        for n in &m.notes {
            line(format!("      note: {n}"));
        }
        if let Some(q) = &m.quality {
            for l in quality_lines(q) {
                line(l);
            }
        }
    }
    if let Some(d) = p.time_to_first_human() {
        line(format!("  time to first human reply: {}", human(d)));
    }
    for r in &p.rounds {
        let what = if r.closing {
            "closing message".to_string()
        } else {
            format!("follow-up {}", r.index)
        };
        let when = r.sent_at.or(r.started_at).unwrap_or(r.due_at);
        line(format!(
            "  {when}  {what}: {}{}",
            match r.state {
                RoundState::Planned => format!("planned, due {}", r.due_at),
                RoundState::Sending => "sending".to_string(),
                RoundState::Sent => "sent".to_string(),
                RoundState::Failed => "failed, not retried".to_string(),
                RoundState::Skipped => "skipped".to_string(),
                RoundState::Uncertain => "uncertain, never re-sent".to_string(),
            },
            r.reason
                .as_ref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default()
        ));
        if let Some(c) = r.censored_at {
            line(format!(
                "  {c}  no human reply to {what} by its deadline (censored)"
            ));
        }
    }
    let conv = p.conversation();
    for (i, d) in conv.round_replies.iter().enumerate() {
        if let Some(d) = d {
            line(format!(
                "  follow-up {}: next human reply after {}",
                i + 1,
                human(*d)
            ));
        }
    }
    if let Some(r) = &p.resolution {
        line(format!(
            "  {}  RESOLVED by the vendor, {} after filing ({})",
            r.at,
            p.filed_at
                .map(|f| human(r.at.duration_since(f)))
                .unwrap_or_default(),
            r.by
        ));
    }
    if let Some((n, d)) = conv.answered_after {
        line(format!(
            "  answered (expect matched) on human reply {n}, {} after filing",
            human(d)
        ));
    } else if conv.answered_on_first_reply == Some(false) {
        line("  no human reply so far contains what `expect` looks for".to_string());
    }
    if let Some(d) = p.time_to_first_ack() {
        line(format!("  time to acknowledgement: {}", human(d)));
    }
    if let Some(c) = p.censored_at {
        line(format!(
            "  {c}  no human reply by the deadline (censored observation)"
        ));
    }
    for n in &p.notes {
        line(format!("  note: {n}"));
    }
    out
}

/// The judged traits of a human reply, one line each with its rule.
fn quality_lines(q: &Quality) -> Vec<String> {
    let mut out = Vec::new();
    let language = q.language.as_ref().map_or_else(
        || "not detected".to_string(),
        |l| format!("{} ({}% sure)", l.tag, l.confidence),
    );
    out.push(format!(
        "      reply: language {language}, {} new words",
        q.new_words
    ));
    let traits = [
        ("personal", &q.personal),
        ("templated", &q.templated),
        ("specific", &q.specific),
        ("asks back", &q.asks_back),
        ("answers", &q.answers),
    ];
    for (name, t) in traits {
        if let Some(t) = t {
            out.push(format!(
                "      {name}: {}{}  ({})",
                if t.value { "yes" } else { "no" },
                if t.corrected { ", corrected" } else { "" },
                t.rule
            ));
        }
    }
    out
}

/// `probe resolve PROBE filed|not-filed`.
pub fn resolve(g: &Global, probe: &str, outcome: ResolveOutcome) -> Result<ExitCode, CliError> {
    let id = parse_id(probe)?;
    let store = wiring::open_store(g, config_if_any(g).as_ref())?;
    let now = Timestamp::now();
    let updated = store.write(|tx| -> Result<Option<ProbeRecord>, CliError> {
        let Some(mut p) = tx.get(&id)? else {
            return Ok(None);
        };
        if p.state != ProbeState::Uncertain {
            return Err(CliError::Usage(format!(
                "probe {id} is {}, not uncertain; nothing to resolve",
                p.state
            )));
        }
        let api_without_ticket = p
            .watch_key
            .as_deref()
            .is_some_and(|k| k.starts_with("http:"))
            && p.vendor_refs.is_empty();
        if matches!(outcome, ResolveOutcome::Filed) && api_without_ticket {
            // Its replies could never be read, so it would end up counted
            // as unanswered: blaming the vendor for what we do not know.
            return Err(CliError::Usage(format!(
                "probe {id} went to a ticket API and its ticket id is unknown (the token search has not found it), \
                 so its replies cannot be read; resolve it not-filed"
            )));
        }
        match outcome {
            ResolveOutcome::Filed => {
                p.state = ProbeState::Filed;
                p.filed_at = p.filed_at.or(p.filing_started_at);
                p.notes.push(format!(
                    "resolved as filed by an operator at {now}; filed_at is the start of the send attempt"
                ));
                p.recompute();
            }
            ResolveOutcome::NotFiled => {
                p.state = ProbeState::NotFiled;
                p.notes.push(format!("resolved as not filed by an operator at {now}"));
            }
        }
        tx.put(&p)?;
        Ok(Some(p))
    })?;
    match updated {
        Some(p) => {
            println!("probe {} is now {}", p.id, p.state);
            Ok(ExitCode::SUCCESS)
        }
        None => Err(CliError::Usage(format!("no probe {id}"))),
    }
}
