//! The one boundary where a message is read in isolation: a panic while
//! parsing or classifying one message (ours, or a dependency's on input it
//! did not expect) is caught here, so one bad message never stops the daemon
//! and never blocks the mailbox checkpoint behind it.
//!
//! A message that cannot be parsed is still matched by what a plain byte scan
//! finds (probe tokens, `X-Support-Probe` ids, `In-Reply-To`/`References`
//! ids) and recorded as `unsure`, so `probe review` lists it for a person.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Classification, Context, MessageFacts, classify, parse};
use crate::model::{Class, Confidence};

/// Parses `raw`, never unwinding: on a panic, the facts a byte scan can
/// find and the panic's message.
pub fn parse_guarded(raw: &[u8]) -> (MessageFacts, Option<String>) {
    match catch_unwind(AssertUnwindSafe(|| parse(raw))) {
        Ok(facts) => (facts, None),
        Err(payload) => (
            parse::fallback_facts(raw),
            Some(format!(
                "the message could not be read: the parser failed ({})",
                panic_text(payload.as_ref())
            )),
        ),
    }
}

/// Classifies, never unwinding. `parse_error` is what [`parse_guarded`]
/// said: such a message is recorded as a person's answer with `unsure`
/// confidence (doubt is shown, never resolved silently).
pub fn classify_guarded(
    facts: &MessageFacts,
    ctx: &Context<'_>,
    parse_error: Option<&str>,
) -> Classification {
    if let Some(error) = parse_error {
        return unreadable(error.to_string());
    }
    match catch_unwind(AssertUnwindSafe(|| classify(facts, ctx))) {
        Ok(c) => c,
        Err(payload) => unreadable(format!(
            "the classifier failed on this message ({})",
            panic_text(payload.as_ref())
        )),
    }
}

/// The verdict for a message nothing could be concluded from.
fn unreadable(reason: String) -> Classification {
    Classification::new(
        Class::Human,
        vec![
            reason,
            "read as a person's answer until someone looks at it (`probe review`)".to_string(),
        ],
    )
    .with(Confidence::Unsure)
}

/// The message a panic carried, if it was text.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::classify::Rules;

    #[test]
    fn a_panic_becomes_an_unsure_reading_with_its_reason() {
        let rules = Rules::default();
        let c = classify_guarded(
            &MessageFacts::default(),
            &Context::new(&rules),
            Some("the parser failed (boom)"),
        );
        assert_eq!(c.class, Class::Human);
        assert_eq!(c.confidence, Confidence::Unsure);
        assert!(c.reasons[0].contains("boom"));
    }

    #[test]
    fn the_reported_reproducer_is_read_without_unwinding() {
        // The 227-byte message on which mail-parser 0.11.9's debug build
        // panics ("Invalid part ID, could not find multipart.").
        let raw = b"From: <\nContent-Type: multipart/port; r=p; boundary=\"fffffff_000.000000000_b\"\n\n--fffffff_000.000000000_b\nContent-Type:  message/rfc822\nCn: inline\n\nFRb\nContent-Type: message/rfc822\n\x00\x00\x000900\n\nNyaan00\n\ny--fffffff_000.000000000_b--\n";
        assert_eq!(raw.len(), 227);
        let (facts, error) = parse_guarded(raw);
        let rules = Rules::default();
        let c = classify_guarded(&facts, &Context::new(&rules), error.as_deref());
        if error.is_some() {
            assert_eq!(c.confidence, Confidence::Unsure);
        }
        assert!(!c.reasons.is_empty());
    }
}
