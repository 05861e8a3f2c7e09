//! The reading row: the few fields of a probe that reports and the digest
//! read, kept apart from the full record so a report over a million probes
//! does not decode a million JSON records with all their messages.
//!
//! A row is a pure function of its [`ProbeRecord`] ([`ReadingRow::of`]);
//! the store writes it in the same transaction as the record, so the two
//! never disagree. Text that repeats on every row (vendor, probe, persona,
//! channel) is shared ([`Arc<str>`]): the store's decoder interns it.
//!
//! The scorecard's per-probe figures (any human reply, the first reply's
//! traits, resolution, vendor follow-ups) are taken from
//! [`ProbeRecord::conversation`] here, in one place, and kept to a few
//! bytes per row.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::{
    Class, Confidence, MessageRecord, ProbeId, ProbeRecord, ProbeState, Quality, Trait, Window,
};

/// What one probe contributes to a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingRow {
    /// The probe id.
    pub id: ProbeId,
    /// The vendor's name.
    pub vendor: Arc<str>,
    /// The `[[probe]]` name.
    pub probe: Arc<str>,
    /// The persona that filed it.
    pub persona: Arc<str>,
    /// The channel kind, e.g. `email`.
    pub channel: Arc<str>,
    /// The checkpoint key of the mailbox or API account replies arrive at:
    /// a pending probe is censored where it was last read completely.
    pub watch_key: Option<Arc<str>>,
    /// Where it stands.
    pub state: ProbeState,
    /// When it was to be sent (after jitter).
    pub due_at: Timestamp,
    /// When the vendor's side accepted it: the clock starts here.
    pub filed_at: Option<Timestamp>,
    /// When it was filed relative to the vendor's calendar.
    pub window: Option<Window>,
    /// How long a human reply is waited for.
    pub answer_within_secs: u64,
    /// SLA target for its priority, if the vendor has one.
    pub sla_target_secs: Option<u64>,
    /// The first automatic acknowledgement.
    pub first_ack_at: Option<Timestamp>,
    /// The first human reply.
    pub first_human_at: Option<Timestamp>,
    /// For unanswered probes: the instant the observation was censored.
    pub censored_at: Option<Timestamp>,
    /// Why it is in this state, in words.
    pub state_reason: Option<String>,
    /// The subject of the last message that came back (vendor-supplied text).
    pub last_reply_subject: Option<String>,
    /// The reading rests on a message classified `unsure`
    /// ([`ProbeRecord::rests_on_unsure`]).
    pub unsure: bool,
    /// A human reply came at any time, also after the answer deadline
    /// (the reply rate's event; an acknowledged probe without one is
    /// ack-only).
    pub replied: bool,
    /// The first human reply is in the probe's language
    /// ([`crate::model::same_language`]). This and the five traits below
    /// are `None` where not judged (no human reply, no language declared
    /// or detected, no `{detail}`, no `expect`).
    pub language_match: Option<bool>,
    /// Addresses the persona by name, signed by a person.
    pub personal: Option<bool>,
    /// Near-identical to the vendor's human replies to other probes.
    pub templated: Option<bool>,
    /// Mentions the probe's `{detail}`.
    pub specific: Option<bool>,
    /// Asks us questions instead of answering.
    pub asks_back: Option<bool>,
    /// Contains what the probe's `expect` says a right answer contains.
    pub answered_on_first_reply: Option<bool>,
    /// Human replies up to the resolution (resolved probes).
    pub rounds_to_resolution: Option<u32>,
    /// Seconds from filing to the resolution (resolved probes).
    pub time_to_resolution_secs: Option<i64>,
    /// Human messages from the vendor after our last message was answered
    /// and before we wrote again.
    pub vendor_follow_ups: u32,
}

impl ReadingRow {
    /// The row of a record.
    pub fn of(p: &ProbeRecord) -> ReadingRow {
        let c = p.conversation();
        let first = c.first.as_ref();
        let judged =
            |t: fn(&Quality) -> &Option<Trait>| first.and_then(|q| t(q).as_ref()).map(|t| t.value);
        ReadingRow {
            id: p.id.clone(),
            vendor: Arc::from(p.vendor.as_str()),
            probe: Arc::from(p.probe.as_str()),
            persona: Arc::from(p.persona.as_str()),
            channel: Arc::from(p.channel.as_str()),
            watch_key: p.watch_key.as_deref().map(Arc::from),
            state: p.state,
            due_at: p.due_at,
            filed_at: p.filed_at,
            window: p.window,
            answer_within_secs: p.answer_within_secs,
            sla_target_secs: p.sla_target_secs,
            first_ack_at: p.first_ack_at,
            first_human_at: p.first_human_at,
            censored_at: p.censored_at,
            state_reason: p.state_reason.clone(),
            last_reply_subject: p
                .messages
                .iter()
                .max_by_key(|m| m.at)
                .and_then(|m| m.subject.clone()),
            unsure: p.rests_on_unsure(),
            replied: p
                .messages
                .iter()
                .any(|m| m.effective_class() == Class::Human),
            language_match: c.language_match,
            personal: judged(|q| &q.personal),
            templated: judged(|q| &q.templated),
            specific: judged(|q| &q.specific),
            asks_back: judged(|q| &q.asks_back),
            answered_on_first_reply: c.answered_on_first_reply,
            rounds_to_resolution: c.rounds_to_resolution,
            time_to_resolution_secs: c.time_to_resolution.map(|d| d.as_secs()),
            vendor_follow_ups: c.vendor_follow_ups,
        }
    }

