//! The language of a reply's new text, told by `whatlang` (trigrams and
//! scripts, no model files) and given as a BCP 47 tag: the primary subtag,
//! and for Chinese the script's region, told by the characters only one of
//! the two scripts uses (`script-chars` in the `[reply]` tables).
//!
//! When the detector is unsure (confidence under [`RELIABLE`]), it is asked
//! again among the languages of `data/lang/` — the languages probes are
//! written in — and that answer is kept, with the first confidence: on a
//! short Russian reply the detector may hesitate towards Bulgarian, a
//! language none of our probes uses.

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

use super::phrases::PHRASES;
use crate::classify::cap;
use crate::model::DetectedLanguage;

/// Fewer words than this: too short to tell.
pub const MIN_WORDS: usize = 3;
/// Below this confidence (0–100) the detector's answer is not recorded.
pub const MIN_CONFIDENCE: u8 = 20;
/// From this confidence on, the detector's first answer stands.
pub const RELIABLE: u8 = 90;
/// The most bytes of text the language is told from.
const LANGUAGE_CAP: usize = 4 * 1024;

/// The language of `text` (a reply's new text, `words` long), or None when
/// it is too short or the detector is unsure.
pub fn detect(text: &str, words: usize) -> Option<DetectedLanguage> {
    if words < MIN_WORDS {
        return None;
    }
    let text = cap(text, LANGUAGE_CAP);
    let info = whatlang::detect(text)?;
    let mut confidence = percent(info.confidence());
    let mut lang = info.lang();
    if confidence < RELIABLE
        && let Some(again) = KNOWN.detect(text)
    {
        lang = again.lang();
        confidence = confidence.max(percent(again.confidence()));
    }
    if confidence < MIN_CONFIDENCE {
        // whatlang's confidence is a margin over the runner-up, low on
        // short plain texts ("Since that answers your question, I am
        // resolving the ticket." is English at 0.12). Two or more frequent
        // words of the same language in the phrase files settle it.
        let words = crate::classify::known_language(text)?;
        if words.split('-').next() != Some(bcp47(lang)) {
            return None;
        }
        confidence = CORROBORATED;
    }
    let primary = bcp47(lang);
    let tag = if primary == "zh" {
        chinese_variant(text).unwrap_or_else(|| primary.to_string())
    } else {
        primary.to_string()
    };
    Some(DetectedLanguage { tag, confidence })
}

/// The confidence recorded when the detector hesitated but the phrase
/// files' frequent words agree with it.
pub const CORROBORATED: u8 = 50;

/// A 0–1 confidence as a percentage.
fn percent(c: f64) -> u8 {
    (c.clamp(0.0, 1.0) * 100.0).round() as u8
}

/// A detector limited to the languages of the phrase files.
static KNOWN: LazyLock<Detector> = LazyLock::new(|| {
    let primaries: Vec<&str> = PHRASES
        .languages
        .iter()
        .map(|t| t.split(['-', '_']).next().unwrap_or_default())
        .collect();
    Detector::with_allowlist(
        Lang::all()
            .iter()
            .copied()
            .filter(|l| primaries.contains(&bcp47(*l)))
            .collect(),
    )
});

/// `zh-CN` or `zh-TW` (any `zh-*` file with `script-chars`): the variant
/// whose own characters `text` has most of; None when it has none or a tie.
fn chinese_variant(text: &str) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = PHRASES
        .scripts
        .iter()
        .filter(|(tag, _)| tag.starts_with("zh"))
        .map(|(tag, chars)| {
            (
                tag.as_str(),
                text.chars().filter(|c| chars.contains(c)).count(),
            )
        })
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts.as_slice() {
        [(tag, n), rest @ ..] if *n > 0 && rest.first().is_none_or(|(_, m)| m < n) => {
            Some((*tag).to_string())
        }
        _ => None,
    }
}

/// The shortest BCP 47 primary subtag of a language `whatlang` knows
/// (ISO 639-1 where there is one, else its ISO 639-3 code).
fn bcp47(lang: Lang) -> &'static str {
    match lang.code() {
        "afr" => "af",
        "aka" => "ak",
        "amh" => "am",
        "ara" => "ar",
        "aze" => "az",
        "bel" => "be",
        "ben" => "bn",
        "bul" => "bg",
        "cat" => "ca",
        "ces" => "cs",
        "cmn" => "zh",
        "cym" => "cy",
        "dan" => "da",
        "deu" => "de",
        "ell" => "el",
        "eng" => "en",
        "epo" => "eo",
        "est" => "et",
        "fin" => "fi",
        "fra" => "fr",
        "guj" => "gu",
        "heb" => "he",
        "hin" => "hi",
        "hrv" => "hr",
        "hun" => "hu",
        "hye" => "hy",
        "ind" => "id",
        "ita" => "it",
        "jav" => "jv",
        "jpn" => "ja",
        "kan" => "kn",
        "kat" => "ka",
        "khm" => "km",
        "kor" => "ko",
        "lat" => "la",
        "lav" => "lv",
        "lit" => "lt",
        "mal" => "ml",
        "mar" => "mr",
        "mkd" => "mk",
        "mya" => "my",
        "nep" => "ne",
        "nld" => "nl",
        "nob" => "nb",
        "ori" => "or",
        "pan" => "pa",
        "pes" => "fa",
        "pol" => "pl",
        "por" => "pt",
        "ron" => "ro",
        "rus" => "ru",
        "sin" => "si",
        "slk" => "sk",
        "slv" => "sl",
        "sna" => "sn",
        "spa" => "es",
        "srp" => "sr",
        "swe" => "sv",
        "tam" => "ta",
        "tel" => "te",
        "tgl" => "tl",
        "tha" => "th",
        "tuk" => "tk",
        "tur" => "tr",
        "ukr" => "uk",
        "urd" => "ur",
        "uzb" => "uz",
        "vie" => "vi",
        "yid" => "yi",
        "zul" => "zu",
        other => other,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn every_whatlang_language_has_a_two_or_three_letter_tag() {
        for lang in Lang::all() {
            let tag = bcp47(*lang);
            assert!((2..=3).contains(&tag.len()), "{lang:?} -> {tag}");
            assert_ne!(tag, lang.code(), "{lang:?} has an ISO 639-1 code");
        }
    }
}
