//! `[persona.api]`: a persona that files and reads through a ticket API
//! instead of SMTP and IMAP — its shape (serde, `deny_unknown_fields`) and
//! its meaning checks, reported with `file:line:col` like the rest.
//!
//! ```toml
//! [persona.api]
//! preset = "zendesk"              # zendesk | jsm | github | slack | generic
//! base-url = "https://acme.zendesk.com"
//! auth = "basic"                  # bearer | basic | none | header:NAME (default: the preset's)
//! username = "dana@example.org/token"
//! token = { env = "ACME_ZENDESK_TOKEN" }
//! params = { user_id = "361" }    # template variables the preset or spec uses
//! timeout = "30s"
//! poll-interval = "1m"
//! retries = 4
//! closing-message = "Thanks, this was a scheduled support-response test; please close it."
//! mark-solved = true
//! # [persona.api.spec] ...        # preset = "generic" only: the whole API description
//! ```
//!
//! The API description itself lives here too, as data: [`spec`] (what a
//! `generic` persona writes) and [`presets`] (the built-in ones). The
//! channel (`channel::http`) executes them; this module never talks HTTP.

pub mod presets;
pub mod spec;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Secret;
use super::error::Reporter;
use super::value::{RawSecret, absolute, duration, is_loopback, secret};
use presets::AuthKind;
use spec::Spec;

/// The shape of `[persona.api]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawApi {
    pub preset: Spanned<String>,
    pub base_url: Option<Spanned<String>>,
    pub auth: Option<Spanned<String>>,
    pub username: Option<Spanned<String>>,
    pub token: Option<Spanned<RawSecret>>,
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub poll_interval: Option<Spanned<String>>,
    pub retries: Option<Spanned<i64>>,
    pub closing_message: Option<Spanned<String>>,
    pub mark_solved: Option<Spanned<bool>>,
    pub ca_file: Option<Spanned<PathBuf>>,
    pub spec: Option<Spanned<Spec>>,
}

/// A validated `[persona.api]`.
#[derive(Debug, Clone)]
pub struct ApiPersona {
    /// A preset name, or `generic`.
    pub preset: String,
    /// The API's root URL, without a trailing slash.
    pub base_url: String,
    /// How requests authenticate.
    pub auth: ApiAuth,
    /// The user name for basic authentication.
    pub username: Option<String>,
    /// The API token; resolved at use. `None` only with `auth = "none"`.
    pub token: Option<Secret>,
    /// Template variables.
    pub params: BTreeMap<String, String>,
    /// The spec of a `generic` persona (a preset builds its own).
    pub spec: Option<Spec>,
    /// The timeout of each request (default 30 s).
    pub timeout: Duration,
    /// How often replies are polled (default 1 min).
    pub poll_interval: Duration,
    /// How often a failed read is retried (default 4, at most 10).
    pub retries: u32,
    /// The closing courtesy message posted after the first human reply.
    pub closing_message: Option<String>,
    /// Whether to mark the ticket solved after the first human reply.
    pub mark_solved: bool,
    /// An extra trust root (PEM), absolute.
    pub ca_file: Option<PathBuf>,
}

/// How API requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiAuth {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// HTTP basic: `username` and the token.
    Basic,
    /// The token in the named header.
    Header(String),
    /// Nothing.
    None,
}

