//! Reading replies over IMAP, incrementally.
//!
//! The checkpoint is `{uidvalidity, last_uid}` for one mailbox. A poll
//! selects the mailbox read-only (`EXAMINE`) and fetches `UID last+1:*`
//! only, so its cost does not grow with the mailbox. Each message's time is
//! its INTERNALDATE (when our server stored it), never the time we polled.
//!
//! - No checkpoint yet: read back to `since` (the earliest filing still
//!   awaiting replies) with `UID SEARCH SINCE`, or, with nothing to wait for,
//!   start at the current end of the mailbox.
//! - UIDVALIDITY changed: the server renumbered the mailbox. Rescan back to
//!   `since`; the engine drops messages it already recorded (by Message-ID).
//! - At most [`BATCH`] messages per call, so memory stays bounded; `more`
//!   says to call again.
//! - Every network step has its own timeout: connect (with DNS), TLS, the
//!   greeting, STARTTLS, LOGIN, EXAMINE, each SEARCH and FETCH, LOGOUT, and
//!   IDLE's start and DONE; IDLE itself ends after `max` at the latest.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{Security, Server};
use crate::channel::{ChannelError, Fetched, Inbound, Reason};
use crate::model::TimeSource;

/// Messages fetched per call at most.
pub const BATCH: usize = 200;

/// The stored checkpoint of one mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

impl Position {
    fn from_value(v: Option<&serde_json::Value>) -> Option<Position> {
        v.and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    fn to_value(self) -> serde_json::Value {
        serde_json::json!({ "uidvalidity": self.uidvalidity, "last_uid": self.last_uid })
    }
}

/// A byte stream IMAP can run over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}

type ImapSession = Session<Box<dyn Io>>;

/// One reading session's parameters.
pub struct Reader<'a> {
    pub server: &'a Server,
    pub mailbox: &'a str,
    pub tls: &'a Arc<rustls::ClientConfig>,
    pub timeout: Duration,
}

