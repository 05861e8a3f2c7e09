//! `probe classify` (offline classification of raw messages) and
//! `probe relabel` (a user's correction of a recorded message's class).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, print_json, table};
use super::{CliError, EX_FAILURE, Global, wiring};
use crate::classify::{self, Context, Rules};
use crate::model::{Class, ProbeId, ProbeRecord, Relabel};

/// Messages larger than this are refused rather than read into memory.
const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// `probe classify` options.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Raw RFC 5322 messages (.eml).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Use this vendor's helpdesk and override rules from the config.
    #[arg(long)]
    pub vendor: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct Verdict {
    file: PathBuf,
    class: Option<Class>,
    reasons: Vec<String>,
    subject: Option<String>,
    from: Option<String>,
    message_id: Option<String>,
    ticket_refs: Vec<String>,
    probe_tokens: Vec<String>,
    error: Option<String>,
}

fn read_message(path: &PathBuf) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "{} bytes is larger than the {} MiB this command reads",
            meta.len(),
            MAX_MESSAGE_BYTES / 1024 / 1024
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

/// `probe classify`.
pub fn classify(g: &Global, args: ClassifyArgs) -> Result<ExitCode, CliError> {
    let rules = match &args.vendor {
        Some(name) => {
            let config = wiring::load_config(g)?;
            let vendor = config.vendor(name).ok_or_else(|| {
                CliError::Usage(format!(
                    "no vendor named {name:?} in {}",
                    g.config.display()
                ))
            })?;
            crate::engine::rules_for(vendor)
        }
        None => Rules::default(),
    };
    let mut verdicts = Vec::new();
    for file in &args.files {
        let v = match read_message(file) {
            Ok(raw) => {
                let facts = classify::parse(&raw);
                let c = classify::classify(
                    &facts,
                    &Context::new(&rules),
                );
                Verdict {
                    file: file.clone(),
                    class: Some(c.class),
                    reasons: c.reasons,
                    subject: facts.subject,
                    from: facts.from_addr,
                    message_id: facts.message_id,
                    ticket_refs: facts.ticket_refs,
                    probe_tokens: facts.probe_tokens,
                    error: None,
                }
            }
            Err(error) => Verdict {
                file: file.clone(),
                class: None,
                reasons: Vec::new(),
                subject: None,
                from: None,
                message_id: None,
                ticket_refs: Vec::new(),
                probe_tokens: Vec::new(),
                error: Some(error),
            },
        };
        verdicts.push(v);
    }
    match g.format {
        Format::Json => print_json(&verdicts),
        Format::Table | Format::Csv => {
            let rows: Vec<Vec<String>> = verdicts
                .iter()
                .map(|v| {
                    vec![
                        v.file.display().to_string(),
                        v.class
                            .map_or_else(|| "error".to_string(), |c| c.to_string()),
                        v.error.clone().unwrap_or_else(|| v.reasons.join("; ")),
                    ]
                })
                .collect();
            print!("{}", table(&["FILE", "CLASS", "REASONS"], &rows));
            println!("(offline: the canned-text rule needs the store and is not applied here)");
        }
    }
    Ok(if verdicts.iter().any(|v| v.error.is_some()) {
        ExitCode::from(EX_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `probe relabel PROBE MESSAGE CLASS`.
pub fn relabel(g: &Global, probe: &str, message: &str, class: &str) -> Result<ExitCode, CliError> {
    let id = ProbeId::parse(probe).map_err(|e| CliError::Usage(e.to_string()))?;
    let class = Class::parse(class).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown class {class:?}; expected one of {}",
            Class::ALL.map(Class::as_str).join(", ")
        ))
    })?;
    let config = crate::config::load(&g.config).ok().map(|l| l.config);
    let store = wiring::open_store(g, config.as_ref())?;
    let wanted = message.trim_matches(['<', '>']);
    let now = Timestamp::now();
    let rec = store.write(|tx| -> Result<ProbeRecord, CliError> {
        let mut p = tx
            .get(&id)?
            .ok_or_else(|| CliError::Usage(format!("no probe {id}")))?;
        let m = p
            .messages
            .iter_mut()
            .find(|m| m.key == wanted || m.message_id.as_deref() == Some(wanted))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "probe {id} has no message {message:?} (see `probe show {id}`)"
                ))
            })?;
        m.relabel = Some(Relabel { class, at: now });
        p.recompute();
        // Taking away the only human reply of a probe whose answer window
        // has passed makes it unanswered, if its mailbox was read that far.
        crate::engine::close_if_due(tx, &mut p, now)?;
        tx.put(&p)?;
        Ok(p)
    })?;
    println!("relabeled; probe {} is now {}", rec.id, rec.state);
    Ok(ExitCode::SUCCESS)
}