    /// Acknowledged and never answered by a person (not even after the
    /// answer deadline): the ack-only rate's event.
    pub fn ack_only(&self) -> bool {
        self.first_ack_at.is_some() && !self.replied
    }

    /// The first reply's traits in a fixed order: language match,
    /// personal, templated, specific, asks back, answered on first reply
    /// (the store's encoding reads and writes them so).
    pub fn first_reply_traits(&self) -> [Option<bool>; 6] {
        [
            self.language_match,
            self.personal,
            self.templated,
            self.specific,
            self.asks_back,
            self.answered_on_first_reply,
        ]
    }

    /// Sets the traits [`ReadingRow::first_reply_traits`] returns.
    pub fn set_first_reply_traits(&mut self, v: [Option<bool>; 6]) {
        [
            self.language_match,
            self.personal,
            self.templated,
            self.specific,
            self.asks_back,
            self.answered_on_first_reply,
        ] = v;
    }

    /// The instant the probe belongs to a period by: when it was filed, or
    /// was due for those never filed.
    pub fn anchor(&self) -> Timestamp {
        self.filed_at.unwrap_or(self.due_at)
    }

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
}

impl ProbeRecord {
    /// The messages this probe's reading rests on: every message up to the
    /// first human reply (that reply, and the acknowledgements and other
    /// machine mail before it, whose classes kept the clock running), or,
    /// without a human reply, every message up to the answer deadline (their
    /// classes are why it is still waiting, unanswered or undeliverable).
    /// Empty for probes that enter no reading (never filed, skipped).
    pub fn deciding_messages(&self) -> impl Iterator<Item = &MessageRecord> {
        let counts = matches!(
            self.state,
            ProbeState::Filed
                | ProbeState::Answered
                | ProbeState::Unanswered
                | ProbeState::Undeliverable
        );
        let until = self.first_human_at.or_else(|| self.answer_deadline());
        self.messages
            .iter()
            .filter(move |m| counts && until.is_none_or(|u| m.at <= u))
    }

    /// Whether the reading rests on a message whose class is `unsure` (and
    /// no person has relabelled or confirmed it): if that class is wrong, so
    /// is the reading. Shown by `probe show`, `status`, `report` and the
    /// digest; `probe review` lists the messages.
    pub fn rests_on_unsure(&self) -> bool {
        self.deciding_messages()
            .any(|m| m.effective_confidence() == Confidence::Unsure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MatchedBy, Relabel, TimeSource};

    fn probe() -> ProbeRecord {
        let at: Timestamp = "2026-11-02T02:00:00Z".parse().unwrap();
        ProbeRecord {
            origin: crate::model::Origin::Manual,
            state: ProbeState::Filed,
            filing_started_at: Some(at),
            filed_at: Some(at),
            filed_time_source: Some(TimeSource::SmtpAccept),
            ..crate::model::tests::record(at)
        }
    }

    fn msg(key: &str, at: &str, class: Class, confidence: Confidence) -> MessageRecord {
        MessageRecord {
            key: key.into(),
            message_id: None,
            at: at.parse().unwrap(),
            time_source: TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: None,
            subject: None,
            class,
            confidence,
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

    #[test]
    fn a_reading_rests_on_the_messages_that_decided_it() {
        // An unsure human reply answers the probe: the reading rests on it.
        let mut p = probe();
        p.messages.push(msg(
            "h",
            "2026-11-02T02:10:00Z",
            Class::Human,
            Confidence::Unsure,
        ));
        p.recompute();
        assert!(p.rests_on_unsure());
        assert!(ReadingRow::of(&p).unsure);
        // A person's confirmation makes it certain.
        p.messages[0].relabel = Some(Relabel {
            class: Class::Human,
            at: "2026-11-03T00:00:00Z".parse().unwrap(),
        });
        assert!(!p.rests_on_unsure());

        // Waiting because of an unsure ack: if it was a person, the probe
        // was answered.
        let mut p = probe();
        p.messages.push(msg(
            "a",
            "2026-11-02T02:01:00Z",
            Class::Ack,
            Confidence::Unsure,
        ));
        p.recompute();
        assert_eq!(p.state, ProbeState::Filed);
        assert!(p.rests_on_unsure());

        // An unsure message after the sure first human reply decides nothing.
        let mut p = probe();
        p.messages.push(msg(
            "h",
            "2026-11-02T02:10:00Z",
            Class::Human,
            Confidence::Likely,
        ));
        p.messages.push(msg(
            "x",
            "2026-11-02T02:20:00Z",
            Class::Automated,
            Confidence::Unsure,
        ));
        p.recompute();
        assert!(!p.rests_on_unsure());

        // Nor does one after the answer deadline, on an unanswered probe.
        let mut p = probe();
        p.censored_at = p.answer_deadline();
        p.state = ProbeState::Unanswered;
        p.messages.push(msg(
            "late",
            "2026-11-02T03:30:00Z",
            Class::Ack,
            Confidence::Unsure,
        ));
        p.recompute();
        assert!(!p.rests_on_unsure());
    }
}
