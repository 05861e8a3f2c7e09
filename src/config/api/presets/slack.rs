//! A Slack thread in a shared (Slack Connect) channel: the probe is a
//! `chat.postMessage` to `channel`, its `ts` is the ticket id, and replies
//! are read with `conversations.replies` (cursor pagination). Slack answers
//! HTTP 200 with `ok: false` on errors, and `ratelimited` (or HTTP 429)
//! with `Retry-After` when throttling; both are handled by the spec's
//! `ok-field`/`error-field`. Times are `ts` values (`"1483037603.017503"`).
//! Authors: our `user_id` is us (the thread's parent message is ours); a
//! `bot_id`, `subtype = "bot_message"` or Slackbot (`USLACKBOT`) is a bot;
//! people of our own workspace (`user_team == team_id`, optional) are
//! bystanders; everyone else in the shared channel is the vendor's staff.
//! Needs a user token with `channels:history` (or `groups:history`).
//! Uncertain filings are resolved by reading `conversations.history` since
//! the filing for our token. Etiquette: a closing reply in the thread.

use serde_json::json;

use super::{AuthKind, Preset, equals, present, request};
use crate::config::api::spec::{
    AuthorRules, List, MessageFields, Pagination, RoleName, Search, Spec, TimeField, TimeFormat,
};

/// The preset.
pub const PRESET: Preset = Preset {
    name: "slack",
    required: &["channel", "user_id"],
    optional: &["team_id"],
    base_url: Some("https://slack.com"),
    auth: AuthKind::Bearer,
    spec,
};

fn ts(pointer: &str) -> TimeField {
    TimeField {
        pointer: pointer.into(),
        format: TimeFormat::SlackTs,
    }
}

/// The spec.
pub fn spec() -> Spec {
    Spec {
        create: request(
            "POST",
            "/api/chat.postMessage",
            &[],
            Some(json!({"channel": "{channel}", "text": "*{subject}*\n{body}"})),
        ),
        ticket_id: "/ts".into(),
        ticket_created: Some(ts("/ts")),
        idempotency_header: None,
        list: List {
            request: request(
                "GET",
                "/api/conversations.replies",
                &[
                    ("channel", "{channel}"),
                    ("ts", "{ticket}"),
                    ("limit", "100"),
                ],
                None,
            ),
            items: "/messages".into(),
            pagination: Pagination::Cursor {
                param: "cursor".into(),
                next: "/response_metadata/next_cursor".into(),
            },
        },
        message: MessageFields {
            id: "/ts".into(),
            created: ts("/ts"),
            author: "/user".into(),
            body: "/text".into(),
        },
        authors: AuthorRules {
            us: vec![equals("/user", &["{user_id}"])],
            bot: vec![
                present("/bot_id"),
                equals("/subtype", &["bot_message"]),
                equals("/user", &["USLACKBOT"]),
            ],
            other: vec![equals("/user_team", &["{team_id}"])],
            staff: Vec::new(),
            default: RoleName::Staff,
        },
        search: Some(Search {
            request: request(
                "GET",
                "/api/conversations.history",
                &[
                    ("channel", "{channel}"),
                    ("oldest", "{since_epoch}"),
                    ("limit", "200"),
                ],
                None,
            ),
            items: "/messages".into(),
            id: "/ts".into(),
            created: ts("/ts"),
        }),
        reply: None,
        status: None,
        close: Some(request(
            "POST",
            "/api/chat.postMessage",
            &[],
            Some(json!({"channel": "{channel}", "thread_ts": "{ticket}", "text": "{message}"})),
        )),
        solve: None,
        ok_field: Some("/ok".into()),
        error_field: Some("/error".into()),
    }
}
