//! `probe report` output: an aligned table with a scorecard block per
//! vendor, JSON (the grouped figures and the scorecards) and CSV (one row
//! per probe with flat columns, for spreadsheets).

use crate::table::columns;
use jiff::Timestamp;

use super::own::OwnSide;
use super::{Report, VendorReport, business_observation, sla_outcome};
use crate::config::Config;
use crate::model::{ProbeRecord, ReadingRow};

/// The report as aligned plain text, calendar and business time labelled.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    match &report.period {
        Some(p) => out.push_str(&format!(
            "Report for {} ({} to {}), read at {}\n",
            p.label, p.from, p.until, report.generated_at
        )),
        None => out.push_str(&format!(
            "Report over every probe in the store, read at {}\n",
            report.generated_at
        )),
    }
    out.push_str(
        "Time to first human reply: Kaplan-Meier over answered and censored probes; \
         CAL = calendar time, BIZ = business time (vendor's opening hours only).\n\n",
    );
    let header = [
        "VENDOR",
        "GROUP",
        "FILED",
        "ANS",
        "PEND",
        "UNANS",
        "UNDELIV",
        "MEDIAN CAL",
        "P90 CAL",
        "MAX CAL",
        "MEDIAN BIZ",
        "P90 BIZ",
        "ACK MEDIAN",
        "<=1H",
        "<=4H",
        "<=24H",
        "SLA",
        "CHANGE",
        "OURS",
        "UNSURE",
    ];
    let mut rows = Vec::new();
    for v in &report.vendors {
        let mut push = |label: String, f: &super::Figures, change: String| {
            let biz = f.business.as_ref();
            rows.push(vec![
                v.vendor.clone(),
                label,
                f.filed.to_string(),
                f.answered.to_string(),
                f.pending.to_string(),
                f.unanswered.to_string(),
                f.undeliverable.to_string(),
                f.calendar.median_text(),
                f.calendar.p90.display(),
                f.calendar.max.display(),
                biz.map_or("-".into(), |b| b.median.display()),
                biz.map_or("-".into(), |b| b.p90.display()),
                f.ack_median.display(),
                f.within.first().map_or("-".into(), |w| w.display()),
                f.within.get(1).map_or("-".into(), |w| w.display()),
                f.within.get(2).map_or("-".into(), |w| w.display()),
                f.sla.display(),
                change,
                // Our failures (not filed, skipped): apart from the vendor's figures.
                (f.not_filed + f.skipped).to_string(),
                // Readings that rest on a classification marked unsure.
                f.unsure.to_string(),
            ]);
        };
        let change = v
            .change
            .as_ref()
            .map_or(String::new(), |c| c.median_display());
        push("all".into(), &v.overall, change);
        if !report.by.is_empty() {
            // Groups of only our failures (never filed, so no window) are
            // counted in OURS and listed below, not shown as vendor rows.
            for g in v.groups.iter().filter(|g| g.figures.filed > 0) {
                push(format!("  {}", g.label()), &g.figures, String::new());
            }
        }
    }
    if rows.is_empty() {
        out.push_str("no probes in this period\n");
    } else {
        out.push_str(&columns(&header, &rows));
    }
    out.push_str(&scorecards(report));
    let list = |out: &mut String, title: &str, lines: &[super::ProbeLine]| {
        if lines.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:\n"));
        for l in lines {
            out.push_str(&format!(
                "  {}  {}  {}  {}{}{}\n",
                l.id,
                l.vendor,
                l.at,
                l.window.map_or("-", |w| w.as_str()),
                l.reason
                    .as_ref()
                    .map_or(String::new(), |r| format!("  ({r})")),
                if l.unsure { "  [unsure]" } else { "" }
            ));
        }
    };
    list(&mut out, "Unanswered", &report.unanswered);
    list(&mut out, "Undeliverable (bounced)", &report.undeliverable);
    list(
        &mut out,
        "Our side, not the vendors': not filed",
        &report.our_side.not_filed,
    );
    list(
        &mut out,
        "Our side: uncertain (resolve with `probe resolve`)",
        &report.our_side.uncertain,
    );
    let unsure: usize = report.vendors.iter().map(|v| v.overall.unsure).sum();
    if unsure > 0 {
        out.push_str(&format!(
            "\n{unsure} reading(s) rest on a classification marked unsure (UNSURE): the figures \
             stand until a person looks; `probe review` lists the messages\n"
        ));
    }
    if report.our_side.skipped > 0 {
        out.push_str(&format!(
            "\nOur side: {} probes skipped (caps, missed while down)\n",
            report.our_side.skipped
        ));
    }
    out
}

