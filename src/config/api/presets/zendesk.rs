//! Zendesk Requests API, as an end user: `POST /api/v2/requests`, comments
//! read with `role=agent` (so our own comments are left out by Zendesk),
//! cursor pagination through `links.next`, `created_at` in RFC 3339.
//! Authentication: basic, `username = "you@example.org/token"` and the API
//! token as the secret. Optional params: `user_id` (our own user, in case a
//! comment of ours is listed anyway), `bot_user_ids` (comma-separated users
//! that are bots or automations). Uncertain filings are resolved with
//! `GET /api/v2/requests/search?query=<token>`. Resolution: the request's
//! status (`solved`, `closed`) and its `updated_at`. Etiquette: a closing
//! comment, and `solved: true` (end users may solve their own requests when
//! the account allows it).

use serde_json::json;

use super::{AuthKind, Preset, equals, request};
use crate::config::api::spec::{
    AuthorRules, List, MessageFields, Pagination, RoleName, Search, Spec, Status, TimeField,
    TimeFormat,
};

/// The preset.
pub const PRESET: Preset = Preset {
    name: "zendesk",
    required: &[],
    optional: &["user_id", "bot_user_ids"],
    base_url: None,
    auth: AuthKind::Basic,
    spec,
};

fn rfc3339(pointer: &str) -> TimeField {
    TimeField {
        pointer: pointer.into(),
        format: TimeFormat::Rfc3339,
    }
}

/// The spec.
pub fn spec() -> Spec {
    Spec {
        create: request(
            "POST",
            "/api/v2/requests",
            &[],
            Some(json!({"request": {"subject": "{subject}", "comment": {"body": "{body}"}}})),
        ),
        ticket_id: "/request/id".into(),
        ticket_created: Some(rfc3339("/request/created_at")),
        idempotency_header: None,
        list: List {
            request: request(
                "GET",
                "/api/v2/requests/{ticket}/comments",
                &[
                    ("role", "agent"),
                    ("sort", "created_at"),
                    ("page[size]", "100"),
                ],
                None,
            ),
            items: "/comments".into(),
            pagination: Pagination::NextLink {
                pointer: Some("/links/next".into()),
            },
        },
        message: MessageFields {
            id: "/id".into(),
            created: rfc3339("/created_at"),
            author: "/author_id".into(),
            body: "/body".into(),
        },
        authors: AuthorRules {
            us: vec![equals("/author_id", &["{user_id}"])],
            bot: vec![equals("/author_id", &["{bot_user_ids}"])],
            other: Vec::new(),
            staff: Vec::new(),
            default: RoleName::Staff,
        },
        search: Some(Search {
            request: request(
                "GET",
                "/api/v2/requests/search",
                &[("query", "{token}")],
                None,
            ),
            items: "/requests".into(),
            id: "/id".into(),
            created: rfc3339("/created_at"),
        }),
        reply: None,
        // The Requests API gives an end user no solved time: `updated_at`
        // of a request first seen solved is the solve (any later update
        // would move it, so the first sighting is recorded).
        status: Some(Status {
            request: request("GET", "/api/v2/requests/{ticket}", &[], None),
            field: "/request/status".into(),
            resolved: vec!["solved".into(), "closed".into()],
            resolved_at: rfc3339("/request/updated_at"),
        }),
        close: Some(request(
            "PUT",
            "/api/v2/requests/{ticket}",
            &[],
            Some(json!({"request": {"comment": {"body": "{message}"}}})),
        )),
        solve: Some(request(
            "PUT",
            "/api/v2/requests/{ticket}",
            &[],
            Some(json!({"request": {"solved": true}})),
        )),
        ok_field: None,
        error_field: None,
    }
}
