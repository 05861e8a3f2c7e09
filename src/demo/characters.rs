//! The demo's vendors with a character beyond speed, for the scorecard:
//! one answers a Chinese probe in Chinese, personally and specifically; one
//! answers every probe with the same English macro; one asks back twice
//! before it answers; one answers on the first reply and then closes the
//! ticket with an automatic notice.
//!
//! Each builds real RFC 5322 messages (lettre encodes the Chinese subject
//! and body as a real mail system would) and says what a correct reading
//! of its first reply is ([`Expected`]), so the demo can check the
//! recorded evidence against the truth.

use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};

/// What a correct reading of a probe's first human reply and conversation
/// is, as the simulator knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The language the first reply is written in (primary subtag).
    pub language: Option<&'static str>,
    /// Whether it greets the persona by name and is signed by a person.
    pub personal: Option<bool>,
    /// Whether it mentions the probe's detail.
    pub specific: Option<bool>,
    /// Whether it asks us questions instead of answering.
    pub asks_back: Option<bool>,
    /// Whether it contains what the probe's `expect` looks for.
    pub answers: Option<bool>,
    /// The human reply (1-based) that answers, for probes with `expect`.
    pub answered_on_reply: Option<u32>,
    /// When the vendor's resolved notice was sent.
    pub resolved_at: Option<Timestamp>,
    /// The reply is the vendor's macro (templated from its second use on).
    pub macro_reply: bool,
}

/// One message of a simulated vendor.
pub struct Mail<'a> {
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to_name: &'a str,
    pub to_address: &'a str,
    pub subject: String,
    pub message_id: String,
    /// The message this answers, and the thread (References).
    pub in_reply_to: &'a str,
    pub references: &'a [String],
    pub at: Timestamp,
    pub body: String,
}

impl Mail<'_> {
    /// The raw message, or `None` if an address does not parse (the
    /// demo's addresses always do).
    pub fn build(&self) -> Option<Vec<u8>> {
        let from = Mailbox::new(
            Some(self.from_name.to_string()),
            self.from_address.parse().ok()?,
        );
        let to = Mailbox::new(Some(self.to_name.to_string()), self.to_address.parse().ok()?);
        let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
        let at = std::time::SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(u64::try_from(self.at.as_second()).ok()?);
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(format!("<{}>", self.message_id)))
            .in_reply_to(format!("<{}>", self.in_reply_to))
            .references(refs.join(" "))
            .date(at)
            .header(ContentType::TEXT_PLAIN)
            .body(self.body.clone())
            .ok()?;
        Some(message.formatted())
    }
}

/// panda-live's answer: Chinese, greets the persona by name, names the
/// probe's detail, signed by its agent.
pub fn panda_answer(person: &str, detail: &str, agent: &str) -> String {
    format!(
        "{person} 您好，\r\n\r\n感谢您的来信。我们已经检查了您提到的{detail}，目前推流和转码都运行正常，\
         CDN 节点也没有告警。事故和维护通知都会发布在 https://status.panda-live.example 上。\r\n\r\n\
         祝好，\r\n{agent}\r\n熊猫直播 技术支持\r\n"
    )
}

/// The agents who sign panda-live's answers.
pub const PANDA_AGENTS: [&str; 3] = ["李娜", "王强", "陈静"];

/// macro-cdn's macro: the same English text for every probe (only the
/// ticket number differs), signed by the team.
pub fn macro_answer(ticket: u32) -> String {
    format!(
        "Hello,\r\n\r\nThank you for reaching out to MacroCDN Support regarding ticket {ticket}. \
         Our services are operating normally at this time. For real-time information about \
         incidents and planned maintenance please consult our service dashboard. Should you \
         experience any further issues do not hesitate to contact us again.\r\n\r\n\
         Kind regards,\r\nMacroCDN Support Team\r\n"
    )
}

/// asking-stream's replies: two questions back, then the answer.
pub fn asking_reply(round: u32, person: &str) -> String {
    match round {
        0 => format!(
            "Hi {person},\r\n\r\nthanks for your message. Before I can look into this, could you \
             tell me the account ID your streams run under?\r\n\r\nThanks,\r\nMarta\r\n"
        ),
        1 => format!(
            "Hi {person},\r\n\r\ngot it, thank you. Which region are your encoders in, and do \
             you see errors on the ingest side?\r\n\r\nThanks,\r\nMarta\r\n"
        ),
        _ => format!(
            "Hi {person},\r\n\r\nthanks for the details. Everything is healthy on our side; we \
             post incidents and maintenance at https://status.asking-stream.example and you \
             can subscribe there.\r\n\r\nBest,\r\nMarta\r\n"
        ),
    }
}

/// closer-saas's answer on the first reply.
pub fn closer_answer(person: &str) -> String {
    format!(
        "Hi {person},\r\n\r\nwe publish every incident and maintenance window at \
         https://status.closer-saas.example, and you can subscribe to e-mail updates there. \
         I have marked this request as done.\r\n\r\nAll the best,\r\nNiall\r\n"
    )
}

/// closer-saas's automatic notice that the ticket was resolved.
pub fn closer_notice(ticket: u32) -> String {
    format!(
        "Your request #{ticket} has been resolved.\r\n\r\nIf you need more help, reply to \
         this message to reopen it.\r\n"
    )
}
