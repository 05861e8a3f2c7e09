//! Fuzz target: any bytes as an inbound message, through the daemon's own
//! path — the guarded parser, the fingerprint, ticket references and the
//! guarded classifier with several helpdesk profiles, a thread and our
//! addresses — so the phrase matching, charset decoding and structure
//! checks are all reached. The verdict must always carry its reasons.
//!
//! A panic inside mail-parser is what the daemon's boundary
//! (`classify::parse_guarded`) exists for: it is caught there, as in the
//! daemon, and the message is read as unsure. Any other panic — ours, or in
//! another dependency — aborts, and libFuzzer reports it.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use support_probe::classify::{
    Context, Rules, classify_guarded, fingerprint, parse_guarded, ticket_refs,
};
use support_probe::model::{Class, Confidence, Helpdesk};

static HOOK: Once = Once::new();

fuzz_target!(|raw: &[u8]| {
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_mail_parser = info
                .location()
                .is_some_and(|l| l.file().contains("mail-parser"));
            if !in_mail_parser {
                fuzzer_hook(info);
            }
        }));
    });
    let (facts, error) = parse_guarded(raw);
    let _ = fingerprint(&facts, &["Dana Probe", ""]);
    if let Some(subject) = &facts.subject {
        let _ = ticket_refs(subject);
    }
    let ours = vec!["dana@probe.test".to_string()];
    for helpdesk in ["generic", "zendesk", "jsm", "rt", "freshdesk"] {
        let rules = Rules {
            helpdesk: Helpdesk::new(helpdesk),
            overrides: vec![],
        };
        for canned in [None, Some("01JD0000000000000000000000")] {
            let ctx = Context {
                canned_match: canned,
                our_addresses: &ours,
                since_filing: Some(jiff::SignedDuration::from_secs(90)),
                ..Context::new(&rules)
            };
            let got = classify_guarded(&facts, &ctx, error.as_deref());
            assert!(!got.reasons.is_empty(), "a verdict without reasons");
            if error.is_some() {
                assert_eq!(got.class, Class::Human);
                assert_eq!(got.confidence, Confidence::Unsure);
            }
        }
    }
});
