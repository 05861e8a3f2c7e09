//! From a validated `[persona.api]` to an [`HttpChannel`]: the preset's
//! spec and hook (or the generic spec), the settings, the resolved token.

use std::sync::Arc;
use std::time::Duration;

use super::presets;
use super::{Auth, HttpChannel, HttpSettings, NoHook};
use crate::channel::ChannelError;
use crate::clock::Clock;
use crate::config::{ApiAuth, ApiPersona, Persona, SecretString};

/// The first pause before retrying a failed read.
const BACKOFF: Duration = Duration::from_secs(1);
/// The longest `Retry-After` waited out inside one call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The settings of `persona`'s API channel, with `token` already resolved.
pub fn settings(persona: &Persona, api: &ApiPersona, token: Option<SecretString>) -> HttpSettings {
    let kind = presets::find(&api.preset).map_or("http", |p| p.name);
    let secret = token.unwrap_or_else(|| SecretString::new(String::new()));
    let auth = match &api.auth {
        ApiAuth::None => Auth::None,
        ApiAuth::Bearer => Auth::Bearer(secret),
        ApiAuth::Basic => Auth::Basic {
            user: api.username.clone().unwrap_or_default(),
            secret,
        },
        ApiAuth::Header(name) => Auth::Header {
            name: name.clone(),
            secret,
        },
    };
    let mut params = api.params.clone();
    params
        .entry("persona_address".into())
        .or_insert_with(|| persona.address.clone());
    HttpSettings {
        persona: persona.name.clone(),
        kind,
        base_url: api.base_url.clone(),
        auth,
        params,
        timeout: api.timeout,
        poll: api.poll_interval,
        retries: api.retries,
        backoff: BACKOFF,
        max_retry_after: MAX_RETRY_AFTER,
        closing_message: api.closing_message.clone(),
        mark_solved: api.mark_solved,
        ca_file: api.ca_file.clone(),
    }
}

/// The channel of `persona`, whose `[persona.api]` is `api`.
pub fn channel(
    persona: &Persona,
    api: &ApiPersona,
    token: Option<SecretString>,
    clock: Arc<dyn Clock>,
) -> Result<HttpChannel, ChannelError> {
    let settings = settings(persona, api, token);
    match presets::find(&api.preset) {
        Some(p) => HttpChannel::new(settings, (p.spec)(), (p.hook)(), clock),
        None => {
            let spec = api.spec.clone().ok_or_else(|| ChannelError::Protocol {
                server: api.base_url.clone(),
                reason: "a generic API persona without a spec".into(),
            })?;
            HttpChannel::new(settings, spec, Arc::new(NoHook), clock)
        }
    }
}
