//! The digest's two parts: plain text and HTML with the same content.
//!
//! The HTML is built for mail clients: one centred table at most 640 px
//! wide, inline `style` attributes and table attributes (`bgcolor`,
//! `cellpadding`, `cellspacing`) only, bars drawn as table cells with a
//! background colour, no scripts, no external images, no web fonts; kept
//! short, since Gmail clips an HTML part over about 102 KB (see
//! `view::fragments` for what is set where). It is
//! written with maud from the pieces in `view::fragments` (the status page
//! uses the same ones), so every interpolated value is escaped — reply
//! subjects come from vendors and must never inject markup.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};

use super::Digest;
use crate::report::km::Estimate;
use crate::report::own::Downtime;
use crate::report::render::scorecard_block;
use crate::report::{Figures, ProbeLine, VendorReport};
use crate::store::OutageKind;
use crate::table::columns;
use crate::view::fragments::{self, FONT, SCORECARD_NOTE};

/// What counts, in words; the same in both parts.
pub const METHOD_NOTE: [&str; 9] = [
    "A reply counts as human when the classifier (or a person's relabel) says a person wrote it; acknowledgements, out-of-office replies, surveys and other automated mail never stop the clock.",
    "Times run from our SMTP server's acceptance of the probe to our mail server's receipt of the reply (IMAP INTERNALDATE). Calendar time is wall-clock time; business time counts only the vendor's opening hours.",
    "Unanswered and still-pending probes are censored observations: medians and p90 are Kaplan-Meier estimates over answered and censored probes, and \"> X\" means the estimate lies beyond the longest time watched. Groups under 5 probes are marked \"n < 5\"; larger ones show a 95% interval.",
    "A probe breaches its SLA when answered after the target or still unanswered past it; a pending probe inside its target is not counted yet. Bounced probes and our own failures never count against a vendor.",
    "The scorecard: reply and ack-only rates are over closed probes (answer window over; a human reply after it still counts as a reply); the shares answered within 1h, 4h and 24h are 1 - S(t) off the Kaplan-Meier curve (\"≥\" past the longest time watched); the mean and median among answered leave the unanswered out, as published studies do, and so flatter; each trait is the share of first replies it was judged on; time to resolution is Kaplan-Meier, unresolved tickets censored.",
    "Weeks are ISO weeks (Monday to Sunday) in the reporting zone; times below are in that zone.",
    RANKING_RULE,
    "Who answers when: each vendor's probes of the last 12 weeks by weekday and hour of filing in the reporting zone; a cell's colour is the Kaplan-Meier median of its probes (under 1h, 4h, 24h, or longer; grey when none was answered), lighter under 5 probes, blank when none was filed. The bars and the trend use a log scale from 5 minutes to 7 days.",
    "The trend is the Kaplan-Meier median per ISO week over the last 12 weeks. Gmail and Outlook do not show inline charts, so a table with the same weekly medians and their n follows each chart.",
];

pub use crate::report::views::RANKING_RULE;

fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%a %d %b %H:%M")
        .to_string()
}

fn week_span(d: &Digest) -> String {
    match &d.report.period {
        Some(p) => {
            let last = p.until - jiff::SignedDuration::from_secs(1);
            format!(
                "{} to {} ({})",
                p.from.to_zoned(d.zone.clone()).strftime("%a %d %b %Y"),
                last.to_zoned(d.zone.clone()).strftime("%a %d %b %Y"),
                d.zone_name
            )
        }
        None => d.zone_name.clone(),
    }
}

fn change_text(v: &VendorReport) -> String {
    match &v.change {
        None => "no earlier week to compare".into(),
        Some(c) if c.filed_before == 0 => "no probes the week before".into(),
        Some(c) => {
            let sla = c
                .sla_points
                .map_or("n/a".to_string(), |p| format!("{p:+.0} pts"));
            format!(
                "median {}, SLA {sla} (week before: {} filed)",
                c.median_display(),
                c.filed_before
            )
        }
    }
}

/// The line that says how many of a vendor's readings rest on a
/// classification marked unsure; none when no reading does (so a week
/// without doubt reads as before).
fn unsure_text(v: &VendorReport) -> Option<String> {
    let n = v.overall.unsure;
    (n > 0).then(|| {
        format!(
            "Unsure: {n} of {} reading(s) rest on a classification marked unsure; a person should check them (probe review).",
            v.overall.filed
        )
    })
}

