//! `probe classify` (offline classification of raw messages, alone or as
//! the threads of probes) and `probe relabel` (a user's correction of a
//! recorded message's class).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, print_json};
use super::{CliError, EX_FAILURE, Global, wiring};
use crate::classify::{self, Classification, Context, MessageFacts, Rules};
use crate::model::{
    Class, Confidence, MatchedBy, MessageRecord, ProbeId, ProbeRecord, Quality, Relabel,
    TimeSource, Trait,
};
use crate::store::WriteTx;
use crate::table::columns as table;

/// Messages larger than this are refused rather than read into memory.
const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// The header our own probes carry.
const PROBE_HEADER: &str = "x-support-probe";

/// `probe classify` options.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Raw RFC 5322 messages (.eml), each classified on its own.
    #[arg(required_unless_present = "thread")]
    pub files: Vec<PathBuf>,
    /// A directory holding the messages of one probe, read in file-name
    /// order: each is classified knowing the earlier ones. If the first is
    /// our probe (an X-Support-Probe header, or From a persona of the
    /// config), it gives the filing instant and our address. May be
    /// repeated; the canned-text rule compares the threads given.
    #[arg(long, value_name = "DIR")]
    pub thread: Vec<PathBuf>,
    /// Read FILES as one thread, in the order given (as --thread reads a
    /// directory).
    #[arg(long, requires = "files")]
    pub as_thread: bool,
    /// Use this vendor's helpdesk and override rules from the config.
    #[arg(long)]
    pub vendor: Option<String>,
}

/// The name a thread of `--as-thread` files goes by.
const FILES_THREAD: &str = "(the files given)";

#[derive(Debug, serde::Serialize)]
struct Verdict {
    file: PathBuf,
    /// The `--thread` directory the message belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    thread: Option<PathBuf>,
    /// The thread's first message was our own probe: not classified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    our_probe: bool,
    class: Option<Class>,
    confidence: Option<Confidence>,
    reasons: Vec<String>,
    subject: Option<String>,
    from: Option<String>,
    message_id: Option<String>,
    ticket_refs: Vec<String>,
    probe_tokens: Vec<String>,
    error: Option<String>,
}

impl Verdict {
    fn failed(file: PathBuf, thread: Option<PathBuf>, error: String) -> Verdict {
        Verdict {
            file,
            thread,
            our_probe: false,
            class: None,
            confidence: None,
            reasons: Vec::new(),
            subject: None,
            from: None,
            message_id: None,
            ticket_refs: Vec::new(),
            probe_tokens: Vec::new(),
            error: Some(error),
        }
    }

    fn of(
        file: PathBuf,
        thread: Option<PathBuf>,
        facts: &MessageFacts,
        c: Classification,
    ) -> Verdict {
        Verdict {
            file,
            thread,
            our_probe: false,
            class: Some(c.class),
            confidence: Some(c.confidence),
            reasons: c.reasons,
            subject: facts.subject.clone(),
            from: facts.from_addr.clone(),
            message_id: facts.message_id.clone(),
            ticket_refs: facts.ticket_refs.clone(),
            probe_tokens: facts.probe_tokens.clone(),
            error: None,
        }
    }
}

fn read_message(path: &Path) -> Result<Vec<u8>, String> {
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

/// The files of a thread directory, sorted by name (hidden files and
/// subdirectories left out).
fn thread_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the directory: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the directory: {e}"))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err("the directory holds no message files".into());
    }
    Ok(files)
}

/// One message of a thread, read and parsed.
struct Parsed {
    file: PathBuf,
    facts: MessageFacts,
    parse_error: Option<String>,
}

/// A `--thread` directory, read.
struct Thread {
    dir: PathBuf,
    /// Our probe, when the first message is ours.
    probe: Option<Parsed>,
    messages: Vec<Parsed>,
    /// The fingerprint of each of `messages`.
    fingerprints: Vec<Option<String>>,
}

/// Reads a thread directory; a file that cannot be read is a verdict with
/// its error.
fn read_thread_dir(
    dir: &Path,
    ours: &[String],
    vendor: Option<&str>,
    failed: &mut Vec<Verdict>,
) -> Option<Thread> {
    match thread_files(dir) {
        Ok(files) => read_thread(dir, files, ours, vendor, failed),
        Err(e) => {
            failed.push(Verdict::failed(
                dir.to_path_buf(),
                Some(dir.to_path_buf()),
                e,
            ));
            None
        }
    }
}

