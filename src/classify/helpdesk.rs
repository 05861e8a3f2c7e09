//! Helpdesks recognised from their own stamps, loaded from
//! `data/helpdesks.toml` (where each fact's source is recorded): how to
//! detect each one without configuration, which machine markers it puts on
//! every mail (agents' answers included, so they prove nothing), which only
//! its automatic mails carry, and which header names the originator of a
//! mail.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::MessageFacts;
use crate::model::Helpdesk;

include!(concat!(env!("OUT_DIR"), "/helpdesks_file.rs"));

/// `data/helpdesks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    helpdesk: Vec<RawDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDef {
    id: String,
    name: String,
    #[serde(default)]
    detect: RawDetect,
    #[serde(default)]
    stamps: Vec<String>,
    #[serde(default)]
    machine_only: Vec<String>,
    #[serde(default)]
    originator: String,
    #[serde(default)]
    agent_notice: String,
    #[serde(default)]
    automation_names: String,
    sources: Vec<String>,
    #[serde(default)]
    notes: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDetect {
    #[serde(default)]
    header: Vec<String>,
    #[serde(default)]
    header_prefix: Vec<String>,
    #[serde(default)]
    header_value: Vec<(String, String)>,
    #[serde(default)]
    message_id: Vec<String>,
    #[serde(default)]
    from_domain: Vec<String>,
}

/// A marker rule: a header (any value), or a header with the first word of
/// its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarkerRule {
    header: String,
    value: Option<String>,
}

impl MarkerRule {
    fn parse(text: &str) -> MarkerRule {
        let text = text.trim().to_ascii_lowercase();
        match text.split_once('=') {
            Some((h, v)) => MarkerRule {
                header: h.trim().to_string(),
                value: Some(v.trim().to_string()),
            },
            None => MarkerRule {
                header: text,
                value: None,
            },
        }
    }

    /// Whether a header `name` (lowercase) whose value starts with `first`
    /// (lowercase) fits this rule.
    pub(crate) fn fits(&self, name: &str, first: &str) -> bool {
        self.header == name && self.value.as_deref().is_none_or(|v| v == first)
    }

    /// The first header of `facts` that fits, as `name: value`.
    fn find_in(&self, facts: &MessageFacts) -> Option<String> {
        facts.headers.iter().find_map(|(n, v)| {
            self.fits(n, &first_word(v))
                .then(|| format!("{n}: {}", super::shorten(v, 60)))
        })
    }
}

/// The first word of a header value, lowercase (`auto-replied` of
/// `auto-replied; owner-email=...`).
pub(crate) fn first_word(value: &str) -> String {
    value
        .trim()
        .split([';', ' ', ','])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A Message-ID rule: a substring, or `re:` a regular expression.
#[derive(Debug)]
enum IdRule {
    Contains(String),
    Regex(Regex),
}

/// What is known about one helpdesk.
#[derive(Debug)]
pub(crate) struct Def {
    /// The config's `helpdesk =` value.
    pub id: String,
    /// The product name.
    pub name: String,
    header: Vec<String>,
    header_prefix: Vec<String>,
    header_value: Vec<(String, String)>,
    message_id: Vec<IdRule>,
    from_domain: Vec<String>,
    stamps: Vec<MarkerRule>,
    machine_only: Vec<MarkerRule>,
    /// The header naming who caused a mail, lowercase.
    pub originator: Option<String>,
    /// A line of a notification that names the agent who wrote the comment
    /// it carries (group 1 is the name).
    pub agent_notice: Option<Regex>,
    /// Names of automation accounts, which an agent notice does not count for.
    pub automation_names: Option<Regex>,
}

impl Def {
    /// Whether `facts` carry this helpdesk's own marks.
    fn detects(&self, facts: &MessageFacts) -> bool {
        let headers = &facts.headers;
        self.header
            .iter()
            .any(|h| headers.iter().any(|(n, _)| n == h))
            || self
                .header_prefix
                .iter()
                .any(|p| headers.iter().any(|(n, _)| n.starts_with(p.as_str())))
            || self.header_value.iter().any(|(h, needle)| {
                headers
                    .iter()
                    .any(|(n, v)| n == h && v.to_lowercase().contains(needle.as_str()))
            })
            || facts.message_id.as_deref().is_some_and(|id| {
                let id = id.to_lowercase();
                self.message_id.iter().any(|r| match r {
                    IdRule::Contains(s) => id.contains(s.as_str()),
                    IdRule::Regex(re) => re.is_match(&id),
                })
            })
            || facts.from_addr.as_deref().is_some_and(|a| {
                let domain = a.rsplit_once('@').map_or("", |(_, d)| d);
                self.from_domain
                    .iter()
                    .any(|d| domain == d || domain.ends_with(&format!(".{d}")))
            })
    }

    /// Whether this helpdesk puts the marker (header `name`, value starting
    /// `first`) on every mail it sends, agents' answers included.
    pub(crate) fn is_stamp(&self, name: &str, first: &str) -> bool {
        self.stamps.iter().any(|r| r.fits(name, first))
    }

    /// Whether it stamps machine markers on every mail, so that the
    /// stamps say nothing about who wrote a message.
    pub(crate) fn stamps_every_mail(&self) -> bool {
        !self.stamps.is_empty()
    }

    /// The first marker only this helpdesk's automatic mails carry.
    pub(crate) fn machine_only_marker(&self, facts: &MessageFacts) -> Option<String> {
        self.machine_only.iter().find_map(|r| r.find_in(facts))
    }
}

/// Every helpdesk of the data file.
pub(crate) struct Registry {
    /// In file order.
    pub defs: Vec<Def>,
    /// What could not be loaded; the tests require none.
    pub errors: Vec<String>,
}

/// The helpdesks of the embedded `data/helpdesks.toml`.
pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| Registry::load(HELPDESKS_TOML));

