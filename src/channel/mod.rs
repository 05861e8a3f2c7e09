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

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

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
    Rejected { reason: String, retryable: bool },
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
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    #[error("TLS with {server} failed: {reason}")]
    Tls { server: String, reason: String },
    #[error("login to {server} as {user} failed: {reason}")]
    Auth {
        server: String,
        user: String,
        reason: String,
    },
    #[error("{server}: {reason}")]
    Protocol { server: String, reason: String },
    #[error("{server} did not answer within {secs} s")]
    Timeout { server: String, secs: u64 },
    #[error("cannot read the secret for {what}: {reason}")]
    Secret { what: String, reason: String },
    /// Not tried: the endpoint's circuit breaker is open (see `engine::guard`).
    #[error("{endpoint}: not tried, it failed repeatedly (circuit breaker open, {when})")]
    CircuitOpen { endpoint: String, when: String },
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
}
