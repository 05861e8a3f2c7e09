//! Hand-computed report cases: one vendor's week with answered, late,
//! unanswered, pending, bounced and not-filed probes.

use jiff::Timestamp;

use super::*;
use crate::model::{Class, MatchedBy, MessageRecord, ProbeId, TimeSource};

pub(crate) fn config_text() -> String {
    [
        r#"
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
"#,
        &crate::testkit::persona_toml("dana", "Dana", "dana@probe.example", "region = \"eu\""),
        r#"
[[probe]]
name = "p"
vendor = "acme"
persona = "dana"
schedule = "0 0 9 * * *"
zones = ["UTC"]
subject = "s"
body = "b"
"#,
    ]
    .concat()
}

pub(crate) fn config() -> Config {
    crate::config::parse_str(&config_text(), std::path::Path::new("t.toml"))
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
        vendor: vendor.into(),
        persona: "dana".into(),
        priority: priority.map(|(l, _)| l.to_string()),
        state,
        subject: Some(format!("Support test {n}")),
        filing_started_at: Some(at),
        filed_at: (state != ProbeState::NotFiled).then_some(at),
        filed_time_source: Some(TimeSource::Simulated),
        window,
        answer_within_secs: 72 * 3600,
        sla_target_secs: priority.map(|(_, s)| s),
        messages: replies
            .iter()
            .map(|(secs, c)| msg(at + jiff::SignedDuration::from_secs(*secs), *c, "Re: test"))
            .collect(),
        ..crate::model::tests::record(at)
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
fn shares_within_hours_come_from_the_kaplan_meier_curve() {
    // Observations: a 1800, c 34200 (pending 9.5 h), a 61200, c 169200,
    // c 259200. At 1800 one of 5 answers: S = 4/5. The 9.5 h probe leaves
    // the risk set; at 61200 (17 h) one of 3 answers: S = 4/5 * 2/3 = 8/15.
    let f = &week_report(vec![]).vendors[0].overall;
    let got: Vec<(i64, f64, bool, usize)> = f
        .within
        .iter()
        .map(|w| (w.hours, w.share.unwrap(), w.at_least, w.n))
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!((got[0].0, got[0].2, got[0].3), (1, false, 5));
    assert!((got[0].1 - 0.2).abs() < 1e-12, "{got:?}");
    assert!((got[1].1 - 0.2).abs() < 1e-12, "{got:?}");
    assert!((got[2].1 - 7.0 / 15.0).abs() < 1e-12, "{got:?}");
    assert_eq!(f.within[2].display(), "47% (n = 5)");
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
    // The CSV's unsure column.
    let refs: Vec<&ProbeRecord> = probes.iter().collect();
    let csv = render::csv(&refs, Some(&config), read_at(), &OwnSide::default());
    assert_eq!(
        csv_column(&csv, "unsure"),
        ["false", "false", "true"][..]
            .iter()
            .chain(&["false"; 7])
            .copied()
            .collect::<Vec<_>>()
    );
}

/// The cells of one CSV column by its header (the fixtures quote no comma).
fn csv_column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(at).unwrap().to_string())
        .collect()
}

/// The evidence the engine records on a human reply.
fn quality(
    language: Option<&str>,
    personal: bool,
    templated: bool,
    specific: Option<bool>,
    asks_back: bool,
    answers: Option<bool>,
) -> crate::model::Quality {
    use crate::model::{DetectedLanguage, Trait};
    let t = |v: bool| Some(Trait::judged(v, "test"));
    crate::model::Quality {
        language: language.map(|tag| DetectedLanguage {
            tag: tag.into(),
            confidence: 90,
        }),
        new_words: 30,
        personal: t(personal),
        templated: t(templated),
        specific: specific.and_then(t),
        asks_back: t(asks_back),
        answers: answers.and_then(t),
        signature: vec![],
    }
}

fn resolved(p: &mut ProbeRecord, after_secs: i64) {
    p.resolution = Some(crate::model::Resolution {
        at: p.filed_at.unwrap() + jiff::SignedDuration::from_secs(after_secs),
        time_source: TimeSource::Simulated,
        by: "status solved (API)".into(),
    });
}

