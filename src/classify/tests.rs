//! Tests of the classifier: the fixture corpus, the Zendesk pitfall, the
//! fingerprint, ticket references, delivery reports, dates and robustness.

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::model::{Class, Confidence, Helpdesk};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(FIXTURES).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn generic() -> Rules {
    Rules::default()
}

fn run(facts: &MessageFacts, rules: &Rules, canned: Option<&str>) -> Classification {
    classify(
        facts,
        &Context {
            canned_match: canned,
            ..Context::new(rules)
        },
    )
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn patterns_compile() {
    let all = [
        parse::PATTERNS,
        bounce::PATTERNS,
        canned::PATTERNS,
        wording::PATTERNS,
        refs::PATTERNS,
        text::PATTERNS,
    ];
    for p in all.iter().flat_map(|ps| ps.iter()) {
        assert!(Regex::new(p).is_ok(), "pattern does not compile: {p}");
    }
}

#[test]
fn every_fixture_gets_the_class_its_name_says() {
    let mut seen = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (prefix, _) = name.split_once("--").unwrap();
        let want = Class::parse(prefix).unwrap_or_else(|| panic!("bad class prefix in {name}"));
        let facts = parse(&std::fs::read(&path).unwrap());
        let got = run(&facts, &generic(), None);
        assert!(!got.reasons.is_empty(), "{name}: no reasons");
        assert!(got.reasons.iter().all(|r| !r.trim().is_empty()));
        if got.class != want {
            failures.push(format!("{name}: got {} ({:?})", got.class, got.reasons));
        }
        seen += 1;
    }
    assert!(
        failures.is_empty(),
        "misclassified:\n{}",
        failures.join("\n")
    );
    assert!(seen >= 16, "only {seen} fixtures");
}

#[test]
fn zendesk_human_reply_is_human_unless_the_text_is_canned() {
    let facts = parse(&fixture("human--zendesk-agent-reply.eml"));
    assert_eq!(facts.helpdesk, Some(Helpdesk::new("zendesk")));
    assert!(
        facts
            .header("auto-submitted")
            .is_some_and(|v| v == "auto-generated")
    );
    for rules in [
        generic(),
        Rules {
            helpdesk: Helpdesk::new("zendesk"),
            overrides: vec![],
        },
    ] {
        let human = run(&facts, &rules, None);
        assert_eq!(human.class, Class::Human, "{:?}", human.reasons);
        assert!(
            human.reasons[0].contains("Zendesk") && human.reasons[0].contains("Auto-Submitted"),
            "{:?}",
            human.reasons
        );
        let canned = run(&facts, &rules, Some("01JD0000000000000000000000"));
        assert_eq!(canned.class, Class::Ack);
        assert_eq!(
            canned.reasons,
            vec![
                "same text as an earlier message on probe 01JD0000000000000000000000 (canned), \
                 within 5 minutes of filing"
                    .to_string()
            ]
        );
        // The same repeated text half an hour after filing: an agent's
        // macro, or a delayed template; read as a person, marked unsure.
        let late = classify(
            &facts,
            &Context {
                canned_match: Some("01JD0000000000000000000000"),
                since_filing: Some(jiff::SignedDuration::from_mins(30)),
                ..Context::new(&rules)
            },
        );
        assert_eq!(late.class, Class::Human, "{:?}", late.reasons);
        assert_eq!(late.confidence, Confidence::Unsure);
        assert!(
            late.reasons
                .iter()
                .any(|r| r.contains("a macro an agent pasted")),
            "{:?}",
            late.reasons
        );
    }
}

#[test]
fn zendesk_rules_ignore_stamps_even_without_zendesk_headers() {
    let raw = b"From: Help <help@vendor.example>\r\nSubject: Re: x\r\n\
Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n\r\n\
Hi, the cache setting is under Admin, Storage, Purge. Turn it off and the export completes.\r\n";
    let facts = parse(raw);
    assert_eq!(facts.helpdesk, None);
    assert_eq!(run(&facts, &generic(), None).class, Class::Automated);
    let zendesk = Rules {
        helpdesk: Helpdesk::new("zendesk"),
        overrides: vec![],
    };
    assert_eq!(run(&facts, &zendesk, None).class, Class::Human);
}

