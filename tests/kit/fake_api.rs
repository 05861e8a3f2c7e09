//! Stateful fakes of the ticket APIs the presets talk to, on 127.0.0.1.
//!
//! One small axum app per test; its flavor decides which vendor's documented
//! request and response shapes it speaks (Zendesk Requests API, Jira Service
//! Management customer requests, GitHub Issues, Slack Web API, and a made-up
//! "Helpy" API for the config-only generic channel). Tickets are created by
//! the probe; their message lists grow as the injected clock passes the
//! times in the fake's *script* (an automation message, a staff reply, our
//! own message, a bot, ...). Pages are at most `page_size` long. Faults are
//! queued per route (429 with Retry-After, 500, Slack's `ok:false` +
//! `ratelimited`, a create that is processed but answered too late).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_probe::clock::Clock;

/// Which API the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Zendesk,
    Jsm,
    Github,
    Slack,
    /// "Helpy": an API no preset knows, for the generic channel.
    Helpy,
}

/// Who writes a scripted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Our own account.
    Us,
    /// A vendor agent (publicly identifiable as such).
    Staff,
    /// A vendor agent whose org membership is private (GitHub).
    PrivateMember,
    /// The helpdesk's automation posting an acknowledgement.
    Automation,
    /// A bot posting something that is not an acknowledgement.
    Bot,
    /// Somebody else (another customer, a colleague of ours).
    Bystander,
}

/// One message that appears `after` the ticket's creation.
#[derive(Debug, Clone)]
pub struct Line {
    pub after: SignedDuration,
    pub who: Who,
    pub body: String,
}

/// A queued fault.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (and a `Retry-After` in seconds).
    Status(u16, Option<u64>),
    /// Slack style: HTTP 200, `{"ok":false,"error":"ratelimited"}`, Retry-After.
    SlackRateLimited(u64),
    /// Process the request, but answer only after this long.
    Stall(Duration),
}

/// A ticket in the fake.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub number: u64,
    pub id: String,
    pub created_at: Timestamp,
    /// The create request's JSON, as received.
    pub request: Value,
    pub idempotency_key: Option<String>,
    pub solved: bool,
    /// When an agent solved it (the vendor's side, not our courtesy): what
    /// Zendesk's `updated_at` then says.
    pub solved_at: Option<Timestamp>,
    /// Messages posted through the API after creation (closing courtesy).
    pub posted: Vec<(Timestamp, String)>,
}

/// The fake's whole state; tests read and change it between steps.
pub struct State {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub flavor: Flavor,
    pub clock: Arc<dyn Clock>,
    pub tickets: Vec<Ticket>,
    pub script: Vec<Line>,
    pub create_faults: VecDeque<Fault>,
    pub list_faults: VecDeque<Fault>,
    pub page_size: usize,
    /// `METHOD path?query` of every request.
    pub log: Vec<String>,
    /// Create requests that reached the handler.
    pub creates: usize,
    /// Private members of the vendor's GitHub org.
    pub members: Vec<String>,
    /// Authorization headers seen.
    pub auth: Vec<String>,
}

/// A running fake.
pub struct Fake {
    pub base: String,
    pub state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    /// Starts a fake on a free loopback port.
    pub async fn start(flavor: Flavor, clock: Arc<dyn Clock>, script: Vec<Line>) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            base: format!("http://{addr}"),
            flavor,
            clock,
            tickets: Vec::new(),
            script,
            create_faults: VecDeque::new(),
            list_faults: VecDeque::new(),
            page_size: 2,
            log: Vec::new(),
            creates: 0,
            members: vec!["carol".into()],
            auth: Vec::new(),
        }));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake {
            base: format!("http://{addr}"),
            state,
            task,
        }
    }

    /// Runs `f` on the state.
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

