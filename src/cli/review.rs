//! `probe review` (the messages a person should look at: classifications
//! marked unsure, and replies that matched no probe), `probe review
//! --confirm` (a person's confirmation of a class as it is) and `probe
//! attach` (tie an unmatched reply to its probe).
//!
//! A confirmation is stored as a relabel to the same class and an attach
//! keeps the unmatched row, marked attached: the classifier's verdict and
//! the original state stay on record next to the person's word.

use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;
use serde::Serialize;

use super::classify::{set_class, settle};
use super::output::{Format, print_json};
use super::{CliError, Global, wiring};
use crate::model::{Class, Confidence, ProbeId, ProbeRecord, ProbeState};
use crate::store::{Attachment, Unmatched};
use crate::table::columns as table;

/// `probe review` options.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Confirm the class of one message as it is: its confidence becomes
    /// certain and it leaves the list (use `probe relabel` to change it).
    #[arg(long, num_args = 2, value_names = ["PROBE", "MESSAGE"])]
    pub confirm: Option<Vec<String>>,
}

/// Why a message is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    /// Recorded on a probe with an `unsure` class.
    Unsure,
    /// Matched no probe; `probe` is the likely one.
    Unmatched,
}

/// One message to look at.
#[derive(Debug, Serialize)]
struct Item {
    kind: Kind,
    /// The probe it is on, or for an unmatched message the likely probe.
    probe: String,
    vendor: String,
    /// The message key, as `probe relabel`, `--confirm` and `attach` take it.
    message: String,
    at: Timestamp,
    from: Option<String>,
    subject: Option<String>,
    class: Class,
    confidence: Confidence,
    /// The first reason the classifier gave.
    reason: Option<String>,
    /// For an unmatched message: why it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

fn unsure_items(probes: &[ProbeRecord]) -> Vec<Item> {
    probes
        .iter()
        .flat_map(|p| {
            p.messages
                .iter()
                .filter(|m| m.effective_confidence() == Confidence::Unsure)
                .map(move |m| Item {
                    kind: Kind::Unsure,
                    probe: p.id.to_string(),
                    vendor: p.vendor.clone(),
                    message: m.key.clone(),
                    at: m.at,
                    from: m.from.clone(),
                    subject: m.subject.clone(),
                    class: m.effective_class(),
                    confidence: m.effective_confidence(),
                    reason: m.reasons.first().cloned(),
                    why: None,
                })
        })
        .collect()
}

fn unmatched_item(u: &Unmatched) -> Item {
    Item {
        kind: Kind::Unmatched,
        probe: u.likely_probe.to_string(),
        vendor: u.vendor.clone(),
        message: u.key.clone(),
        at: u.at,
        from: u.from.clone(),
        subject: u.subject.clone(),
        class: u.class,
        confidence: u.confidence,
        reason: u.reasons.first().cloned(),
        why: Some(u.why.clone()),
    }
}

/// `probe review` and `probe review --confirm PROBE MESSAGE`.
pub fn review(g: &Global, args: ReviewArgs) -> Result<ExitCode, CliError> {
    let config = crate::config::load(&g.config).ok().map(|l| l.config);
    let store = wiring::open_store(g, config.as_ref())?;
    if let Some(pair) = args.confirm {
        let [probe, message] = pair.as_slice() else {
            return Err(CliError::Usage(
                "--confirm takes a probe id and a message key".into(),
            ));
        };
        let id = ProbeId::parse(probe).map_err(|e| CliError::Usage(e.to_string()))?;
        let now = Timestamp::now();
        let rec = store.write(|tx| set_class(tx, &id, message, None, now))?;
        println!(
            "confirmed; the class stands as certain; probe {} is {}",
            rec.id, rec.state
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut items = unsure_items(&store.all()?);
    items.extend(
        store
            .unmatched()?
            .iter()
            .filter(|u| u.attached.is_none())
            .map(unmatched_item),
    );
    items.sort_by(|a, b| (a.at, &a.message).cmp(&(b.at, &b.message)));
    match g.format {
        Format::Json => print_json(&items),
        Format::Table | Format::Csv => {
            if items.is_empty() {
                println!("nothing to review: no unsure classification, no unmatched reply");
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|i| {
                    vec![
                        match i.kind {
                            Kind::Unsure => "unsure".to_string(),
                            Kind::Unmatched => "unmatched".to_string(),
                        },
                        match i.kind {
                            Kind::Unsure => i.probe.clone(),
                            Kind::Unmatched => format!("{} (likely)", i.probe),
                        },
                        i.vendor.clone(),
                        i.message.clone(),
                        i.at.to_string(),
                        i.from.clone().unwrap_or_else(|| "?".into()),
                        format!("{:?}", i.subject.as_deref().unwrap_or("")),
                        format!("{} ({})", i.class, i.confidence),
                        i.why
                            .iter()
                            .chain(&i.reason)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("; "),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(
                    &[
                        "KIND", "PROBE", "VENDOR", "MESSAGE", "AT", "FROM", "SUBJECT", "CLASS",
                        "REASON",
                    ],
                    &rows
                )
            );
            println!(
                "\nunsure: `probe review --confirm PROBE MESSAGE` if the class is right, \
                 `probe relabel PROBE MESSAGE CLASS` if not\n\
                 unmatched: `probe attach MESSAGE PROBE` ties the reply to its probe"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `probe attach MESSAGE PROBE`: the unmatched reply becomes a message of
/// the probe (matched by `attached`), the reading is recomputed as for a
/// relabel, and the unmatched row is marked attached.
pub fn attach(g: &Global, message: &str, probe: &str) -> Result<ExitCode, CliError> {
    let id = ProbeId::parse(probe).map_err(|e| CliError::Usage(e.to_string()))?;
    let config = crate::config::load(&g.config).ok().map(|l| l.config);
    let store = wiring::open_store(g, config.as_ref())?;
    let now = Timestamp::now();
    let rec = store.write(|tx| -> Result<ProbeRecord, CliError> {
        let mut u = tx.unmatched(message)?.ok_or_else(|| {
            CliError::Usage(format!(
                "no unmatched message {message:?} (see `probe review`)"
            ))
        })?;
        if let Some(a) = &u.attached {
            return Err(CliError::Usage(format!(
                "message {message:?} was attached to probe {} at {}",
                a.probe, a.at
            )));
        }
        let mut p = tx
            .get(&id)?
            .ok_or_else(|| CliError::Usage(format!("no probe {id}")))?;
        if matches!(
            p.state,
            ProbeState::Planned | ProbeState::Filing | ProbeState::NotFiled | ProbeState::Skipped
        ) {
            return Err(CliError::Usage(format!(
                "probe {id} is {}: it never reached the vendor, so no reply can belong to it",
                p.state
            )));
        }
        if p.messages.iter().any(|m| m.key == u.key) {
            return Err(CliError::Usage(format!(
                "probe {id} already has message {message:?}"
            )));
        }
        let m = u.message_record(now);
        if let Some(f) = &m.fingerprint
            && !matches!(m.class, Class::Bounce | Class::Delay)
        {
            tx.add_fingerprint(&p.vendor, f, &p.id, &m.key)?;
        }
        for r in &m.vendor_refs {
            if !p.vendor_refs.contains(r) {
                p.vendor_refs.push(r.clone());
            }
            tx.add_ref(r, &p.id)?;
        }
        if p.vendor != u.vendor {
            p.notes.push(format!(
                "message {} came from vendor {}'s side and was attached here by a person",
                u.key, u.vendor
            ));
        }
        p.messages.push(m);
        settle(tx, &mut p, now)?;
        u.attached = Some(Attachment {
            probe: p.id.clone(),
            at: now,
        });
        tx.put_unmatched(&u)?;
        Ok(p)
    })?;
    let answered = rec
        .time_to_first_human()
        .map(|d| format!(", first human reply after {}", crate::duration::human(d)))
        .unwrap_or_default();
    println!("attached; probe {} is now {}{answered}", rec.id, rec.state);
    Ok(ExitCode::SUCCESS)
}
