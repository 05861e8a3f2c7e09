//! Ticket APIs as a channel: one generic, config-driven HTTP channel
//! ([`HttpChannel`]) that executes a declarative [`Spec`]. The spec is data
//! of the config (`config::api::spec`): a preset's (`config::api::presets`)
//! or a `generic` persona's own; `presets/` here adds the hooks a preset
//! needs beyond its spec.
//!
//! - **Filing** is one create request. Its outcome follows the HTTP exchange:
//!   a 2xx with a ticket id is `Accepted` at the ticket's creation time as
//!   the API states it; a refused connection, a 429 or `ratelimited`, or a
//!   4xx is `Rejected` (retryable for the first two); a timeout, a 5xx or a
//!   2xx without an id is `Unknown` — the ticket may exist — unless the spec
//!   names an idempotency header, in which case the create is repeated with
//!   the same key (the probe id), which the API promises not to duplicate.
//! - **Reading** goes per open ticket (the engine passes them to
//!   [`Channel::fetch_open`]): every page of the ticket's message list, each
//!   message mapped to an [`Inbound`] with its API timestamp, author role
//!   and text, and `probe_hint` set. The checkpoint is, per open ticket, the
//!   vendor ids already returned.
//! - **Faults**: every request has a timeout; reads retry 429 after
//!   `Retry-After` (capped) and 5xx, timeouts and refused connections with
//!   exponential backoff plus jitter, a bounded number of times.
//! - **Uncertain filings** are resolved by the spec's token search
//!   ([`Channel::find_filed`]); **etiquette** posts a closing message and/or
//!   marks the ticket solved ([`Channel::courtesy`]).
//!
//! Architecture Invariant: as every channel, this one keeps no books: it
//! never decides to file, never matches beyond the ticket it read, never
//! classifies. Secrets are only in [`Auth`], which never prints them.

pub mod build;
mod client;
pub mod presets;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    ApiMessage, AuthorRole, Channel, ChannelError, CourtesyDone, Fetched, FileOutcome, FollowUp,
    FoundTicket, Inbound, OpenTicket, Outgoing, TicketResolved,
};
use crate::clock::Clock;
use crate::config::api::spec;
use crate::model::TimeSource;
use client::Fault;
pub use client::{Api, Auth, Reply};
pub use spec::{RoleName, Spec, Vars};

/// How many pages of one ticket's messages are read at most per fetch.
const MAX_PAGES: usize = 50;
/// Everything an [`HttpChannel`] needs besides its spec.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The persona's name (the checkpoint key is `http:<persona>`).
    pub persona: String,
    /// The kind recorded on probes: the preset's name or `http`.
    pub kind: &'static str,
    /// Prefix of every path in the spec, e.g. `https://acme.zendesk.com`.
    pub base_url: String,
    /// Authentication.
    pub auth: Auth,
    /// Template variables from the config (`params`) plus the persona's.
    pub params: BTreeMap<String, String>,
    /// The timeout of every single request.
    pub timeout: Duration,
    /// How often `wait` lets the caller poll.
    pub poll: Duration,
    /// How many times a failed read is retried.
    pub retries: u32,
    /// The first backoff pause; doubled per retry, with jitter.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured in place; longer ones fail the call.
    pub max_retry_after: Duration,
    /// The closing courtesy message, if any.
    pub closing_message: Option<String>,
    /// Whether to mark the ticket solved after the first human reply.
    pub mark_solved: bool,
    /// An extra trust root (PEM).
    pub ca_file: Option<PathBuf>,
}

/// A vendor-specific refinement on top of the spec (one per preset at most).
#[async_trait]
pub trait Hook: Send + Sync + std::fmt::Debug {
    /// May change the role the author rules gave a message (GitHub: check
    /// org membership of authors the rules left as bystanders).
    async fn refine_role(
        &self,
        api: &Api,
        message: &Value,
        role: RoleName,
        reason: String,
    ) -> Result<(RoleName, String), ChannelError> {
        let _ = (api, message);
        Ok((role, reason))
    }
}

/// The hook of a spec without vendor-specific behaviour.
#[derive(Debug)]
pub struct NoHook;

