//! Delivery status reports: RFC 3464 `message/delivery-status` parts, plain-text
//! bounces and delay warnings from mail systems, and the classification they give.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::{Classification, Dsn, DsnAction, MessageFacts, find, is_match, shorten};
use crate::model::Class;

/// The most characters of a diagnostic kept.
const DIAGNOSTIC_CAP: usize = 300;

super::regexes! {
    MAIL_SYSTEM_SENDER = r"(?i)^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|microsoftexchange[0-9a-f]*|bounces?|mail delivery (subsystem|system))(@|$)";
    MAIL_SYSTEM_NAME = r"(?i)^(mail delivery (subsystem|system)|mailer-daemon|postmaster|microsoft outlook|mail administrator)$";
    FAILURE_SUBJECT = r"(?i)(undelivered mail returned to sender|delivery status notification \(failure\)|mail delivery failed|undeliverable|returned mail|delivery failure|failure notice|undelivered mail|nicht zustellbar|unzustellbar|non remis)";
    DELAY_SUBJECT = r"(?i)(delivery status notification \(delay\)|delayed mail|delivery delayed|message delayed|warning: message .* delayed|still being retried|zustellung verzögert)";
    FAILURE_BODY = r"(?i)(delivery has failed|could not be delivered|couldn't be delivered|wasn't delivered|was not delivered|undeliverable|mail delivery failed|returned mail|permanent(ly)? (error|failure)|address (couldn't|could not) be found|user unknown|no such user|mailbox unavailable)";
    DELAY_BODY = r"(?i)(will (continue to )?retry|will be retried|has not yet been delivered|not been delivered yet|temporary problem|temporarily (deferred|unable)|delivery (is|has been) delayed|message (is|was|has been) delayed|this is a warning only|delivery incomplete)";
    STATUS_5 = r"\b5\.\d{1,3}\.\d{1,3}\b";
    STATUS_4 = r"\b4\.\d{1,3}\.\d{1,3}\b";
    STATUS_ANY = r"\b[245]\.\d{1,3}\.\d{1,3}\b";
    RECIPIENT_LINE = r"(?im)^\s*(final|original)-recipient:\s*(rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$";
    ADDRESS = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+";
    DIAGNOSTIC_LINE = r"(?im)^\s*(diagnostic-code:|remote server returned|the error that the other server returned was:|the response (from the remote server )?was:|host .* said:).*$";
}

/// The RFC 3464 report inside a message, if it has a `message/delivery-status` part.
pub(crate) fn standard_dsn(msg: &Message<'_>) -> Option<Dsn> {
    let text = msg.parts.iter().find_map(delivery_status_text)?;
    parse_delivery_status(&text)
}

/// The text of a `message/delivery-status` (or global) part.
fn delivery_status_text(part: &MessagePart<'_>) -> Option<String> {
    let ct = part.content_type()?;
    let subtype = ct.subtype()?.to_ascii_lowercase();
    if !ct.ctype().eq_ignore_ascii_case("message")
        || !matches!(
            subtype.as_str(),
            "delivery-status" | "global-delivery-status"
        )
    {
        return None;
    }
    match &part.body {
        PartType::Text(t) | PartType::Html(t) => Some(t.to_string()),
        PartType::Binary(b) | PartType::InlineBinary(b) => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        PartType::Message(m) => Some(String::from_utf8_lossy(m.raw_message()).into_owned()),
        PartType::Multipart(_) => None,
    }
}

/// One per-recipient block of a delivery-status body.
#[derive(Default)]
struct RecipientBlock {
    action: Option<DsnAction>,
    status: Option<String>,
    diagnostic: Option<String>,
    recipient: Option<String>,
}

/// Parses a delivery-status body: the decisive recipient is the first failed
/// one, else the first delayed one, else the first with any action.
pub(crate) fn parse_delivery_status(text: &str) -> Option<Dsn> {
    let blocks: Vec<RecipientBlock> = split_blocks(text)
        .iter()
        .map(|fields| recipient_block(fields))
        .filter(|b| b.action.is_some())
        .collect();
    let pick = |want: DsnAction| blocks.iter().find(|b| b.action == Some(want));
    let block = pick(DsnAction::Failed)
        .or_else(|| pick(DsnAction::Delayed))
        .or_else(|| blocks.first())?;
    Some(Dsn {
        action: block.action?,
        status: block.status.clone(),
        diagnostic: block.diagnostic.clone(),
        recipient: block.recipient.clone(),
        standard: true,
    })
}

