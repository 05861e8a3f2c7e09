//! Channels: the ways a probe reaches a vendor and replies come back.
//!
//! A channel implements [`Channel`]: it *files* one outgoing probe and it
//! *fetches* inbound messages past a checkpoint. Email is one implementation
//! (SMTP out, IMAP in); the simulated helpdesks of the demo are another; a
//! ticket API is a new file implementing the same trait. The engine never
//! knows which kind it talks to.
//!
//! Architecture Invariant: a channel does no bookkeeping. It does not decide
//! whether to file (caps, at-most-once: the engine and the store do), it does
//! not match messages to probes and it does not classify. It reports what the
//! server said, with the server's timestamps.

pub mod email;
pub mod http;

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

/// The API message types live in the vocabulary so the classifier, below
/// the channels, can read them; the old paths keep working.
pub use crate::model::{ApiMessage, AuthorRole};
use crate::model::{ProbeId, TimeSource};

/// One probe to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub probe_id: ProbeId,
    pub token: String,
    /// Our Message-ID, without angle brackets.
    pub message_id: String,
    pub from_name: String,
    pub from_address: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// A message in a probe's thread after the probe itself: a follow-up
/// question, or the closing courtesy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The message: the thread's subject (with the vendor's ticket tag), a
    /// fresh Message-ID.
    pub message: Outgoing,
    /// The vendor message this answers (email `In-Reply-To`).
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first (email `References`).
    pub references: Vec<String>,
    /// The vendor's ticket id (ticket APIs: the comment goes on it).
    pub ticket: Option<String>,
}

/// What came of a filing attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// The vendor's side accepted the probe at `at`.
    Accepted {
        at: Timestamp,
        source: TimeSource,
        /// e.g. the server's reply line, a ticket id.
        detail: String,
        /// A ticket reference the channel learned while filing.
        ticket_ref: Option<String>,
    },
    /// Definitely not accepted. `retryable` for our outages and 4xx replies.
    Rejected {
        reason: String,
        retryable: bool,
        /// The vendor asked us to wait this long before trying again (HTTP
        /// 429 `Retry-After`, Slack's `ratelimited`): a retry waits at
        /// least this.
        retry_after: Option<std::time::Duration>,
    },
    /// It may or may not have been accepted (the connection died after the
    /// message was sent). Never retried automatically.
    Unknown { reason: String },
}

/// One inbound message, as the server stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Unique per channel, e.g. `imap:INBOX:1700000000:42`.
    pub key: String,
    /// The server's timestamp (INTERNALDATE, `created_at`).
    pub at: Timestamp,
    pub source: TimeSource,
    /// The raw RFC 5322 message.
    pub raw: Vec<u8>,
    /// The probe this message belongs to, when the channel itself knows it.
    pub probe_hint: Option<ProbeId>,
    /// For ticket APIs: who wrote the message and its text, as the API
    /// says. `raw` is then empty and classification goes by authorship.
    pub api: Option<ApiMessage>,
}

/// A ticket an API channel should read: filed and still awaiting a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTicket {
    /// The probe the ticket was filed for.
    pub probe: ProbeId,
    /// The vendor's ticket id learned at filing.
    pub ticket: String,
    /// When the vendor accepted it.
    pub filed_at: Option<Timestamp>,
}

/// A ticket found by searching for a probe's token (resolving an uncertain filing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTicket {
    /// The vendor's ticket id.
    pub ticket: String,
    /// The vendor's creation time of the ticket.
    pub created_at: Timestamp,
}

/// A ticket the vendor marked solved or closed, as its API says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketResolved {
    /// The API's own time of the resolution.
    pub at: Timestamp,
    /// The status it reached, as the API writes it.
    pub status: String,
}

/// What the channel did for a courtesy action (closing message, solve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtesyDone {
    /// What was done, in words, e.g. `posted a closing comment; marked solved`.
    pub detail: String,
}

/// Messages past a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub messages: Vec<Inbound>,
    /// The checkpoint to store once `messages` are recorded.
    pub position: serde_json::Value,
    /// The mailbox was reset (UIDVALIDITY changed) and was rescanned: expect
    /// messages already recorded.
    pub rescanned: bool,
    /// More messages are waiting: fetch again right away.
    pub more: bool,
}

/// A failure of our side or of the connection, never of the vendor.
///
/// Each `reason` is a [`Reason`]: the words users see and the store keeps
/// and, where the failure came from a lower error (an I/O error, a TLS or
/// HTTP client error, a secret that cannot be read), that error as the
/// [`source`](std::error::Error::source). The words already contain the
/// lower error's message, so a printer that walks the chain says it once.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("cannot connect to {server}: {reason}")]
    Connect {
        server: String,
        #[source]
        reason: Reason,
    },
    #[error("TLS with {server} failed: {reason}")]
    Tls {
        server: String,
        #[source]
        reason: Reason,
    },
    #[error("login to {server} as {user} failed: {reason}")]
    Auth {
        server: String,
        user: String,
        #[source]
        reason: Reason,
    },
    #[error("{server}: {reason}")]
    Protocol {
        server: String,
        #[source]
        reason: Reason,
    },
    #[error("{server} did not answer within {secs} s")]
    Timeout { server: String, secs: u64 },
    #[error("cannot read the secret for {what}: {reason}")]
    Secret {
        what: String,
        #[source]
        reason: Reason,
    },
    /// Not tried: the endpoint's circuit breaker is open (see `engine::guard`).
    #[error("{endpoint}: not tried, it failed repeatedly (circuit breaker open, {when})")]
    CircuitOpen { endpoint: String, when: String },
}

