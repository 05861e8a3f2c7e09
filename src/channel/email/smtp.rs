//! Filing a probe over SMTP, one transaction per probe.
//!
//! The transaction is driven step by step (connect, TLS, AUTH, MAIL, RCPT,
//! DATA, message) rather than through a one-call `send`, because the step at
//! which it fails decides what we may claim:
//!
//! | failure | outcome |
//! |---|---|
//! | before the message data was sent (connect, TLS, AUTH, MAIL, RCPT, DATA) | `Rejected`: definitely not filed; retried within the window |
//! | a 4xx/5xx reply to the message data | `Rejected`: the server refused it; retried within the window |
//! | our own setup (no STARTTLS offered, an unreadable CA file, a bad address) | `Rejected`, not retried: retrying cannot help |
//! | the connection breaks or times out after the data was sent | `Unknown`: the server may have accepted it; never re-sent |
//!
//! `filed_at` is our clock read the moment the server's 250 reply to the
//! data arrives: the instant the message was accepted.
//!
//! Every step (connect with DNS, TCP, TLS and greeting; STARTTLS; AUTH; each
//! command; the data; QUIT) has its own timeout, and the whole transaction
//! four times that as a backstop.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use lettre::Address;
use lettre::address::Envelope;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;

use super::{Security, Server};
use crate::channel::{FileOutcome, Outgoing, Reason};
use crate::clock::Clock;
use crate::model::TimeSource;

/// The header that carries the probe id in every probe message.
pub const PROBE_HEADER: &str = "X-Support-Probe";

#[derive(Clone)]
struct ProbeHeader(String);

impl Header for ProbeHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(PROBE_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ProbeHeader(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Builds the RFC 5322 message and its envelope.
pub fn compose(probe: &Outgoing) -> Result<(Envelope, Vec<u8>), String> {
    compose_in_thread(probe, None, &[])
}

/// Builds a message in a thread: `In-Reply-To` the vendor's message,
/// `References` the thread's Message-IDs (RFC 5322 section 3.6.4).
pub fn compose_in_thread(
    probe: &Outgoing,
    in_reply_to: Option<&str>,
    references: &[String],
) -> Result<(Envelope, Vec<u8>), String> {
    let from_addr: Address = probe
        .from_address
        .parse()
        .map_err(|e| format!("bad sender address {:?}: {e}", probe.from_address))?;
    let mut builder = Message::builder()
        .message_id(Some(format!("<{}>", probe.message_id)))
        .from(Mailbox::new(Some(probe.from_name.clone()), from_addr))
        .subject(probe.subject.clone())
        .header(ProbeHeader(probe.probe_id.to_string()))
        .header(ContentType::TEXT_PLAIN);
    if let Some(id) = in_reply_to {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    if !references.is_empty() {
        let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(refs.join(" "));
    }
    for to in &probe.to {
        let addr: Address = to
            .parse()
            .map_err(|e| format!("bad vendor address {to:?}: {e}"))?;
        builder = builder.to(Mailbox::new(None, addr));
    }
    let message = builder
        .body(probe.body.clone())
        .map_err(|e| format!("cannot build the probe message: {e}"))?;
    Ok((message.envelope().clone(), message.formatted()))
}

const CONNECT: u8 = 0;
const SECURE: u8 = 1;
const AUTH: u8 = 2;
const ENVELOPE: u8 = 3;
const DATA_SENT: u8 = 4;

fn phase_name(phase: u8) -> &'static str {
    match phase {
        CONNECT => "connecting",
        SECURE => "setting up TLS",
        AUTH => "logging in",
        ENVELOPE => "sending the envelope",
        _ => "waiting for the reply to the message data",
    }
}

/// Files one probe. Never panics; every failure becomes an outcome.
pub async fn send(
    server: &Server,
    timeout: Duration,
    clock: &dyn Clock,
    probe: &Outgoing,
) -> FileOutcome {
    let (envelope, bytes) = match compose(probe) {
        Ok(m) => m,
        Err(reason) => {
            return FileOutcome::Rejected {
                reason,
                retryable: false,
                retry_after: None,
            };
        }
    };
    send_message(server, timeout, clock, &envelope, &bytes).await
}

/// Sends one follow-up in a probe's thread, with the same outcomes as
/// [`send`].
pub async fn send_follow_up(
    server: &Server,
    timeout: Duration,
    clock: &dyn Clock,
    message: &crate::channel::FollowUp,
) -> FileOutcome {
    let composed = compose_in_thread(
        &message.message,
        message.in_reply_to.as_deref(),
        &message.references,
    );
    let (envelope, bytes) = match composed {
        Ok(m) => m,
        Err(reason) => {
            return FileOutcome::Rejected {
                reason,
                retryable: false,
                retry_after: None,
            };
        }
    };
    send_message(server, timeout, clock, &envelope, &bytes).await
}

/// Sends any composed message (the weekly digest uses this too) with the
/// same phase tracking: the outcome says whether the server accepted it,
/// refused it, or may have accepted it.
pub async fn send_message(
    server: &Server,
    timeout: Duration,
    clock: &dyn Clock,
    envelope: &Envelope,
    bytes: &[u8],
) -> FileOutcome {
    let phase = AtomicU8::new(CONNECT);
    let total = timeout.saturating_mul(4);
    let result = tokio::time::timeout(
        total,
        transact(server, timeout, envelope, bytes, &phase, clock),
    )
    .await;
    let reached = phase.load(Ordering::SeqCst);
    match result {
        Ok(Ok((at, reply))) => FileOutcome::Accepted {
            at,
            source: TimeSource::SmtpAccept,
            detail: reply,
            ticket_ref: None,
        },
        Ok(Err(e)) => judge(server, reached, &e),
        Err(_) if reached >= DATA_SENT => FileOutcome::Unknown {
            reason: format!(
                "{}: no reply to the message data within {} s; the server may have accepted it",
                server.label(),
                total.as_secs()
            ),
        },
        Err(_) => FileOutcome::Rejected {
            reason: format!(
                "{}: timed out after {} s while {}",
                server.label(),
                total.as_secs(),
                phase_name(reached)
            ),
            retryable: true,
            retry_after: None,
        },
    }
}

/// Why a transaction failed: the server (or the connection) or our own setup.
#[derive(Debug)]
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    /// A problem on our side that retrying cannot fix (no STARTTLS offered,
    /// a bad CA file: then that error is the reason's source).
    Setup(Reason),
    /// One step (connect, TLS, a command, the data) got no answer in time.
    Timeout(Duration),
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Failure::Smtp(e)
    }
}