fn row_cells(label: &str, f: &Figures) -> Vec<String> {
    vec![
        label.to_string(),
        f.filed.to_string(),
        f.answered.to_string(),
        (f.pending + f.unanswered).to_string(),
        f.undeliverable.to_string(),
        f.calendar.median_text(),
        f.calendar.p90.display(),
        f.business
            .as_ref()
            .map_or("-".into(), |b| b.median.display()),
        f.sla.display(),
    ]
}

const TABLE_HEADER: [&str; 9] = [
    "WINDOW",
    "FILED",
    "ANSWERED",
    "NO REPLY",
    "BOUNCED",
    "MEDIAN (calendar)",
    "P90 (calendar)",
    "MEDIAN (business)",
    "SLA MET",
];

/// A bar's length on the log scale, in percent (0 when nothing was filed).
fn bar_percent(e: &Estimate) -> u32 {
    match e {
        Estimate::Exactly(s) | Estimate::MoreThan(s) => {
            ((fragments::log_position(*s) * 100.0).round() as u32).clamp(1, 100)
        }
        Estimate::None => 0,
    }
}

fn estimate_label(e: &Estimate) -> String {
    match e {
        Estimate::None => "no probes".into(),
        other => other.display(),
    }
}

/// The plain-text part.
pub fn text(d: &Digest) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", d.subject);
    let _ = writeln!(o, "Week {}: {}", d.week, week_span(d));
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", capitalize(&d.headline));
    let _ = writeln!(o);
    text_ranking(&mut o, d);
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "MEDIAN FIRST HUMAN REPLY, IN VS OUT OF BUSINESS HOURS (calendar time, log scale 5m to 7d)"
    );
    let width = 30.0;
    let name_w = d
        .report
        .vendors
        .iter()
        .map(|v| v.vendor.chars().count())
        .max()
        .unwrap_or(0);
    for v in crate::report::views::in_rank_order(&d.report, &d.ranking) {
        for (i, (label, e)) in [
            ("in ", &v.median_business_hours),
            ("out", &v.median_outside_hours),
        ]
        .into_iter()
        .enumerate()
        {
            let pct = bar_percent(e);
            // A value too small to show still gets one mark.
            let n = ((f64::from(pct) / 100.0 * width).round() as usize).max(usize::from(pct > 0));
            let name = if i == 0 { v.vendor.as_str() } else { "" };
            let more = if matches!(e, Estimate::MoreThan(_)) {
                ">"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "  {name:<name_w$}  {label}  {:<31}  {}",
                format!("{}{more}", "#".repeat(n)),
                estimate_label(e)
            );
        }
    }
    if d.report.vendors.is_empty() {
        let _ = writeln!(o, "  no probes were filed this week");
    }
    for v in &d.report.vendors {
        let _ = writeln!(o);
        let _ = writeln!(o, "== {} ==", v.vendor);
        let mut rows = vec![row_cells("all", &v.overall)];
        // Windows with nothing filed (only our failures) are left out:
        // those probes are listed under "our side".
        for g in v.groups.iter().filter(|g| g.figures.filed > 0) {
            rows.push(row_cells(&g.label(), &g.figures));
        }
        o.push_str(&columns(&TABLE_HEADER, &rows));
        let _ = writeln!(o, "Change from last week: {}", change_text(v));
        if let Some(line) = unsure_text(v) {
            let _ = writeln!(o, "{line}");
        }
        if v.overall.acknowledged > 0 {
            let _ = writeln!(
                o,
                "Acknowledged: {} of {}, median {}",
                v.overall.acknowledged,
                v.overall.filed,
                v.overall.ack_median.display()
            );
        }
        let _ = writeln!(o, "Scorecard ({SCORECARD_NOTE}):");
        o.push_str(&scorecard_block(v, "  "));
    }
    let _ = writeln!(o);
    text_coverage(&mut o, d);
    let _ = writeln!(o);
    text_trend(&mut o, d);
    let _ = writeln!(o);
    let _ = writeln!(o, "UNANSWERED AND UNDELIVERABLE PROBES");
    let listed: Vec<&ProbeLine> = d
        .report
        .unanswered
        .iter()
        .chain(&d.report.undeliverable)
        .collect();
    if listed.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for l in listed {
        let _ = writeln!(
            o,
            "  {}  {}  {}{}  filed {}  {}{}",
            l.id,
            l.vendor,
            l.state,
            if l.unsure { " (unsure)" } else { "" },
            local(l.at, &d.zone),
            l.window.map_or("-", |w| w.as_str()),
            l.last_reply_subject
                .as_ref()
                .map_or(String::new(), |s| format!("  last reply: {s:?}"))
        );
    }
    let _ = writeln!(o);
    text_our_side(&mut o, d);
    let _ = writeln!(o);
    let _ = writeln!(o, "HOW TO READ THIS");
    for line in METHOD_NOTE {
        let _ = writeln!(o, "- {line}");
    }
    let _ = writeln!(
        o,
        "\nRead at {} ({}). Sent by support-probe.",
        local(d.report.generated_at, &d.zone),
        d.zone_name
    );
    o
}