type Shared = Arc<Mutex<State>>;

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn retry_after(status: u16, secs: Option<u64>, body: Value) -> Response {
    let mut r = reply(status, body);
    if let Some(s) = secs {
        r.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    r
}

/// One visible message of a ticket.
#[derive(Debug, Clone)]
struct Msg {
    seq: usize,
    at: Timestamp,
    who: Who,
    body: String,
}

fn visible(s: &State, t: &Ticket) -> Vec<Msg> {
    let now = s.clock.now();
    let mut out: Vec<Msg> = s
        .script
        .iter()
        .enumerate()
        .map(|(i, l)| Msg {
            seq: i + 1,
            at: t.created_at + l.after,
            who: l.who.clone(),
            body: l.body.clone(),
        })
        .filter(|m| m.at <= now)
        .collect();
    for (i, (at, body)) in t.posted.iter().enumerate() {
        out.push(Msg {
            seq: 500 + i,
            at: *at,
            who: Who::Us,
            body: body.clone(),
        });
    }
    out.sort_by_key(|m| (m.at, m.seq));
    out
}

/// A Slack `ts` for an instant (seconds and microseconds).
fn slack_ts(at: Timestamp, _salt: u64) -> String {
    format!("{}.{:06}", at.as_second(), at.subsec_microsecond())
}

async fn handle(
    AxState(shared): AxState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, stall) = {
        let mut s = shared.lock().unwrap();
        s.log.push(format!(
            "{method} {}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("")
        ));
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            s.auth.push(a.to_string());
        }
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let q = query(&uri);
        let idem = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        route(&mut s, &method, uri.path(), &q, json, idem)
    };
    if let Some(d) = stall {
        tokio::time::sleep(d).await;
    }
    response
}

enum Kind {
    Create,
    List,
    Other,
}

fn kind(flavor: Flavor, method: &Method, path: &str) -> Kind {
    let create = match flavor {
        Flavor::Zendesk => path == "/api/v2/requests",
        Flavor::Jsm => path == "/rest/servicedeskapi/request",
        Flavor::Github => path.ends_with("/issues"),
        Flavor::Slack => path == "/api/chat.postMessage",
        Flavor::Helpy => path == "/v1/tickets",
    };
    let list = match flavor {
        Flavor::Zendesk => path.ends_with("/comments"),
        Flavor::Jsm => path.ends_with("/comment"),
        Flavor::Github => path.ends_with("/comments"),
        Flavor::Slack => path == "/api/conversations.replies",
        Flavor::Helpy => path.ends_with("/posts"),
    };
    if create && method == Method::POST {
        Kind::Create
    } else if list && method == Method::GET {
        Kind::List
    } else {
        Kind::Other
    }
}

fn route(
    s: &mut State,
    method: &Method,
    path: &str,
    q: &BTreeMap<String, String>,
    body: Value,
    idem: Option<String>,
) -> (Response, Option<Duration>) {
    let flavor = s.flavor;
    let k = kind(flavor, method, path);
    let is_thread_reply = flavor == Flavor::Slack && body.get("thread_ts").is_some();
    let fault = match k {
        Kind::Create if !is_thread_reply => s.create_faults.pop_front(),
        Kind::List => s.list_faults.pop_front(),
        _ => None,
    };
    let mut stall = None;
    match fault {
        Some(Fault::Status(code, after)) => {
            return (
                retry_after(code, after, json!({"error": "fault injected"})),
                None,
            );
        }
        Some(Fault::SlackRateLimited(secs)) => {
            return (
                retry_after(
                    200,
                    Some(secs),
                    json!({"ok": false, "error": "ratelimited"}),
                ),
                None,
            );
        }
        Some(Fault::Stall(d)) => stall = Some(d),
        None => {}
    }
    let response = match k {
        Kind::Create if !is_thread_reply => {
            s.creates += 1;
            create(s, body, idem)
        }
        Kind::List => list(s, path, q),
        _ => other(s, method, path, q, body),
    };
    (response, stall)
}