/// One scorecard block per vendor: the figure, its value and its n.
fn scorecards(report: &Report) -> String {
    let mut out = String::new();
    for v in &report.vendors {
        out.push_str(&format!(
            "\nScorecard {} (n = probes a figure is taken over; – where none):\n",
            v.vendor
        ));
        out.push_str(&scorecard_block(v, "  "));
    }
    out
}

/// A vendor's scorecard as aligned `figure  value` lines, each indented
/// by `indent` (the report's table and the digest's text part).
pub fn scorecard_block(v: &VendorReport, indent: &str) -> String {
    let rows: Vec<Vec<String>> = v
        .scorecard
        .lines(v.overall.filed, &v.overall.within)
        .into_iter()
        .map(|(k, val)| vec![format!("{indent}{k}"), val])
        .collect();
    // The header line of `columns` is left out: the block has its title.
    let block = columns(&["", ""], &rows);
    block
        .split_once('\n')
        .map_or(String::new(), |(_, rest)| rest.to_string())
}

/// The CSV header: one row per probe.
pub const CSV_HEADER: [&str; 34] = [
    "id",
    "vendor",
    "probe",
    "persona",
    "region",
    "channel",
    "window",
    "priority",
    "state",
    "scheduled_for",
    "filed_at",
    "first_ack_at",
    "first_human_at",
    "answered",
    "observed_secs",
    "business_secs",
    "ack_secs",
    "sla_target_secs",
    "sla",
    "our_side",
    "state_reason",
    "notes",
    "unsure",
    "replied",
    "ack_only",
    "language_match",
    "personal",
    "templated",
    "specific",
    "asks_back",
    "answered_on_first_reply",
    "rounds_to_resolution",
    "time_to_resolution_secs",
    "vendor_follow_ups",
];

/// One row per probe, RFC 4180 quoting, times in UTC (RFC 3339).
/// `observed_secs` is the calendar time to the first human reply when
/// `answered` is true, else the time watched so far (censored); `unsure`
/// is true when the reading rests on a classification marked unsure.
/// The scorecard's columns are each probe's part of it: `replied` (a human
/// reply at any time), `ack_only` (acknowledged, no human reply), the first
/// reply's traits (empty where not judged), and resolution and follow-ups.
pub fn csv(
    probes: &[&ProbeRecord],
    config: Option<&Config>,
    now: Timestamp,
    own: &OwnSide,
) -> String {
    let mut out = String::new();
    out.push_str(&CSV_HEADER.join(","));
    out.push_str("\r\n");
    for p in probes {
        let obs = own.observation(p, now);
        let biz = business_observation(p, config, now, own);
        let ts = |t: Option<Timestamp>| t.map_or(String::new(), |t| t.to_string());
        let row = ReadingRow::of(p);
        let opt_bool = |v: Option<bool>| v.map_or(String::new(), |b| b.to_string());
        let our_side = matches!(
            p.state,
            crate::model::ProbeState::NotFiled | crate::model::ProbeState::Skipped
        );
        let cells = [
            p.id.to_string(),
            p.vendor.clone(),
            p.probe.clone(),
            p.persona.clone(),
            config
                .and_then(|c| c.persona(&p.persona))
                .and_then(|x| x.region.clone())
                .unwrap_or_default(),
            p.channel.clone(),
            p.window.map_or(String::new(), |w| w.as_str().to_string()),
            p.priority.clone().unwrap_or_default(),
            p.state.as_str().to_string(),
            p.scheduled_for.to_string(),
            ts(p.filed_at),
            ts(p.first_ack_at),
            ts(p.first_human_at),
            obs.map_or(String::new(), |o| o.answered.to_string()),
            obs.map_or(String::new(), |o| o.secs.to_string()),
            biz.map_or(String::new(), |o| o.secs.to_string()),
            p.time_to_first_ack()
                .map_or(String::new(), |d| d.as_secs().to_string()),
            p.sla_target_secs.map_or(String::new(), |s| s.to_string()),
            sla_outcome(p, now, own).as_str().to_string(),
            our_side.to_string(),
            p.state_reason.clone().unwrap_or_default(),
            p.notes.join("; "),
            row.unsure.to_string(),
            row.replied.to_string(),
            row.ack_only().to_string(),
            opt_bool(row.language_match),
            opt_bool(row.personal),
            opt_bool(row.templated),
            opt_bool(row.specific),
            opt_bool(row.asks_back),
            opt_bool(row.answered_on_first_reply),
            row.rounds_to_resolution
                .map_or(String::new(), |n| n.to_string()),
            row.time_to_resolution_secs
                .map_or(String::new(), |n| n.to_string()),
            row.vendor_follow_ups.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Quotes a CSV field when needed. A leading `=`, `+`, `-` or `@` gets a
/// `'` in front so a spreadsheet does not run vendor text as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-5"), "-5");
    }
}
