//! Delivery status reports and other reports of mail systems: RFC 3464
//! `message/delivery-status` parts, feedback (abuse) reports, read receipts,
//! returned messages, plain-text bounces and delay warnings in every
//! language of the phrase files, and the classification they give. This is
//! row 1 of the decision table: structure before wording.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::lexicon::{Cat, LEXICON, normalize};
use super::{Classification, Dsn, DsnAction, MessageFacts, Structure, find, is_match, shorten};
use crate::model::{Class, Confidence};

/// The most characters of a diagnostic kept.
const DIAGNOSTIC_CAP: usize = 300;
/// The most SMTP codes kept.
const SMTP_CODES_CAP: usize = 4;

super::regexes! {
    MAIL_SYSTEM_SENDER = r"(?i)^(mailer[-_.]?daemon|postmaster|post[-_.]?master|mail[-_.]?daemon|mailerdaemon|mail[-_.]?delivery[-_.]?(subsystem|system)?|microsoftexchange[0-9a-f]*|bounces?|bounce[-+.][^@]*|mdaemon|mailadmin|mail[-_.]?admin|mail[-_.]?system|smtp[-_.]?(gateway|daemon)|system[-_.]?administrator|nobody|noreply-dmarc-support|dsn|mail[-_.]?notify|systemmail|daemon)(@|$)";
    MAIL_SYSTEM_NAME = r"(?i)^(mail delivery (subsystem|system|service)|mailer[- ]daemon|post ?master|microsoft outlook|mail administrator|system administrator|mail system|internet mail delivery|mail delivery agent|delivery status notification|系统退信|退信服务|邮件系统|メール配信システム|메일 시스템)$";
    STATUS_5 = r"\b5\.\d{1,3}\.\d{1,3}\b";
    STATUS_4 = r"\b4\.\d{1,3}\.\d{1,3}\b";
    STATUS_ANY = r"\b[245]\.\d{1,3}\.\d{1,3}\b";
    REPLY_5 = r"(?m)(^|[\s(:;<\[#])5[0-5][0-9]([ -]|$)";
    REPLY_4 = r"(?m)(^|[\s(:;<\[#])4[2-5][0-9]([ -]|$)";
    SMTP_CODE = r"\b[2-5][0-5][0-9][ -][245]\.\d{1,3}\.\d{1,3}\b";
    RAW_HEADER_LINE = r"(?i)^[ \t>]*(received|return-path|message-id|dkim-signature|x-originating-ip|x-mailer|mime-version|content-transfer-encoding|authentication-results):[ \t]*\S";
    RECIPIENT_LINE = r"(?im)^\s*(final|original)-recipient:\s*(rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$";
    ADDRESS = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+";
    DIAGNOSTIC_LINE = r"(?im)^\s*(diagnostic-code:|remote server returned|the error that the other server returned was:|the response (from the remote server )?was:|host .* said:).*$";
}

/// The report kinds of a `multipart/report` whose meaning is settled by
/// their type.
const FEEDBACK: &str = "feedback-report";
const DISPOSITION: &str = "disposition-notification";

/// The structure evidence of a parsed message (see [`Structure`]); the
/// fields that need the byte scan are filled in by the parser.
pub(crate) fn structure(msg: &Message<'_>) -> Structure {
    let report_type = msg
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .and_then(|ct| ct.attribute("report-type"))
        .map(|t| t.trim().to_ascii_lowercase())
        .or_else(|| {
            msg.parts.iter().find_map(|p| {
                let ct = p.content_type()?;
                let sub = ct.subtype()?.to_ascii_lowercase();
                (ct.ctype().eq_ignore_ascii_case("message")
                    && matches!(sub.as_str(), FEEDBACK | DISPOSITION))
                .then_some(sub)
            })
        });
    Structure {
        report_type,
        returned_message: msg.parts.iter().any(is_returned_part),
        ..Structure::default()
    }
}

/// Whether a part returns a message or its headers.
pub(crate) fn is_returned_part(part: &MessagePart<'_>) -> bool {
    if matches!(part.body, PartType::Message(_)) {
        return true;
    }
    part.content_type().is_some_and(|ct| {
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        (ct.ctype().eq_ignore_ascii_case("message")
            && matches!(sub.as_str(), "rfc822" | "global" | "global-headers"))
            || (ct.ctype().eq_ignore_ascii_case("text") && sub == "rfc822-headers")
    })
}

/// Whether `text` carries the raw headers of a returned message: at least
/// two of the trace and id headers people's mail programs never quote.
pub(crate) fn returned_headers_in_text(text: &str) -> bool {
    let Some(re) = RAW_HEADER_LINE.as_ref() else {
        return false;
    };
    let mut seen: Vec<String> = Vec::new();
    for line in super::text::cap(text, 64 * 1024).lines() {
        if let Some(c) = re.captures(line)
            && let Some(name) = c.get(1)
        {
            let name = name.as_str().to_ascii_lowercase();
            if !seen.contains(&name) {
                seen.push(name);
            }
            if seen.len() >= 2 {
                return true;
            }
        }
    }
    false
}

