//! The presets as the channel runs them: each built-in API description of
//! `config::api::presets` with the hook that refines it, if any. Only GitHub
//! needs one (org membership); the others run on their spec alone.

pub mod github;

use std::sync::Arc;

use super::spec::Spec;
use super::{Hook, NoHook};
use crate::config::api::presets as described;

/// A known API, ready to run: its name, its spec and its hook.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The name used in `preset = "..."` and recorded as the channel kind.
    pub name: &'static str,
    /// Builds the spec.
    pub spec: fn() -> Spec,
    /// Builds the hook.
    pub hook: fn() -> Arc<dyn Hook>,
}

/// The preset called `name`, with its hook.
pub fn find(name: &str) -> Option<Preset> {
    let p = described::find(name)?;
    let hook = match p.name {
        "github" => github::hook,
        _ => no_hook,
    };
    Some(Preset {
        name: p.name,
        spec: p.spec,
        hook,
    })
}

/// The hook of presets without one.
pub fn no_hook() -> Arc<dyn Hook> {
    Arc::new(NoHook)
}
