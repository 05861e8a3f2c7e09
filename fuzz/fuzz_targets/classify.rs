//! Fuzz target: any bytes as an inbound message, through the parser, the
//! fingerprint, ticket references and the classifier with every helpdesk
//! profile. The classifier must never panic and always give its reasons.
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_probe::classify::{Context, Rules, classify, fingerprint, parse, ticket_refs};
use support_probe::model::Helpdesk;

fuzz_target!(|raw: &[u8]| {
    let facts = parse(raw);
    let _ = fingerprint(&facts, &["Dana Probe", ""]);
    if let Some(subject) = &facts.subject {
        let _ = ticket_refs(subject);
    }
    for helpdesk in [
        Helpdesk::Generic,
        Helpdesk::Zendesk,
        Helpdesk::Freshdesk,
        Helpdesk::Jsm,
        Helpdesk::Salesforce,
    ] {
        let rules = Rules {
            helpdesk,
            overrides: vec![],
        };
        for canned in [None, Some("01JD0000000000000000000000")] {
            let got = classify(
                &facts,
                &Context {
                    rules: &rules,
                    canned_match: canned,
                },
            );
            assert!(!got.reasons.is_empty(), "a verdict without reasons");
        }
    }
});
