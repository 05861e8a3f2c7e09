//! The HTTP client under the API channel: one `reqwest` client per persona
//! (rustls with the system's roots plus an optional CA file), requests built
//! from a spec's templates with the persona's authentication, and the fault
//! handling every call shares: a timeout on each request, `Retry-After`
//! honoured up to a cap, reads retried with exponential backoff and jitter,
//! writes retried only when they cannot have been processed. It knows
//! nothing of probes or tickets: that is the channel's (`super`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::HttpSettings;
use super::spec::{self, Spec, Vars};
use crate::channel::email::tls::client_config;
use crate::channel::{ChannelError, Reason};
use crate::clock::{Backoff, Jitter};
use crate::config::SecretString;

/// How much of an error response is kept for the reason.
const SNIPPET: usize = 200;

/// How requests authenticate.
#[derive(Clone)]
pub enum Auth {
    /// No authentication header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// HTTP basic authentication.
    Basic {
        /// The user name (Zendesk: `you@example.org/token`).
        user: String,
        /// The password or API token.
        secret: SecretString,
    },
    /// The secret in a named header.
    Header {
        /// The header's name.
        name: String,
        /// Its value.
        secret: SecretString,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::Bearer(_) => f.write_str("bearer [redacted]"),
            Auth::Basic { user, .. } => write!(f, "basic {user}:[redacted]"),
            Auth::Header { name, .. } => write!(f, "header {name}: [redacted]"),
        }
    }
}

/// One HTTP exchange's result, when it reached the server and came back.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The parsed body (`null` when empty or not JSON).
    pub json: Value,
    /// The `Link` header's `rel="next"` target.
    pub next_link: Option<String>,
}

/// Why a call failed.
#[derive(Debug)]
pub(super) enum Fault {
    /// The request never reached the server (connection refused, DNS).
    Connect(reqwest::Error),
    /// No answer in time: it may have been processed.
    Timeout,
    /// The server is rate-limiting; wait this long (if it said).
    RateLimited(Option<Duration>),
    /// A 5xx.
    Server(u16, String),
    /// A 4xx other than 429, or an `ok: false` error.
    Refused(u16, String),
}

impl Fault {
    pub(super) fn describe(&self) -> String {
        match self {
            Fault::Connect(e) => format!("cannot connect: {e}"),
            Fault::Timeout => "no answer in time".into(),
            Fault::RateLimited(Some(d)) => {
                format!("rate-limited (retry after {} s)", d.as_secs())
            }
            Fault::RateLimited(None) => "rate-limited".into(),
            Fault::Server(s, b) => format!("server error {s}: {b}"),
            Fault::Refused(s, b) => format!("refused ({s}): {b}"),
        }
    }
}

/// The HTTP side shared by the channel and its hook.
#[derive(Debug)]
pub struct Api {
    pub(super) settings: HttpSettings,
    pub(super) spec: Spec,
    client: reqwest::Client,
    /// The pauses between retries of one call.
    retry: Backoff,
}

