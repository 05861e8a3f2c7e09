//! The listener: axum routes on hyper's HTTP/1.1 server, one request per
//! connection.
//!
//! - `GET /`: the status page ([`crate::view::status`]), HTML;
//! - `GET /api/report?since=&until=&week=&vendor=&by=`: the JSON of
//!   `probe report --format json` for the same options;
//! - `GET /metrics`: Prometheus text format 0.0.4;
//! - `GET /healthz`: 200 `ok <now>` or 503 with the reason.
//!
//! HEAD works wherever GET does; other methods get 405, other paths 404.
//! The protections of the hand-written responder this replaced stay: the
//! request head is bounded to 8 KiB (431 beyond) and must arrive within
//! 5 s, at most 16 connections are served at once (more are dropped, not
//! queued), no handler reads a request body, and cancelling the shutdown
//! token stops accepting and lets requests in flight finish.
//!
//! With credentials configured ([`Credentials`]) every route but
//! `/healthz` asks for them: 401 with `WWW-Authenticate` when they are
//! missing or wrong. `/healthz` stays open for service managers and load
//! balancers; it reveals only ok or stuck.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use jiff::civil::Date;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

use super::Liveness;
use crate::clock::Clock;
use crate::config::{Config, MetricsAuth, SecretError, SecretString};
use crate::report::own::OwnSide;
use crate::report::{self, query};
use crate::store::{Store, StoreError};

const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: usize = 16;
/// How long a request in flight may take to finish after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const TEXT: &str = "text/plain; charset=utf-8";
const REALM: &str = "support-probe";

/// What the listener serves from.
pub struct Server {
    /// The store every figure is read from.
    pub store: Arc<Store>,
    /// The daemon's progress, for `/healthz` and `/metrics`.
    pub health: Arc<dyn Liveness>,
    /// The clock the page and the report are read at.
    pub clock: Arc<dyn Clock>,
    /// The config in force: vendors, zone and targets follow reloads.
    pub config: watch::Receiver<Arc<Config>>,
    /// Who may read; [`Credentials::default`] lets everyone in.
    pub credentials: Credentials,
}

/// Why the `[metrics]` credentials could not be read at start.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// `metrics.token` could not be resolved.
    #[error("cannot read metrics.token: {source}")]
    Token {
        /// Why.
        source: SecretError,
    },
    /// The password of `[metrics.basic-auth]` could not be resolved.
    #[error("cannot read the password of [metrics.basic-auth]: {source}")]
    Basic {
        /// Why.
        source: SecretError,
    },
}

/// Resolved `[metrics]` credentials. `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The bearer token.
    token: Option<SecretString>,
    /// `base64(username:password)`, as a client sends it after `Basic `.
    basic: Option<SecretString>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &self.token.is_some())
            .field("basic", &self.basic.is_some())
            .finish()
    }
}

impl Credentials {
    /// Reads the secrets `auth` refers to. Blocks (files, commands): call it
    /// from `spawn_blocking` in async code.
    pub fn resolve(auth: &MetricsAuth) -> Result<Credentials, CredentialsError> {
        let token = match &auth.token {
            Some(s) => Some(
                s.resolve()
                    .map_err(|source| CredentialsError::Token { source })?,
            ),
            None => None,
        };
        let basic = match &auth.basic {
            Some(b) => {
                let password = b
                    .password
                    .resolve()
                    .map_err(|source| CredentialsError::Basic { source })?;
                Some(SecretString::new(base64(
                    format!("{}:{}", b.username, password.expose()).as_bytes(),
                )))
            }
            None => None,
        };
        Ok(Credentials { token, basic })
    }

    /// Credentials from the values themselves (tests, embedding).
    pub fn new(token: Option<&str>, basic: Option<(&str, &str)>) -> Credentials {
        Credentials {
            token: token.map(|t| SecretString::new(t.to_string())),
            basic: basic.map(|(u, p)| SecretString::new(base64(format!("{u}:{p}").as_bytes()))),
        }
    }

    fn required(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }

