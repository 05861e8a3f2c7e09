//! HTML pieces the digest and the status page share, built with maud, which
//! escapes every interpolated value: a vendor name or a reply subject can
//! never become markup.
//!
//! Everything is laid out for mail clients as much as for browsers: tables,
//! inline `style` attributes, no classes, no scripts, no external images.
//! Gmail and Outlook desktop drop inline SVG, so the trend comes as an SVG
//! chart *and* a table of the same weekly medians.
//!
//! Size matters as much: Gmail clips an HTML part over about 102 KB behind
//! "View entire message", so markup repeated per cell is kept short.
//!
//! - The font: Outlook desktop (Word's engine) does not carry a table's or
//!   a parent cell's font into the cells of a table, so every cell with
//!   words people read (ranking, vendor tables, scorecards, lists, the
//!   heatmap's labels) names it itself, as one `font` shorthand
//!   ([`CELL`], [`HEAD`]) with the short stack `Arial,sans-serif`. Where
//!   the cells hold only short figures (the trend's table) or nothing (the
//!   heatmap's coloured cells) the font is set once on the table: an
//!   Outlook that ignores it shows those figures in its own font.
//! - Padding comes from `cellpadding`, colour of heatmap cells from
//!   `bgcolor`, the heatmap's grid from `cellspacing`: attributes every
//!   client honours, written once per table instead of once per cell.
//! - The SVG chart sets shared attributes once on a `<g>` and uses whole
//!   pixels.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::report::VendorReport;
use crate::report::km::Estimate;
use crate::report::views::{Cell, Coverage, DAYS, Rank, TrendPoint};

/// The font stack every text cell uses.
pub const FONT: &str = "font-family:Arial,sans-serif;";
/// A table body cell: font and size in one `font` shorthand, on the cell
/// itself because Outlook does not carry a table's font into its cells;
/// the padding is the table's `cellpadding`.
pub const CELL: &str = "border-bottom:1px solid #e4e7eb;font:13px Arial,sans-serif;";
/// A table header cell (left-aligned by its `align`).
pub const HEAD: &str = "border-bottom:2px solid #9aa5b1;font:11px Arial,sans-serif;color:#52606d;";
/// Bars of probes filed in business hours.
pub const IN_COLOUR: &str = "#2f6fde";
/// Bars of probes filed outside business hours.
pub const OUT_COLOUR: &str = "#e8833a";

/// The log scale's ends: 5 minutes and 7 days, in seconds.
const SCALE_LOW: f64 = 300.0;
const SCALE_HIGH: f64 = 7.0 * 86400.0;

/// Where `secs` sits on the log scale, 0.0 (≤ 5 min) to 1.0 (≥ 7 days).
pub fn log_position(secs: i64) -> f64 {
    let s = (secs as f64).clamp(SCALE_LOW, SCALE_HIGH);
    (s / SCALE_LOW).ln() / (SCALE_HIGH / SCALE_LOW).ln()
}

/// The log scale's ticks: label and seconds.
const TICKS: [(&str, i64); 5] = [
    ("5m", 300),
    ("1h", 3600),
    ("4h", 4 * 3600),
    ("24h", 86400),
    ("7d", 7 * 86400),
];

/// A compact duration for narrow cells: `35m`, `2.5h`, `13h`, `3d`, `>3d`.
pub fn short(e: &Estimate) -> String {
    let compact = |s: i64| {
        let m = s / 60;
        if m < 60 {
            format!("{}m", m.max(1))
        } else if s < 10 * 3600 {
            format!("{:.1}h", s as f64 / 3600.0)
        } else if s < 48 * 3600 {
            format!("{}h", s / 3600)
        } else {
            format!("{}d", s / 86400)
        }
    };
    match e {
        Estimate::None => "–".into(),
        Estimate::Exactly(s) => compact(*s),
        Estimate::MoreThan(s) => format!(">{}", compact(*s)),
    }
}

/// A section's heading.
pub fn title(text: &str) -> Markup {
    html! {
        div style={ (FONT) "font-size:16px;font-weight:bold;color:#1f2933;margin:0 0 6px 0;" } { (text) }
    }
}

/// A caption under a heading.
pub fn caption(text: &str) -> Markup {
    html! {
        div style={ (FONT) "font-size:12px;line-height:1.4;color:#52606d;margin:0 0 6px 0;" } { (text) }
    }
}