#[test]
fn short_weak_acknowledgement_from_a_stamping_helpdesk_is_an_ack() {
    let raw = b"From: Acme <support@acme.zendesk.com>\r\nX-Mailer: Zendesk Mailer\r\n\
Auto-Submitted: auto-generated\r\nSubject: Re: x\r\n\r\n\
Hi Sam,\r\n\r\nThank you for contacting Acme. We will get back to you as soon as possible.\r\n\r\nAcme Support\r\n";
    let got = run(&parse(raw), &generic(), None);
    assert_eq!(got.class, Class::Ack, "{:?}", got.reasons);
    assert!(
        got.reasons
            .iter()
            .any(|r| r.contains("words of other text"))
    );
}

#[test]
fn jsm_comment_by_an_automation_account_is_not_human() {
    let raw = b"From: Jira <jira@acme.atlassian.net>\r\nPrecedence: bulk\r\n\
X-JIRA-FingerPrint: abc\r\nSubject: SUP-1 x\r\n\r\nAutomation for Jira commented:\r\n\r\n\
Your request has been resolved. How would you rate our support?\r\n";
    let got = run(&parse(raw), &generic(), None);
    assert_eq!(got.class, Class::Automated, "{:?}", got.reasons);
}

#[test]
fn overrides_apply_in_order_after_bounces() {
    let facts = parse(&fixture("human--generic-reply-quoting-probe.eml"));
    let rules = Rules {
        helpdesk: Helpdesk::generic(),
        overrides: vec![
            Override {
                field: OverrideField::Header("user-agent".into()),
                pattern: Regex::new("(?i)thunderbird").unwrap(),
                class: Class::Automated,
            },
            Override {
                field: OverrideField::From,
                pattern: Regex::new("keller").unwrap(),
                class: Class::Ack,
            },
        ],
    };
    let got = run(&facts, &rules, None);
    assert_eq!(got.class, Class::Automated);
    assert!(
        got.reasons[0].contains("header user-agent"),
        "{:?}",
        got.reasons
    );
    assert!(got.reasons[0].contains("thunderbird"));

    let bounce = parse(&fixture("bounce--postfix-dsn.eml"));
    assert_eq!(run(&bounce, &rules, None).class, Class::Bounce);
}

fn ack_body(name: &str, ticket: u32, date: &str, quoted: &str) -> MessageFacts {
    MessageFacts {
        body_text: format!(
            "Dear {name},\n\nThank you for contacting Acme Support. Your request #{ticket} was received on \
             {date} and a member of our team will respond within one business day.\n\n\
             Acme Support\n\nOn {date}, {name} <{}@probe.example> wrote:\n> {quoted}\n",
            name.to_lowercase()
        ),
        ..MessageFacts::default()
    }
}

#[test]
fn acks_differing_in_ticket_date_name_and_quote_share_a_fingerprint() {
    let a = ack_body(
        "Sam",
        12345,
        "Mon, Nov 2, 2026 at 09:02",
        "Export fails SP-8ZJ6Q2W3E4",
    );
    let b = ack_body(
        "Alex",
        12399,
        "Thu, Dec 17, 2026 at 17:40",
        "Login loops forever SP-1A2B3C4D5E",
    );
    let fa = fingerprint(&a, &["Sam Example", "Acme"]);
    let fb = fingerprint(&b, &["Alex Doe", "Acme"]);
    assert!(fa.is_some());
    assert_eq!(fa, fb);
    assert_eq!(fa.as_deref().map(str::len), Some(16));
    assert_ne!(
        fa,
        fingerprint(&a, &[]),
        "strip words change the fingerprint"
    );
}

#[test]
fn different_human_answers_have_different_fingerprints() {
    let one = parse(&fixture("human--zendesk-agent-reply.eml"));
    let two = parse(&fixture("human--generic-reply-quoting-probe.eml"));
    let f1 = fingerprint(&one, &["Sam Example"]);
    let f2 = fingerprint(&two, &["Sam Example"]);
    assert!(f1.is_some() && f2.is_some());
    assert_ne!(f1, f2);
}

