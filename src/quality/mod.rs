//! What one human reply is, beyond its class: the evidence the scorecard
//! counts ([`model::Quality`]), judged from the reply's *new text* — the
//! classifier's own text (quoted history removed) without its signature
//! ([`text`]). Pure: no store, no I/O. The engine calls [`judge`] on each
//! human reply; every trait carries the rule that decided it, in words.
//!
//! # The rules
//!
//! * **language**: `whatlang` on the new text, as a BCP 47 tag with the
//!   detector's confidence; Chinese as `zh-CN` or `zh-TW` by its
//!   characters. None under [`language::MIN_WORDS`] words or
//!   [`language::MIN_CONFIDENCE`].
//! * **new words**: the classifier's word count of the new text (Chinese and
//!   Japanese at two characters a word, Thai at four).
//! * **personal**: the new text addresses the persona by name (an honorific
//!   of the `[reply]` tables around its full, family or given name — 王先生,
//!   李様, 김님, "Hi Dana" — or, in a script with spaces, the full name or a
//!   name token of two letters or more on its own) *and* a person signed: the
//!   signature names a person, or else the From display name does. A
//!   signature or From naming only a team (`teams` in `[reply]`, or the
//!   vendor's name) is not a person. Limits: a given name that is also a
//!   common word ("Will") counts as addressing; inflected names (Polish
//!   "Pani Anno") do not.
//! * **templated**: the MinHash signature of the new text ([`minhash`]) is
//!   at least [`TEMPLATED_AT`] similar to this vendor's human reply to
//!   another probe. None when the text is too short to compare (no
//!   signature) or there is nothing to compare with yet: no evidence either
//!   way. A person pasting a macro is still a person; this is a separate
//!   trait.
//! * **specific**: only for probes with a `{detail}`: the new text contains
//!   the detail (normalized, so case and width do not matter), or one of
//!   its distinctive tokens (with a digit, or joined by `-`, `_`, `.`:
//!   `4F7Q`, `sg-3`) on word edges.
//! * **asks back**: a sentence of the new text ends with a question mark
//!   (`?`, `？`, `؟`; not inside a URL) or holds a request for information
//!   (`asks-back` in `[reply]`: "could you provide", "请提供",
//!   "教えていただけますか"), and is not a courtesy question (`courtesy`:
//!   "does this help?", "can you check again?"). Limits: a question without
//!   a question mark and without a known request phrase (common in Thai and
//!   Japanese) is missed; a rhetorical question counts.
//! * **answers**: only for probes with `expect`: one of the regexes matches
//!   the new text (as written or normalized). None when one does not
//!   compile (the config rejects those before).

mod language;
mod minhash;
mod phrases;
mod text;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

use crate::classify::{self, MessageFacts, normalize};
use crate::model::{Quality, Trait};

pub use language::{MIN_CONFIDENCE, MIN_WORDS};
pub use minhash::{HASHES, MIN_UNITS, similarity};

/// A reply at least this similar to one on another probe is templated.
pub const TEMPLATED_AT: f64 = 0.8;

/// What [`judge`] needs to know beyond the message.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    /// The persona's display name, e.g. "Li Wei" or "王伟".
    pub persona_name: &'a str,
    /// The vendor's name (a signature naming only it is not a person;
    /// removed before comparing texts).
    pub vendor: &'a str,
    /// The probe's `{detail}`, e.g. "stream key ending 4F7Q".
    pub detail: Option<&'a str>,
    /// Regexes a right answer contains (the probe's `expect`).
    pub expect: &'a [String],
    /// (probe id, signature) of this vendor's human replies on other probes.
    pub others: &'a [(String, Vec<u32>)],
}

/// Problems loading the `[reply]` tables, as `file: problem`; empty in a
/// sound build (the tests require it).
pub fn data_problems() -> Vec<String> {
    phrases::PHRASES.errors.clone()
}

/// The MinHash signature of `text`'s own new text (quoted history and
/// signature are not removed here: pass the new text), with probe tokens,
/// e-mail addresses and numbers removed; empty when too short to compare.
pub fn signature(text: &str) -> Vec<u32> {
    minhash::signature_without(text, &[])
}

