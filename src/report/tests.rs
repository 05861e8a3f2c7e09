//! Hand-computed report cases: one vendor's week with answered, late,
//! unanswered, pending, bounced and not-filed probes.

use jiff::Timestamp;

use super::*;
use crate::model::{Class, MatchedBy, MessageRecord, Origin, ProbeId, TimeSource};

pub(crate) const CONFIG: &str = r#"
[report]
zone = "Europe/Berlin"

[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
[vendor.business-hours]
zone = "Europe/Berlin"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-17:00"]
[vendor.sla]
P1 = "1h"
P3 = "24h"

[[vendor]]
name = "beta"
addresses = ["help@beta.example"]

[[persona]]
name = "dana"
display-name = "Dana"
address = "dana@probe.example"
region = "eu"
[persona.smtp]
host = "127.0.0.1"
port = 25
security = "insecure"
username = "dana"
password = { env = "PROBE_TEST_UNUSED" }
[persona.imap]
host = "127.0.0.1"
port = 143
security = "insecure"
username = "dana"
password = { env = "PROBE_TEST_UNUSED" }

[[probe]]
name = "p"
vendor = "acme"
persona = "dana"
schedule = "0 0 9 * * *"
zones = ["UTC"]
subject = "s"
body = "b"
"#;

pub(crate) fn config() -> Config {
    crate::config::parse_str(CONFIG, std::path::Path::new("t.toml"))
        .unwrap()
        .config
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn msg(at: Timestamp, class: Class, subject: &str) -> MessageRecord {
    MessageRecord {
        key: format!("k{}", at.as_second()),
        message_id: None,
        at,
        time_source: TimeSource::Simulated,
        date_header: None,
        received_header: None,
        from: None,
        subject: Some(subject.into()),
        class,
        confidence: Default::default(),
        reasons: vec![],
        relabel: None,
        matched_by: MatchedBy::Token,
        fingerprint: None,
        vendor_refs: vec![],
        notes: vec![],
        markers: vec![],
        quality: None,
    }
}

/// A probe filed at `filed` (or due then, for not-filed), then `replies`
/// applied, closed at its deadline if `closed`.
pub(crate) fn probe(
    n: u32,
    vendor: &str,
    filed: &str,
    window: Option<Window>,
    priority: Option<(&str, u64)>,
    replies: &[(i64, Class)],
    state: ProbeState,
) -> ProbeRecord {
    let at = ts(filed);
    let mut p = ProbeRecord {
        id: ProbeId::parse(&format!("01JD00000000000000000{n:05}")).unwrap(),
        token: format!("SP-00000{n:05}"),
        probe: "p".into(),
        vendor: vendor.into(),
        persona: "dana".into(),
        channel: "email".into(),
        watch_key: None,
        zone: "UTC".into(),
        origin: Origin::Schedule,
        priority: priority.map(|(l, _)| l.to_string()),
        scheduled_for: at,
        due_at: at,
        state,
        state_reason: None,
        subject: Some(format!("Support test {n}")),
        message_id: None,
        recipients: vec![],
        filing_started_at: Some(at),
        filed_at: (state != ProbeState::NotFiled).then_some(at),
        filed_time_source: Some(TimeSource::Simulated),
        window,
        answer_within_secs: 72 * 3600,
        sla_target_secs: priority.map(|(_, s)| s),
        first_ack_at: None,
        first_human_at: None,
        first_human_key: None,
        censored_at: None,
        vendor_refs: vec![],
        messages: replies
            .iter()
            .map(|(secs, c)| msg(at + jiff::SignedDuration::from_secs(*secs), *c, "Re: test"))
            .collect(),
        attempts: vec![],
        notes: vec![],
        language: None,
        detail: None,
        expect: Vec::new(),
        rounds: Vec::new(),
        resolution: None,
        resolution_unseen_at: None,
    };
    if state == ProbeState::Unanswered {
        p.censored_at = p.answer_deadline();
    }
    if state == ProbeState::NotFiled {
        p.state_reason = Some("smtp down".into());
    } else {
        p.recompute();
    }
    assert_eq!(p.state, state, "probe {n}");
    p
}

const P1: Option<(&str, u64)> = Some(("P1", 3600));
const P3: Option<(&str, u64)> = Some(("P3", 86400));

/// Week 2026-W47 in Berlin (CET, UTC+1): Mon 16 Nov to Sun 22 Nov.
pub(crate) fn week47() -> Vec<ProbeRecord> {
    use Window::*;
    vec![
        // Mon 09:00 Berlin, answered after 30 min (ack after 1 min).
        probe(
            1,
            "acme",
            "2026-11-16T08:00:00Z",
            Some(BusinessHours),
            P1,
            &[(60, Class::Ack), (1800, Class::Human)],
            ProbeState::Answered,
        ),
        // Mon 16:30 Berlin, answered Tue 09:30 Berlin: 17 h calendar, 1 h business.
        probe(
            2,
            "acme",
            "2026-11-16T15:30:00Z",
            Some(BusinessHours),
            P1,
            &[(61200, Class::Human)],
            ProbeState::Answered,
        ),
        // Mon 20:00 Berlin, never answered: censored at 72 h (24 h business).
        probe(
            3,
            "acme",
            "2026-11-16T19:00:00Z",
            Some(OffHours),
            P1,
            &[(120, Class::Ack)],
            ProbeState::Unanswered,
        ),
        // Sat 10:00 Berlin, pending at the read instant (47 h), past its 1 h target.
        probe(
            4,
            "acme",
            "2026-11-21T09:00:00Z",
            Some(Weekend),
            P1,
            &[],
            ProbeState::Filed,
        ),
        // Sun 23:30 Berlin, pending 9.5 h, inside its 24 h target.
        probe(
            5,
            "acme",
            "2026-11-22T22:30:00Z",
            Some(Weekend),
            P3,
            &[],
            ProbeState::Filed,
        ),
        // Not filed (our SMTP was down): ours, never the vendor's.
        probe(
            6,
            "acme",
            "2026-11-17T08:00:00Z",
            None,
            P1,
            &[],
            ProbeState::NotFiled,
        ),
        // Bounced.
        probe(
            7,
            "acme",
            "2026-11-18T08:00:00Z",
            Some(BusinessHours),
            P1,
            &[(5, Class::Bounce)],
            ProbeState::Undeliverable,
        ),
        // Next week (Mon 23 Nov 09:30 Berlin): outside the period.
        probe(
            8,
            "acme",
            "2026-11-23T08:30:00Z",
            Some(BusinessHours),
            P1,
            &[],
            ProbeState::Filed,
        ),
        // beta: 20 min this week, 10 min the week before.
        probe(
            9,
            "beta",
            "2026-11-17T10:00:00Z",
            Some(BusinessHours),
            None,
            &[(1200, Class::Human)],
            ProbeState::Answered,
        ),
        probe(
            10,
            "beta",
            "2026-11-10T10:00:00Z",
            Some(BusinessHours),
            None,
            &[(600, Class::Human)],
            ProbeState::Answered,
        ),
    ]
}

/// Mon 23 Nov 09:00 Berlin.
pub(crate) fn read_at() -> Timestamp {
    ts("2026-11-23T08:00:00Z")
}

fn week_report(by: Vec<Dim>) -> Report {
    let config = config();
    let tz = config.report.zone.clone();
    let period = Period::week("2026-W47".parse().unwrap(), &tz).unwrap();
    let previous = period.previous(&tz).unwrap();
    build(
        &week47(),
        Some(&config),
        &Options {
            period: Some(period),
            previous: Some(previous),
            vendor: None,
            by,
            now: read_at(),
            own: OwnSide::default(),
        },
    )
}

#[test]
fn counts_keep_our_failures_apart_from_the_vendors() {
    let r = week_report(vec![]);
    let acme = &r.vendors[0].overall;
    assert_eq!(r.vendors[0].vendor, "acme");
    assert_eq!(
        (
            acme.filed,
            acme.answered,
            acme.pending,
            acme.unanswered,
            acme.undeliverable,
            acme.not_filed
        ),
        (6, 2, 2, 1, 1, 1),
        "probe 8 is next week's"
    );
    assert_eq!(r.our_side.not_filed.len(), 1);
    assert_eq!(r.unanswered.len(), 1);
    assert_eq!(r.undeliverable.len(), 1);
    assert_eq!(
        r.undeliverable[0].last_reply_subject.as_deref(),
        Some("Re: test")
    );
}

#[test]
fn the_calendar_median_is_censored_not_flattering() {
    // Observations: a 1800, c 34200, a 61200, c 169200, c 259200.
    // S = 0.8 after 1800, 0.8 * 2/3 = 0.533 after 61200: never <= 0.5.
    let f = &week_report(vec![]).vendors[0].overall;
    assert_eq!(f.calendar.n, 5);
    assert_eq!(f.calendar.median, Estimate::MoreThan(259200));
    assert_eq!(f.calendar.p90, Estimate::MoreThan(259200));
    assert_eq!(f.calendar.max, Estimate::MoreThan(259200));
    assert_eq!(f.calendar.median_text(), "> 3d 0h (95% 30m 0s – > 3d 0h)");
}

#[test]
fn business_time_runs_only_inside_opening_hours() {
    // Business observations: c 0 (Sat->Mon 09:00), c 0 (Sun->Mon 09:00),
    // a 1800, a 3600 (16:30-17:00 + 09:00-09:30), c 86400 (Tue+Wed+Thu).
    // After the two zero censorings 3 are at risk: S = 2/3, then 1/3 at 3600.
    let f = &week_report(vec![]).vendors[0].overall;
    let b = f.business.as_ref().unwrap();
    assert_eq!(b.n, 5);
    assert_eq!(b.median, Estimate::Exactly(3600));
    assert_eq!(b.max, Estimate::MoreThan(86400));
}

#[test]
fn shares_within_hours_count_only_known_outcomes() {
    let f = &week_report(vec![]).vendors[0].overall;
    let got: Vec<(i64, usize, usize)> = f
        .within
        .iter()
        .map(|w| (w.hours, w.answered, w.known))
        .collect();
    // The 9.5 h pending probe is unknown at 24 h.
    assert_eq!(got, vec![(1, 1, 5), (4, 1, 5), (24, 2, 4)]);
}

#[test]
fn sla_breach_is_late_or_unanswered_past_target_and_pending_inside_is_open() {
    let f = &week_report(vec![]).vendors[0].overall;
    // 1 met; 2 late, 3 unanswered, 4 pending 47 h > 1 h: breached; 5 open.
    assert_eq!((f.sla.met, f.sla.breached, f.sla.open), (1, 3, 1));
    assert_eq!(f.sla.compliance_pct, Some(25.0));
    assert!(f.sla.mixed_targets);
    assert_eq!(f.sla.display(), "25% (1/4)");
}

#[test]
fn acknowledgement_median_and_window_medians() {
    let r = week_report(vec![]);
    let v = &r.vendors[0];
    assert_eq!(v.overall.acknowledged, 2);
    assert_eq!(v.overall.ack_median, Estimate::Exactly(60));
    assert_eq!(v.median_business_hours, Estimate::Exactly(1800));
    assert_eq!(v.median_outside_hours, Estimate::MoreThan(259200));
}

#[test]
fn week_over_week_change_needs_exact_medians_on_both_sides() {
    let r = week_report(vec![]);
    assert_eq!(r.vendors[0].change.unwrap().median_secs, None);
    let beta = r.vendors[1].change.unwrap();
    assert_eq!(beta.median_secs, Some(600));
    assert_eq!(beta.filed_before, 1);
    assert_eq!(beta.median_display(), "+10m 0s");
}

#[test]
fn groups_by_window_and_region() {
    let r = week_report(vec![Dim::Window, Dim::Region]);
    let labels: Vec<String> = r.vendors[0].groups.iter().map(Group::label).collect();
    assert_eq!(
        labels,
        [
            "business-hours / eu",
            "not filed / eu",
            "off-hours / eu",
            "weekend / eu"
        ]
    );
    let weekend = r.vendors[0]
        .groups
        .iter()
        .find(|g| g.key.get(&Dim::Window).map(String::as_str) == Some("weekend"))
        .unwrap();
    assert_eq!(weekend.figures.pending, 2);
    assert_eq!(weekend.figures.calendar.median, Estimate::MoreThan(169200));
    assert!(weekend.figures.calendar.small());
}

#[test]
fn csv_has_one_row_per_probe() {
    let config = config();
    let probes = week47();
    let refs: Vec<&ProbeRecord> = probes.iter().collect();
    let text = render::csv(&refs, Some(&config), read_at(), &OwnSide::default());
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1 + probes.len());
    assert!(lines[0].starts_with("id,vendor,probe"));
    // Probe 2: answered in 61200 s calendar, 3600 s business, SLA breached.
    let row2 = lines[2];
    assert!(row2.contains(",true,61200,3600,"), "{row2}");
    assert!(row2.contains(",3600,breached,false,"), "{row2}");
    assert!(lines[6].contains(",not-filed,"), "{}", lines[6]);
    assert!(lines[6].contains(",true,smtp down,"), "{}", lines[6]);
}

#[test]
fn a_pending_probe_is_censored_where_its_mailbox_was_last_read_not_at_now() {
    // Filed Monday 10:00; the mailbox was last read completely at 12:00 and
    // our IMAP has been down since. Censoring at `now` (Tuesday 10:00) would
    // claim 24 h of silence we never saw; the report may claim 2 h.
    let mut p = probe(
        1,
        "acme",
        "2026-11-16T10:00:00Z",
        Some(Window::BusinessHours),
        Some(("p1", 3 * 3600)),
        &[],
        ProbeState::Filed,
    );
    p.watch_key = Some("imap:dana".into());
    let now = ts("2026-11-17T10:00:00Z");
    let cursors = std::collections::BTreeMap::from([(
        "imap:dana".to_string(),
        crate::store::Cursor {
            position: serde_json::Value::Null,
            caught_up_at: ts("2026-11-16T12:00:00Z"),
        },
    )]);
    let own = OwnSide::new(&cursors, Vec::new());
    let opts = |own: OwnSide| Options {
        period: None,
        previous: None,
        vendor: None,
        by: vec![],
        now,
        own,
    };
    let seen = build(&[p.clone()], None, &opts(own.clone()));
    let naive = build(&[p.clone()], None, &opts(OwnSide::default()));
    assert_eq!(
        seen.vendors[0].overall.calendar.max,
        Estimate::MoreThan(2 * 3600)
    );
    assert_eq!(
        naive.vendors[0].overall.calendar.max,
        Estimate::MoreThan(24 * 3600)
    );
    // Past its 3 h target by `now`, but we only watched 2 h: not a breach yet.
    assert_eq!(sla_outcome(&p, now, &own), SlaOutcome::Open);
    assert_eq!(
        sla_outcome(&p, now, &OwnSide::default()),
        SlaOutcome::Breached
    );
}

#[test]
fn readings_that_rest_on_an_unsure_class_are_counted_and_marked() {
    let config = config();
    let mut probes = week47();
    // Probe 3 is unanswered because of its ack; make that ack unsure.
    let three = probes
        .iter_mut()
        .find(|p| p.id.as_str().ends_with("00003"))
        .unwrap();
    three.messages[0].confidence = crate::model::Confidence::Unsure;
    let tz = config.report.zone.clone();
    let period = Period::week("2026-W47".parse().unwrap(), &tz).unwrap();
    let r = build(
        &probes,
        Some(&config),
        &Options {
            period: Some(period),
            previous: None,
            vendor: None,
            by: vec![Dim::Window],
            now: read_at(),
            own: OwnSide::default(),
        },
    );
    let acme = &r.vendors[0];
    assert_eq!(acme.overall.unsure, 1);
    let off = acme
        .groups
        .iter()
        .find(|g| g.label() == "off-hours")
        .unwrap();
    assert_eq!(off.figures.unsure, 1);
    assert!(r.unanswered[0].unsure);
    let table = render::table(&r);
    assert!(table.contains("UNSURE"), "{table}");
    assert!(table.contains("[unsure]"), "{table}");
    assert!(
        table.contains("1 reading(s) rest on a classification marked unsure"),
        "{table}"
    );
    // The CSV's last column.
    let refs: Vec<&ProbeRecord> = probes.iter().collect();
    let csv = render::csv(&refs, Some(&config), read_at(), &OwnSide::default());
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].ends_with(",notes,unsure"), "{}", lines[0]);
    assert!(lines[3].ends_with(",true"), "{}", lines[3]);
    assert!(lines[1].ends_with(",false"), "{}", lines[1]);
}