/// Reads the messages of one thread, named `dir`, in the order given.
fn read_thread(
    dir: &Path,
    files: Vec<PathBuf>,
    ours: &[String],
    vendor: Option<&str>,
    failed: &mut Vec<Verdict>,
) -> Option<Thread> {
    let mut parsed = Vec::new();
    for file in files {
        match read_message(&file) {
            Ok(raw) => {
                let (facts, parse_error) = classify::parse_guarded(&raw);
                parsed.push(Parsed {
                    file,
                    facts,
                    parse_error,
                });
            }
            Err(e) => failed.push(Verdict::failed(file, Some(dir.to_path_buf()), e)),
        }
    }
    let first_is_ours = parsed.first().is_some_and(|m| {
        m.facts.header(PROBE_HEADER).is_some()
            || m.facts
                .from_addr
                .as_deref()
                .is_some_and(|f| ours.iter().any(|o| o.eq_ignore_ascii_case(f)))
    });
    let probe = if first_is_ours && !parsed.is_empty() {
        Some(parsed.remove(0))
    } else {
        None
    };
    let mut strip: Vec<&str> = vendor.into_iter().collect();
    if let Some(subject) = probe.as_ref().and_then(|p| p.facts.subject.as_deref()) {
        strip.push(subject);
    }
    let fingerprints = parsed
        .iter()
        .map(|m| classify::fingerprint(&m.facts, &strip))
        .collect();
    Some(Thread {
        dir: dir.to_path_buf(),
        probe,
        messages: parsed,
        fingerprints,
    })
}

/// Classifies a thread's messages in order, each knowing the earlier ones;
/// `others` are every thread's fingerprints, for the canned-text rule.
fn classify_thread(
    t: &Thread,
    index: usize,
    others: &[(String, Vec<Option<String>>)],
    rules: &Rules,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut our_addresses = Vec::new();
    let mut filed_at = None;
    if let Some(p) = &t.probe {
        our_addresses.extend(p.facts.from_addr.iter().map(|a| a.to_lowercase()));
        filed_at = p.facts.date;
        out.push(Verdict {
            file: p.file.clone(),
            thread: Some(t.dir.clone()),
            our_probe: true,
            class: None,
            confidence: None,
            reasons: vec![format!(
                "our probe: not classified; filed {}, from {}",
                filed_at.map_or_else(
                    || "at an unknown time (no Date header)".to_string(),
                    |d| d.to_string()
                ),
                p.facts.from_addr.as_deref().unwrap_or("?")
            )],
            subject: p.facts.subject.clone(),
            from: p.facts.from_addr.clone(),
            message_id: p.facts.message_id.clone(),
            ticket_refs: p.facts.ticket_refs.clone(),
            probe_tokens: p.facts.probe_tokens.clone(),
            error: None,
        });
    }
    let mut thread: Vec<MessageRecord> = Vec::new();
    for (m, fingerprint) in t.messages.iter().zip(&t.fingerprints) {
        let canned = fingerprint.as_ref().and_then(|f| {
            others
                .iter()
                .enumerate()
                .find(|(j, (_, fps))| *j != index && fps.iter().any(|x| x.as_ref() == Some(f)))
                .map(|(_, (name, _))| name.as_str())
        });
        let since_filing = match (filed_at, m.facts.date) {
            (Some(f), Some(d)) => Some(d.duration_since(f)),
            _ => None,
        };
        let ctx = Context {
            rules,
            canned_match: canned,
            our_addresses: &our_addresses,
            since_filing,
            thread: &thread,
        };
        let c = classify::classify_guarded(&m.facts, &ctx, m.parse_error.as_deref());
        thread.push(MessageRecord {
            key: m.file.display().to_string(),
            message_id: m.facts.message_id.clone(),
            at: m.facts.date.or(filed_at).unwrap_or(Timestamp::UNIX_EPOCH),
            time_source: TimeSource::DateHeader,
            date_header: m.facts.date,
            received_header: m.facts.top_received,
            from: m.facts.from_addr.clone(),
            subject: m.facts.subject.clone(),
            class: c.class,
            confidence: c.confidence,
            reasons: c.reasons.clone(),
            relabel: None,
            matched_by: MatchedBy::Token,
            fingerprint: fingerprint.clone(),
            vendor_refs: m.facts.ticket_refs.clone(),
            notes: Vec::new(),
            markers: c.markers.clone(),
            quality: None,
        });
        out.push(Verdict::of(
            m.file.clone(),
            Some(t.dir.clone()),
            &m.facts,
            c,
        ));
    }
    out
}

