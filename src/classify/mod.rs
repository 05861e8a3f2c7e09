//! The email classifier: turns one raw inbound message into [`MessageFacts`]
//! (ids, addresses, timestamps, probe tokens, delivery reports, structure,
//! ticket references, helpdesk) and decides its [`Class`] with a
//! [`Confidence`] and reasons a user can read.
//!
//! # Order of evidence
//!
//! Structure before wording, and wording only from the data files:
//!
//! 1. **Structure, in no language** ([`bounce`]): RFC 3464 delivery reports;
//!    `multipart/report` feedback (abuse) reports and read receipts;
//!    returned messages (`message/rfc822`, `text/rfc822-headers`) and raw
//!    returned headers in the text; our own `X-Support-Probe` header quoted
//!    back; SMTP reply and enhanced status codes (`550 5.1.1`); mail-system
//!    senders (`MAILER-DAEMON`, `postmaster`, an empty `From` address) and an
//!    empty return path. A report is never `human`.
//! 2. **The user's overrides** (`[[vendor.override]]`): certain.
//! 3. **The helpdesk**, recognised from its own stamps ([`helpdesk`],
//!    `data/helpdesks.toml`) or configured: the markers it puts on every mail
//!    are ignored; markers only its automatic mails carry, and its
//!    originator header (RT's `X-RT-Originator`: us on the autoreply, the
//!    agent on an answer), decide instead. Per ticket, markers that an
//!    earlier answer by a person also carried are ignored too.
//! 4. **Wording** in every language of `data/lang/*.toml` ([`lexicon`]),
//!    after RFC 2047 and charset decoding, NFKC, lowercasing: out-of-office,
//!    acknowledgements (strong: a machine describing itself; weak: what a
//!    person may also write, counted only with little other text),
//!    notifications, and the canned-text rule across probes.
//!
//! # Decision table
//!
//! The first row that applies decides. "Stamps" are the markers a helpdesk
//! puts on *every* mail it sends, agent answers included, so they say nothing
//! about who wrote a message.
//!
//! | # | evidence | class | confidence |
//! |---|----------|-------|------------|
//! | 1 | RFC 3464 report: any recipient `Action: failed` / only `delayed` / only delivered | bounce / delay / automated | certain |
//! | 1 | feedback report (RFC 5965), read receipt (RFC 8098), other `multipart/report` | automated | certain / likely |
//! | 1 | a mail system's report (sender, empty return path, returned message or headers, or bounce wording in both subject and text naming the recipient) with failure or delay wording or codes | bounce / delay | certain with a status code, else likely |
//! | 2 | the first per-vendor override whose pattern matches | the override's class | certain |
//! | 2 | no sender address at all | automated | likely |
//! | 3 | out-of-office subject, auto-reply subject prefix (with absence or no acknowledgement wording), or an auto-responder marker with absence wording | out-of-office | likely |
//! | 3 | auto-reply subject prefix with acknowledgement wording | ack | likely |
//! | 4 | the engine found the same fingerprint on another probe of this vendor, and the message came within 5 minutes of filing | ack (canned) | likely |
//! | 4 | the same fingerprint, later than that: decided by the rows below; if human (a pasted macro?) | human | unsure |
//! | 5 | a helpdesk notice naming the agent who commented (Jira's "<name> commented:") | human | per row 8 |
//! | 6 | machine markers left after removing stamps, a marker only the helpdesk's automatic mail carries, or an originator header naming us: with acknowledgement wording | ack | likely |
//! | 6 | the same without acknowledgement wording | automated | likely; unsure when only list-style markers and much other text |
//! | 7 | stamping helpdesk (or an originator header naming someone else): strong acknowledgement wording, or weak wording and little other text | ack | likely |
//! | 7 | the same: notification wording and little other text | automated | likely |
//! | 7 | the same, anything else | human | per row 8 |
//! | 8 | no machine marker: strong acknowledgement wording | ack | likely |
//! | 8 | no machine marker: nothing but weak acknowledgement or notification wording | ack / automated | unsure |
//! | 8 | no machine marker, no such wording | human | likely in a language the phrase files know (certain with an originator naming the agent); unsure in an unknown language, or within 60 s of filing |
//!
//! *Strong* acknowledgement wording is a machine describing itself ("this is
//! an automated response", "此邮件为系统自动发送"): people do not write that.
//! *Weak* wording is what a person may also write ("thank you for contacting
//! us"), so it only counts when the text left after removing acknowledgement,
//! boilerplate, greeting and sign-off sentences has fewer than
//! [`SUBSTANTIVE_WORDS`] words (Chinese and Japanese counted at two
//! characters a word). The canned-text rule (row 4) is the backstop.
//!
//! A message the parser or classifier panics on is caught at
//! [`parse_guarded`] / [`classify_guarded`] and read as `human`, `unsure`.