/// Six acme probes whose scorecard is computed by hand in the tests below,
/// and one pending beta probe (every figure taken over no probe).
fn scorecard_probes() -> Vec<ProbeRecord> {
    use Window::*;
    let h = 3600;
    // 1: zh-CN probe with a detail and an expectation. Ack after 1 min,
    // answered in Chinese after 30 min, personal, specific, right on the
    // first reply; resolved after 2 h; the vendor wrote again unasked a day
    // later (a follow-up).
    let mut p1 = probe(
        1,
        "acme",
        "2026-11-16T08:00:00Z",
        Some(BusinessHours),
        None,
        &[
            (60, Class::Ack),
            (1800, Class::Human),
            (24 * h, Class::Human),
        ],
        ProbeState::Answered,
    );
    p1.language = Some("zh-CN".into());
    p1.detail = Some("edge node sg-3".into());
    p1.expect = vec![r"status\.acme\.example".into()];
    p1.messages[1].quality = Some(quality(
        Some("zh"),
        true,
        false,
        Some(true),
        false,
        Some(true),
    ));
    p1.messages[2].quality = Some(quality(Some("zh"), true, false, None, false, None));
    resolved(&mut p1, 2 * h);
    // 2: zh-CN probe answered in English with a macro that asks back after
    // 4 h, wrong; our follow-up at 5 h is answered rightly at 6 h;
    // resolved at 7 h after two human replies.
    let mut p2 = probe(
        2,
        "acme",
        "2026-11-17T08:00:00Z",
        Some(BusinessHours),
        None,
        &[(4 * h, Class::Human), (6 * h, Class::Human)],
        ProbeState::Answered,
    );
    p2.language = Some("zh-CN".into());
    p2.expect = vec![r"status\.acme\.example".into()];
    p2.messages[0].quality = Some(quality(Some("en"), false, true, None, true, Some(false)));
    p2.messages[1].quality = Some(quality(Some("en"), false, true, None, false, Some(true)));
    p2.rounds = vec![crate::model::Round {
        index: 1,
        state: crate::model::RoundState::Sent,
        due_at: ts("2026-11-17T13:00:00Z"),
        sent_at: Some(ts("2026-11-17T13:00:00Z")),
        sent_time_source: Some(TimeSource::Simulated),
        message_id: None,
        reason: None,
        started_at: Some(ts("2026-11-17T13:00:00Z")),
        censored_at: None,
        closing: false,
    }];
    resolved(&mut p2, 7 * h);
    // 3: off-hours, only an acknowledgement: ack-only. Its language and
    // expectation judge nothing without a reply.
    let mut p3 = probe(
        3,
        "acme",
        "2026-11-16T19:00:00Z",
        Some(OffHours),
        None,
        &[(120, Class::Ack)],
        ProbeState::Unanswered,
    );
    p3.language = Some("zh-CN".into());
    p3.expect = vec![r"status\.acme\.example".into()];
    // 4: off-hours, a person answered after 80 h, past the 72 h window:
    // unanswered, but it did reply (not silent, not ack-only). Too short a
    // text for a language.
    let mut p4 = probe(
        4,
        "acme",
        "2026-11-18T19:00:00Z",
        Some(OffHours),
        None,
        &[(80 * h, Class::Human)],
        ProbeState::Unanswered,
    );
    p4.messages[0].quality = Some(quality(None, true, true, None, false, None));
    // 5: weekend, still pending at the read instant (47 h): not closed.
    let p5 = probe(
        5,
        "acme",
        "2026-11-21T09:00:00Z",
        Some(Weekend),
        None,
        &[],
        ProbeState::Filed,
    );
    // 6: English probe, ack after 30 s, plain answer after 3 h, resolved
    // at 4 h.
    let mut p6 = probe(
        6,
        "acme",
        "2026-11-19T08:00:00Z",
        Some(BusinessHours),
        None,
        &[(30, Class::Ack), (3 * h, Class::Human)],
        ProbeState::Answered,
    );
    p6.language = Some("en".into());
    p6.detail = Some("stream key ending 4F7Q".into());
    p6.messages[1].quality = Some(quality(Some("en"), false, false, Some(false), false, None));
    resolved(&mut p6, 4 * h);
    let p7 = probe(
        7,
        "beta",
        "2026-11-22T10:00:00Z",
        Some(Weekend),
        None,
        &[],
        ProbeState::Filed,
    );
    vec![p1, p2, p3, p4, p5, p6, p7]
}

fn scorecard_report() -> Report {
    build(
        &scorecard_probes(),
        Some(&config()),
        &Options {
            period: None,
            previous: None,
            vendor: None,
            by: vec![],
            now: read_at(),
            own: OwnSide::default(),
        },
    )
}

fn rate(count: usize, n: usize) -> scorecard::Rate {
    scorecard::Rate {
        rate: Some(count as f64 / n as f64),
        count,
        n,
    }
}

