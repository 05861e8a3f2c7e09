//! The digest's two parts: plain text and HTML with the same content.
//!
//! The HTML is built for mail clients: one centred table, inline `style`
//! attributes only, bars drawn as table cells with a background colour, no
//! scripts, no external images, no web fonts. Every piece of text that is
//! not a literal of this file goes through [`escape`] — reply subjects
//! come from vendors and must never inject markup.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Digest;
use crate::readings::own::Downtime;
use crate::report::km::Estimate;
use crate::report::render::{columns, scorecard_block};
use crate::report::{Figures, ProbeLine, VendorReport};
use crate::store::OutageKind;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What counts, in words; the same in both parts.
pub const METHOD_NOTE: [&str; 6] = [
    "A reply counts as human when the classifier (or a person's relabel) says a person wrote it; acknowledgements, out-of-office replies, surveys and other automated mail never stop the clock.",
    "Times run from our SMTP server's acceptance of the probe to our mail server's receipt of the reply (IMAP INTERNALDATE). Calendar time is wall-clock time; business time counts only the vendor's opening hours.",
    "Unanswered and still-pending probes are censored observations: medians and p90 are Kaplan-Meier estimates over answered and censored probes, and \"> X\" means the estimate lies beyond the longest time watched. Groups under 5 probes are marked \"n < 5\"; larger ones show a 95% interval.",
    "A probe breaches its SLA when answered after the target or still unanswered past it; a pending probe inside its target is not counted yet. Bounced probes and our own failures never count against a vendor.",
    "The scorecard: reply and ack-only rates are over closed probes (answer window over; a human reply after it still counts as a reply); the shares answered within 1h, 4h and 24h are 1 - S(t) off the Kaplan-Meier curve (\"≥\" past the longest time watched); the mean and median among answered leave the unanswered out, as published studies do, and so flatter; each trait is the share of first replies it was judged on; time to resolution is Kaplan-Meier, unresolved tickets censored.",
    "Weeks are ISO weeks (Monday to Sunday) in the reporting zone; times below are in that zone.",
];

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

/// The chart's scale: the longest value shown, in seconds.
fn scale(d: &Digest) -> i64 {
    d.report
        .vendors
        .iter()
        .flat_map(|v| [v.median_business_hours, v.median_outside_hours])
        .filter_map(|e| match e {
            Estimate::Exactly(s) | Estimate::MoreThan(s) => Some(s),
            Estimate::None => None,
        })
        .max()
        .unwrap_or(0)
        .max(1)
}

fn bar_percent(e: &Estimate, scale: i64) -> u32 {
    match e {
        Estimate::Exactly(s) | Estimate::MoreThan(s) => {
            let pct = (*s as f64 / scale as f64 * 100.0).round() as u32;
            pct.clamp(1, 100)
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
    let _ = writeln!(
        o,
        "MEDIAN FIRST HUMAN REPLY, IN VS OUT OF BUSINESS HOURS (calendar time)"
    );
    let scale = scale(d);
    let width = 30.0;
    let name_w = d
        .report
        .vendors
        .iter()
        .map(|v| v.vendor.chars().count())
        .max()
        .unwrap_or(0);
    for v in &d.report.vendors {
        for (i, (label, e)) in [
            ("in ", &v.median_business_hours),
            ("out", &v.median_outside_hours),
        ]
        .into_iter()
        .enumerate()
        {
            let pct = bar_percent(e, scale);
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
        crate::engine::human(jiff::SignedDuration::from_secs(t.secs)),
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

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;";
const CELL: &str = "padding:4px 8px;border-bottom:1px solid #e4e7eb;font-size:13px;";
const HEAD: &str =
    "padding:4px 8px;border-bottom:2px solid #9aa5b1;font-size:12px;text-align:left;color:#52606d;";
const IN_COLOUR: &str = "#2f6fde";
const OUT_COLOUR: &str = "#e8833a";

fn section_title(o: &mut String, title: &str) {
    let _ = write!(
        o,
        "<tr><td style=\"padding:20px 24px 6px 24px;{FONT}font-size:16px;font-weight:bold;color:#1f2933;\">{}</td></tr>",
        escape(title)
    );
}

/// The HTML part.
pub fn html(d: &Digest) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f4f5f7;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"background:#f4f5f7;\"><tr><td align=\"center\" style=\"padding:24px 8px;\">\n\
         <table role=\"presentation\" width=\"720\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"width:720px;max-width:100%;background:#ffffff;border:1px solid #dde1e6;{FONT}color:#1f2933;\">",
        escape(&d.subject)
    );
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:20px 24px 4px 24px;{FONT}font-size:12px;color:#616e7c;text-transform:uppercase;letter-spacing:1px;\">Vendor support digest &middot; week {} &middot; {}</td></tr>",
        escape(&d.week.to_string()),
        escape(&week_span(d))
    );
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:4px 24px 8px 24px;{FONT}font-size:22px;font-weight:bold;line-height:1.3;\">{}</td></tr>",
        escape(&capitalize(&d.headline))
    );
    html_chart(&mut o, d);
    for v in &d.report.vendors {
        html_vendor(&mut o, v);
    }
    html_lists(&mut o, d);
    html_our_side(&mut o, d);
    section_title(&mut o, "How to read this");
    o.push_str("<tr><td style=\"padding:0 24px 8px 24px;\">");
    for line in METHOD_NOTE {
        let _ = write!(
            o,
            "<p style=\"margin:0 0 6px 0;{FONT}font-size:12px;line-height:1.5;color:#52606d;\">{}</p>",
            escape(line)
        );
    }
    o.push_str("</td></tr>\n");
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:8px 24px 20px 24px;{FONT}font-size:11px;color:#9aa5b1;\">Read at {} ({}). Sent by support-probe.</td></tr>",
        escape(&local(d.report.generated_at, &d.zone)),
        escape(&d.zone_name)
    );
    o.push_str("</table>\n</td></tr></table>\n</body></html>\n");
    o
}