mod api;
mod autoreply;
mod bounce;
mod canned;
mod guard;
mod helpdesk;
mod lexicon;
mod marker;
mod parse;
mod refs;
mod text;
mod wording;

#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Class, Confidence, Helpdesk, MessageRecord};

pub use api::{api_facts, classify_api};
pub use canned::fingerprint;
/// What the reply evidence (`crate::quality`) shares with the classifier:
/// the embedded phrase files, the own-text cut, normalization and counting.
pub(crate) use canned::own_text;
pub use guard::{classify_guarded, parse_guarded};
pub use helpdesk::{helpdesk_ids, helpdesks};
pub use lexicon::languages;
pub(crate) use lexicon::{
    LANG_FILES, at_word_edges, normalize, spaced_word_char, unspaced, word_count,
};
pub(crate) use text::{TOKEN_PATTERN, cap};

/// Problems loading the classifier's data files (`data/lang/*.toml`,
/// `data/helpdesks.toml`), as `file: problem`. Empty in a sound build: the
/// tests require it; `probe check` prints any.
pub fn data_problems() -> Vec<String> {
    lexicon::problems()
        .iter()
        .chain(helpdesk::problems())
        .cloned()
        .collect()
}
pub use parse::parse;
pub use refs::ticket_refs;

/// Declares regexes compiled on first use. A pattern that fails
/// to compile matches nothing; the `patterns_compile` test proves none does.
macro_rules! regexes {
    ($($name:ident = $pat:expr;)*) => {
        $(
            pub(crate) static $name: std::sync::LazyLock<Option<regex::Regex>> =
                std::sync::LazyLock::new(|| regex::Regex::new($pat).ok());
        )*
        /// Every pattern declared in this module, for the compile test.
        #[cfg(test)]
        pub(crate) const PATTERNS: &[&str] = &[$($pat),*];
    };
}
pub(crate) use regexes;

/// A lazily compiled regex as declared by `regexes!`.
pub(crate) type LazyRegex = LazyLock<Option<Regex>>;

/// Whether `re` matches anywhere in `text`.
pub(crate) fn is_match(re: &LazyRegex, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// The first match of `re` in `text`, as text.
pub(crate) fn find<'t>(re: &LazyRegex, text: &'t str) -> Option<&'t str> {
    re.as_ref().and_then(|r| r.find(text)).map(|m| m.as_str())
}

/// How many words of other text make a message substantive (see the module doc).
pub const SUBSTANTIVE_WORDS: usize = 12;

/// Everything the engine and classifier need from one raw message, extracted once.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MessageFacts {
    /// The `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The `In-Reply-To` ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// The `References` ids, without angle brackets.
    pub references: Vec<String>,
    /// The `From` address, lowercase.
    pub from_addr: Option<String>,
    /// The `From` display name.
    pub from_name: Option<String>,
    /// The decoded `Subject`.
    pub subject: Option<String>,
    /// The `Date:` header.
    pub date: Option<jiff::Timestamp>,
    /// The date after the last `;` of the topmost `Received:` header.
    pub top_received: Option<jiff::Timestamp>,
    /// Whether the message has `Return-Path: <>` (a null envelope sender).
    pub return_path_empty: bool,
    /// The best plain text (text/plain, else HTML stripped to text), decoded,
    /// capped at 256 KiB.
    pub body_text: String,
    /// Every `SP-...` probe token found anywhere in the message, deduped.
    pub probe_tokens: Vec<String>,
    /// Values of `X-Support-Probe` headers found anywhere, including attached or
    /// quoted originals (26-character ULIDs), deduped.
    pub probe_ids: Vec<String>,
    /// The delivery status report, standard or inferred.
    pub dsn: Option<Dsn>,
    /// What the message's structure says about it, independent of language.
    pub structure: Structure,
    /// Ticket references in the subject, see [`ticket_refs`].
    pub ticket_refs: Vec<String>,
    /// The helpdesk detected from the headers.
    pub helpdesk: Option<Helpdesk>,
    /// Top-level headers: lowercase name and unfolded value, at most 500.
    pub headers: Vec<(String, String)>,
}