#[test]
fn reply_and_ack_only_rates_are_over_closed_probes() {
    let r = scorecard_report();
    let s = &r.vendors[0].scorecard;
    // Closed: 1, 2, 3, 4, 6 (5 is pending). Replied: 1, 2, 6 and 4 (late).
    assert_eq!(s.reply, rate(4, 5));
    // Ack and never a human reply: 3 only (1 and 6 were acked, then answered).
    assert_eq!(s.ack_only, rate(1, 5));
    assert_eq!(r.vendors[0].overall.filed, 6);
}

#[test]
fn first_reply_in_and_out_of_hours_and_within_shares_keep_the_censored() {
    let r = scorecard_report();
    let v = &r.vendors[0];
    let s = &v.scorecard;
    // In business hours: a 1800, a 10800, a 14400. S = 2/3, 1/3, 0.
    assert_eq!(s.first_reply_business_hours.n, 3);
    assert_eq!(
        s.first_reply_business_hours.median,
        Estimate::Exactly(10800)
    );
    assert_eq!(s.first_reply_business_hours.p90, Estimate::Exactly(14400));
    assert_eq!(v.median_business_hours, Estimate::Exactly(10800));
    // Outside: c 259200 (3), c 259200 (4, its reply came too late),
    // c 169200 (5, pending 47 h): no answer, so "more than" 72 h.
    assert_eq!(s.first_reply_outside_hours.n, 3);
    assert_eq!(
        s.first_reply_outside_hours.median,
        Estimate::MoreThan(259200)
    );
    assert_eq!(s.first_reply_outside_hours.p90, Estimate::MoreThan(259200));
    // All six on one curve: at 1800 S = 5/6; at 10800 4/6; at 14400 3/6.
    let w = &v.overall.within;
    let shares: Vec<f64> = w.iter().map(|w| w.share.unwrap()).collect();
    assert!((shares[0] - 1.0 / 6.0).abs() < 1e-12, "{shares:?}");
    assert!((shares[1] - 0.5).abs() < 1e-12, "{shares:?}");
    assert!((shares[2] - 0.5).abs() < 1e-12, "{shares:?}");
    assert!(w.iter().all(|w| w.n == 6 && !w.at_least));
    // Among the answered only: (1800 + 14400 + 10800) / 3 = 9000; the
    // middle of 1800, 10800, 14400 is 10800.
    assert_eq!(
        s.among_answered,
        scorecard::AmongAnswered {
            n: 3,
            mean_secs: Some(9000),
            median_secs: Some(10800),
        }
    );
}

#[test]
fn first_reply_traits_are_rates_over_the_probes_where_they_were_judged() {
    let q = scorecard_report().vendors[0].scorecard.quality;
    // Language: 1 zh-CN/zh yes, 2 zh-CN/en no, 6 en/en yes; 4 undetected.
    assert_eq!(q.language_match, rate(2, 3));
    // Personal: 1 yes, 2 no, 4 yes, 6 no.
    assert_eq!(q.personal, rate(2, 4));
    // Templated: 2 and 4 of 1, 2, 4, 6.
    assert_eq!(q.templated, rate(2, 4));
    // Specific: judged on 1 (yes) and 6 (no) only, the probes with a detail.
    assert_eq!(q.specific, rate(1, 2));
    // Asks back: 2 only.
    assert_eq!(q.asks_back, rate(1, 4));
    // Answered on first reply: probes with `expect` and a reply: 1 yes,
    // 2 no (its second reply was right); 3 has no reply.
    assert_eq!(q.answered_on_first_reply, rate(1, 2));
}

#[test]
fn resolution_and_vendor_follow_ups() {
    let s = &scorecard_report().vendors[0].scorecard;
    let r = &s.resolution;
    assert_eq!(r.resolved, 3);
    // Rounds: 1 (1), 2 (2), 1 (6): the middle is 1.
    assert_eq!(
        r.rounds_median,
        scorecard::Figure {
            value: Some(1),
            more_than: false,
            n: 3
        }
    );
    // Resolved at 7200, 25200, 14400; the rest censored where read (at
    // `now`): 3 at 565200, 4 at 392400, 5 at 169200. S = 5/6, 4/6, 3/6 at
    // 25200: the median.
    assert_eq!(
        r.time_to_resolution_median_secs,
        scorecard::Figure {
            value: Some(25200),
            more_than: false,
            n: 6
        }
    );
    // One follow-up (probe 1's second message), on 1 of the 4 probes with
    // a reply.
    assert_eq!(s.vendor_follow_ups.count, 1);
    assert_eq!(s.vendor_follow_ups.probes, rate(1, 4));
}

