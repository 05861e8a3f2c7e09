//! `probe daemon`: the long-running loop.
//!
//! One task per persona watches its mailbox (IDLE or polling) and records
//! replies; the main loop plans, files what is due and closes answer
//! windows, then sleeps until the next thing is due (`Engine::next_wakeup`;
//! at most ten minutes). The
//! shutdown trigger is passed in: on SIGTERM the main loop finishes the
//! filing in progress, the watchers stop between operations, and the
//! function returns once everything is drained (or after a deadline).
//!
//! Architecture Invariant: a failing watcher or filing never stops the
//! daemon; it is logged and retried with backoff, and it never counts
//! against a vendor.
//!
//! Under systemd ([`run_with`]): `READY=1` once the store is open and every
//! task runs, `WATCHDOG=1` from the main loop only while [`health`] says the
//! work makes progress, `RELOADING=1`/`READY=1` around a reload ([`reload`]),
//! `STOPPING=1` on shutdown ([`notify`]). The optional HTTP listener (status
//! page, report API, `/metrics`, `/healthz`) is [`crate::metrics`]; it follows
//! config reloads through a watch channel.

pub mod health;
pub mod notify;
pub mod reload;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::{Engine, EngineError};
use health::Health;
use notify::Notifier;
use reload::Rebuild;

/// The longest the main loop sleeps even when nothing is due: the bound on
/// how late a wall-clock step or a suspend (during which the monotonic
/// timers stand still) is noticed. Everything else wakes the loop at its
/// own instant (see `Engine::next_wakeup`).
const MAX_SLEEP: Duration = Duration::from_secs(10 * 60);
/// How soon a failed pass of the main loop is tried again.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(60);
/// How long shutdown waits for the watchers.
const DRAIN_DEADLINE: Duration = Duration::from_secs(15);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another probe daemon is running on {dir} ({holder}); stop it first")]
    AlreadyRunning { dir: PathBuf, holder: String },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("refusing to serve metrics: {0}")]
    MetricsCredentials(#[from] crate::metrics::CredentialsError),
}

/// What the daemon gets from its host besides the engine and the shutdown
/// token. The default (nothing) is a daemon without systemd and without reload.
#[derive(Default)]
pub struct Options {
    /// Where readiness, watchdog and status go.
    pub notifier: Option<Notifier>,
    /// How to build an engine on a re-read config.
    pub rebuild: Option<Rebuild>,
    /// One message per reload request (SIGHUP).
    pub reloads: Option<tokio::sync::mpsc::UnboundedReceiver<()>>,
}

/// An exclusive claim on a state directory for one daemon, released when dropped.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
}

