//! GitHub's hook: authors the spec's rules leave as bystanders are checked
//! for a (possibly private) membership of the vendor's org, when the
//! persona's `org` param names one (`GET /orgs/{org}/members/{login}`, 204 =
//! member). The rest of the preset is data: `config::api::presets::github`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::channel::ChannelError;
use crate::channel::http::{Api, Hook, RoleName};

/// The org-membership check.
pub fn hook() -> Arc<dyn Hook> {
    Arc::new(OrgMembership)
}

/// Asks GitHub whether a bystander is in fact a (private) member of the
/// vendor's org.
#[derive(Debug)]
pub struct OrgMembership;

#[async_trait]
impl Hook for OrgMembership {
    async fn refine_role(
        &self,
        api: &Api,
        message: &Value,
        role: RoleName,
        reason: String,
    ) -> Result<(RoleName, String), ChannelError> {
        let org = api.settings().params.get("org").filter(|o| !o.is_empty());
        let login = message.pointer("/user/login").and_then(Value::as_str);
        let (Some(org), Some(login), RoleName::Other) = (org, login, role) else {
            return Ok((role, reason));
        };
        let member = api
            .get_optional(&format!("/orgs/{org}/members/{login}"))
            .await?
            .is_some_and(|r| r.status == 204);
        if member {
            let assoc = message
                .pointer("/author_association")
                .and_then(Value::as_str)
                .unwrap_or("none");
            Ok((
                RoleName::Staff,
                format!(
                    "author is vendor staff: {login} is a member of {org} (author_association says {assoc}: a private membership)"
                ),
            ))
        } else {
            Ok((role, format!("{reason}; {login} is not a member of {org}")))
        }
    }
}
