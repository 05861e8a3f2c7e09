//! The status page the daemon serves at `GET /` when `[metrics]` is
//! enabled: for the last 7 and the last 30 days the ranking, the median
//! first human reply in and out of business hours, each vendor's scorecard
//! and its coverage heatmap; then the 12-week trend. Server-rendered with
//! the digest's own fragments (`view::fragments`), no JavaScript.
//!
//! Element ids are unique in the document: the 7-day sections carry the
//! issue's `ranking` and `coverage`, the 30-day ones `ranking-30d` and
//! `coverage-30d`; the trend is `trend`.

use jiff::{SignedDuration, Timestamp};
use maud::{Markup, html};

use crate::config::Config;
use crate::model::ReadingRow;
use crate::report::own::OwnSide;
use crate::report::views::{self, Reach, VendorViews};
use crate::report::{self, IsoWeek, Options, Period, Report, VendorReport};
use crate::view::fragments::{self, FONT};

/// How far back the status page's spans reach, in days.
pub const SPANS: [i64; 2] = [7, 30];

/// How many ISO weeks the trend shows, the current one included.
pub const TREND_WEEKS: usize = 12;

/// The reading rows the status page needs at `now`: filed in the last 13
/// weeks (the trend's 12 ISO weeks, the current one partial, in any zone).
pub fn row_span(now: Timestamp) -> (Timestamp, Timestamp) {
    let weeks = i64::try_from(TREND_WEEKS).unwrap_or(12) + 1;
    let longest = SPANS.iter().copied().max().unwrap_or(30).max(7 * weeks);
    (now - SignedDuration::from_hours(24 * longest), now)
}

/// One span's figures.
struct Span {
    days: i64,
    report: Report,
    ranks: Vec<views::Rank>,
    views: Vec<VendorViews>,
}

/// One span's report, ranking and per-vendor views; the weekly trend (the
/// costly part) only where it is shown (`weeks` = 0 elsewhere).
fn span(
    rows: &[ReadingRow],
    config: &Config,
    now: Timestamp,
    own: &OwnSide,
    days: i64,
    weeks: usize,
) -> Span {
    let from = now - SignedDuration::from_hours(24 * days);
    let report = report::build_rows(
        rows,
        Some(config),
        &Options {
            period: Some(Period {
                from,
                until: now,
                label: format!("last {days} days"),
                week: None,
            }),
            previous: None,
            vendor: None,
            by: Vec::new(),
            now,
            own: own.clone(),
        },
    );
    let tz = &config.report.zone;
    let ranks = views::ranking(&report);
    let views = ranks
        .iter()
        .filter_map(|r| {
            let reach = Reach {
                coverage: (from, now),
                last_week: IsoWeek::containing(now, tz),
                weeks,
            };
            match views::vendor_views(rows, &r.vendor, tz, now, reach, own) {
                Ok(v) => Some(v),
                Err(e) => {
                    // Only a week outside the calendar's range gets here;
                    // say so rather than drop the vendor without a word.
                    tracing::warn!(vendor = %r.vendor, error = %e, "status page: no heatmap or trend for this vendor");
                    None
                }
            }
        })
        .collect();
    Span {
        days,
        report,
        ranks,
        views,
    }
}

fn heading(text: &str) -> Markup {
    html! { h2 style={ (FONT) "font-size:20px;margin:24px 0 8px 0;color:#1f2933;" } { (text) } }
}

fn block(id: &str, title: &str, note: Option<&str>, body: Markup) -> Markup {
    html! {
        section id=(id) style="margin:0 0 18px 0;" {
            (fragments::title(title))
            @if let Some(n) = note { (fragments::caption(n)) }
            (body)
        }
    }
}

