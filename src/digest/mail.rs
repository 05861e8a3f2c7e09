//! The digest as an email: multipart/alternative (plain text first, then
//! HTML), sent from a persona's SMTP identity with the same step-by-step
//! SMTP code that files probes, so the outcome is accepted, refused or
//! unknown exactly as for a probe.

use std::time::Duration;

use lettre::Address;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};

use super::{Digest, DigestError, render};
use crate::channel::FileOutcome;
use crate::channel::email::{Server, smtp};
use crate::clock::Clock;
use crate::config::{Config, DigestSettings};

/// The header naming the week a digest covers.
pub const DIGEST_HEADER: &str = "X-Support-Probe-Digest";

/// How long one SMTP operation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct WeekHeader(String);

impl Header for WeekHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(DIGEST_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(WeekHeader(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// RFC 3834: a machine-generated report; vacation responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// Builds the message: From the persona, To every recipient.
pub fn message(
    digest: &Digest,
    config: &Config,
    settings: &DigestSettings,
    clock: &dyn Clock,
) -> Result<Message, DigestError> {
    let persona = config
        .persona(&settings.persona)
        .ok_or(DigestError::NotConfigured)?;
    let from: Address = persona
        .address
        .parse()
        .map_err(|e| DigestError::Compose(format!("sender {:?}: {e}", persona.address)))?;
    let now = clock.now();
    let id_host = persona.address.rsplit('@').next().unwrap_or("localhost");
    let mut builder = Message::builder()
        .from(Mailbox::new(Some(persona.display_name.clone()), from))
        .subject(digest.subject.clone())
        .date(std::time::SystemTime::from(now))
        .message_id(Some(format!(
            "<digest-{}-{}.{}@{id_host}>",
            digest.week,
            now.as_second(),
            fastrand::u32(..)
        )))
        .header(WeekHeader(digest.week.to_string()))
        .header(AutoSubmitted);
    for to in &settings.recipients {
        let addr: Address = to
            .parse()
            .map_err(|e| DigestError::Compose(format!("recipient {to:?}: {e}")))?;
        builder = builder.to(Mailbox::new(None, addr));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            render::text(digest),
            render::html(digest),
        ))
        .map_err(|e| DigestError::Compose(e.to_string()))
}

/// Sends the digest through the persona's SMTP server. The password is
/// resolved here, at the moment it is needed.
pub async fn send(
    digest: &Digest,
    config: &Config,
    settings: &DigestSettings,
    clock: &dyn Clock,
) -> Result<FileOutcome, DigestError> {
    let persona = config
        .persona(&settings.persona)
        .ok_or(DigestError::NotConfigured)?;
    let smtp = persona
        .smtp
        .as_ref()
        .ok_or_else(|| DigestError::NotEmail(persona.name.clone()))?;
    let server = Server::from_config(smtp).map_err(|source| DigestError::Secret {
        persona: persona.name.clone(),
        source,
    })?;
    let msg = message(digest, config, settings, clock)?;
    let bytes = msg.formatted();
    Ok(smtp::send_message(&server, TIMEOUT, clock, msg.envelope(), &bytes).await)
}
