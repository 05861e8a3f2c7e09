//! `probe demo`: runs [`crate::demo`] and prints what it measured.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, print_json};
use super::show::render_summary;
use super::{CliError, EX_FAILURE, Global};

/// `probe demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated days.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub days: u32,
    /// Seed of the simulated helpdesks (same seed, same run).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// First simulated instant (RFC 3339).
    #[arg(long, default_value = "2026-11-02T00:00:00Z")]
    pub start: String,
}

/// `probe demo`.
pub async fn demo(g: &Global, args: DemoArgs) -> Result<ExitCode, CliError> {
    let start: Timestamp = args
        .start
        .parse()
        .map_err(|e| CliError::Usage(format!("--start {:?}: {e}", args.start)))?;
    let dir = match &g.state_dir {
        Some(d) => d.clone(),
        None => fresh_dir()?,
    };
    let wall = std::time::Instant::now();
    let out = crate::demo::run(&dir, start, args.days, args.seed)
        .await
        .map_err(|e| match e {
            crate::demo::DemoError::ExistingStore(_) => CliError::Usage(e.to_string()),
            other => CliError::Demo(other),
        })?;
    let mut digest_files = Vec::new();
    for d in &out.digests {
        let path = out.state_dir.join(format!("digest-{}.html", d.week));
        for (file, body) in [
            (path.clone(), crate::digest::render::html(d)),
            (path.with_extension("txt"), crate::digest::render::text(d)),
        ] {
            std::fs::write(&file, body).map_err(|source| CliError::Io {
                what: format!("cannot write {}", file.display()),
                source,
            })?;
        }
        digest_files.push((d, path));
    }
    let status_file = out.state_dir.join("status.html");
    std::fs::write(&status_file, &out.status_page).map_err(|source| CliError::Io {
        what: format!("cannot write {}", status_file.display()),
        source,
    })?;
    match g.format {
        Format::Json => print_json(&serde_json::json!({
            "digests": digest_files
                .iter()
                .map(|(d, path)| serde_json::json!({
                    "week": d.week,
                    "subject": d.subject,
                    "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                }))
                .collect::<Vec<_>>(),
            "status_page": status_file.file_name().map(|f| f.to_string_lossy().into_owned()),
            "state_dir": out.state_dir,
            "simulated_from": out.start,
            "simulated_until": out.end,
            "vendors": out.summary,
            "checked_against_truth": out.checked,
            "mismatches": out.mismatches,
        })),
        Format::Table | Format::Csv => {
            println!(
                "support-probe demo: {} simulated days ({} to {}), {} probes, in {:.1} s\n",
                args.days,
                out.start,
                out.end,
                out.probes.len(),
                wall.elapsed().as_secs_f64()
            );
            print!("{}", render_summary(&out.summary));
            println!();
            println!("How to read this:");
            println!(
                "  swiftcdn            answers within minutes, day and night (Zendesk: its human answers carry auto-generated headers too)"
            );
            println!(
                "  officehours-stream  acknowledges at once, answers only in Berlin business hours"
            );
            println!(
                "  silent-saas         auto-acknowledges, never answers: unanswered probes are censored, not dropped"
            );
            println!(
                "  gone-vendor         its address bounces: undeliverable, never counted as slow"
            );
            println!(
                "  panda-live          answers the Chinese probe in Chinese, by name, about its detail"
            );
            println!(
                "  macro-cdn           answers the Chinese probe in English with one macro (templated)"
            );
            println!(
                "  asking-stream       asks back twice; our follow-ups get the answer on its third reply"
            );
            println!(
                "  closer-saas         answers on the first reply, then closes the ticket (resolution)"
            );
            println!(
                "  Their scorecard (language, personal, templated, specific, asks back, answered,"
            );
            println!("  resolution) is in `probe report` and in each weekly digest.");
            println!(
                "  Medians are Kaplan-Meier estimates over answered and censored probes; '> X' means fewer than half were answered within X."
            );
            println!(
                "  NOT FILED/SKIPPED are our side's (caps, missed fires), never the vendor's."
            );
            println!();
            println!(
                "Checked against the simulator's truth: {} answered probes (time to first human reply; for the four character vendors also each first reply's language and traits, the reply that answered, the resolution), {} mismatches",
                out.checked,
                out.mismatches.len()
            );
            for m in &out.mismatches {
                println!("  MISMATCH {m}");
            }
            println!("\nstore: {}", out.state_dir.display());
            if let Some(p) = out.probes.iter().find(|p| p.first_human_at.is_some()) {
                println!(
                    "look closer:  probe --state-dir {} show {}",
                    out.state_dir.display(),
                    p.id
                );
            }
            println!(
                "              probe --state-dir {} status",
                out.state_dir.display()
            );
            if let Some((last, _)) = digest_files.last() {
                println!(
                    "              probe --state-dir {} report --week {}",
                    out.state_dir.display(),
                    last.week
                );
            }
            println!();
            for (d, path) in &digest_files {
                println!("weekly digest of {}: {}", d.week, path.display());
            }
            if let Some((last, _)) = digest_files.last() {
                println!("  subject: {}", last.subject);
            }
            println!(
                "status page as the daemon serves it at GET / ([metrics] enabled): {}",
                status_file.display()
            );
        }
    }
    Ok(if out.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EX_FAILURE)
    })
}

fn fresh_dir() -> Result<PathBuf, CliError> {
    let base = std::env::temp_dir();
    let name = format!(
        "support-probe-demo-{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    );
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Io {
        what: format!("cannot create {}", dir.display()),
        source,
    })?;
    Ok(dir)
}
