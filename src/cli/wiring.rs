//! Wiring: from command-line options to a loaded config, a store and an
//! engine with one email channel per persona (secrets resolved here, at
//! start, so a missing password is reported before anything is sent).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{CliError, Global};
use crate::channel::Channel;
use crate::channel::email::{self, EmailChannel, EmailSettings};
use crate::channel::http::{self, HttpChannel};
use crate::clock::{Clock, SystemClock};
use crate::config::{self, Config};
use crate::engine::Engine;
use crate::store::{Mode, Store};

/// Timeout for one network operation of the email channel.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads and validates the config, printing its warnings.
pub fn load_config(g: &Global) -> Result<Config, CliError> {
    let loaded = config::load(&g.config).map_err(CliError::Config)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded.config)
}

/// The state directory: `--state-dir`, `$STATE_DIRECTORY` (systemd), the
/// config's `daemon.state-dir`, or `~/.local/state/support-probe`.
pub fn state_dir(g: &Global, config: Option<&Config>) -> Result<PathBuf, CliError> {
    if let Some(dir) = &g.state_dir {
        return Ok(dir.clone());
    }
    if let Some(dir) = std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several, colon-separated; the first is ours.
        let first = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        if !first.is_empty() {
            return Ok(PathBuf::from(first));
        }
    }
    if let Some(dir) = config.and_then(|c| c.daemon.state_dir.clone()) {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return Ok(PathBuf::from(dir).join("support-probe"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/support-probe")),
        None => Err(CliError::Usage(
            "no state directory: pass --state-dir or set daemon.state-dir".into(),
        )),
    }
}

/// Opens the store for a command that may run beside the daemon.
pub fn open_store(g: &Global, config: Option<&Config>) -> Result<Store, CliError> {
    let dir = state_dir(g, config)?;
    Ok(Store::open(&dir, Mode::Shared)?)
}

fn server(s: &config::Server, what: &str) -> Result<email::Server, CliError> {
    email::Server::from_config(s).map_err(|source| CliError::Secret {
        what: format!("{what} password"),
        source,
    })
}

/// The email channel of each named persona.
pub fn channels(
    config: &Config,
    personas: &[&str],
    clock: &Arc<dyn Clock>,
) -> Result<BTreeMap<String, Arc<dyn Channel>>, CliError> {
    let mut out: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
    for name in personas {
        let p = config
            .persona(name)
            .ok_or_else(|| CliError::Usage(format!("no persona named {name:?}")))?;
        if let Some(api) = &p.api {
            out.insert(p.name.clone(), Arc::new(api_channel(p, api, clock)?));
            continue;
        }
        let (Some(smtp), Some(imap)) = (&p.smtp, &p.imap) else {
            return Err(CliError::Usage(format!("persona {name:?} has no channel")));
        };
        let settings = EmailSettings {
            smtp: server(smtp, &format!("persona {} SMTP", p.name))?,
            imap: server(&imap.server, &format!("persona {} IMAP", p.name))?,
            mailbox: imap.mailbox.clone(),
            idle: imap.idle,
            timeout: NETWORK_TIMEOUT,
        };
        let channel = EmailChannel::new(settings, Arc::clone(clock))?;
        out.insert(p.name.clone(), Arc::new(channel));
    }
    Ok(out)
}

/// The ticket-API channel of a persona, its token resolved now.
pub fn api_channel(
    p: &config::Persona,
    api: &config::ApiPersona,
    clock: &Arc<dyn Clock>,
) -> Result<HttpChannel, CliError> {
    let token = match &api.token {
        Some(secret) => Some(secret.resolve().map_err(|source| CliError::Secret {
            what: format!("persona {} API token", p.name),
            source,
        })?),
        None => None,
    };
    Ok(http::build::channel(p, api, token, Arc::clone(clock))?)
}

/// An engine on the real clock for the given personas.
pub fn engine(g: &Global, config: Config, personas: &[&str]) -> Result<Engine, CliError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let channels = channels(&config, personas, &clock)?;
    let store = open_store(g, Some(&config))?;
    Ok(Engine::new(
        Arc::new(config),
        Arc::new(store),
        clock,
        channels,
    )?)
}
