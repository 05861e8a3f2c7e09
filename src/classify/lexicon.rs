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

use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};

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
    /// A ticket solved/closed notice in particular (also a notification).
    Resolved,
    /// Greetings, sign-offs and helpdesk footers.
    Boilerplate,
    /// A line that introduces the quoted original of a reply.
    QuoteHeader,
}

impl Cat {
    const ALL: [Cat; 13] = [
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
        Cat::Resolved,
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
            Cat::Resolved => &f.notification.resolved,
            Cat::Boilerplate => &f.boilerplate.phrases,
            Cat::QuoteHeader => &f.quote.header,
        }
    }

    /// The pattern of one regex entry, as it goes into the category's regex.
    fn pattern(self, entry: &str) -> String {
        entry_pattern(entry)
    }

    /// The phrase of an entry matched as a literal, or `None` when it goes
    /// into the category's regex: `re:` entries, and every subject prefix
    /// (anchored at the start of the subject).
    fn literal(self, entry: &str) -> Option<String> {
        match self {
            Cat::AutoSubject => None,
            _ => literal(entry),
        }
    }

    /// The category's regex around the alternation of its entries.
    fn wrap(self, alternation: &str) -> String {
        match self {
            // A prefix of the subject, followed by a colon or in brackets
            // (【自動返信】, [Auto-Reply]).
            Cat::AutoSubject => format!(
                r"^\s*(?:(?:re|aw|sv|antw|fw|fwd)\s*:\s*)?(?:(?:{alternation})\s*:|[\[【〔(<«]\s*(?:{alternation})\s*[\]】〕)>»])"
            ),
            _ => alternation.to_string(),
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
    notification: NotificationPhrases,
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
struct NotificationPhrases {
    #[serde(default)]
    phrases: Vec<String>,
    /// Ticket solved/closed notices; each should also be matched by an
    /// entry of `phrases` (they are notifications first).
    #[serde(default)]
    resolved: Vec<String>,
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
}

/// The literal entries of one category (or the frequent words) over all
/// languages, as one Aho–Corasick automaton.
struct Literals {
    automaton: AhoCorasick,
    /// Pattern index → index of the language whose file has it.
    lang_of: Vec<usize>,
}

impl Literals {
    /// Builds the automaton of `(language index, normalized phrase)`s.
    fn build(entries: Vec<(usize, String)>) -> Result<Option<Literals>, String> {
        if entries.is_empty() {
            return Ok(None);
        }
        let (lang_of, patterns): (Vec<usize>, Vec<String>) = entries.into_iter().unzip();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| e.to_string())?;
        Ok(Some(Literals { automaton, lang_of }))
    }

    /// Every match at word edges: (start, end, language index).
    fn matches<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        self.automaton
            .find_overlapping_iter(text)
            .filter(move |m| at_word_edges(text, m.start(), m.end()))
            .map(|m| {
                let lang = self.lang_of.get(m.pattern().as_usize()).copied();
                (m.start(), m.end(), lang.unwrap_or(usize::MAX))
            })
    }
}

/// One category over all languages: its literal phrases in an automaton,
/// its `re:` entries (and, for subject prefixes, every entry) in one regex.
#[derive(Default)]
struct Matcher {
    literals: Option<Literals>,
    regex: Option<Regex>,
    /// Each language's regex entries, as `(language index, patterns)`,
    /// compiled only when a regex hit needs its language named.
    by_lang: Vec<(usize, Vec<String>, OnceLock<Option<Regex>>)>,
}

