//! Built-in descriptions of known ticket APIs. Each preset is one file that
//! builds a [`Spec`]; adding a vendor API is one new file plus one line in
//! [`PRESETS`] (and, where the API needs code beyond the spec, a hook in
//! `channel::http::presets`).

pub mod github;
pub mod jsm;
pub mod slack;
pub mod zendesk;

use std::collections::BTreeMap;

use serde_json::Value;

use super::spec::{Request, Rule, Spec};

/// How a preset authenticates by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// HTTP basic with the persona's `username` and the token as password.
    Basic,
}

/// A known API.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The name used in `preset = "..."` and recorded as the channel kind.
    pub name: &'static str,
    /// `params` keys the preset needs.
    pub required: &'static [&'static str],
    /// `params` keys it also understands.
    pub optional: &'static [&'static str],
    /// The default `base-url`, for APIs with one public host.
    pub base_url: Option<&'static str>,
    /// The default authentication.
    pub auth: AuthKind,
    /// Builds the spec.
    pub spec: fn() -> Spec,
}

/// Every preset.
pub const PRESETS: &[Preset] = &[zendesk::PRESET, jsm::PRESET, github::PRESET, slack::PRESET];

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// A request without headers.
pub(crate) fn request(
    method: &str,
    url: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Request {
    Request {
        method: method.to_string(),
        url: url.to_string(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        headers: BTreeMap::new(),
        body,
    }
}

/// A rule: `field` equals one of `values` (templates).
pub(crate) fn equals(field: &str, values: &[&str]) -> Rule {
    Rule {
        field: field.to_string(),
        equals: values.iter().map(|v| v.to_string()).collect(),
        present: false,
    }
}

/// A rule: `field` is present and not empty.
pub(crate) fn present(field: &str) -> Rule {
    Rule {
        field: field.to_string(),
        equals: Vec::new(),
        present: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_spec_passes_the_checks() {
        for p in PRESETS {
            assert_eq!(
                crate::config::api::spec::check(&(p.spec)()),
                Vec::<String>::new(),
                "{}",
                p.name
            );
        }
    }
}