fn create(s: &mut State, body: Value, idem: Option<String>) -> Response {
    if let Some(key) = &idem
        && let Some(t) = s
            .tickets
            .iter()
            .find(|t| t.idempotency_key.as_ref() == Some(key))
    {
        let t = t.clone();
        return reply(200, ticket_json(s.flavor, &t));
    }
    let number = s.tickets.len() as u64 + 1;
    let created_at = s.clock.now();
    let id = match s.flavor {
        Flavor::Zendesk | Flavor::Github => number.to_string(),
        Flavor::Jsm => format!("HELP-{number}"),
        Flavor::Slack => slack_ts(created_at, number),
        Flavor::Helpy => format!("T-{number}"),
    };
    if s.flavor == Flavor::Slack && body["channel"] != json!("C0SHARED") {
        return reply(200, json!({"ok": false, "error": "channel_not_found"}));
    }
    let t = Ticket {
        number,
        id,
        created_at,
        request: body,
        idempotency_key: idem,
        solved: false,
        solved_at: None,
        posted: Vec::new(),
    };
    s.tickets.push(t.clone());
    let status = if s.flavor == Flavor::Slack { 200 } else { 201 };
    reply(status, ticket_json(s.flavor, &t))
}

fn millis(at: Timestamp) -> Value {
    json!({
        "iso8601": at.to_string(),
        "jira": at.to_string(),
        "friendly": "Today",
        "epochMillis": at.as_millisecond(),
    })
}

fn ticket_json(flavor: Flavor, t: &Ticket) -> Value {
    let text = t.request.to_string();
    match flavor {
        Flavor::Zendesk => json!({"request": {
            "id": t.number,
            "url": format!("/api/v2/requests/{}.json", t.number),
            "subject": t.request["request"]["subject"],
            "description": t.request["request"]["comment"]["body"],
            "status": if t.solved { "solved" } else { "new" },
            "requester_id": 100,
            "created_at": t.created_at.to_string(),
            "updated_at": t.solved_at.unwrap_or(t.created_at).to_string(),
        }}),
        Flavor::Jsm => json!({
            "issueId": (10_000 + t.number).to_string(),
            "issueKey": t.id,
            "requestTypeId": t.request["requestTypeId"],
            "serviceDeskId": t.request["serviceDeskId"],
            "createdDate": millis(t.created_at),
            "reporter": {"accountId": "acc-us", "displayName": "Dana Probe"},
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": t.request["requestFieldValues"]["summary"]},
                {"fieldId": "description", "label": "Description", "value": t.request["requestFieldValues"]["description"]},
            ],
        }),
        Flavor::Github => json!({
            "id": 9_000 + t.number,
            "number": t.number,
            "title": t.request["title"],
            "body": t.request["body"],
            "state": if t.solved { "closed" } else { "open" },
            "user": {"login": "dana-probe", "id": 1, "type": "User"},
            "created_at": t.created_at.to_string(),
            "updated_at": t.created_at.to_string(),
        }),
        Flavor::Slack => json!({
            "ok": true,
            "channel": "C0SHARED",
            "ts": t.id,
            "message": {"type": "message", "user": "U0US", "text": t.request["text"], "ts": t.id, "team": "T0US"},
        }),
        Flavor::Helpy => {
            json!({"data": {"ticket_id": t.id, "opened": t.created_at.as_second().to_string(), "echo": text}})
        }
    }
}

fn ticket_for<'a>(s: &'a State, id: &str) -> Option<&'a Ticket> {
    s.tickets.iter().find(|t| t.id == id)
}

fn segment(path: &str, index_from_end: usize) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    parts[parts.len() - 1 - index_from_end].to_string()
}