/// SMTP replies with enhanced status codes in a text (`550 5.1.1`).
pub(crate) fn smtp_codes(text: &str) -> Vec<String> {
    let Some(re) = SMTP_CODE.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for m in re.find_iter(super::text::cap(text, 64 * 1024)) {
        let code = m.as_str().replace('-', " ");
        if !out.contains(&code) {
            out.push(code);
        }
        if out.len() >= SMTP_CODES_CAP {
            break;
        }
    }
    out
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
    // A From line with no address at all (`"Jetmail System" <>`).
    let empty_from = facts.from_addr.is_none() && facts.header("from").is_some();
    empty_from
        || facts
            .from_addr
            .as_deref()
            .is_some_and(|a| is_match(&MAIL_SYSTEM_SENDER, a))
        || facts
            .from_name
            .as_deref()
            .is_some_and(|n| is_match(&MAIL_SYSTEM_NAME, n.trim()))
}

/// A report inferred from a plain-text bounce or delay warning, in any
/// language of the phrase files: only for mail that comes from a mail system,
/// has a null envelope sender, returns a message or quotes our headers back.
pub(crate) fn inferred_dsn(facts: &MessageFacts) -> Option<Dsn> {
    let mail_system = from_mail_system(facts);
    let returned = facts.structure.returned_message
        || facts.structure.quotes_our_headers
        || (facts.structure.returned_headers && !facts.structure.smtp_codes.is_empty());
    let subject = normalize(facts.subject.as_deref().unwrap_or_default());
    let report = facts.structure.report_type.as_deref() == Some("delivery-status");
    let gated = mail_system || facts.return_path_empty || returned || report;
    // A mail system's words in both the subject and the text stand on
    // their own ("Delivery failure" / "could not be delivered"): people
    // answering a support request do not write both.
    let both =
        |s: Cat, b: Cat| LEXICON.has(s, &subject) && LEXICON.has(b, &normalize(&facts.body_text));
    // ... and that name the address the message was for, or the server's
    // reply code (a person writing "Undeliverable: our parcel" does not).
    let names_recipient = is_match(&REPLY_5, &facts.body_text)
        || is_match(&STATUS_ANY, &facts.body_text)
        || ADDRESS.as_ref().is_some_and(|re| {
            re.find_iter(super::text::cap(&facts.body_text, 64 * 1024))
                .any(|m| Some(m.as_str().to_lowercase()) != facts.from_addr)
        });
    let both_failure = names_recipient && both(Cat::BounceSubject, Cat::BounceBody);
    let both_delay = names_recipient && both(Cat::DelaySubject, Cat::DelayBody);
    let returned = returned || facts.structure.returned_headers;
    if !(gated || both_failure || both_delay) {
        return None;
    }
    let body_raw = super::text::cap(&facts.body_text, 64 * 1024);
    let body = normalize(body_raw);
    // A mail system's own report: its sender, or a returned message with a
    // null envelope sender. Body wording alone is trusted only there:
    // auto-replies also come with an empty Return-Path and may talk about
    // delays.
    let system = mail_system || report || (returned && facts.return_path_empty);
    let code_5 = is_match(&STATUS_5, body_raw) || (system && is_match(&REPLY_5, body_raw));
    let code_4 = is_match(&STATUS_4, body_raw) || (system && is_match(&REPLY_4, body_raw));
    let failure_subject = LEXICON.has(Cat::BounceSubject, &subject);
    let delay_subject = LEXICON.has(Cat::DelaySubject, &subject);
    let failure_body = LEXICON.has(Cat::BounceBody, &body);
    let delay_body = LEXICON.has(Cat::DelayBody, &body);
    let action = if delay_subject && !failure_subject {
        DsnAction::Delayed
    } else if failure_subject || code_5 {
        DsnAction::Failed
    } else if code_4 || (system && delay_body && !failure_body) {
        DsnAction::Delayed
    } else if (system || returned) && failure_body {
        DsnAction::Failed
    } else if mail_system && returned {
        // A mail system that sends our message back without a reason we
        // can read: it did not reach the vendor.
        DsnAction::Failed
    } else {
        return None;
    };
    Some(Dsn {
        action,
        status: find(&STATUS_ANY, body_raw).map(str::to_string),
        diagnostic: inferred_diagnostic(body_raw),
        recipient: inferred_recipient(facts, body_raw),
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

/// The classification structure gives (row 1 of the decision table): a
/// delivery report, a feedback (abuse) report, a read receipt or another
/// report of a mail system. None of them is ever a person's answer.
pub(crate) fn classify_report(facts: &MessageFacts) -> Option<Classification> {
    if let Some(c) = classify_dsn(facts) {
        return Some(c);
    }
    let kind = facts.structure.report_type.as_deref()?;
    let (what, confidence) = match kind {
        FEEDBACK => (
            "a feedback (abuse) report (RFC 5965 multipart/report; report-type=feedback-report)",
            Confidence::Certain,
        ),
        DISPOSITION => (
            "a read receipt (RFC 8098 multipart/report; report-type=disposition-notification)",
            Confidence::Certain,
        ),
        "delivery-status" => (
            "a delivery report (multipart/report) whose status could not be read",
            Confidence::Likely,
        ),
        _ => (
            "a mail system's report (multipart/report)",
            Confidence::Likely,
        ),
    };
    Some(
        Classification::new(
            Class::Automated,
            vec![format!("{what}: a mail system's report, not an answer")],
        )
        .with(confidence),
    )
}

/// The classification a delivery report gives.
fn classify_dsn(facts: &MessageFacts) -> Option<Classification> {
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
    let mut reasons = vec![detail, meaning.to_string()];
    let confidence = if dsn.standard || dsn.status.is_some() {
        Confidence::Certain
    } else {
        if facts.structure.returns_ours {
            reasons.push("it returns our probe".to_string());
        }
        Confidence::Likely
    };
    Some(Classification::new(class, reasons).with(confidence))
}
