//! The wording of machine-sent mail in every language the classifier knows,
//! loaded from the phrase files under `data/lang/` (one file per language,
//! embedded at build time: adding a language is adding one file).
//!
//! Text is compared after [`normalize`]: NFKC (full-width forms and
//! compatibility characters folded), lowercase, runs of white space as one
//! space. A phrase file's entry is a literal phrase or, prefixed with `re:`,
//! a regular expression on that normalized text, written in lowercase (the
//! text is lowercased, and matching is case-sensitive: case-insensitive
//! matching of 18 languages' alternations is several times slower). A literal whose first or
//! last character belongs to a script that separates words with spaces must
//! meet a word boundary there ("auto" does not match "automobile"); in
//! Chinese, Japanese and Thai, which do not separate words, it matches
//! anywhere.
//!
//! Each category compiles to one regex over all languages; the language of
//! a hit is looked up only when there is one, for the reasons.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

include!(concat!(env!("OUT_DIR"), "/lang_files.rs"));

/// The most bytes of text a category is searched in.
const SEARCH_CAP: usize = 64 * 1024;
/// The most bytes of text the language is told from.
const LANGUAGE_CAP: usize = 8 * 1024;
/// The compiled size a category's regex may reach.
const REGEX_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// What a phrase says about the message it is found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cat {
    /// A machine describing itself ("this is an automated message").
    AckStrong,
    /// Acknowledgement a person may also write ("thank you for contacting us").
    AckWeak,
    /// The prefix of an automatic reply's subject ("Automatic reply:").
    AutoSubject,
    /// A subject that says out-of-office by itself.
    OooSubject,
    /// Body wording about being away.
    OooBody,
    /// A delivery-failure subject.
    BounceSubject,
    /// Delivery-failure wording in a mail system's report.
    BounceBody,
    /// A delivery-delay subject.
    DelaySubject,
    /// Delivery-delay wording in a mail system's report.
    DelayBody,
    /// Surveys, ticket solved/closed notices, status changes.
    Notification,
    /// Greetings, sign-offs and helpdesk footers.
    Boilerplate,
    /// A line that introduces the quoted original of a reply.
    QuoteHeader,
}