fn html_chart(o: &mut String, d: &Digest) {
    section_title(
        o,
        "Median first human reply, in vs out of business hours (calendar time)",
    );
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:0 24px 4px 24px;{FONT}font-size:12px;color:#52606d;\">\
         <span style=\"display:inline-block;width:10px;height:10px;background:{IN_COLOUR};\"></span> filed in business hours &nbsp; \
         <span style=\"display:inline-block;width:10px;height:10px;background:{OUT_COLOUR};\"></span> filed outside (off-hours, weekend, holiday) &nbsp; \
         a bar ending in &rsaquo; is a lower bound (&gt; X)</td></tr>"
    );
    o.push_str("<tr><td style=\"padding:4px 24px 8px 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">\n");
    if d.report.vendors.is_empty() {
        let _ = write!(
            o,
            "<tr><td style=\"{FONT}font-size:13px;color:#52606d;\">No probes were filed this week.</td></tr>"
        );
    }
    let scale = scale(d);
    for v in &d.report.vendors {
        for (i, (e, colour)) in [
            (&v.median_business_hours, IN_COLOUR),
            (&v.median_outside_hours, OUT_COLOUR),
        ]
        .into_iter()
        .enumerate()
        {
            let name = if i == 0 {
                escape(&v.vendor)
            } else {
                String::new()
            };
            let pct = bar_percent(e, scale);
            let more = matches!(e, Estimate::MoreThan(_));
            let bar = if pct == 0 {
                "<td style=\"font-size:1px;line-height:1px;\">&nbsp;</td>".to_string()
            } else {
                format!(
                    "<td width=\"{pct}%\" style=\"width:{pct}%;background:{colour};height:14px;font-size:1px;line-height:1px;\">&nbsp;</td>{}<td style=\"font-size:1px;line-height:1px;\">&nbsp;</td>",
                    if more {
                        format!(
                            "<td width=\"10\" style=\"width:10px;color:{colour};{FONT}font-size:14px;line-height:14px;font-weight:bold;\">&rsaquo;</td>"
                        )
                    } else {
                        String::new()
                    }
                )
            };
            let _ = writeln!(
                o,
                "<tr><td width=\"150\" style=\"width:150px;padding:3px 8px 3px 0;{FONT}font-size:13px;font-weight:bold;\">{name}</td>\
                 <td style=\"padding:3px 0;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>{bar}</tr></table></td>\
                 <td width=\"110\" style=\"width:110px;padding:3px 0 3px 8px;{FONT}font-size:13px;white-space:nowrap;\">{}</td></tr>",
                escape(&estimate_label(e))
            );
        }
    }
    o.push_str("</table></td></tr>\n");
}