impl Hook for NoHook {}

/// A ticket API channel; see the module doc.
#[derive(Debug)]
pub struct HttpChannel {
    api: Api,
    hook: Arc<dyn Hook>,
    clock: Arc<dyn Clock>,
    /// Roles the hook decided, per author id and the role the author rules
    /// gave the message (an org membership does not change between two
    /// messages; the rules look at each message, e.g. its type). A std
    /// mutex, never held across `.await`.
    role_cache: Mutex<HashMap<(String, RoleName), (RoleName, String)>>,
}

impl HttpChannel {
    /// Builds the channel and its HTTP client (rustls with ring, the
    /// system's roots plus `ca_file`).
    pub fn new(
        settings: HttpSettings,
        spec: Spec,
        hook: Arc<dyn Hook>,
        clock: Arc<dyn Clock>,
    ) -> Result<HttpChannel, ChannelError> {
        let api = Api::new(settings, spec)?;
        Ok(HttpChannel {
            api,
            hook,
            clock,
            role_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The spec in use.
    pub fn spec(&self) -> &Spec {
        &self.api.spec
    }

    /// The template variables of a probe's create request.
    pub fn create_vars(&self, probe: &Outgoing) -> Vars {
        self.api
            .vars()
            .with("subject", probe.subject.clone())
            .with("body", probe.body.clone())
            .with("token", probe.token.clone())
            .with("probe_id", probe.probe_id.to_string())
            .with("persona", probe.from_name.clone())
            .with("address", probe.from_address.clone())
    }

    /// The create request as it would be sent, secrets redacted.
    pub fn preview(&self, probe: &Outgoing) -> Value {
        let mut v = self
            .api
            .preview(&self.api.spec.create, &self.create_vars(probe));
        if let Some(h) = &self.api.spec.idempotency_header
            && let Some(headers) = v.get_mut("headers").and_then(Value::as_object_mut)
        {
            headers.insert(h.clone(), Value::String(probe.probe_id.to_string()));
        }
        v
    }

    async fn create(&self, probe: &Outgoing) -> FileOutcome {
        let vars = self.create_vars(probe);
        let spec = &self.api.spec;
        let idem: Vec<(String, String)> = spec
            .idempotency_header
            .iter()
            .map(|h| (h.clone(), probe.probe_id.to_string()))
            .collect();
        let mut attempt = 0;
        loop {
            let fault = match self.api.once(&spec.create, &vars, &idem, &[], None).await {
                Ok(reply) => return self.accepted(&reply),
                Err(f) => f,
            };
            let repeatable = !idem.is_empty()
                && matches!(fault, Fault::Timeout | Fault::Server(..))
                && attempt < self.api.settings.retries;
            if repeatable {
                // Safe: the API returns the ticket already made for this key.
                tokio::time::sleep(self.api.backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            return outcome_of(fault, "the ticket may or may not have been created");
        }
    }

    fn accepted(&self, reply: &Reply) -> FileOutcome {
        let spec = &self.api.spec;
        let Some(id) = reply.json.pointer(&spec.ticket_id).and_then(spec::text_of) else {
            return FileOutcome::Unknown {
                reason: format!(
                    "HTTP {} without a ticket id at {}: the ticket may or may not exist",
                    reply.status, spec.ticket_id
                ),
            };
        };
        let created = spec.ticket_created.as_ref().and_then(|f| {
            reply
                .json
                .pointer(&f.pointer)
                .and_then(|v| spec::parse_time(v, f.format))
        });
        let (at, source, note) = match created {
            Some(t) => (t, TimeSource::ApiCreated, String::new()),
            None => (
                self.clock.now(),
                TimeSource::ApiReceived,
                " (no creation time in the response: our clock's reading)".to_string(),
            ),
        };
        FileOutcome::Accepted {
            at,
            source,
            detail: format!("HTTP {}: ticket {id}{note}", reply.status),
            ticket_ref: Some(id),
        }
    }

    async fn role(&self, message: &Value, vars: &Vars) -> Result<(RoleName, String), ChannelError> {
        let (role, reason) = self.api.spec.authors.role(message, vars);
        if role != RoleName::Other && role != RoleName::Staff {
            return Ok((role, reason));
        }
        let author = message
            .pointer(&self.api.spec.message.author)
            .and_then(spec::text_of)
            .unwrap_or_default();
        let cached = self
            .role_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(author.clone(), role))
            .cloned();
        if let Some(hit) = cached {
            return Ok(hit);
        }
        let refined = self
            .hook
            .refine_role(&self.api, message, role, reason)
            .await?;
        self.role_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((author, role), refined.clone());
        Ok(refined)
    }

    /// Every message of one ticket, all pages; `None` when the API says
    /// the ticket is gone (404 or 410 on its first page).
    async fn list(&self, ticket: &str) -> Result<Option<Vec<Value>>, ChannelError> {
        let spec = &self.api.spec;
        let vars = self.api.vars().with("ticket", ticket);
        let mut out = Vec::new();
        let mut extra: Vec<(String, String)> = Vec::new();
        let mut link: Option<String> = None;
        let mut page_no: u32 = 1;
        let mut offset: u32 = 0;
        for page in 0..MAX_PAGES {
            let reply = match self
                .api
                .read_or_fault(&spec.list.request, &vars, &extra, link.as_deref())
                .await
            {
                Ok(r) => r,
                Err(Fault::Refused(404 | 410, _)) if page == 0 => return Ok(None),
                Err(f) => return Err(self.api.error(f)),
            };
            let items = reply
                .json
                .pointer(&spec.list.items)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| ChannelError::Protocol {
                    server: self.api.settings.base_url.clone(),
                    reason: format!("no message array at {:?}", spec.list.items).into(),
                })?;
            let count = items.len();
            out.extend(items);
            let nonempty = |v: Option<&Value>| v.and_then(spec::text_of).filter(|s| !s.is_empty());
            match &spec.list.pagination {
                spec::Pagination::None => break,
                spec::Pagination::Cursor { param, next } => {
                    match nonempty(reply.json.pointer(next)) {
                        Some(c) => extra = vec![(param.clone(), c)],
                        None => break,
                    }
                }
                spec::Pagination::NextLink { pointer } => {
                    let next = match pointer {
                        Some(p) => nonempty(reply.json.pointer(p)),
                        None => reply.next_link.clone(),
                    };
                    match next {
                        Some(url) => link = Some(url),
                        None => break,
                    }
                }
                spec::Pagination::Offset {
                    param,
                    limit_param,
                    limit,
                    last_page,
                } => {
                    let last = last_page
                        .as_ref()
                        .and_then(|p| reply.json.pointer(p))
                        .and_then(Value::as_bool)
                        .unwrap_or(count < *limit as usize);
                    if last || count == 0 {
                        break;
                    }
                    offset += u32::try_from(count).unwrap_or(*limit);
                    extra = vec![
                        (param.clone(), offset.to_string()),
                        (limit_param.clone(), limit.to_string()),
                    ];
                }
                spec::Pagination::Page {
                    param,
                    size_param,
                    size,
                } => {
                    if count < *size as usize {
                        break;
                    }
                    page_no += 1;
                    extra = vec![
                        (param.clone(), page_no.to_string()),
                        (size_param.clone(), size.to_string()),
                    ];
                }
            }
        }
        Ok(Some(out))
    }

    async fn inbound(
        &self,
        open: &OpenTicket,
        message: &Value,
    ) -> Result<Option<Inbound>, ChannelError> {
        let fields = &self.api.spec.message;
        let Some(id) = message.pointer(&fields.id).and_then(spec::text_of) else {
            tracing::warn!(ticket = %open.ticket, "a message without an id was skipped");
            return Ok(None);
        };
        let Some(at) = message
            .pointer(&fields.created.pointer)
            .and_then(|v| spec::parse_time(v, fields.created.format))
        else {
            tracing::warn!(ticket = %open.ticket, message = %id, "a message without a readable time was skipped");
            return Ok(None);
        };
        let vars = self.api.vars().with("ticket", open.ticket.clone());
        let (role, role_reason) = self.role(message, &vars).await?;
        Ok(Some(Inbound {
            key: format!("{}:{}:{id}", self.watch_key(), open.ticket),
            at,
            source: TimeSource::ApiCreated,
            raw: Vec::new(),
            probe_hint: Some(open.probe.clone()),
            api: Some(ApiMessage {
                vendor_id: id,
                author: message
                    .pointer(&fields.author)
                    .and_then(spec::text_of)
                    .unwrap_or_default(),
                role: match role {
                    RoleName::Staff => AuthorRole::Staff,
                    RoleName::Us => AuthorRole::Us,
                    RoleName::Bot => AuthorRole::Bot,
                    RoleName::Other => AuthorRole::Other,
                },
                body: message
                    .pointer(&fields.body)
                    .and_then(spec::text_of)
                    .unwrap_or_default(),
                role_reason,
            }),
        }))
    }
}

#[async_trait]
impl Channel for HttpChannel {
    fn kind(&self) -> &'static str {
        self.api.settings.kind
    }

    fn watch_key(&self) -> String {
        format!("http:{}", self.api.settings.persona)
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        self.create(probe).await
    }

    /// Without the list of open tickets there is nothing to read; the
    /// checkpoint is kept as it is.
    async fn fetch(
        &self,
        position: Option<&Value>,
        _since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        Ok(Fetched {
            messages: Vec::new(),
            position: position
                .cloned()
                .unwrap_or_else(|| json!({ "tickets": {} })),
            rescanned: false,
            more: false,
        })
    }

    async fn fetch_open(
        &self,
        open: &[OpenTicket],
        position: Option<&Value>,
        _since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let mut tickets = serde_json::Map::new();
        let mut messages = Vec::new();
        for t in open {
            let mut seen: BTreeSet<String> = position
                .and_then(|p| p.pointer(&format!("/tickets/{}/seen", escape(&t.ticket))))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(spec::text_of).collect())
                .unwrap_or_default();
            let Some(items) = self.list(&t.ticket).await? else {
                // Deleted by the vendor (or no longer visible to us): no
                // reply will come; the probe is censored at its deadline.
                tracing::warn!(probe = %t.probe, ticket = %t.ticket, "the API says this ticket is gone");
                tickets.insert(t.ticket.clone(), json!({ "seen": seen, "gone": true }));
                continue;
            };
            for item in items {
                let Some(inbound) = self.inbound(t, &item).await? else {
                    continue;
                };
                let Some(api) = &inbound.api else { continue };
                if seen.insert(api.vendor_id.clone()) {
                    messages.push(inbound);
                }
            }
            tickets.insert(t.ticket.clone(), json!({ "seen": seen }));
        }
        messages.sort_by_key(|m| m.at);
        Ok(Fetched {
            messages,
            position: json!({ "tickets": tickets }),
            rescanned: false,
            more: false,
        })
    }

    async fn wait(&self, _position: Option<&Value>, max: Duration) -> Result<(), ChannelError> {
        tokio::time::sleep(max.min(self.api.settings.poll)).await;
        Ok(())
    }

    async fn find_filed(
        &self,
        token: &str,
        since: Timestamp,
    ) -> Result<Option<FoundTicket>, ChannelError> {
        let Some(search) = &self.api.spec.search else {
            return Ok(None);
        };
        let vars = self
            .api
            .vars()
            .with("token", token)
            .with("since", since.to_string())
            .with("since_epoch", since.as_second().to_string());
        let reply = self.api.read(&search.request, &vars, &[], None).await?;
        let Some(items) = reply.json.pointer(&search.items).and_then(Value::as_array) else {
            return Ok(None);
        };
        for item in items {
            if !item.to_string().contains(token) {
                continue;
            }
            let id = item.pointer(&search.id).and_then(spec::text_of);
            let created = item
                .pointer(&search.created.pointer)
                .and_then(|v| spec::parse_time(v, search.created.format));
            if let (Some(ticket), Some(created_at)) = (id, created) {
                return Ok(Some(FoundTicket { ticket, created_at }));
            }
        }
        Ok(None)
    }

    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        let Some(request) = self
            .api
            .spec
            .reply
            .as_ref()
            .or(self.api.spec.close.as_ref())
        else {
            return FileOutcome::Rejected {
                reason: "the API spec has neither `reply` nor `close`: no way to add a comment"
                    .into(),
                retryable: false,
                retry_after: None,
            };
        };
        let Some(ticket) = &message.ticket else {
            return FileOutcome::Rejected {
                reason: "no ticket id was learned at filing: nothing to comment on".into(),
                retryable: false,
                retry_after: None,
            };
        };
        let vars = self
            .api
            .vars()
            .with("ticket", ticket)
            .with("message", message.message.body.clone());
        // Sent once: a comment is not idempotent, so nothing is retried.
        match self.api.once(request, &vars, &[], &[], None).await {
            Ok(reply) => FileOutcome::Accepted {
                at: self.clock.now(),
                source: TimeSource::ApiReceived,
                detail: format!("HTTP {}: comment added to ticket {ticket}", reply.status),
                ticket_ref: None,
            },
            Err(fault) => outcome_of(fault, "the comment may or may not have been added"),
        }
    }