impl Cat {
    const ALL: [Cat; 12] = [
        Cat::AckStrong,
        Cat::AckWeak,
        Cat::AutoSubject,
        Cat::OooSubject,
        Cat::OooBody,
        Cat::BounceSubject,
        Cat::BounceBody,
        Cat::DelaySubject,
        Cat::DelayBody,
        Cat::Notification,
        Cat::Boilerplate,
        Cat::QuoteHeader,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The entries of this category in one phrase file.
    fn entries(self, f: &PhraseFile) -> &[String] {
        match self {
            Cat::AckStrong => &f.ack.strong,
            Cat::AckWeak => &f.ack.weak,
            Cat::AutoSubject => &f.out_of_office.auto_subject,
            Cat::OooSubject => &f.out_of_office.subject,
            Cat::OooBody => &f.out_of_office.body,
            Cat::BounceSubject => &f.bounce.subject,
            Cat::BounceBody => &f.bounce.body,
            Cat::DelaySubject => &f.delay.subject,
            Cat::DelayBody => &f.delay.body,
            Cat::Notification => &f.notification.phrases,
            Cat::Boilerplate => &f.boilerplate.phrases,
            Cat::QuoteHeader => &f.quote.header,
        }
    }

    /// The pattern of one entry, as it goes into the category's regex.
    fn pattern(self, entry: &str) -> String {
        let inner = entry_pattern(entry);
        match self {
            // A prefix of the subject, followed by a colon.
            // A prefix of the subject, followed by a colon or in brackets
            // (【自動返信】, [Auto-Reply]).
            Cat::AutoSubject => format!(
                r"^\s*(?:(?:re|aw|sv|antw|fw|fwd)\s*:\s*)?(?:(?:{inner})\s*:|[\[【〔(<«]\s*(?:{inner})\s*[\]】〕)>»])"
            ),
            _ => inner,
        }
    }
}

/// One `data/lang/*.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PhraseFile {
    language: String,
    name: String,
    common: Vec<String>,
    #[serde(default)]
    ack: AckPhrases,
    #[serde(default)]
    out_of_office: OooPhrases,
    #[serde(default)]
    bounce: ReportPhrases,
    #[serde(default)]
    delay: ReportPhrases,
    #[serde(default)]
    notification: Phrases,
    #[serde(default)]
    boilerplate: Phrases,
    #[serde(default)]
    quote: QuotePhrases,
    /// The `[reply]` table: read by `crate::quality`, not by the lexicon.
    #[serde(default, rename = "reply")]
    _reply: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckPhrases {
    #[serde(default)]
    strong: Vec<String>,
    #[serde(default)]
    weak: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OooPhrases {
    #[serde(default)]
    auto_subject: Vec<String>,
    #[serde(default)]
    subject: Vec<String>,
    #[serde(default)]
    body: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportPhrases {
    #[serde(default)]
    subject: Vec<String>,
    #[serde(default)]
    body: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Phrases {
    #[serde(default)]
    phrases: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotePhrases {
    #[serde(default)]
    header: Vec<String>,
}

/// A language the classifier has phrases for.
pub(crate) struct Language {
    /// The BCP 47 tag, e.g. `zh-CN`.
    pub tag: String,
    /// The name in English.
    pub name: String,
    /// Its frequent words, one regex.
    common: Option<Regex>,
    /// Each category's entries of this language, one regex per category.
    cats: Vec<Option<Regex>>,
}

/// Every language's phrases, compiled.
pub(crate) struct Lexicon {
    /// The languages, in file-name order.
    pub languages: Vec<Language>,
    /// Each category over all languages.
    cats: Vec<Option<Regex>>,
    /// What could not be loaded, as `file: problem`; the tests require none.
    pub errors: Vec<String>,
}

/// The lexicon of the embedded phrase files.
pub(crate) static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::load(LANG_FILES));

/// A phrase found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit<'t> {
    /// The matched text (normalized).
    pub phrase: &'t str,
    /// The language whose file has the phrase.
    pub lang: &'static str,
}

impl Lexicon {
    /// Compiles phrase files given as `(file name, text)`.
    fn load(files: &[(&str, &str)]) -> Lexicon {
        let mut errors = Vec::new();
        let mut languages = Vec::new();
        let mut all: Vec<Vec<String>> = vec![Vec::new(); Cat::ALL.len()];
        for (file, text) in files {
            let parsed: PhraseFile = match toml::from_str(text) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(format!("{file}: {e}"));
                    continue;
                }
            };
            let mut cats = Vec::with_capacity(Cat::ALL.len());
            for cat in Cat::ALL {
                let entries = cat.entries(&parsed);
                let patterns: Vec<String> = entries.iter().map(|e| cat.pattern(e)).collect();
                // One compile per language and category; only when that
                // fails is each entry compiled alone, to name the bad one.
                let (good, re) = match build(&patterns) {
                    Ok(re) => (patterns, re),
                    Err(_) => {
                        let mut good = Vec::new();
                        for (entry, pattern) in entries.iter().zip(patterns) {
                            match build(std::slice::from_ref(&pattern)) {
                                Ok(_) => good.push(pattern),
                                Err(e) => {
                                    errors.push(format!("{file}: {cat:?} entry {entry:?}: {e}"))
                                }
                            }
                        }
                        let re = build(&good).ok().flatten();
                        (good, re)
                    }
                };
                cats.push(re);
                all[cat.index()].extend(good);
            }
            let common: Vec<String> = parsed.common.iter().map(|w| entry_pattern(w)).collect();
            languages.push(Language {
                tag: parsed.language,
                name: parsed.name,
                common: build(&common).ok().flatten(),
                cats,
            });
        }
        let cats = all
            .iter()
            .map(|patterns| match build(patterns) {
                Ok(re) => re,
                Err(e) => {
                    errors.push(format!("combined category: {e}"));
                    None
                }
            })
            .collect();
        Lexicon {
            languages,
            cats,
            errors,
        }
    }

    /// The first phrase of `cat` in `text`, which must be [`normalize`]d.
    pub(crate) fn find<'t>(&'static self, cat: Cat, text: &'t str) -> Option<Hit<'t>> {
        let re = self.cats.get(cat.index())?.as_ref()?;
        let text = super::parse::cap(text, SEARCH_CAP);
        let m = re
            .find_iter(text)
            .find(|m| at_word_edges(text, m.start(), m.end()))?;
        fn of_lang(l: &Language, cat: Cat) -> Option<&Regex> {
            l.cats.get(cat.index()).and_then(Option::as_ref)
        }
        let lang = self
            .languages
            .iter()
            .find(|l| of_lang(l, cat).is_some_and(|r| r.is_match(m.as_str())))
            .or_else(|| {
                self.languages
                    .iter()
                    .find(|l| of_lang(l, cat).is_some_and(|r| r.is_match(text)))
            })
            .map_or("", |l| l.tag.as_str());
        Some(Hit {
            phrase: m.as_str(),
            lang,
        })
    }

    /// Whether any phrase of `cat` is in `text` (normalized).
    pub(crate) fn has(&'static self, cat: Cat, text: &str) -> bool {
        self.cats
            .get(cat.index())
            .and_then(Option::as_ref)
            .is_some_and(|re| {
                let text = super::parse::cap(text, SEARCH_CAP);
                re.find_iter(text)
                    .any(|m| at_word_edges(text, m.start(), m.end()))
            })
    }

    /// The language `text` (normalized) is written in, when it has at least
    /// two different frequent words of one language the classifier knows.
    pub(crate) fn known_language(&'static self, text: &str) -> Option<&'static str> {
        let text = super::parse::cap(text, LANGUAGE_CAP);
        self.languages
            .iter()
            .map(|l| {
                let mut seen: Vec<&str> = Vec::new();
                if let Some(re) = &l.common {
                    for m in re
                        .find_iter(text)
                        .filter(|m| at_word_edges(text, m.start(), m.end()))
                    {
                        if !seen.contains(&m.as_str()) {
                            seen.push(m.as_str());
                        }
                        if seen.len() >= 4 {
                            break;
                        }
                    }
                }
                (l, seen.len())
            })
            .filter(|(_, n)| *n >= 2)
            .max_by_key(|(_, n)| *n)
            .map(|(l, _)| l.tag.as_str())
    }
}

/// The languages the classifier has phrases for: tag and name.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    LEXICON
        .languages
        .iter()
        .map(|l| (l.tag.as_str(), l.name.as_str()))
        .collect()
}

/// What could not be loaded from the phrase files.
pub(crate) fn problems() -> &'static [String] {
    &LEXICON.errors
}

