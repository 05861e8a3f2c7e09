//! The output of `probe schedule`: upcoming fires of one or several
//! schedules, merged in time order, as an aligned table or as JSON.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde_json::{Value, json};

use super::cron::CronSchedule;

/// One upcoming fire of a schedule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fire {
    /// The `[[probe]]` name; empty when previewing a bare expression.
    pub probe: String,
    /// The IANA zone the schedule is read in.
    pub zone: String,
    /// The instant of the fire.
    pub utc: Timestamp,
    /// The same instant on the zone's wall clock.
    pub local: Zoned,
}

/// The table headers, in column order.
const HEADERS: [&str; 4] = ["PROBE", "ZONE", "UTC", "LOCAL"];

/// An instant as RFC 3339 in UTC, whole seconds, e.g. `2026-03-08T07:00:00Z`.
fn utc_text(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A table with the columns PROBE, ZONE, UTC (RFC 3339, `Z`) and LOCAL (e.g.
/// `2026-03-08 03:00:00 -04:00 EDT`), aligned, under a header line. Every
/// line ends with a newline; the last column is not padded.
pub fn render_table(fires: &[Fire]) -> String {
    let rows: Vec<[String; 4]> = fires
        .iter()
        .map(|f| {
            [
                f.probe.clone(),
                f.zone.clone(),
                utc_text(f.utc),
                f.local.strftime("%Y-%m-%d %H:%M:%S %:z %Z").to_string(),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header = HEADERS.map(str::to_string);
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A JSON array with one object per fire, holding exactly `probe`, `zone`,
/// `utc` (RFC 3339 with `Z`), `local` (RFC 3339 with a numeric offset),
/// `offset` (e.g. `-04:00`) and `abbrev` (e.g. `EDT`).
pub fn render_json(fires: &[Fire]) -> Value {
    fires
        .iter()
        .map(|f| {
            json!({
                "probe": f.probe,
                "zone": f.zone,
                "utc": utc_text(f.utc),
                "local": f.local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                "offset": f.local.strftime("%:z").to_string(),
                "abbrev": f.local.strftime("%Z").to_string(),
            })
        })
        .collect()
}

/// Merges the fires of several `(probe, zone, schedule, time zone)` items:
/// the next `n` fires overall, in time order, strictly after `from`. Fires at
/// the same instant are ordered by probe, then zone.
pub fn merge_upcoming(
    items: &[(String, String, CronSchedule, TimeZone)],
    from: Timestamp,
    n: usize,
) -> Vec<Fire> {
    let mut fires: Vec<Fire> = items
        .iter()
        .flat_map(|(probe, zone, schedule, tz)| {
            schedule
                .upcoming(from, tz, n)
                .into_iter()
                .map(move |local| Fire {
                    probe: probe.clone(),
                    zone: zone.clone(),
                    utc: local.timestamp(),
                    local,
                })
        })
        .collect();
    fires.sort_by(|a, b| (a.utc, &a.probe, &a.zone).cmp(&(b.utc, &b.probe, &b.zone)));
    fires.truncate(n);
    fires
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(probe: &str, zone: &str, expr: &str) -> (String, String, CronSchedule, TimeZone) {
        (
            probe.to_string(),
            zone.to_string(),
            CronSchedule::parse(expr).unwrap(),
            TimeZone::get(zone).unwrap(),
        )
    }

    /// The New York spring-forward night: a 02:30 fire in the gap and an hourly UTC probe.
    fn gap_night() -> Vec<Fire> {
        let items = [
            item("acme-daily", "America/New_York", "0 30 2 * * *"),
            item("hourly", "UTC", "0 0 * * * *"),
        ];
        merge_upcoming(&items, "2026-03-08T06:30:00Z".parse().unwrap(), 3)
    }

    #[test]
    fn merge_takes_the_next_n_fires_in_time_order() {
        let fires = gap_night();
        let got: Vec<(&str, String)> = fires
            .iter()
            .map(|f| (f.probe.as_str(), f.utc.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("acme-daily", "2026-03-08T07:00:00Z".to_string()),
                ("hourly", "2026-03-08T07:00:00Z".to_string()),
                ("hourly", "2026-03-08T08:00:00Z".to_string()),
            ]
        );
        assert!(fires.iter().all(|f| f.local.timestamp() == f.utc));
    }

    #[test]
    fn merge_of_nothing_is_empty() {
        assert!(merge_upcoming(&[], "2026-03-08T06:30:00Z".parse().unwrap(), 5).is_empty());
        let items = [item("p", "UTC", "0 0 * * * *")];
        assert!(merge_upcoming(&items, "2026-03-08T06:30:00Z".parse().unwrap(), 0).is_empty());
    }

    #[test]
    fn the_table_is_aligned_under_its_header() {
        let expected = "\
PROBE       ZONE              UTC                   LOCAL
acme-daily  America/New_York  2026-03-08T07:00:00Z  2026-03-08 03:00:00 -04:00 EDT
hourly      UTC               2026-03-08T07:00:00Z  2026-03-08 07:00:00 +00:00 UTC
hourly      UTC               2026-03-08T08:00:00Z  2026-03-08 08:00:00 +00:00 UTC
";
        assert_eq!(render_table(&gap_night()), expected);
    }

    #[test]
    fn an_empty_table_is_the_header_alone() {
        assert_eq!(render_table(&[]), "PROBE  ZONE  UTC  LOCAL\n");
    }

    #[test]
    fn the_json_has_exactly_the_documented_fields() {
        let preview = merge_upcoming(
            &[item("", "America/New_York", "0 30 2 * * *")],
            "2026-03-08T06:30:00Z".parse().unwrap(),
            2,
        );
        let expected = serde_json::json!([
            {
                "probe": "",
                "zone": "America/New_York",
                "utc": "2026-03-08T07:00:00Z",
                "local": "2026-03-08T03:00:00-04:00",
                "offset": "-04:00",
                "abbrev": "EDT"
            },
            {
                "probe": "",
                "zone": "America/New_York",
                "utc": "2026-03-09T06:30:00Z",
                "local": "2026-03-09T02:30:00-04:00",
                "offset": "-04:00",
                "abbrev": "EDT"
            }
        ]);
        assert_eq!(render_json(&preview), expected);
    }
}
