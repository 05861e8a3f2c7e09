//! A reply's new text: the classifier's own text (quoted history removed)
//! without its trailing signature, and who signed it.
//!
//! The signature starts at the first of:
//!
//! 1. a `-- ` delimiter line (RFC 3676);
//! 2. a sign-off line from the `[reply]` phrases ("Best regards", "此致",
//!    "よろしくお願いいたします"), alone or followed by a separator and a
//!    name ("Thanks, Ryan"), with at most [`SIGNATURE_LINES`] lines after it;
//! 3. failing both, the lowest name-like line among the last
//!    [`TRAILER_LINES`] short lines ("Ryan", "王磊" above "技术支持部" and a
//!    phone number).
//!
//! Each needs some text above it: a message is never all signature.

use super::phrases::{PHRASES, trim_punct};
use crate::classify::{at_word_edges, spaced_word_char};
use crate::classify::{normalize, unspaced};

/// The most non-empty lines a signature after a sign-off may have.
const SIGNATURE_LINES: usize = 12;
/// How many trailing short lines may be searched for a signer's name.
const TRAILER_LINES: usize = 6;
/// The most characters a trailing line may have to be read as signature.
const SHORT_LINE: usize = 40;
/// Lowercase words a person's name in a cased script may contain.
const NAME_PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "da", "das", "dos", "di", "du", "la", "le",
    "bin", "binti", "al", "el", "y", "e", "ten", "ter",
];

/// The persona's name in the forms a reply may use, normalized.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameForms {
    /// The display name as written (trimmed).
    pub display: String,
    /// Forms that name the persona on their own: the full name, and the
    /// tokens of a name written with spaces ("dana", "lee"; "佐藤").
    pub bare: Vec<String>,
    /// Forms that name the persona with an honorific ("王" in 王先生, "伟").
    pub honorific: Vec<String>,
}

impl NameForms {
    /// The forms of `display`.
    pub(crate) fn new(display: &str) -> NameForms {
        let full = normalize(display);
        let mut bare: Vec<String> = Vec::new();
        let mut honorific: Vec<String> = Vec::new();
        let push = |v: &mut Vec<String>, s: String| {
            if !s.is_empty() && !v.contains(&s) {
                v.push(s);
            }
        };
        if full.chars().count() >= 2 {
            push(&mut bare, full.clone());
            push(&mut bare, full.replace(' ', ""));
        }
        let tokens: Vec<&str> = full.split(' ').filter(|t| !t.is_empty()).collect();
        for t in &tokens {
            let n = t.chars().count();
            let spaced = t.chars().next().is_some_and(spaced_word_char);
            if n >= 2 && (spaced || tokens.len() > 1) {
                push(&mut bare, (*t).to_string());
            }
            push(&mut honorific, (*t).to_string());
        }
        // A name written without spaces in a script without spaces (王伟,
        // 김민수, 佐藤健): its family name is its first one or two characters.
        if tokens.len() == 1 && full.chars().all(unspaced) {
            let chars: Vec<char> = full.chars().collect();
            for cut in [1, 2] {
                if chars.len() > cut {
                    push(&mut honorific, chars[..cut].iter().collect());
                    push(&mut honorific, chars[cut..].iter().collect());
                }
            }
        }
        for b in &bare {
            push(&mut honorific, b.clone());
        }
        bare.sort_by_key(|s| std::cmp::Reverse(s.len()));
        honorific.sort_by_key(|s| std::cmp::Reverse(s.len()));
        NameForms {
            display: display.trim().to_string(),
            bare,
            honorific,
        }
    }

    /// Whether `text` (normalized) contains a form of the name.
    fn mentioned_in(&self, text: &str) -> bool {
        self.bare.iter().any(|f| find_word(text, f).is_some())
    }
}

/// The first occurrence of `needle` in `text` on word edges, as a byte offset.
pub(crate) fn find_word(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.match_indices(needle)
        .map(|(i, _)| i)
        .find(|&i| at_word_edges(text, i, i + needle.len()))
}

