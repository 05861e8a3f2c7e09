//! Machine markers (RFC 3834 and common practice), the per-helpdesk stamps that
//! make some of them meaningless, and out-of-office detection.

use super::{Classification, MessageFacts, bounce, find, shorten, wording};
use crate::model::{Class, Helpdesk};

super::regexes! {
    OOO_SUBJECT = r"(?i)(out of (the )?office|abwesenheitsnotiz|abwesenheit|i am out of the office|vacation (reply|response|notice)|absence|absent du bureau|fuera de la oficina)";
    AUTO_SUBJECT = r"(?i)^\s*(automatic reply|auto[ -]?reply|autoreply|auto|automatische antwort|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica)\s*:";
    OOO_BODY = r"(?i)(out of (the )?office|on (annual |parental |sick |maternity |paternity )?leave|on (vacation|holiday|holidays)|away from (my desk|the office|work)|(limited|no) access to (my )?e-?mail|i will (be back|return)|i('m| am) (currently )?(away|travell?ing|off)|returning on|back in the office|abwesend|nicht im b[üu]ro|im urlaub|au bureau|en cong[ée]s|absent)";
}

/// One machine marker found in the headers, with a description for the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The lowercase header name (or a pseudo-name for the sender check).
    pub header: &'static str,
    /// The evidence, in words.
    pub text: String,
    /// The first word of the header value, lowercase.
    pub value: String,
    /// Whether the helpdesk puts this on every mail, so it says nothing.
    pub stamp: bool,
}

impl Marker {
    /// Whether this marker fits an auto-responder (as opposed to a list or a
    /// mail system), so that absence wording makes the message out-of-office.
    fn suggests_auto_reply(&self) -> bool {
        match self.header {
            "x-autoreply"
            | "x-autorespond"
            | "auto-submitted"
            | "x-auto-response-suppress"
            | "return-path" => true,
            "precedence" => matches!(self.value.as_str(), "auto_reply" | "junk"),
            _ => false,
        }
    }
}

/// The machine markers of a message, each flagged when it is a stamp of `helpdesk`.
pub(crate) fn machine_markers(facts: &MessageFacts, helpdesk: Helpdesk) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut push = |header: &'static str, text: String, value: &str| {
        let stamp = is_stamp(helpdesk, header, value);
        out.push(Marker {
            header,
            text,
            value: value.to_string(),
            stamp,
        });
    };
    for (name, value) in &facts.headers {
        let v = value.trim();
        let first = v
            .split([';', ' '])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let shown = format!("{}: {}", display_name(name), shorten(v, 60));
        match name.as_str() {
            "auto-submitted" if first != "no" && !first.is_empty() => {
                push("auto-submitted", shown, &first)
            }
            "precedence" if matches!(first.as_str(), "bulk" | "junk" | "list" | "auto_reply") => {
                push("precedence", shown, &first)
            }
            "x-auto-response-suppress" => push("x-auto-response-suppress", shown, &first),
            "x-autoreply" => push("x-autoreply", shown, &first),
            "x-autorespond" => push("x-autorespond", shown, &first),
            "x-loop" => push("x-loop", shown, &first),
            "list-id" => push("list-id", shown, &first),
            "list-unsubscribe" => push("list-unsubscribe", shown, &first),
            _ => {}
        }
    }
    if bounce::from_mail_system(facts) {
        let who = facts.from_addr.clone().unwrap_or_default();
        push("from", format!("sent by a mail system ({who})"), "");
    }
    if facts.return_path_empty {
        push(
            "return-path",
            "empty envelope sender (Return-Path: <>)".to_string(),
            "",
        );
    }
    out
}