/// Every language's phrases, compiled.
pub(crate) struct Lexicon {
    /// The languages, in file-name order.
    pub languages: Vec<Language>,
    /// Each category, indexed by [`Cat::index`].
    cats: Vec<Matcher>,
    /// Every language's frequent words.
    common: Option<Literals>,
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
        let mut literals: Vec<Vec<(usize, String)>> = vec![Vec::new(); Cat::ALL.len()];
        // (language index, file, entry, pattern) of each regex entry.
        let mut regexes: Vec<Vec<(usize, &str, String, String)>> = vec![Vec::new(); Cat::ALL.len()];
        let mut common = Vec::new();
        for (file, text) in files {
            let parsed: PhraseFile = match toml::from_str(text) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(format!("{file}: {e}"));
                    continue;
                }
            };
            let lang = languages.len();
            for cat in Cat::ALL {
                for entry in cat.entries(&parsed) {
                    match cat.literal(entry) {
                        Some(lit) => literals[cat.index()].push((lang, lit)),
                        None => regexes[cat.index()].push((
                            lang,
                            file,
                            entry.clone(),
                            cat.pattern(entry),
                        )),
                    }
                }
            }
            for word in &parsed.common {
                match literal(word) {
                    Some(lit) => common.push((lang, lit)),
                    None => errors.push(format!(
                        "{file}: common word {word:?}: frequent words are literals"
                    )),
                }
            }
            languages.push(Language {
                tag: parsed.language,
                name: parsed.name,
            });
        }
        let mut cats = Vec::with_capacity(Cat::ALL.len());
        for (cat, (lits, res)) in Cat::ALL.iter().zip(literals.into_iter().zip(regexes)) {
            let mut matcher = Matcher::default();
            match Literals::build(lits) {
                Ok(l) => matcher.literals = l,
                Err(e) => errors.push(format!("{cat:?} phrases: {e}")),
            }
            // One compile per category; only when that fails is each entry
            // compiled alone, to name the bad one.
            let patterns: Vec<String> = res.iter().map(|r| r.3.clone()).collect();
            let good: Vec<(usize, String)> = match build(*cat, &patterns) {
                Ok(re) => {
                    matcher.regex = re;
                    res.into_iter().map(|(l, _, _, p)| (l, p)).collect()
                }
                Err(_) => {
                    let mut good = Vec::new();
                    for (lang, file, entry, pattern) in res {
                        match build(*cat, std::slice::from_ref(&pattern)) {
                            Ok(_) => good.push((lang, pattern)),
                            Err(e) => errors.push(format!("{file}: {cat:?} entry {entry:?}: {e}")),
                        }
                    }
                    let patterns: Vec<String> = good.iter().map(|g| g.1.clone()).collect();
                    matcher.regex = build(*cat, &patterns).ok().flatten();
                    good
                }
            };
            for (lang, pattern) in good {
                match matcher.by_lang.iter_mut().find(|b| b.0 == lang) {
                    Some(b) => b.1.push(pattern),
                    None => matcher.by_lang.push((lang, vec![pattern], OnceLock::new())),
                }
            }
            cats.push(matcher);
        }
        let common = Literals::build(common).unwrap_or_else(|e| {
            errors.push(format!("frequent words: {e}"));
            None
        });
        Lexicon {
            languages,
            cats,
            common,
            errors,
        }
    }

    /// The tag of language `index`, or `""`.
    fn tag(&'static self, index: usize) -> &'static str {
        self.languages.get(index).map_or("", |l| l.tag.as_str())
    }

    /// The first phrase of `cat` in `text`, which must be [`normalize`]d:
    /// the earliest match at word edges, the longest of those that start
    /// there.
    pub(crate) fn find<'t>(&'static self, cat: Cat, text: &'t str) -> Option<Hit<'t>> {
        let matcher = self.cats.get(cat.index())?;
        let text = super::text::cap(text, SEARCH_CAP);
        let literal = matcher.literals.as_ref().and_then(|l| {
            l.matches(text)
                .min_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)))
        });
        let regex = matcher.regex.as_ref().and_then(|re| {
            re.find_iter(text)
                .find(|m| at_word_edges(text, m.start(), m.end()))
        });
        let (start, end, lang) = match (literal, regex) {
            (Some(l), Some(r)) if r.start() < l.0 => (r.start(), r.end(), None),
            (Some(l), _) => (l.0, l.1, Some(l.2)),
            (None, Some(r)) => (r.start(), r.end(), None),
            (None, None) => return None,
        };
        let phrase = &text[start..end];
        let lang = match lang {
            Some(l) => self.tag(l),
            None => {
                let compiled = |b: &'static (usize, Vec<String>, OnceLock<Option<Regex>>)| {
                    b.2.get_or_init(|| build(cat, &b.1).ok().flatten()).as_ref()
                };
                let in_lang = |hay: &str| {
                    matcher
                        .by_lang
                        .iter()
                        .find(|b| compiled(b).is_some_and(|r| r.is_match(hay)))
                        .map(|b| b.0)
                };
                in_lang(phrase)
                    .or_else(|| in_lang(text))
                    .map_or("", |l| self.tag(l))
            }
        };
        Some(Hit { phrase, lang })
    }

    /// Whether any phrase of `cat` is in `text` (normalized).
    pub(crate) fn has(&'static self, cat: Cat, text: &str) -> bool {
        let Some(matcher) = self.cats.get(cat.index()) else {
            return false;
        };
        let text = super::text::cap(text, SEARCH_CAP);
        matcher
            .literals
            .as_ref()
            .is_some_and(|l| l.matches(text).next().is_some())
            || matcher.regex.as_ref().is_some_and(|re| {
                re.find_iter(text)
                    .any(|m| at_word_edges(text, m.start(), m.end()))
            })
    }

    /// The language `text` (normalized) is written in, when it has at least
    /// two different frequent words of one language the classifier knows.
    pub(crate) fn known_language(&'static self, text: &str) -> Option<&'static str> {
        let text = super::text::cap(text, LANGUAGE_CAP);
        let common = self.common.as_ref()?;
        // Distinct frequent words seen per language, up to four.
        let mut seen: Vec<Vec<&str>> = vec![Vec::new(); self.languages.len()];
        for (start, end, lang) in common.matches(text) {
            if let Some(words) = seen.get_mut(lang) {
                let word = &text[start..end];
                if words.len() < 4 && !words.contains(&word) {
                    words.push(word);
                }
            }
        }
        seen.iter()
            .enumerate()
            .map(|(lang, words)| (lang, words.len()))
            .filter(|(_, n)| *n >= 2)
            .max_by_key(|(_, n)| *n)
            .map(|(lang, _)| self.tag(lang))
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

/// Compiles `cat`'s regex over the alternation of `patterns` (None when
/// there are none).
fn build(cat: Cat, patterns: &[String]) -> Result<Option<Regex>, regex::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&cat.wrap(&joined))
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Some)
}