/// A ranked median in words: `16m 6s`, `> 3d 0h`, or `no reading` when
/// no probe entered the figures (all bounced or ours).
pub fn rank_median(e: &Estimate) -> String {
    match e {
        Estimate::None => "no reading".into(),
        other => other.display(),
    }
}

/// The ranking: place, vendor, median, n, answered.
pub fn ranking(ranks: &[Rank]) -> Markup {
    html! {
        table role="presentation" width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;" {
            tr {
                th align="left" style=(HEAD) { "#" }
                th align="left" style=(HEAD) { "VENDOR" }
                th align="left" style=(HEAD) { "MEDIAN" }
                th align="left" style=(HEAD) { "ANSWERED" }
            }
            @for r in ranks {
                tr {
                    td style={ (CELL) "font-weight:bold;" } { (r.place) }
                    td style={ (CELL) "font-weight:bold;word-break:break-word;" } { (r.vendor) }
                    td style=(CELL) {
                        (rank_median(&r.median))
                        @if r.n < 5 && r.median != Estimate::None { span style="color:#9aa5b1;" { " (n < 5)" } }
                    }
                    td style=(CELL) {
                        (r.answered) " of " (r.filed)
                        @if let Some(rate) = r.reply_rate { " (" (crate::report::scorecard::percent(rate)) ")" }
                    }
                }
            }
        }
    }
}

fn tick_header() -> Markup {
    html! {
        table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
            tr {
                @for pair in TICKS.windows(2) {
                    @let width = format!("{:.1}%", (log_position(pair[1].1) - log_position(pair[0].1)) * 100.0);
                    td width=(width) style={ "width:" (width) ";border-left:1px solid #9aa5b1;padding:0 0 0 2px;" (FONT) "font-size:10px;color:#616e7c;" } {
                        (pair[0].0)
                        @if pair[1].0 == "7d" { span style="float:right;padding-right:2px;" { "7d" } }
                    }
                }
            }
        }
    }
}

fn bar(e: &Estimate, colour: &str) -> Markup {
    let secs = match e {
        Estimate::Exactly(s) | Estimate::MoreThan(s) => Some(*s),
        Estimate::None => None,
    };
    let more = matches!(e, Estimate::MoreThan(_));
    html! {
        table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" {
            tr {
                @if let Some(s) = secs {
                    @let pct = ((log_position(s) * 100.0).round() as u32).clamp(1, 100);
                    td width={ (pct) "%" } style={ "width:" (pct) "%;background:" (colour) ";height:12px;font-size:1px;line-height:1px;" } { (PreEscaped("&nbsp;")) }
                    @if more {
                        td width="8" style={ "width:8px;color:" (colour) ";" (FONT) "font-size:13px;line-height:12px;font-weight:bold;" } { "›" }
                    }
                    @if pct < 100 { td style="font-size:1px;line-height:1px;" { (PreEscaped("&nbsp;")) } }
                } @else {
                    td style="font-size:1px;line-height:1px;" { (PreEscaped("&nbsp;")) }
                }
            }
        }
    }
}

/// Median first human reply in and out of business hours, per vendor, as
/// bars on a log scale from 5 minutes to 7 days.
pub fn log_bars(vendors: &[&VendorReport]) -> Markup {
    html! {
        div style={ (FONT) "font-size:12px;color:#52606d;margin:0 0 6px 0;" } {
            span style={ "display:inline-block;width:10px;height:10px;background:" (IN_COLOUR) ";" } {}
            " filed in business hours "
            span style={ "display:inline-block;width:10px;height:10px;background:" (OUT_COLOUR) ";" } {}
            " filed outside (off-hours, weekend, holiday); log scale; a bar ending in › is a lower bound (> X)"
        }
        table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="table-layout:fixed;" {
            tr {
                td width="34" style="width:34px;" {}
                td { (tick_header()) }
                td width="78" style="width:78px;" {}
            }
            @for v in vendors {
                tr {
                    td colspan="3" style={ "padding:6px 0 2px 0;" (FONT) "font-size:13px;font-weight:bold;word-break:break-word;" } { (v.vendor) }
                }
                @for (label, e, colour) in [("in", &v.median_business_hours, IN_COLOUR), ("out", &v.median_outside_hours, OUT_COLOUR)] {
                    tr {
                        td style={ (FONT) "font-size:11px;color:#616e7c;padding:1px 0;" } { (label) }
                        td style="padding:1px 0;" { (bar(e, colour)) }
                        td style={ (FONT) "font-size:12px;padding:1px 0 1px 6px;white-space:nowrap;" } {
                            @match e { Estimate::None => "no probes", other => (other.display()) }
                        }
                    }
                }
            }
        }
    }
}

