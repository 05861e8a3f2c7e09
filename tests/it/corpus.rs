//! The classifier against a corpus of real bounce messages nobody on this
//! project wrote: the test data of flufl.bounce 6.0.0 (GNU Mailman's bounce
//! detector), fetched and cached by `scripts/corpus`.
//!
//! Every message in it (but the few listed in [`NOT_BOUNCES`]) is a delivery
//! failure or delay report from some mail system of the last twenty-five
//! years: Postfix, Exim, qmail, Sendmail, Exchange, GroupWise, Yahoo, AOL,
//! Sina, virus scanners, ... Reading one of them as `human` would stop a
//! probe's clock on a message no person wrote, so none may be; and at least
//! [`MIN_PERCENT`] % must be read as `bounce` or `delay`. A failure prints a
//! table of every misreading with the classifier's reasons.
//!
//! The first run needs the network (PyPI); later runs use the copy cached in
//! `target/corpus/`. A failed fetch fails the test: it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use support_probe::classify::{Context, Rules, classify, parse};
use support_probe::model::{Class, Confidence};

/// The share of the corpus that must be read as `bounce` or `delay`.
const MIN_PERCENT: usize = 98;

/// Files in the corpus that are not delivery reports, with why: they are left
/// out. Each was decided by reading the message.
const NOT_BOUNCES: &[(&str, &str)] = &[
    // A person's reply, not a bounce: Outlook 2003 mail from a hotel's
    // reservations desk answering a booking thread.
    (
        "groupwise_03.txt",
        "a person's reply (Outlook, \"RE: Vuille - (PO28169) - IND\") from a hotel's \
         reservations desk, quoting a forwarded booking; flufl.bounce keeps it only to \
         check that its GroupWise detector finds no address in it",
    ),
    // An auto-reply acknowledgement (an `ack`), not a bounce.
    (
        "qmail_08.txt",
        "an automatic acknowledgement (\"Auto reply\", Precedence: auto_reply, \"Gracias \
         por contactar con nosotros!! ... estamos procesando la respuesta a tu consulta\"), \
         not a delivery report; flufl.bounce keeps it only as a charset crash regression",
    ),
];

/// The files flufl.bounce's own tests read as temporary failures (delays).
/// Whether these come out as `delay` rather than `bounce` is printed, not
/// asserted: a delay read as a bounce still keeps the clock running.
const DELAYS: &[&str] = &[
    "dsn_05.txt",
    "dsn_06.txt",
    "dsn_07.txt",
    "dsn_08.txt",
    "dsn_17.txt",
    "simple_03.txt",
    "simple_21.txt",
    "simple_22.txt",
    "simple_28.txt",
    "simple_35.txt",
    "simple_40.txt",
];

/// One message's reading.
struct Reading {
    file: String,
    class: Class,
    confidence: Confidence,
    reasons: Vec<String>,
}

/// Runs `scripts/corpus` and returns the data folder it prints.
fn corpus_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scripts/corpus");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/corpus failed ({}), so the bounce corpus could not be fetched; this test \
         needs it (the first run needs network access to PyPI). Its output:\n{stderr}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = PathBuf::from(stdout.trim());
    assert!(
        dir.is_dir(),
        "scripts/corpus printed {:?}, which is not a folder. Its stderr:\n{stderr}",
        stdout.trim()
    );
    dir
}

/// Classifies every `*.txt` message in `dir`, by file name.
fn read_corpus(dir: &Path) -> Vec<Reading> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let rules = Rules::default();
    let ctx = Context::new(&rules);
    files
        .iter()
        .map(|path| {
            let raw = std::fs::read(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let facts = parse(&raw);
            let verdict = classify(&facts, &ctx);
            Reading {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                class: verdict.class,
                confidence: verdict.confidence,
                reasons: verdict.reasons,
            }
        })
        .collect()
}

/// A table of readings, one line each, with every reason.
fn table(rows: &[&Reading]) -> String {
    let mut out = format!("{:<20} {:<14} {:<8} reasons\n", "file", "class", "conf.");
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:<14} {:<8} {}\n",
            r.file,
            r.class.as_str(),
            r.confidence.as_str(),
            r.reasons.join(" | ")
        ));
    }
    out
}

#[test]
fn real_bounces_are_read_as_bounces() {
    let dir = corpus_dir();
    let all = read_corpus(&dir);
    for (name, why) in NOT_BOUNCES {
        assert!(
            all.iter().any(|r| r.file == *name),
            "{name} is listed as not a bounce ({why}) but is not in the corpus: \
             has scripts/corpus changed version?"
        );
    }
    let readings: Vec<&Reading> = all
        .iter()
        .filter(|r| !NOT_BOUNCES.iter().any(|(name, _)| *name == r.file))
        .collect();
    assert!(
        readings.len() >= 100,
        "only {} messages in {}: the corpus is incomplete",
        readings.len(),
        dir.display()
    );

    for r in &readings {
        println!(
            "{:<20} {:<14} {:<8} {}",
            r.file,
            r.class.as_str(),
            r.confidence.as_str(),
            r.reasons.first().map_or("", String::as_str)
        );
    }

    let wrong: Vec<&Reading> = readings
        .iter()
        .copied()
        .filter(|r| !matches!(r.class, Class::Bounce | Class::Delay))
        .collect();
    let human: Vec<&Reading> = wrong
        .iter()
        .copied()
        .filter(|r| r.class == Class::Human)
        .collect();
    let total = readings.len();
    let good = total - wrong.len();
    println!(
        "\n{good} of {total} read as bounce or delay ({} left out as not bounces)",
        NOT_BOUNCES.len()
    );

    let kind: Vec<&Reading> = readings
        .iter()
        .copied()
        .filter(|r| {
            let delay = DELAYS.contains(&r.file.as_str());
            (delay && r.class == Class::Bounce) || (!delay && r.class == Class::Delay)
        })
        .collect();
    if !kind.is_empty() {
        println!(
            "\nFor information (not asserted): bounce and delay swapped, by flufl.bounce's \
             own reading:\n{}",
            table(&kind)
        );
    }

    let report = format!(
        "{} of {total} real bounce/delay reports were misread ({} as human); \
         at least {MIN_PERCENT}% must be bounce or delay and none human.\n\
         Misread (the corpus is in {}):\n{}",
        wrong.len(),
        human.len(),
        dir.display(),
        table(&wrong)
    );
    assert!(human.is_empty(), "{report}");
    assert!(good * 100 >= MIN_PERCENT * total, "{report}");
}