/// The ranking as a numbered list.
fn text_ranking(o: &mut String, d: &Digest) {
    let _ = writeln!(
        o,
        "RANKING (median first human reply this week, fastest first)"
    );
    if d.ranking.is_empty() {
        let _ = writeln!(o, "  no probes were filed this week");
    }
    for r in &d.ranking {
        let _ = writeln!(
            o,
            "  {}. {}: {}{}, {} of {} answered{}",
            r.place,
            r.vendor,
            match r.median {
                Estimate::None => "no reading".to_string(),
                m => format!("median {}", m.display()),
            },
            if r.n < 5 && r.median != Estimate::None {
                " (n < 5)"
            } else {
                ""
            },
            r.answered,
            r.filed,
            r.reply_rate.map_or(String::new(), |x| format!(
                " ({})",
                crate::report::scorecard::percent(x)
            ))
        );
    }
}

/// The heatmaps in words: the median by part of the week, and the hours
/// never answered.
fn text_coverage(o: &mut String, d: &Digest) {
    let _ = writeln!(
        o,
        "WHO ANSWERS WHEN (probes filed {} to {}, by hour of filing, {})",
        d.reach.0, d.reach.1, d.zone_name
    );
    for v in &d.views {
        let parts: Vec<String> = v
            .bands
            .iter()
            .filter(|b| b.filed > 0)
            .map(|b| {
                format!(
                    "{} {} ({} of {} answered)",
                    b.band.label(),
                    b.median.display(),
                    b.answered,
                    b.filed
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "  {}: {}.",
            v.vendor,
            if parts.is_empty() {
                "nothing filed".to_string()
            } else {
                parts.join("; ")
            }
        );
        if let Some(s) = v.silent {
            let _ = writeln!(
                o,
                "    never answered when filed between {:02}:00 and {:02}:00 ({} probe{}).",
                s.from,
                s.until,
                s.filed,
                if s.filed == 1 { "" } else { "s" }
            );
        }
    }
}

/// The trend in words: the first and the last week with a figure.
fn text_trend(o: &mut String, d: &Digest) {
    let _ = writeln!(
        o,
        "TREND (median first human reply per ISO week, {} to {})",
        d.reach.0, d.reach.1
    );
    for v in &d.views {
        let _ = writeln!(o, "  {}: {}", v.vendor, trend_words(&v.trend));
    }
}

/// `2026-W36 2h 0m (n = 5) to 2026-W47 45m 0s (n = 7): better`.
pub fn trend_words(points: &[crate::report::views::TrendPoint]) -> String {
    let with: Vec<_> = points
        .iter()
        .filter(|p| p.median != Estimate::None)
        .collect();
    let (Some(first), Some(last)) = (with.first(), with.last()) else {
        return "no probes in these weeks.".into();
    };
    if with.len() < 2 {
        return format!(
            "only {} has probes: median {} (n = {}).",
            last.week,
            last.median.display(),
            last.n
        );
    }
    let verdict = match (first.median, last.median) {
        (Estimate::Exactly(a), Estimate::Exactly(b)) => {
            let ratio = b.max(1) as f64 / a.max(1) as f64;
            if ratio <= 0.9 {
                "better"
            } else if ratio >= 1.1 {
                "worse"
            } else {
                "flat"
            }
        }
        (Estimate::Exactly(_), _) => "worse (the last median lies beyond the time watched)",
        (_, Estimate::Exactly(_)) => "better (the first median lay beyond the time watched)",
        _ => "no median either week",
    };
    format!(
        "{} {} (n = {}) to {} {} (n = {}): {verdict}.",
        first.week,
        first.median.display(),
        first.n,
        last.week,
        last.median.display(),
        last.n
    )
}

/// "Our side": failures of ours, never the vendors'. Today not-filed,
/// uncertain and skipped probes; our own outages belong here too.
fn text_our_side(o: &mut String, d: &Digest) {
    let ours = &d.report.our_side;
    let _ = writeln!(o, "OUR SIDE (never counted against a vendor)");
    if ours.not_filed.is_empty()
        && ours.uncertain.is_empty()
        && ours.skipped == 0
        && d.downtime.is_empty()
    {
        let _ = writeln!(o, "  nothing went wrong on our side");
    }
    for t in &d.downtime {
        let _ = writeln!(
            o,
            "  down       {} ({}, persona {})  {}  last: {}",
            downtime_what(t),
            t.endpoint,
            t.persona,
            downtime_span(t),
            t.last_reason
        );
    }
    for l in &ours.not_filed {
        let _ = writeln!(
            o,
            "  not filed  {}  {}  due {}  {}",
            l.id,
            l.vendor,
            local(l.at, &d.zone),
            l.reason.as_deref().unwrap_or("")
        );
    }
    for l in &ours.uncertain {
        let _ = writeln!(
            o,
            "  uncertain  {}  {}  {}  (run probe resolve)",
            l.id,
            l.vendor,
            local(l.at, &d.zone)
        );
    }
    if ours.skipped > 0 {
        let _ = writeln!(o, "  skipped    {} (caps, missed while down)", ours.skipped);
    }
}

/// What was down, in words.
fn downtime_what(t: &Downtime) -> &'static str {
    match t.kind {
        OutageKind::Send => "sending probes",
        OutageKind::Watch => "reading replies",
    }
}

/// How long, in how many outages, and whether it still is.
fn downtime_span(t: &Downtime) -> String {
    format!(
        "{} in {} outage{}{}",
        crate::duration::human(jiff::SignedDuration::from_secs(t.secs)),
        t.outages,
        if t.outages == 1 { "" } else { "s" },
        if t.ongoing { ", still down" } else { "" }
    )
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One row of the digest's single-column layout.
fn row(id: Option<&str>, padding: &str, body: Markup) -> Markup {
    html! {
        tr { td id=[id] style={ "padding:" (padding) ";" (FONT) "color:#1f2933;" } { (body) } }
    }
}

/// A section: a heading, an optional caption, then its body.
fn section(id: Option<&str>, heading: &str, note: Option<&str>, body: Markup) -> Markup {
    row(
        id,
        "18px 16px 6px 16px",
        html! {
            (fragments::title(heading))
            @if let Some(n) = note { (fragments::caption(n)) }
            (body)
        },
    )
}

fn reach_caption(d: &Digest) -> String {
    format!(
        "The last {} weeks, {} to {} (ending with this digest's week), by the hour and weekday each probe was filed, in {}. The ranking and bars above and the scorecards below are this week's.",
        super::TREND_WEEKS,
        d.reach.0,
        d.reach.1,
        d.zone_name
    )
}

/// The HTML part.
pub fn html(d: &Digest) -> String {
    let vendors = crate::report::views::in_rank_order(&d.report, &d.ranking);
    let page = fragments::document(
        &d.subject,
        "margin:0;padding:0;background:#f4f5f7;",
        html! {
            table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;" {
                tr { td align="center" style="padding:16px 6px;" {
                    table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style={ "width:100%;max-width:640px;table-layout:fixed;background:#ffffff;border:1px solid #dde1e6;" (FONT) "color:#1f2933;" } {
                        (row(None, "18px 16px 4px 16px", html! {
                            div style={ (FONT) "font-size:12px;color:#616e7c;text-transform:uppercase;letter-spacing:1px;" } {
                                "Vendor support digest · week " (d.week) " · " (week_span(d))
                            }
                        }))
                        (row(None, "4px 16px 8px 16px", html! {
                            div style={ (FONT) "font-size:22px;font-weight:bold;line-height:1.3;" } { (capitalize(&d.headline)) }
                        }))
                        (section(Some("ranking"), "Ranking: median first human reply this week",
                            Some(RANKING_RULE),
                            html! {
                                @if d.ranking.is_empty() {
                                    (fragments::caption("No probes were filed this week."))
                                } @else {
                                    (fragments::ranking(&d.ranking))
                                }
                            }))
                        (section(None, "Median first human reply, in vs out of business hours (calendar time)", None,
                            html! {
                                @if vendors.is_empty() {
                                    (fragments::caption("No probes were filed this week."))
                                } @else {
                                    (fragments::log_bars(&vendors))
                                }
                            }))
                        // The coverage before the vendors' tables: when Gmail
                        // clips a long digest, the ranking and heatmaps stay
                        // in the part it shows.
                        (section(Some("coverage"), "Who answers when: median first human reply by hour of filing",
                            Some(&reach_caption(d)),
                            html! {
                                (fragments::heatmap_legend())
                                @for v in &d.views { (fragments::heatmap(&v.coverage)) }
                                @if d.views.is_empty() { (fragments::caption("Nothing to show.")) }
                            }))
                        @for v in &vendors { (html_vendor(v)) }
                        (section(Some("trend"), "Trend: median first human reply per week",
                            Some(&format!("Kaplan–Meier median per ISO week, {} to {}, log scale; a hollow point rests on fewer than 5 probes, a triangle is a lower bound. The table below the chart holds the same figures (some mail clients do not show charts).", d.reach.0, d.reach.1)),
                            html! {
                                @for v in &d.views {
                                    div style={ (FONT) "font-size:13px;font-weight:bold;margin:10px 0 2px 0;word-break:break-word;" } { (v.vendor) }
                                    (fragments::trend_chart(&v.trend))
                                    (fragments::trend_table(&v.trend))
                                }
                                @if d.views.is_empty() { (fragments::caption("Nothing to show.")) }
                            }))
                        (html_lists(d))
                        (html_our_side(d))
                        (section(None, "How to read this", None, html! {
                            @for line in METHOD_NOTE {
                                p style={ "margin:0 0 6px 0;" (FONT) "font-size:12px;line-height:1.5;color:#52606d;" } { (line) }
                            }
                        }))
                        (row(None, "8px 16px 18px 16px", html! {
                            div style={ (FONT) "font-size:11px;color:#9aa5b1;" } {
                                "Read at " (local(d.report.generated_at, &d.zone)) " (" (d.zone_name) "). Sent by support-probe."
                            }
                        }))
                    }
                } }
            }
        },
    );
    let mut out = page.into_string();
    out.push('\n');
    out
}

fn html_vendor(v: &VendorReport) -> Markup {
    let mut rows = vec![row_cells("all", &v.overall)];
    for g in v.groups.iter().filter(|g| g.figures.filed > 0) {
        rows.push(row_cells(&g.label(), &g.figures));
    }
    let mut notes = format!("Change from last week: {}", change_text(v));
    if let Some(line) = unsure_text(v) {
        notes.push_str(". ");
        notes.push_str(line.trim_end_matches('.'));
    }
    if v.overall.acknowledged > 0 {
        notes.push_str(&format!(
            ". Acknowledged: {} of {}, median {}",
            v.overall.acknowledged,
            v.overall.filed,
            v.overall.ack_median.display()
        ));
    }
    section(
        None,
        &v.vendor,
        None,
        html! {
            div style="overflow-x:auto;" { (fragments::table(&TABLE_HEADER, &rows, true)) }
            (fragments::caption(&notes))
            (fragments::scorecard(v))
        },
    )
}

fn html_lists(d: &Digest) -> Markup {
    let rows: Vec<Vec<String>> = d
        .report
        .unanswered
        .iter()
        .chain(&d.report.undeliverable)
        .map(|l| {
            vec![
                l.id.clone(),
                l.vendor.clone(),
                if l.unsure {
                    format!("{} (unsure)", l.state)
                } else {
                    l.state.to_string()
                },
                local(l.at, &d.zone),
                l.window.map_or("-", |w| w.as_str()).to_string(),
                l.last_reply_subject.clone().unwrap_or_default(),
            ]
        })
        .collect();
    section(
        None,
        "Unanswered and undeliverable probes",
        None,
        html! {
            @if rows.is_empty() {
                (fragments::caption("None this week."))
            } @else {
                div style="overflow-x:auto;" {
                    (fragments::table(&["PROBE", "VENDOR", "STATE", "FILED", "WINDOW", "LAST REPLY SUBJECT"], &rows, false))
                }
            }
        },
    )
}

/// "Our side": failures of ours, never the vendors'. Today not-filed,
/// uncertain and skipped probes; our own outages belong here too.
fn html_our_side(d: &Digest) -> Markup {
    let ours = &d.report.our_side;
    let mut rows: Vec<Vec<String>> = ours
        .not_filed
        .iter()
        .map(|l| {
            vec![
                "not filed".into(),
                l.id.clone(),
                l.vendor.clone(),
                local(l.at, &d.zone),
                l.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows.extend(ours.uncertain.iter().map(|l| {
        vec![
            "uncertain".into(),
            l.id.clone(),
            l.vendor.clone(),
            local(l.at, &d.zone),
            "run probe resolve".into(),
        ]
    }));
    let down: Vec<Vec<String>> = d
        .downtime
        .iter()
        .map(|t| {
            vec![
                downtime_what(t).to_string(),
                t.persona.clone(),
                t.endpoint.clone(),
                downtime_span(t),
                t.last_reason.clone(),
            ]
        })
        .collect();
    section(
        None,
        "Our side (never counted against a vendor)",
        None,
        html! {
            @if rows.is_empty() && ours.skipped == 0 && down.is_empty() {
                (fragments::caption("Nothing went wrong on our side."))
            }
            @if !down.is_empty() {
                div style="overflow-x:auto;" {
                    (fragments::table(&["OUR OUTAGE", "PERSONA", "ENDPOINT", "DOWN", "LAST REASON"], &down, false))
                }
            }
            @if !rows.is_empty() {
                div style="overflow-x:auto;" {
                    (fragments::table(&["WHAT", "PROBE", "VENDOR", "DUE", "WHY"], &rows, false))
                }
            }
            @if ours.skipped > 0 {
                (fragments::caption(&format!("{} probes skipped (caps, missed while down).", ours.skipped)))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::views::TrendPoint;

    fn point(week: i8, median: Estimate, n: usize) -> TrendPoint {
        TrendPoint {
            week: crate::report::IsoWeek { year: 2026, week },
            median,
            n,
            small: n < 5,
        }
    }

    #[test]
    fn the_trend_in_words_compares_the_first_and_last_weeks_with_a_median() {
        let none = point(36, Estimate::None, 0);
        let t = [
            none.clone(),
            point(37, Estimate::Exactly(7200), 6),
            point(40, Estimate::None, 0),
            point(47, Estimate::Exactly(2700), 7),
        ];
        assert_eq!(
            trend_words(&t),
            "2026-W37 2h 0m (n = 6) to 2026-W47 45m 0s (n = 7): better."
        );
        let flat = [
            point(37, Estimate::Exactly(3600), 5),
            point(38, Estimate::Exactly(3900), 5),
        ];
        assert!(trend_words(&flat).ends_with(": flat."));
        let worse = [
            point(37, Estimate::Exactly(3600), 5),
            point(38, Estimate::MoreThan(259_200), 5),
        ];
        assert!(
            trend_words(&worse)
                .ends_with(": worse (the last median lies beyond the time watched).")
        );
        assert_eq!(
            trend_words(std::slice::from_ref(&none)),
            "no probes in these weeks."
        );
        assert_eq!(
            trend_words(&[none, point(47, Estimate::Exactly(600), 2)]),
            "only 2026-W47 has probes: median 10m 0s (n = 2)."
        );
    }

    #[test]
    fn text_bars_sit_on_the_log_scale() {
        assert_eq!(bar_percent(&Estimate::None), 0);
        assert_eq!(bar_percent(&Estimate::Exactly(60)), 1);
        assert_eq!(bar_percent(&Estimate::Exactly(3600)), 33);
        assert_eq!(bar_percent(&Estimate::MoreThan(30 * 86400)), 100);
    }
}