impl Api {
    /// The client for `settings`: rustls with ring, the system's roots plus
    /// `ca_file`, HTTP/1.1, a connect timeout of `settings.timeout`.
    pub(super) fn new(settings: HttpSettings, spec: Spec) -> Result<Api, ChannelError> {
        let mut tls =
            (*client_config(settings.ca_file.as_deref()).map_err(|e| ChannelError::Tls {
                server: settings.base_url.clone(),
                reason: Reason::of(e),
            })?)
            .clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("support-probe/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ChannelError::Tls {
                server: settings.base_url.clone(),
                reason: Reason::of(e),
            })?;
        Ok(Api {
            retry: retry_backoff(settings.backoff),
            settings,
            spec,
            client,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The variables every template sees: the params.
    pub fn vars(&self) -> Vars {
        Vars(self.settings.params.clone())
    }

    pub(super) fn url(&self, template: &str, vars: &Vars) -> String {
        let url = vars.render(template);
        if url.starts_with("http://") || url.starts_with("https://") {
            url
        } else {
            format!("{}{url}", self.settings.base_url.trim_end_matches('/'))
        }
    }

    /// The request as it would be sent, secrets left out (for `--dry-run`).
    pub fn preview(&self, request: &spec::Request, vars: &Vars) -> Value {
        let query: BTreeMap<String, String> = request
            .query
            .iter()
            .map(|(k, v)| (k.clone(), vars.render(v)))
            .collect();
        let mut headers: BTreeMap<String, String> = request
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), vars.render(v)))
            .collect();
        if !matches!(self.settings.auth, Auth::None) {
            headers.insert("authorization".into(), format!("{:?}", self.settings.auth));
        }
        json!({
            "method": request.method,
            "url": self.url(&request.url, vars),
            "query": query,
            "headers": headers,
            "body": request.body.as_ref().map(|b| vars.render_json(b)),
        })
    }

    /// Sends one request once; `extra` are additional headers.
    pub(super) async fn once(
        &self,
        request: &spec::Request,
        vars: &Vars,
        extra: &[(String, String)],
        query_extra: &[(String, String)],
        url_override: Option<&str>,
    ) -> Result<Reply, Fault> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| Fault::Refused(0, format!("bad method: {e}")))?;
        let url = match url_override {
            Some(u) => u.to_string(),
            None => self.url(&request.url, vars),
        };
        let mut rb = self
            .client
            .request(method, &url)
            .timeout(self.settings.timeout);
        if url_override.is_none() {
            // Paging parameters replace the first page's values.
            let mut query: BTreeMap<String, String> = request
                .query
                .iter()
                .map(|(k, v)| (k.clone(), vars.render(v)))
                .collect();
            query.extend(query_extra.iter().cloned());
            if !query.is_empty() {
                rb = rb.query(&query.into_iter().collect::<Vec<_>>());
            }
        }
        for (k, v) in &request.headers {
            rb = rb.header(k.as_str(), vars.render(v));
        }
        for (k, v) in extra {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb = rb.header("accept", "application/json");
        rb = match &self.settings.auth {
            Auth::None => rb,
            Auth::Bearer(t) => rb.bearer_auth(t.expose()),
            Auth::Basic { user, secret } => rb.basic_auth(user, Some(secret.expose())),
            Auth::Header { name, secret } => rb.header(name.as_str(), secret.expose()),
        };
        if let Some(body) = &request.body {
            rb = rb.json(&vars.render_json(body));
        }
        let response = rb.send().await.map_err(|e| {
            if e.is_timeout() {
                Fault::Timeout
            } else if e.is_connect() {
                Fault::Connect(e)
            } else {
                // Failed after connecting: the request may have been read.
                Fault::Timeout
            }
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let next_link = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_from_link);
        let text = response.text().await.map_err(|e| {
            if e.is_timeout() {
                Fault::Timeout
            } else {
                Fault::Server(status, format!("body unreadable: {e}"))
            }
        })?;
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let snippet: String = text.chars().take(SNIPPET).collect();
        if status == 429 {
            return Err(Fault::RateLimited(retry_after));
        }
        if status >= 500 {
            return Err(Fault::Server(status, snippet));
        }
        if status >= 400 {
            return Err(Fault::Refused(status, snippet));
        }
        if let Some(ok) = &self.spec.ok_field
            && json.pointer(ok) != Some(&Value::Bool(true))
        {
            let error = self
                .spec
                .error_field
                .as_deref()
                .and_then(|p| json.pointer(p))
                .and_then(spec::text_of)
                .unwrap_or_else(|| snippet.clone());
            if error == "ratelimited" || error == "rate_limited" {
                return Err(Fault::RateLimited(retry_after));
            }
            return Err(Fault::Refused(status, error));
        }
        Ok(Reply {
            status,
            json,
            next_link,
        })
    }

    /// Sends a request that is safe to repeat (a read), retrying 429, 5xx,
    /// timeouts and refused connections with backoff.
    pub(super) async fn read(
        &self,
        request: &spec::Request,
        vars: &Vars,
        query_extra: &[(String, String)],
        url_override: Option<&str>,
    ) -> Result<Reply, ChannelError> {
        self.read_or_fault(request, vars, query_extra, url_override)
            .await
            .map_err(|f| self.error(f))
    }

    /// [`Api::read`], returning the last fault itself.
    pub(super) async fn read_or_fault(
        &self,
        request: &spec::Request,
        vars: &Vars,
        query_extra: &[(String, String)],
        url_override: Option<&str>,
    ) -> Result<Reply, Fault> {
        let mut attempt = 0;
        loop {
            let fault = match self
                .once(request, vars, &[], query_extra, url_override)
                .await
            {
                Ok(r) => return Ok(r),
                Err(f) => f,
            };
            let pause = match &fault {
                Fault::Refused(..) => return Err(fault),
                Fault::RateLimited(after) => match after {
                    Some(d) if *d > self.settings.max_retry_after => {
                        return Err(fault);
                    }
                    Some(d) => *d,
                    None => self.backoff(attempt),
                },
                _ => self.backoff(attempt),
            };
            if attempt >= self.settings.retries {
                return Err(fault);
            }
            tracing::warn!(channel = %self.settings.persona, fault = %fault.describe(), retry_in_ms = pause.as_millis() as u64, "API call failed, retrying");
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// Sends a request that must not be repeated once it may have been
    /// processed: only a 429 (not processed) or a refused connection is retried.
    pub(super) async fn write_once(
        &self,
        request: &spec::Request,
        vars: &Vars,
    ) -> Result<Reply, ChannelError> {
        let mut attempt = 0;
        loop {
            let fault = match self.once(request, vars, &[], &[], None).await {
                Ok(r) => return Ok(r),
                Err(f) => f,
            };
            let pause = match &fault {
                Fault::RateLimited(Some(d)) if *d <= self.settings.max_retry_after => *d,
                Fault::RateLimited(None) | Fault::Connect(_) => self.backoff(attempt),
                _ => return Err(self.error(fault)),
            };
            if attempt >= self.settings.retries {
                return Err(self.error(fault));
            }
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// The pause before retry number `attempt` of one call.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        self.retry.pause(attempt, &mut fastrand::Rng::new())
    }

    pub(super) fn error(&self, fault: Fault) -> ChannelError {
        let server = self.settings.base_url.clone();
        match fault {
            Fault::Timeout => ChannelError::Timeout {
                server,
                secs: self.settings.timeout.as_secs(),
            },
            Fault::Connect(e) => ChannelError::Connect {
                server,
                reason: Reason::of(e),
            },
            Fault::Refused(401 | 403, _) => ChannelError::Auth {
                server,
                user: self.settings.persona.clone(),
                reason: fault.describe().into(),
            },
            other => ChannelError::Protocol {
                server,
                reason: other.describe().into(),
            },
        }
    }

    /// A GET on `path` below the base URL, retried like any read; for hooks.
    pub async fn get(&self, path: &str) -> Result<Reply, ChannelError> {
        let request = plain_get(path);
        self.read(&request, &Vars::default(), &[], None).await
    }

    /// Like [`Api::get`], but a 404 is an answer (`Ok(None)`), not an error.
    pub async fn get_optional(&self, path: &str) -> Result<Option<Reply>, ChannelError> {
        let request = plain_get(path);
        match self.once(&request, &Vars::default(), &[], &[], None).await {
            Ok(r) => Ok(Some(r)),
            Err(Fault::Refused(404, _)) => Ok(None),
            Err(_) => self
                .read(&request, &Vars::default(), &[], None)
                .await
                .map(Some),
        }
    }
}

/// The longest pause between two tries of one call.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Retries within one call: `first` doubled per retry, at most ten times and
/// never beyond [`MAX_BACKOFF`], plus up to half again so that many probes
/// do not retry in lockstep.
fn retry_backoff(first: Duration) -> Backoff {
    Backoff::with_jitter(
        first.min(MAX_BACKOFF),
        first.saturating_mul(1 << 10).min(MAX_BACKOFF),
        Jitter::UpToHalfMore,
    )
}

/// A GET of `path` with no query, headers or body.
fn plain_get(path: &str) -> spec::Request {
    spec::Request {
        method: "GET".into(),
        url: path.to_string(),
        query: BTreeMap::new(),
        headers: BTreeMap::new(),
        body: None,
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_from_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// `Retry-After`: seconds (an HTTP date is treated as a minute: the value
/// only caps our wait).
fn parse_retry_after(v: &str) -> Option<Duration> {
    match v.trim().parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Some(Duration::from_secs(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_next_link() {
        let h = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_from_link(h).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(next_from_link(r#"<https://a/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    }
}