/// Splits a delivery-status body into blocks of unfolded `(name, value)` fields.
fn split_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// The fields of one per-recipient block that matter.
fn recipient_block(fields: &[(String, String)]) -> RecipientBlock {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    RecipientBlock {
        action: get("action").and_then(DsnAction::parse),
        status: get("status")
            .and_then(|s| s.split_whitespace().next())
            .map(str::to_string),
        diagnostic: get("diagnostic-code").map(|d| shorten(d, DIAGNOSTIC_CAP)),
        recipient: get("final-recipient")
            .or_else(|| get("original-recipient"))
            .map(address_type_stripped),
    }
}

/// `rfc822;user@example.com` as `user@example.com`.
fn address_type_stripped(value: &str) -> String {
    let addr = value.split_once(';').map_or(value, |(_, a)| a);
    addr.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase()
}

/// Whether the message comes from a mail system rather than a mailbox.
pub(crate) fn from_mail_system(facts: &MessageFacts) -> bool {
    facts
        .from_addr
        .as_deref()
        .is_some_and(|a| is_match(&MAIL_SYSTEM_SENDER, a))
        || facts
            .from_name
            .as_deref()
            .is_some_and(|n| is_match(&MAIL_SYSTEM_NAME, n.trim()))
}

/// A report inferred from a plain-text bounce or delay warning: only for mail
/// from a mail system (or with a null envelope sender) that carries the markers.
pub(crate) fn inferred_dsn(facts: &MessageFacts) -> Option<Dsn> {
    let mail_system = from_mail_system(facts);
    if !(mail_system || facts.return_path_empty) {
        return None;
    }
    let subject = facts.subject.as_deref().unwrap_or_default();
    let body = super::parse::cap(&facts.body_text, 64 * 1024);
    // Body phrases alone are trusted only from a mail system: auto-replies
    // also come with an empty Return-Path and may talk about delays.
    let action = if is_match(&FAILURE_SUBJECT, subject) || is_match(&STATUS_5, body) {
        DsnAction::Failed
    } else if is_match(&DELAY_SUBJECT, subject)
        || is_match(&STATUS_4, body)
        || (mail_system && is_match(&DELAY_BODY, body))
    {
        DsnAction::Delayed
    } else if mail_system && is_match(&FAILURE_BODY, body) {
        DsnAction::Failed
    } else {
        return None;
    };
    Some(Dsn {
        action,
        status: find(&STATUS_ANY, body).map(str::to_string),
        diagnostic: inferred_diagnostic(body),
        recipient: inferred_recipient(facts, body),
        standard: false,
    })
}

/// The remote server's words in a plain-text bounce: the diagnostic line, or
/// the line after it when the diagnostic line only introduces it ("The
/// response was:").
fn inferred_diagnostic(body: &str) -> Option<String> {
    let m = DIAGNOSTIC_LINE.as_ref()?.find(body)?;
    let line = m.as_str().trim();
    let text = if line.ends_with(':') {
        body[m.end()..]
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(line)
    } else {
        line
    };
    Some(shorten(text, DIAGNOSTIC_CAP))
}

/// The bounced recipient named in a plain-text bounce: a `Final-Recipient:`
/// line, else the first address that is not the mail system's own.
fn inferred_recipient(facts: &MessageFacts, body: &str) -> Option<String> {
    if let Some(c) = RECIPIENT_LINE.as_ref().and_then(|r| r.captures(body))
        && let Some(m) = c.get(3)
    {
        return Some(m.as_str().to_lowercase());
    }
    let re = ADDRESS.as_ref()?;
    re.find_iter(body)
        .map(|m| m.as_str().to_lowercase())
        .find(|a| {
            Some(a.as_str()) != facts.from_addr.as_deref() && !is_match(&MAIL_SYSTEM_SENDER, a)
        })
}

/// The classification a delivery report gives (row 1 of the decision table).
pub(crate) fn classify_dsn(facts: &MessageFacts) -> Option<Classification> {
    let dsn = facts.dsn.as_ref()?;
    let kind = if dsn.standard {
        "delivery status report (RFC 3464)"
    } else {
        "bounce message from a mail system (not a standard report)"
    };
    let mut detail = format!("{kind} says {}", dsn.action.as_str());
    if let Some(r) = &dsn.recipient {
        detail.push_str(&format!(" for {r}"));
    }
    if let Some(s) = &dsn.status {
        detail.push_str(&format!(", status {s}"));
    }
    if let Some(d) = &dsn.diagnostic {
        detail.push_str(&format!(": {d}"));
    }
    let (class, meaning) = match dsn.action {
        DsnAction::Failed => (Class::Bounce, "the probe did not reach the vendor"),
        DsnAction::Delayed => (Class::Delay, "the probe has not reached the vendor yet"),
        DsnAction::Delivered | DsnAction::Relayed | DsnAction::Expanded => {
            (Class::Automated, "a delivery confirmation, not an answer")
        }
    };
    Some(Classification::new(
        class,
        vec![detail, meaning.to_string()],
    ))
}
