//! Jira Service Management customer requests: `POST
//! /rest/servicedeskapi/request` with `serviceDeskId`, `requestTypeId` and
//! summary/description; public comments read with `start`/`limit` paging
//! until `isLastPage`; times from `epochMillis`. Our comments are those of
//! our `account_id`; "Automation for Jira" (by display name, or the
//! comma-separated `automation_account_ids`) is a bot; every other public
//! commenter is staff. Basic authentication (`username` = the account's
//! email, the API token as secret). Uncertain filings are resolved with
//! `GET /rest/servicedeskapi/request?searchTerm=<token>`. Etiquette: a
//! public closing comment (customers cannot resolve through this API
//! without a workflow-specific transition, so `mark-solved` is not offered).

use serde_json::json;

use super::{AuthKind, Preset, equals, request};
use crate::config::api::spec::{
    AuthorRules, List, MessageFields, Pagination, RoleName, Search, Spec, TimeField, TimeFormat,
};

/// The preset.
pub const PRESET: Preset = Preset {
    name: "jsm",
    required: &["service_desk_id", "request_type_id", "account_id"],
    optional: &["automation_account_ids"],
    base_url: None,
    auth: AuthKind::Basic,
    spec,
};

fn millis(pointer: &str) -> TimeField {
    TimeField {
        pointer: pointer.into(),
        format: TimeFormat::EpochMillis,
    }
}

/// The spec.
pub fn spec() -> Spec {
    Spec {
        create: request(
            "POST",
            "/rest/servicedeskapi/request",
            &[],
            Some(json!({
                "serviceDeskId": "{service_desk_id}",
                "requestTypeId": "{request_type_id}",
                "requestFieldValues": {"summary": "{subject}", "description": "{body}"}
            })),
        ),
        ticket_id: "/issueKey".into(),
        ticket_created: Some(millis("/createdDate/epochMillis")),
        idempotency_header: None,
        list: List {
            request: request(
                "GET",
                "/rest/servicedeskapi/request/{ticket}/comment",
                &[("public", "true"), ("start", "0"), ("limit", "50")],
                None,
            ),
            items: "/values".into(),
            pagination: Pagination::Offset {
                param: "start".into(),
                limit_param: "limit".into(),
                limit: 50,
                last_page: Some("/isLastPage".into()),
            },
        },
        message: MessageFields {
            id: "/id".into(),
            created: millis("/created/epochMillis"),
            author: "/author/accountId".into(),
            body: "/body".into(),
        },
        authors: AuthorRules {
            us: vec![equals("/author/accountId", &["{account_id}"])],
            bot: vec![
                equals("/author/displayName", &["Automation for Jira"]),
                equals("/author/accountId", &["{automation_account_ids}"]),
            ],
            other: Vec::new(),
            staff: Vec::new(),
            default: RoleName::Staff,
        },
        search: Some(Search {
            request: request(
                "GET",
                "/rest/servicedeskapi/request",
                &[
                    ("searchTerm", "{token}"),
                    ("requestOwnership", "OWNED_REQUESTS"),
                ],
                None,
            ),
            items: "/values".into(),
            id: "/issueKey".into(),
            created: millis("/createdDate/epochMillis"),
        }),
        reply: None,
        status: None,
        close: Some(request(
            "POST",
            "/rest/servicedeskapi/request/{ticket}/comment",
            &[],
            Some(json!({"body": "{message}", "public": true})),
        )),
        solve: None,
        ok_field: None,
        error_field: None,
    }
}
