//! Ticket references vendors put in subjects (`[#12345]`, `Case 00012345`,
//! `[ABC-123]`, Zendesk's `[62X0VV-2436V]`, ...), normalized for matching.

use super::text::TOKEN;

super::regexes! {
    BRACKET_NUMBER = r"\[#?\s*(\d+)\s*\]";
    HASH_NUMBER = r"(?:^|[^\w&])#(\d{3,})\b";
    PAREN_NUMBER = r"\((\d{4,})\)";
    BRACKET_KEY = r"[\[(]([A-Z0-9]+-[A-Z0-9]+)[\])]";
    LEADING_KEY = r"^(?i:(?:re|fwd?|aw|wg|sv|tr)\s*:\s*)*([A-Z][A-Z0-9]{1,9}-\d+)\b";
    WORD_REF = r"(?i)\b(?:ticket|case|request|incident|issue|anfrage|vorgang)\b\s*(?:number|no\.?|nr\.?|id)?\s*[:#]?\s*#?\s*([A-Z]{0,5}\d{3,})\b";
}

/// Ticket references a vendor put in a subject: `[#12345]`, `#12345`, `(12345)` (4+ digits), `[ABC-123]`,
/// `Ticket 12345` / `Case 00012345` / `Request #123` / `Incident: INC0012345`, Zendesk `[62X0VV-2436V]`.
/// Normalized (e.g. "#12345", "ABC-123", "62X0VV-2436V"), deduped; our own `SP-...` tokens excluded.
/// Numeric ids become `#digits` whatever their decoration, so `[#123]`,
/// `Request #123` and `(1234)` style references compare equal.
pub fn ticket_refs(subject: &str) -> Vec<String> {
    let subject = super::text::cap(subject, 4096);
    let mut found: Vec<(usize, String)> = Vec::new();
    let numeric = |digits: &str| format!("#{digits}");
    collect(&BRACKET_NUMBER, subject, &mut found, numeric);
    collect(&HASH_NUMBER, subject, &mut found, numeric);
    collect(&PAREN_NUMBER, subject, &mut found, numeric);
    collect(&BRACKET_KEY, subject, &mut found, str::to_string);
    collect(&LEADING_KEY, subject, &mut found, str::to_string);
    collect(&WORD_REF, subject, &mut found, |id| {
        if id.bytes().all(|b| b.is_ascii_digit()) {
            format!("#{id}")
        } else {
            id.to_ascii_uppercase()
        }
    });
    found.sort_by_key(|(pos, _)| *pos);
    let mut out: Vec<String> = Vec::new();
    for (_, r) in found {
        if !is_probe_token(&r) && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Adds the first capture group of every match of `re`, normalized by `norm`,
/// with its position.
fn collect(
    re: &super::LazyRegex,
    subject: &str,
    found: &mut Vec<(usize, String)>,
    norm: impl Fn(&str) -> String,
) {
    let Some(re) = re.as_ref() else { return };
    for caps in re.captures_iter(subject) {
        if let Some(m) = caps.get(1) {
            found.push((m.start(), norm(m.as_str())));
        }
    }
}

/// Whether a reference is one of our own probe tokens.
fn is_probe_token(r: &str) -> bool {
    TOKEN.as_ref().is_some_and(|t| {
        t.find(r)
            .is_some_and(|m| m.start() == 0 && m.end() == r.len())
    })
}
