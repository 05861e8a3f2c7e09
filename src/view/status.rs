//! The status page the daemon serves at `GET /` when `[metrics]` is
//! enabled: the figures of the last 7 and 30 days, server-rendered, no
//! JavaScript.

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::model::ReadingRow;
use crate::readings::own::OwnSide;
use crate::report::{self, Options, Period};

/// How far back the status page's spans reach, in days.
pub const SPANS: [i64; 2] = [7, 30];

/// The reading rows the status page needs at `now`: filed in the longest span.
pub fn row_span(now: Timestamp) -> (Timestamp, Timestamp) {
    let longest = SPANS.iter().copied().max().unwrap_or(30);
    (now - SignedDuration::from_hours(24 * longest), now)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole page, as one HTML document.
pub fn page(rows: &[ReadingRow], config: &Config, now: Timestamp, own: &OwnSide) -> String {
    let mut body = String::new();
    for days in SPANS {
        let period = Period {
            from: now - SignedDuration::from_hours(24 * days),
            until: now,
            label: format!("last {days} days"),
            week: None,
        };
        let r = report::build_rows(
            rows,
            Some(config),
            &Options {
                period: Some(period),
                previous: None,
                vendor: None,
                by: Vec::new(),
                now,
                own: own.clone(),
            },
        );
        body.push_str(&format!(
            "<section id=\"last-{days}-days\"><h2>Last {days} days</h2><pre>{}</pre></section>",
            escape(&report::render::table(&r))
        ));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>support-probe status</title></head><body><h1>support-probe</h1>{body}</body></html>"
    )
}
