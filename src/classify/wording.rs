//! What the text says: acknowledgement wording (strong and weak), notification
//! wording, how much other text there is, Jira comment notices, and the
//! decision for rows 5 to 8 of the decision table.

use super::autoreply::{Marker, helpdesk_name, stamp_note, stamps_every_mail};
use super::canned::{own_text, words};
use super::{Classification, MessageFacts, SUBSTANTIVE_WORDS, find, is_match, shorten};
use crate::model::{Class, Helpdesk};

super::regexes! {
    STRONG_ACK = r"(?i)(this is an? (automated|automatic|auto-generated|computer-generated)|automatic(ally)?[- ]generated|auto-generated (e-?mail|message|response|reply|notification)|(automated|automatic) (response|reply|acknowledge?ment|confirmation|message|notification|e-?mail)|(please )?do not reply (to|directly to) this|(has|have) been received and (is|are) being (reviewed|processed)|(ticket|case|request) (has been|was) (created|opened|logged|raised)|your (request|ticket|case)\s*\(?\s*#?\s*[\w-]*\s*\)?\s*has been (received|created|opened|logged)|we would like to acknowledge that we have received|(e-?mail|message) (is|was) sent automatically|(reply|response) (is|was) generated automatically|will send you a personal response|this mailbox is not monitored|diese nachricht wurde automatisch|automatisch (erstellt|generiert)|ceci est un message automatique)";
    WEAK_ACK = r"(?i)(we('ve| have)? (received|got) your (request|e-?mail|message|inquiry|enquiry|ticket|case|query)|(thank you|thanks) for (contacting|reaching out|writing to|getting in touch|your (e-?mail|message|request|inquiry|enquiry))|(we|someone|one of our \w+|a member of our (support )?team|an? (agent|representative|engineer|specialist)) (will|'ll|shall) (get back|respond|reply|be in touch|contact you|follow up)|we('ll| will) (get back to you|respond|reply|be in touch)|your (ticket|case|request) (number|id|reference) is|(ticket|case|request) (number|id|reference)\s*:|wir haben ihre (anfrage|nachricht|e-mail) erhalten|nous avons (bien )?re[çc]u votre)";
    NOTIFICATION = r"(?i)(how would you rate|how did we do|(we.d|we would) love to hear|tell us (what you think|how we did)|your feedback|rate (your|our|the) (support|experience|service|conversation)|satisfaction survey|customer satisfaction|(your|this) (request|ticket|case) (has been|was) (solved|resolved|closed|marked as)|changed the status|status (changed|updated) to|unsubscribe|newsletter)";
    BOILERPLATE = r"(?i)(to add (additional )?comments|reply to this (e-?mail|message)|view (the |your )?(request|ticket|case)|turn off this request|this is shared with|powered by|sent you this message|this (e-?mail|message) is a service from|thank you for your patience|in the meantime|help ?cent(er|re)|knowledge ?base|business hours|status (page|of (the|your) (ticket|request))|please visit|regards|sincerely|cheers|best wishes|mit freundlichen|viele gr[üu][ßs]e|cordialement|^\s*(hi|hello|hey|dear|hallo|guten (tag|morgen)|bonjour)\b[^.!?]{0,40}$)";
    URL = r"(?i)\b(https?://|www\.)\S+";
    JSM_COMMENT = r"(?m)^\s*(.{1,80}?) commented:\s*$";
    AUTOMATION_NAME = r"(?i)(automation|jira|system|bot\b|no-?reply|service management)";
}

/// Whether acknowledgement wording is a machine describing itself or words a
/// person might also write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// "this is an automated response", "a ticket has been created".
    Strong,
    /// "thank you for contacting us", "we will get back to you".
    Weak,
}

/// Acknowledgement wording found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckWording<'t> {
    pub strength: Strength,
    pub phrase: &'t str,
}

/// The strongest acknowledgement wording in `text`.
pub(crate) fn ack_wording(text: &str) -> Option<AckWording<'_>> {
    find(&STRONG_ACK, text)
        .map(|phrase| AckWording {
            strength: Strength::Strong,
            phrase,
        })
        .or_else(|| {
            find(&WEAK_ACK, text).map(|phrase| AckWording {
                strength: Strength::Weak,
                phrase,
            })
        })
}

/// How many words of the message's own text are left once acknowledgement,
/// notification, boilerplate, greeting and sign-off sentences are removed.
pub(crate) fn substantive_words(own: &str) -> usize {
    let own = match URL.as_ref() {
        Some(re) => re.replace_all(own, " "),
        None => own.into(),
    };
    own.split(['.', '!', '?', ',', ';', '\n'])
        .filter(|s| {
            !is_match(&STRONG_ACK, s)
                && !is_match(&WEAK_ACK, s)
                && !is_match(&NOTIFICATION, s)
                && !is_match(&BOILERPLATE, s)
        })
        .map(|s| words(s).iter().filter(|w| w.chars().count() > 1).count())
        .sum()
}

