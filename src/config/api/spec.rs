//! The declarative description of a ticket API: how to create a ticket,
//! where its id is, how to list its messages page by page, how to read each
//! message's id, time, author and text, and which authors are the vendor's
//! staff, us, or bots.
//!
//! A [`Spec`] is plain data. The presets build one in code; a `generic`
//! persona reads one from `[persona.api.spec]` in the config, with the same
//! kebab-case keys, so a new API needs no code. Every string in a request
//! (URL, query, header, JSON body leaf) is a template: `{name}` is replaced
//! by a variable (see [`Vars`]), `{{`/`}}` are literal braces.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::template::{Names, placeholder_names, substitute};

/// A whole API description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    /// How to open a ticket.
    pub create: Request,
    /// JSON pointer to the new ticket's id in the create response.
    pub ticket_id: String,
    /// Where the create response says when the ticket was created.
    pub ticket_created: Option<TimeField>,
    /// A header to send a fresh idempotency key in (per probe); the create
    /// is then retried with the same key after a timeout or 5xx.
    pub idempotency_header: Option<String>,
    /// How to list one ticket's messages.
    pub list: List,
    /// Field mapping of each listed message.
    pub message: MessageFields,
    /// Who wrote a message.
    #[serde(default)]
    pub authors: AuthorRules,
    /// How to find a ticket by our token (resolves uncertain filings).
    pub search: Option<Search>,
    /// How to post the closing courtesy message (`{message}` is its text).
    pub close: Option<Request>,
    /// How to add our follow-up to the ticket as the customer (`{ticket}`,
    /// `{message}`); without it, follow-ups use `close`, which posts the
    /// same kind of public comment.
    pub reply: Option<Request>,
    /// How to mark the ticket solved.
    pub solve: Option<Request>,
    /// How to read whether the vendor resolved the ticket, and when.
    pub status: Option<Status>,
    /// JSON pointer to a boolean that must be `true` (Slack's `/ok`); when
    /// false the call failed whatever the HTTP status.
    pub ok_field: Option<String>,
    /// JSON pointer to the error code when `ok-field` is false (`/error`).
    pub error_field: Option<String>,
}

/// One HTTP request, templated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Request {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[serde(default = "get")]
    pub method: String,
    /// A path below the persona's `base-url` (starting with `/`), or an
    /// absolute URL.
    pub url: String,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Extra headers (authentication is added by the channel).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body whose string leaves are templates.
    pub body: Option<Value>,
}

fn get() -> String {
    "GET".to_string()
}

/// Listing one ticket's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct List {
    /// The first page's request (`{ticket}` is the ticket id).
    pub request: Request,
    /// JSON pointer to the array of messages ("" when the body is the array).
    pub items: String,
    /// How to get the next page.
    #[serde(default)]
    pub pagination: Pagination,
}

/// How a list continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    tag = "type"
)]
pub enum Pagination {
    /// One page only.
    #[default]
    None,
    /// A cursor from the response goes into a query parameter.
    Cursor {
        /// Query parameter for the cursor.
        param: String,
        /// JSON pointer to the next cursor; missing, null or "" ends.
        next: String,
    },
    /// A URL to the next page: at a JSON pointer, or in the `Link` header
    /// (`rel="next"`) when no pointer is given.
    NextLink {
        /// JSON pointer to the next URL; missing, null or "" ends.
        pointer: Option<String>,
    },
    /// An offset (`start`) and a page size (`limit`).
    Offset {
        /// Query parameter of the offset.
        param: String,
        /// Query parameter of the page size.
        limit_param: String,
        /// The page size.
        limit: u32,
        /// JSON pointer to a "this is the last page" boolean.
        last_page: Option<String>,
    },
    /// A page number starting at 1.
    Page {
        /// Query parameter of the page number.
        param: String,
        /// Query parameter of the page size.
        size_param: String,
        /// The page size.
        size: u32,
    },
}

/// Where a message's fields are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MessageFields {
    /// JSON pointer to the message id.
    pub id: String,
    /// The message's creation time.
    pub created: TimeField,
    /// JSON pointer to the author's id.
    pub author: String,
    /// JSON pointer to the text.
    pub body: String,
}

/// A timestamp field and its format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TimeField {
    /// JSON pointer to the value.
    pub pointer: String,
    /// How it is written.
    pub format: TimeFormat,
}