/// The heatmap's colours by median band (under 1h, 4h, 24h, longer), and
/// the same lighter for cells under 5 probes, worked out once here.
const FULL: [&str; 4] = ["#1a7f37", "#74b816", "#f0a020", "#c92a2a"];
const LIGHT: [&str; 4] = ["#a3d9b1", "#cde8a4", "#f9d89a", "#f0a8a8"];
/// None answered: dark grey, lighter under 5 probes.
const NONE_FULL: &str = "#3e4c59";
const NONE_LIGHT: &str = "#9aa5b1";

/// A heatmap cell's colour: by median band, lighter under 5 probes, grey
/// when none was answered; `None` for a cell where nothing was filed.
fn cell_colour(median: &Estimate, answered: usize, small: bool) -> Option<&'static str> {
    let secs = match median {
        Estimate::None => return None,
        Estimate::Exactly(s) | Estimate::MoreThan(s) => *s,
    };
    if answered == 0 {
        return Some(if small { NONE_LIGHT } else { NONE_FULL });
    }
    let band = match secs {
        s if s < 3600 => 0,
        s if s < 4 * 3600 => 1,
        s if s < 86400 => 2,
        _ => 3,
    };
    Some(if small { LIGHT[band] } else { FULL[band] })
}

/// The colour bands of the heatmap, as a legend.
pub fn heatmap_legend() -> Markup {
    let swatch = |colour: &str, mark: &str| {
        html! {
            span style={ "display:inline-block;width:12px;height:12px;line-height:12px;text-align:center;font-size:10px;color:#ffffff;vertical-align:middle;border:1px solid #cbd2d9;background:" (colour) ";" } { (mark) }
        }
    };
    html! {
        div style={ (FONT) "font-size:11px;line-height:1.8;color:#52606d;margin:4px 0 8px 0;" } {
            "Median first human reply: "
            (swatch(FULL[0], "")) " < 1h  "
            (swatch(FULL[1], "")) " < 4h  "
            (swatch(FULL[2], "")) " < 24h  "
            (swatch(FULL[3], "")) " ≥ 24h  "
            (swatch(NONE_FULL, "×")) " none answered  "
            (swatch("#ffffff", "")) " nothing filed; lighter: fewer than 5 probes. Hover a cell for its counts."
        }
    }
}

/// A heatmap cell's tooltip: where it is, its counts and its median.
pub fn cell_title(day: usize, hour: usize, c: &Cell) -> String {
    format!(
        "{} {:02}–{:02}h: {} filed, {} answered, median {}",
        DAYS.get(day).copied().unwrap_or(""),
        hour,
        hour + 1,
        c.filed,
        c.answered,
        c.median.display()
    )
}

/// The style of a row label and the hour labels of a heatmap.
const HEAT_LABEL: &str = "font:10px/12px Arial,sans-serif;color:#616e7c;";
/// The "×" of a cell where none was answered.
const HEAT_NONE: &str = "font:9px/12px Arial,sans-serif;color:#ffffff;";

