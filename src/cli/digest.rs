//! `probe digest`: write the weekly digest to a file to look at it, or
//! send it now (at most once per week unless `--force`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{CliError, EX_FAILURE, Global, wiring};
use crate::clock::{Clock, SystemClock};
use crate::digest::run::{SendResult, send_week};
use crate::digest::{self, DigestError};
use crate::report::IsoWeek;

/// `probe digest` options.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["preview", "send"])))]
pub struct DigestArgs {
    /// The ISO week, e.g. 2026-W47 [default: the last complete week in the reporting zone].
    #[arg(long)]
    pub week: Option<String>,
    /// Write the HTML part to this file (and the text part next to it, as .txt).
    #[arg(long, value_name = "FILE.html")]
    pub preview: Option<PathBuf>,
    /// Send it to the configured recipients now, unless this week was sent already.
    #[arg(long)]
    pub send: bool,
    /// With --send: send even if this week was sent (or may have been) already.
    #[arg(long, requires = "send")]
    pub force: bool,
}

fn digest_error(e: DigestError) -> CliError {
    match e {
        DigestError::Period(p) => CliError::Usage(p.to_string()),
        DigestError::Store(s) => CliError::Store(s),
        other => CliError::Digest(other),
    }
}

/// `probe digest`.
pub async fn digest(g: &Global, args: DigestArgs) -> Result<ExitCode, CliError> {
    let config = wiring::load_config(g)?;
    let clock = SystemClock;
    let now = clock.now();
    let week: IsoWeek = match &args.week {
        Some(w) => w
            .parse()
            .map_err(|e: crate::report::PeriodError| CliError::Usage(e.to_string()))?,
        None => digest::last_complete_week(now, &config.report.zone)
            .map_err(|e| CliError::Usage(e.to_string()))?,
    };
    let store = wiring::open_store(g, Some(&config))?;
    if let Some(path) = &args.preview {
        let span = digest::row_span(&config, week).map_err(digest_error)?;
        let rows = store.reading_rows(Some(span))?;
        let own = crate::report::own::OwnSide::from_store(&store)?;
        let d = digest::compose_rows(&rows, &config, week, now, &own).map_err(digest_error)?;
        let text_path = path.with_extension("txt");
        let write = |p: &PathBuf, body: String| {
            std::fs::write(p, body).map_err(|source| CliError::Io {
                what: format!("cannot write {}", p.display()),
                source,
            })
        };
        write(path, digest::render::html(&d))?;
        write(&text_path, digest::render::text(&d))?;
        println!("subject: {}", d.subject);
        println!("html:    {}", path.display());
        println!("text:    {}", text_path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let settings = config
        .digest
        .clone()
        .ok_or_else(|| digest_error(DigestError::NotConfigured))?;
    let result = send_week(&store, &config, &settings, &clock, week, args.force)
        .await
        .map_err(digest_error)?;
    match result {
        SendResult::Sent(reply) => {
            println!(
                "digest for {week} sent to {} ({reply})",
                settings.recipients.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        SendResult::AlreadyDone(r) => {
            println!(
                "digest for {week} not sent: it is {} since {} (use --force to send again)",
                r.state.as_str(),
                r.updated_at
            );
            Ok(ExitCode::SUCCESS)
        }
        SendResult::Failed(reason) => {
            eprintln!("digest for {week} not sent: {reason}");
            Ok(ExitCode::from(EX_FAILURE))
        }
        SendResult::Uncertain(reason) => {
            eprintln!("digest for {week} may or may not have been sent: {reason}");
            Ok(ExitCode::from(EX_FAILURE))
        }
    }
}
