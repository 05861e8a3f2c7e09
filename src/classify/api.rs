//! Classifying messages read from a ticket API, where the API says who
//! wrote each message.
//!
//! Authorship decides first: a message by the vendor's staff is `human`, a
//! message by a bot or automation account is `ack` when it words an
//! acknowledgement and `automated` otherwise. The text is the second
//! opinion: a staff message whose text is canned (the same on another probe
//! of the vendor, see the engine's canned-text rule) or that describes
//! itself as automatic ("a ticket has been created") is an `ack` sent
//! through a staff account (a macro or a trigger). Per-vendor overrides
//! still come first, as for email. Our own and bystanders' messages are
//! never replies; the engine drops them before classification.

use super::wording::{Strength, ack_wording};
use super::{Classification, Context, MessageFacts, apply_overrides};
use crate::model::{ApiMessage, AuthorRole, Class, Confidence};

/// Classifies one API message; see the module doc.
pub fn classify_api(msg: &ApiMessage, facts: &MessageFacts, ctx: &Context<'_>) -> Classification {
    if let Some(c) = apply_overrides(facts, &ctx.rules.overrides) {
        return c;
    }
    let mut reasons = vec![msg.role_reason.clone()];
    let wording = ack_wording(&super::lexicon::normalize(&msg.body));
    let mut confidence = Confidence::Certain;
    let class = match msg.role {
        AuthorRole::Bot => match wording {
            Some(w) => {
                reasons.push(format!("acknowledgement wording: {:?}", w.phrase));
                Class::Ack
            }
            None => {
                reasons.push("no acknowledgement wording: an automated message".into());
                Class::Automated
            }
        },
        AuthorRole::Staff => {
            confidence = Confidence::Likely;
            if let Some(other) = ctx.canned_match {
                reasons.push(format!(
                    "but the same text arrived on probe {other}: a canned macro, not an answer"
                ));
                Class::Ack
            } else if let Some(w) = wording.filter(|w| w.strength == Strength::Strong) {
                reasons.push(format!(
                    "but it describes itself as automatic ({:?}): a trigger posting as staff",
                    w.phrase
                ));
                Class::Ack
            } else {
                // The API says a staff member wrote it.
                confidence = Confidence::Certain;
                Class::Human
            }
        }
        AuthorRole::Us | AuthorRole::Other => {
            reasons.push("not written by the vendor".into());
            Class::Automated
        }
    };
    Classification::new(class, reasons).with(confidence)
}

/// The facts the engine needs from an API message: its author as the
/// sender and its text (for fingerprints, tokens and overrides).
pub fn api_facts(msg: &ApiMessage) -> MessageFacts {
    let mut body = msg.body.clone();
    body.truncate(body.floor_char_boundary(256 * 1024));
    MessageFacts {
        from_addr: Some(msg.author.clone()),
        body_text: body,
        ..MessageFacts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Rules;
    use crate::model::Helpdesk;

    fn msg(role: AuthorRole, body: &str) -> ApiMessage {
        ApiMessage {
            vendor_id: "1".into(),
            author: "a".into(),
            role,
            body: body.into(),
            role_reason: "test".into(),
        }
    }

    fn class(m: &ApiMessage, canned: Option<&str>) -> Class {
        let rules = Rules {
            helpdesk: Helpdesk::generic(),
            overrides: Vec::new(),
        };
        let ctx = Context {
            canned_match: canned,
            ..Context::new(&rules)
        };
        classify_api(m, &api_facts(m), &ctx).class
    }

    #[test]
    fn authorship_decides_and_text_is_a_second_opinion() {
        let answer = "Hi, the export fails because of the date filter; remove it and retry.";
        assert_eq!(class(&msg(AuthorRole::Staff, answer), None), Class::Human);
        assert_eq!(
            class(&msg(AuthorRole::Staff, answer), Some("P2")),
            Class::Ack
        );
        assert_eq!(
            class(
                &msg(AuthorRole::Staff, "This is an automated response."),
                None
            ),
            Class::Ack
        );
        assert_eq!(
            class(&msg(AuthorRole::Bot, "Thank you for contacting us."), None),
            Class::Ack
        );
        assert_eq!(class(&msg(AuthorRole::Bot, answer), None), Class::Automated);
    }
}
