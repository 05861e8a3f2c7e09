//! The canned-text rule's fingerprint: a stable hash of a message's own text
//! with everything that differs between two copies of a template removed
//! (quotes, numbers, ids, dates, names, addresses, probe tokens).

use super::lexicon::{Cat, LEXICON, normalize};
use super::{MessageFacts, is_match};

/// Fewer words than this left after normalizing: too short to call canned.
const MIN_WORDS: usize = 6;

super::regexes! {
    ON_WROTE = r"(?i)^\s*(on|am|le|el|il|op)\b.*\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:\s*$";
    ON_START = r"(?i)^\s*(on|am|le)\s.*\d";
    WROTE_END = r"(?i)\b(wrote|schrieb|a écrit)\s*:\s*$";
    ORIGINAL_MESSAGE = r"(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|forwarded message|weitergeleitete nachricht)\s*-{2,}";
    OUTLOOK_RULE = r"^\s*_{10,}\s*$";
    FROM_LINE = r"(?i)^\s*\**(from|von|de)\s*:\**\s*\S";
    SENT_LINE = r"(?i)^\s*\**(sent|date|gesendet|datum|envoyé|to|an|à)\s*:";
    HELPDESK_MARKER = r"(?i)^\s*(##-?\s*please (type your reply above|do not write below) this line\s*-?##|##-?\s*bitte geben sie ihre antwort über dieser zeile ein\s*-?##|reply above this line\.?|[—–-]{1,2}(\s*[—–-]{1,2}){2,})\s*$";
    EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+";
}

/// Month, weekday and zone words that change with the date of a template.
const DATE_WORDS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
    "januar",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "mon",
    "monday",
    "tue",
    "tuesday",
    "wed",
    "wednesday",
    "thu",
    "thursday",
    "fri",
    "friday",
    "sat",
    "saturday",
    "sun",
    "sunday",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "am",
    "pm",
    "utc",
    "gmt",
    "cet",
    "cest",
    "est",
    "edt",
    "pst",
    "pdt",
    "cst",
    "cdt",
    "bst",
    "ist",
];

/// Normalized-body fingerprint for the canned-text rule: body without quoted text (lines starting
/// with '>', everything after an "On ... wrote:" / "-----Original Message-----" / "From: ... Sent:" separator,
/// and the Zendesk "## Please do not write below this line ##" marker handled sensibly), lowercased,
/// tokens containing digits removed (numbers, ids, dates, times), probe tokens removed, e-mail addresses removed,
/// the words of every string in `strip` (persona/vendor names, our subject) removed, whitespace folded;
/// a stable hex hash (FNV-1a 64). Returns None when fewer than 6 words remain (too short to call canned).
///
/// The helpdesk markers ("## Please do not write below this line ##", "Reply above
/// this line") are dropped as lines, never used as a cut: Zendesk and Jira put
/// them *above* the agent's text.
pub fn fingerprint(facts: &MessageFacts, strip: &[&str]) -> Option<String> {
    let stripped: Vec<String> = strip.iter().flat_map(|s| words(s)).collect();
    let kept: Vec<String> = words(&own_text(&facts.body_text))
        .into_iter()
        .filter(|w| !stripped.contains(w) && !DATE_WORDS.contains(&w.as_str()))
        .collect();
    if kept.len() < MIN_WORDS {
        return None;
    }
    Some(format!("{:016x}", fnv1a64(kept.join(" ").as_bytes())))
}

/// The message's own text: quoted lines, everything from the first reply
/// separator on, and helpdesk reply markers removed.
pub(crate) fn own_text(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut out = String::with_capacity(body.len().min(64 * 1024));
    for (i, line) in lines.iter().enumerate() {
        if is_separator(&lines, i) {
            break;
        }
        if line.trim_start().starts_with('>') || is_match(&HELPDESK_MARKER, line) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Whether line `i` starts the quoted original of a reply.
fn is_separator(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    let next = |n: usize| lines.iter().skip(i + 1).take(n);
    is_match(&ON_WROTE, line)
        || is_match(&ORIGINAL_MESSAGE, line)
        || (maybe_quote_header(line) && LEXICON.has(Cat::QuoteHeader, &normalize(line)))
        || (is_match(&ON_START, line) && next(2).any(|l| is_match(&WROTE_END, l)))
        || (is_match(&OUTLOOK_RULE, line) && next(2).any(|l| is_match(&FROM_LINE, l)))
        || (is_match(&FROM_LINE, line) && next(4).any(|l| is_match(&SENT_LINE, l)))
}

/// Whether a line could introduce a quoted original: short, and with the
/// colon or dashes every language's form of "On ... wrote:" and "-----
/// Original Message -----" has (a cheap test before the phrase files').
fn maybe_quote_header(line: &str) -> bool {
    line.len() <= 400 && (line.contains([':', '：']) || line.contains("--") || line.contains("——"))
}

/// Lowercase words: probe tokens and e-mail addresses removed, split on
/// anything that is not a letter or digit, words with digits dropped.
pub(crate) fn words(text: &str) -> Vec<String> {
    let text = super::text::cap(text, super::text::BODY_CAP);
    let text = replace_all(&super::text::TOKEN, text);
    let text = replace_all(&EMAIL, &text);
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_numeric()))
        .map(str::to_string)
        .collect()
}

/// `text` with every match of `re` replaced by a space.
fn replace_all(re: &super::LazyRegex, text: &str) -> String {
    match re.as_ref() {
        Some(r) => r.replace_all(text, " ").into_owned(),
        None => text.to_string(),
    }
}

/// FNV-1a, 64 bits: stable across runs, platforms and Rust versions.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn own_text_cuts_quotes_and_keeps_text_below_zendesk_marker() {
        let body = "##- Please type your reply above this line -##\n\
                    Hello there\n> quoted\nOn Mon, 2 Nov 2026 at 09:00, Sam <s@x.com>\nwrote:\nold text\n";
        let own = own_text(body);
        assert!(own.contains("Hello there"));
        assert!(!own.contains("quoted"));
        assert!(!own.contains("old text"));
        assert!(!own.contains("##"));
    }

    #[test]
    fn outlook_header_block_is_a_separator() {
        let body =
            "Fixed now.\n\nFrom: Sam <sam@example.com>\nSent: Monday\nTo: x\nSubject: y\n\nold";
        assert_eq!(own_text(body).trim(), "Fixed now.");
    }
}