/// Who signed: a person, only a team, or nobody we can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signer {
    /// A person's name, as written.
    Person(String),
    /// A team or organisation, as written.
    Team(String),
    /// Nothing that names anyone.
    Nobody,
}

/// A reply's own text split into new text and signature.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    /// The text above the signature.
    pub new_text: String,
    /// Who the signature names.
    pub signer: Signer,
}

/// Splits `own` (the classifier's own text) into new text and signature.
pub(crate) fn split(own: &str, persona: &NameForms, vendor: &str) -> Split {
    let lines: Vec<&str> = own.lines().map(str::trim_end).collect();
    let has_text_above = |i: usize| lines[..i].iter().any(|l| !l.trim().is_empty());
    let non_empty_after = |i: usize| {
        lines[i + 1..]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .count()
    };
    let whole = |signer| Split {
        new_text: own.trim().to_string(),
        signer,
    };
    let cut_at = |i: usize, signer| Split {
        new_text: lines[..i].join("\n").trim().to_string(),
        signer,
    };
    // 1. The "-- " delimiter.
    if let Some(i) = (0..lines.len()).find(|&i| lines[i] == "--" && has_text_above(i)) {
        return cut_at(i, signer_below(&lines[i + 1..], persona, vendor));
    }
    // 2. A sign-off line.
    for i in 0..lines.len() {
        if !has_text_above(i) || non_empty_after(i) > SIGNATURE_LINES {
            continue;
        }
        if let Some(signer) = sign_off(lines[i], persona, vendor) {
            let signer = match signer {
                Signer::Nobody => signer_below(&lines[i + 1..], persona, vendor),
                s => s,
            };
            return cut_at(i, signer);
        }
    }
    // 3. A name among the last short lines.
    let mut seen = 0;
    let mut team = None;
    for i in (0..lines.len()).rev() {
        let line = lines[i].trim();
        if line.is_empty() {
            continue;
        }
        seen += 1;
        if seen > TRAILER_LINES || !short_line(line) {
            break;
        }
        match name_in(line, persona, vendor) {
            Signer::Person(p) if has_text_above(i) => return cut_at(i, Signer::Person(p)),
            Signer::Team(t) => team = Some(t),
            _ => {}
        }
    }
    whole(team.map_or(Signer::Nobody, Signer::Team))
}

/// Whether `line` is short enough, and unlike a sentence enough, to be
/// part of a signature.
fn short_line(line: &str) -> bool {
    line.chars().count() <= SHORT_LINE
        && !line.ends_with(['.', '?', '!', '。', '？', '！', '…', '؟', ':', '：'])
}

/// If `line` is a sign-off: the name on the same line ("Thanks, Ryan"), or
/// [`Signer::Nobody`] when there is none.
fn sign_off(line: &str, persona: &NameForms, vendor: &str) -> Option<Signer> {
    let norm = normalize(line);
    if PHRASES.is_sign_off(&norm) {
        return Some(Signer::Nobody);
    }
    let trimmed = line.trim();
    let sep = trimmed.find([',', '，', '、', '،', '-', '–', '—'])?;
    let (head, tail) = trimmed.split_at(sep);
    if !PHRASES.is_sign_off(&normalize(head)) {
        return None;
    }
    let tail = trim_punct(tail);
    match name_in(tail, persona, vendor) {
        Signer::Nobody => None,
        s => Some(s),
    }
}

/// The signer named in the first few non-empty lines of a signature.
fn signer_below(lines: &[&str], persona: &NameForms, vendor: &str) -> Signer {
    let mut team = None;
    for line in lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .take(3)
    {
        if PHRASES.is_sign_off(&normalize(line)) {
            continue;
        }
        match name_in(line, persona, vendor) {
            Signer::Person(p) => return Signer::Person(p),
            Signer::Team(t) => team = team.or(Some(t)),
            Signer::Nobody => {}
        }
    }
    team.map_or(Signer::Nobody, Signer::Team)
}