impl MessageFacts {
    /// The values of every top-level header called `name` (lowercase).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first top-level header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Evidence in a message's structure, which no language changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Structure {
    /// The `report-type` of a top-level `multipart/report` (lowercase), or
    /// the kind of its `message/*` report part: `delivery-status`,
    /// `feedback-report` (RFC 5965 abuse reports), `disposition-notification`
    /// (RFC 8098 read receipts).
    pub report_type: Option<String>,
    /// Whether a `message/rfc822`, `message/global`, `text/rfc822-headers`
    /// or `message/global-headers` part returns a message (or its headers).
    pub returned_message: bool,
    /// Whether the returned message is ours (it carries our `X-Support-Probe`
    /// header or a probe token in its headers).
    pub returns_ours: bool,
    /// Whether our own `X-Support-Probe` header appears as a raw header line
    /// in the text: mail systems quote the headers of what they return;
    /// people's mail programs do not.
    pub quotes_our_headers: bool,
    /// Whether the text carries the raw headers of a returned message
    /// (`Received:`, `Return-Path:`, `Message-ID:` lines, possibly quoted
    /// with `>`): mail systems return them; people's mail programs quote
    /// only From, Sent, To and Subject.
    pub returned_headers: bool,
    /// SMTP reply codes with enhanced status codes in the text, e.g.
    /// `550 5.1.1` (at most a few).
    pub smtp_codes: Vec<String>,
}

/// A delivery status report: what happened to our message on its way to the vendor.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dsn {
    /// The decisive per-recipient action.
    pub action: DsnAction,
    /// The enhanced status code, e.g. `5.1.1`.
    pub status: Option<String>,
    /// The remote server's diagnostic, e.g. `smtp; 550 5.1.1 User unknown`.
    pub diagnostic: Option<String>,
    /// The recipient the action is about.
    pub recipient: Option<String>,
    /// True for an RFC 3464 `message/delivery-status` report, false when inferred
    /// from a plain-text bounce.
    pub standard: bool,
}

/// The `Action:` of an RFC 3464 per-recipient block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DsnAction {
    /// The message could not be delivered.
    Failed,
    /// Delivery is late; the sending server keeps trying.
    Delayed,
    /// The message was delivered.
    Delivered,
    /// The message was passed on to a system that sends no reports.
    Relayed,
    /// The message was delivered to a list and expanded.
    Expanded,
}

impl DsnAction {
    /// Parses the first word of an `Action:` value.
    pub fn parse(value: &str) -> Option<DsnAction> {
        let word = value.split_whitespace().next()?.to_ascii_lowercase();
        match word.as_str() {
            "failed" => Some(DsnAction::Failed),
            "delayed" => Some(DsnAction::Delayed),
            "delivered" => Some(DsnAction::Delivered),
            "relayed" => Some(DsnAction::Relayed),
            "expanded" => Some(DsnAction::Expanded),
            _ => None,
        }
    }

    /// The RFC 3464 keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            DsnAction::Failed => "failed",
            DsnAction::Delayed => "delayed",
            DsnAction::Delivered => "delivered",
            DsnAction::Relayed => "relayed",
            DsnAction::Expanded => "expanded",
        }
    }
}

/// A vendor's classification rules.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// The helpdesk the vendor is known to run.
    pub helpdesk: Helpdesk,
    /// Overrides tried in order after the bounce check; the first match wins.
    pub overrides: Vec<Override>,
}

/// A user-written rule: messages whose `field` matches `pattern` get `class`.
#[derive(Debug, Clone)]
pub struct Override {
    /// What the pattern is matched against.
    pub field: OverrideField,
    /// Searched for anywhere in the field (not anchored).
    pub pattern: Regex,
    /// The class a match gives.
    pub class: Class,
}

/// What an [`Override`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideField {
    /// The decoded subject.
    Subject,
    /// The sender's address, display name, or `Name <address>`.
    From,
    /// The body text.
    Body,
    /// Every top-level header of this lowercase name.
    Header(String),
}

impl std::fmt::Display for OverrideField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OverrideField::Subject => f.write_str("subject"),
            OverrideField::From => f.write_str("from"),
            OverrideField::Body => f.write_str("body"),
            OverrideField::Header(name) => write!(f, "header {name}"),
        }
    }
}

