//! `probe report`: grouped figures for a period, as a table, JSON (the
//! grouped figures) or CSV (one row per probe).

use std::process::ExitCode;

use clap::Args;
use jiff::civil::Date;

use super::output::{Format, print_json};
use super::{CliError, Global, wiring};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::model::ProbeRecord;
use crate::report;
use crate::report::own::OwnSide;

/// `probe report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day included (YYYY-MM-DD, in the reporting zone).
    #[arg(long, conflicts_with = "week")]
    pub since: Option<Date>,
    /// Last day included (YYYY-MM-DD, in the reporting zone) [default: today].
    #[arg(long, conflicts_with = "week", requires = "since")]
    pub until: Option<Date>,
    /// One ISO week in the reporting zone, e.g. 2026-W47; compared with the week before.
    #[arg(long)]
    pub week: Option<String>,
    /// Only this vendor.
    #[arg(long)]
    pub vendor: Option<String>,
    /// Grouping inside each vendor: any of window, channel, persona, region.
    #[arg(long, default_value = "window,channel")]
    pub by: String,
}

/// Loads the config when it can: it supplies calendars (business time),
/// regions and the reporting zone. Without it the report still runs on the
/// store alone, in UTC.
pub(super) fn config_or_warn(g: &Global) -> Option<Config> {
    match crate::config::load(&g.config) {
        Ok(l) => Some(l.config),
        Err(e) => {
            eprintln!(
                "warning: no usable config ({e}); business time and regions are left out and weeks are read in UTC"
            );
            None
        }
    }
}

impl ReportArgs {
    /// The request these options make (clap already refused the
    /// combinations `report::query` would).
    fn request(&self) -> report::query::Request {
        report::query::Request {
            since: self.since,
            until: self.until,
            week: self.week.clone(),
            vendor: self.vendor.clone(),
            by: Some(self.by.clone()),
        }
    }
}

/// `probe report`.
pub fn report(g: &Global, args: ReportArgs) -> Result<ExitCode, CliError> {
    let request = args.request();
    let usage = |e: report::query::RequestError| CliError::Usage(e.to_string());
    // The grouping is checked before the config is read, the period after.
    request.dims().map_err(usage)?;
    let config = config_or_warn(g);
    let settings = config
        .as_ref()
        .map(|c| c.report.clone())
        .unwrap_or_default();
    let now = SystemClock.now();
    request.periods(&settings.zone, now).map_err(usage)?;
    let store = wiring::open_store(g, config.as_ref())?;
    let opts = request
        .options(&settings.zone, now, OwnSide::from_store(&store)?)
        .map_err(usage)?;
    // Figures come from the compact reading rows of the period and the one
    // before it; the CSV lists every field of each probe, so it reads the
    // full records.
    let span = opts.row_span();
    match g.format {
        Format::Csv => {
            let all = store.all()?;
            let rows: Vec<&ProbeRecord> = all
                .iter()
                .filter(|p| opts.vendor.as_deref().is_none_or(|v| p.vendor == v))
                .filter(|p| p.state != crate::model::ProbeState::Planned)
                .filter(|p| {
                    opts.period
                        .as_ref()
                        .is_none_or(|per| per.contains(p.filed_at.unwrap_or(p.due_at)))
                })
                .collect();
            print!(
                "{}",
                report::render::csv(&rows, config.as_ref(), opts.now, &opts.own)
            );
        }
        Format::Json => {
            let rows = store.reading_rows(span)?;
            print_json(&report::build_rows(&rows, config.as_ref(), &opts))
        }
        Format::Table => {
            let rows = store.reading_rows(span)?;
            print!(
                "{}",
                report::render::table(&report::build_rows(&rows, config.as_ref(), &opts))
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}