#[test]
fn fingerprint_is_stable_across_versions() {
    let facts = MessageFacts {
        body_text: "Thank you, your request has been received by our team.".into(),
        ..MessageFacts::default()
    };
    // FNV-1a 64 of "thank you your request has been received by our team".
    assert_eq!(
        fingerprint(&facts, &[]).as_deref(),
        Some(format!("{:016x}", {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in b"thank you your request has been received by our team" {
                h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
            h
        }))
        .as_deref()
    );
}

#[test]
fn short_bodies_have_no_fingerprint() {
    for body in [
        "",
        "Thanks!",
        "Ticket #12345 received 2026-11-02",
        "ok ok ok ok ok",
    ] {
        let facts = MessageFacts {
            body_text: body.into(),
            ..MessageFacts::default()
        };
        assert_eq!(fingerprint(&facts, &[]), None, "{body:?}");
    }
    let quoted_only = MessageFacts {
        body_text: "Fine.\n> a long quoted paragraph with many many words in it here".into(),
        ..MessageFacts::default()
    };
    assert_eq!(fingerprint(&quoted_only, &[]), None);
}

#[test]
fn ticket_refs_are_found_normalized_and_deduped() {
    let cases: &[(&str, &[&str])] = &[
        ("Re: Export fails [#12345]", &["#12345"]),
        ("Re: Export fails #12345", &["#12345"]),
        ("Your request (24316) has been received", &["#24316"]),
        ("[ABC-123] Export fails", &["ABC-123"]),
        ("SUP-4821 Export fails", &["SUP-4821"]),
        ("Re: Ticket 12345 update", &["#12345"]),
        ("Case 00012345: Export fails", &["#00012345"]),
        ("Request #123 received", &["#123"]),
        ("Incident: INC0012345 opened", &["INC0012345"]),
        ("Re: help [62X0VV-2436V]", &["62X0VV-2436V"]),
        ("Export fails [SP-8ZJ6Q2W3E4] [#12345] #12345", &["#12345"]),
        ("Export fails [SP-8ZJ6Q2W3E4]", &[]),
        ("Meeting at 10 (1 hour), room #4", &[]),
        ("", &[]),
    ];
    for (subject, want) in cases {
        assert_eq!(ticket_refs(subject), *want, "{subject:?}");
    }
    let facts = parse(&fixture("ack--freshdesk-new-ticket.eml"));
    assert_eq!(facts.ticket_refs, vec!["#12345"]);
}

#[test]
fn rfc3464_report_fields_and_attached_original_are_read() {
    let facts = parse(&fixture("bounce--postfix-dsn.eml"));
    let dsn = facts.dsn.clone().unwrap();
    assert_eq!(dsn.action, DsnAction::Failed);
    assert!(dsn.standard);
    assert_eq!(dsn.status.as_deref(), Some("5.1.1"));
    assert_eq!(
        dsn.recipient.as_deref(),
        Some("support@gone-vendor.example")
    );
    let diag = dsn.diagnostic.unwrap();
    assert!(diag.starts_with("smtp; 550 5.1.1"), "{diag}");
    assert!(
        diag.contains("User unknown in virtual mailbox table"),
        "{diag}"
    );
    assert_eq!(facts.probe_ids, vec!["01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7"]);
    assert_eq!(facts.probe_tokens, vec!["SP-8ZJ6Q2W3E4"]);
    assert!(facts.return_path_empty);
    let got = run(&facts, &generic(), None);
    assert!(got.reasons[0].contains("RFC 3464") && got.reasons[0].contains("5.1.1"));

    let delay = parse(&fixture("delay--postfix-delayed-dsn.eml"));
    let dsn = delay.dsn.unwrap();
    assert_eq!(
        (dsn.action, dsn.status.as_deref()),
        (DsnAction::Delayed, Some("4.4.1"))
    );
    assert_eq!(delay.probe_ids, vec!["01JD3Q9Z2B4D6F8H5K7M9P1R3T"]);
}

#[test]
fn a_failed_recipient_outweighs_a_delivered_one() {
    let text = "Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@x.example\nAction: delivered\n\
                Status: 2.0.0\n\nFinal-Recipient: rfc822;b@x.example\nAction: failed (bad)\nStatus: 5.2.2\n";
    let dsn = bounce::parse_delivery_status(text).unwrap();
    assert_eq!(dsn.action, DsnAction::Failed);
    assert_eq!(dsn.recipient.as_deref(), Some("b@x.example"));
    let only_delivered = bounce::parse_delivery_status(
        "Final-Recipient: rfc822; a@x.example\nAction: delivered\nStatus: 2.0.0\n",
    )
    .unwrap();
    let facts = MessageFacts {
        dsn: Some(only_delivered),
        ..MessageFacts::default()
    };
    assert_eq!(run(&facts, &generic(), None).class, Class::Automated);
}

#[test]
fn plain_text_bounces_are_inferred() {
    let ex = parse(&fixture("bounce--exchange-undeliverable.eml"));
    let dsn = ex.dsn.unwrap();
    assert!(!dsn.standard);
    assert_eq!(dsn.action, DsnAction::Failed);
    assert_eq!(dsn.status.as_deref(), Some("5.1.10"));
    assert_eq!(
        dsn.recipient.as_deref(),
        Some("helpdesk@contoso-vendor.example")
    );
    assert!(dsn.diagnostic.unwrap().contains("RecipientNotFound"));

    let gmail = parse(&fixture("bounce--gmail-dsn-failure.eml"));
    assert_eq!(gmail.probe_ids, vec!["01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7"]);
    let dsn = gmail.dsn.unwrap();
    assert_eq!(
        dsn.recipient.as_deref(),
        Some("support@typo-vendor.example")
    );
    assert!(
        dsn.diagnostic
            .is_some_and(|d| d.starts_with("The email account that you tried to reach"))
    );
    let delay = parse(&fixture("delay--gmail-dsn-delay.eml"));
    assert_eq!(delay.dsn.unwrap().action, DsnAction::Delayed);

    let forwarded = parse(
        b"From: Ann <ann@x.example>\r\nSubject: Fwd: bounce\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nLook at this one, it bounced for us too.\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: MAILER-DAEMON@y.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"c\"\r\n\r\n\
--c\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; y\r\n\r\nFinal-Recipient: rfc822; z@y.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--c--\r\n--b--\r\n",
    );
    assert_eq!(forwarded.dsn, None, "a forwarded bounce is not our bounce");
    assert_eq!(run(&forwarded, &generic(), None).class, Class::Human);

    let auto_reply = parse(
        b"From: Desk <desk@x.example>\r\nReturn-Path: <>\r\nSubject: Re: help\r\n\r\n\
Thanks for your message. Replies may take longer than usual; the queue will be retried tomorrow.\r\n",
    );
    assert_eq!(
        auto_reply.dsn, None,
        "delay words from a mailbox are not a report"
    );

    let person = parse(
        b"From: Ann <ann@x.example>\r\nSubject: Undeliverable: our parcel\r\n\r\nThe parcel could not be delivered.\r\n",
    );
    assert_eq!(person.dsn, None, "a person's mail is never a bounce");
}

#[test]
fn headers_ids_addresses_and_dates_are_extracted() {
    let facts = parse(&fixture("human--zendesk-agent-reply.eml"));
    assert_eq!(
        facts.message_id.as_deref(),
        Some("62X0VV2436V_6566c1b4d2f6a_3b2c_sprut@zendesk.com")
    );
    assert_eq!(facts.in_reply_to, vec!["62X0VV2436V@zendesk.com"]);
    assert_eq!(
        facts.references,
        vec![
            "62X0VV2436V@zendesk.com",
            "01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7@probe-mail.example"
        ]
    );
    assert_eq!(facts.from_addr.as_deref(), Some("support@acme.zendesk.com"));
    assert_eq!(facts.from_name.as_deref(), Some("Anna Berg"));
    assert_eq!(facts.date, Some(ts("2026-11-02T09:14:03Z")));
    assert_eq!(facts.top_received, Some(ts("2026-11-02T09:14:07Z")));
    assert!(!facts.return_path_empty);
    assert!(facts.body_text.contains("shortened that field limit"));
    assert_eq!(facts.ticket_refs, Vec::<String>::new());
    assert_eq!(facts.probe_tokens, vec!["SP-8ZJ6Q2W3E4"]);

    let two_hops = parse(&fixture("human--generic-reply-quoting-probe.eml"));
    assert_eq!(two_hops.date, Some(ts("2026-11-02T09:31:12Z")));
    assert_eq!(two_hops.top_received, Some(ts("2026-11-02T09:31:19Z")));
    assert_eq!(two_hops.probe_ids, vec!["01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7"]);

    let gmail = parse(&fixture("bounce--gmail-dsn-failure.eml"));
    assert_eq!(gmail.top_received, Some(ts("2026-11-02T09:02:31Z")));
    assert_eq!(parse::received_date("from x by y; not a date"), None);
    assert_eq!(parse::received_date("from x by y"), None);
}

#[test]
fn encoded_bodies_and_headers_are_decoded() {
    let facts = parse(&fixture("human--html-base64-reply.eml"));
    assert_eq!(facts.subject.as_deref(), Some("Re: Export problème"));
    assert_eq!(facts.from_name.as_deref(), Some("Chloé Martin"));
    assert!(
        facts.body_text.contains("Chloé from Bigvendor"),
        "{}",
        facts.body_text
    );
    assert!(!facts.body_text.contains("<div"));
    assert_eq!(facts.probe_tokens, vec!["SP-8ZJ6Q2W3E4"]);
    let ooo = parse(&fixture("out-of-office--abwesenheitsnotiz.eml"));
    assert!(ooo.body_text.contains("nicht im Büro"));
    assert_eq!(ooo.from_name.as_deref(), Some("Jürgen Müller"));
}

#[test]
fn invalid_utf8_and_unknown_charsets_do_not_break_parsing() {
    let mut raw =
        b"From: =?x-unknown-9?B?/////w==?= <a@b.example>\r\nSubject: \xff\xfe bad \xc3\x28\r\n\
Content-Type: text/plain; charset=x-klingon-7\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            .to_vec();
    raw.extend_from_slice(b"Hello \xff\xfe\xfd world SP-8ZJ6Q2W3E4 \xc3\x28 end\r\n");
    let facts = parse(&raw);
    assert_eq!(facts.from_addr.as_deref(), Some("a@b.example"));
    assert!(facts.body_text.contains("Hello"));
    assert_eq!(facts.probe_tokens, vec!["SP-8ZJ6Q2W3E4"]);
    let got = run(&facts, &generic(), None);
    assert!(!got.reasons.is_empty());
    let _ = fingerprint(&facts, &["\u{ffff}"]);
}

#[test]
fn a_twenty_megabyte_message_is_parsed_and_capped() {
    let mut raw = b"From: Big <big@x.example>\r\nSubject: huge [SP-8ZJ6Q2W3E4]\r\n\
Auto-Submitted: auto-generated\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    let line = "Lorem ipsum dolor sit amet, ünïcödé ∑ text that repeats over and over again.\r\n";
    while raw.len() < 20 * 1024 * 1024 {
        raw.extend_from_slice(line.as_bytes());
    }
    raw.extend_from_slice(b"X-Support-Probe: 01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7\r\n");
    let facts = parse(&raw);
    assert!(facts.body_text.len() <= 256 * 1024);
    assert!(facts.body_text.len() > 255 * 1024);
    assert_eq!(facts.probe_tokens, vec!["SP-8ZJ6Q2W3E4"]);
    assert_eq!(
        facts.probe_ids,
        vec!["01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7"],
        "found past the cap"
    );
    assert_eq!(run(&facts, &generic(), None).class, Class::Automated);
    assert!(fingerprint(&facts, &[]).is_some());
}

#[test]
fn deeply_nested_messages_do_not_overflow() {
    let mut raw = Vec::new();
    for _ in 0..5000 {
        raw.extend_from_slice(b"From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    raw.extend_from_slice(b"Subject: x\r\n\r\nX-Support-Probe: 01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7\r\n");
    let facts = parse(&raw);
    assert_eq!(facts.probe_ids, vec!["01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7"]);
    assert!(!run(&facts, &generic(), None).reasons.is_empty());
}

#[test]
fn header_count_is_capped() {
    let mut raw = Vec::new();
    for i in 0..2000 {
        raw.extend_from_slice(format!("X-Filler-{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\nbody\r\n");
    assert_eq!(parse(&raw).headers.len(), 500);
}

fn plausible_headers() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        "From: MAILER-DAEMON@x.example\r\n",
        "Return-Path: <>\r\n",
        "Subject: Automatic reply: Undeliverable [#123] [SP-8ZJ6Q2W3E4]\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "X-Mailer: Zendesk Mailer\r\n",
        "Precedence: bulk\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n",
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Received: from a by b; Mon, 2 Nov 2026 09:02:03 +0100\r\n",
        "Date: Mon, 99 Foo 2026 99:99:99 +9999\r\n",
        "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n",
        "\r\n",
    ]);
    prop::collection::vec(header, 0..12).prop_map(|hs| hs.concat().into_bytes())
}

fn exercise(raw: &[u8]) {
    let facts = parse(raw);
    let _ = fingerprint(&facts, &["Sam Example", ""]);
    for helpdesk in [
        Helpdesk::generic(),
        Helpdesk::new("zendesk"),
        Helpdesk::new("jsm"),
    ] {
        let rules = Rules {
            helpdesk,
            overrides: vec![],
        };
        for canned in [None, Some("01JD0000000000000000000000")] {
            let got = run(&facts, &rules, canned);
            assert!(!got.reasons.is_empty());
        }
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..4096)) {
        exercise(&raw);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes_after_plausible_headers(
        head in plausible_headers(),
        tail in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut raw = head;
        raw.extend_from_slice(&tail);
        exercise(&raw);
    }
}

// ---- Structure before wording, confidence, per-ticket evidence ----

fn classify_raw(raw: &str) -> Classification {
    run(&parse(raw.as_bytes()), &generic(), None)
}

#[test]
fn an_abuse_feedback_report_is_certainly_automated_never_human() {
    let c = classify_raw(
        "From: abuse@isp.example\r\nTo: dana@probe.test\r\nSubject: complaint about message\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for an email message received from IP 192.0.2.1.\r\n\
--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: dana@probe.test\r\nX-Support-Probe: 01JD0000000000000000000000\r\n\r\n--b--\r\n",
    );
    assert_eq!(c.class, Class::Automated, "{:?}", c.reasons);
    assert_eq!(c.confidence, Confidence::Certain);
    assert!(c.reasons[0].contains("feedback"), "{:?}", c.reasons);
}

#[test]
fn a_read_receipt_is_automated() {
    let c = classify_raw(
        "From: Li <li@vendor.example>\r\nSubject: Read: Scheduled test\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nYour message was read on Monday.\r\n\
--b\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--b--\r\n",
    );
    assert_eq!(c.class, Class::Automated, "{:?}", c.reasons);
    assert_eq!(c.confidence, Confidence::Certain);
}

#[test]
fn returned_headers_and_an_empty_from_address_make_a_bounce() {
    let c = classify_raw(
        "From: \"Jetmail System\" <>\r\nSubject: Mail Error\r\n\r\n\
Your mail could not be sent to user@vendor.example.\r\n\r\n\
Received: from mx.probe.test by mx.vendor.example\r\nMessage-ID: <x@probe.test>\r\n\r\nold text\r\n",
    );
    assert_eq!(c.class, Class::Bounce, "{:?}", c.reasons);
}

#[test]
fn smtp_codes_and_returned_headers_are_facts_people_mail_lacks() {
    let f = parse(
        b"From: MAILER-DAEMON@mx.example\r\nSubject: x\r\n\r\n<a@b.example>: host said: 550-5.1.1 no such user\r\n\
> Received: from a by b\r\n> Message-ID: <m@b>\r\n",
    );
    assert_eq!(f.structure.smtp_codes, vec!["550 5.1.1".to_string()]);
    assert!(f.structure.returned_headers);
    let person = parse(
        b"From: Ann <ann@x.example>\r\nSubject: Re: test\r\n\r\nFixed.\r\n\r\nFrom: Dana\r\nSent: Monday\r\nTo: support\r\nSubject: test\r\n",
    );
    assert!(!person.structure.returned_headers);
    assert!(person.structure.smtp_codes.is_empty());
}

#[test]
fn a_person_in_an_unknown_language_is_human_but_unsure() {
    // Swahili: no phrase file knows it, and nothing marks it as a machine's.
    let c = classify_raw(
        "From: Juma <juma@vendor.example>\r\nSubject: Re: test\r\n\r\n\
Habari, tatizo la seva limerekebishwa leo asubuhi. Tafadhali jaribu tena.\r\n",
    );
    assert_eq!(c.class, Class::Human);
    assert_eq!(c.confidence, Confidence::Unsure, "{:?}", c.reasons);
    let c = classify_raw(
        "From: Sam <sam@vendor.example>\r\nSubject: Re: test\r\n\r\n\
Hi Dana, the edge node in Singapore had a stale config; we purged it at 03:10 and your stream should play again. Could you retry and tell us?\r\n",
    );
    assert_eq!(c.class, Class::Human);
    assert_eq!(c.confidence, Confidence::Likely, "{:?}", c.reasons);
}

#[test]
fn a_human_looking_reply_within_a_minute_of_filing_is_unsure() {
    let facts = parse(
        b"From: Sam <sam@vendor.example>\r\nSubject: Re: test\r\n\r\n\
Hi Dana, the edge node in Singapore had a stale config; we purged it and your stream should play again.\r\n",
    );
    let rules = generic();
    let c = classify(
        &facts,
        &Context {
            since_filing: Some(jiff::SignedDuration::from_secs(12)),
            ..Context::new(&rules)
        },
    );
    assert_eq!(c.class, Class::Human);
    assert_eq!(c.confidence, Confidence::Unsure);
    assert!(c.reasons.iter().any(|r| r.contains("12 s after filing")));
}

#[test]
fn markers_an_earlier_human_answer_of_the_ticket_carried_prove_nothing() {
    let raw = b"From: Sam <support@vendor.example>\r\nPrecedence: bulk\r\nSubject: Re: test\r\n\r\n\
Hi Dana, we checked the origin logs: the 502s came from a certificate that expired at 02:00. It is renewed now; please retry.\r\n";
    let facts = parse(raw);
    let rules = generic();
    let alone = classify(&facts, &Context::new(&rules));
    assert_eq!(alone.class, Class::Automated, "{:?}", alone.reasons);
    assert_eq!(alone.confidence, Confidence::Unsure, "{:?}", alone.reasons);
    assert_eq!(alone.markers, vec!["precedence=bulk".to_string()]);

    let earlier = crate::model::MessageRecord {
        key: "k1".into(),
        message_id: None,
        at: ts("2026-12-01T10:00:00Z"),
        time_source: crate::model::TimeSource::ImapInternaldate,
        date_header: None,
        received_header: None,
        from: None,
        subject: None,
        class: Class::Automated,
        confidence: Confidence::Unsure,
        reasons: vec![],
        relabel: Some(crate::model::Relabel {
            class: Class::Human,
            at: ts("2026-12-01T11:00:00Z"),
        }),
        matched_by: crate::model::MatchedBy::Token,
        fingerprint: None,
        vendor_refs: vec![],
        notes: vec![],
        markers: vec!["precedence=bulk".into()],
        quality: None,
    };
    let thread = [earlier];
    let c = classify(
        &facts,
        &Context {
            thread: &thread,
            ..Context::new(&rules)
        },
    );
    assert_eq!(c.class, Class::Human, "{:?}", c.reasons);
}

#[test]
fn legacy_charsets_are_decoded_before_matching() {
    // GB2312 base64 body and an RFC 2047 GB2312 subject, no RFC 3834 headers.
    let c = classify_raw(
        "From: =?GB2312?B?v823/tbQ0MQ=?= <support@cdn.example.cn>\r\n\
Subject: =?GB2312?B?19S2r7vYuLQ6?= Scheduled support-response test\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=GB2312\r\nContent-Transfer-Encoding: base64\r\n\r\n\
xPq6w6OsxPq1xNPKvP7S0crVtb2jrM7Sw8e74dTaMbj2uaTX98jVxNq72Li0xPqho7TL08q8/s6qz7XNs9fUtq+3osvNo6zH687w1rG907vYuLShow==\r\n",
    );
    assert_eq!(c.class, Class::Ack, "{:?}", c.reasons);
    assert!(
        c.reasons.iter().any(|r| r.contains("zh-CN")),
        "{:?}",
        c.reasons
    );
}
