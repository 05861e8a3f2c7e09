//! `probe status` reports our own downtime in a section of its own, and the
//! vendors' rows do not count it.

use jiff::{SignedDuration, Timestamp};
use support_probe::store::{Mode, OutageKind, Store};

fn status(state: &std::path::Path, format: &str) -> String {
    let out = crate::kit::run::probe_without_config(state, &["--format", format, "status"]);
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout
}

#[test]
fn status_lists_our_downtime_apart_from_the_vendors() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    {
        let store = Store::open(dir.path(), Mode::Shared).unwrap();
        let ep = "smtp:dana@127.0.0.1:2525";
        store
            .write(|tx| {
                tx.outage_failure(
                    OutageKind::Send,
                    ep,
                    "dana",
                    now - SignedDuration::from_hours(3),
                    "127.0.0.1:2525 while connecting: Connection refused",
                )?;
                tx.outage_success(OutageKind::Send, ep, now - SignedDuration::from_hours(2))?;
                tx.outage_failure(
                    OutageKind::Watch,
                    "imap:dana@127.0.0.1:1143/INBOX",
                    "dana",
                    now - SignedDuration::from_mins(30),
                    "127.0.0.1:1143 did not answer within 30 s",
                )
            })
            .unwrap();
    }
    let text = status(dir.path(), "table");
    let section = text
        .split("our own downtime, last 30 days (not counted against any vendor):")
        .nth(1)
        .unwrap_or_else(|| panic!("no downtime section:\n{text}"));
    let send = section
        .lines()
        .find(|l| l.starts_with("send"))
        .unwrap_or_else(|| panic!("{section}"));
    assert!(send.contains("smtp:dana@127.0.0.1:2525"), "{send}");
    assert!(send.contains("1h 0m"), "one hour down: {send}");
    assert!(send.contains(" ok "), "{send}");
    let watch = section.lines().find(|l| l.starts_with("watch")).unwrap();
    assert!(watch.contains("ONGOING"), "{watch}");
    assert!(watch.contains("did not answer"), "{watch}");

    let json: serde_json::Value = serde_json::from_str(&status(dir.path(), "json")).unwrap();
    let totals = json["own_downtime"]["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 2, "{json:#}");
    assert_eq!(totals[0]["kind"], "send");
    assert_eq!(totals[0]["secs"], 3600);
    assert_eq!(json["own_downtime"]["outages"].as_array().unwrap().len(), 2);
    assert!(
        json["vendors"].as_array().unwrap().is_empty(),
        "no vendor row from our downtime"
    );
}

#[test]
fn status_says_when_no_downtime_was_recorded() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path(), Mode::Shared).unwrap();
    let text = status(dir.path(), "table");
    assert!(
        text.contains(
            "our own downtime, last 30 days (not counted against any vendor):\n  none recorded"
        ),
        "{text}"
    );
}
