//! The vocabulary every other module shares: probe records, their states,
//! message classes, time sources and calendar windows.
//!
//! These types are what the store persists (as JSON) and what `probe show`,
//! `probe status` and the reports print, so their serde names are part of the
//! on-disk format and of the JSON output: change them only with a store
//! migration.

mod api;
mod id;
mod quality;
mod row;

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use api::{ApiMessage, AuthorRole};
pub use id::{ProbeId, ProbeIdError};
pub use quality::{
    Conversation, DetectedLanguage, Quality, Resolution, Round, RoundState, Trait, answers_ours,
    same_language,
};
pub use row::ReadingRow;

/// The class of a message that arrived on a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Written by a person at the vendor: this stops the clock.
    Human,
    /// An automatic acknowledgement ("we received your request").
    Ack,
    /// An out-of-office / vacation auto-reply.
    OutOfOffice,
    /// A delivery failure report: the probe never reached the vendor.
    Bounce,
    /// A delivery delay notice: the probe has not reached the vendor yet.
    Delay,
    /// Any other machine-sent mail (surveys, notifications, loops).
    Automated,
}

impl Class {
    /// All classes, in the order they are documented.
    pub const ALL: [Class; 6] = [
        Class::Human,
        Class::Ack,
        Class::OutOfOffice,
        Class::Bounce,
        Class::Delay,
        Class::Automated,
    ];

    /// The name used in config files, JSON output and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::Ack => "ack",
            Class::OutOfOffice => "out-of-office",
            Class::Bounce => "bounce",
            Class::Delay => "delay",
            Class::Automated => "automated",
        }
    }

    /// Parses a class name as printed by [`Class::as_str`].
    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the classifier is of a message's class. A reading that rests on
/// an `unsure` class is flagged wherever the reading is shown, and the
/// message is listed by `probe review`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Decided by structure or by an explicit rule: a delivery report, a
    /// user's override or relabel, a ticket API's author role.
    Certain,
    /// Decided by markers and wording that agree.
    #[default]
    Likely,
    /// The evidence is thin or conflicting: a person should look.
    Unsure,
}

impl Confidence {
    /// All levels, most sure first.
    pub const ALL: [Confidence; 3] = [Confidence::Certain, Confidence::Likely, Confidence::Unsure];

    /// The name used in JSON output and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Unsure => "unsure",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The helpdesk software a vendor runs, when known: the id of an entry of
/// `data/helpdesks.toml` (`zendesk`, `rt`, ...), or `generic`. It changes
/// which classification evidence can be trusted (Zendesk marks every mail as
/// auto-submitted, human answers included). Which ids exist is the
/// classifier's data; the config checks a configured one against it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Helpdesk(String);

impl Default for Helpdesk {
    fn default() -> Self {
        Helpdesk::generic()
    }
}

impl Helpdesk {
    /// The id of "no known helpdesk".
    pub const GENERIC: &'static str = "generic";

    /// A helpdesk by id (lowercased).
    pub fn new(id: &str) -> Helpdesk {
        Helpdesk(id.trim().to_ascii_lowercase())
    }

    /// No known helpdesk.
    pub fn generic() -> Helpdesk {
        Helpdesk(Self::GENERIC.to_string())
    }

    /// Whether this is no known helpdesk.
    pub fn is_generic(&self) -> bool {
        self.0 == Self::GENERIC
    }

    /// The id, as written in config files.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a probe stands. See ARCHITECTURE.md for the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeState {
    /// Persisted with its (jittered) due time; not yet sent.
    Planned,
    /// The send has started; if we crash now the outcome is unknown.
    Filing,
    /// The vendor's server accepted the message; waiting for replies.
    Filed,
    /// A human reply arrived within `answer_within`.
    Answered,
    /// No human reply within `answer_within`: a censored observation.
    Unanswered,
    /// The probe bounced: it never reached the vendor.
    Undeliverable,
    /// We failed to send (our outage or a rejection): never the vendor's fault.
    NotFiled,
    /// We cannot know whether the vendor received it; never re-sent automatically.
    Uncertain,
    /// Not sent on purpose: missed while the daemon was down, cap reached, disabled.
    Skipped,
}

impl ProbeState {
    /// Every state, in one fixed order. The store encodes a state as its
    /// index here (`store::rows`) and `/metrics` exports one series each, so
    /// the order is part of the on-disk format: append, never reorder.
    pub const ALL: [ProbeState; 9] = [
        ProbeState::Planned,
        ProbeState::Filing,
        ProbeState::Filed,
        ProbeState::Answered,
        ProbeState::Unanswered,
        ProbeState::Undeliverable,
        ProbeState::NotFiled,
        ProbeState::Uncertain,
        ProbeState::Skipped,
    ];