/// A lower error as a channel error's source.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a channel call failed: a message, and the lower error it describes
/// when there is one. `Display` (and `Debug`) show the message alone, as
/// the plain strings these reasons used to be.
pub struct Reason {
    text: String,
    cause: Option<Cause>,
}

impl Reason {
    /// A lower error, in its own words.
    pub fn of(error: impl Into<Cause>) -> Reason {
        let cause = error.into();
        Reason {
            text: cause.to_string(),
            cause: Some(cause),
        }
    }

    /// `context: error`, keeping the error as the source.
    pub fn context(context: &str, error: impl Into<Cause>) -> Reason {
        let cause = error.into();
        Reason {
            text: format!("{context}: {cause}"),
            cause: Some(cause),
        }
    }
}

impl From<String> for Reason {
    /// A message with no lower error.
    fn from(text: String) -> Reason {
        Reason { text, cause: None }
    }
}

impl From<&str> for Reason {
    /// A message with no lower error.
    fn from(text: &str) -> Reason {
        Reason::from(text.to_string())
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::fmt::Debug for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text, f)
    }
}

impl std::error::Error for Reason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// A way to file probes and read what comes back.
#[async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// The channel kind recorded on probes, e.g. `email`.
    fn kind(&self) -> &'static str;

    /// The key of this channel's checkpoint in the store. Channels that share
    /// a mailbox share a key.
    fn watch_key(&self) -> String;

    /// The key of the endpoint probes are sent through, for the circuit
    /// breaker and the outage record (`engine::guard`). Distinct from
    /// [`Channel::watch_key`] when filing and reading use different servers.
    fn send_key(&self) -> String {
        format!("{}-send:{}", self.kind(), self.watch_key())
    }

    /// Sends one probe.
    async fn file(&self, probe: &Outgoing) -> FileOutcome;

    /// Messages past `position` (`None`: never read before). `since`, when
    /// given, is the earliest filing still awaiting replies: a channel
    /// without a usable position reads back to it instead of reading
    /// everything or nothing.
    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError>;

    /// The longest one [`Channel::wait`] with this `max` may last: `max`
    /// itself, unless the channel is told about new messages and waits
    /// longer (IMAP IDLE). The daemon's health check allows for it.
    fn longest_wait(&self, max: Duration) -> Duration {
        max
    }

    /// Returns when new messages may be waiting past `position`, or after
    /// `max`. The default just sleeps; IMAP uses IDLE.
    async fn wait(
        &self,
        position: Option<&serde_json::Value>,
        max: Duration,
    ) -> Result<(), ChannelError> {
        let _ = position;
        tokio::time::sleep(max).await;
        Ok(())
    }

    /// Like [`Channel::fetch`], told which tickets are open. Ticket APIs read
    /// per ticket and need the list; the default ignores it.
    async fn fetch_open(
        &self,
        open: &[OpenTicket],
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let _ = open;
        self.fetch(position, since).await
    }

    /// Looks for a ticket carrying `token` created since `since`, to resolve
    /// an uncertain filing. `Ok(None)`: not found, or the channel cannot search.
    async fn find_filed(
        &self,
        token: &str,
        since: Timestamp,
    ) -> Result<Option<FoundTicket>, ChannelError> {
        let _ = (token, since);
        Ok(None)
    }

    /// Sends a message in the thread of a filed probe (email: a reply with
    /// `In-Reply-To`/`References`; ticket APIs: a comment on the ticket).
    /// Like [`Channel::file`], it reports what the server said and never
    /// retries after the message may have left.
    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        let _ = message;
        FileOutcome::Rejected {
            reason: format!("the {} channel cannot send follow-ups", self.kind()),
            retryable: false,
            retry_after: None,
        }
    }

    /// Whether [`Channel::resolution`] can tell anything.
    fn reads_resolution(&self) -> bool {
        false
    }

    /// Whether the vendor resolved `ticket`, and when by its own clock.
    /// `Ok(None)`: not resolved (yet), or the channel cannot tell.
    async fn resolution(&self, ticket: &str) -> Result<Option<TicketResolved>, ChannelError> {
        let _ = ticket;
        Ok(None)
    }

    /// Whether [`Channel::courtesy`] would do anything.
    fn has_courtesy(&self) -> bool {
        false
    }

    /// After the first human reply: post the configured closing message
    /// and/or mark the ticket solved. Called at most once per probe.
    async fn courtesy(&self, ticket: &str) -> Result<CourtesyDone, ChannelError> {
        let _ = ticket;
        Err(ChannelError::Protocol {
            server: self.kind().to_string(),
            reason: "this channel has no closing courtesy".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_keeps_its_words_and_its_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = ChannelError::Connect {
            server: "imap.test:993".into(),
            reason: Reason::of(io),
        };
        let shown = e.to_string();
        assert_eq!(shown, "cannot connect to imap.test:993: refused");
        // Every cause is already in the message: a chain printer says it once.
        let mut causes = 0;
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            assert!(shown.contains(&cause.to_string()), "{cause}");
            causes += 1;
            source = cause.source();
        }
        assert_eq!(causes, 2, "the reason, then the I/O error");

        let io = std::io::Error::other("no such name");
        let e = ChannelError::Tls {
            server: "x".into(),
            reason: Reason::context("bad server name", io),
        };
        assert_eq!(
            e.to_string(),
            "TLS with x failed: bad server name: no such name"
        );

        let plain = Reason::from("a generic API persona without a spec");
        assert!(std::error::Error::source(&plain).is_none());
        assert_eq!(
            format!("{plain:?}"),
            "\"a generic API persona without a spec\""
        );
    }
}
