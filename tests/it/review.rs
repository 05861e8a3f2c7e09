//! `probe review`, `probe review --confirm` and `probe attach`, end to end.
//!
//! A vendor answers from an agent's own mailbox with a fresh subject and no
//! threading headers, over the real Postfix + Dovecot: the reply is kept as
//! unmatched with the likely probe, `probe review` lists it, `probe attach`
//! ties it to the probe, and the probe is answered at the mail server's
//! receipt time. Then the classifications marked unsure: marked in `show`
//! and `status`, listed by `review`, confirmed by `review --confirm`.

use std::path::Path;
use std::time::Duration;

use crate::kit::MailStack;
use crate::kit::config::{config_text, default_probes, internaldate};
use jiff::Timestamp;
use serde_json::{Value, json};
use support_probe::engine::Engine;
use support_probe::model::{Class, Confidence, MatchedBy, ProbeRecord, ProbeState};
use support_probe::store::{Mode, Store};

use crate::kit::run::probe_without_config as probe;

const WAIT: Duration = Duration::from_secs(20);

fn engine(stack: &MailStack, dir: &Path) -> Engine {
    crate::kit::engine::engine(&config_text(stack, dir, &default_probes()), dir)
}

fn items(state: &Path) -> Vec<Value> {
    let out = probe(state, &["review", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json().as_array().unwrap().clone()
}

#[tokio::test]
async fn a_reply_from_an_agents_own_mailbox_is_reviewed_attached_and_answers_its_probe() {
    let _gate = crate::kit::gate::enter(module_path!());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let engine = engine(stack, dir.path());
    let filed = engine.run_now("acme-dana").await.unwrap();
    assert_eq!(filed.state, ProbeState::Filed, "{filed:?}");
    let id = filed.id.to_string();

    // Sam at the vendor answers from his own address: a fresh subject, no
    // In-Reply-To, no References, no token. Unique per run: the stack's
    // mailboxes outlive a test run.
    let marker = format!("zone-{}", Timestamp::now().as_millisecond());
    let raw = format!(
        "From: Sam Lee <sam.lee@vendor.test>\r\nTo: dana@probe.test\r\n\
         Subject: Your question about the edge cache\r\nMessage-ID: <{marker}@vendor.test>\r\n\
         \r\nHi Dana,\r\n\r\nI purged the edge cache for your {marker} and the stale objects \
         are gone now. If it happens again, send me the URL and I will look at the logs.\r\n\r\nSam\r\n"
    );
    stack
        .deliver("sam.lee@vendor.test", &["dana@probe.test"], raw.as_bytes())
        .unwrap();
    let mail = stack
        .wait_for("dana@probe.test", WAIT, |m| m.text().contains(&marker))
        .unwrap();
    let report = engine.watch_once("dana").await.unwrap();
    assert!(report.kept_unmatched >= 1, "{report:?}");
    let rec = engine.store().get(&filed.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Filed, "no rule tied it to the probe");
    drop(engine);

    // `probe review` lists it with the likely probe.
    let listed = items(&state);
    let item = listed
        .iter()
        .find(|i| i["kind"] == json!("unmatched") && i["from"] == json!("sam.lee@vendor.test"))
        .unwrap_or_else(|| panic!("not listed: {listed:?}"));
    assert_eq!(item["probe"], json!(id), "{item}");
    assert_eq!(item["vendor"], json!("acme"), "{item}");
    assert_eq!(item["class"], json!("human"), "{item}");
    assert!(
        item["why"].as_str().unwrap().contains("vendor.test"),
        "{item}"
    );
    assert_eq!(item["at"], json!(internaldate(&mail).to_string()), "{item}");
    let key = item["message"].as_str().unwrap().to_string();
    let status = probe(&state, &["status"]);
    assert!(
        status
            .stdout
            .contains("matched no probe and wait for a person"),
        "{status:?}"
    );
    let waiting = probe(&state, &["status", "--format", "json"]).json();
    assert!(
        waiting["unmatched_replies"].as_u64().unwrap() >= 1,
        "{waiting}"
    );
    let table = probe(&state, &["review"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(
        table.stdout.contains(&format!("{id} (likely)")),
        "{table:?}"
    );
    assert!(
        table.stdout.contains("probe attach MESSAGE PROBE"),
        "{table:?}"
    );

    // Attached, it answers the probe at the mail server's receipt time.
    let out = probe(&state, &["attach", &key, &id]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with(&format!("attached; probe {id} is now answered")),
        "{out:?}"
    );
    let store = Store::open(&state, Mode::Shared).unwrap();
    let rec = store.get(&filed.id).unwrap().unwrap();
    assert_eq!(rec.state, ProbeState::Answered);
    assert_eq!(rec.first_human_at, Some(internaldate(&mail)));
    assert_eq!(rec.first_human_key.as_deref(), Some(key.as_str()));
    let m = &rec.messages[0];
    assert_eq!(m.matched_by, MatchedBy::Attached);
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("attached by a person at")),
        "{m:?}"
    );
    // The unmatched row is kept, marked attached.
    let kept = store.unmatched().unwrap();
    let row = kept.iter().find(|u| u.key == key).unwrap();
    assert_eq!(row.attached.as_ref().map(|a| &a.probe), Some(&filed.id));
    drop(store);
    let after = items(&state);
    assert!(
        !after
            .iter()
            .any(|i| i["message"] == json!(key) && i["kind"] == json!("unmatched")),
        "an attached reply leaves the unmatched list: {after:?}"
    );
    let show = probe(&state, &["show", &id]);
    assert!(show.stdout.contains("matched by Attached"), "{show:?}");

    // Attaching twice, an unknown message or an unknown probe: usage errors.
    let again = probe(&state, &["attach", &key, &id]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("was attached to probe"), "{again:?}");
    let unknown = probe(&state, &["attach", "imap:nothing:1", &id]);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(
        unknown.stderr.contains("no unmatched message"),
        "{unknown:?}"
    );
    let no_probe = probe(&state, &["attach", &key, "01JD0000000000000000000000"]);
    assert_eq!(no_probe.code, 2, "{no_probe:?}");
}

/// A probe answered by a reply classified human but unsure, written
/// straight into a fresh store.
fn store_with_an_unsure_answer(state: &Path) -> ProbeRecord {
    let mut p: ProbeRecord = serde_json::from_str(
        r#"{
        "id": "01JD0000000000000000000001",
        "token": "SP-0000000001",
        "probe": "nightly",
        "vendor": "acme",
        "persona": "dana",
        "channel": "email",
        "zone": "UTC",
        "origin": "manual",
        "priority": null,
        "scheduled_for": "2026-11-02T10:00:00Z",
        "due_at": "2026-11-02T10:00:00Z",
        "state": "filed",
        "state_reason": null,
        "subject": "Support test SP-0000000001",
        "message_id": "p1@probe.test",
        "recipients": ["support@acme.example"],
        "filing_started_at": "2026-11-02T10:00:00Z",
        "filed_at": "2026-11-02T10:00:00Z",
        "filed_time_source": "smtp-accept",
        "window": "business-hours",
        "answer_within_secs": 259200,
        "sla_target_secs": null,
        "first_ack_at": null,
        "first_human_at": null,
        "first_human_key": null,
        "censored_at": null,
        "vendor_refs": [],
        "messages": [{
            "key": "imap:INBOX:1:7",
            "message_id": "r1@acme.example",
            "at": "2026-11-02T10:20:00Z",
            "time_source": "imap-internaldate",
            "date_header": null,
            "received_header": null,
            "from": "kim@acme.example",
            "subject": "Re: Support test",
            "class": "human",
            "confidence": "unsure",
            "reasons": ["the message could not be read: the parser failed (boom)"],
            "relabel": null,
            "matched_by": "token",
            "fingerprint": null,
            "vendor_refs": [],
            "notes": [],
            "markers": []
        }],
        "attempts": [],
        "notes": []
    }"#,
    )
    .unwrap();
    p.recompute();
    assert_eq!(p.state, ProbeState::Answered);
    let store = Store::open(state, Mode::Exclusive).unwrap();
    store.write(|tx| tx.put(&p)).unwrap();
    p
}

#[test]
fn an_unsure_answer_is_marked_listed_and_confirmed() {
    let _gate = crate::kit::gate::enter(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let p = store_with_an_unsure_answer(&state);
    let id = p.id.to_string();

    let show = probe(&state, &["show", &id]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(
        show.stdout.contains("UNSURE: this reading rests"),
        "{show:?}"
    );
    assert!(show.stdout.contains("[UNSURE]"), "{show:?}");
    assert!(show.stdout.contains("confidence unsure"), "{show:?}");
    let status = probe(&state, &["status"]);
    assert!(
        status
            .stdout
            .contains("acme: 1 reading rests on unsure classifications"),
        "{status:?}"
    );
    let v = probe(&state, &["status", "--format", "json"]).json();
    assert_eq!(v["vendors"][0]["unsure"], json!(1), "{v}");
    let report = probe(&state, &["report", "--format", "json"]).json();
    assert_eq!(report["vendors"][0]["overall"]["unsure"], json!(1));

    let listed = items(&state);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["kind"], json!("unsure"));
    assert_eq!(listed[0]["probe"], json!(id));
    assert_eq!(listed[0]["message"], json!("imap:INBOX:1:7"));
    assert_eq!(listed[0]["confidence"], json!("unsure"));
    assert!(
        listed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{listed:?}"
    );

    let out = probe(&state, &["review", "--confirm", &id, "imap:INBOX:1:7"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("confirmed"), "{out:?}");
    assert!(items(&state).is_empty());
    let store = Store::open(&state, Mode::Shared).unwrap();
    let rec = store.get(&p.id).unwrap().unwrap();
    let m = &rec.messages[0];
    assert_eq!(m.class, Class::Human, "the verdict is kept");
    assert_eq!(m.relabel.as_ref().map(|r| r.class), Some(Class::Human));
    assert_eq!(m.effective_confidence(), Confidence::Certain);
    assert_eq!(rec.state, ProbeState::Answered);
    assert!(!store.reading_rows(None).unwrap()[0].unsure);
    drop(store);
    let show = probe(&state, &["show", &id]);
    assert!(!show.stdout.contains("UNSURE"), "{show:?}");
    let table = probe(&state, &["review"]);
    assert!(table.stdout.starts_with("nothing to review"), "{table:?}");

    // Confirming a message that is not there is a usage error.
    let bad = probe(&state, &["review", "--confirm", &id, "nope"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}