fn judge(server: &Server, phase: u8, failure: &Failure) -> FileOutcome {
    let e = match failure {
        Failure::Smtp(e) => e,
        Failure::Timeout(d) if phase >= DATA_SENT => {
            return FileOutcome::Unknown {
                reason: format!(
                    "{}: no reply to the message data within {} s; the server may have accepted it",
                    server.label(),
                    d.as_secs()
                ),
            };
        }
        Failure::Timeout(d) => {
            return FileOutcome::Rejected {
                reason: format!(
                    "{}: timed out after {} s while {}",
                    server.label(),
                    d.as_secs(),
                    phase_name(phase)
                ),
                retryable: true,
                retry_after: None,
            };
        }
        Failure::Setup(reason) => {
            return FileOutcome::Rejected {
                reason: format!("{} while {}: {reason}", server.label(), phase_name(phase)),
                retryable: false,
                retry_after: None,
            };
        }
    };
    let what = format!("{} while {}: {e}", server.label(), phase_name(phase));
    // A reply code (4xx or 5xx) is a definite "not accepted", at any phase:
    // retrying it can never deliver a probe twice, and a 535 or 554 from our
    // own server is often a passing state of ours. The retry window bounds it.
    if e.is_permanent() || e.is_transient() || phase < DATA_SENT {
        FileOutcome::Rejected {
            reason: what,
            retryable: true,
            retry_after: None,
        }
    } else {
        FileOutcome::Unknown {
            reason: format!("{what}; the server may have accepted the message"),
        }
    }
}

fn tls_parameters(server: &Server) -> Result<TlsParameters, Failure> {
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(path) = &server.ca_file {
        let certs = super::tls::read_ca_file(path).map_err(|e| Failure::Setup(Reason::of(e)))?;
        for cert in certs {
            builder = builder.add_root_certificate(Certificate::from_der(cert.to_vec())?);
        }
    }
    Ok(builder.build_rustls()?)
}

/// One step of the transaction, bounded by the per-operation timeout.
async fn step<T>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map_err(Failure::Smtp),
        Err(_) => Err(Failure::Timeout(timeout)),
    }
}

async fn transact(
    server: &Server,
    timeout: Duration,
    envelope: &Envelope,
    bytes: &[u8],
    phase: &AtomicU8,
    clock: &dyn Clock,
) -> Result<(jiff::Timestamp, String), Failure> {
    let hello = ClientId::default();
    let implicit = match server.security {
        Security::Tls => Some(tls_parameters(server)?),
        Security::StartTls | Security::Insecure => None,
    };
    // Connecting includes DNS, TCP, implicit TLS, the greeting and EHLO:
    // lettre bounds only the TCP part, so the whole step is bounded here.
    let mut conn = step(
        timeout,
        AsyncSmtpConnection::connect_tokio1(
            (server.host.as_str(), server.port),
            Some(timeout),
            &hello,
            implicit,
            None,
        ),
    )
    .await?;
    phase.store(SECURE, Ordering::SeqCst);
    if server.security == Security::StartTls {
        if !conn.can_starttls() {
            return Err(Failure::Setup(
                "the server does not offer STARTTLS and TLS is required".into(),
            ));
        }
        let tls = tls_parameters(server)?;
        step(timeout, conn.starttls(tls, &hello)).await?;
    }
    phase.store(AUTH, Ordering::SeqCst);
    if !server.username.is_empty() {
        let creds = Credentials::new(
            server.username.clone(),
            server.password.expose().to_string(),
        );
        step(
            timeout,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds),
        )
        .await?;
    }
    phase.store(ENVELOPE, Ordering::SeqCst);
    step(
        timeout,
        conn.command(Mail::new(envelope.from().cloned(), vec![])),
    )
    .await?;
    for rcpt in envelope.to() {
        step(timeout, conn.command(Rcpt::new(rcpt.clone(), vec![]))).await?;
    }
    step(timeout, conn.command(Data)).await?;
    phase.store(DATA_SENT, Ordering::SeqCst);
    let reply = step(timeout, conn.message(bytes)).await?;
    let at = clock.now();
    let text = format!(
        "{} {}",
        reply.code(),
        reply.message().collect::<Vec<_>>().join(" ")
    );
    // The message is accepted; a failing or silent QUIT changes nothing.
    let _ = tokio::time::timeout(timeout, conn.quit()).await;
    Ok((at, text))
}