fn span_html(s: &Span, zone: &str) -> Markup {
    let (ranking_id, coverage_id) = if s.days == 7 {
        ("ranking".to_string(), "coverage".to_string())
    } else {
        (
            format!("ranking-{}d", s.days),
            format!("coverage-{}d", s.days),
        )
    };
    let ranks = &s.ranks;
    let vendors: Vec<&VendorReport> = views::in_rank_order(&s.report, ranks);
    let nothing = format!("No probes were filed in the last {} days.", s.days);
    html! {
        (heading(&format!("Last {} days", s.days)))
        (block(&ranking_id, "Ranking: median first human reply", Some(crate::report::views::RANKING_RULE), html! {
            @if ranks.is_empty() { (fragments::caption(&nothing)) } @else { (fragments::ranking(ranks)) }
        }))
        @if !vendors.is_empty() {
            section style="margin:0 0 18px 0;" {
                (fragments::title("In vs out of business hours (calendar time)"))
                (fragments::log_bars(&vendors))
            }
            section style="margin:0 0 18px 0;" {
                (fragments::title("Scorecards"))
                @for v in &vendors {
                    details style={ (FONT) "margin:0 0 6px 0;" } {
                        summary style={ (FONT) "font-size:14px;font-weight:bold;cursor:pointer;" } {
                            (v.vendor) ": " (v.overall.filed) " filed, median " (v.overall.calendar.median.display())
                        }
                        (fragments::scorecard(v))
                    }
                }
            }
        }
        (block(&coverage_id, "Who answers when: median first human reply by hour of filing",
            Some(&format!("Probes filed in the last {} days, by weekday and hour of filing in {zone}.", s.days)),
            html! {
                @if s.views.is_empty() { (fragments::caption(&nothing)) } @else {
                    (fragments::heatmap_legend())
                    @for v in &s.views { (fragments::heatmap(&v.coverage)) }
                }
            }))
    }
}

/// The whole page, as one HTML document.
pub fn page(rows: &[ReadingRow], config: &Config, now: Timestamp, own: &OwnSide) -> String {
    let longest = SPANS.iter().copied().max().unwrap_or(30);
    let spans: Vec<Span> = SPANS
        .iter()
        .map(|&d| {
            let weeks = if d == longest { TREND_WEEKS } else { 0 };
            span(rows, config, now, own, d, weeks)
        })
        .collect();
    let zone = &config.report.zone_name;
    // The trend covers every vendor seen in the longest span.
    let trend_views = spans
        .iter()
        .find(|s| s.days == longest)
        .map_or(&[][..], |s| s.views.as_slice());
    let this_week = IsoWeek::containing(now, &config.report.zone);
    let at = now
        .to_zoned(config.report.zone.clone())
        .strftime("%a %d %b %Y %H:%M")
        .to_string();
    let doc = fragments::document(
        "support-probe status",
        &format!("margin:0;padding:0;background:#f4f5f7;color:#1f2933;{FONT}"),
        html! {
            main style="box-sizing:border-box;max-width:760px;margin:0 auto;padding:12px 12px 24px 12px;background:#ffffff;" {
                h1 style={ (FONT) "font-size:24px;margin:8px 0 4px 0;" } { "Vendor support status" }
                (fragments::caption(&format!("As of {at} ({zone}). Medians are Kaplan–Meier estimates over answered and still-unanswered probes; \"> X\" lies beyond the longest time watched.")))
                @for s in &spans { (span_html(s, zone)) }
                (heading("Last 12 weeks"))
                (block("trend", "Trend: median first human reply per week",
                    Some(&format!("Kaplan–Meier median per ISO week up to {this_week} (this week so far), log scale; a hollow point rests on fewer than 5 probes, a triangle is a lower bound.")),
                    html! {
                        @if trend_views.is_empty() { (fragments::caption("No probes were filed in the last 30 days.")) }
                        @for v in trend_views {
                            div style={ (FONT) "font-size:13px;font-weight:bold;margin:10px 0 2px 0;word-break:break-word;" } { (v.vendor) }
                            (fragments::trend_chart(&v.trend))
                            (fragments::trend_table(&v.trend))
                        }
                    }))
            }
        },
    );
    let mut out = doc.into_string();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_reach_back_over_the_whole_trend() {
        let now: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let (from, until) = row_span(now);
        assert_eq!(until, now);
        assert_eq!(
            now.duration_since(from),
            SignedDuration::from_hours(24 * 91)
        );
    }
}
