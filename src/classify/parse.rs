//! Extraction of [`MessageFacts`] from raw message bytes: headers, ids,
//! addresses, timestamps, body text, probe tokens and ids, helpdesk markers.
//! MIME decoding is mail-parser's; everything here tolerates any input.

use std::borrow::Cow;

use jiff::Timestamp;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, Message, MessageParser, PartType};

use super::text::{BODY_CAP, TOKEN, TOKEN_PATTERN, cap};
use super::{MessageFacts, bounce, helpdesk, is_match, refs};
use crate::model::{Helpdesk, ProbeId};

/// The most top-level headers kept.
const HEADER_CAP: usize = 500;
/// How deep attached messages are searched for tokens and ids.
const MAX_DEPTH: usize = 8;

/// Parses raw RFC 5322 bytes. Never panics, whatever the input (malformed, huge, binary, odd charsets).
pub fn parse(raw: &[u8]) -> MessageFacts {
    let msg = MessageParser::default().parse(raw);
    let mut facts = msg.as_ref().map(facts_from_message).unwrap_or_default();
    if facts.from_addr.is_none()
        && let Some(from) = facts.header("from")
    {
        // mail-parser gives up on some From lines real mail systems write;
        // the address in angle brackets (or a bare one) is still there.
        facts.from_addr = address_in(from);
    }
    facts.helpdesk = helpdesk::REGISTRY
        .detect(&facts)
        .map(|d| Helpdesk::new(&d.id));
    let mut scan = Scan::default();
    scan.bytes(raw);
    if let Some(subject) = &facts.subject {
        scan.text(subject);
    }
    scan.text(&facts.body_text);
    let body_ids = scan.ids.len();
    if let Some(msg) = &msg {
        scan.message_parts(msg, 0);
        facts.dsn = bounce::standard_dsn(msg);
        facts.structure = bounce::structure(msg);
        facts.structure.returns_ours = scan.returned_ours;
    }
    // Our header below the top-level headers: quoted or returned by a mail
    // system (at the top it would be our own probe looping back).
    facts.structure.quotes_our_headers = scan.quoted_header
        || facts.structure.returns_ours
        || (body_ids > 0 && facts.header("x-support-probe").is_none());
    facts.structure.smtp_codes = bounce::smtp_codes(&facts.body_text);
    facts.structure.returned_headers = bounce::returned_headers_in_text(&facts.body_text);
    facts.probe_tokens = scan.tokens;
    facts.probe_ids = scan.ids;
    if facts.dsn.is_none() {
        facts.dsn = bounce::inferred_dsn(&facts);
    }
    facts
}