fn message_json(flavor: Flavor, t: &Ticket, m: &Msg) -> Option<Value> {
    let id = t.number * 1000 + m.seq as u64;
    let at = m.at.to_string();
    Some(match flavor {
        Flavor::Zendesk => {
            let author = match m.who {
                Who::Us => 100,
                Who::Staff | Who::PrivateMember => 200,
                Who::Automation => 300,
                Who::Bot => 900,
                Who::Bystander => 400,
            };
            json!({"id": id, "type": "Comment", "body": m.body, "plain_body": m.body, "public": true, "author_id": author, "created_at": at, "attachments": []})
        }
        Flavor::Jsm => {
            let (acc, name) = match m.who {
                Who::Us => ("acc-us", "Dana Probe"),
                Who::Staff | Who::PrivateMember => ("acc-agent", "Sam Agent"),
                Who::Automation => ("acc-automation", "Automation for Jira"),
                Who::Bot => ("acc-bot", "Status Bot"),
                Who::Bystander => ("acc-other", "Other Customer"),
            };
            json!({"id": id.to_string(), "body": m.body, "public": true, "author": {"accountId": acc, "displayName": name, "active": true}, "created": millis(m.at)})
        }
        Flavor::Github => {
            let (login, kind, assoc, app) = match m.who {
                Who::Us => ("dana-probe", "User", "NONE", Value::Null),
                Who::Staff => ("sam", "User", "MEMBER", Value::Null),
                Who::PrivateMember => ("carol", "User", "CONTRIBUTOR", Value::Null),
                Who::Automation => (
                    "acme-helper[bot]",
                    "Bot",
                    "NONE",
                    json!({"slug": "acme-helper"}),
                ),
                Who::Bot => ("dependabot[bot]", "Bot", "NONE", Value::Null),
                Who::Bystander => ("dave", "User", "NONE", Value::Null),
            };
            json!({"id": id, "body": m.body, "user": {"login": login, "type": kind}, "author_association": assoc, "created_at": at, "updated_at": at, "performed_via_github_app": app})
        }
        Flavor::Slack => {
            let ts = slack_ts(m.at, id);
            match m.who {
                Who::Us => {
                    json!({"type": "message", "user": "U0US", "user_team": "T0US", "text": m.body, "ts": ts, "thread_ts": t.id})
                }
                Who::Staff | Who::PrivateMember => {
                    json!({"type": "message", "user": "U0VEN", "user_team": "T0VEN", "text": m.body, "ts": ts, "thread_ts": t.id})
                }
                Who::Automation => {
                    json!({"type": "message", "subtype": "bot_message", "bot_id": "B0WF", "text": m.body, "ts": ts, "thread_ts": t.id})
                }
                Who::Bot => {
                    json!({"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": m.body, "ts": ts, "thread_ts": t.id})
                }
                Who::Bystander => {
                    json!({"type": "message", "user": "U0COL", "user_team": "T0US", "text": m.body, "ts": ts, "thread_ts": t.id})
                }
            }
        }
        Flavor::Helpy => {
            let (from, kind) = match m.who {
                Who::Us => ("cust-1", "customer"),
                Who::Staff | Who::PrivateMember => ("agent-7", "agent"),
                Who::Automation | Who::Bot => ("robo", "robot"),
                Who::Bystander => ("cust-2", "customer"),
            };
            json!({"post_id": format!("p{id}"), "at": m.at.as_second(), "from": {"id": from, "kind": kind}, "content": m.body})
        }
    })
}