/// Compiles the alternation of `patterns` (None when there are none).
fn build(patterns: &[String]) -> Result<Option<Regex>, regex::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&joined)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Some)
}

/// The regex of one entry: `re:` entries as written, literals escaped, with
/// word boundaries at edges in scripts that separate words.
fn entry_pattern(entry: &str) -> String {
    if let Some(re) = entry.strip_prefix("re:") {
        // NFKC, as the text is (regex syntax is ASCII, which NFKC keeps).
        let re: String = re.nfkc().collect();
        return ascii_word_boundaries(&re);
    }
    // Word boundaries of literals are checked on each match
    // ([`at_word_edges`]), not in the regex: a Unicode `\b` makes the regex
    // engine give up its fast DFA on any text that is not ASCII.
    regex::escape(normalize(entry).trim()).replace(' ', r"\s+")
}

/// A `re:` entry with each `\b` made DFA-friendly: next to an ASCII letter
/// or digit it becomes the ASCII boundary `(?-u:\b)`; next to a letter of
/// another script (where an ASCII boundary never holds) it is dropped.
fn ascii_word_boundaries(re: &str) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            if chars[i + 1] == 'b' {
                let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
                let next = chars.get(i + 2).copied();
                let foreign =
                    |c: Option<char>| c.is_some_and(|c| c.is_alphabetic() && !c.is_ascii());
                if !(foreign(prev) || foreign(next)) {
                    out.push_str(r"(?-u:\b)");
                }
            } else {
                out.push(c);
                out.push(chars[i + 1]);
            }
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether a match of a literal falls on word boundaries where its edge is
/// a letter or digit of a script that separates words ("auto" is not
/// "automobile"; 自动回复 inside a sentence is fine).
fn at_word_edges(text: &str, start: usize, end: usize) -> bool {
    let m = &text[start..end];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let left_ok = !m.chars().next().is_some_and(spaced_word_char)
        || !text[..start].chars().next_back().is_some_and(word);
    let right_ok = !m.chars().next_back().is_some_and(spaced_word_char)
        || !text[end..].chars().next().is_some_and(word);
    left_ok && right_ok
}

/// Whether `c` is a letter or digit of a script that separates words with
/// spaces (so a phrase edge there must be a word boundary).
fn spaced_word_char(c: char) -> bool {
    c.is_alphanumeric() && !unspaced(c)
}