/// Whether this persona's API (its preset's spec, or its own generic spec)
/// can post a closing message.
pub(super) fn can_post_closing_message(api: &ApiPersona) -> bool {
    match &api.spec {
        Some(s) => s.close.is_some(),
        None => presets::find(&api.preset).is_none_or(|p| (p.spec)().close.is_some()),
    }
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POLL: Duration = Duration::from_secs(60);

/// Checks a `[persona.api]`; problems without a key of their own are
/// reported at its `preset`.
pub(super) fn api(rep: &mut Reporter<'_>, raw: RawApi) -> ApiPersona {
    let preset_name = raw.preset.get_ref().clone();
    let preset = presets::find(&preset_name);
    let generic = preset_name == "generic";
    if preset.is_none() && !generic {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        rep.error(
            raw.preset.span().start,
            format!(
                "unknown preset `{preset_name}`, expected one of {}, generic",
                names.join(", ")
            ),
        );
    }
    let spec = match (&raw.spec, generic) {
        (Some(s), true) => {
            for problem in spec::check(s.get_ref()) {
                rep.error(s.span().start, problem);
            }
            let mut unknown: Vec<String> = spec::templates(s.get_ref())
                .into_iter()
                .flat_map(spec::placeholders)
                .filter(|n| {
                    !spec::BUILT_IN_VARS.contains(&n.as_str()) && !raw.params.contains_key(n)
                })
                .collect();
            unknown.sort();
            unknown.dedup();
            for name in unknown {
                rep.error(
                    s.span().start,
                    format!(
                        "the spec uses {{{name}}}, which is neither a params key nor one of {}",
                        spec::BUILT_IN_VARS.join(", ")
                    ),
                );
            }
            Some(s.get_ref().clone())
        }
        (None, true) => {
            rep.error(
                raw.preset.span().start,
                "preset = \"generic\" needs a [persona.api.spec] table describing the API",
            );
            None
        }
        (Some(s), false) => {
            rep.error(
                s.span().start,
                "[persona.api.spec] is only for preset = \"generic\"; a preset brings its own",
            );
            None
        }
        (None, false) => None,
    };
    let base_url = match (&raw.base_url, preset.and_then(|p| p.base_url)) {
        (Some(u), _) => {
            let url = u.get_ref().trim_end_matches('/').to_string();
            let host = url
                .strip_prefix("http://")
                .map(|rest| rest.split(['/', ':']).next().unwrap_or_default());
            if !url.starts_with("https://") && !url.starts_with("http://") {
                rep.error(
                    u.span().start,
                    format!("base-url `{url}` must start with https://"),
                );
            } else if let Some(host) = host
                && !is_loopback(host)
            {
                rep.error(
                    u.span().start,
                    format!("base-url `{url}`: plain http is only allowed for 127.0.0.1, ::1 or localhost"),
                );
            }
            url
        }
        (None, Some(default)) => default.to_string(),
        (None, None) => {
            rep.error(raw.preset.span().start, "[persona.api] needs a base-url");
            String::new()
        }
    };
    let auth = match &raw.auth {
        None => match preset.map(|p| p.auth) {
            Some(AuthKind::Basic) => ApiAuth::Basic,
            _ => ApiAuth::Bearer,
        },
        Some(a) => match a.get_ref().as_str() {
            "bearer" => ApiAuth::Bearer,
            "basic" => ApiAuth::Basic,
            "none" => ApiAuth::None,
            other => match other.strip_prefix("header:") {
                Some(name)
                    if !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':') =>
                {
                    ApiAuth::Header(name.to_string())
                }
                _ => {
                    rep.error(
                        a.span().start,
                        format!("auth `{other}` must be bearer, basic, none or header:NAME"),
                    );
                    ApiAuth::None
                }
            },
        },
    };
    if auth == ApiAuth::Basic && raw.username.is_none() {
        rep.error(
            raw.preset.span().start,
            "basic authentication needs a username",
        );
    }
    let token = raw.token.map(|t| secret(rep, t));
    if token.is_none() && auth != ApiAuth::None {
        rep.error(
            raw.preset.span().start,
            "[persona.api] needs a token (or auth = \"none\")",
        );
    }
    if let Some(p) = preset {
        for required in p.required {
            if !raw.params.contains_key(*required) {
                rep.error(
                    raw.preset.span().start,
                    format!("preset `{}` needs params.{required}", p.name),
                );
            }
        }
        for (key, value) in &raw.params {
            if !p.required.contains(&key.as_str()) && !p.optional.contains(&key.as_str()) {
                let known: Vec<&str> = p.required.iter().chain(p.optional).copied().collect();
                rep.error(
                    value.span().start,
                    format!(
                        "preset `{}` has no param `{key}`, expected one of {}",
                        p.name,
                        known.join(", ")
                    ),
                );
            }
        }
    }
    let preset_spec = preset.map(|p| (p.spec)());
    let effective = spec.as_ref().or(preset_spec.as_ref());
    if let (Some(m), Some(s)) = (&raw.closing_message, effective)
        && s.close.is_none()
    {
        rep.error(
            m.span().start,
            format!("preset `{preset_name}` cannot post a closing message"),
        );
    }
    if let (Some(m), Some(s)) = (&raw.mark_solved, effective)
        && *m.get_ref()
        && s.solve.is_none()
    {
        rep.error(
            m.span().start,
            format!("preset `{preset_name}` cannot mark a ticket solved through the customer API"),
        );
    }
    let retries = match &raw.retries {
        None => 4,
        Some(r) => match u32::try_from(*r.get_ref()) {
            Ok(n) if n <= 10 => n,
            _ => {
                rep.error(r.span().start, "retries must be between 0 and 10");
                4
            }
        },
    };
    ApiPersona {
        preset: preset_name,
        base_url,
        auth,
        username: raw.username.map(Spanned::into_inner),
        token,
        params: raw
            .params
            .into_iter()
            .map(|(k, v)| (k, v.into_inner()))
            .collect(),
        spec,
        timeout: duration(
            rep,
            raw.timeout.as_ref(),
            DEFAULT_TIMEOUT,
            |d| d >= Duration::from_secs(1) && d <= Duration::from_secs(600),
            "timeout must be between 1s and 10m",
        ),
        poll_interval: duration(
            rep,
            raw.poll_interval.as_ref(),
            DEFAULT_POLL,
            |d| d >= Duration::from_secs(1),
            "poll-interval must be at least 1s",
        ),
        retries,
        closing_message: raw.closing_message.map(Spanned::into_inner),
        mark_solved: raw.mark_solved.is_some_and(|m| *m.get_ref()),
        ca_file: raw.ca_file.map(|p| absolute(rep, "ca-file", p)),
    }
}