#[test]
fn a_vendor_without_evidence_shows_dashes_and_zero_n() {
    let r = scorecard_report();
    let beta = &r.vendors[1];
    assert_eq!(beta.vendor, "beta");
    let none = scorecard::Rate {
        rate: None,
        count: 0,
        n: 0,
    };
    assert_eq!(beta.scorecard.reply, none);
    assert_eq!(beta.scorecard.quality.personal, none);
    assert_eq!(beta.scorecard.among_answered.mean_secs, None);
    let lines = beta
        .scorecard
        .lines(beta.overall.filed, &beta.overall.within);
    let get = |k: &str| &lines.iter().find(|(l, _)| *l == k).unwrap().1;
    assert_eq!(get("filed"), "1");
    assert_eq!(get("personal"), "– (n = 0)");
    assert_eq!(
        get("mean among answered (as in published studies)"),
        "– (n = 0)"
    );
    // The pending probe is on the curve: 0% within 1 h and 4 h, and only a
    // lower bound past the 22 h it has been watched.
    assert_eq!(
        get("answered within (Kaplan-Meier, 1 - S(t))"),
        "1h 0%, 4h 0%, 24h ≥ 0% (n = 1)"
    );
}

#[test]
fn the_json_has_quality_and_resolution_under_each_vendor() {
    let json = serde_json::to_value(scorecard_report()).unwrap();
    let acme = &json["vendors"][0];
    assert_eq!(
        acme["quality"]["personal"],
        serde_json::json!({ "rate": 0.5, "count": 2, "n": 4 })
    );
    assert_eq!(
        acme["quality"]["answered_on_first_reply"],
        serde_json::json!({ "rate": 0.5, "count": 1, "n": 2 })
    );
    for k in [
        "language_match",
        "personal",
        "templated",
        "specific",
        "asks_back",
        "answered_on_first_reply",
    ] {
        assert!(acme["quality"][k]["n"].is_u64(), "{k}");
    }
    assert_eq!(
        acme["resolution"]["rounds_median"],
        serde_json::json!({ "value": 1, "more_than": false, "n": 3 })
    );
    assert_eq!(
        acme["resolution"]["time_to_resolution_median_secs"],
        serde_json::json!({ "value": 25200, "more_than": false, "n": 6 })
    );
    assert_eq!(acme["reply"]["n"], 5);
    assert_eq!(acme["vendor_follow_ups"]["count"], 1);
    let beta = &json["vendors"][1];
    assert_eq!(
        beta["quality"]["language_match"],
        serde_json::json!({ "rate": null, "count": 0, "n": 0 })
    );
    assert_eq!(
        beta["resolution"]["rounds_median"],
        serde_json::json!({ "value": null, "more_than": false, "n": 0 })
    );
}

#[test]
fn the_table_shows_a_scorecard_block_and_the_csv_flat_columns() {
    let r = scorecard_report();
    let table = render::table(&r);
    for line in [
        "Scorecard acme (n = probes a figure is taken over; – where none):",
        "reply rate (any human reply; closed probes)",
        "80% (n = 5)",
        "median 3h 0m, p90 4h 0m (n = 3)",
        "2h 30m (n = 3)",
        "7h 0m (n = 6), 3 resolved",
        "1 in all; 25% (n = 4)",
        "1h 17%, 4h 50%, 24h 50% (n = 6)",
    ] {
        assert!(table.contains(line), "{line:?} not in\n{table}");
    }
    if std::env::var_os("SHOW_TABLE").is_some() {
        println!("{table}");
    }
    let probes = scorecard_probes();
    let refs: Vec<&ProbeRecord> = probes.iter().collect();
    let csv = render::csv(&refs, Some(&config()), read_at(), &OwnSide::default());
    assert_eq!(
        csv_column(&csv, "replied"),
        ["true", "true", "false", "true", "false", "true", "false"]
    );
    assert_eq!(
        csv_column(&csv, "ack_only"),
        ["false", "false", "true", "false", "false", "false", "false"]
    );
    assert_eq!(
        csv_column(&csv, "language_match"),
        ["true", "false", "", "", "", "true", ""]
    );
    assert_eq!(
        csv_column(&csv, "rounds_to_resolution"),
        ["1", "2", "", "", "", "1", ""]
    );
    assert_eq!(
        csv_column(&csv, "time_to_resolution_secs"),
        ["7200", "25200", "", "", "", "14400", ""]
    );
    assert_eq!(
        csv_column(&csv, "vendor_follow_ups"),
        ["1", "0", "0", "0", "0", "0", "0"]
    );
}
