//! The config file (`probes.toml`): loading, validation and the validated types.
//!
//! Loading goes in three layers, each reporting every problem it finds:
//! 1. TOML syntax (`toml::de::DeTable`), one error per line at most; the
//!    later layers run only on a file without syntax errors;
//! 2. shape (`raw`): each top-level key and each `[[vendor]]`, `[[persona]]`
//!    and `[[probe]]` entry is deserialized on its own into serde structs
//!    with `deny_unknown_fields`, so a typo in one entry does not hide a
//!    mistake in another;
//! 3. meaning (`validate`): names, references, zones, cron expressions,
//!    durations, addresses, templates, limits.
//!
//! Every problem is a [`Diagnostic`] with `file:line:col`; the caller gets
//! either a [`Config`] plus warnings, or all the errors as [`ConfigErrors`]
//! (exit with [`EX_CONFIG`]).
//!
//! Architecture Invariant: this module never opens a network connection and
//! never reads a secret; [`Secret::resolve`] is called by the code that
//! needs the password, at the moment it needs it.

pub mod api;
mod duration;
mod error;
mod raw;
mod secret;
mod template;
mod validate;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::model::{BusinessCalendar, Helpdesk};

pub use api::{ApiAuth, ApiPersona};
pub use duration::{DurationError, DurationErrorKind, format_duration, parse_duration};
pub use error::{ConfigErrors, Diagnostic, EX_CONFIG, Position};
pub use secret::{Secret, SecretError, SecretString};
pub use template::{PLACEHOLDERS, TemplateVars, render};

/// A validated config and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The config, ready to use.
    pub config: Config,
    /// Things that are allowed but probably unwise (an inline password).
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates the config file at `path`. A missing or unreadable
/// file is an error naming the path, never an empty config.
pub fn load(path: &Path) -> Result<Loaded, ConfigErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_str(&text, path),
        Err(e) => Err(ConfigErrors(vec![Diagnostic {
            file: path.to_path_buf(),
            position: None,
            message: format!("cannot read the config file: {e}"),
        }])),
    }
}

/// Validates config text; `source` names the file in diagnostics and is
/// kept as [`Config::source`].
pub fn parse_str(text: &str, source: &Path) -> Result<Loaded, ConfigErrors> {
    let mut rep = error::Reporter::new(source, text);
    let config = raw::split_document(&mut rep).and_then(|doc| validate::validate(doc, &mut rep));
    let warnings = rep.finish()?;
    // Validation returns no config only after reporting an error, so this
    // fallback is never seen; it keeps `ConfigErrors` from being empty.
    let config = config.ok_or_else(|| {
        ConfigErrors(vec![Diagnostic {
            file: source.to_path_buf(),
            position: None,
            message: "the config was rejected without a specific error".to_string(),
        }])
    })?;
    Ok(Loaded { config, warnings })
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, as given.
    pub source: PathBuf,
    /// The global switch: when false nothing is planned and nothing is filed.
    pub enabled: bool,
    /// Daemon timing and storage.
    pub daemon: DaemonSettings,
    /// `[metrics]`: the optional `/metrics` and `/healthz` listener.
    pub metrics: MetricsSettings,
    /// The vendors, in file order, with unique names.
    pub vendors: Vec<Vendor>,
    /// The personas, in file order, with unique names.
    pub personas: Vec<Persona>,
    /// The probes, in file order, with unique names; each names an existing
    /// vendor and persona.
    pub probes: Vec<Probe>,
    /// `[report]`: how reports read time.
    pub report: ReportSettings,
    /// `[digest]`: the weekly digest email, if configured.
    pub digest: Option<DigestSettings>,
}

