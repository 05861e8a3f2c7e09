//! The real engine on a config text, with the channels `probe` itself
//! would wire (for the personas of the mail stack, RT or the fakes).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use support_probe::channel::Channel;
use support_probe::clock::{Clock, SystemClock};
use support_probe::config;
use support_probe::engine::Engine;
use support_probe::store::{Mode, Store};

/// Installs the TLS provider, as `main` does.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An engine on `text` (read as `dir/probes.toml`) on the system clock,
/// every persona's channel wired, its store in `dir/state`, 200 ms
/// between filing retries.
pub fn engine(text: &str, dir: &Path) -> Engine {
    engine_wrapped(text, dir, |channel| channel)
}

/// [`engine`] with each channel passed through `wrap` (to time or count it).
pub fn engine_wrapped(
    text: &str,
    dir: &Path,
    wrap: impl Fn(Arc<dyn Channel>) -> Arc<dyn Channel>,
) -> Engine {
    let loaded = config::parse_str(text, &dir.join("probes.toml")).unwrap();
    let config = loaded.config;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let names: Vec<&str> = config.personas.iter().map(|p| p.name.as_str()).collect();
    let channels: BTreeMap<String, Arc<dyn Channel>> =
        support_probe::cli::wiring::channels(&config, &names, &clock)
            .unwrap()
            .into_iter()
            .map(|(name, channel)| (name, wrap(channel)))
            .collect();
    let store = Store::open(&dir.join("state"), Mode::Exclusive).unwrap();
    Engine::new(Arc::new(config), Arc::new(store), clock, channels)
        .unwrap()
        .with_retry_pause(Duration::from_millis(200))
}