/// How an API writes instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeFormat {
    /// `2026-11-23T10:00:00Z`.
    Rfc3339,
    /// Seconds since 1970 (number or string).
    EpochSeconds,
    /// Milliseconds since 1970 (number or string).
    EpochMillis,
    /// Slack's `"1483037603.017503"`: seconds and microseconds.
    SlackTs,
}

/// Rules that decide who wrote a message, tried in the order `us`, `bot`,
/// `other`, `staff`; a message no rule matches gets `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthorRules {
    /// Our own account.
    #[serde(default)]
    pub us: Vec<Rule>,
    /// Bots, apps, automation accounts.
    #[serde(default)]
    pub bot: Vec<Rule>,
    /// Bystanders whose messages are not the vendor's answer.
    #[serde(default)]
    pub other: Vec<Rule>,
    /// The vendor's people.
    #[serde(default)]
    pub staff: Vec<Rule>,
    /// The role of a message no rule matched.
    #[serde(default = "staff")]
    pub default: RoleName,
}

fn staff() -> RoleName {
    RoleName::Staff
}

impl Default for AuthorRules {
    fn default() -> Self {
        AuthorRules {
            us: Vec::new(),
            bot: Vec::new(),
            other: Vec::new(),
            staff: Vec::new(),
            default: RoleName::Staff,
        }
    }
}

/// A role as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleName {
    /// The vendor's people.
    Staff,
    /// Our account.
    Us,
    /// A bot.
    Bot,
    /// A bystander.
    Other,
}

/// One condition on a message's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rule {
    /// JSON pointer into the message.
    pub field: String,
    /// The field (as text) equals one of these templates, e.g. `{user_id}`;
    /// a rendered value with commas is a list of alternatives.
    #[serde(default)]
    pub equals: Vec<String>,
    /// The field is present and not null / false / "" (when `equals` is empty).
    #[serde(default)]
    pub present: bool,
}

/// Finding a ticket by our token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Search {
    /// The request (`{token}`, `{since}` RFC 3339, `{since_epoch}`).
    pub request: Request,
    /// JSON pointer to the result array.
    pub items: String,
    /// JSON pointer to a result's ticket id.
    pub id: String,
    /// A result's creation time.
    pub created: TimeField,
}

/// Reading a ticket's status, for the time to resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Status {
    /// Reads one ticket (`{ticket}`).
    pub request: Request,
    /// JSON pointer to the status in the response.
    pub field: String,
    /// The statuses that mean solved or closed (compared ignoring case).
    pub resolved: Vec<String>,
    /// When the ticket reached that status, as the API says (e.g. RT's
    /// `Resolved`, Zendesk's `updated_at` of a solved request).
    pub resolved_at: TimeField,
}

