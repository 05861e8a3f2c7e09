//! `probe pause [VENDOR]` and `probe resume [VENDOR]`: operator flags in the
//! store that a running daemon obeys at its next filing (they are checked
//! inside the transaction that begins a filing; no signal is needed).
//!
//! Like `status`, these need neither the network nor a valid config: the
//! config is only used to find the store and, when it loads, to warn about
//! a vendor name it does not know.

use std::process::ExitCode;

use clap::Args;

use super::output::{Format, print_json};
use super::{CliError, Global, wiring};
use crate::clock::{Clock, SystemClock};
use crate::store::Pause;

/// `probe pause` options.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The vendor to pause; without it, everything is paused.
    pub vendor: Option<String>,
    /// Why (shown by `probe status` and in the reason of each probe not sent).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `probe resume` options.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The vendor to resume; without it, every pause flag is lifted.
    pub vendor: Option<String>,
}

fn check_vendor(
    g: &Global,
    vendor: Option<&str>,
) -> Result<Option<crate::config::Config>, CliError> {
    let config = crate::config::load(&g.config).ok().map(|l| l.config);
    if let (Some(c), Some(v)) = (&config, vendor)
        && c.vendor(v).is_none()
    {
        return Err(CliError::Usage(format!(
            "no vendor named {v:?} in {} (known: {})",
            g.config.display(),
            c.vendors
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(config)
}

/// `probe pause`.
pub fn pause(g: &Global, args: PauseArgs) -> Result<ExitCode, CliError> {
    let config = check_vendor(g, args.vendor.as_deref())?;
    let store = wiring::open_store(g, config.as_ref())?;
    let now = SystemClock.now();
    let new = store.pause(args.vendor.as_deref(), now, args.reason.clone())?;
    let scope = args
        .vendor
        .as_ref()
        .map_or_else(|| "everything".to_string(), |v| format!("vendor {v}"));
    match g.format {
        Format::Json => print_json(&serde_json::json!({
            "paused": scope,
            "already": !new,
            "pauses": store.pauses()?,
        })),
        Format::Table | Format::Csv => {
            if new {
                println!("paused {scope}: nothing more is filed to it until `probe resume`");
            } else {
                println!("{scope} was already paused");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `probe resume`.
pub fn resume(g: &Global, args: ResumeArgs) -> Result<ExitCode, CliError> {
    let config = check_vendor(g, args.vendor.as_deref())?;
    let store = wiring::open_store(g, config.as_ref())?;
    let removed = store.resume(args.vendor.as_deref())?;
    let left = store.pauses()?;
    match g.format {
        Format::Json => print_json(&serde_json::json!({
            "resumed": removed,
            "still_paused": left,
        })),
        Format::Table | Format::Csv => {
            if removed.is_empty() {
                println!("nothing to resume: no matching pause was set");
            }
            for p in &removed {
                println!("resumed {}", p.scope());
            }
            if args.vendor.is_some() {
                print!("{}", render_pauses(&left));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The pause flags as `probe status` prints them (nothing when none is set).
pub fn render_pauses(pauses: &[Pause]) -> String {
    let mut out = String::new();
    for p in pauses {
        out.push_str(&format!("PAUSED: {} since {}", p.scope(), p.since));
        if let Some(r) = &p.reason {
            out.push_str(&format!(" ({r})"));
        }
        out.push('\n');
    }
    out
}