/// Claims `state_dir` for this daemon, or says who holds it.
pub fn lock_state_dir(state_dir: &Path) -> Result<DaemonLock, DaemonError> {
    let path = state_dir.join("daemon.lock");
    let lock_err = |source| DaemonError::Lock {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(state_dir).map_err(lock_err)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(lock_err)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .map_or_else(|| "pid unknown".to_string(), |pid| format!("pid {pid}"));
            return Err(DaemonError::AlreadyRunning {
                dir: state_dir.to_path_buf(),
                holder,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(lock_err(e)),
    }
    file.set_len(0).map_err(lock_err)?;
    writeln!(file, "{}", std::process::id()).map_err(lock_err)?;
    Ok(DaemonLock { _file: file })
}

/// Runs the daemon until `shutdown` is cancelled.
pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken) -> Result<(), DaemonError> {
    run_with(engine, shutdown, Options::default()).await
}

/// The mailbox watchers of one engine (one generation: a reload replaces them).
struct Watchers {
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl Watchers {
    fn start(engine: &Arc<Engine>, shutdown: &CancellationToken, health: &Arc<Health>) -> Watchers {
        let stop = shutdown.child_token();
        let tracker = TaskTracker::new();
        let poll = engine.config().daemon.poll_interval;
        for persona in engine.personas().map(str::to_string).collect::<Vec<_>>() {
            let engine = Arc::clone(engine);
            let stop = stop.clone();
            let health = Arc::clone(health);
            health.beat(&persona, watcher_budget(&engine, &persona, poll));
            tracker.spawn(async move { watch(engine, persona, poll, stop, health).await });
        }
        // The digest task belongs to the engine's generation too, so a reload
        // hands it the new config.
        tracker.spawn(crate::digest::run(Arc::clone(engine), stop.clone()));
        tracker.close();
        Watchers { stop, tracker }
    }

    async fn stop(&self) {
        self.stop.cancel();
        if tokio::time::timeout(DRAIN_DEADLINE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "watchers did not stop within {} s",
                DRAIN_DEADLINE.as_secs()
            );
        }
    }
}

/// Waits for the next watchdog tick, or forever without a watchdog.
async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Waits for the next reload request, or forever without a reload source.
async fn next_reload(rx: &mut Option<tokio::sync::mpsc::UnboundedReceiver<()>>) -> Option<()> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn status_line(engine: &Engine, health: &Health) -> String {
    let pauses = engine.store().pauses().unwrap_or_default();
    let paused = if pauses.is_empty() {
        String::new()
    } else {
        let scopes: Vec<String> = pauses.iter().map(crate::store::Pause::scope).collect();
        format!("; paused: {}", scopes.join(", "))
    };
    let last = match health.last_step_ok() {
        None => "",
        Some(true) => "; last pass ok",
        Some(false) => "; last pass failed (see the log)",
    };
    let next = match engine.next_due() {
        Ok(Some(t)) => format!("; next probe due {t}"),
        _ => String::new(),
    };
    format!(
        "watching {} mailbox(es), {} probe(s) configured{last}{next}{paused}",
        engine.personas().count(),
        engine.config().probes.len()
    )
}

/// Runs the daemon until `shutdown` is cancelled, notifying systemd,
/// reloading on request and serving metrics if configured.
pub async fn run_with(
    mut engine: Arc<Engine>,
    shutdown: CancellationToken,
    options: Options,
) -> Result<(), DaemonError> {
    let Options {
        notifier,
        rebuild,
        mut reloads,
    } = options;
    let notifier = notifier.unwrap_or_else(Notifier::disabled);
    let health = Arc::new(Health::default());
    let recovered = engine.recover()?;
    if !recovered.is_empty() {
        tracing::warn!(
            count = recovered.len(),
            "probes left in filing by a previous run are uncertain"
        );
    }
    // The config may have been edited while the daemon was stopped.
    if let Err(e) = reload::reconcile(&engine) {
        tracing::error!(error = %e, "cannot retire the planned fires of changed schedules");
    }
    // The listener follows the config through reloads (vendors, zone,
    // targets); its address and credentials are fixed for the process.
    let (config_tx, config_rx) = tokio::sync::watch::channel(Arc::clone(engine.config()));
    let metrics = engine.config().metrics.clone();
    if metrics.enabled {
        // Read once, now: an unreadable secret refuses to start.
        let auth = metrics.auth.clone();
        let credentials =
            tokio::task::spawn_blocking(move || crate::metrics::Credentials::resolve(&auth))
                .await
                .map_err(|e| DaemonError::Metrics {
                    addr: metrics.listen,
                    source: std::io::Error::other(e),
                })??;
        let addr = crate::metrics::serve(
            metrics.listen,
            crate::metrics::Server {
                store: Arc::clone(engine.store()),
                health: Arc::clone(&health) as Arc<dyn crate::metrics::Liveness>,
                clock: Arc::clone(engine.clock()),
                config: config_rx,
                credentials,
            },
            shutdown.clone(),
        )
        .await
        .map_err(|source| DaemonError::Metrics {
            addr: metrics.listen,
            source,
        })?;
        tracing::info!(%addr, "serving /, /api/report, /metrics and /healthz");
    }
    let mut watchers = Watchers::start(&engine, &shutdown, &health);
    tracing::info!(
        personas = engine.personas().count(),
        probes = engine.config().probes.len(),
        "daemon running"
    );
    notifier.ready(&status_line(&engine, &health));
    let mut ping = notifier.watchdog_interval().map(|every| {
        let mut i = tokio::time::interval(every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });

    while !shutdown.is_cancelled() {
        let due = engine
            .store()
            .active()
            .map(|a| {
                a.iter()
                    .filter(|p| p.state == crate::model::ProbeState::Planned)
                    .count()
            })
            .unwrap_or(0);
        health.step_begin(health::step_budget(
            due,
            engine.config().daemon.filing_retry_window,
        ));
        let result = {
            let pass = step(&engine);
            tokio::pin!(pass);
            let mut told_stopping = false;
            loop {
                tokio::select! {
                    r = &mut pass => break r,
                    _ = tick(&mut ping) => health::keepalive(&notifier, &health),
                    // Tell systemd at once; the pass finishes its filing first.
                    _ = shutdown.cancelled(), if !told_stopping => {
                        told_stopping = true;
                        notifier.stopping();
                    }
                }
            }
        };
        health.step_end(result.is_ok());
        let failed = result.is_err();
        if let Err(e) = result {
            tracing::error!(error = %e, "daemon step failed; retrying in a minute");
        }
        notifier.status(&status_line(&engine, &health));
        // Sleep until the next thing is due; an idle daemon does no
        // periodic work (BENCHMARKS.md, footprint).
        let pause = match engine.next_wakeup() {
            _ if failed => RETRY_AFTER_ERROR,
            Ok(Some(due)) => {
                let now = engine.clock().now();
                let ms = due.duration_since(now).as_millis().max(0);
                Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)).min(MAX_SLEEP)
            }
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                tracing::error!(error = %e, "cannot read what is due next; retrying in a minute");
                RETRY_AFTER_ERROR
            }
        };
        let sleep = tokio::time::sleep(pause);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                _ = shutdown.cancelled() => break,
                _ = tick(&mut ping) => health::keepalive(&notifier, &health),
                Some(()) = next_reload(&mut reloads) => {
                    match &rebuild {
                        Some(rebuild) => {
                            reload_now(rebuild, &mut engine, &mut watchers, &shutdown, &health, &notifier, &config_tx).await;
                        }
                        None => tracing::warn!("reload requested, but this daemon cannot reload"),
                    }
                    // A pass at once, on the config now in force.
                    break;
                }
            }
        }
    }
    notifier.stopping();
    tracing::info!("stopping: waiting for the watchers");
    watchers.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// Applies a reload: a new engine on the re-read config replaces `engine`,