/// Template variables: the probe's rendered text, the persona's params and
/// per-call values.
#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    /// Adds or replaces one variable.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Vars {
        self.0.insert(name.to_string(), value.into());
        self
    }

    /// Replaces `{name}` placeholders; unknown ones are kept as written.
    pub fn render(&self, template: &str) -> String {
        substitute(template, Names::Anything, |name| {
            self.0.get(name).map(String::as_str)
        })
    }

    /// Renders every string leaf of a JSON template.
    pub fn render_json(&self, template: &Value) -> Value {
        match template {
            Value::String(s) => Value::String(self.render(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.render_json(v)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.render_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Variables the channel itself provides to templates (besides `params`).
pub const BUILT_IN_VARS: [&str; 11] = [
    "subject",
    "body",
    "token",
    "probe_id",
    "persona",
    "address",
    "persona_address",
    "ticket",
    "message",
    "since",
    "since_epoch",
];

/// The `{name}` placeholders of a template (as [`Vars::render`] reads them).
pub fn placeholders(template: &str) -> Vec<String> {
    placeholder_names(template, Names::Anything)
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn json_strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// Every template string of a spec: request URLs, query values, header
/// values, body strings and author rule values.
pub fn templates(spec: &Spec) -> Vec<&str> {
    let mut requests = vec![&spec.create, &spec.list.request];
    requests.extend(spec.search.as_ref().map(|s| &s.request));
    requests.extend(spec.close.as_ref());
    requests.extend(spec.solve.as_ref());
    let mut out = Vec::new();
    for r in requests {
        out.push(r.url.as_str());
        out.extend(r.query.values().map(String::as_str));
        out.extend(r.headers.values().map(String::as_str));
        if let Some(b) = &r.body {
            json_strings(b, &mut out);
        }
    }
    let a = &spec.authors;
    for rule in a.us.iter().chain(&a.bot).chain(&a.other).chain(&a.staff) {
        out.extend(rule.equals.iter().map(String::as_str));
    }
    out
}

/// The text of a JSON value: strings as they are, numbers and booleans
/// printed, null and containers as nothing.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value at a JSON pointer ("" is the whole document).
pub fn at<'v>(doc: &'v Value, pointer: &str) -> Option<&'v Value> {
    doc.pointer(pointer)
}

/// Parses an instant in `format`.
pub fn parse_time(v: &Value, format: TimeFormat) -> Option<Timestamp> {
    match format {
        TimeFormat::Rfc3339 => v.as_str()?.parse().ok(),
        TimeFormat::EpochSeconds => {
            let secs = v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())?;
            Timestamp::from_second(secs).ok()
        }
        TimeFormat::EpochMillis => {
            let ms = v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())?;
            Timestamp::from_millisecond(ms).ok()
        }
        TimeFormat::SlackTs => {
            let s = v.as_str()?;
            let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
            let secs: i64 = secs.parse().ok()?;
            if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos: i32 = if frac.is_empty() {
                0
            } else {
                format!("{frac:0<9}").parse().ok()?
            };
            Timestamp::new(secs, nanos).ok()
        }
    }
}

impl Rule {
    /// Whether `message` satisfies this rule.
    pub fn matches(&self, message: &Value, vars: &Vars) -> bool {
        let value = at(message, &self.field);
        if self.equals.is_empty() {
            return self.present
                && match value {
                    None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(_) => true,
                };
        }
        let Some(text) = value.and_then(text_of) else {
            return false;
        };
        self.equals
            .iter()
            .any(|e| vars.render(e).split(',').any(|v| v.trim() == text))
    }
}

impl AuthorRules {
    /// The role of a message's author and the rule that decided it.
    pub fn role(&self, message: &Value, vars: &Vars) -> (RoleName, String) {
        let groups = [
            (RoleName::Us, &self.us),
            (RoleName::Bot, &self.bot),
            (RoleName::Other, &self.other),
            (RoleName::Staff, &self.staff),
        ];
        for (role, rules) in groups {
            if let Some(rule) = rules.iter().find(|r| r.matches(message, vars)) {
                let how = if rule.equals.is_empty() {
                    format!("{} is present", rule.field)
                } else {
                    format!("{} is one of {}", rule.field, rule.equals.join(", "))
                };
                return (role, format!("author is {}: {how}", role_word(role)));
            }
        }
        (
            self.default,
            format!(
                "author is {}: no author rule matched (the default)",
                role_word(self.default)
            ),
        )
    }
}

/// A role in words.
pub fn role_word(role: RoleName) -> &'static str {
    match role {
        RoleName::Staff => "vendor staff",
        RoleName::Us => "our own account",
        RoleName::Bot => "a bot or automation",
        RoleName::Other => "a bystander",
    }
}

