//! Machine markers (RFC 3834 and common practice), the per-helpdesk stamps that
//! make some of them meaningless, and out-of-office detection in every
//! language of the phrase files.

use super::helpdesk::{Def, first_word};
use super::lexicon::{Cat, LEXICON, normalize};
use super::marker::Marker;
use super::{Classification, MessageFacts, bounce, shorten, wording};
use crate::model::{Class, Confidence};

/// The machine markers of a message, each flagged when it is a stamp of
/// `helpdesk` or of this ticket (`thread_stamps`: markers an earlier message
/// of the same ticket that was a person's answer also carried).
pub(crate) fn machine_markers(
    facts: &MessageFacts,
    helpdesk: Option<&Def>,
    thread_stamps: &[String],
) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut push = |header: &'static str, text: String, value: &str| {
        let stamp = helpdesk.is_some_and(|d| d.is_stamp(header, value))
            || thread_stamps
                .iter()
                .any(|m| m == &marker_key(header, value));
        out.push(Marker {
            header,
            text,
            value: value.to_string(),
            stamp,
        });
    };
    for (name, value) in &facts.headers {
        let v = value.trim();
        let first = first_word(v);
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
            "x-autoreply-from" => push("x-autoreply", shown, &first),
            "x-mail-autoreply" => push("x-autoreply", shown, &first),
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

/// How a marker is kept on a [`crate::model::MessageRecord`]: `header` or
/// `header=value`.
pub(crate) fn marker_key(header: &str, value: &str) -> String {
    if value.is_empty() {
        header.to_string()
    } else {
        format!("{header}={value}")
    }
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

/// Row 3 of the decision table: out-of-office replies.
pub(crate) fn classify_out_of_office(
    facts: &MessageFacts,
    own: &str,
    markers: &[Marker],
) -> Option<Classification> {
    let subject = normalize(facts.subject.as_deref().unwrap_or_default());
    let absence = LEXICON
        .find(Cat::OooBody, own)
        .or_else(|| LEXICON.find(Cat::OooBody, &subject));
    if let Some(hit) = LEXICON.find(Cat::OooSubject, &subject) {
        return Some(out_of_office(format!(
            "the subject says {:?} ({})",
            shorten(hit.phrase, 40),
            hit.lang
        )));
    }
    if let Some(prefix) = LEXICON.find(Cat::AutoSubject, &subject) {
        let p = shorten(prefix.phrase, 40);
        if let Some(word) = absence {
            return Some(out_of_office(format!(
                "the subject starts {p:?} and the text says {:?} ({})",
                shorten(word.phrase, 40),
                word.lang
            )));
        }
        if let Some(ack) = wording::ack_wording(own) {
            return Some(Classification::new(
                Class::Ack,
                vec![format!(
                    "the subject starts {p:?} ({}) and the text is an acknowledgement ({:?}, {}), not an absence notice",
                    prefix.lang,
                    shorten(&ack.phrase, 60),
                    ack.lang
                )],
            ));
        }
        return Some(out_of_office(format!(
            "the subject starts {p:?} ({}), an automatic reply",
            prefix.lang
        )));
    }
    let auto_reply = markers
        .iter()
        .find(|m| !m.stamp && m.suggests_auto_reply())?;
    let word = absence?;
    Some(out_of_office(format!(
        "{} and the text says {:?} ({})",
        auto_reply.text,
        shorten(word.phrase, 40),
        word.lang
    )))
}

/// An out-of-office classification with one reason.
fn out_of_office(reason: String) -> Classification {
    Classification::new(Class::OutOfOffice, vec![reason]).with(Confidence::Likely)
}
