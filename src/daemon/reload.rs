//! `systemctl reload` (SIGHUP): read the config again and, if it is valid,
//! carry on with it; if not, log every error and keep the old one.
//!
//! The daemon does not know how to build channels (secrets are resolved by
//! the command line's wiring), so the caller passes a [`Rebuild`]: "load the
//! config file again and give me an engine on it", sharing the running
//! engine's store, clock and shutdown token. Nothing a probe needs lives in
//! memory: planned fires, filings in progress, probes awaiting replies and
//! mailbox checkpoints are all in the store, so swapping the engine loses
//! none of them. What a new config changes is handled by [`reconcile`] (a
//! planned fire that is not a fire of the current schedule, or whose probe
//! or zone went away, is retired as `skipped` and planning starts again
//! from now) and by restarting the mailbox watchers on the new engine (new
//! personas get one, removed ones lose theirs). `reconcile` needs only the
//! config in force, so the daemon also runs it at start: a config edited
//! while the daemon was stopped is honoured the same way.

use jiff::SignedDuration;

use crate::config::{Config, ConfigErrors};
use crate::engine::{Engine, EngineError};
use crate::model::{Origin, ProbeRecord, ProbeState};
use crate::schedule::CronSchedule;

/// Why a reload was refused (the old config stays in force).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file does not validate; every error, with file:line:col.
    #[error("{0}")]
    Config(ConfigErrors),
    /// It validates, but the engine cannot be built (e.g. a password cannot be read).
    #[error("{0}")]
    Setup(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Loads the config again and builds an engine on it.
pub type Rebuild = Box<dyn Fn() -> Result<Engine, ReloadError> + Send + Sync>;

/// Why a planned fire no longer belongs to `config`, if it does not: its
/// probe was removed or disabled, its zone was dropped, its instant is not
/// a fire of the current schedule, or its jitter is beyond the current one.
pub fn stale_reason(config: &Config, rec: &ProbeRecord) -> Option<String> {
    if rec.state != ProbeState::Planned || rec.origin != Origin::Schedule {
        return None;
    }
    let Some(probe) = config.probe(&rec.probe) else {
        return Some("not sent: the probe was removed from the config".to_string());
    };
    if !config.enabled {
        return Some("not sent: support-probe was disabled (enabled = false)".to_string());
    }
    if !probe.enabled {
        return Some(format!("not sent: probe {} was disabled", rec.probe));
    }
    let Some((_, tz)) = probe.zones.iter().find(|(z, _)| *z == rec.zone) else {
        return Some(format!(
            "not sent: zone {} was removed from probe {}",
            rec.zone, rec.probe
        ));
    };
    let changed = format!("replaced: the schedule of probe {} changed", rec.probe);
    let Ok(cron) = CronSchedule::parse(&probe.schedule) else {
        return Some(changed);
    };
    let just_before = rec.scheduled_for - SignedDuration::from_secs(1);
    if cron.next_after(just_before, tz) != Some(rec.scheduled_for) {
        return Some(changed);
    }
    let jitter = SignedDuration::try_from(probe.jitter).unwrap_or(SignedDuration::MAX);
    if rec.due_at.duration_since(rec.scheduled_for) > jitter {
        return Some(format!(
            "replaced: the jitter of probe {} changed",
            rec.probe
        ));
    }
    None
}

/// Retires every planned fire that the engine's config no longer wants
/// (see [`stale_reason`]); the next planning pass plans the current
/// schedules from now. Run at start (the config may have been edited while
/// the daemon was stopped) and after each reload. Returns how many fires
/// were retired.
pub fn reconcile(engine: &Engine) -> Result<usize, EngineError> {
    let mut retired = 0;
    for rec in engine.store().active()? {
        let Some(reason) = stale_reason(engine.config(), &rec) else {
            continue;
        };
        if engine
            .store()
            .write(|tx| tx.retire_planned(&rec.id, &reason))?
        {
            tracing::info!(probe = %rec.id, name = %rec.probe, zone = %rec.zone, "planned fire retired: {reason}");
            retired += 1;
        }
    }
    Ok(retired)
}

/// Logs a refused reload, one event per config error so that each
/// `file:line:col` is its own journal line.
pub fn log_refused(err: &ReloadError) {
    match err {
        ReloadError::Config(errors) => {
            tracing::error!(
                errors = errors.0.len(),
                "reload refused: the new config is invalid; the old one stays in force"
            );
            for d in &errors.0 {
                tracing::error!("config error: {d}");
            }
        }
        ReloadError::Setup(reason) => {
            tracing::error!(%reason, "reload refused; the old config stays in force");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::store::{Mode, Store};

    fn base() -> String {
        [
            r#"
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]
"#,
            &crate::testkit::persona_toml("me", "Me", "me@probe.example", ""),
            r#""#,
        ]
        .concat()
    }

    fn probe(name: &str, schedule: &str, zones: &str) -> String {
        format!(
            "[[probe]]\nname = \"{name}\"\nvendor = \"acme\"\npersona = \"me\"\n\
             schedule = \"{schedule}\"\nzones = [{zones}]\nsubject = \"t\"\nbody = \"b\"\n"
        )
    }

    fn engine(store: &Arc<Store>, clock: &ManualClock, probes: &str) -> Engine {
        let config = crate::config::parse_str(&format!("{}{probes}", base()), Path::new("t.toml"))
            .unwrap()
            .config;
        Engine::new(
            Arc::new(config),
            Arc::clone(store),
            Arc::new(clock.clone()) as Arc<dyn Clock>,
            BTreeMap::new(),
        )
        .unwrap()
    }

    fn planned(e: &Engine, name: &str) -> Vec<ProbeRecord> {
        e.store()
            .active()
            .unwrap()
            .into_iter()
            .filter(|p| p.probe == name && p.state == ProbeState::Planned)
            .collect()
    }

    #[test]
    fn only_fires_the_current_config_does_not_want_are_retired_and_replanned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Mode::Exclusive).unwrap());
        let clock = ManualClock::new("2026-11-02T12:00:00Z".parse().unwrap());
        let old = engine(
            &store,
            &clock,
            &format!(
                "{}{}{}",
                probe("same", "0 0 3 * * *", "\"UTC\""),
                probe("moved", "0 0 3 * * *", "\"UTC\""),
                probe("gone", "0 0 3 * * *", "\"UTC\", \"Europe/Berlin\""),
            ),
        );
        old.plan().unwrap();
        let same_before = planned(&old, "same");
        assert_eq!(same_before.len(), 1);

        // The file edited (while stopped, or before a reload).
        let new = engine(
            &store,
            &clock,
            &format!(
                "{}{}{}",
                probe("same", "0 0 3 * * *", "\"UTC\""),
                probe("moved", "0 0 4 * * *", "\"UTC\""),
                probe("added", "0 0 4 * * *", "\"UTC\""),
            ),
        );
        assert_eq!(reconcile(&new).unwrap(), 3, "moved, gone UTC, gone Berlin");
        assert_eq!(reconcile(&new).unwrap(), 0, "idempotent");
        assert_eq!(planned(&new, "same"), same_before, "untouched");
        assert!(planned(&new, "gone").is_empty());
        let all = store.all().unwrap();
        let moved_old = all
            .iter()
            .find(|p| p.probe == "moved" && p.state == ProbeState::Skipped)
            .unwrap();
        assert_eq!(
            moved_old.state_reason.as_deref(),
            Some("replaced: the schedule of probe moved changed")
        );
        new.plan().unwrap();
        let moved = planned(&new, "moved");
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].scheduled_for.to_string(), "2026-11-03T04:00:00Z");
        assert_eq!(planned(&new, "added").len(), 1);
        assert_eq!(planned(&new, "same").len(), 1, "nothing planned twice");
    }

    #[test]
    fn a_dropped_zone_and_a_smaller_jitter_are_stale_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Mode::Exclusive).unwrap());
        let clock = ManualClock::new("2026-11-02T12:00:00Z".parse().unwrap());
        let old = engine(
            &store,
            &clock,
            &probe("p", "0 0 3 * * *", "\"UTC\", \"Asia/Tokyo\"")
                .replace("subject", "jitter = \"2h\"\nsubject"),
        );
        old.plan().unwrap();
        let new = engine(&store, &clock, &probe("p", "0 0 3 * * *", "\"UTC\""));
        let reasons: Vec<String> = store
            .active()
            .unwrap()
            .iter()
            .filter_map(|r| stale_reason(new.config(), r))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("zone Asia/Tokyo was removed")),
            "{reasons:?}"
        );
        // The UTC fire is stale only if its drawn jitter exceeds the new zero jitter.
        let utc = store
            .active()
            .unwrap()
            .into_iter()
            .find(|r| r.zone == "UTC")
            .unwrap();
        let expected = (utc.due_at > utc.scheduled_for)
            .then(|| "replaced: the jitter of probe p changed".to_string());
        assert_eq!(stale_reason(new.config(), &utc), expected);
    }
}