impl Config {
    /// The vendor with this name.
    pub fn vendor(&self, name: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.name == name)
    }

    /// The persona with this name.
    pub fn persona(&self, name: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| p.name == name)
    }

    /// The probe with this name.
    pub fn probe(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.name == name)
    }

    /// The closing courtesy message for `probe`: its own `closing-message`
    /// when set, else its persona's `[persona.api] closing-message`.
    pub fn closing_message<'a>(&'a self, probe: &'a Probe) -> Option<&'a str> {
        probe.closing_message.as_deref().or_else(|| {
            self.persona(&probe.persona)
                .and_then(|p| p.api.as_ref())
                .and_then(|a| a.closing_message.as_deref())
        })
    }

    /// The probes to schedule: none when the global switch is off,
    /// otherwise the enabled ones.
    pub fn active_probes(&self) -> impl Iterator<Item = &Probe> {
        self.probes.iter().filter(|p| self.enabled && p.enabled)
    }
}

/// `[daemon]`: timing and storage of the long-running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSettings {
    /// How often to poll IMAP when the server has no IDLE. Never zero.
    pub poll_interval: Duration,
    /// A fire missed by more than this (daemon down) is recorded as skipped.
    pub missed_grace: Duration,
    /// How long a failed SMTP send is retried before the probe is "not filed".
    pub filing_retry_window: Duration,
    /// Where the store lives, if set here (the CLI's `--state-dir` wins). Absolute.
    pub state_dir: Option<PathBuf>,
    /// At most this many probes to all vendors together in any rolling hour,
    /// checked in the store like the per-vendor caps. `None`: no global ceiling.
    pub max_filings_per_hour: Option<u32>,
}

/// `[metrics]`: the optional HTTP listener for the status page, the report
/// API, `/metrics` and `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Off unless `enabled = true`.
    pub enabled: bool,
    /// Where to listen; loopback by default. A non-loopback address
    /// requires [`MetricsSettings::auth`].
    pub listen: std::net::SocketAddr,
    /// Who may read the listener (every route but `/healthz`); nobody is
    /// asked when both are unset.
    pub auth: MetricsAuth,
}

/// `[metrics]` credentials, resolved once when the daemon starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsAuth {
    /// `token = { env = "..." }`: accepted as `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// `[metrics.basic-auth]`: accepted as `Authorization: Basic ...`.
    pub basic: Option<BasicAuth>,
}

impl MetricsAuth {
    /// Whether any credential is configured.
    pub fn is_set(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }
}

/// `[metrics.basic-auth]`: a user name and a password reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// The user name, written in the config.
    pub username: String,
    /// Where the password comes from, like a mailbox password.
    pub password: Secret,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: false,
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 9464)),
            auth: MetricsAuth::default(),
        }
    }
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            poll_interval: Duration::from_secs(60),
            missed_grace: Duration::from_secs(15 * 60),
            filing_retry_window: Duration::from_secs(10 * 60),
            state_dir: None,
            max_filings_per_hour: None,
        }
    }
}

/// `[[vendor]]`: a company whose support is probed.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// Unique, `[a-z0-9_-]+`.
    pub name: String,
    /// Where probes are sent; at least one when an email persona probes
    /// the vendor (a vendor reached only through an API may have none).
    pub addresses: Vec<String>,
    /// The vendor's helpdesk software (changes which evidence is trusted).
    pub helpdesk: Helpdesk,
    /// Limits on how many probes may reach the vendor.
    pub caps: Caps,
    /// When the vendor works; 24x7 in UTC when the config gives no hours.
    pub calendar: BusinessCalendar,
    /// First-response target per priority label.
    pub sla: BTreeMap<String, Duration>,
    /// Forced classifications, tried in file order.
    pub overrides: Vec<Override>,
}

impl Vendor {
    /// The first-response target for a priority label, if the vendor has one.
    pub fn sla_target(&self, priority: &str) -> Option<Duration> {
        self.sla.get(priority).copied()
    }
}