/// Judges one human reply.
pub fn judge(facts: &MessageFacts, j: &Judge<'_>) -> Quality {
    let persona = text::NameForms::new(j.persona_name);
    let own = classify::own_text(&facts.body_text);
    let split = text::split(&own, &persona, j.vendor);
    let new_text = split.new_text.as_str();
    let norm = normalize(new_text);
    let words = classify::word_count(new_text);
    let signature = minhash::signature_without(new_text, &[j.persona_name, j.vendor]);
    Quality {
        language: language::detect(new_text, words),
        new_words: u32::try_from(words).unwrap_or(u32::MAX),
        personal: Some(personal(&norm, &persona, &split.signer, facts, j.vendor)),
        templated: templated(&signature, j.others),
        specific: j.detail.map(|d| specific(&norm, d)),
        asks_back: Some(asks_back(new_text)),
        answers: answers(new_text, &norm, j.expect),
        signature,
    }
}

/// The personal rule (see the module doc).
fn personal(
    norm: &str,
    persona: &text::NameForms,
    signer: &text::Signer,
    facts: &MessageFacts,
    vendor: &str,
) -> Trait {
    let addressed = addressed(norm, persona);
    let from = facts
        .from_name
        .as_deref()
        .map(|n| text::name_in(n, &text::NameForms::default(), vendor));
    let signed = match (signer, &from) {
        (text::Signer::Person(p), _) => Ok(format!("signed {p:?}")),
        (s, Some(text::Signer::Person(p))) => Ok(match s {
            text::Signer::Team(t) => format!("signed {t:?} but From {p:?} is a person"),
            _ => format!("From {p:?} is a person"),
        }),
        (text::Signer::Team(t), _) => Err(format!("signed only by a team ({t:?})")),
        (_, Some(text::Signer::Team(t))) => Err(format!("no person signed; From {t:?} is a team")),
        _ => Err("no signature or From name naming a person".to_string()),
    };
    let who = if persona.display.is_empty() {
        "the persona".to_string()
    } else {
        format!("{:?}", persona.display)
    };
    let greets = match &addressed {
        Some(how) => format!("addresses {who} as {how:?}"),
        None => format!("does not address {who} by name"),
    };
    let (ok, signed) = match signed {
        Ok(s) => (true, s),
        Err(s) => (false, s),
    };
    Trait::judged(addressed.is_some() && ok, format!("{greets}; {signed}"))
}

/// How the new text (normalized) addresses the persona, if it does.
fn addressed(norm: &str, persona: &text::NameForms) -> Option<String> {
    for form in &persona.honorific {
        for h in &phrases::PHRASES.honorifics {
            let whole = format!("{}{}{}", h.before, form, h.after);
            if let Some(i) = text::find_word(norm, &whole) {
                return Some(norm[i..i + whole.len()].to_string());
            }
        }
    }
    persona
        .bare
        .iter()
        .find(|f| text::find_word(norm, f).is_some())
        .cloned()
}

