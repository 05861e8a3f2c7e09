//! The config file's shape: serde structs mirroring the TOML, and the
//! splitter that deserializes each top-level key and each `[[vendor]]`,
//! `[[persona]]` and `[[probe]]` entry on its own, so that shape errors in
//! several entries are all reported.
//!
//! Values that a later semantic check may complain about are kept as
//! [`Spanned`] so the complaint can point at them. Nothing here judges
//! meaning (names, zones, references): that is `validate`'s job.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::error::{Reporter, humanize};
use super::value::RawSecret;
use super::{Security, TokenIn};
use crate::model::Class;

/// The top-level keys, in the order the documentation lists them.
const TOP_LEVEL_KEYS: [&str; 8] = [
    "enabled", "daemon", "vendor", "persona", "probe", "metrics", "report", "digest",
];

/// A parsed document: every part that had the right shape, plus the names
/// of the entries that did not (so references to them are not reported as
/// unknown on top of their own errors).
#[derive(Default)]
pub(super) struct RawDocument {
    pub enabled: Option<bool>,
    pub daemon: Option<RawDaemon>,
    pub vendors: Vec<RawVendor>,
    pub personas: Vec<RawPersona>,
    pub probes: Vec<RawProbe>,
    pub metrics: Option<RawMetrics>,
    pub broken_vendors: HashSet<String>,
    pub broken_personas: HashSet<String>,
    pub report: Option<RawReport>,
    pub digest: Option<RawDigest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDaemon {
    pub poll_interval: Option<Spanned<String>>,
    pub missed_grace: Option<Spanned<String>>,
    pub filing_retry_window: Option<Spanned<String>>,
    pub state_dir: Option<Spanned<PathBuf>>,
    pub max_filings_per_hour: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawMetrics {
    pub enabled: Option<bool>,
    pub listen: Option<Spanned<String>>,
    pub token: Option<Spanned<RawSecret>>,
    pub basic_auth: Option<RawBasicAuth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawBasicAuth {
    pub username: Spanned<String>,
    pub password: Spanned<RawSecret>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawReport {
    pub zone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDigest {
    pub enabled: Option<bool>,
    pub schedule: Option<Spanned<String>>,
    pub zone: Option<Spanned<String>>,
    pub jitter: Option<Spanned<String>>,
    pub persona: Spanned<String>,
    pub recipients: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawVendor {
    pub name: Spanned<String>,
    pub addresses: Option<Spanned<Vec<Spanned<String>>>>,
    pub helpdesk: Option<Spanned<String>>,
    pub caps: Option<Spanned<RawCaps>>,
    pub business_hours: Option<RawBusinessHours>,
    pub sla: Option<BTreeMap<String, Spanned<String>>>,
    #[serde(default, rename = "override")]
    pub overrides: Vec<RawOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawCaps {
    pub per_day: Option<Spanned<i64>>,
    pub per_week: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawBusinessHours {
    pub zone: Spanned<String>,
    pub days: Spanned<Vec<Spanned<String>>>,
    pub hours: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawOverride {
    pub field: Spanned<String>,
    pub pattern: Spanned<String>,
    pub class: Class,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawPersona {
    pub name: Spanned<String>,
    pub display_name: Spanned<String>,
    pub address: Spanned<String>,
    pub region: Option<String>,
    pub smtp: Option<RawServer>,
    pub imap: Option<RawImap>,
    pub api: Option<super::api::RawApi>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawServer {
    pub host: Spanned<String>,
    pub port: Spanned<i64>,
    pub security: Spanned<Security>,
    pub username: Spanned<String>,
    pub password: Spanned<RawSecret>,
    pub ca_file: Option<Spanned<PathBuf>>,
}

/// `[persona.imap]`: a server plus the mailbox settings. The server keys
/// are repeated here because `deny_unknown_fields` does not work with
/// `#[serde(flatten)]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawImap {
    pub host: Spanned<String>,
    pub port: Spanned<i64>,
    pub security: Spanned<Security>,
    pub username: Spanned<String>,
    pub password: Spanned<RawSecret>,
    pub ca_file: Option<Spanned<PathBuf>>,
    pub mailbox: Option<Spanned<String>>,
    pub idle: Option<bool>,
}

impl RawImap {
    /// Splits off the server part, returning it with the mailbox and idle settings.
    pub(super) fn split(self) -> (RawServer, Option<Spanned<String>>, Option<bool>) {
        let server = RawServer {
            host: self.host,
            port: self.port,
            security: self.security,
            username: self.username,
            password: self.password,
            ca_file: self.ca_file,
        };
        (server, self.mailbox, self.idle)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawProbe {
    pub name: Spanned<String>,
    pub vendor: Spanned<String>,
    pub persona: Spanned<String>,
    pub schedule: Spanned<String>,
    pub zones: Spanned<Vec<Spanned<String>>>,
    pub jitter: Option<Spanned<String>>,
    pub priority: Option<Spanned<String>>,
    pub answer_within: Option<Spanned<String>>,
    #[serde(default)]
    pub token_in: TokenIn,
    pub subject: Spanned<String>,
    pub body: Spanned<String>,
    pub enabled: Option<bool>,
    pub language: Option<Spanned<String>>,
    pub details: Option<Spanned<Vec<Spanned<String>>>>,
    pub expect: Option<Spanned<Vec<Spanned<String>>>>,
    pub follow_ups: Option<Spanned<Vec<Spanned<RawFollowUp>>>>,
    pub closing_message: Option<Spanned<String>>,
}

/// One entry of a probe's `follow-ups`: `{ after = "15m", body = "..." }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawFollowUp {
    pub after: Spanned<String>,
    pub body: Spanned<String>,
}

/// Splits a parsed document into its parts, deserializing each on its own
/// and reporting every shape error. Returns `None` on TOML syntax errors,
/// which are reported one per line (later ones on a line are usually
/// consequences of the first).
pub(super) fn split_document(rep: &mut Reporter<'_>) -> Option<RawDocument> {
    let (root, syntax_errors) = DeTable::parse_recoverable(rep.text());
    if !syntax_errors.is_empty() {
        let mut lines_seen = HashSet::new();
        for e in syntax_errors {
            let offset = e.span().map_or(0, |s| s.start);
            let line = rep
                .text()
                .get(..offset)
                .map_or(0, |t| t.matches('\n').count());
            if lines_seen.insert(line) {
                rep.error(offset, e.message().to_string());
            }
        }
        return None;
    }
    let mut doc = RawDocument::default();
    let mut broken_probes = HashSet::new();
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "enabled" => doc.enabled = shape(rep, value),
            "daemon" => doc.daemon = shape(rep, value),
            "vendor" => doc.vendors = shape_entries(rep, "vendor", value, &mut doc.broken_vendors),
            "persona" => {
                doc.personas = shape_entries(rep, "persona", value, &mut doc.broken_personas);
            }
            "probe" => doc.probes = shape_entries(rep, "probe", value, &mut broken_probes),
            "metrics" => doc.metrics = shape(rep, value),
            "report" => doc.report = shape(rep, value),
            "digest" => doc.digest = shape(rep, value),
            other => rep.error(
                key.span().start,
                format!(
                    "unknown key `{other}`, expected one of {}",
                    TOP_LEVEL_KEYS.join(", ")
                ),
            ),
        }
    }
    Some(doc)
}

/// Deserializes one value, reporting a shape error at its position.
fn shape<T: DeserializeOwned>(rep: &mut Reporter<'_>, value: Spanned<DeValue<'_>>) -> Option<T> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(e) => {
            let offset = e.span().map_or(span.start, |s| s.start);
            rep.error(offset, humanize(e.message()));
            None
        }
    }
}

/// Deserializes each entry of an array of tables on its own, collecting
/// the names of the entries that fail into `broken`.
fn shape_entries<T: DeserializeOwned>(
    rep: &mut Reporter<'_>,
    key: &str,
    value: Spanned<DeValue<'_>>,
    broken: &mut HashSet<String>,
) -> Vec<T> {
    let mut good = Vec::new();
    for entry in entries(rep, key, value) {
        let name = name_of(&entry).map(str::to_string);
        match shape(rep, entry) {
            Some(v) => good.push(v),
            None => broken.extend(name),
        }
    }
    good
}

/// The entries of an array of tables such as `[[vendor]]`.
fn entries<'i>(
    rep: &mut Reporter<'_>,
    key: &str,
    value: Spanned<DeValue<'i>>,
) -> Vec<Spanned<DeValue<'i>>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items.iter().cloned().collect(),
        _ => {
            rep.error(
                span.start,
                format!("`{key}` must be an array of tables: write [[{key}]]"),
            );
            Vec::new()
        }
    }
}

/// The `name` of an entry, if it has a string one.
fn name_of<'a>(entry: &'a Spanned<DeValue<'_>>) -> Option<&'a str> {
    let DeValue::Table(table) = entry.get_ref() else {
        return None;
    };
    table
        .iter()
        .find_map(|(k, v)| match (k.get_ref().as_ref(), v.get_ref()) {
            ("name", DeValue::String(s)) => Some(s.as_ref()),
            _ => None,
        })
}
