//! Is the daemon making progress? The answer feeds the systemd watchdog
//! (`WATCHDOG=1` is sent only while it is yes) and `/healthz`.
//!
//! Progress is defined by the work itself, not by a timer that keeps
//! running while the work is stuck:
//!
//! - the main loop's pass (recover, plan, file, expire) has a budget that
//!   covers every filing it may do (each up to `filing-retry-window` plus a
//!   send's network timeouts); a pass still running past its budget is stuck;
//! - each mailbox watcher beats after every round (read, record, wait),
//!   successful or not: our IMAP being down is not the daemon being stuck
//!   (the watcher backs off, and beats after each try). A watcher silent for
//!   longer than its budget is stuck.
//!
//! All times here are tokio's monotonic clock, which wall-clock jumps do not move.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::notify::Notifier;

/// How long one watcher round may take: the longest wait of its channel
/// (`poll-interval`, or one IDLE), the longest backoff after a failure, and
/// slack for a slow fetch.
pub fn watcher_budget(wait: Duration) -> Duration {
    wait + Duration::from_secs(300) + Duration::from_secs(600)
}

/// How long one main-loop pass may take when it has `due` probes to file.
pub fn step_budget(due: usize, filing_retry_window: Duration) -> Duration {
    // One send is at most four network timeouts (30 s each); with retries it
    // ends within the retry window plus one send.
    let per_filing = filing_retry_window + Duration::from_secs(150);
    let n = u32::try_from(due).unwrap_or(u32::MAX);
    Duration::from_secs(300).saturating_add(per_filing.saturating_mul(n))
}

#[derive(Debug, Default)]
struct State {
    /// The pass under way: when it began and how long it may take.
    step: Option<(Instant, Duration)>,
    /// When the last pass ended, and whether it succeeded.
    last_step: Option<(Instant, bool)>,
    /// Per watcher: its last beat and its budget.
    watchers: BTreeMap<String, (Instant, Duration)>,
}

/// The daemon's progress, shared by the main loop, the watchers and `/healthz`.
#[derive(Debug, Default)]
pub struct Health {
    state: Mutex<State>,
}

impl Health {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A main-loop pass begins, allowed to take `budget`.
    pub fn step_begin(&self, budget: Duration) {
        self.with(|s| s.step = Some((Instant::now(), budget)));
    }

    /// The pass ended.
    pub fn step_end(&self, ok: bool) {
        self.with(|s| {
            s.step = None;
            s.last_step = Some((Instant::now(), ok));
        });
    }

    /// A watcher finished a round (or started).
    pub fn beat(&self, watcher: &str, budget: Duration) {
        self.with(|s| {
            s.watchers
                .insert(watcher.to_string(), (Instant::now(), budget));
        });
    }

    /// Forgets the watchers (before a reload starts new ones).
    pub fn clear_watchers(&self) {
        self.with(|s| s.watchers.clear());
    }

    /// `Ok` while everything makes progress, else what is stuck.
    pub fn check(&self) -> Result<(), String> {
        let now = Instant::now();
        self.with(|s| {
            if let Some((began, budget)) = s.step
                && now.duration_since(began) > budget
            {
                return Err(format!(
                    "the main loop's pass has run for {} s, longer than its budget of {} s",
                    now.duration_since(began).as_secs(),
                    budget.as_secs()
                ));
            }
            for (name, (beat, budget)) in &s.watchers {
                if now.duration_since(*beat) > *budget {
                    return Err(format!(
                        "the watcher of persona {name} has not finished a round for {} s",
                        now.duration_since(*beat).as_secs()
                    ));
                }
            }
            Ok(())
        })
    }

    /// Whether the last main-loop pass succeeded (`None` before the first).
    pub fn last_step_ok(&self) -> Option<bool> {
        self.with(|s| s.last_step.map(|(_, ok)| ok))
    }
}

impl crate::metrics::Liveness for Health {
    fn check(&self) -> Result<(), String> {
        Health::check(self)
    }
}

/// Sends `WATCHDOG=1` if everything makes progress; otherwise sends no
/// ping (systemd will restart the daemon once `WatchdogSec=` passes), logs
/// what is stuck and puts it in the status line.
pub fn keepalive(notifier: &Notifier, health: &Health) {
    match health.check() {
        Ok(()) => notifier.watchdog(),
        Err(stuck) => {
            tracing::error!(%stuck, "not keeping the watchdog alive: the daemon is stuck");
            notifier.status(&format!("stuck: {stuck}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stuck_daemon_sends_no_watchdog_ping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let systemd = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        systemd.set_nonblocking(true).unwrap();
        let notifier = Notifier::new(path.to_str(), Some("2000000"), None);
        let h = Health::default();
        let mut buf = [0u8; 256];
        h.step_begin(Duration::from_secs(30));
        keepalive(&notifier, &h);
        let n = systemd.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        tokio::time::advance(Duration::from_secs(31)).await;
        keepalive(&notifier, &h);
        let n = systemd.recv(&mut buf).unwrap();
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(msg.starts_with("STATUS=stuck: the main loop"), "{msg}");
        assert!(systemd.recv(&mut buf).is_err(), "no WATCHDOG=1 while stuck");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pass_past_its_budget_is_stuck_and_an_ended_one_is_not() {
        let h = Health::default();
        assert!(h.check().is_ok());
        h.step_begin(Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(h.check().is_ok());
        tokio::time::advance(Duration::from_secs(2)).await;
        let err = h.check().unwrap_err();
        assert!(err.contains("main loop"), "{err}");
        h.step_end(true);
        assert!(h.check().is_ok());
        assert_eq!(h.last_step_ok(), Some(true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_watcher_is_stuck_until_it_beats_again() {
        let h = Health::default();
        h.beat("dana", Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(61)).await;
        let err = h.check().unwrap_err();
        assert!(err.contains("persona dana"), "{err}");
        h.beat("dana", Duration::from_secs(60));
        assert!(h.check().is_ok());
        tokio::time::advance(Duration::from_secs(61)).await;
        h.clear_watchers();
        assert!(h.check().is_ok());
    }

    #[test]
    fn budgets_grow_with_the_work() {
        let w = Duration::from_secs(600);
        assert!(step_budget(3, w) > step_budget(1, w));
        assert!(step_budget(0, w) >= Duration::from_secs(300));
        assert!(watcher_budget(Duration::from_secs(60)) > Duration::from_secs(60));
    }
}