/// The header name as usually written, for reasons.
fn display_name(name: &str) -> String {
    match name {
        "x-auto-response-suppress" => "X-Auto-Response-Suppress".to_string(),
        "list-id" => "List-Id".to_string(),
        "x-autoreply" => "X-Autoreply".to_string(),
        "x-autorespond" => "X-Autorespond".to_string(),
        "x-loop" => "X-Loop".to_string(),
        _ => name
            .split('-')
            .map(|part| {
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// Whether `helpdesk` puts this header (with this first value word) on every
/// mail it sends, agent answers included.
pub(crate) fn is_stamp(helpdesk: Helpdesk, header: &str, value: &str) -> bool {
    match helpdesk {
        Helpdesk::Zendesk | Helpdesk::Freshdesk => {
            (header == "auto-submitted" && value == "auto-generated")
                || header == "x-auto-response-suppress"
        }
        Helpdesk::Jsm => {
            (header == "precedence" && value == "bulk")
                || (header == "auto-submitted" && value == "auto-generated")
        }
        Helpdesk::Salesforce | Helpdesk::Helpscout | Helpdesk::Zoho | Helpdesk::Generic => false,
    }
}

/// Whether `helpdesk` stamps machine markers on every mail, so that only the
/// wording can tell an acknowledgement from an agent's answer.
pub(crate) fn stamps_every_mail(helpdesk: Helpdesk) -> bool {
    matches!(
        helpdesk,
        Helpdesk::Zendesk | Helpdesk::Freshdesk | Helpdesk::Jsm
    )
}

/// The helpdesk's stamps, in words, for a reason that says they were ignored.
pub(crate) fn stamp_note(helpdesk: Helpdesk, markers: &[Marker]) -> Option<String> {
    let stamps: Vec<&str> = markers
        .iter()
        .filter(|m| m.stamp)
        .map(|m| m.text.as_str())
        .collect();
    if stamps.is_empty() {
        return None;
    }
    Some(format!(
        "{} puts {} on every mail, agent answers included, so {} not used",
        helpdesk_name(helpdesk),
        stamps.join(" and "),
        if stamps.len() == 1 {
            "it was"
        } else {
            "they were"
        }
    ))
}

/// The helpdesk's product name.
pub(crate) fn helpdesk_name(helpdesk: Helpdesk) -> &'static str {
    match helpdesk {
        Helpdesk::Zendesk => "Zendesk",
        Helpdesk::Freshdesk => "Freshdesk",
        Helpdesk::Jsm => "Jira Service Management",
        Helpdesk::Salesforce => "Salesforce",
        Helpdesk::Helpscout => "Help Scout",
        Helpdesk::Zoho => "Zoho Desk",
        Helpdesk::Generic => "the vendor's mail system",
    }
}

/// Row 3 of the decision table: out-of-office replies.
pub(crate) fn classify_out_of_office(
    facts: &MessageFacts,
    markers: &[Marker],
) -> Option<Classification> {
    let subject = facts.subject.as_deref().unwrap_or_default();
    let own = super::canned::own_text(&facts.body_text);
    let absence = find(&OOO_BODY, &own).or_else(|| find(&OOO_BODY, subject));
    if let Some(hit) = find(&OOO_SUBJECT, subject) {
        return Some(out_of_office(format!(
            "the subject says {:?}",
            shorten(hit, 40)
        )));
    }
    if let Some(prefix) = find(&AUTO_SUBJECT, subject) {
        let prefix = shorten(prefix, 40);
        if let Some(word) = absence {
            return Some(out_of_office(format!(
                "the subject starts {prefix:?} and the text says {:?}",
                shorten(word, 40)
            )));
        }
        if let Some(ack) = wording::ack_wording(&own) {
            return Some(Classification::new(
                Class::Ack,
                vec![format!(
                    "the subject starts {prefix:?} and the text is an acknowledgement ({:?}), not an absence notice",
                    shorten(ack.phrase, 60)
                )],
            ));
        }
        return Some(out_of_office(format!(
            "the subject starts {prefix:?} (an automatic reply)"
        )));
    }
    let auto_reply = markers
        .iter()
        .find(|m| !m.stamp && m.suggests_auto_reply())?;
    let word = absence?;
    Some(out_of_office(format!(
        "{} and the text says {:?}",
        auto_reply.text,
        shorten(word, 40)
    )))
}

/// An out-of-office classification with one reason.
fn out_of_office(reason: String) -> Classification {
    Classification::new(Class::OutOfOffice, vec![reason])
}