/// What a plain scan of the raw bytes finds, for a message the parser could
/// not read: probe tokens and ids anywhere, and the top-level `Message-ID`,
/// `In-Reply-To`, `References`, `From` and `Subject` lines as written.
pub(crate) fn fallback_facts(raw: &[u8]) -> MessageFacts {
    let mut scan = Scan::default();
    scan.bytes(raw);
    let head_end = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(raw.len(), |i| i + 1);
    let head = String::from_utf8_lossy(raw.get(..head_end).unwrap_or(raw));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        if headers.len() >= HEADER_CAP {
            break;
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let id_list = |name: &str| -> Vec<String> {
        get(name)
            .map(|v| {
                v.split_whitespace()
                    .map(clean_id)
                    .filter(|id| !id.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let from = get("from").unwrap_or_default();
    let from_addr = from
        .rsplit_once('<')
        .map_or(from.as_str(), |(_, a)| a)
        .trim_end_matches('>')
        .trim()
        .to_lowercase();
    MessageFacts {
        message_id: get("message-id")
            .map(|v| clean_id(&v))
            .filter(|s| !s.is_empty()),
        in_reply_to: id_list("in-reply-to"),
        references: id_list("references"),
        from_addr: Some(from_addr).filter(|a| a.contains('@')),
        subject: get("subject"),
        probe_tokens: scan.tokens,
        probe_ids: scan.ids,
        headers,
        ..MessageFacts::default()
    }
}

/// The address of a `From:` value: in angle brackets, else a bare one.
fn address_in(value: &str) -> Option<String> {
    let inner = match value.rsplit_once('<') {
        Some((_, rest)) => rest.split('>').next().unwrap_or_default(),
        None => value
            .split_whitespace()
            .find(|w| w.contains('@'))
            .unwrap_or_default(),
    };
    let addr = inner
        .trim()
        .trim_matches(['"', '\'', '(', ')'])
        .to_lowercase();
    (addr.contains('@') && !addr.starts_with('@')).then_some(addr)
}

/// The facts mail-parser's view of the top-level message gives directly.
fn facts_from_message(msg: &Message<'_>) -> MessageFacts {
    let headers = top_headers(msg);
    let from = msg.from().and_then(|a| a.first());
    let subject = msg.subject().map(str::to_string);
    MessageFacts {
        message_id: msg.message_id().map(clean_id).filter(|s| !s.is_empty()),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        from_addr: from
            .and_then(|a| a.address.as_deref())
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty()),
        from_name: from
            .and_then(|a| a.name.as_deref())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        ticket_refs: subject
            .as_deref()
            .map(refs::ticket_refs)
            .unwrap_or_default(),
        subject,
        date: msg
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok()),
        top_received: headers
            .iter()
            .find(|(n, _)| n == "received")
            .and_then(|(_, v)| received_date(v)),
        return_path_empty: headers
            .iter()
            .find(|(n, _)| n == "return-path")
            .is_some_and(|(_, v)| v.split_whitespace().collect::<String>() == "<>"),
        body_text: body_text(msg),
        headers,
        ..MessageFacts::default()
    }
}

/// The top-level headers, lowercase names and unfolded values (decoded when
/// mail-parser decoded encoded words), at most [`HEADER_CAP`].
fn top_headers(msg: &Message<'_>) -> Vec<(String, String)> {
    msg.headers()
        .iter()
        .take(HEADER_CAP)
        .map(|h| {
            let raw = msg
                .raw_message
                .get(h.offset_start as usize..h.offset_end as usize)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let raw = unfold(&raw);
            let value = match &h.value {
                HeaderValue::Text(t) if raw.contains("=?") => t.trim().to_string(),
                _ => raw,
            };
            (h.name.as_str().to_ascii_lowercase(), value)
        })
        .collect()
}

/// A folded header value on one line, trimmed.
fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Message ids from an `In-Reply-To` or `References` value.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for id in list.into_iter().map(clean_id) {
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// A message id without angle brackets and surrounding space.
fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

/// The date after the last `;` of a `Received:` value.
pub(crate) fn received_date(value: &str) -> Option<Timestamp> {
    let (_, date) = value.rsplit_once(';')?;
    parse_date(date)
}

/// Parses an RFC 5322 date leniently (mail-parser's parser), as a timestamp.
pub(crate) fn parse_date(text: &str) -> Option<Timestamp> {
    let mut bytes = text.trim().as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    match MessageStream::new(&bytes).parse_date() {
        HeaderValue::DateTime(d) if d.is_valid() => Timestamp::from_second(d.to_timestamp()).ok(),
        _ => None,
    }
}

/// The best plain text of the message, capped at [`BODY_CAP`] bytes.
fn body_text(msg: &Message<'_>) -> String {
    let text = msg
        .body_text(0)
        .or_else(|| msg.body_html(0).map(|h| Cow::Owned(html_text(&h))))
        .unwrap_or_default();
    cap(&text, BODY_CAP).to_string()
}

/// HTML reduced to its text.
fn html_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
}

/// An `X-Support-Probe` header line, also inside a quoted original.
const PROBE_ID_PATTERN: &str = r"(?im-u)^[ \t>]*X-Support-Probe:[ \t]*<?([0-9A-HJKMNP-TV-Z]{26})\b";

super::regexes! {
    PROBE_ID = PROBE_ID_PATTERN;
}

/// Byte-level versions of the token and id patterns, for raw input.
static TOKEN_RAW: std::sync::LazyLock<Option<regex::bytes::Regex>> =
    std::sync::LazyLock::new(|| regex::bytes::Regex::new(TOKEN_PATTERN).ok());
static PROBE_ID_RAW: std::sync::LazyLock<Option<regex::bytes::Regex>> =
    std::sync::LazyLock::new(|| regex::bytes::Regex::new(PROBE_ID_PATTERN).ok());

/// Collects probe tokens and probe ids, deduped, in order of appearance.
#[derive(Default)]
struct Scan {
    tokens: Vec<String>,
    ids: Vec<String>,
    /// A returned (attached) message carried a probe id or token.
    returned_ours: bool,
    /// A text part had our `X-Support-Probe` header as a raw line.
    quoted_header: bool,
}

impl Scan {
    /// Scans raw bytes (headers, undecoded bodies).
    fn bytes(&mut self, raw: &[u8]) {
        if let Some(re) = TOKEN_RAW.as_ref() {
            for m in re.find_iter(raw) {
                self.token(&String::from_utf8_lossy(m.as_bytes()));
            }
        }
        if let Some(re) = PROBE_ID_RAW.as_ref() {
            for c in re.captures_iter(raw) {
                if let Some(m) = c.get(1) {
                    self.id(&String::from_utf8_lossy(m.as_bytes()));
                }
            }
        }
    }

    /// Scans decoded text.
    fn text(&mut self, text: &str) {
        if let Some(re) = TOKEN.as_ref() {
            for m in re.find_iter(text) {
                self.token(m.as_str());
            }
        }
        if let Some(re) = PROBE_ID.as_ref() {
            for c in re.captures_iter(text) {
                if let Some(m) = c.get(1) {
                    self.id(m.as_str());
                }
            }
        }
    }

    /// Scans every decoded part, recursing into attached messages.
    fn message_parts(&mut self, msg: &Message<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for part in &msg.parts {
            match &part.body {
                PartType::Text(t) | PartType::Html(t) => {
                    let before = self.ids.len();
                    self.text(t);
                    if self.ids.len() > before || is_match(&PROBE_ID, t) {
                        self.quoted_header = true;
                    }
                }
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    let before = (self.ids.len(), self.tokens.len());
                    self.bytes(b);
                    if bounce::is_returned_part(part)
                        && (self.ids.len(), self.tokens.len()) != before
                    {
                        self.returned_ours = true;
                    }
                }
                PartType::Message(m) => {
                    let before = (self.ids.len(), self.tokens.len());
                    self.bytes(m.raw_message());
                    if (self.ids.len(), self.tokens.len()) != before
                        || PROBE_ID_RAW
                            .as_ref()
                            .is_some_and(|re| re.is_match(m.raw_message()))
                    {
                        self.returned_ours = true;
                    }
                    self.message_parts(m, depth + 1);
                }
                PartType::Multipart(_) => {}
            }
        }
    }

    fn token(&mut self, token: &str) {
        if !self.tokens.iter().any(|t| t == token) {
            self.tokens.push(token.to_string());
        }
    }

    fn id(&mut self, id: &str) {
        if let Ok(id) = ProbeId::parse(id) {
            let id = id.as_str().to_string();
            if !self.ids.contains(&id) {
                self.ids.push(id);
            }
        }
    }
}
