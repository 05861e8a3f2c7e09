//! The `[reply]` table of every `data/lang/*.toml` phrase file, compiled:
//! sign-offs, team words, honorifics, requests for information, courtesy
//! questions and the characters that tell the two Chinese scripts apart.
//!
//! The files are the classifier's embedded ones; this module reads only the
//! `language` key and the `[reply]` table and ignores the rest. Entries are
//! literal phrases or, prefixed with `re:`, regular expressions on the
//! normalized text (NFKC, lowercase, runs of white space as one space), as
//! in the rest of those files. A literal whose first or last character is a
//! letter of a script that separates words with spaces must meet a word
//! boundary there.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::classify::{LANG_FILES, at_word_edges, normalize};

/// The compiled size one key's regex may reach.
const REGEX_SIZE_LIMIT: usize = 16 * 1024 * 1024;

/// One phrase file, as far as this module reads it.
#[derive(Debug, Deserialize)]
struct File {
    language: String,
    #[serde(default)]
    reply: ReplyTable,
}

/// The `[reply]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ReplyTable {
    #[serde(default)]
    sign_offs: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    honorifics: Vec<String>,
    #[serde(default)]
    asks_back: Vec<String>,
    #[serde(default)]
    courtesy: Vec<String>,
    #[serde(default)]
    script_chars: String,
}

/// An honorific split at its `{name}`: the normalized text before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Honorific {
    pub before: String,
    pub after: String,
}

/// Every language's `[reply]` phrases, compiled.
pub(crate) struct Phrases {
    /// A whole line (normalized, trailing punctuation removed) that is a sign-off.
    sign_off: Option<Regex>,
    teams: Option<Regex>,
    asks_back: Option<Regex>,
    courtesy: Option<Regex>,
    /// Honorifics of every language.
    pub honorifics: Vec<Honorific>,
    /// The tag of every file (the languages probes are written in).
    pub languages: Vec<String>,
    /// Per language tag, the characters only its script variant uses.
    pub scripts: Vec<(String, Vec<char>)>,
    /// What could not be loaded, as `file: problem`.
    pub errors: Vec<String>,
}

/// The phrases of the embedded files.
pub(crate) static PHRASES: LazyLock<Phrases> = LazyLock::new(|| Phrases::load(LANG_FILES));

impl Phrases {
    /// Compiles the `[reply]` tables of files given as `(file name, text)`.
    pub(crate) fn load(files: &[(&str, &str)]) -> Phrases {
        let mut errors = Vec::new();
        let mut sign_offs = Vec::new();
        let mut teams = Vec::new();
        let mut asks_back = Vec::new();
        let mut courtesy = Vec::new();
        let mut honorifics = Vec::new();
        let mut scripts = Vec::new();
        let mut languages = Vec::new();
        for (file, text) in files {
            let parsed: File = match toml::from_str(text) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(format!("{file}: [reply]: {e}"));
                    continue;
                }
            };
            let r = parsed.reply;
            languages.push(parsed.language.clone());
            for (key, entries, into) in [
                ("sign-offs", &r.sign_offs, &mut sign_offs),
                ("teams", &r.teams, &mut teams),
                ("asks-back", &r.asks_back, &mut asks_back),
                ("courtesy", &r.courtesy, &mut courtesy),
            ] {
                for entry in entries {
                    let pattern = entry_pattern(entry);
                    match build(std::slice::from_ref(&pattern), false) {
                        Ok(_) => into.push((entry_len(entry), pattern)),
                        Err(e) => errors.push(format!("{file}: [reply] {key} {entry:?}: {e}")),
                    }
                }
            }
            for h in &r.honorifics {
                let norm = normalize(h);
                match norm.split_once("{name}") {
                    Some((before, after)) if !after.contains("{name}") => {
                        honorifics.push(Honorific {
                            before: before.to_string(),
                            after: after.to_string(),
                        })
                    }
                    _ => errors.push(format!(
                        "{file}: [reply] honorifics {h:?}: needs {{name}} exactly once"
                    )),
                }
            }
            if !r.script_chars.is_empty() {
                scripts.push((parsed.language, r.script_chars.nfkc().collect()));
            }
        }
        // Longest first, so that "best regards" wins over "best".
        sign_offs.sort_by_key(|s| std::cmp::Reverse(s.0));
        let mut compile = |key: &str, list: Vec<(usize, String)>, whole: bool| {
            let patterns: Vec<String> = list.into_iter().map(|(_, p)| p).collect();
            build(&patterns, whole).unwrap_or_else(|e| {
                errors.push(format!("[reply] {key}, all languages: {e}"));
                None
            })
        };
        let sign_off = compile("sign-offs", sign_offs, true);
        let teams = compile("teams", teams, false);
        let asks_back = compile("asks-back", asks_back, false);
        let courtesy = compile("courtesy", courtesy, false);
        Phrases {
            sign_off,
            teams,
            asks_back,
            courtesy,
            honorifics,
            languages,
            scripts,
            errors,
        }
    }

    /// Whether `line` (normalized) is a sign-off and nothing else, trailing
    /// punctuation aside.
    pub(crate) fn is_sign_off(&self, line: &str) -> bool {
        let line = trim_punct(line);
        !line.is_empty() && self.sign_off.as_ref().is_some_and(|re| re.is_match(line))
    }

    /// The first team word in `text` (normalized).
    pub(crate) fn team<'t>(&self, text: &'t str) -> Option<&'t str> {
        find(self.teams.as_ref(), text)
    }

    /// The first request for information in `text` (normalized).
    pub(crate) fn asks_back<'t>(&self, text: &'t str) -> Option<&'t str> {
        find(self.asks_back.as_ref(), text)
    }

    /// The first courtesy question in `text` (normalized).
    pub(crate) fn courtesy<'t>(&self, text: &'t str) -> Option<&'t str> {
        find(self.courtesy.as_ref(), text)
    }
}

/// The first match of `re` in `text` that falls on word edges.
fn find<'t>(re: Option<&Regex>, text: &'t str) -> Option<&'t str> {
    re?.find_iter(text)
        .find(|m| at_word_edges(text, m.start(), m.end()))
        .map(|m| m.as_str())
}

/// `line` without the punctuation and space that may end (or start) a
/// sign-off line.
pub(crate) fn trim_punct(line: &str) -> &str {
    line.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | '!' | ';' | '。' | '、' | '~' | '…' | '،' | '-' | '–' | '—'
            )
    })
}

/// How long an entry is, for ordering alternatives (longest first).
fn entry_len(entry: &str) -> usize {
    entry.strip_prefix("re:").unwrap_or(entry).chars().count()
}

/// The regex of one entry: `re:` entries as written (NFKC), literals
/// normalized and escaped.
fn entry_pattern(entry: &str) -> String {
    match entry.strip_prefix("re:") {
        Some(re) => re.nfkc().collect(),
        None => regex::escape(&normalize(entry)),
    }
}

/// The alternation of `patterns`, matching the `whole` text or anywhere
/// (None when there are none).
fn build(patterns: &[String], whole: bool) -> Result<Option<Regex>, regex::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = if whole {
        format!("^(?:{joined})$")
    } else {
        joined
    };
    RegexBuilder::new(&pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Some)
}