/// What the classifier knows beyond the message itself.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The vendor's rules.
    pub rules: &'a Rules,
    /// Set by the engine when this message's fingerprint equals one recorded earlier for the same vendor
    /// on a *different* probe: that probe's id. Means the text is canned.
    pub canned_match: Option<&'a str>,
    /// Our own addresses on this probe (the persona's), lowercase: a
    /// helpdesk that names the originator of a mail names us on the mail
    /// our own message triggered.
    pub our_addresses: &'a [String],
    /// Time from filing to this message, when known.
    pub since_filing: Option<jiff::SignedDuration>,
    /// The messages already recorded on the same probe (the same ticket),
    /// oldest first.
    pub thread: &'a [MessageRecord],
}

impl<'a> Context<'a> {
    /// A context with nothing known beyond the vendor's rules.
    pub fn new(rules: &'a Rules) -> Context<'a> {
        Context {
            rules,
            canned_match: None,
            our_addresses: &[],
            since_filing: None,
            thread: &[],
        }
    }
}

/// The classifier's verdict with the evidence, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Classification {
    /// The class.
    pub class: Class,
    /// How sure the evidence makes it.
    pub confidence: Confidence,
    /// Why, in words a user understands; never empty.
    pub reasons: Vec<String>,
    /// The machine markers seen (see [`MessageRecord::markers`]).
    pub markers: Vec<String>,
    /// For an automated message: the wording that makes it the vendor's
    /// "ticket resolved / closed" notice, whose time is the resolution.
    pub resolves: Option<String>,
}

impl Classification {
    fn new(class: Class, reasons: Vec<String>) -> Self {
        Classification {
            class,
            confidence: Confidence::Likely,
            reasons,
            resolves: None,
            markers: Vec::new(),
        }
    }

    /// The same verdict with another confidence.
    pub(crate) fn with(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }
}

/// Classifies one message, following the decision table in the module doc.
pub fn classify(facts: &MessageFacts, ctx: &Context<'_>) -> Classification {
    let mut c = decide(facts, ctx);
    let helpdesk = facts
        .helpdesk
        .as_ref()
        .and_then(|h| helpdesk::REGISTRY.get(h))
        .or_else(|| helpdesk::REGISTRY.get(&ctx.rules.helpdesk));
    c.markers = autoreply::machine_markers(facts, helpdesk, &[])
        .iter()
        .map(|m| autoreply::marker_key(m.header, &m.value))
        .collect();
    if let Some(probe) = ctx.canned_match
        && c.class == Class::Human
    {
        // Repeated text that came later than a trigger would: a macro an
        // agent pasted, or a delayed template. A person should look.
        c.confidence = Confidence::Unsure;
        c.reasons.push(format!(
            "the same text arrived on probe {probe}, but more than {} after filing: \
             a macro an agent pasted, or a delayed template (see `probe review`)",
            CANNED_MACHINE_WITHIN_MINS_TEXT
        ));
    }
    if c.class == Class::Automated {
        c.resolves = resolved_notice(facts);
        if let Some(phrase) = &c.resolves {
            c.reasons.push(format!(
                "a ticket resolved/closed notice ({phrase:?}): its time is the vendor's resolution"
            ));
        }
    }
    c
}

/// How soon after filing repeated text is a machine's: helpdesk triggers
/// and auto-acknowledgements answer within seconds to a minute or two; an
/// agent who pastes a macro has read the ticket first.
pub const CANNED_MACHINE_WITHIN: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
const CANNED_MACHINE_WITHIN_MINS_TEXT: &str = "5 minutes";

/// Whether the message came long enough after filing that repeated text
/// may be a person's macro (unknown timing counts as a machine's).
fn arrived_like_a_person(ctx: &Context<'_>) -> bool {
    ctx.since_filing.is_some_and(|d| d > CANNED_MACHINE_WITHIN)
}

/// The language `text` is written in, by the phrase files' frequent words
/// (two or more different ones of one language); `None` when they do not
/// tell.
pub(crate) fn known_language(text: &str) -> Option<&'static str> {
    lexicon::LEXICON.known_language(&lexicon::normalize(text))
}

