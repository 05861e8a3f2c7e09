//! The reading row: the few fields of a probe that reports and the digest
//! read, kept apart from the full record so a report over a million probes
//! does not decode a million JSON records with all their messages.
//!
//! A row is a pure function of its [`ProbeRecord`] ([`ReadingRow::of`]);
//! the store writes it in the same transaction as the record, so the two
//! never disagree. Text that repeats on every row (vendor, probe, persona,
//! channel) is shared ([`Arc<str>`]): the store's decoder interns it.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::{ProbeId, ProbeRecord, ProbeState, Window};

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
}

impl ReadingRow {
    /// The row of a record.
    pub fn of(p: &ProbeRecord) -> ReadingRow {
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
        }
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