/// What a signature line or a From display name names: the first part
/// (split at commas, slashes, brackets and dashes; in scripts without
/// spaces, at spaces too) that reads as a person's name; else a part with a
/// team word or the vendor's name.
pub(crate) fn name_in(line: &str, persona: &NameForms, vendor: &str) -> Signer {
    let line = line.trim();
    if line.ends_with([',', '，', '،']) {
        return Signer::Nobody; // a greeting ("Hi Dana,"), not a signature
    }
    let vendor = normalize(vendor);
    let mut team = None;
    for part in parts(line) {
        let norm = normalize(part);
        if norm.is_empty() {
            continue;
        }
        if PHRASES.team(&norm).is_some() || (vendor.chars().count() >= 2 && norm.contains(&vendor))
        {
            team = team.or_else(|| Some(part.to_string()));
            continue;
        }
        if persona.mentioned_in(&norm) || PHRASES.is_sign_off(&norm) {
            continue;
        }
        if name_like(part) {
            return Signer::Person(part.to_string());
        }
    }
    team.map_or(Signer::Nobody, Signer::Team)
}

/// The parts of a line a name may be one of.
fn parts(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for piece in line.split([
        ',', '，', '|', '/', '(', ')', '（', '）', '[', ']', '<', '>', '·', '、',
    ]) {
        // Dashes between spaces separate a name from a title.
        for sub in split_dashes(piece) {
            let sub = sub.trim();
            if sub.is_empty() {
                continue;
            }
            if sub.chars().any(unspaced) {
                out.extend(sub.split_whitespace());
            } else {
                out.push(sub);
            }
        }
    }
    out
}

/// `s` split at a dash with white space on both sides.
fn split_dashes(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((i, n)) = [" - ", " – ", " — "]
        .iter()
        .filter_map(|d| rest.find(d).map(|i| (i, d.len())))
        .min()
    {
        out.push(&rest[..i]);
        rest = &rest[i + n..];
    }
    out.push(rest);
    out
}

/// Whether `part` reads as a person's name: no digits, addresses or
/// labels; in a script without spaces 2 to 6 characters of that script
/// alone (Thai: up to 30);
/// in a cased script 1 to 4 words, the first capitalised and the others
/// capitalised or name particles; in other scripts 1 to 3 words.
fn name_like(part: &str) -> bool {
    let part = part.trim();
    if part.is_empty()
        || part
            .chars()
            .any(|c| c.is_numeric() || matches!(c, '@' | ':' | '：' | '?' | '？' | '!'))
        || part.contains("http")
        || part.contains("www.")
    {
        return false;
    }
    if !part
        .chars()
        .all(|c| c.is_alphabetic() || c.is_whitespace() || matches!(c, '.' | '-' | '\'' | '’'))
    {
        return false;
    }
    if part.chars().any(unspaced) {
        // A name is written in one script: "云帆CDN" is a brand.
        if part.chars().any(|c| c.is_alphabetic() && !unspaced(c)) {
            return false;
        }
        let n = part.chars().filter(|c| !c.is_whitespace()).count();
        let thai = part.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c));
        return (2..=if thai { 30 } else { 6 }).contains(&n);
    }
    let words: Vec<&str> = part.split_whitespace().collect();
    let cased = part.chars().any(|c| c.is_uppercase() || c.is_lowercase());
    if !cased {
        return (1..=3).contains(&words.len()) && part.chars().count() >= 2;
    }
    let capital = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    (1..=4).contains(&words.len())
        && part.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && words.first().is_some_and(|w| capital(w))
        && words
            .iter()
            .all(|w| capital(w) || NAME_PARTICLES.contains(&w.to_lowercase().as_str()))
        && words.iter().all(|w| w.chars().count() <= 24)
}