/// Whether `c` belongs to a script written without spaces between words
/// (Han, kana, Thai, Lao, Khmer, Myanmar) or to Hangul, whose particles attach
/// to the word before them.
pub(crate) fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x1100..=0x11FF // Hangul Jamo
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3100..=0x312F // Bopomofo
        | 0x3130..=0x318F // Hangul compatibility Jamo
        | 0x31F0..=0x31FF // Katakana extensions
        | 0x3400..=0x4DBF // Han extension A
        | 0x4E00..=0x9FFF // Han
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // Han compatibility
        | 0xFF66..=0xFF9F // half-width Katakana
        | 0x20000..=0x3FFFF // Han extensions B and on
    )
}

/// Text as phrases are compared: NFKC, lowercase, white space runs as one
/// space, trimmed.
pub(crate) fn normalize(text: &str) -> String {
    let text = super::parse::cap(text, SEARCH_CAP);
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = String::with_capacity(folded.len());
    let mut space = false;
    for c in folded.chars() {
        if c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}' {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// How many words `text` has: words of scripts that separate words, plus
/// one word for every two characters of Chinese or Japanese and every four
/// of Thai (their average word lengths).
pub(crate) fn word_count(text: &str) -> usize {
    let mut words: usize = 0;
    let mut cjk: usize = 0;
    let mut thai: usize = 0;
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        let mut spaced = false;
        for c in w.chars() {
            if (0x0E00..=0x0EFF).contains(&(c as u32)) {
                thai += 1;
            } else if unspaced(c) && !(0xAC00..=0xD7AF).contains(&(c as u32)) {
                cjk += 1;
            } else {
                spaced = true;
            }
        }
        if spaced && w.chars().count() > 1 {
            words += 1;
        }
    }
    words + cjk.div_ceil(2) + thai.div_ceil(4)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn every_phrase_file_loads_and_every_entry_compiles() {
        assert!(LEXICON.errors.is_empty(), "{:#?}", LEXICON.errors);
        assert!(LEXICON.languages.iter().any(|l| l.tag == "en"));
        for l in &LEXICON.languages {
            assert!(!l.name.is_empty());
        }
    }

    #[test]
    fn normalization_folds_width_case_and_space() {
        assert_eq!(normalize("ＡＵＴＯ：\n\t Reply"), "auto: reply");
        assert_eq!(normalize("自动回复："), "自动回复:");
    }

    #[test]
    fn literals_respect_word_boundaries_only_in_spaced_scripts() {
        let hit = |entry: &str, text: &str| {
            Regex::new(&entry_pattern(entry))
                .unwrap()
                .find_iter(text)
                .any(|m| at_word_edges(text, m.start(), m.end()))
        };
        assert!(hit("auto", "auto: x"));
        assert!(!hit("auto", "automobile"));
        assert!(hit("auto", "automobile auto"));
        assert!(hit("автоответ", "тема: автоответ"));
        assert!(!hit("автоответ", "автоответчик"));
        assert!(hit("自动回复", "这是自动回复邮件"));
    }

    #[test]
    fn word_boundaries_in_regex_entries_stay_fast() {
        assert_eq!(
            ascii_word_boundaries(r"^\s*(hi|hello)\b"),
            r"^\s*(hi|hello)(?-u:\b)"
        );
        assert_eq!(ascii_word_boundaries(r".{0,9}\bкто"), r".{0,9}кто");
        assert_eq!(ascii_word_boundaries(r"a\\b"), r"a\\b");
    }

    #[test]
    fn a_bad_entry_is_reported_with_its_file() {
        let lex = Lexicon::load(&[(
            "xx.toml",
            "language = \"xx\"\nname = \"X\"\ncommon = [\"a\"]\n[ack]\nstrong = [\"re:(\"]\n",
        )]);
        assert_eq!(lex.errors.len(), 1, "{:?}", lex.errors);
        assert!(lex.errors[0].starts_with("xx.toml"));
        let lex = Lexicon::load(&[("yy.toml", "language = 1")]);
        assert!(lex.errors[0].starts_with("yy.toml"));
    }

    #[test]
    fn words_are_counted_in_every_script() {
        assert_eq!(word_count("the fix is deployed"), 4);
        assert_eq!(word_count("我们已经修复了这个问题"), 6);
        assert_eq!(word_count("문제를 해결했습니다"), 2);
    }
}