fn list(s: &State, path: &str, q: &BTreeMap<String, String>) -> Response {
    let flavor = s.flavor;
    let ticket_id = match flavor {
        Flavor::Slack => q.get("ts").cloned().unwrap_or_default(),
        _ => segment(path, 1),
    };
    let Some(t) = ticket_for(s, &ticket_id) else {
        return reply(404, json!({"error": "RecordNotFound"}));
    };
    let mut msgs = visible(s, t);
    if flavor == Flavor::Zendesk && q.get("role").map(String::as_str) == Some("agent") {
        // Documented filter: only comments by agents.
        msgs.retain(|m| m.who != Who::Us && m.who != Who::Bystander);
    }
    let mut items: Vec<Value> = msgs
        .iter()
        .filter_map(|m| message_json(flavor, t, m))
        .collect();
    if flavor == Flavor::Slack {
        // conversations.replies starts with the parent message: ours.
        items.insert(
            0,
            json!({"type": "message", "user": "U0US", "user_team": "T0US", "text": t.request["text"], "ts": t.id, "thread_ts": t.id, "reply_count": msgs.len()}),
        );
    }
    let total = items.len();
    let size = |key: &str| {
        q.get(key)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(100)
            .min(s.page_size)
    };
    match flavor {
        Flavor::Zendesk => {
            let n = size("page[size]");
            let start: usize = q
                .get("page[after]")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let end = (start + n).min(total);
            let more = end < total;
            let next = more.then(|| {
                format!(
                    "{}/api/v2/requests/{}/comments?role=agent&sort=created_at&page%5Bsize%5D={n}&page%5Bafter%5D={end}",
                    s.base, t.id
                )
            });
            reply(
                200,
                json!({"comments": &items[start.min(total)..end], "meta": {"has_more": more, "after_cursor": end.to_string()}, "links": {"next": next}}),
            )
        }
        Flavor::Jsm => {
            let n = size("limit");
            let start: usize = q.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
            let end = (start + n).min(total);
            reply(
                200,
                json!({"size": end.saturating_sub(start), "start": start, "limit": n, "isLastPage": end >= total, "values": &items[start.min(total)..end], "_links": {}}),
            )
        }
        Flavor::Github => {
            let n = size("per_page");
            let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            let start = ((page - 1) * n).min(total);
            let end = (start + n).min(total);
            let mut r = reply(200, Value::Array(items[start..end].to_vec()));
            if end < total {
                let link = format!(
                    "<{}{path}?per_page={n}&page={}>; rel=\"next\"",
                    s.base,
                    page + 1
                );
                r.headers_mut().insert("link", link.parse().unwrap());
            }
            r
        }
        Flavor::Slack => {
            let n = size("limit");
            let start: usize = q
                .get("cursor")
                .and_then(|c| c.strip_prefix("dXNlcjo"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let end = (start + n).min(total);
            let more = end < total;
            reply(
                200,
                json!({"ok": true, "messages": &items[start.min(total)..end], "has_more": more, "response_metadata": {"next_cursor": if more { format!("dXNlcjo{end}") } else { String::new() }}}),
            )
        }
        Flavor::Helpy => {
            let n = size("per");
            let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
            let start = ((page - 1) * n).min(total);
            let end = (start + n).min(total);
            reply(200, json!({"posts": &items[start..end]}))
        }
    }
}

fn other(
    s: &mut State,
    method: &Method,
    path: &str,
    q: &BTreeMap<String, String>,
    body: Value,
) -> Response {
    let now = s.clock.now();
    let flavor = s.flavor;
    let contains = |t: &Ticket, token: &str| t.request.to_string().contains(token);
    match (flavor, method.as_str()) {
        (Flavor::Zendesk, "GET") if path == "/api/v2/requests/search" => {
            let token = q.get("query").cloned().unwrap_or_default();
            let found: Vec<Value> = s
                .tickets
                .iter()
                .filter(|t| contains(t, &token))
                .map(|t| ticket_json(flavor, t)["request"].clone())
                .collect();
            reply(200, json!({"requests": found, "count": found.len()}))
        }
        (Flavor::Zendesk, "GET") if !path.contains("/comments") => {
            let id = segment(path, 0);
            match s.tickets.iter().find(|t| t.id == id) {
                Some(t) => reply(200, ticket_json(flavor, t)),
                None => reply(404, json!({"error": "RecordNotFound"})),
            }
        }
        (Flavor::Zendesk, "PUT") => {
            let id = segment(path, 0);
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) else {
                return reply(404, json!({"error": "RecordNotFound"}));
            };
            if let Some(c) = body["request"]["comment"]["body"].as_str() {
                t.posted.push((now, c.to_string()));
            }
            if body["request"]["solved"] == json!(true) {
                t.solved = true;
            }
            let t = t.clone();
            reply(200, ticket_json(flavor, &t))
        }
        (Flavor::Jsm, "GET") if path == "/rest/servicedeskapi/request" => {
            let token = q.get("searchTerm").cloned().unwrap_or_default();
            let found: Vec<Value> = s
                .tickets
                .iter()
                .filter(|t| contains(t, &token))
                .map(|t| ticket_json(flavor, t))
                .collect();
            reply(
                200,
                json!({"size": found.len(), "start": 0, "limit": 50, "isLastPage": true, "values": found}),
            )
        }
        (Flavor::Jsm, "POST") if path.ends_with("/comment") => {
            let id = segment(path, 1);
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) else {
                return reply(404, json!({"errorMessage": "not found"}));
            };
            t.posted
                .push((now, body["body"].as_str().unwrap_or_default().to_string()));
            reply(
                201,
                json!({"id": "99", "body": body["body"], "public": true}),
            )
        }
        (Flavor::Github, "GET") if path.ends_with("/issues") => {
            let creator = q.get("creator").cloned().unwrap_or_default();
            let found: Vec<Value> = s
                .tickets
                .iter()
                .filter(|_| creator == "dana-probe")
                .map(|t| ticket_json(flavor, t))
                .collect();
            reply(200, Value::Array(found))
        }
        (Flavor::Github, "GET") if path.starts_with("/orgs/acme/members/") => {
            let login = segment(path, 0);
            if s.members.contains(&login) {
                StatusCode::NO_CONTENT.into_response()
            } else {
                reply(404, json!({"message": "Not Found"}))
            }
        }
        (Flavor::Github, "POST") if path.ends_with("/comments") => {
            let id = segment(path, 1);
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) else {
                return reply(404, json!({"message": "Not Found"}));
            };
            t.posted
                .push((now, body["body"].as_str().unwrap_or_default().to_string()));
            reply(201, json!({"id": 1, "body": body["body"]}))
        }
        (Flavor::Github, "PATCH") => {
            let id = segment(path, 0);
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) else {
                return reply(404, json!({"message": "Not Found"}));
            };
            if body["state"] == json!("closed") {
                t.solved = true;
            }
            let t = t.clone();
            reply(200, ticket_json(flavor, &t))
        }
        (Flavor::Slack, "POST") if path == "/api/chat.postMessage" => {
            let parent = body["thread_ts"].as_str().unwrap_or_default().to_string();
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == parent) else {
                return reply(200, json!({"ok": false, "error": "thread_not_found"}));
            };
            t.posted
                .push((now, body["text"].as_str().unwrap_or_default().to_string()));
            reply(
                200,
                json!({"ok": true, "channel": "C0SHARED", "ts": slack_ts(now, 777)}),
            )
        }
        (Flavor::Slack, "GET") if path == "/api/conversations.history" => {
            let oldest: i64 = q
                .get("oldest")
                .and_then(|v| v.split('.').next()?.parse().ok())
                .unwrap_or(0);
            let found: Vec<Value> = s
                .tickets
                .iter()
                .filter(|t| t.created_at.as_second() >= oldest)
                .map(|t| ticket_json(flavor, t)["message"].clone())
                .collect();
            reply(
                200,
                json!({"ok": true, "messages": found, "has_more": false}),
            )
        }
        (Flavor::Helpy, "POST") if path.ends_with("/posts") => {
            let id = segment(path, 1);
            let Some(t) = s.tickets.iter_mut().find(|t| t.id == id) else {
                return reply(404, json!({"error": "no such ticket"}));
            };
            t.posted.push((
                now,
                body["content"].as_str().unwrap_or_default().to_string(),
            ));
            reply(201, json!({"post_id": "p-new"}))
        }
        _ => reply(
            404,
            json!({"error": format!("the fake has no route {method} {path}")}),
        ),
    }
}

/// How the fake's made-up "Helpy" API is described to the generic channel,
/// in config alone (`[persona.api.spec]` and its tables): what a user writes
/// for an API without a preset. Shared by the tests and the throughput
/// benchmark.
pub const HELPY_SPEC: &str = r#"[persona.api.spec]
ticket-id = "/data/ticket_id"
ticket-created = { pointer = "/data/opened", format = "epoch-seconds" }
idempotency-header = "Idempotency-Key"

[persona.api.spec.create]
method = "POST"
url = "/v1/tickets"
body = { title = "{subject}", text = "{body}" }

[persona.api.spec.list]
items = "/posts"
pagination = { type = "page", param = "page", size-param = "per", size = 2 }

[persona.api.spec.list.request]
url = "/v1/tickets/{ticket}/posts"
query = { per = "2" }

[persona.api.spec.message]
id = "/post_id"
author = "/from/id"
body = "/content"
created = { pointer = "/at", format = "epoch-seconds" }

[persona.api.spec.authors]
default = "other"
us = [{ field = "/from/id", equals = ["{me}"] }]
bot = [{ field = "/from/kind", equals = ["robot"] }]
staff = [{ field = "/from/kind", equals = ["agent"] }]
"#;