/// The templated rule (see the module doc).
fn templated(signature: &[u32], others: &[(String, Vec<u32>)]) -> Option<Trait> {
    if signature.is_empty() {
        return None;
    }
    let (probe, best) = others
        .iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(p, s)| (p, similarity(signature, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(if best >= TEMPLATED_AT {
        Trait::judged(
            true,
            format!(
                "new text {best:.2} similar to a reply on probe {probe} (templated at {TEMPLATED_AT})"
            ),
        )
    } else {
        Trait::judged(
            false,
            format!(
                "at most {best:.2} similar to this vendor's replies on other probes (templated at {TEMPLATED_AT})"
            ),
        )
    })
}

/// The specific rule (see the module doc).
fn specific(norm: &str, detail: &str) -> Trait {
    let d = normalize(detail);
    if !d.is_empty() && norm.contains(&d) {
        return Trait::judged(true, format!("mentions the detail {detail:?}"));
    }
    let tokens = distinctive_tokens(&d);
    if let Some(t) = tokens.iter().find(|t| text::find_word(norm, t).is_some()) {
        return Trait::judged(true, format!("mentions {t:?} of the detail {detail:?}"));
    }
    let rule = if tokens.is_empty() {
        format!("does not mention the detail {detail:?}")
    } else {
        format!(
            "does not mention the detail {detail:?} or {}",
            tokens
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Trait::judged(false, rule)
}

/// The tokens of a detail (normalized) that say it alone: with a digit, or
/// joined by `-`, `_` or `.` (`4f7q`, `sg-3`, `app.js`).
fn distinctive_tokens(detail: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in detail.split(|c: char| c.is_whitespace() || ",;:()[]\"'“”「」，：".contains(c))
    {
        let t = t.trim_matches(|c: char| !c.is_alphanumeric());
        let joined = t.contains(['-', '_', '.']);
        if t.chars().count() >= 2
            && (t.chars().any(|c| c.is_ascii_digit()) || joined)
            && !out.iter().any(|o| o == t)
        {
            out.push(t.to_string());
        }
    }
    out
}

/// The asks-back rule (see the module doc).
fn asks_back(new_text: &str) -> Trait {
    let mut asking: Vec<String> = Vec::new();
    let mut courtesy: Vec<String> = Vec::new();
    for s in sentences(new_text) {
        let norm = normalize(&s);
        let question = norm
            .trim_end_matches([')', '"', '\'', '」', '』', '”'])
            .ends_with(['?', '؟']);
        let request = phrases::PHRASES.asks_back(&norm).is_some();
        if !(question || request) {
            continue;
        }
        if phrases::PHRASES.courtesy(&norm).is_some() {
            courtesy.push(s);
        } else {
            asking.push(s);
        }
    }
    let quote = |s: &[String]| {
        s.iter()
            .take(2)
            .map(|s| format!("{:?}", classify::shorten(s, 60)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !asking.is_empty() {
        let n = asking.len();
        let what = if n == 1 { "sentence" } else { "sentences" };
        return Trait::judged(true, format!("asks us in {n} {what}: {}", quote(&asking)));
    }
    if !courtesy.is_empty() {
        return Trait::judged(
            false,
            format!("only courtesy questions: {}", quote(&courtesy)),
        );
    }
    Trait::judged(false, "no question or request for information")
}

/// The sentences of `text`: paragraphs (split at blank lines) with their
/// lines joined, cut after `.`, `!`, `?` and their full-width forms (a `.`
/// or `?` only when white space or the end follows: not in `app.js` or a
/// URL's query).
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let joined = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut current = String::new();
        let mut chars = joined.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            let end = match c {
                '。' | '！' | '？' | '؟' => true,
                '.' | '!' | '?' => chars.peek().is_none_or(|n| n.is_whitespace()),
                _ => false,
            };
            if end {
                let s = current.trim();
                if !s.is_empty() {
                    out.push(s.to_string());
                }
                current.clear();
            }
        }
        let s = current.trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    out
}

/// Compiled `expect` regexes, kept across replies (a probe's are the same
/// every time); `Err` holds why one does not compile.
static EXPECT: LazyLock<Mutex<HashMap<String, Result<Regex, String>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// The most patterns [`EXPECT`] keeps before starting over.
const EXPECT_CACHE: usize = 4096;

/// The answers rule (see the module doc).
fn answers(new_text: &str, norm: &str, expect: &[String]) -> Option<Trait> {
    if expect.is_empty() {
        return None;
    }
    let mut cache = EXPECT.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() > EXPECT_CACHE {
        cache.clear();
    }
    let mut compiled = Vec::with_capacity(expect.len());
    for p in expect {
        let re = cache
            .entry(p.clone())
            .or_insert_with(|| Regex::new(p).map_err(|e| e.to_string()));
        compiled.push(re.as_ref().ok()?.clone());
    }
    drop(cache);
    for re in &compiled {
        if let Some(m) = re.find(new_text).or_else(|| re.find(norm)) {
            return Some(Trait::judged(
                true,
                format!(
                    "contains /{}/: {:?}",
                    re.as_str(),
                    classify::shorten(m.as_str(), 60)
                ),
            ));
        }
    }
    let all = compiled
        .iter()
        .map(|r| format!("/{}/", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Trait::judged(false, format!("matches none of {all}")))
}
