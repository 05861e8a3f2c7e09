//! The classifier against replies in eighteen languages, written the way
//! mail systems in those countries send them: legacy charsets (GB2312, GBK,
//! GB18030, Big5, ISO-2022-JP, Shift_JIS, EUC-KR, KOI8-R, windows-1251,
//! windows-1256, TIS-620, ISO-8859-2, ...), encoded-word headers, base64 and
//! quoted-printable bodies, localized "Automatic reply:" prefixes and quote
//! headers, helpdesk stamps on agents' answers.
//!
//! The messages are `tests/fixtures/lang/<lang>/<class>--<slug>.eml`, made
//! by `tests/fixtures/lang/make.py` (which documents how); the class in the
//! file name is the right reading. Both mistakes matter equally: a machine
//! message read as `human` fakes a fast answer, a person's answer read as a
//! machine's makes a vendor look slow. A failure prints a table of every
//! misreading with the classifier's reasons.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support_probe::classify::{Context, Rules, classify, parse};
use support_probe::model::{Class, Confidence};

/// Every language folder there must be.
const LANGS: [&str; 18] = [
    "zh-CN", "zh-TW", "ja", "ko", "es", "pt", "fr", "de", "it", "nl", "ru", "ar", "tr", "vi", "th",
    "id", "pl", "en",
];

/// The least number of messages of each class every language must have.
const REQUIRED: [(Class, usize); 4] = [
    (Class::Human, 2),
    (Class::Ack, 1),
    (Class::OutOfOffice, 1),
    (Class::Automated, 1),
];

/// One fixture and its reading.
struct Row {
    lang: String,
    file: String,
    expected: Class,
    got: Class,
    confidence: Confidence,
    reasons: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang")
}

/// The `.eml` files of one language folder, sorted, with the class their
/// name gives.
fn fixtures(dir: &Path) -> Vec<(PathBuf, Class)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let class = name
                .split_once("--")
                .and_then(|(class, _)| Class::parse(class))
                .unwrap_or_else(|| {
                    panic!("{}: the name must be <class>--<slug>.eml", path.display())
                });
            (path, class)
        })
        .collect()
}

/// The language folders present, sorted.
fn folders() -> Vec<String> {
    let mut langs: Vec<String> = std::fs::read_dir(root())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root().display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    langs.sort();
    langs
}

#[test]
fn every_language_has_each_kind_of_message() {
    let mut problems = Vec::new();
    for lang in folders() {
        if !LANGS.contains(&lang.as_str()) {
            problems.push(format!(
                "{lang}: a folder for a language this test does not list"
            ));
        }
    }
    for lang in LANGS {
        let dir = root().join(lang);
        if !dir.is_dir() {
            problems.push(format!("{lang}: no folder {}", dir.display()));
            continue;
        }
        let files = fixtures(&dir);
        for (class, least) in REQUIRED {
            let n = files.iter().filter(|(_, c)| *c == class).count();
            if n < least {
                problems.push(format!(
                    "{lang}: {n} {class} message(s), at least {least} needed"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the language fixtures are incomplete (run tests/fixtures/lang/make.py):\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_language_fixture_is_read_as_its_name_says() {
    let rules = Rules::default();
    let ctx = Context::new(&rules);
    let mut rows = Vec::new();
    for lang in folders() {
        for (path, expected) in fixtures(&root().join(&lang)) {
            let raw = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let verdict = classify(&parse(&raw), &ctx);
            rows.push(Row {
                lang: lang.clone(),
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                expected,
                got: verdict.class,
                confidence: verdict.confidence,
                reasons: verdict.reasons,
            });
        }
    }
    assert!(!rows.is_empty(), "no fixtures in {}", root().display());

    // Per language: how many read right.
    let mut per_lang: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in &rows {
        let e = per_lang.entry(r.lang.as_str()).or_default();
        e.1 += 1;
        if r.got == r.expected {
            e.0 += 1;
        }
    }
    println!("{:<6} {:>5} {:>5}", "lang", "right", "total");
    for (lang, (right, total)) in &per_lang {
        println!("{lang:<6} {right:>5} {total:>5}");
    }

    let wrong: Vec<&Row> = rows.iter().filter(|r| r.got != r.expected).collect();
    let right = rows.len() - wrong.len();
    println!("{right} of {} read right", rows.len());
    if wrong.is_empty() {
        return;
    }
    let mut table = format!(
        "{:<6} {:<58} {:<14} {:<14} {:<8} reasons\n",
        "lang", "file", "expected", "got", "conf."
    );
    for r in &wrong {
        table.push_str(&format!(
            "{:<6} {:<58} {:<14} {:<14} {:<8} {}\n",
            r.lang,
            r.file,
            r.expected.as_str(),
            r.got.as_str(),
            r.confidence.as_str(),
            r.reasons.join(" | ")
        ));
    }
    panic!(
        "{} of {} language fixtures misread:\n{table}",
        wrong.len(),
        rows.len()
    );
}