    /// Whether the `Authorization` header carries one of the credentials.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, given)) = value.trim().split_once(' ') else {
            return false;
        };
        let given = given.trim();
        let expected = if scheme.eq_ignore_ascii_case("bearer") {
            &self.token
        } else if scheme.eq_ignore_ascii_case("basic") {
            &self.basic
        } else {
            return false;
        };
        expected
            .as_ref()
            .is_some_and(|e| constant_time_eq(e.expose().as_bytes(), given.as_bytes()))
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right (only, at most, its length).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    diff == 0
}

/// Standard base64 with padding (RFC 4648), what `Basic` credentials are written in.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Clone)]
struct AppState {
    store: Arc<Store>,
    health: Arc<dyn Liveness>,
    clock: Arc<dyn Clock>,
    config: watch::Receiver<Arc<Config>>,
    credentials: Arc<Credentials>,
}

/// The routes, without the connection handling (tests can drive it).
fn router(server: Server) -> Router {
    let state = AppState {
        store: server.store,
        health: server.health,
        clock: server.clock,
        config: server.config,
        credentials: Arc::new(server.credentials),
    };
    Router::new()
        .route("/", get(status_page))
        .route("/api/report", get(api_report))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown`; returns the bound address
/// (useful with port 0). Binding errors are returned, not logged.
pub async fn serve(
    addr: SocketAddr,
    server: Server,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(server);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.cancelled() => return,
            };
            let (stream, _) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                // Too many at once: drop the connection rather than queue.
                continue;
            };
            let service = TowerToHyperService::new(app.clone());
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .max_buf_size(MAX_HEAD)
                    // `Content-Length`, not `content-length`: simple
                    // scripts that grep the head keep working.
                    .title_case_headers(true)
                    .keep_alive(false);
                let conn = http.serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                let result = tokio::select! {
                    r = conn.as_mut() => r,
                    _ = shutdown.cancelled() => {
                        conn.as_mut().graceful_shutdown();
                        tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut())
                            .await
                            .unwrap_or(Ok(()))
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(error = %e, "metrics request failed");
                }
            });
        }
    });
    Ok(bound)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, TEXT)], body.into()).into_response()
}

async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.credentials.required() || state.credentials.admits(request.headers()) {
        return next.run(request).await;
    }
    let mut response = text(StatusCode::UNAUTHORIZED, "credentials required\n");
    let challenges = [
        state
            .credentials
            .token
            .as_ref()
            .map(|_| format!("Bearer realm=\"{REALM}\"")),
        state
            .credentials
            .basic
            .as_ref()
            .map(|_| format!("Basic realm=\"{REALM}\", charset=\"UTF-8\"")),
    ];
    for c in challenges.into_iter().flatten() {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

async fn not_found() -> Response {
    text(
        StatusCode::NOT_FOUND,
        "not found: try /, /api/report, /metrics or /healthz\n",
    )
}

/// Runs a store read off the async workers: it is synchronous and may
/// wait for the file lock, and a request must never stall the daemon.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "{what}: cannot read the store");
            Err(text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the store\n",
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, "{what}: rendering failed");
            Err(text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering failed\n",
            ))
        }
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let (store, health) = (s.store, s.health);
    match blocking("metrics", move || super::render(&store, health.as_ref())).await {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(r) => r,
    }
}

async fn healthz(State(s): State<AppState>) -> Response {
    let store = s.store;
    let store_ok = tokio::task::spawn_blocking(move || store.schema_version().is_ok())
        .await
        .unwrap_or(false);
    match (s.health.check(), store_ok) {
        (Ok(()), true) => text(StatusCode::OK, format!("ok {}\n", s.clock.now())),
        (Err(stuck), _) => text(StatusCode::SERVICE_UNAVAILABLE, format!("stuck: {stuck}\n")),
        (Ok(()), false) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store cannot be read\n",
        ),
    }
}

async fn status_page(State(s): State<AppState>) -> Response {
    let config = Arc::clone(&s.config.borrow());
    let now = s.clock.now();
    let store = s.store;
    let page = blocking("status page", move || {
        let rows = store.reading_rows(Some(crate::view::status::row_span(now)))?;
        let own = OwnSide::from_store(&store)?;
        Ok(crate::view::status::page(&rows, &config, now, &own))
    })
    .await;
    match page {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(r) => r,
    }
}

/// A 400 for `/api/report`: `{"error": "<parameter>: <message>", "parameter": ...}`.
#[derive(Debug)]
struct BadParameter {
    parameter: String,
    message: String,
}

fn bad(parameter: &str, message: impl std::fmt::Display) -> BadParameter {
    BadParameter {
        parameter: parameter.to_string(),
        message: message.to_string(),
    }
}

impl IntoResponse for BadParameter {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": format!("{}: {}", self.parameter, self.message),
            "parameter": self.parameter,
        });
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            format!("{body}\n"),
        )
            .into_response()
    }
}

/// The query string as a [`query::Request`], or the parameter that is wrong.
fn report_request(pairs: Vec<(String, String)>) -> Result<query::Request, BadParameter> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in pairs {
        if !matches!(key.as_str(), "since" | "until" | "week" | "vendor" | "by") {
            return Err(bad(
                &key,
                "unknown parameter, expected since, until, week, vendor or by",
            ));
        }
        if seen.contains_key(&key) {
            return Err(bad(&key, "given more than once"));
        }
        seen.insert(key, value);
    }
    let date = |name: &str| -> Result<Option<Date>, BadParameter> {
        seen.get(name)
            .map(|v| {
                v.parse::<Date>().map_err(|_| {
                    bad(
                        name,
                        format!("invalid date {v:?}, expected YYYY-MM-DD such as 2026-11-16"),
                    )
                })
            })
            .transpose()
    };
    Ok(query::Request {
        since: date("since")?,
        until: date("until")?,
        week: seen.get("week").cloned(),
        vendor: seen.get("vendor").cloned(),
        by: seen.get("by").cloned(),
    })
}

async fn api_report(
    State(s): State<AppState>,
    pairs: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match pairs {
        Ok(Query(p)) => p,
        Err(e) => return bad("query", e.body_text()).into_response(),
    };
    let request = match report_request(pairs) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let config = Arc::clone(&s.config.borrow());
    let now = s.clock.now();
    if let Err(e) = request.dims() {
        return bad(e.parameter(), e).into_response();
    }
    if let Err(e) = request.periods(&config.report.zone, now) {
        return bad(e.parameter(), e).into_response();
    }
    let store = s.store;
    let built = blocking("report API", move || {
        let own = OwnSide::from_store(&store)?;
        let Ok(opts) = request.options(&config.report.zone, now, own) else {
            // Checked above; the same request cannot fail now.
            return Ok(None);
        };
        let rows = store.reading_rows(opts.row_span())?;
        Ok(Some(report::build_rows(&rows, Some(&config), &opts)))
    })
    .await;
    match built {
        Ok(Some(r)) => match serde_json::to_string_pretty(&r) {
            Ok(json) => (
                [(header::CONTENT_TYPE, "application/json")],
                format!("{json}\n"),
            )
                .into_response(),
            Err(e) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot render JSON: {e}\n"),
            ),
        },
        Ok(None) => text(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n"),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn credentials_admit_the_bearer_token_or_the_basic_pair_and_nothing_else() {
        let c = Credentials::new(Some("s3cret"), Some(("ops", "pw")));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            c.admits(&h)
        };
        assert!(with("Bearer s3cret"));
        assert!(with("bearer s3cret"));
        assert!(with(&format!("Basic {}", base64(b"ops:pw"))));
        assert!(!with("Bearer s3cre"));
        assert!(!with("Bearer s3cret2"));
        assert!(!with(&format!("Basic {}", base64(b"ops:pW"))));
        assert!(!with(&format!("Bearer {}", base64(b"ops:pw"))));
        assert!(!with("Digest s3cret"));
        assert!(!c.admits(&HeaderMap::new()));
        let token_only = Credentials::new(Some("t"), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Og=="),
        );
        assert!(!token_only.admits(&h), "no basic pair configured");
        assert!(!Credentials::default().required());
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