    /// The name printed by the CLI and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeState::Planned => "planned",
            ProbeState::Filing => "filing",
            ProbeState::Filed => "filed",
            ProbeState::Answered => "answered",
            ProbeState::Unanswered => "unanswered",
            ProbeState::Undeliverable => "undeliverable",
            ProbeState::NotFiled => "not-filed",
            ProbeState::Uncertain => "uncertain",
            ProbeState::Skipped => "skipped",
        }
    }

    /// Whether a reply may still change this probe's reading.
    pub fn awaits_reply(self) -> bool {
        matches!(self, ProbeState::Filed | ProbeState::Uncertain)
    }

    /// Whether the vendor may have received this probe; these count against the caps.
    pub fn may_have_reached_vendor(self) -> bool {
        matches!(
            self,
            ProbeState::Filing
                | ProbeState::Filed
                | ProbeState::Answered
                | ProbeState::Unanswered
                | ProbeState::Undeliverable
                | ProbeState::Uncertain
        )
    }
}

impl std::fmt::Display for ProbeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a probe was filed relative to the vendor's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Window {
    /// Inside the vendor's business hours on a working day.
    BusinessHours,
    /// A working day, outside business hours.
    OffHours,
    /// A day of the week the vendor does not work.
    Weekend,
    /// A listed holiday.
    Holiday,
}

impl Window {
    /// The name printed by the CLI and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::BusinessHours => "business-hours",
            Window::OffHours => "off-hours",
            Window::Weekend => "weekend",
            Window::Holiday => "holiday",
        }
    }
}

/// A vendor's working calendar: the zone it works in, its working days, its
/// opening hours on those days and its holidays. The methods live in
/// `schedule::calendar`.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    /// The vendor's zone; every rule below is read in it.
    pub zone: TimeZone,
    /// Working days.
    pub days: BTreeSet<WeekdayKey>,
    /// Opening hours on a working day, as half-open `[start, end)` local
    /// times, sorted and non-overlapping. `end` of `None` means midnight.
    pub hours: Vec<(Time, Option<Time>)>,
    /// Whole days off, in the vendor's zone.
    pub holidays: BTreeSet<Date>,
}

/// A weekday usable as a set key (jiff's `Weekday` is not `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekdayKey(pub i8);

impl From<Weekday> for WeekdayKey {
    fn from(w: Weekday) -> Self {
        WeekdayKey(w.to_monday_one_offset())
    }
}

/// Which clock a timestamp came from. Readings say this so a user can judge them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeSource {
    /// IMAP INTERNALDATE: when our receiving server stored the message.
    ImapInternaldate,
    /// The message's own `Date:` header (the sender's clock).
    DateHeader,
    /// The topmost `Received:` line (our receiving MTA's clock).
    ReceivedHeader,
    /// Our SMTP server's 250 reply to the message data, read on our host's clock.
    SmtpAccept,
    /// A `created_at`-style field of a ticket API.
    ApiCreated,
    /// The simulated clock of the demo or a test.
    Simulated,
    /// Our clock when a ticket API answered a create without a creation time.
    ApiReceived,
}

/// How an inbound message was tied to its probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    /// `In-Reply-To` / `References` named our Message-ID.
    OurMessageId,
    /// `In-Reply-To` / `References` named a vendor message already on this probe.
    ThreadMessageId,
    /// The probe token appeared in the subject, body or a quoted original.
    Token,
    /// A ticket reference the vendor assigned earlier on this probe.
    VendorRef,
    /// The channel itself knows the ticket (ticket APIs, the demo).
    Channel,
    /// It matched no probe; a person attached it (`probe attach`).
    Attached,
}

/// A user's correction of a message's class; the original class is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relabel {
    pub class: Class,
    pub at: Timestamp,
}

