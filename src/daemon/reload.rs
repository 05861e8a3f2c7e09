//! `systemctl reload` (SIGHUP): read the config again and, if it is valid,
//! carry on with it; if not, log every error and keep the old one.
//!
//! The daemon does not know how to build channels (secrets are resolved by
//! the command line's wiring), so the caller passes a [`Rebuild`]: "load the
//! config file again and give me an engine on it", sharing the running
//! engine's store, clock and shutdown token. Nothing a probe needs lives in
//! memory: planned fires, filings in progress, probes awaiting replies and
//! mailbox checkpoints are all in the store, so swapping the engine loses
//! none of them. What a new config changes is handled by [`replan`] (a
//! schedule that changed or went away replaces its planned, not yet due
//! fires) and by restarting the mailbox watchers on the new engine (new
//! personas get one, removed ones lose theirs).

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::config::{Config, ConfigErrors};
use crate::engine::Engine;
use crate::store::{Store, StoreError};

/// Why a reload was refused (the old config stays in force).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file does not validate; every error, with file:line:col.
    #[error("{0}")]
    Config(ConfigErrors),
    /// It validates, but the engine cannot be built (e.g. a password cannot be read).
    #[error("{0}")]
    Setup(String),
}

/// Loads the config again and builds an engine on it.
pub type Rebuild = Box<dyn Fn() -> Result<Engine, ReloadError> + Send + Sync>;

/// The (probe, zone) pairs whose planned fires the new config invalidates,
/// each with the reason written on the replaced records.
pub fn changed_schedules(old: &Config, new: &Config) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for p in &old.probes {
        let reason = match new.probe(&p.name) {
            None => Some("not sent: the probe was removed from the config (reload)".to_string()),
            Some(_) if !new.enabled => {
                Some("not sent: support-probe was disabled (enabled = false, reload)".to_string())
            }
            Some(n) if !n.enabled => {
                Some(format!("not sent: probe {} was disabled (reload)", p.name))
            }
            Some(n) if n.schedule != p.schedule || n.jitter != p.jitter => Some(format!(
                "replaced: the schedule of probe {} changed on reload",
                p.name
            )),
            Some(_) => None,
        };
        let new_zones: BTreeSet<&str> = new
            .probe(&p.name)
            .map(|n| n.zones.iter().map(|(z, _)| z.as_str()).collect())
            .unwrap_or_default();
        for (zone, _) in &p.zones {
            let why = reason.clone().or_else(|| {
                (!new_zones.contains(zone.as_str())).then(|| {
                    format!(
                        "not sent: zone {zone} was removed from probe {} (reload)",
                        p.name
                    )
                })
            });
            if let Some(why) = why {
                out.push((p.name.clone(), zone.clone(), why));
            }
        }
    }
    out
}

/// Replaces the planned, not yet due fires that the new config no longer
/// wants (see [`changed_schedules`]); the next planning pass plans the new
/// schedules from now. Fires already due stay and are judged when filed
/// (a probe no longer in the config is then refused). Returns how many
/// records were replaced.
pub fn replan(
    store: &Store,
    old: &Config,
    new: &Config,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut total = 0;
    for (probe, zone, reason) in changed_schedules(old, new) {
        let n = store.write(|tx| tx.replace_planned(&probe, &zone, now, &reason))?;
        if n > 0 {
            tracing::info!(%probe, %zone, replaced = n, "planned fires replaced: {reason}");
        }
        total += n;
    }
    Ok(total)
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
    use super::*;

    const BASE: &str = r#"
[[vendor]]
name = "acme"
addresses = ["support@acme.example"]

[[persona]]
name = "me"
display-name = "Me"
address = "me@probe.example"
[persona.smtp]
host = "127.0.0.1"
port = 25
security = "insecure"
username = "me"
password = { env = "NOPE" }
[persona.imap]
host = "127.0.0.1"
port = 143
security = "insecure"
username = "me"
password = { env = "NOPE" }
"#;

    fn config(probes: &str) -> Config {
        crate::config::parse_str(&format!("{BASE}{probes}"), std::path::Path::new("t.toml"))
            .unwrap()
            .config
    }

    fn probe(name: &str, schedule: &str, zones: &str) -> String {
        format!(
            "[[probe]]\nname = \"{name}\"\nvendor = \"acme\"\npersona = \"me\"\n\
             schedule = \"{schedule}\"\nzones = [{zones}]\nsubject = \"t\"\nbody = \"b\"\n"
        )
    }

    #[test]
    fn only_changed_removed_or_disabled_schedules_are_replanned() {
        let old = config(&format!(
            "{}{}{}",
            probe("same", "0 0 3 * * *", "\"UTC\""),
            probe("moved", "0 0 3 * * *", "\"UTC\""),
            probe("gone", "0 0 3 * * *", "\"UTC\", \"Europe/Berlin\""),
        ));
        let new = config(&format!(
            "{}{}{}",
            probe("same", "0 0 3 * * *", "\"UTC\""),
            probe("moved", "0 0 4 * * *", "\"UTC\""),
            probe("added", "0 0 4 * * *", "\"UTC\""),
        ));
        let mut changed: Vec<(String, String)> = changed_schedules(&old, &new)
            .into_iter()
            .map(|(p, z, _)| (p, z))
            .collect();
        changed.sort();
        assert_eq!(
            changed,
            vec![
                ("gone".into(), "Europe/Berlin".into()),
                ("gone".into(), "UTC".into()),
                ("moved".into(), "UTC".into()),
            ]
        );
        let zone_dropped = config(&probe("gone", "0 0 3 * * *", "\"UTC\""));
        let dropped = changed_schedules(&old, &zone_dropped);
        assert!(
            dropped
                .iter()
                .any(|(p, z, why)| p == "gone" && z == "Europe/Berlin" && why.contains("zone"))
        );
        assert!(!dropped.iter().any(|(p, z, _)| p == "gone" && z == "UTC"));
    }
}