/// The wording of a "your ticket was resolved / closed" notice in the
/// subject or the message's own text, with its language.
fn resolved_notice(facts: &MessageFacts) -> Option<String> {
    let subject = lexicon::normalize(facts.subject.as_deref().unwrap_or_default());
    let own = lexicon::normalize(&canned::own_text(&facts.body_text));
    lexicon::LEXICON
        .find(lexicon::Cat::Resolved, &subject)
        .or_else(|| lexicon::LEXICON.find(lexicon::Cat::Resolved, &own))
        .map(|h| format!("{}, {}", h.phrase, h.lang))
}

/// The decision table, first row that applies.
fn decide(facts: &MessageFacts, ctx: &Context<'_>) -> Classification {
    if let Some(c) = bounce::classify_report(facts) {
        return c;
    }
    if let Some(c) = apply_overrides(facts, &ctx.rules.overrides) {
        return c;
    }
    if facts.from_addr.is_none() {
        return Classification::new(
            Class::Automated,
            vec!["no sender address (From): not a message a person wrote".to_string()],
        );
    }
    // The helpdesk its own stamps show; else the one configured for the vendor.
    let detected = facts
        .helpdesk
        .as_ref()
        .and_then(|h| helpdesk::REGISTRY.get(h));
    let configured = helpdesk::REGISTRY.get(&ctx.rules.helpdesk);
    let def = detected.or(configured);
    let stamps = thread_stamps(ctx.thread);
    let markers = autoreply::machine_markers(facts, def, &stamps);
    let own = canned::own_text(&facts.body_text);
    let own_norm = lexicon::normalize(&own);
    if let Some(c) = autoreply::classify_out_of_office(facts, &own_norm, &markers) {
        return c;
    }
    if let Some(probe) = ctx.canned_match
        && !arrived_like_a_person(ctx)
    {
        return Classification::new(
            Class::Ack,
            vec![format!(
                "same text as an earlier message on probe {probe} (canned), within {} of filing",
                CANNED_MACHINE_WITHIN_MINS_TEXT
            )],
        );
    }
    let mut c = wording::classify_by_wording(
        facts,
        &wording::Evidence {
            own: &own,
            own_norm: &own_norm,
            helpdesk: def,
            markers: &markers,
            since_filing_secs: ctx.since_filing.map(|d| d.as_secs()),
            our_addresses: ctx.our_addresses,
        },
    );
    if let Some(d) = detected.filter(|d| configured.is_none_or(|c| c.id != d.id)) {
        c.reasons
            .push(format!("recognised {} by its own headers", d.name));
    }
    if markers.iter().any(|m| m.stamp) && !stamps.is_empty() {
        c.reasons.push(format!(
            "markers an earlier answer of this ticket by a person also carried were not used ({})",
            stamps.join(", ")
        ));
    }
    c
}

/// Markers that an earlier message of the same ticket carried although it
/// was a person's answer: on this ticket they prove nothing.
fn thread_stamps(thread: &[MessageRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in thread.iter().filter(|m| {
        m.effective_class() == Class::Human && m.effective_confidence() != Confidence::Unsure
    }) {
        for k in &m.markers {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// The first override that matches, as a classification.
fn apply_overrides(facts: &MessageFacts, overrides: &[Override]) -> Option<Classification> {
    overrides.iter().find_map(|o| {
        let hit = override_field_values(facts, &o.field)
            .into_iter()
            .find(|v| o.pattern.is_match(v))?;
        Some(
            Classification::new(
                o.class,
                vec![format!(
                    "vendor override: {} {:?} matches /{}/, so {}",
                    o.field,
                    shorten(&hit, 80),
                    o.pattern.as_str(),
                    o.class
                )],
            )
            .with(Confidence::Certain),
        )
    })
}

/// The texts an override on `field` is matched against.
fn override_field_values(facts: &MessageFacts, field: &OverrideField) -> Vec<String> {
    match field {
        OverrideField::Subject => facts.subject.iter().cloned().collect(),
        OverrideField::From => {
            let mut out: Vec<String> = facts.from_addr.iter().cloned().collect();
            if let Some(name) = &facts.from_name {
                out.push(name.clone());
                if let Some(addr) = &facts.from_addr {
                    out.push(format!("{name} <{addr}>"));
                }
            }
            out
        }
        OverrideField::Body => vec![facts.body_text.clone()],
        OverrideField::Header(name) => facts
            .header_values(&name.to_ascii_lowercase())
            .map(str::to_string)
            .collect(),
    }
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