    fn reads_resolution(&self) -> bool {
        self.api.spec.status.is_some()
    }

    async fn resolution(&self, ticket: &str) -> Result<Option<TicketResolved>, ChannelError> {
        let Some(status) = &self.api.spec.status else {
            return Ok(None);
        };
        let vars = self.api.vars().with("ticket", ticket);
        let reply = self.api.read(&status.request, &vars, &[], None).await?;
        let Some(value) = reply.json.pointer(&status.field).and_then(spec::text_of) else {
            return Ok(None);
        };
        if !status
            .resolved
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&value))
        {
            return Ok(None);
        }
        // Resolved, but without the API's time there is no reading: our
        // clock would only say when we looked.
        let at = reply
            .json
            .pointer(&status.resolved_at.pointer)
            .and_then(|v| spec::parse_time(v, status.resolved_at.format));
        Ok(at.map(|at| TicketResolved { at, status: value }))
    }

    fn has_courtesy(&self) -> bool {
        let s = &self.api.settings;
        (s.closing_message.is_some() && self.api.spec.close.is_some())
            || (s.mark_solved && self.api.spec.solve.is_some())
    }

    async fn courtesy(&self, ticket: &str) -> Result<CourtesyDone, ChannelError> {
        let s = &self.api.settings;
        let mut done = Vec::new();
        let vars = self.api.vars().with("ticket", ticket);
        if let (Some(text), Some(close)) = (&s.closing_message, &self.api.spec.close) {
            let vars = vars.clone().with("message", text.clone());
            self.api.write_once(close, &vars).await?;
            done.push("posted the closing message");
        }
        if s.mark_solved
            && let Some(solve) = &self.api.spec.solve
        {
            self.api.write_once(solve, &vars).await?;
            done.push("marked the ticket solved");
        }
        Ok(CourtesyDone {
            detail: done.join("; "),
        })
    }
}

/// What a failed write means for the engine: definitely not processed
/// (connect failures, refusals, rate limits) or perhaps processed
/// (`unsure` says what may have happened).
fn outcome_of(fault: Fault, unsure: &str) -> FileOutcome {
    let reason = fault.describe();
    match fault {
        Fault::Connect(_) => FileOutcome::Rejected {
            reason,
            retryable: true,
            retry_after: None,
        },
        // Not processed; the engine waits at least as long as asked.
        Fault::RateLimited(wait) => FileOutcome::Rejected {
            reason,
            retryable: true,
            retry_after: Some(wait.unwrap_or(Duration::ZERO)),
        },
        Fault::Refused(408, _) => FileOutcome::Unknown { reason },
        Fault::Refused(..) => FileOutcome::Rejected {
            reason,
            retryable: false,
            retry_after: None,
        },
        Fault::Timeout | Fault::Server(..) => FileOutcome::Unknown {
            reason: format!("{reason}: {unsure}"),
        },
    }
}

/// Escapes a ticket id for use as one JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