fn html_vendor(o: &mut String, v: &VendorReport) {
    section_title(o, &v.vendor);
    o.push_str("<tr><td style=\"padding:0 24px 4px 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\">\n<tr>");
    for h in TABLE_HEADER {
        let _ = write!(o, "<th style=\"{HEAD}{FONT}\">{}</th>", escape(h));
    }
    o.push_str("</tr>\n");
    let mut rows = vec![row_cells("all", &v.overall)];
    for g in v.groups.iter().filter(|g| g.figures.filed > 0) {
        rows.push(row_cells(&g.label(), &g.figures));
    }
    for (i, row) in rows.iter().enumerate() {
        let weight = if i == 0 { "font-weight:bold;" } else { "" };
        o.push_str("<tr>");
        for cell in row {
            let _ = write!(
                o,
                "<td style=\"{CELL}{FONT}{weight}\">{}</td>",
                escape(cell)
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></td></tr>\n");
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
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:2px 24px 8px 24px;{FONT}font-size:12px;color:#52606d;\">{}</td></tr>",
        escape(&notes)
    );
    html_scorecard(o, v);
}

/// The scorecard's title note: what n means.
const SCORECARD_NOTE: &str = "n = probes a figure is taken over; – where none";

fn html_scorecard(o: &mut String, v: &VendorReport) {
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:4px 24px 2px 24px;{FONT}font-size:13px;font-weight:bold;color:#1f2933;\">Scorecard <span style=\"font-weight:normal;color:#52606d;\">({})</span></td></tr>",
        escape(SCORECARD_NOTE)
    );
    o.push_str("<tr><td style=\"padding:0 24px 8px 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\">\n");
    for (figure, value) in v.scorecard.lines(v.overall.filed, &v.overall.within) {
        let _ = writeln!(
            o,
            "<tr><td style=\"{CELL}{FONT}color:#52606d;\">{}</td><td style=\"{CELL}{FONT}\">{}</td></tr>",
            escape(figure),
            escape(&value)
        );
    }
    o.push_str("</table></td></tr>\n");
}

fn html_probe_table(o: &mut String, header: &[&str], rows: &[Vec<String>]) {
    o.push_str("<tr><td style=\"padding:0 24px 8px 24px;\"><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;\">\n<tr>");
    for h in header {
        let _ = write!(o, "<th style=\"{HEAD}{FONT}\">{}</th>", escape(h));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for cell in row {
            let _ = write!(o, "<td style=\"{CELL}{FONT}\">{}</td>", escape(cell));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></td></tr>\n");
}

fn html_note(o: &mut String, text: &str) {
    let _ = writeln!(
        o,
        "<tr><td style=\"padding:0 24px 8px 24px;{FONT}font-size:13px;color:#52606d;\">{}</td></tr>",
        escape(text)
    );
}

fn html_lists(o: &mut String, d: &Digest) {
    section_title(o, "Unanswered and undeliverable probes");
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
    if rows.is_empty() {
        html_note(o, "None this week.");
    } else {
        html_probe_table(
            o,
            &[
                "PROBE",
                "VENDOR",
                "STATE",
                "FILED",
                "WINDOW",
                "LAST REPLY SUBJECT",
            ],
            &rows,
        );
    }
}

/// "Our side": failures of ours, never the vendors'. Today not-filed,
/// uncertain and skipped probes; our own outages belong here too.
fn html_our_side(o: &mut String, d: &Digest) {
    section_title(o, "Our side (never counted against a vendor)");
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
    if rows.is_empty() && ours.skipped == 0 && d.downtime.is_empty() {
        html_note(o, "Nothing went wrong on our side.");
    }
    if !d.downtime.is_empty() {
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
        html_probe_table(
            o,
            &["OUR OUTAGE", "PERSONA", "ENDPOINT", "DOWN", "LAST REASON"],
            &down,
        );
    }
    if !rows.is_empty() {
        html_probe_table(o, &["WHAT", "PROBE", "VENDOR", "DUE", "WHY"], &rows);
    }
    if ours.skipped > 0 {
        html_note(
            o,
            &format!("{} probes skipped (caps, missed while down).", ours.skipped),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<b onclick='x'>\"&\"</b>"),
            "&lt;b onclick=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/b&gt;"
        );
    }
}
