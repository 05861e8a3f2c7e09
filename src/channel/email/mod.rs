//! The email channel: probes go out over SMTP from a persona's account, and
//! replies are read over IMAP from that persona's mailbox.
//!
//! - [`smtp`] files a probe and tells an accepted message from a rejected
//!   one from one whose fate is unknown (the connection died after the data
//!   was sent): at-most-once depends on that distinction.
//! - [`imap`] reads new messages incrementally by UIDVALIDITY and UID, with
//!   INTERNALDATE as the message's time, and waits with IDLE when offered.
//! - [`tls`] builds the rustls configuration (ring provider, system roots
//!   plus an optional private CA).
//!
//! Architecture Invariant: mail is only read (`BODY.PEEK`, `EXAMINE`), never
//! flagged, moved or deleted.

pub mod imap;
pub mod smtp;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Channel, ChannelError, Fetched, FileOutcome, FollowUp, Outgoing, Reason};
use crate::clock::Clock;

/// How long one IDLE lasts before it is renewed. The server tells us about
/// new mail at once, so the poll interval does not apply; RFC 2177 asks
/// clients to renew IDLE within 29 minutes so that servers do not drop them.
pub const IDLE_REFRESH: Duration = Duration::from_secs(25 * 60);
/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (SMTPS 465, IMAPS 993).
    Tls,
    /// Plain connection upgraded with STARTTLS; refused if the server does not offer it.
    StartTls,
    /// No TLS at all. The config allows it only for loopback addresses.
    Insecure,
}

/// A password, kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a resolved secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The secret itself, for the login command only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One server of a persona.
#[derive(Debug, Clone)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: Password,
    pub ca_file: Option<PathBuf>,
}

impl Server {
    /// The server of a config entry, with its password resolved now.
    pub fn from_config(s: &crate::config::Server) -> Result<Server, crate::config::SecretError> {
        let password = s.password.resolve()?;
        Ok(Server {
            host: s.host.clone(),
            port: s.port,
            security: match s.security {
                crate::config::Security::Tls => Security::Tls,
                crate::config::Security::StartTls => Security::StartTls,
                crate::config::Security::Insecure => Security::Insecure,
            },
            username: s.username.clone(),
            password: Password::new(password.expose()),
            ca_file: s.ca_file.clone(),
        })
    }

    /// `host:port`, for messages.
    pub fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Everything the email channel of one persona needs.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub smtp: Server,
    pub imap: Server,
    /// The mailbox replies arrive in.
    pub mailbox: String,
    /// Use IDLE when the server offers it.
    pub idle: bool,
    /// Upper bound for one network operation.
    pub timeout: Duration,
}

/// The email channel of one persona.
#[derive(Debug)]
pub struct EmailChannel {
    settings: EmailSettings,
    clock: Arc<dyn Clock>,
    imap_tls: Arc<rustls::ClientConfig>,
}

impl EmailChannel {
    /// Builds the channel; fails only on an unreadable CA file.
    pub fn new(settings: EmailSettings, clock: Arc<dyn Clock>) -> Result<Self, ChannelError> {
        let imap_tls = tls::client_config(settings.imap.ca_file.as_deref()).map_err(|reason| {
            ChannelError::Tls {
                server: settings.imap.label(),
                reason: Reason::of(reason),
            }
        })?;
        Ok(EmailChannel {
            settings,
            clock,
            imap_tls,
        })
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn longest_wait(&self, max: Duration) -> Duration {
        if self.settings.idle {
            max.max(IDLE_REFRESH)
        } else {
            max
        }
    }

    fn watch_key(&self) -> String {
        format!(
            "imap:{}@{}:{}/{}",
            self.settings.imap.username,
            self.settings.imap.host,
            self.settings.imap.port,
            self.settings.mailbox
        )
    }

    fn send_key(&self) -> String {
        format!(
            "smtp:{}@{}:{}",
            self.settings.smtp.username, self.settings.smtp.host, self.settings.smtp.port
        )
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        smtp::send(
            &self.settings.smtp,
            self.settings.timeout,
            &*self.clock,
            probe,
        )
        .await
    }

    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        smtp::send_follow_up(
            &self.settings.smtp,
            self.settings.timeout,
            &*self.clock,
            message,
        )
        .await
    }

    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let reader = imap::Reader {
            server: &self.settings.imap,
            mailbox: &self.settings.mailbox,
            tls: &self.imap_tls,
            timeout: self.settings.timeout,
        };
        reader.fetch(position, since).await
    }

    async fn wait(
        &self,
        position: Option<&serde_json::Value>,
        max: Duration,
    ) -> Result<(), ChannelError> {
        if !self.settings.idle {
            tokio::time::sleep(max).await;
            return Ok(());
        }
        let reader = imap::Reader {
            server: &self.settings.imap,
            mailbox: &self.settings.mailbox,
            tls: &self.imap_tls,
            timeout: self.settings.timeout,
        };
        reader.idle(position, IDLE_REFRESH, max).await
    }
}
