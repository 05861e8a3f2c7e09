//! `probe daemon`: the long-running loop.
//!
//! One task per persona watches its mailbox (IDLE or polling) and records
//! replies; the main loop plans, files what is due and closes answer
//! windows, then sleeps until the next due probe (at most a minute). The
//! shutdown trigger is passed in: on SIGTERM the main loop finishes the
//! filing in progress, the watchers stop between operations, and the
//! function returns once everything is drained (or after a deadline).
//!
//! Architecture Invariant: a failing watcher or filing never stops the
//! daemon; it is logged and retried with backoff, and it never counts
//! against a vendor.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engine::{Engine, EngineError};

/// The longest the main loop sleeps, so config-independent work (expiry,
/// recovery) runs at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(60);
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
    let recovered = engine.recover()?;
    if !recovered.is_empty() {
        tracing::warn!(
            count = recovered.len(),
            "probes left in filing by a previous run are uncertain"
        );
    }
    let tracker = TaskTracker::new();
    let poll = engine.config().daemon.poll_interval;
    for persona in engine.personas().map(str::to_string).collect::<Vec<_>>() {
        let engine = Arc::clone(&engine);
        let shutdown = shutdown.clone();
        tracker.spawn(async move { watch(engine, persona, poll, shutdown).await });
    }
    tracker.close();
    tracing::info!(
        personas = engine.personas().count(),
        probes = engine.config().probes.len(),
        "daemon running"
    );

    while !shutdown.is_cancelled() {
        if let Err(e) = step(&engine).await {
            tracing::error!(error = %e, "daemon step failed; retrying in a minute");
        }
        let pause = match engine.next_due() {
            Ok(Some(due)) => {
                let now = engine.clock().now();
                let ms = due.duration_since(now).as_millis().max(0);
                Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)).min(MAX_SLEEP)
            }
            _ => MAX_SLEEP,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => {}
        }
    }
    tracing::info!("stopping: waiting for the watchers");
    if tokio::time::timeout(DRAIN_DEADLINE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "watchers did not stop within {} s",
            DRAIN_DEADLINE.as_secs()
        );
    }
    tracing::info!("stopped");
    Ok(())
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
    engine.expire()?;
    Ok(())
}

/// One persona's watcher: read, record, wait, with backoff on our failures.
async fn watch(engine: Arc<Engine>, persona: String, poll: Duration, shutdown: CancellationToken) {
    let mut backoff = crate::engine::Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
    let mut rng = fastrand::Rng::new();
    while !shutdown.is_cancelled() {
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
