//! The weekly digest: the report of one ISO week as an email a manager
//! reads on Monday — a headline, per-vendor tables by window and each
//! vendor's scorecard (`report::scorecard`), a bar chart of median first
//! reply in and out of business hours, the unanswered and undeliverable
//! probes, our own side apart, and a method note.
//!
//! - [`compose`] turns a [`Report`] into a [`Digest`] (headline and subject);
//! - [`render`] writes its plain-text and HTML parts (inline CSS, table
//!   layout, no scripts, no external images; every piece of text that came
//!   from a vendor or a config is escaped);
//! - [`mail`] builds the multipart/alternative message and sends it over a
//!   persona's SMTP identity;
//! - [`schedule`] decides which week is due when (pure), and [`run`] is the
//!   daemon task that sends each week's digest at most once, catching up
//!   once after downtime.

pub mod mail;
pub mod render;
pub mod run;
pub mod schedule;

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::config::Config;
use crate::model::{ProbeRecord, ReadingRow, Window};
use crate::report::own::{self, Downtime, OwnSide};
use crate::report::views::{self, Rank, Reach, VendorViews};
use crate::report::{self, Dim, IsoWeek, Options, Period, PeriodError, Report};

/// How many ISO weeks the digest's heatmaps and trends reach back, the
/// digest's own week included.
pub const TREND_WEEKS: usize = 12;

pub use run::run;

/// Why a digest could not be made or sent.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// The week or its bounds are invalid.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// The config has no `[digest]` section.
    #[error("the config has no [digest] section: add one with persona and recipients to send")]
    NotConfigured,
    /// The sending persona reaches its vendor through an API and has no SMTP server.
    #[error("digest persona {0} has no [persona.smtp] to send the digest with")]
    NotEmail(String),
    /// The sending persona's password could not be read.
    #[error("digest persona {persona} SMTP password: {source}")]
    Secret {
        persona: String,
        source: crate::config::SecretError,
    },
    /// The message could not be built (an address lettre refuses).
    #[error("cannot build the digest message: {0}")]
    Compose(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A composed digest, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// The week it covers.
    pub week: IsoWeek,
    /// The zone the week and every time shown are read in, as named.
    pub zone_name: String,
    /// The same zone.
    #[serde(skip)]
    pub zone: TimeZone,
    /// The subject line, carrying the headline.
    pub subject: String,
    /// One sentence: the week at a glance.
    pub headline: String,
    /// The figures (grouped by window, compared with the week before).
    pub report: Report,
    /// Our own downtime during the week, per endpoint: shown beside the
    /// vendors' figures, never in them.
    pub downtime: Vec<Downtime>,
    /// The week's vendors, fastest first.
    pub ranking: Vec<Rank>,
    /// Per vendor (in ranking order): coverage over the last
    /// [`TREND_WEEKS`] weeks and the weekly trend.
    pub views: Vec<VendorViews>,
    /// The first and last week the coverage and trend reach over.
    pub reach: (IsoWeek, IsoWeek),
}

/// Builds the digest of `week` from every probe record, read at `now`.
pub fn compose(
    probes: &[ProbeRecord],
    config: &Config,
    week: IsoWeek,
    now: Timestamp,
    own: &OwnSide,
) -> Result<Digest, DigestError> {
    let rows: Vec<ReadingRow> = probes.iter().map(ReadingRow::of).collect();
    compose_rows(&rows, config, week, now, own)
}

/// The span of reading rows the digest of `week` needs, as `[from,
/// until)`: the [`TREND_WEEKS`] weeks ending with it (which hold the week
/// before, compared with).
pub fn row_span(config: &Config, week: IsoWeek) -> Result<(Timestamp, Timestamp), DigestError> {
    let tz = &config.report.zone;
    let period = Period::week(week, tz)?;
    let previous = period.previous(tz)?;
    let (from, until) = views::weeks_span(week, TREND_WEEKS, tz)?;
    Ok((
        from.min(previous.from).min(period.from),
        until.max(period.until),
    ))
}