/// One inbound message recorded on a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Unique per channel, e.g. `imap:INBOX:1700000000:42`.
    pub key: String,
    /// The message's `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The instant used for readings.
    pub at: Timestamp,
    /// Which clock `at` came from.
    pub time_source: TimeSource,
    /// The `Date:` header, kept for the cross-check.
    pub date_header: Option<Timestamp>,
    /// The topmost `Received:` line's date, kept for the cross-check.
    pub received_header: Option<Timestamp>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// The classifier's verdict.
    pub class: Class,
    /// How sure the classifier was of `class` (records from before
    /// confidences were kept read as `likely`).
    #[serde(default)]
    pub confidence: Confidence,
    pub reasons: Vec<String>,
    /// A user's correction, if any; readings use it instead of `class`.
    pub relabel: Option<Relabel>,
    pub matched_by: MatchedBy,
    /// Hash of the normalized body, for the canned-text rule.
    pub fingerprint: Option<String>,
    /// Ticket references found in this message.
    pub vendor_refs: Vec<String>,
    /// Doubts about this message's timing or matching, in words.
    pub notes: Vec<String>,
    /// The machine markers the classifier saw (lowercase header names, or
    /// `header=value`), so later messages of the same ticket can be told
    /// apart from this one.
    #[serde(default)]
    pub markers: Vec<String>,
    /// What a human reply is (language, personal, templated, ...); none for
    /// machine mail and for records from before it was judged.
    #[serde(default)]
    pub quality: Option<Quality>,
}

impl MessageRecord {
    /// How sure the reading may be of this message's class: a person's
    /// relabel is certain.
    pub fn effective_confidence(&self) -> Confidence {
        if self.relabel.is_some() {
            Confidence::Certain
        } else {
            self.confidence
        }
    }

    /// The class readings use: the user's correction if there is one.
    pub fn effective_class(&self) -> Class {
        self.relabel.as_ref().map_or(self.class, |r| r.class)
    }
}

/// Why a probe was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Planned from the probe's cron schedule.
    Schedule,
    /// `probe run`.
    Manual,
}

/// One send attempt and its outcome, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: Timestamp,
    pub outcome: String,
}

/// Everything known about one probe. Persisted as JSON in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub id: ProbeId,
    /// Short token put in the subject/body for helpdesks that drop headers.
    pub token: String,
    /// The `[[probe]]` name in the config.
    pub probe: String,
    pub vendor: String,
    pub persona: String,
    /// The channel kind, e.g. `email`.
    pub channel: String,
    /// The checkpoint key of the channel replies arrive on: whether that
    /// channel was read past the answer deadline decides expiry.
    #[serde(default)]
    pub watch_key: Option<String>,
    /// The IANA zone whose schedule produced this probe.
    pub zone: String,
    pub origin: Origin,
    pub priority: Option<String>,
    /// The nominal fire time from the cron schedule (before jitter).
    pub scheduled_for: Timestamp,
    /// When it is to be sent (after jitter).
    pub due_at: Timestamp,
    pub state: ProbeState,
    /// Why it is in this state, in words (not-filed, skipped, uncertain, ...).
    pub state_reason: Option<String>,
    pub subject: Option<String>,
    /// Our `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    pub recipients: Vec<String>,
    pub filing_started_at: Option<Timestamp>,
    /// When the vendor's side accepted the probe: the clock starts here.
    pub filed_at: Option<Timestamp>,
    pub filed_time_source: Option<TimeSource>,
    /// When the probe was filed relative to the vendor's calendar.
    pub window: Option<Window>,
    /// How long we wait for a human reply before the probe counts as unanswered.
    pub answer_within_secs: u64,
    /// SLA target for this probe's priority, if the vendor has one.
    pub sla_target_secs: Option<u64>,
    pub first_ack_at: Option<Timestamp>,
    pub first_human_at: Option<Timestamp>,
    /// Key of the message that stopped the clock.
    pub first_human_key: Option<String>,
    /// For unanswered probes: the instant the observation was censored.
    pub censored_at: Option<Timestamp>,
    /// Ticket references the vendor assigned (e.g. `#12345`).
    pub vendor_refs: Vec<String>,
    pub messages: Vec<MessageRecord>,
    pub attempts: Vec<Attempt>,
    /// Doubts about this probe's reading, in words (clock skew, late replies, ...).
    pub notes: Vec<String>,
    /// The language the probe is written in (BCP 47), if declared.
    #[serde(default)]
    pub language: Option<String>,
    /// The `{detail}` drawn for this probe, if its config has details.
    #[serde(default)]
    pub detail: Option<String>,
    /// Regular expressions a right answer contains (the probe's `expect`).
    #[serde(default)]
    pub expect: Vec<String>,
    /// Our follow-up messages, in order.
    #[serde(default)]
    pub rounds: Vec<Round>,
    /// When the vendor marked the ticket solved/closed.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// For a ticket-API probe whose ticket was not seen resolved by its
    /// answer deadline: the deadline, where the look-out stopped (the time
    /// to resolution is censored there).
    #[serde(default)]
    pub resolution_unseen_at: Option<Timestamp>,
}