/// The phrase of a literal entry as it appears in normalized text; `None`
/// for a `re:` entry (or one that normalizes to nothing).
fn literal(entry: &str) -> Option<String> {
    if entry.starts_with("re:") {
        return None;
    }
    let lit = normalize(entry);
    (!lit.is_empty()).then_some(lit)
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

/// Whether a match falls on word boundaries where its edge is a letter or
/// digit of a script that separates words ("auto" is not "automobile";
/// 自动回复 inside a sentence is fine, and so is `4f7q` right after キー).
/// The one word-edge rule of the phrase files, for the classifier and the
/// scorecard's evidence alike.
pub(crate) fn at_word_edges(text: &str, start: usize, end: usize) -> bool {
    let m = &text[start..end];
    let word = |c: char| spaced_word_char(c) || c == '_';
    let left_ok = !m.chars().next().is_some_and(spaced_word_char)
        || !text[..start].chars().next_back().is_some_and(word);
    let right_ok = !m.chars().next_back().is_some_and(spaced_word_char)
        || !text[end..].chars().next().is_some_and(word);
    left_ok && right_ok
}

/// Whether `c` is a letter or digit of a script that separates words with
/// spaces (so a phrase edge there must be a word boundary).
pub(crate) fn spaced_word_char(c: char) -> bool {
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
    let text = super::text::cap(text, SEARCH_CAP);
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
        // Next to a script without spaces, a Latin word still has its edge.
        assert!(hit("auto", "自动auto"));
        assert!(!hit("auto", "_auto"));
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