impl Reader<'_> {
    fn err_protocol(&self, reason: impl Into<Reason>) -> ChannelError {
        ChannelError::Protocol {
            server: self.server.label(),
            reason: reason.into(),
        }
    }

    async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, ChannelError>>,
    ) -> Result<T, ChannelError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| ChannelError::Timeout {
                server: self.server.label(),
                secs: self.timeout.as_secs(),
            })?
    }

    async fn tls_wrap(&self, tcp: TcpStream) -> Result<Box<dyn Io>, ChannelError> {
        let name =
            rustls::pki_types::ServerName::try_from(self.server.host.clone()).map_err(|e| {
                ChannelError::Tls {
                    server: self.server.label(),
                    reason: Reason::context("bad server name", e),
                }
            })?;
        let tls = TlsConnector::from(Arc::clone(self.tls))
            .connect(name, tcp)
            .await
            .map_err(|e| ChannelError::Tls {
                server: self.server.label(),
                reason: Reason::of(e),
            })?;
        Ok(Box::new(tls))
    }

    /// Connects, secures and logs in; each step (DNS and TCP, TLS, the
    /// greeting, STARTTLS, LOGIN) has its own timeout.
    async fn login(&self) -> Result<ImapSession, ChannelError> {
        let tcp = self
            .timed(async {
                TcpStream::connect((self.server.host.as_str(), self.server.port))
                    .await
                    .map_err(|e| ChannelError::Connect {
                        server: self.server.label(),
                        reason: Reason::of(e),
                    })
            })
            .await?;
        let stream: Box<dyn Io> = match self.server.security {
            Security::Tls => self.timed(self.tls_wrap(tcp)).await?,
            Security::Insecure => Box::new(tcp),
            Security::StartTls => {
                let mut client = async_imap::Client::new(tcp);
                self.timed(self.greeting(&mut client)).await?;
                self.timed(async {
                    client
                        .run_command_and_check_ok("STARTTLS", None)
                        .await
                        .map_err(|e| ChannelError::Tls {
                            server: self.server.label(),
                            reason: Reason::context("STARTTLS refused", e),
                        })
                })
                .await?;
                self.timed(self.tls_wrap(client.into_inner())).await?
            }
        };
        let mut client = async_imap::Client::new(stream);
        if self.server.security != Security::StartTls {
            self.timed(self.greeting(&mut client)).await?;
        }
        self.timed(async {
            client
                .login(&self.server.username, self.server.password.expose())
                .await
                .map_err(|(e, _)| ChannelError::Auth {
                    server: self.server.label(),
                    user: self.server.username.clone(),
                    reason: Reason::of(e),
                })
        })
        .await
    }

    async fn greeting<T: Io>(
        &self,
        client: &mut async_imap::Client<T>,
    ) -> Result<(), ChannelError> {
        match client.read_response().await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(self.err_protocol("closed the connection before its greeting")),
            Err(e) => Err(self.err_protocol(Reason::context("no greeting", e))),
        }
    }

    /// Messages past `position`; see the module doc.
    pub async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let mut session = self.login().await?;
        let result = self.fetch_in(&mut session, position, since).await;
        // Logging out is a courtesy; the result stands either way.
        let _ = tokio::time::timeout(self.timeout, session.logout()).await;
        result
    }

    async fn fetch_in(
        &self,
        session: &mut ImapSession,
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let mb = self.examine(session).await?;
        let validity = mb
            .uid_validity
            .ok_or_else(|| self.err_protocol("the server sent no UIDVALIDITY"))?;
        let uid_next = mb.uid_next;
        let known = Position::from_value(position);
        let (mut uids, rescanned) = match known {
            Some(p) if p.uidvalidity == validity => {
                let nothing_new = uid_next.is_some_and(|n| n <= p.last_uid.saturating_add(1));
                let uids = if nothing_new {
                    Vec::new()
                } else {
                    let query = format!("UID {}:*", p.last_uid.saturating_add(1));
                    let found = self.search(session, &query).await?;
                    // `n:*` also matches the highest UID when it is below n.
                    found.into_iter().filter(|&u| u > p.last_uid).collect()
                };
                (uids, false)
            }
            other => {
                let rescanned = other.is_some();
                match since {
                    Some(t) => {
                        // SINCE compares dates only; one day earlier is safe.
                        let day = t
                            .checked_sub(jiff::SignedDuration::from_hours(24))
                            .unwrap_or(t)
                            .to_zoned(jiff::tz::TimeZone::UTC)
                            .strftime("%d-%b-%Y")
                            .to_string();
                        (
                            self.search(session, &format!("SINCE {day}")).await?,
                            rescanned,
                        )
                    }
                    None => {
                        let last = match uid_next {
                            Some(n) => n.saturating_sub(1),
                            None => self
                                .search(session, "ALL")
                                .await?
                                .into_iter()
                                .max()
                                .unwrap_or(0),
                        };
                        let pos = Position {
                            uidvalidity: validity,
                            last_uid: last,
                        };
                        return Ok(Fetched {
                            messages: Vec::new(),
                            position: pos.to_value(),
                            rescanned,
                            more: false,
                        });
                    }
                }
            }
        };
        uids.sort_unstable();
        let mut more = uids.len() > BATCH;
        uids.truncate(BATCH);
        let start_uid = if rescanned {
            0
        } else {
            known.map_or(0, |p| p.last_uid)
        };
        let mut last_uid = start_uid;
        let mut messages = Vec::new();
        if !uids.is_empty() {
            let set = uids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let fetched = self
                .timed(async {
                    let stream = session
                        .uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])")
                        .await
                        .map_err(|e| self.err_protocol(Reason::context("UID FETCH", e)))?;
                    stream
                        .try_collect::<Vec<_>>()
                        .await
                        .map_err(|e| self.err_protocol(Reason::context("UID FETCH", e)))
                })
                .await?;
            // async-imap ends the FETCH stream quietly when the connection
            // drops or the server answers NO: an empty or short answer is
            // not proof that the UIDs asked for are gone.
            if fetched.iter().all(|f| f.uid.is_none()) {
                return Err(self.err_protocol(format!(
                    "UID FETCH of {} message(s) returned none (connection lost or refused)",
                    uids.len()
                )));
            }
            let answered = fetched.iter().filter(|f| f.uid.is_some()).count();
            for f in fetched {
                let Some(uid) = f.uid else { continue };
                last_uid = last_uid.max(uid);
                let Some(raw) = f.body() else { continue };
                let Some(date) = f.internal_date() else {
                    return Err(self.err_protocol(format!("no INTERNALDATE for UID {uid}")));
                };
                let at = Timestamp::from_second(date.timestamp()).map_err(|e| {
                    self.err_protocol(Reason::context(
                        &format!("bad INTERNALDATE for UID {uid}"),
                        e,
                    ))
                })?;
                messages.push(Inbound {
                    key: format!("imap:{}:{validity}:{uid}", self.mailbox),
                    at,
                    source: TimeSource::ImapInternaldate,
                    raw: raw.to_vec(),
                    probe_hint: None,
                    api: None,
                });
            }
            // The position moves only past UIDs the server answered for (a
            // body-less answer is an expunged message). When some were not
            // answered, read again at once: a UID expunged meanwhile no
            // longer matches the next search; a broken connection fails it.
            if answered < uids.len() {
                more = true;
            }
        }
        messages.sort_by_key(|m| m.at);
        let last_uid = last_uid.max(
            known
                .filter(|p| p.uidvalidity == validity)
                .map_or(0, |p| p.last_uid),
        );
        Ok(Fetched {
            messages,
            position: Position {
                uidvalidity: validity,
                last_uid,
            }
            .to_value(),
            rescanned,
            more,
        })
    }

    /// Selects the mailbox read-only.
    async fn examine(
        &self,
        session: &mut ImapSession,
    ) -> Result<async_imap::types::Mailbox, ChannelError> {
        self.timed(async {
            session.examine(self.mailbox).await.map_err(|e| {
                self.err_protocol(Reason::context(&format!("EXAMINE {}", self.mailbox), e))
            })
        })
        .await
    }

    async fn search(
        &self,
        session: &mut ImapSession,
        query: &str,
    ) -> Result<Vec<u32>, ChannelError> {
        self.timed(async {
            session
                .uid_search(query)
                .await
                .map(|set| set.into_iter().collect())
                .map_err(|e| self.err_protocol(Reason::context(&format!("UID SEARCH {query}"), e)))
        })
        .await
    }

    /// Waits with IDLE until the mailbox changes or `refresh` passes. Returns
    /// at once if messages past `position` are already waiting (mail that
    /// came between the last fetch and this call), and falls back to
    /// sleeping `poll` if the server has no IDLE.
    pub async fn idle(
        &self,
        position: Option<&serde_json::Value>,
        refresh: Duration,
        poll: Duration,
    ) -> Result<(), ChannelError> {
        let mut session = self.login().await?;
        let caps = self
            .timed(async {
                session
                    .capabilities()
                    .await
                    .map_err(|e| self.err_protocol(Reason::context("CAPABILITY", e)))
            })
            .await?;
        let mb = self.examine(&mut session).await?;
        if let (Some(p), Some(next), Some(validity)) =
            (Position::from_value(position), mb.uid_next, mb.uid_validity)
            && (p.uidvalidity != validity || next > p.last_uid.saturating_add(1))
        {
            let _ = tokio::time::timeout(self.timeout, session.logout()).await;
            return Ok(());
        }
        if !caps.has_str("IDLE") {
            let _ = tokio::time::timeout(self.timeout, session.logout()).await;
            tokio::time::sleep(poll).await;
            return Ok(());
        }
        let mut handle = session.idle();
        self.timed(async {
            handle
                .init()
                .await
                .map_err(|e| self.err_protocol(Reason::context("IDLE", e)))
        })
        .await?;
        let (wait, _stop) = handle.wait_with_timeout(refresh);
        // async-imap restarts its timeout at every keepalive the server sends
        // ("* OK Still here"), so bound the whole IDLE here as well.
        let outcome = match tokio::time::timeout(refresh, wait).await {
            Ok(outcome) => outcome,
            Err(_) => Ok(async_imap::extensions::idle::IdleResponse::Timeout),
        };
        let session = self
            .timed(async {
                handle
                    .done()
                    .await
                    .map_err(|e| self.err_protocol(Reason::context("DONE", e)))
            })
            .await;
        if let Ok(mut s) = session {
            let _ = tokio::time::timeout(self.timeout, s.logout()).await;
        }
        outcome
            .map(|_| ())
            .map_err(|e| self.err_protocol(Reason::context("IDLE", e)))
    }
}
