//! `probe run` (file now, optionally follow live) and `probe daemon`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::output::{Format, print_json};
use super::{CliError, EX_FAILURE, EX_INTERRUPTED, Global, wiring};
use crate::duration::human;
use crate::engine::{Engine, FileReport, compose, draft_record};
use crate::model::{Origin, ProbeId, ProbeState};
use crate::table::columns as table;

/// `probe run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Only this vendor's probes.
    #[arg(long)]
    pub vendor: Option<String>,
    /// Only this probe.
    #[arg(long)]
    pub probe: Option<String>,
    /// Stay and show the elapsed time until the first human reply (Ctrl-C stops waiting).
    #[arg(long)]
    pub wait: bool,
    /// Show what would be sent, send nothing.
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
}

/// `probe run`.
pub async fn run(g: &Global, args: RunArgs) -> Result<ExitCode, CliError> {
    let config = wiring::load_config(g)?;
    let selected: Vec<String> = config
        .probes
        .iter()
        .filter(|p| args.probe.as_ref().is_none_or(|n| *n == p.name))
        .filter(|p| args.vendor.as_ref().is_none_or(|v| *v == p.vendor))
        .filter(|p| args.probe.is_some() || p.enabled)
        .map(|p| p.name.clone())
        .collect();
    if selected.is_empty() {
        return Err(CliError::Usage(format!(
            "no probe matches{}{}",
            args.vendor
                .as_ref()
                .map(|v| format!(" --vendor {v}"))
                .unwrap_or_default(),
            args.probe
                .as_ref()
                .map(|p| format!(" --probe {p}"))
                .unwrap_or_default()
        )));
    }
    if args.dry_run {
        return dry_run(g, &config, &selected);
    }
    let mut personas: Vec<&str> = selected
        .iter()
        .filter_map(|n| config.probe(n))
        .map(|p| p.persona.as_str())
        .collect();
    personas.sort_unstable();
    personas.dedup();
    let personas: Vec<String> = personas.into_iter().map(str::to_string).collect();
    let persona_refs: Vec<&str> = personas.iter().map(String::as_str).collect();
    let engine = wiring::engine(g, config.clone(), &persona_refs)?;
    let mut reports = Vec::new();
    for name in &selected {
        reports.push(engine.run_now(name).await?);
    }
    print_reports(g.format, &engine, &reports)?;
    let filed: Vec<ProbeId> = reports
        .iter()
        .filter(|r| r.state == ProbeState::Filed)
        .map(|r| r.id.clone())
        .collect();
    let failed = reports.iter().any(|r| r.state != ProbeState::Filed);
    if args.wait && !filed.is_empty() {
        let code = wait(&engine, &personas, &filed).await?;
        return Ok(code);
    }
    Ok(if failed {
        ExitCode::from(EX_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

fn dry_run(
    g: &Global,
    config: &crate::config::Config,
    selected: &[String],
) -> Result<ExitCode, CliError> {
    let now = jiff::Timestamp::now();
    let mut previews = Vec::new();
    for name in selected {
        let Some(p) = config.probe(name) else {
            continue;
        };
        let zone = p.zones.first().map_or("UTC", |(z, _)| z.as_str());
        let rec = draft_record(
            config,
            p,
            zone,
            now,
            Origin::Manual,
            now,
            jiff::SignedDuration::ZERO,
            None,
        )?;
        let (message, caps) = compose(config, &rec, now).map_err(CliError::Compose)?;
        let request = api_preview(config, &p.persona, &message)?;
        previews.push(serde_json::json!({
            "request": request,
            "probe": p.name,
            "vendor": p.vendor,
            "persona": p.persona,
            "from": format!("{} <{}>", message.from_name, message.from_address),
            "to": message.to,
            "subject": message.subject,
            "body": message.body,
            "caps": { "per_day": caps.per_day, "per_week": caps.per_week },
        }));
    }
    match g.format {
        Format::Json => print_json(&previews),
        Format::Table | Format::Csv => {
            for p in &previews {
                let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                let to: Vec<&str> = p["to"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                println!(
                    "probe {} -> {} (persona {})",
                    s("probe"),
                    s("vendor"),
                    s("persona")
                );
                println!("  From: {}", s("from"));
                if !to.is_empty() {
                    println!("  To: {}", to.join(", "));
                }
                println!("  Subject: {}", s("subject"));
                for line in s("body").lines() {
                    println!("{}", format!("  | {line}").trim_end());
                }
                if !p["request"].is_null() {
                    let r = &p["request"];
                    println!(
                        "  API request: {} {}",
                        r["method"].as_str().unwrap_or_default(),
                        r["url"].as_str().unwrap_or_default()
                    );
                    for line in serde_json::to_string_pretty(r).unwrap_or_default().lines() {
                        println!("  > {line}");
                    }
                }
                println!(
                    "  caps: {} a day, {} a week",
                    p["caps"]["per_day"], p["caps"]["per_week"]
                );
                println!();
            }
            println!(
                "(dry run: nothing was sent or stored; each real probe gets its own id, token and Message-ID)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// For an API persona, the create request `message` would be filed with
/// (the token is not read; credentials show as `[redacted]`).
fn api_preview(
    config: &crate::config::Config,
    persona: &str,
    message: &crate::channel::Outgoing,
) -> Result<serde_json::Value, CliError> {
    let Some(p) = config.persona(persona) else {
        return Ok(serde_json::Value::Null);
    };
    let Some(api) = &p.api else {
        return Ok(serde_json::Value::Null);
    };
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::SystemClock);
    let redacted = api
        .token
        .as_ref()
        .map(|_| crate::config::SecretString::new("[redacted]".into()));
    let channel = crate::channel::http::build::channel(p, api, redacted, clock)?;
    Ok(channel.preview(message))
}

fn print_reports(format: Format, engine: &Engine, reports: &[FileReport]) -> Result<(), CliError> {
    let mut records = Vec::new();
    for r in reports {
        records.push(engine.store().get(&r.id)?);
    }
    match format {
        Format::Json => print_json(&records),
        Format::Table | Format::Csv => {
            let rows: Vec<Vec<String>> = reports
                .iter()
                .zip(&records)
                .map(|(r, rec)| {
                    vec![
                        r.id.to_string(),
                        rec.as_ref().map(|p| p.vendor.clone()).unwrap_or_default(),
                        r.state.to_string(),
                        rec.as_ref()
                            .and_then(|p| p.filed_at)
                            .map(|t| t.to_string())
                            .unwrap_or_default(),
                        r.reason.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table(&["PROBE", "VENDOR", "STATE", "FILED AT", "NOTE"], &rows)
            );
        }
    }
    Ok(())
}

/// Follows filed probes until each has a human reply (or is undeliverable),
/// printing every message as it is recorded.
async fn wait(engine: &Engine, personas: &[String], ids: &[ProbeId]) -> Result<ExitCode, CliError> {
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    eprintln!("waiting for replies (Ctrl-C to stop waiting; the probes stay recorded)");
    loop {
        for persona in personas {
            match engine.watch_once(persona).await {
                Ok(report) => {
                    for r in report.recorded.iter().filter(|r| ids.contains(&r.probe)) {
                        if tty {
                            eprint!("\r\x1b[2K");
                        }
                        let elapsed = engine
                            .store()
                            .get(&r.probe)?
                            .and_then(|p| p.filed_at)
                            .map(|f| human(r.at.duration_since(f)))
                            .unwrap_or_default();
                        println!(
                            "{}  +{elapsed}  {} from {} -> {}",
                            r.probe, r.class, r.vendor, r.state
                        );
                    }
                    if report.kept_unmatched > 0 {
                        if tty {
                            eprint!("\r\x1b[2K");
                        }
                        eprintln!(
                            "{} vendor repl{} matched no probe; kept for a person (`probe review`, `probe attach`)",
                            report.kept_unmatched,
                            if report.kept_unmatched == 1 {
                                "y"
                            } else {
                                "ies"
                            }
                        );
                    }
                }
                Err(e) => {
                    eprintln!("\rour side: cannot read replies for {persona}: {e} (retrying)")
                }
            }
        }
        let mut open = 0;
        for id in ids {
            if engine
                .store()
                .get(id)?
                .is_some_and(|p| p.state == ProbeState::Filed || p.conversation_open())
            {
                open += 1;
            }
        }
        // A conversation goes on while we wait: its follow-ups are sent here.
        for r in engine.converse_due().await? {
            if ids.contains(&r.probe) {
                if tty {
                    eprint!("\r\x1b[2K");
                }
                println!(
                    "{}  follow-up {}: {:?}{}",
                    r.probe,
                    r.index,
                    r.state,
                    r.reason.map(|x| format!(" ({x})")).unwrap_or_default()
                );
            }
        }
        if open == 0 {
            if tty {
                eprint!("\r\x1b[2K");
            }
            eprintln!(
                "done after {}",
                human(jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default())
            );
            return Ok(ExitCode::SUCCESS);
        }
        let channel = Arc::clone(engine.channel(&personas[0])?);
        let position = engine
            .store()
            .cursor(&channel.watch_key())?
            .map(|c| c.position);
        let poll = if personas.len() > 1 {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(25)
        };
        let wait = channel.wait(position.as_ref(), poll);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                r = &mut wait => {
                    if let Err(e) = r {
                        eprintln!("\rour side: {e} (retrying)");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    break;
                }
                _ = tick.tick() => {
                    if tty {
                        let secs = started.elapsed().as_secs();
                        eprint!("\r\x1b[2Kwaiting {:02}:{:02}:{:02}  ({open} open)", secs / 3600, secs / 60 % 60, secs % 60);
                        let _ = std::io::stderr().flush();
                    }
                }
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("\nstopped waiting; replies will be recorded by the daemon or the next `probe run --wait`");
                    return Ok(ExitCode::from(EX_INTERRUPTED));
                }
            }
        }
    }
}

/// `probe daemon`.
pub async fn daemon(g: &Global) -> Result<ExitCode, CliError> {
    let config = wiring::load_config(g)?;
    let dir = wiring::state_dir(g, Some(&config))?;
    let _lock = crate::daemon::lock_state_dir(&dir)?;
    let personas: Vec<String> = config.personas.iter().map(|p| p.name.clone()).collect();
    let persona_refs: Vec<&str> = personas.iter().map(String::as_str).collect();
    let shutdown = CancellationToken::new();
    let engine = wiring::engine(g, config, &persona_refs)?.with_shutdown(shutdown.clone());
    tracing::info!(state_dir = %dir.display(), "starting");
    let signals = shutdown.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop requested");
        signals.cancel();
    });
    let options = crate::daemon::Options {
        notifier: Some(crate::daemon::notify::Notifier::from_env()),
        rebuild: Some(rebuild(g, &engine, shutdown.clone())),
        reloads: Some(reload_requests()),
    };
    crate::daemon::run_with(Arc::new(engine), shutdown, options).await?;
    Ok(ExitCode::SUCCESS)
}

/// How a reload builds its engine: the same config file, store, clock and
/// shutdown token; every persona of the new config gets a channel (its
/// password read again, so a rotated credential takes effect on reload).
fn rebuild(
    g: &Global,
    engine: &Engine,
    shutdown: CancellationToken,
) -> crate::daemon::reload::Rebuild {
    use crate::daemon::reload::ReloadError;
    let path = g.config.clone();
    let store = Arc::clone(engine.store());
    let clock = Arc::clone(engine.clock());
    Box::new(move || {
        tracing::info!(config = %path.display(), "reloading the configuration");
        let loaded = crate::config::load(&path).map_err(ReloadError::Config)?;
        for w in &loaded.warnings {
            tracing::warn!("config warning: {w}");
        }
        let config = loaded.config;
        let personas: Vec<&str> = config.personas.iter().map(|p| p.name.as_str()).collect();
        let channels = wiring::channels(&config, &personas, &clock)
            .map_err(|e| ReloadError::Setup(Box::new(e)))?;
        let engine = Engine::new(
            Arc::new(config),
            Arc::clone(&store),
            Arc::clone(&clock),
            channels,
        )
        .map_err(|e| ReloadError::Setup(Box::new(e)))?;
        Ok(engine.with_shutdown(shutdown.clone()))
    })
}

/// One message per SIGHUP (`systemctl reload`).
fn reload_requests() -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        tracing::info!("reload requested (SIGHUP)");
                        if tx.send(()).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP; reload is unavailable"),
        }
    }
    #[cfg(not(unix))]
    drop(tx);
    rx
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