impl ProbeRecord {
    /// Time to first human response, if answered.
    pub fn time_to_first_human(&self) -> Option<SignedDuration> {
        Some(self.first_human_at?.duration_since(self.filed_at?))
    }

    /// Time to first acknowledgement, if one came.
    pub fn time_to_first_ack(&self) -> Option<SignedDuration> {
        Some(self.first_ack_at?.duration_since(self.filed_at?))
    }

    /// The instant after which a human reply no longer counts.
    pub fn answer_deadline(&self) -> Option<Timestamp> {
        let within = SignedDuration::from_secs(i64::try_from(self.answer_within_secs).ok()?);
        self.filed_at?.checked_add(within).ok()
    }

    /// Recomputes `first_ack_at`, `first_human_at` and the state from the
    /// recorded messages. Called after every change to `messages` (a new
    /// message, a relabel, a retroactive canned-text match), so the reading is
    /// always a function of the evidence and never of the order it arrived in.
    pub fn recompute(&mut self) {
        if !matches!(
            self.state,
            ProbeState::Filed
                | ProbeState::Answered
                | ProbeState::Unanswered
                | ProbeState::Undeliverable
                | ProbeState::Uncertain
        ) {
            return;
        }
        let was_uncertain = self.state == ProbeState::Uncertain;
        if was_uncertain && !self.messages.is_empty() && self.filed_at.is_none() {
            // A reply proves the vendor got it; when exactly its server
            // accepted it we never saw. The send attempt's start is the
            // closest bound we have, and the note says so.
            self.filed_at = self.filing_started_at;
            self.notes.push(
                "filed_at is the start of the send attempt: the server's acceptance was never seen"
                    .to_string(),
            );
        }
        let deadline = self.answer_deadline();
        let mut msgs: Vec<&MessageRecord> = self.messages.iter().collect();
        msgs.sort_by_key(|m| m.at);
        self.first_ack_at = msgs
            .iter()
            .find(|m| m.effective_class() == Class::Ack)
            .map(|m| m.at);
        let human = msgs
            .iter()
            .find(|m| m.effective_class() == Class::Human && deadline.is_none_or(|d| m.at <= d));
        self.first_human_at = human.map(|m| m.at);
        self.first_human_key = human.map(|m| m.key.clone());
        let bounced = msgs.iter().any(|m| m.effective_class() == Class::Bounce);
        self.state = if self.first_human_at.is_some() {
            self.censored_at = None;
            ProbeState::Answered
        } else if bounced {
            self.censored_at = None;
            ProbeState::Undeliverable
        } else if self.censored_at.is_some() {
            ProbeState::Unanswered
        } else if was_uncertain && msgs.is_empty() {
            ProbeState::Uncertain
        } else {
            ProbeState::Filed
        };
        if was_uncertain && self.state != ProbeState::Uncertain {
            let note = "a reply proved the uncertain filing reached the vendor".to_string();
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_state_order_is_the_stores_encoding_and_names_each_state_once() {
        // store::rows writes a state as its index in ALL: this order is on disk.
        let names = ProbeState::ALL.map(ProbeState::as_str);
        assert_eq!(
            names,
            [
                "planned",
                "filing",
                "filed",
                "answered",
                "unanswered",
                "undeliverable",
                "not-filed",
                "uncertain",
                "skipped"
            ]
        );
    }

    pub(crate) fn msg(key: &str, at: &str, class: Class) -> MessageRecord {
        MessageRecord {
            key: key.into(),
            message_id: None,
            at: ts(at),
            time_source: TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: None,
            subject: None,
            class,
            confidence: Confidence::Likely,
            reasons: vec![],
            relabel: None,
            matched_by: MatchedBy::Token,
            fingerprint: None,
            vendor_refs: vec![],
            notes: vec![],
            markers: vec![],
            quality: None,
        }
    }

    /// A planned probe of vendor `v` by persona `me`, due at `at`, with
    /// nothing else known: the base the module tests' records start from.
    pub(crate) fn record(at: Timestamp) -> ProbeRecord {
        let id = ProbeId::generate(at);
        ProbeRecord {
            token: id.token(),
            id,
            probe: "p".into(),
            vendor: "v".into(),
            persona: "me".into(),
            channel: "email".into(),
            watch_key: None,
            zone: "UTC".into(),
            origin: Origin::Schedule,
            priority: None,
            scheduled_for: at,
            due_at: at,
            state: ProbeState::Planned,
            state_reason: None,
            subject: None,
            message_id: None,
            recipients: vec![],
            filing_started_at: None,
            filed_at: None,
            filed_time_source: None,
            window: None,
            answer_within_secs: 3600,
            sla_target_secs: None,
            first_ack_at: None,
            first_human_at: None,
            first_human_key: None,
            censored_at: None,
            vendor_refs: vec![],
            messages: vec![],
            attempts: vec![],
            notes: vec![],
            language: None,
            detail: None,
            expect: Vec::new(),
            rounds: Vec::new(),
            resolution: None,
            resolution_unseen_at: None,
        }
    }

    pub(crate) fn filed_probe() -> ProbeRecord {
        let at = ts("2026-11-02T02:00:00Z");
        ProbeRecord {
            id: ProbeId::parse("01JD0000000000000000000000").unwrap(),
            token: "SP-0000000000".into(),
            origin: Origin::Manual,
            state: ProbeState::Filed,
            filed_at: Some(at),
            filed_time_source: Some(TimeSource::SmtpAccept),
            ..record(at)
        }
    }

    #[test]
    fn first_human_stops_the_clock_and_relabel_moves_it() {
        let mut p = filed_probe();
        p.messages
            .push(msg("b", "2026-11-02T02:30:00Z", Class::Human));
        p.messages
            .push(msg("a", "2026-11-02T02:00:05Z", Class::Ack));
        p.recompute();
        assert_eq!(p.state, ProbeState::Answered);
        assert_eq!(p.first_ack_at, Some(ts("2026-11-02T02:00:05Z")));
        assert_eq!(p.time_to_first_human(), Some(SignedDuration::from_mins(30)));

        p.messages[0].relabel = Some(Relabel {
            class: Class::Automated,
            at: ts("2026-11-03T00:00:00Z"),
        });
        p.recompute();
        assert_eq!(p.state, ProbeState::Filed);
        assert_eq!(p.first_human_at, None);
        assert_eq!(
            p.messages[0].class,
            Class::Human,
            "the original class is kept"
        );
    }

    #[test]
    fn a_human_reply_after_the_deadline_does_not_answer() {
        let mut p = filed_probe();
        p.censored_at = p.answer_deadline();
        p.state = ProbeState::Unanswered;
        p.messages
            .push(msg("late", "2026-11-02T03:00:01Z", Class::Human));
        p.recompute();
        assert_eq!(p.state, ProbeState::Unanswered);
        assert_eq!(p.first_human_at, None);
    }

    #[test]
    fn a_bounce_makes_the_probe_undeliverable_unless_a_human_answered() {
        let mut p = filed_probe();
        p.messages
            .push(msg("dsn", "2026-11-02T02:00:02Z", Class::Bounce));
        p.recompute();
        assert_eq!(p.state, ProbeState::Undeliverable);
        p.messages
            .push(msg("h", "2026-11-02T02:10:00Z", Class::Human));
        p.recompute();
        assert_eq!(p.state, ProbeState::Answered);
    }

    #[test]
    fn class_names_round_trip() {
        for c in Class::ALL {
            assert_eq!(Class::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }
}
