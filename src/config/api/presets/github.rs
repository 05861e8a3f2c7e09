//! GitHub Issues: `POST /repos/{owner}/{repo}/issues`, comments read with
//! `per_page=100` and the `Link` header's `rel="next"`, `created_at` in
//! RFC 3339. Authors: our `user` login is us; `user.type == "Bot"` or a
//! `performed_via_github_app` is a bot; `author_association` OWNER, MEMBER
//! or COLLABORATOR (or a login in `staff_logins`) is staff; anyone else is
//! a bystander — unless the optional `org` param is set, in which case the
//! channel's hook (`channel::http::presets::github`) asks
//! `GET /orgs/{org}/members/{login}` (204 = member): members who keep their
//! membership private show up as CONTRIBUTOR or NONE otherwise.
//! Bearer token. Uncertain filings are resolved by listing our own issues
//! since the filing (`creator=<user>`), which, unlike search, has no index
//! lag. Etiquette: a closing comment and closing the issue (its author may).

use serde_json::json;

use super::{AuthKind, Preset, equals, present, request};
use crate::config::api::spec::{
    AuthorRules, List, MessageFields, Pagination, RoleName, Search, Spec, TimeField, TimeFormat,
};

/// The preset.
pub const PRESET: Preset = Preset {
    name: "github",
    required: &["owner", "repo", "user"],
    optional: &["org", "staff_logins"],
    base_url: Some("https://api.github.com"),
    auth: AuthKind::Bearer,
    spec,
};

fn rfc3339(pointer: &str) -> TimeField {
    TimeField {
        pointer: pointer.into(),
        format: TimeFormat::Rfc3339,
    }
}

fn with_headers(mut r: crate::config::api::spec::Request) -> crate::config::api::spec::Request {
    r.headers
        .insert("accept".into(), "application/vnd.github+json".into());
    r.headers
        .insert("x-github-api-version".into(), "2022-11-28".into());
    r
}

/// The spec.
pub fn spec() -> Spec {
    Spec {
        create: with_headers(request(
            "POST",
            "/repos/{owner}/{repo}/issues",
            &[],
            Some(json!({"title": "{subject}", "body": "{body}"})),
        )),
        ticket_id: "/number".into(),
        ticket_created: Some(rfc3339("/created_at")),
        idempotency_header: None,
        list: List {
            request: with_headers(request(
                "GET",
                "/repos/{owner}/{repo}/issues/{ticket}/comments",
                &[("per_page", "100")],
                None,
            )),
            items: String::new(),
            pagination: Pagination::NextLink { pointer: None },
        },
        message: MessageFields {
            id: "/id".into(),
            created: rfc3339("/created_at"),
            author: "/user/login".into(),
            body: "/body".into(),
        },
        authors: AuthorRules {
            us: vec![equals("/user/login", &["{user}"])],
            bot: vec![
                equals("/user/type", &["Bot"]),
                present("/performed_via_github_app"),
            ],
            other: Vec::new(),
            staff: vec![
                equals("/author_association", &["OWNER", "MEMBER", "COLLABORATOR"]),
                equals("/user/login", &["{staff_logins}"]),
            ],
            default: RoleName::Other,
        },
        search: Some(Search {
            request: with_headers(request(
                "GET",
                "/repos/{owner}/{repo}/issues",
                &[
                    ("creator", "{user}"),
                    ("state", "all"),
                    ("since", "{since}"),
                    ("per_page", "100"),
                ],
                None,
            )),
            items: String::new(),
            id: "/number".into(),
            created: rfc3339("/created_at"),
        }),
        reply: None,
        status: None,
        close: Some(with_headers(request(
            "POST",
            "/repos/{owner}/{repo}/issues/{ticket}/comments",
            &[],
            Some(json!({"body": "{message}"})),
        ))),
        solve: Some(with_headers(request(
            "PATCH",
            "/repos/{owner}/{repo}/issues/{ticket}",
            &[],
            Some(json!({"state": "closed", "state_reason": "completed"})),
        ))),
        ok_field: None,
        error_field: None,
    }
}