/// the planned fires of changed schedules are replaced and the watchers are
/// restarted; or, if the config is refused, everything stays as it was.
/// The HTTP listener gets the new config before `READY=1`, so whoever waits
/// for the reload to finish sees it there too.
async fn reload_now(
    rebuild: &Rebuild,
    engine: &mut Arc<Engine>,
    watchers: &mut Watchers,
    shutdown: &CancellationToken,
    health: &Arc<Health>,
    notifier: &Notifier,
    listener_config: &tokio::sync::watch::Sender<Arc<crate::config::Config>>,
) {
    notifier.reloading();
    let new = match rebuild() {
        Ok(new) => Arc::new(new),
        Err(e) => {
            reload::log_refused(&e);
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            notifier.ready(&format!(
                "reload refused, running on the previous config: {first}"
            ));
            return;
        }
    };
    if new.config().metrics != engine.config().metrics {
        tracing::warn!("[metrics] changes take effect at the next restart");
    }
    if let Err(e) = reload::reconcile(&new) {
        tracing::error!(error = %e, "cannot retire the planned fires of changed schedules");
    }
    // The old watchers stop between operations; what they recorded is in
    // the store, and the new ones read on from the same checkpoints.
    watchers.stop().await;
    health.clear_watchers();
    *engine = new;
    *watchers = Watchers::start(engine, shutdown, health);
    tracing::info!(
        personas = engine.personas().count(),
        probes = engine.config().probes.len(),
        "config reloaded"
    );
    listener_config.send_replace(Arc::clone(engine.config()));
    notifier.ready(&status_line(engine, health));
}

/// One pass of the main loop.
async fn step(engine: &Engine) -> Result<(), EngineError> {
    engine.recover()?;
    let planned = engine.plan()?;
    if !planned.skipped.is_empty() {
        tracing::warn!(
            count = planned.skipped.len(),
            "missed fires recorded as skipped"
        );
    }
    engine.file_due().await?;
    engine.converse_due().await?;
    engine.expire()?;
    Ok(())
}

/// How long a round of `persona`'s watcher may take, given how long its
/// channel may wait (IMAP IDLE lasts longer than the poll interval).
fn watcher_budget(engine: &Engine, persona: &str, poll: Duration) -> Duration {
    let wait = engine
        .channel(persona)
        .map_or(poll, |c| c.longest_wait(poll));
    health::watcher_budget(wait)
}

/// One persona's watcher: read, record, wait, with backoff on our failures.
async fn watch(
    engine: Arc<Engine>,
    persona: String,
    poll: Duration,
    shutdown: CancellationToken,
    health: Arc<Health>,
) {
    let mut backoff = crate::engine::Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
    let mut rng = fastrand::Rng::new();
    let budget = watcher_budget(&engine, &persona, poll);
    while !shutdown.is_cancelled() {
        health.beat(&persona, budget);
        let outcome = async {
            engine.watch_once(&persona).await?;
            engine.expire()?;
            let channel = Arc::clone(engine.channel(&persona)?);
            let position = engine
                .store()
                .cursor(&channel.watch_key())?
                .map(|c| c.position);
            tokio::select! {
                r = channel.wait(position.as_ref(), poll) => r.map_err(EngineError::from),
                _ = shutdown.cancelled() => Ok(()),
            }
        }
        .await;
        match outcome {
            Ok(()) => backoff.reset(),
            Err(e) => {
                // Watching is paused (our outage is recorded by the engine's
                // guard); the backoff has jitter so personas do not retry in step.
                let pause = backoff.next(&mut rng);
                tracing::warn!(%persona, error = %e, retry_in_ms = pause.as_millis(), "cannot read replies (our side); watching paused, retrying");
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}
