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
        let to = Mailbox::new(
            Some(self.to_name.to_string()),
            self.to_address.parse().ok()?,
        );
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

/// Picks part `k` of the `n`-th reply from `items` (of prime length), so
/// that two replies of a run share at most one part: a person does not
/// write the same answer twice (only macro-cdn does, on purpose).
fn pick<'a>(items: &[&'a str], n: u32, k: u32) -> &'a str {
    let len = u32::try_from(items.len()).unwrap_or(1).max(1);
    let i = (n
        .wrapping_mul(k + 1)
        .wrapping_add((n / len).wrapping_mul(k)))
        % len;
    items[usize::try_from(i).unwrap_or(0)]
}

const PANDA_OPENERS: [&str; 5] = [
    "感谢您的来信，我刚刚看到您的工单。",
    "收到您的邮件了，我这边马上帮您核实。",
    "谢谢您的耐心，我已经接手这个问题。",
    "您好，值班工程师已经读过您的问题。",
    "非常感谢您的反馈，我来为您处理。",
];
const PANDA_CHECKS: [&str; 5] = [
    "目前推流和转码都运行正常，CDN 节点也没有告警。",
    "监控显示过去一小时内没有任何推流中断。",
    "我们查看了日志，没有发现异常的断流或卡顿记录。",
    "边缘节点的带宽和延迟指标都在正常范围内。",
    "相关服务今天没有变更，也没有进行中的故障。",
];
const PANDA_WHERE: [&str; 5] = [
    "故障和维护通知都会发布在 https://status.panda-live.example 上，您可以订阅。",
    "今后如有故障或维护，我们会第一时间在 https://status.panda-live.example 公告。",
    "建议您关注 https://status.panda-live.example，那里会实时更新服务状态。",
    "所有事故通报和计划维护都在 https://status.panda-live.example 发布。",
    "服务状态页面是 https://status.panda-live.example，支持邮件订阅。",
];

/// panda-live's answer: Chinese, greets the persona by name, names the
/// probe's detail, signed by its agent; the `n`-th reply of the run.
pub fn panda_answer(person: &str, detail: &str, agent: &str, n: u32) -> String {
    format!(
        "{person} 您好，\r\n\r\n{}我们已经检查了您提到的{detail}：{}{}\r\n\r\n祝好，\r\n{agent}\r\n熊猫直播 技术支持\r\n",
        pick(&PANDA_OPENERS, n, 0),
        pick(&PANDA_CHECKS, n, 1),
        pick(&PANDA_WHERE, n, 2),
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

const ASK_FIRST: [&str; 5] = [
    "Before I can look into this, could you tell me the account ID your streams run under?",
    "To check this properly I need one thing first: which account ID do your streams use?",
    "Could you send me the account ID of the affected streams so I can pull up the right logs?",
    "Happy to help. Which account ID should I look at?",
    "I would like to check your setup first: what is the account ID behind these streams?",
];
const ASK_SECOND: [&str; 5] = [
    "Which region are your encoders in, and do you see errors on the ingest side?",
    "Where are your encoders located, and are there any errors in their logs?",
    "Do your encoders report any ingest errors, and which region do they push to?",
    "One more question: which ingest region do you use, and have you seen any failures?",
    "Are the encoders close to one of our ingest regions, and did any of them log errors?",
];
const ANSWERS: [&str; 5] = [
    "Everything is healthy on our side; we post incidents and maintenance at \
     https://status.asking-stream.example and you can subscribe there.",
    "I checked your streams and found nothing wrong. Incidents and planned work are announced \
     at https://status.asking-stream.example.",
    "No faults on our side for your account. For future reference, our status page is \
     https://status.asking-stream.example and it has e-mail alerts.",
    "All good on our end. We publish outages and maintenance windows at \
     https://status.asking-stream.example.",
    "Your ingest looks clean from here. Whenever something breaks we say so first at \
     https://status.asking-stream.example.",
];
const THANKS: [[&str; 5]; 3] = [
    [
        "thanks for your message.",
        "thank you for writing in.",
        "I have your ticket here.",
        "thanks for reaching out.",
        "I picked up your request.",
    ],
    [
        "got it, thank you.",
        "thanks, that helps.",
        "understood, thanks.",
        "perfect, thank you.",
        "thanks for the quick answer.",
    ],
    [
        "thanks for the details.",
        "thank you for bearing with me.",
        "that is all I needed, thanks.",
        "thanks, I could check everything now.",
        "great, thanks for the information.",
    ],
];
const ASKING_AGENTS: [&str; 5] = ["Marta", "Jonas", "Ines", "Pablo", "Lucia"];

/// asking-stream's replies to the `n`-th probe of the run: two questions
/// back, then the answer.
pub fn asking_reply(round: u32, person: &str, n: u32) -> String {
    let agent = pick(&ASKING_AGENTS, n, 2);
    let (text, thanks) = match round {
        0 => (pick(&ASK_FIRST, n, 0), pick(&THANKS[0], n, 1)),
        1 => (pick(&ASK_SECOND, n, 0), pick(&THANKS[1], n, 1)),
        _ => (pick(&ANSWERS, n, 0), pick(&THANKS[2], n, 1)),
    };
    format!("Hi {person},\r\n\r\n{thanks} {text}\r\n\r\nThanks,\r\n{agent}\r\n")
}

const CLOSER_ANSWERS: [&str; 5] = [
    "we publish every incident and maintenance window at https://status.closer-saas.example, \
     and you can subscribe to e-mail updates there.",
    "our status page https://status.closer-saas.example carries all incidents and planned \
     maintenance; RSS and e-mail subscriptions are available.",
    "incidents go to https://status.closer-saas.example the moment we open them, together \
     with any scheduled maintenance.",
    "you will find outages and maintenance announcements at https://status.closer-saas.example.",
    "the page to bookmark is https://status.closer-saas.example: every incident and every \
     maintenance window is posted there first.",
];
const CLOSER_DONE: [&str; 5] = [
    "I have marked this request as done.",
    "I will close this ticket now; reply if you need anything else.",
    "Since that answers your question, I am resolving the ticket.",
    "I am closing this one, but feel free to write back any time.",
    "This ticket is resolved on my side.",
];
const CLOSER_AGENTS: [&str; 5] = ["Niall", "Aoife", "Ciaran", "Siobhan", "Declan"];

/// closer-saas's answer on the first reply to the `n`-th probe of the run.
pub fn closer_answer(person: &str, n: u32) -> String {
    format!(
        "Hi {person},\r\n\r\n{} {}\r\n\r\nAll the best,\r\n{}\r\n",
        pick(&CLOSER_ANSWERS, n, 0),
        pick(&CLOSER_DONE, n, 1),
        pick(&CLOSER_AGENTS, n, 2),
    )
}

/// closer-saas's automatic notice that the ticket was resolved.
pub fn closer_notice(ticket: u32) -> String {
    format!(
        "Your request #{ticket} has been resolved.\r\n\r\nIf you need more help, reply to \
         this message to reopen it.\r\n"
    )
}