/// `caps`: how many probes may reach one vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// In any rolling 24 hours, `1..=Caps::MAX_PER_DAY`. Rolling windows
    /// (not calendar days) so that no choice of zone or midnight lets twice
    /// the cap through around a day boundary.
    pub per_day: u32,
    /// In any rolling 7 days, `per_day..=Caps::MAX_PER_WEEK`.
    pub per_week: u32,
}

impl Caps {
    /// The largest `per-day` the config accepts.
    pub const MAX_PER_DAY: u32 = 24;
    /// The largest `per-week` the config accepts.
    pub const MAX_PER_WEEK: u32 = 100;
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            per_day: 2,
            per_week: 10,
        }
    }
}

/// `[[vendor.override]]` entries are the classifier's own rule type: the
/// config only parses and validates them.
pub use crate::classify::{Override, OverrideField};

/// `[[persona]]`: the mailbox probes are sent from and replies arrive in.
#[derive(Debug, Clone)]
pub struct Persona {
    /// Unique, `[a-z0-9_-]+`.
    pub name: String,
    /// The `From:` display name; a single line.
    pub display_name: String,
    /// The `From:` address.
    pub address: String,
    /// A free-form label for reports (e.g. `eu`).
    pub region: Option<String>,
    /// Where probes are sent through (email personas).
    pub smtp: Option<Server>,
    /// Where replies are read from (email personas).
    pub imap: Option<ImapServer>,
    /// The ticket API probes are filed and read through (API personas,
    /// which have neither `smtp` nor `imap`).
    pub api: Option<ApiPersona>,
}

/// A mail server and how to log in to it.
#[derive(Debug, Clone)]
pub struct Server {
    /// Host name or IP address.
    pub host: String,
    /// TCP port, never zero.
    pub port: u16,
    /// Transport security; `Insecure` only on a loopback host.
    pub security: Security,
    /// Login name.
    pub username: String,
    /// Where the password comes from; resolved at use.
    pub password: Secret,
    /// An extra trust root (PEM), absolute path.
    pub ca_file: Option<PathBuf>,
}

/// `[persona.imap]`: the IMAP server plus the mailbox to watch.
#[derive(Debug, Clone)]
pub struct ImapServer {
    /// Host, port, security and login.
    pub server: Server,
    /// The mailbox to watch (default `INBOX`).
    pub mailbox: String,
    /// Whether to use IDLE when the server offers it (default true).
    pub idle: bool,
}

/// Transport security of a mail connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (SMTPS 465, IMAPS 993).
    Tls,
    /// Plain text upgraded with STARTTLS, required to succeed.
    StartTls,
    /// No TLS at all: loopback hosts only (a local relay, tests).
    Insecure,
}

impl Security {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Insecure => "insecure",
        }
    }
}

/// Where the matching token is put in a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenIn {
    /// In the subject only.
    Subject,
    /// In the body only.
    Body,
    /// In both (the default): survives helpdesks that rewrite either.
    #[default]
    Both,
}