/// The person a Jira Service Management notice says commented, unless it is an
/// automation account.
fn jsm_commenter(own: &str) -> Option<&str> {
    let caps = JSM_COMMENT.as_ref()?.captures(own)?;
    let name = caps.get(1)?.as_str().trim();
    (!is_match(&AUTOMATION_NAME, name)).then_some(name)
}

/// Rows 5 to 8 of the decision table: machine markers and wording.
pub(crate) fn classify_by_wording(
    facts: &MessageFacts,
    helpdesk: Helpdesk,
    markers: &[Marker],
) -> Classification {
    let own = own_text(&facts.body_text);
    let mut reasons: Vec<String> = stamp_note(helpdesk, markers).into_iter().collect();
    if helpdesk == Helpdesk::Jsm
        && let Some(name) = jsm_commenter(&own)
    {
        reasons.push(format!(
            "a Jira Service Management notice of a comment by {name:?}: Jira sends agents' comments as bulk mail too"
        ));
        return Classification::new(Class::Human, reasons);
    }
    let ack = ack_wording(&own);
    let live: Vec<&Marker> = markers.iter().filter(|m| !m.stamp).collect();
    if !live.is_empty() {
        let evidence = live
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return match ack {
            Some(a) => {
                reasons.push(format!(
                    "machine-sent ({evidence}) with acknowledgement wording {:?}",
                    shorten(a.phrase, 60)
                ));
                Classification::new(Class::Ack, reasons)
            }
            None => {
                reasons.push(format!(
                    "machine-sent ({evidence}) and no acknowledgement wording"
                ));
                Classification::new(Class::Automated, reasons)
            }
        };
    }
    if stamps_every_mail(helpdesk) {
        let subject = facts.subject.as_deref().unwrap_or_default();
        stamped(&own, subject, helpdesk, ack, reasons)
    } else {
        by_wording_alone(ack, reasons)
    }
}

/// Row 7: a helpdesk whose stamps were ignored, so the wording decides.
fn stamped(
    own: &str,
    subject: &str,
    helpdesk: Helpdesk,
    ack: Option<AckWording<'_>>,
    mut reasons: Vec<String>,
) -> Classification {
    let other = substantive_words(own);
    let name = helpdesk_name(helpdesk);
    if reasons.is_empty() {
        reasons.push(format!(
            "sent through {name}, whose headers do not tell agents from automations, so the wording decides"
        ));
    }
    match ack {
        Some(a) if a.strength == Strength::Strong => {
            reasons.push(format!(
                "the text says it is automatic: {:?}",
                shorten(a.phrase, 60)
            ));
            return Classification::new(Class::Ack, reasons);
        }
        Some(a) if other < SUBSTANTIVE_WORDS => {
            reasons.push(format!(
                "acknowledgement wording {:?} and only {other} words of other text",
                shorten(a.phrase, 60)
            ));
            return Classification::new(Class::Ack, reasons);
        }
        Some(a) => reasons.push(format!(
            "acknowledgement wording {:?}, but {other} words of other text, so read as a person's answer",
            shorten(a.phrase, 60)
        )),
        None => {
            let notification = find(&NOTIFICATION, own).or_else(|| find(&NOTIFICATION, subject));
            if let Some(n) = notification.filter(|_| other < SUBSTANTIVE_WORDS) {
                reasons.push(format!(
                    "a {name} notification ({:?}) with only {other} words of other text",
                    shorten(n, 60)
                ));
                return Classification::new(Class::Automated, reasons);
            }
            reasons.push(format!(
                "no acknowledgement or notification wording in the text, so read as an answer written in {name}"
            ));
        }
    }
    Classification::new(Class::Human, reasons)
}

/// Row 8: no machine marker at all.
fn by_wording_alone(ack: Option<AckWording<'_>>, mut reasons: Vec<String>) -> Classification {
    match ack {
        Some(a) if a.strength == Strength::Strong => {
            reasons.push(format!(
                "no machine headers, but the text says it is automatic: {:?}",
                shorten(a.phrase, 60)
            ));
            Classification::new(Class::Ack, reasons)
        }
        _ => {
            reasons.push(
                "no machine headers (Auto-Submitted, Precedence, List-*, X-Autoreply, ...) and no automatic wording: written by a person"
                    .to_string(),
            );
            Classification::new(Class::Human, reasons)
        }
    }
}