/// `probe classify`.
pub fn classify(g: &Global, args: ClassifyArgs) -> Result<ExitCode, CliError> {
    // With --vendor the config must be valid; without, a config that loads
    // only names our personas' addresses (to recognise our probe in a thread).
    let config = match &args.vendor {
        Some(_) => Some(wiring::load_config(g)?),
        None if args.as_thread || !args.thread.is_empty() => {
            crate::config::load(&g.config).ok().map(|l| l.config)
        }
        None => None,
    };
    let rules = match (&args.vendor, &config) {
        (Some(name), Some(config)) => {
            let vendor = config.vendor(name).ok_or_else(|| {
                CliError::Usage(format!(
                    "no vendor named {name:?} in {}",
                    g.config.display()
                ))
            })?;
            crate::engine::rules_for(vendor)
        }
        _ => Rules::default(),
    };
    let ours: Vec<String> = config
        .iter()
        .flat_map(|c| c.personas.iter().map(|p| p.address.to_lowercase()))
        .collect();
    let mut verdicts = Vec::new();
    let loose: &[PathBuf] = if args.as_thread { &[] } else { &args.files };
    for file in loose {
        let v = match read_message(file) {
            Ok(raw) => {
                let (facts, parse_error) = classify::parse_guarded(&raw);
                let c = classify::classify_guarded(
                    &facts,
                    &Context::new(&rules),
                    parse_error.as_deref(),
                );
                Verdict::of(file.clone(), None, &facts, c)
            }
            Err(error) => Verdict::failed(file.clone(), None, error),
        };
        verdicts.push(v);
    }
    let vendor = args.vendor.as_deref();
    let mut threads: Vec<Thread> = Vec::new();
    if args.as_thread {
        let files = args.files.clone();
        threads.extend(read_thread(
            Path::new(FILES_THREAD),
            files,
            &ours,
            vendor,
            &mut verdicts,
        ));
    }
    threads.extend(
        args.thread
            .iter()
            .filter_map(|dir| read_thread_dir(dir, &ours, vendor, &mut verdicts)),
    );
    let prints: Vec<(String, Vec<Option<String>>)> = threads
        .iter()
        .map(|t| (t.dir.display().to_string(), t.fingerprints.clone()))
        .collect();
    for (i, t) in threads.iter().enumerate() {
        verdicts.extend(classify_thread(t, i, &prints, &rules));
    }
    match g.format {
        Format::Json => print_json(&verdicts),
        Format::Table | Format::Csv => {
            let rows: Vec<Vec<String>> = verdicts
                .iter()
                .map(|v| {
                    let class = if v.our_probe {
                        "our probe".to_string()
                    } else {
                        v.class
                            .map_or_else(|| "error".to_string(), |c| c.to_string())
                    };
                    vec![
                        v.file.display().to_string(),
                        class,
                        v.confidence
                            .map_or_else(|| "-".to_string(), |c| c.to_string()),
                        v.error.clone().unwrap_or_else(|| v.reasons.join("; ")),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(&["FILE", "CLASS", "CONFIDENCE", "REASONS"], &rows)
            );
            if threads.is_empty() {
                println!(
                    "(offline: each file is read alone; --thread DIR reads a probe's messages in order, \
                     and the canned-text rule compares the threads given)"
                );
            } else {
                println!(
                    "(offline: the canned-text rule compared the {} thread(s) given, not the store)",
                    threads.len()
                );
            }
        }
    }
    Ok(if verdicts.iter().any(|v| v.error.is_some()) {
        ExitCode::from(EX_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `probe relabel PROBE MESSAGE CLASS` or `probe relabel PROBE MESSAGE TRAIT=yes|no`.
pub fn relabel(g: &Global, probe: &str, message: &str, class: &str) -> Result<ExitCode, CliError> {
    let id = ProbeId::parse(probe).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some((name, value)) = class.split_once('=') {
        let value = match value {
            "yes" | "true" => true,
            "no" | "false" => false,
            _ => {
                return Err(CliError::Usage(format!(
                    "{class:?}: a trait is set to yes or no, e.g. personal=no"
                )));
            }
        };
        if !Quality::TRAITS.contains(&name) {
            return Err(CliError::Usage(format!(
                "unknown trait {name:?}; expected one of {}",
                Quality::TRAITS.join(", ")
            )));
        }
        let config = crate::config::load(&g.config).ok().map(|l| l.config);
        let store = wiring::open_store(g, config.as_ref())?;
        let now = Timestamp::now();
        let rec = store.write(|tx| set_trait(tx, &id, message, name, value, now))?;
        println!(
            "corrected: {name} = {}; probe {}",
            if value { "yes" } else { "no" },
            rec.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let class = Class::parse(class).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown class {class:?}; expected one of {}",
            Class::ALL.map(Class::as_str).join(", ")
        ))
    })?;
    let config = crate::config::load(&g.config).ok().map(|l| l.config);
    let store = wiring::open_store(g, config.as_ref())?;
    let now = Timestamp::now();
    let rec = store.write(|tx| set_class(tx, &id, message, Some(class), now))?;
    println!("relabeled; probe {} is now {}", rec.id, rec.state);
    Ok(ExitCode::SUCCESS)
}

/// Records a person's word on one message of probe `id`: a relabel to
/// `class`, or with `None` a confirmation of its class as it is (a relabel
/// to the same class: the verdict is kept, the confidence becomes certain).
/// Then the reading is settled ([`settle`]) and stored.
pub(super) fn set_class(
    tx: &mut WriteTx<'_>,
    id: &ProbeId,
    message: &str,
    class: Option<Class>,
    now: Timestamp,
) -> Result<ProbeRecord, CliError> {
    let mut p = probe_of(tx, id)?;
    let m = message_of(&mut p, message)?;
    let class = class.unwrap_or_else(|| m.effective_class());
    m.relabel = Some(Relabel { class, at: now });
    settle(tx, &mut p, now)?;
    Ok(p)
}

/// Probe `id`, or a usage error naming it.
fn probe_of(tx: &WriteTx<'_>, id: &ProbeId) -> Result<ProbeRecord, CliError> {
    tx.get(id)?
        .ok_or_else(|| CliError::Usage(format!("no probe {id}")))
}

/// The message of `p` with key or Message-ID `message` (angle brackets
/// allowed), or a usage error naming it.
fn message_of<'p>(
    p: &'p mut ProbeRecord,
    message: &str,
) -> Result<&'p mut MessageRecord, CliError> {
    let wanted = message.trim_matches(['<', '>']);
    let id = p.id.clone();
    p.messages
        .iter_mut()
        .find(|m| m.key == wanted || m.message_id.as_deref() == Some(wanted))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "probe {id} has no message {message:?} (see `probe show {id}`)"
            ))
        })
}