/// Problems with a spec that serde cannot see: JSON pointers that do not
/// start with `/`, unknown methods. Each is a sentence.
pub fn check(spec: &Spec) -> Vec<String> {
    let mut bad_pointers = Vec::new();
    let mut pointer = |what: &str, p: &str| {
        if !p.is_empty() && !p.starts_with('/') {
            bad_pointers.push(format!(
                "{what} `{p}` is not a JSON pointer (it must be empty or start with /)"
            ));
        }
    };
    let mut problems = Vec::new();
    pointer("ticket-id", &spec.ticket_id);
    if let Some(t) = &spec.ticket_created {
        pointer("ticket-created.pointer", &t.pointer);
    }
    pointer("list.items", &spec.list.items);
    pointer("message.id", &spec.message.id);
    pointer("message.author", &spec.message.author);
    pointer("message.body", &spec.message.body);
    pointer("message.created.pointer", &spec.message.created.pointer);
    if let Some(o) = &spec.ok_field {
        pointer("ok-field", o);
    }
    if let Some(e) = &spec.error_field {
        pointer("error-field", e);
    }
    if let Some(s) = &spec.search {
        pointer("search.items", &s.items);
        pointer("search.id", &s.id);
        pointer("search.created.pointer", &s.created.pointer);
    }
    let rules = spec
        .authors
        .us
        .iter()
        .chain(&spec.authors.bot)
        .chain(&spec.authors.other)
        .chain(&spec.authors.staff);
    for r in rules.clone() {
        pointer("authors rule field", &r.field);
    }
    for r in rules {
        if r.equals.is_empty() && !r.present {
            problems.push(format!(
                "the author rule on `{}` needs `equals` or `present = true`",
                r.field
            ));
        }
    }
    match &spec.list.pagination {
        Pagination::Cursor { next, .. } => pointer("pagination.next", next),
        Pagination::NextLink { pointer: Some(p) } => pointer("pagination.pointer", p),
        Pagination::Offset {
            last_page: Some(p), ..
        } => pointer("pagination.last-page", p),
        _ => {}
    }
    problems.extend(bad_pointers);
    let mut requests = vec![
        ("create", &spec.create),
        ("list.request", &spec.list.request),
    ];
    if let Some(s) = &spec.search {
        requests.push(("search.request", &s.request));
    }
    if let Some(c) = &spec.close {
        requests.push(("close", c));
    }
    if let Some(c) = &spec.solve {
        requests.push(("solve", c));
    }
    for (what, r) in requests {
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&r.method.as_str()) {
            problems.push(format!(
                "{what}.method `{}` must be GET, POST, PUT, PATCH or DELETE",
                r.method
            ));
        }
        if !r.url.starts_with('/')
            && !r.url.starts_with("https://")
            && !r.url.starts_with("http://")
        {
            problems.push(format!(
                "{what}.url `{}` must be a path starting with / or an http(s) URL",
                r.url
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_time_format() {
        let t = |v: Value, f| parse_time(&v, f).map(|t| t.to_string());
        assert_eq!(
            t(json!("2026-11-23T10:00:00Z"), TimeFormat::Rfc3339).as_deref(),
            Some("2026-11-23T10:00:00Z")
        );
        assert_eq!(
            t(json!(1_483_037_603), TimeFormat::EpochSeconds).as_deref(),
            Some("2016-12-29T18:53:23Z")
        );
        assert_eq!(
            t(json!("1483037603123"), TimeFormat::EpochMillis).as_deref(),
            Some("2016-12-29T18:53:23.123Z")
        );
        assert_eq!(
            t(json!("1483037603.017503"), TimeFormat::SlackTs).as_deref(),
            Some("2016-12-29T18:53:23.017503Z")
        );
        assert_eq!(t(json!("14830x.1"), TimeFormat::SlackTs), None);
        assert_eq!(t(json!(12), TimeFormat::Rfc3339), None);
    }

    #[test]
    fn renders_placeholders_and_keeps_unknown_ones() {
        let v = Vars::default().with("ticket", "42").with("token", "SP-1");
        assert_eq!(
            v.render("/t/{ticket}/c?{{x}} {nope} {token}"),
            "/t/42/c?{x} {nope} SP-1"
        );
        assert_eq!(
            v.render_json(&json!({"a": ["{ticket}", 1], "b": {"c": "{token}"}})),
            json!({"a": ["42", 1], "b": {"c": "SP-1"}})
        );
    }

    #[test]
    fn spec_placeholders_are_anything_up_to_the_next_brace() {
        let v = Vars::default()
            .with("user-id", "7")
            .with("a{b", "no")
            .with("b", "yes");
        assert_eq!(v.render("{user-id}|{a{b}|{}|{|}|x{"), "7|no|{}|{|}|x{");
        assert_eq!(
            placeholders("{user-id} {{x}} {a{b} {}"),
            ["user-id", "a{b", ""]
        );
    }

    #[test]
    fn author_rules_go_us_bot_other_staff_then_default() {
        let rules = AuthorRules {
            us: vec![Rule {
                field: "/user".into(),
                equals: vec!["{user_id}".into()],
                present: false,
            }],
            bot: vec![Rule {
                field: "/bot_id".into(),
                equals: vec![],
                present: true,
            }],
            other: vec![],
            staff: vec![Rule {
                field: "/assoc".into(),
                equals: vec!["OWNER".into(), "MEMBER".into()],
                present: false,
            }],
            default: RoleName::Other,
        };
        let vars = Vars::default().with("user_id", "U1");
        let role = |m: Value| rules.role(&m, &vars).0;
        assert_eq!(role(json!({"user": "U1", "bot_id": "B"})), RoleName::Us);
        assert_eq!(role(json!({"user": "U2", "bot_id": "B"})), RoleName::Bot);
        assert_eq!(role(json!({"user": "U2", "bot_id": ""})), RoleName::Other);
        assert_eq!(
            role(json!({"user": "U2", "assoc": "MEMBER"})),
            RoleName::Staff
        );
        assert_eq!(
            role(json!({"user": "U2", "assoc": "NONE"})),
            RoleName::Other
        );
    }
}