/// [`compose`] from reading rows (e.g. those of [`row_span`]).
pub fn compose_rows(
    rows: &[ReadingRow],
    config: &Config,
    week: IsoWeek,
    now: Timestamp,
    own: &OwnSide,
) -> Result<Digest, DigestError> {
    let tz = &config.report.zone;
    let period = Period::week(week, tz)?;
    let downtime = own::downtime(own.outages(), period.from, period.until.min(now));
    let previous = period.previous(tz)?;
    let report = report::build_rows(
        rows,
        Some(config),
        &Options {
            period: Some(period),
            previous: Some(previous),
            vendor: None,
            by: vec![Dim::Window],
            now,
            own: own.clone(),
        },
    );
    let headline = headline(&report);
    let ranking = views::ranking(&report);
    let weeks = views::weeks_ending(week, TREND_WEEKS)?;
    let first = weeks.first().copied().unwrap_or(week);
    let reach = Reach {
        coverage: views::weeks_span(week, TREND_WEEKS, tz)?,
        last_week: week,
        weeks: TREND_WEEKS,
    };
    let views = ranking
        .iter()
        .map(|r| views::vendor_views(rows, &r.vendor, tz, now, reach, own))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Digest {
        week,
        zone_name: config.report.zone_name.clone(),
        zone: tz.clone(),
        subject: format!("Vendor support, week {}: {headline}", week.week),
        headline,
        report,
        downtime,
        ranking,
        views,
        reach: (first, week),
    })
}

/// The last complete ISO week before `now` in the reporting zone.
pub fn last_complete_week(now: Timestamp, tz: &TimeZone) -> Result<IsoWeek, PeriodError> {
    IsoWeek::containing(now, tz).previous()
}

/// The headline: who missed their target and where, else a plain count.
pub fn headline(report: &Report) -> String {
    let decided: Vec<_> = report
        .vendors
        .iter()
        .filter(|v| v.overall.sla.met + v.overall.sla.breached > 0)
        .collect();
    let missed: Vec<_> = decided
        .iter()
        .filter(|v| v.overall.sla.breached > 0)
        .collect();
    let filed: usize = report.vendors.iter().map(|v| v.overall.filed).sum();
    let answered: usize = report.vendors.iter().map(|v| v.overall.answered).sum();
    if !missed.is_empty() {
        let targets: BTreeSet<Option<u64>> =
            missed.iter().map(|v| v.overall.sla.target_secs).collect();
        let target = match targets.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(t)] => format!(
                "their {} target",
                crate::config::format_duration(std::time::Duration::from_secs(*t))
            ),
            _ => "their first-response target".to_string(),
        };
        // Where the breaches happened, by the window the probe was filed in.
        let (mut inside, mut outside) = (0, 0);
        for v in &missed {
            for g in &v.groups {
                let n = g.figures.sla.breached;
                match g.key.get(&Dim::Window).map(String::as_str) {
                    Some(w) if w == Window::BusinessHours.as_str() => inside += n,
                    _ => outside += n,
                }
            }
        }
        let place = match (inside, outside) {
            (0, _) => " outside business hours",
            (_, 0) => " in business hours",
            _ => "",
        };
        let n = decided.len();
        let vendors = if n == 1 { "vendor" } else { "vendors" };
        format!("{} of {n} {vendors} missed {target}{place}", missed.len())
    } else if !decided.is_empty() {
        let n = decided.len();
        if n == 1 {
            "the one vendor with a target met it".to_string()
        } else {
            format!("all {n} vendors with a target met it")
        }
    } else if filed > 0 {
        format!(
            "{answered} of {filed} probes to {} vendors answered",
            report.vendors.len()
        )
    } else {
        "no probes filed".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = [
            r#"
[report]
zone = "Europe/Berlin"
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]"#,
            &crate::testkit::persona_toml("dana", "Dana", "dana@probe.example", ""),
            r#""#,
        ]
        .concat();
        crate::config::parse_str(&text, std::path::Path::new("t.toml"))
            .unwrap()
            .config
    }

    #[test]
    fn an_empty_week_says_so_in_the_subject_and_both_parts() {
        let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let week = last_complete_week(now, &config().report.zone).unwrap();
        assert_eq!(week.to_string(), "2026-W47");
        let d = compose(&[], &config(), week, now, &OwnSide::default()).unwrap();
        assert_eq!(d.subject, "Vendor support, week 47: no probes filed");
        assert!(render::text(&d).contains("no probes were filed this week"));
        assert!(render::html(&d).contains("No probes were filed this week."));
        assert!(render::html(&d).contains("Nothing went wrong on our side."));
    }

    #[test]
    fn the_last_complete_week_is_read_in_the_reporting_zone() {
        // Sunday 23:30 UTC is already Monday in Berlin.
        let at: Timestamp = "2026-11-22T23:30:00Z".parse().unwrap();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            last_complete_week(at, &berlin).unwrap().to_string(),
            "2026-W47"
        );
        assert_eq!(
            last_complete_week(at, &TimeZone::UTC).unwrap().to_string(),
            "2026-W46"
        );
    }
}
