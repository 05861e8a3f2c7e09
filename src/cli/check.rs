//! `probe check` (validate the config, show each probe's next fire) and
//! `probe schedule` (upcoming fires, from the config or one expression).

use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::output::{Format, print_json};
use super::{CliError, Global, wiring};
use crate::schedule::{CronSchedule, merge_upcoming, render_json, render_table};

/// `probe schedule` options.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// How many fires to print.
    #[arg(long, default_value_t = 10)]
    pub next: usize,
    /// Start after this instant (RFC 3339, e.g. 2026-03-08T00:00:00Z) instead of now.
    #[arg(long)]
    pub from: Option<String>,
    /// Only this probe.
    #[arg(long, conflicts_with = "cron")]
    pub probe: Option<String>,
    /// Preview a cron expression (6 fields, with seconds) without any config.
    #[arg(long, requires = "zone")]
    pub cron: Option<String>,
    /// The IANA zone for --cron (repeat for several).
    #[arg(long, requires = "cron")]
    pub zone: Vec<String>,
}

fn parse_from(from: Option<&str>) -> Result<Timestamp, CliError> {
    match from {
        None => Ok(Timestamp::now()),
        Some(s) => s.parse::<Timestamp>().map_err(|e| {
            CliError::Usage(format!(
                "--from {s:?}: expected RFC 3339 like 2026-03-08T00:00:00Z: {e}"
            ))
        }),
    }
}

/// `probe schedule`.
pub fn schedule(g: &Global, args: ScheduleArgs) -> Result<ExitCode, CliError> {
    let from = parse_from(args.from.as_deref())?;
    let items = match &args.cron {
        Some(expr) => {
            let cron =
                CronSchedule::parse(expr).map_err(|e| CliError::Usage(format!("--cron: {e}")))?;
            let mut items = Vec::new();
            for zone in &args.zone {
                let tz = TimeZone::get(zone)
                    .map_err(|e| CliError::Usage(format!("--zone {zone:?}: {e}")))?;
                items.push((String::new(), zone.clone(), cron.clone(), tz));
            }
            items
        }
        None => {
            let config = wiring::load_config(g)?;
            let mut items = Vec::new();
            for p in config
                .active_probes()
                .filter(|p| args.probe.as_ref().is_none_or(|n| *n == p.name))
            {
                let cron =
                    CronSchedule::parse(&p.schedule).map_err(|source| CliError::Schedule {
                        probe: p.name.clone(),
                        source: Box::new(source),
                    })?;
                for (name, tz) in &p.zones {
                    items.push((p.name.clone(), name.clone(), cron.clone(), tz.clone()));
                }
            }
            if let Some(name) = &args.probe
                && items.is_empty()
            {
                return Err(CliError::Usage(format!("no enabled probe named {name:?}")));
            }
            items
        }
    };
    let fires = merge_upcoming(&items, from, args.next);
    match g.format {
        Format::Json => print_json(&render_json(&fires)),
        Format::Table | Format::Csv => print!("{}", render_table(&fires)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `probe check`.
pub fn check(g: &Global) -> Result<ExitCode, CliError> {
    let config = wiring::load_config(g)?;
    let now = Timestamp::now();
    let mut next = Vec::new();
    for p in &config.probes {
        let cron = CronSchedule::parse(&p.schedule).map_err(|source| CliError::Schedule {
            probe: p.name.clone(),
            source: Box::new(source),
        })?;
        let items: Vec<_> = p
            .zones
            .iter()
            .map(|(n, tz)| (p.name.clone(), n.clone(), cron.clone(), tz.clone()))
            .collect();
        let fire = merge_upcoming(&items, now, 1).into_iter().next();
        next.push((p, fire));
    }
    let languages = crate::classify::languages();
    let helpdesks = crate::classify::helpdesks();
    let problems = crate::classify::data_problems();
    match g.format {
        Format::Json => print_json(&serde_json::json!({
            "config": config.source,
            "valid": true,
            "classifier": {
                "languages": languages.iter().map(|(tag, _)| tag).collect::<Vec<_>>(),
                "helpdesks": helpdesks.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                "data-problems": problems,
            },
            "enabled": config.enabled,
            "vendors": config.vendors.len(),
            "personas": config.personas.len(),
            "probes": next.iter().map(|(p, f)| serde_json::json!({
                "probe": p.name,
                "enabled": p.enabled && config.enabled,
                "next": f.as_ref().map(|f| render_json(std::slice::from_ref(f))[0].clone()),
            })).collect::<Vec<_>>(),
        })),
        Format::Table | Format::Csv => {
            println!(
                "{}: valid ({}, {}, {}){}",
                config.source.display(),
                plural(config.vendors.len(), "vendor"),
                plural(config.personas.len(), "persona"),
                plural(config.probes.len(), "probe"),
                if config.enabled {
                    ""
                } else {
                    "; enabled = false: nothing will be sent"
                }
            );
            for (p, fire) in next {
                let when = match (&fire, p.enabled) {
                    (_, false) => "disabled".to_string(),
                    (Some(f), true) => format!(
                        "{} ({} in {})",
                        f.utc,
                        f.local.strftime("%Y-%m-%d %H:%M:%S %Z"),
                        f.zone
                    ),
                    (None, true) => "never fires again".to_string(),
                };
                println!("  {:<24} next: {when}", p.name);
            }
            println!(
                "classifier: {} ({}), {}",
                plural(languages.len(), "language"),
                languages
                    .iter()
                    .map(|(tag, _)| *tag)
                    .collect::<Vec<_>>()
                    .join(" "),
                plural(helpdesks.len(), "helpdesk")
            );
            for p in &problems {
                println!("  classifier data problem: {p}");
            }
        }
    }
    // A build whose phrase or helpdesk files do not load classifies with
    // less than it should: say so with a failing exit.
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EX_CONFIG)
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