/// Records a person's correction of one judged trait of a human reply
/// (`personal`, `templated`, ...): the value changes, the rule keeps what
/// was judged and says who changed it.
fn set_trait(
    tx: &mut WriteTx<'_>,
    id: &ProbeId,
    message: &str,
    name: &str,
    value: bool,
    now: Timestamp,
) -> Result<ProbeRecord, CliError> {
    let mut p = probe_of(tx, id)?;
    let m = message_of(&mut p, message)?;
    if m.effective_class() != Class::Human {
        return Err(CliError::Usage(format!(
            "message {message:?} is {}, not a human reply: only human replies have traits",
            m.effective_class()
        )));
    }
    let quality = m.quality.get_or_insert_with(Quality::default);
    let slot = quality
        .trait_mut(name)
        .ok_or_else(|| CliError::Usage(format!("unknown trait {name:?}")))?;
    let judged = slot
        .as_ref()
        .map_or_else(|| "not judged".to_string(), |t| t.rule.clone());
    *slot = Some(Trait {
        value,
        rule: format!("set by a person at {now} (judged: {judged})"),
        corrected: true,
    });
    tx.put(&p)?;
    Ok(p)
}

/// Recomputes a probe's reading after a person changed its evidence
/// (relabel, confirmation, attach) and stores it. Taking away the only
/// human reply of a probe whose answer window has passed makes it
/// unanswered, if its mailbox was read that far.
pub(super) fn settle(
    tx: &mut WriteTx<'_>,
    p: &mut ProbeRecord,
    now: Timestamp,
) -> Result<(), CliError> {
    p.recompute();
    crate::engine::close_if_due(tx, p, now)?;
    tx.put(p)?;
    Ok(())
}