/// One vendor's heatmap: day of week (rows) × hour of filing (columns).
///
/// It is the digest's bulk (168 cells a vendor), so a cell carries no
/// style: its colour is the `bgcolor` attribute (which every client,
/// Outlook included, honours), the faint grid is the table's `bgcolor`
/// showing through its `cellspacing` between white rows, the row height is
/// set once on the day's label, and a cell where nothing was filed is a
/// bare `<td></td>`.
pub fn heatmap(c: &Coverage) -> Markup {
    html! {
        div style={ (FONT) "font-size:13px;font-weight:bold;margin:8px 0 2px 0;word-break:break-word;" } { (c.vendor) }
        @if c.cells.iter().flatten().all(|cell| cell.filed == 0) {
            (caption("No probe reached this vendor in these weeks (bounced or not filed)."))
        } @else {
            // The 1px font keeps the empty cells from growing the rows.
            table role="presentation" width="100%" cellpadding="0" cellspacing="1" border="0" bgcolor="#eef0f2" style="table-layout:fixed;font-size:1px;line-height:1px;" {
                tr bgcolor="#ffffff" {
                    td width="30" {}
                    @for h in [0, 6, 12, 18] {
                        td colspan="6" style={ (HEAT_LABEL) "border-left:1px solid #9aa5b1;padding-left:2px;" } { (format!("{h:02}")) }
                    }
                }
                @for (d, day) in c.cells.iter().enumerate() {
                    tr bgcolor="#ffffff" {
                        td height="14" style=(HEAT_LABEL) { (DAYS.get(d).copied().unwrap_or("")) }
                        @for (h, cell) in day.iter().enumerate() {
                            @match cell_colour(&cell.median, cell.answered, cell.small()) {
                                None => td {},
                                Some(colour) => {
                                    @if cell.answered == 0 {
                                        td bgcolor=(colour) align="center" title=(cell_title(d, h, cell)) style=(HEAT_NONE) { "×" }
                                    } @else {
                                        td bgcolor=(colour) title=(cell_title(d, h, cell)) {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The trend as an inline SVG chart: median per week on the log scale,
/// hollow points under 5 probes, a triangle for "more than".
pub fn trend_chart(points: &[TrendPoint]) -> Markup {
    const W: f64 = 400.0;
    const H: f64 = 120.0;
    const LEFT: f64 = 30.0;
    const TOP: f64 = 8.0;
    const BOTTOM: f64 = 18.0;
    let plot_h = H - TOP - BOTTOM;
    let y = |secs: i64| TOP + (1.0 - log_position(secs)) * plot_h;
    let step = (W - LEFT - 28.0) / (points.len().max(2) - 1) as f64;
    let x = |i: usize| LEFT + 6.0 + i as f64 * step;
    // Lines join consecutive weeks that both have a median.
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, p) in points.iter().enumerate() {
        match p.median {
            Estimate::Exactly(s) => {
                current.push_str(&format!("{},{} ", px(x(i)), px(y(s))));
            }
            _ => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    // The vendor's name is the heading above the chart, kept out of
    // attributes: vendor text lives in element content only. Shared
    // attributes sit once on a `<g>`; whole pixels are plenty at this size.
    let label = "median first human reply per week, log scale";
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } width="100%" role="img" aria-label=(label) style="display:block;max-width:480px;" {
            g stroke="#e4e7eb" {
                @for (_, secs) in TICKS {
                    line x1=(LEFT) x2=(W - 4.0) y1=(px(y(secs))) y2=(px(y(secs))) {}
                }
            }
            g font-size="10" font-family="Arial,sans-serif" fill="#616e7c" {
                g text-anchor="end" {
                    @for (name, secs) in TICKS {
                        text x=(LEFT - 4.0) y=(px(y(secs) + 3.0)) { (name) }
                    }
                }
                g text-anchor="middle" {
                    @for (i, p) in points.iter().enumerate() {
                        @if i % 2 == 1 || points.len() <= 6 {
                            text x=(px(x(i))) y=(H - 4.0) { (format!("W{:02}", p.week.week)) }
                        }
                    }
                }
            }
            g fill="none" stroke=(IN_COLOUR) stroke-width="2" {
                @for seg in &segments {
                    polyline points=(seg.trim_end()) {}
                }
                @for (i, p) in points.iter().enumerate() {
                    @if let Estimate::Exactly(s) = p.median {
                        circle cx=(px(x(i))) cy=(px(y(s))) r="4" fill=(if p.small { "#ffffff" } else { IN_COLOUR }) { title { (point_title(p)) } }
                    }
                }
            }
            g fill=(OUT_COLOUR) {
                @for (i, p) in points.iter().enumerate() {
                    @if let Estimate::MoreThan(s) = p.median {
                        @let (cx, cy) = (x(i), y(s));
                        polygon points=(format!("{},{} {},{} {},{}", px(cx), px(cy - 6.0), px(cx - 5.0), px(cy + 3.0), px(cx + 5.0), px(cy + 3.0))) { title { (point_title(p)) } }
                    }
                }
            }
        }
    }
}

/// A chart coordinate in whole pixels of the 400 × 120 view box.
fn px(v: f64) -> String {
    format!("{v:.0}")
}

fn point_title(p: &TrendPoint) -> String {
    format!("{}: median {}, n = {}", p.week, p.median.display(), p.n)
}

/// The same weekly medians as a table: week, median, n (for mail clients
/// that drop SVG). Its font is set once on the table (the cells hold short
/// figures; an Outlook that ignores it shows them in its own font); medians
/// are bold, grey under 5 probes.
pub fn trend_table(points: &[TrendPoint]) -> Markup {
    html! {
        table role="presentation" width="100%" cellpadding="2" cellspacing="0" border="0" style={ "table-layout:fixed;" (FONT) "font-size:10px;color:#616e7c;text-align:center;" } {
            tr {
                td width="40" align="left" { "week" }
                @for p in points { td { (format!("W{:02}", p.week.week)) } }
            }
            tr {
                td align="left" { "median" }
                @for p in points {
                    td style=(if p.small { "color:#9aa5b1;" } else { "color:#1f2933;" }) { b { (short(&p.median)) } }
                }
            }
            tr {
                td align="left" { "n" }
                @for p in points { td { (p.n) } }
            }
        }
    }
}

/// A vendor's scorecard as a two-column table.
pub fn scorecard(v: &VendorReport) -> Markup {
    html! {
        div style={ (FONT) "font-size:13px;font-weight:bold;color:#1f2933;margin:4px 0 2px 0;" } {
            "Scorecard "
            span style="font-weight:normal;color:#52606d;" { "(" (SCORECARD_NOTE) ")" }
        }
        table role="presentation" width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;" {
            @for (figure, value) in v.scorecard.lines(v.overall.filed, &v.overall.within) {
                tr {
                    td style={ (CELL) "color:#52606d;" } { (figure) }
                    td style={ (CELL) "word-break:break-word;" } { (value) }
                }
            }
        }
    }
}

/// The scorecard's title note: what n means.
pub const SCORECARD_NOTE: &str = "n = probes a figure is taken over; – where none";

/// A table with a header row; every cell escaped.
pub fn table(header: &[&str], rows: &[Vec<String>], bold_first_row: bool) -> Markup {
    html! {
        table role="presentation" width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;" {
            tr { @for h in header { th align="left" style=(HEAD) { (h) } } }
            @for (i, row) in rows.iter().enumerate() {
                tr {
                    @for cell in row {
                        td style={ (CELL) @if bold_first_row && i == 0 { "font-weight:bold;" } } { (cell) }
                    }
                }
            }
        }
    }
}

/// A whole page: the doctype and head the digest and the status page share,
/// then `body` under a body of `body_style`.
pub fn document(title: &str, body_style: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style=(body_style) { (body) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_scale_puts_ticks_where_the_logarithm_says() {
        assert_eq!(log_position(60), 0.0);
        assert_eq!(log_position(300), 0.0);
        assert!((log_position(7 * 86400) - 1.0).abs() < 1e-12);
        // ln(12) / ln(2016) = 0.3266
        assert!((log_position(3600) - 0.3266).abs() < 1e-3);
        assert_eq!(log_position(30 * 86400), 1.0);
    }

    #[test]
    fn short_durations_fit_narrow_cells() {
        assert_eq!(short(&Estimate::Exactly(90)), "1m");
        assert_eq!(short(&Estimate::Exactly(35 * 60)), "35m");
        assert_eq!(short(&Estimate::Exactly(9000)), "2.5h");
        assert_eq!(short(&Estimate::Exactly(13 * 3600)), "13h");
        assert_eq!(short(&Estimate::MoreThan(72 * 3600)), ">3d");
        assert_eq!(short(&Estimate::None), "–");
    }

    #[test]
    fn heatmap_titles_and_vendor_names_are_escaped() {
        let mut cells = vec![
            vec![
                Cell {
                    filed: 0,
                    answered: 0,
                    median: Estimate::None
                };
                24
            ];
            7
        ];
        cells[1][3] = Cell {
            filed: 4,
            answered: 3,
            median: Estimate::Exactly(2 * 3600 + 600),
        };
        let html = heatmap(&Coverage {
            vendor: "<b>\"evil\"</b>".into(),
            cells,
        })
        .into_string();
        assert!(html.contains("&lt;b&gt;&quot;evil&quot;&lt;/b&gt;"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("title=\"Tue 03–04h: 4 filed, 3 answered, median 2h 10m\""));
        let empty = heatmap(&Coverage {
            vendor: "gone".into(),
            cells: vec![
                vec![
                    Cell {
                        filed: 0,
                        answered: 0,
                        median: Estimate::None
                    };
                    24
                ];
                7
            ],
        })
        .into_string();
        assert!(empty.contains("No probe reached this vendor"));
        assert!(!empty.contains("<table"));
        // One filled cell; the 167 others are blank.
        assert_eq!(html.matches("title=").count(), 1);
        assert_eq!(html.matches("<td></td>").count(), 167);
        assert!(
            html.contains("<td bgcolor=\"#cde8a4\" title="),
            "lighter under 5"
        );
    }
}