/// `[[probe]]`: a schedule of synthetic tickets to one vendor from one persona.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Unique, `[a-z0-9_-]+`.
    pub name: String,
    /// The vendor's name; it exists in [`Config::vendors`].
    pub vendor: String,
    /// The persona's name; it exists in [`Config::personas`].
    pub persona: String,
    /// A valid cron expression with exactly 6 fields (`second minute hour
    /// day-of-month month day-of-week`), checked with `croner` set to
    /// seconds required and no year.
    pub schedule: String,
    /// The zones the schedule is read in, each its own schedule; at least one,
    /// no duplicates. The string is the IANA name as written.
    pub zones: Vec<(String, TimeZone)>,
    /// The largest random delay added to each fire; less than a day.
    pub jitter: Duration,
    /// The priority label; a key of the vendor's SLA table when it has one.
    pub priority: Option<String>,
    /// How long a human reply is waited for; more than zero, at most 90 days.
    pub answer_within: Duration,
    /// Where the token goes.
    pub token_in: TokenIn,
    /// Subject template (a single line); see [`render`].
    pub subject: String,
    /// Body template; see [`render`].
    pub body: String,
    /// Whether the probe is scheduled (the global switch also applies).
    pub enabled: bool,
    /// The language the probe is written in: a BCP 47 tag as written
    /// (`zh`, `zh-CN`, `zh-Hant-TW`, `es-419`), checked in shape only
    /// (language, optional script, optional region). Replies are judged
    /// against it.
    pub language: Option<String>,
    /// Facts unique to this probe, one of which is drawn per probe
    /// ([`Probe::detail_for`]) for the `{detail}` placeholder: each a
    /// non-empty single line, no duplicates. Empty when the key is absent;
    /// `{detail}` is allowed in templates only when it is not.
    pub details: Vec<String>,
    /// Regular expressions a right answer contains (the sources as written;
    /// each compiles with the `regex` crate and does not match an empty
    /// text). Empty when the key is absent.
    pub expect: Vec<String>,
    /// The messages sent after a human reply, in order; at most
    /// [`Probe::MAX_FOLLOW_UPS`].
    pub follow_ups: Vec<FollowUp>,
    /// The courtesy message sent once when the probe's conversation is
    /// over, by email or API. When both this and the persona's
    /// `[persona.api] closing-message` are set, this one wins; see
    /// [`Config::closing_message`].
    pub closing_message: Option<String>,
}

impl Probe {
    /// The most `follow-ups` a probe may have. Each one is a message to a
    /// vendor's real support staff; a small hard ceiling means that no
    /// mistake in the config or bug in the engine can turn one probe into
    /// a stream of mail.
    pub const MAX_FOLLOW_UPS: usize = 5;

    /// The detail drawn for the probe with this id: the same id always
    /// draws the same detail (a stable FNV-1a hash of the id, modulo the
    /// number of details), so a restart or a re-render never changes it.
    /// `None` when the probe has no details.
    pub fn detail_for(&self, probe_id: &str) -> Option<&str> {
        let n = u64::try_from(self.details.len()).ok().filter(|&n| n > 0)?;
        let i = usize::try_from(fnv1a(probe_id.as_bytes()) % n).ok()?;
        self.details.get(i).map(String::as_str)
    }
}

/// 64-bit FNV-1a: stable across Rust versions and runs, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// One entry of a probe's `follow-ups`: the next message in the same
/// thread (email) or on the same ticket (API), sent at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// How long after the vendor's previous human reply this round is
    /// sent; more than zero and at most the probe's `answer-within`.
    pub after: Duration,
    /// Body template, with the same placeholders as the probe's `body`.
    pub body: String,
}

/// `[report]`: how reports read time.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSettings {
    /// The zone ISO weeks and `--since`/`--until` dates are read in, as written.
    pub zone_name: String,
    /// The same zone.
    pub zone: TimeZone,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            zone_name: "UTC".to_string(),
            zone: TimeZone::UTC,
        }
    }
}

/// `[digest]`: the weekly digest email.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestSettings {
    /// When false the daemon sends nothing (`probe digest --send` still works).
    pub enabled: bool,
    /// A valid 6-field cron expression; each fire sends the digest of the
    /// last complete ISO week, at most once per week.
    pub schedule: String,
    /// The zone the schedule is read in, as written (default: the report zone).
    pub zone_name: String,
    /// The same zone.
    pub zone: TimeZone,
    /// The largest random delay after the scheduled time; less than a day.
    pub jitter: Duration,
    /// The persona whose SMTP identity sends it; it exists in [`Config::personas`].
    pub persona: String,
    /// Where it goes; at least one address.
    pub recipients: Vec<String>,
}

impl DigestSettings {
    /// Mondays at 08:00.
    pub const DEFAULT_SCHEDULE: &str = "0 0 8 * * MON";
    /// Up to 30 minutes after the scheduled time.
    pub const DEFAULT_JITTER: Duration = Duration::from_secs(30 * 60);
}