impl Registry {
    fn load(text: &str) -> Registry {
        let mut errors = Vec::new();
        let file: File = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return Registry {
                    defs: Vec::new(),
                    errors: vec![format!("data/helpdesks.toml: {e}")],
                };
            }
        };
        let mut regex = |what: &str, id: &str, pattern: &str| -> Option<Regex> {
            if pattern.trim().is_empty() {
                return None;
            }
            let pattern = pattern.strip_prefix("re:").unwrap_or(pattern);
            Regex::new(pattern)
                .map_err(|e| errors.push(format!("helpdesk {id}: {what}: {e}")))
                .ok()
        };
        let mut defs = Vec::new();
        for raw in file.helpdesk {
            let id = raw.id.to_ascii_lowercase();
            let message_id = raw
                .detect
                .message_id
                .iter()
                .filter_map(|m| match m.strip_prefix("re:") {
                    Some(p) => regex("detect.message-id", &id, p).map(IdRule::Regex),
                    None => Some(IdRule::Contains(m.to_lowercase())),
                })
                .collect();
            let agent_notice = regex("agent-notice", &id, &raw.agent_notice);
            let automation_names = regex("automation-names", &id, &raw.automation_names);
            let _ = (&raw.sources, &raw.notes);
            defs.push(Def {
                name: raw.name,
                header: lower(&raw.detect.header),
                header_prefix: lower(&raw.detect.header_prefix),
                header_value: raw
                    .detect
                    .header_value
                    .iter()
                    .map(|(h, v)| (h.to_ascii_lowercase(), v.to_lowercase()))
                    .collect(),
                message_id,
                from_domain: lower(&raw.detect.from_domain),
                stamps: raw.stamps.iter().map(|s| MarkerRule::parse(s)).collect(),
                machine_only: raw
                    .machine_only
                    .iter()
                    .map(|s| MarkerRule::parse(s))
                    .collect(),
                originator: Some(raw.originator.trim().to_ascii_lowercase())
                    .filter(|o| !o.is_empty()),
                agent_notice,
                automation_names,
                id,
            });
        }
        Registry { defs, errors }
    }

    /// The helpdesk whose marks `facts` carry, if any.
    pub(crate) fn detect(&self, facts: &MessageFacts) -> Option<&Def> {
        self.defs.iter().find(|d| d.detects(facts))
    }

    /// The helpdesk with this id.
    pub(crate) fn get(&self, helpdesk: &Helpdesk) -> Option<&Def> {
        self.defs.iter().find(|d| d.id == helpdesk.as_str())
    }
}

/// Lowercase copies.
fn lower(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

/// The ids of every helpdesk the classifier recognises, in file order.
pub fn helpdesk_ids() -> Vec<&'static str> {
    REGISTRY.defs.iter().map(|d| d.id.as_str()).collect()
}

/// The helpdesks the classifier recognises: id and product name.
pub fn helpdesks() -> Vec<(&'static str, &'static str)> {
    REGISTRY
        .defs
        .iter()
        .map(|d| (d.id.as_str(), d.name.as_str()))
        .collect()
}

/// What could not be loaded from `data/helpdesks.toml`.
pub(crate) fn problems() -> &'static [String] {
    &REGISTRY.errors
}

#[cfg(test)]
mod unit {
    use super::*;

    /// The helpdesks issue 10 requires to be recognised without configuration.
    const REQUIRED: &[&str] = &[
        "zendesk",
        "freshdesk",
        "jsm",
        "salesforce",
        "zoho",
        "helpscout",
        "rt",
        "otrs",
        "zammad",
        "osticket",
        "front",
        "intercom",
        "hubspot",
        "servicenow",
        "kayako",
        "gorgias",
        "udesk",
        "meiqia",
    ];

    #[test]
    fn the_data_file_loads_with_every_required_helpdesk_and_a_source_for_each() {
        assert!(REGISTRY.errors.is_empty(), "{:#?}", REGISTRY.errors);
        for id in REQUIRED {
            assert!(
                REGISTRY.defs.iter().any(|d| d.id == *id),
                "data/helpdesks.toml has no helpdesk {id:?}"
            );
        }
        let file: File = toml::from_str(HELPDESKS_TOML).unwrap();
        for d in &file.helpdesk {
            assert!(!d.sources.is_empty(), "{} has no sources", d.id);
            let detect = &d.detect;
            assert!(
                !(detect.header.is_empty()
                    && detect.header_prefix.is_empty()
                    && detect.header_value.is_empty()
                    && detect.message_id.is_empty()
                    && detect.from_domain.is_empty()),
                "{} has no detect rule",
                d.id
            );
        }
    }

    #[test]
    fn marker_rules_match_header_and_first_word() {
        let r = MarkerRule::parse("Auto-Submitted=auto-replied");
        assert!(r.fits("auto-submitted", "auto-replied"));
        assert!(!r.fits("auto-submitted", "auto-generated"));
        let r = MarkerRule::parse("x-auto-response-suppress");
        assert!(r.fits("x-auto-response-suppress", "all"));
    }

    #[test]
    fn a_bad_file_is_an_error_not_a_panic() {
        assert!(!Registry::load("helpdesk = 1").errors.is_empty());
        let r = Registry::load(
            "[[helpdesk]]\nid = \"x\"\nname = \"X\"\nsources = [\"s\"]\ndetect.message-id = [\"re:(\"]\n",
        );
        assert_eq!(r.errors.len(), 1);
    }
}
