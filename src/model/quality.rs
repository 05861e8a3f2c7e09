//! What a human reply is, beyond its class, and what a conversation did:
//! the evidence behind the scorecard (language, personal, templated,
//! specific, asks back, answered), our follow-up rounds and the ticket's
//! resolution.
//!
//! These are recorded facts, each with the rule that decided it, so a
//! person can read why and correct it (`probe relabel`). The figures a
//! report shows per vendor are derived from them in one place
//! ([`ProbeRecord::conversation`]).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Class, MessageRecord, ProbeRecord, ProbeState, TimeSource};

/// One judged trait of a human reply, with the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trait {
    /// Whether the reply has the trait.
    pub value: bool,
    /// The rule that decided, in words (e.g. `greets "Li Wei" by name`).
    pub rule: String,
    /// A person set `value` (`probe relabel`); the judged value is in `rule`.
    #[serde(default)]
    pub corrected: bool,
}

impl Trait {
    /// A judged trait.
    pub fn judged(value: bool, rule: impl Into<String>) -> Trait {
        Trait {
            value,
            rule: rule.into(),
            corrected: false,
        }
    }
}

/// The language a reply's new text is written in, as a detector saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectedLanguage {
    /// A BCP 47 tag (`zh`, `ja`, `es`, ...): the primary language subtag,
    /// plus the script's region where the text itself tells it (`zh-TW` for
    /// traditional characters).
    pub tag: String,
    /// How sure the detector was, 0–100.
    pub confidence: u8,
}

/// The evidence recorded on a human reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quality {
    /// The language of the new text (quoted history and signature removed);
    /// none when the text is too short to tell.
    pub language: Option<DetectedLanguage>,
    /// Words in the new text.
    pub new_words: u32,
    /// Addresses the persona by name and is signed by a person.
    pub personal: Option<Trait>,
    /// Near-identical to this vendor's human replies to other probes.
    pub templated: Option<Trait>,
    /// Mentions the probe's `{detail}`; none when the probe has no detail.
    pub specific: Option<Trait>,
    /// Asks us questions instead of answering.
    pub asks_back: Option<Trait>,
    /// Contains what the probe's `expect` says a right answer contains;
    /// none when the probe has no `expect`.
    pub answers: Option<Trait>,
    /// The MinHash signature of the new text's shingles, for the templated
    /// rule on later replies; empty when the text is too short.
    pub signature: Vec<u32>,
}

impl Quality {
    /// The trait named `name` (`personal`, `templated`, `specific`,
    /// `asks-back`, `answers`), for `probe relabel`.
    pub fn trait_mut(&mut self, name: &str) -> Option<&mut Option<Trait>> {
        match name {
            "personal" => Some(&mut self.personal),
            "templated" => Some(&mut self.templated),
            "specific" => Some(&mut self.specific),
            "asks-back" => Some(&mut self.asks_back),
            "answers" => Some(&mut self.answers),
            _ => None,
        }
    }

    /// The trait names [`Quality::trait_mut`] knows.
    pub const TRAITS: [&'static str; 5] =
        ["personal", "templated", "specific", "asks-back", "answers"];
}

/// Where one of our follow-up messages stands: the same at-most-once states
/// as filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundState {
    /// Due at `due_at`; not sent.
    Planned,
    /// The send started; if we crash now we cannot know whether it went out,
    /// and it is never sent again.
    Sending,
    /// The vendor's side accepted it.
    Sent,
    /// We could not send it (our side or a refusal); never retried.
    Failed,
    /// Not sent on purpose (cap reached, the probe was over).
    Skipped,
    /// The send's outcome is unknown; never re-sent.
    Uncertain,
}

/// One of our follow-up messages in a probe's conversation (round 1 is the
/// first follow-up; round 0 is the probe itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// 1-based position in the probe's `follow-ups`.
    pub index: u32,
    pub state: RoundState,
    /// When it is to be sent.
    pub due_at: Timestamp,
    /// When the vendor's side accepted it: this round's clock starts here.
    pub sent_at: Option<Timestamp>,
    pub sent_time_source: Option<TimeSource>,
    /// Our `Message-ID` (email), without angle brackets.
    pub message_id: Option<String>,
    /// Why it is in this state, in words.
    pub reason: Option<String>,
    /// When the send began (what the caps count, and how recovery tells a
    /// send cut short by a crash).
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    /// For a sent round without a human reply by its deadline: the instant
    /// the observation was censored (the conversation ends there).
    #[serde(default)]
    pub censored_at: Option<Timestamp>,
    /// The closing courtesy message: sent once at the end, awaits no reply.
    #[serde(default)]
    pub closing: bool,
}

impl Round {
    /// A round planned for `due_at`.
    pub fn planned(index: u32, due_at: Timestamp, closing: bool) -> Round {
        Round {
            index,
            state: RoundState::Planned,
            due_at,
            sent_at: None,
            sent_time_source: None,
            message_id: None,
            reason: None,
            started_at: None,
            censored_at: None,
            closing,
        }
    }
}

/// How a probe's ticket was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The vendor's own time of the solved/closed status or notice.
    pub at: Timestamp,
    pub time_source: TimeSource,
    /// What told us, e.g. `status solved (API)` or the notice's message key.
    pub by: String,
}

/// A probe's conversation in figures: what the scorecard counts. Derived
/// from the record by [`ProbeRecord::conversation`], never stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    /// The first human reply's evidence, if answered.
    pub first: Option<Quality>,
    /// Whether the first human reply answered the question (probes with
    /// `expect` that were answered).
    pub answered_on_first_reply: Option<bool>,
    /// The human reply that first answered (1-based among human replies),
    /// and the time from filing to it.
    pub answered_after: Option<(u32, SignedDuration)>,
    /// The first reply's language matched the probe's (probes with a
    /// `language` whose first reply's language was detected).
    pub language_match: Option<bool>,
    /// Human replies up to the resolution (resolved probes).
    pub rounds_to_resolution: Option<u32>,
    /// Filing to resolution.
    pub time_to_resolution: Option<SignedDuration>,
    /// Human messages from the vendor after our last message was answered
    /// and before we wrote again.
    pub vendor_follow_ups: u32,
    /// Per follow-up round that was sent and is settled: its time to the
    /// next human reply, `None` when unanswered by its deadline (censored).
    /// Rounds still awaiting a reply are not in the list.
    pub round_replies: Vec<Option<SignedDuration>>,
}

impl ProbeRecord {
    /// The human replies in arrival order (user corrections applied).
    pub fn human_replies(&self) -> Vec<&MessageRecord> {
        let mut h: Vec<&MessageRecord> = self
            .messages
            .iter()
            .filter(|m| m.effective_class() == Class::Human)
            .collect();
        h.sort_by_key(|m| m.at);
        h
    }

    /// Whether the conversation still needs the engine: a round to send or
    /// being sent, or a sent follow-up still awaiting its reply. Such a
    /// probe stays active (read, expired, sent to) after its first answer.
    pub fn conversation_open(&self) -> bool {
        self.rounds.iter().any(|r| match r.state {
            RoundState::Planned | RoundState::Sending => true,
            RoundState::Sent => {
                !r.closing
                    && r.censored_at.is_none()
                    && r.sent_at.is_some_and(|sent| {
                        !self.messages.iter().any(|m| {
                            m.effective_class() == Class::Human && answers_ours(m.at, sent)
                        })
                    })
            }
            _ => false,
        })
    }

    /// Whether the engine still looks out for the vendor resolving this
    /// probe's ticket through its API: answered, not yet resolved, filed
    /// through a ticket API, and its answer deadline not passed.
    pub fn awaits_resolution(&self) -> bool {
        self.state == ProbeState::Answered
            && self.resolution.is_none()
            && self.resolution_unseen_at.is_none()
            && self.channel != "email"
            && !self.vendor_refs.is_empty()
    }

    /// The instants we wrote to the vendor: filing, then each sent round.
    pub fn our_messages(&self) -> Vec<Timestamp> {
        let mut ours: Vec<Timestamp> = self.filed_at.into_iter().collect();
        ours.extend(
            self.rounds
                .iter()
                .filter(|r| r.state == RoundState::Sent)
                .filter_map(|r| r.sent_at),
        );
        ours.sort();
        ours
    }

    /// The figures of this probe's conversation.
    pub fn conversation(&self) -> Conversation {
        let humans = self.human_replies();
        let mut c = Conversation {
            first: humans.first().and_then(|m| m.quality.clone()),
            ..Conversation::default()
        };
        let Some(filed) = self.filed_at else {
            return c;
        };
        if !self.expect.is_empty() {
            let answers = |m: &MessageRecord| {
                m.quality
                    .as_ref()
                    .and_then(|q| q.answers.as_ref())
                    .is_some_and(|t| t.value)
            };
            if let Some(first) = humans.first() {
                c.answered_on_first_reply = Some(answers(first));
            }
            c.answered_after = humans.iter().position(|m| answers(m)).and_then(|i| {
                let n = u32::try_from(i + 1).ok()?;
                Some((n, humans[i].at.duration_since(filed)))
            });
        }
        if let (Some(want), Some(got)) = (
            self.language.as_deref(),
            c.first.as_ref().and_then(|q| q.language.as_ref()),
        ) {
            c.language_match = Some(same_language(want, &got.tag));
        }
        if let Some(res) = &self.resolution {
            let n = humans.iter().filter(|m| m.at <= res.at).count();
            c.rounds_to_resolution = u32::try_from(n).ok();
            c.time_to_resolution = Some(res.at.duration_since(filed));
        }
        let ours = self.our_messages();
        // A human message is a vendor follow-up when our latest message
        // before it was already answered by an earlier human message.
        for (i, m) in humans.iter().enumerate() {
            let Some(last_ours) = ours.iter().rev().find(|t| answers_ours(m.at, **t)) else {
                continue;
            };
            if humans[..i].iter().any(|h| answers_ours(h.at, *last_ours)) {
                c.vendor_follow_ups += 1;
            }
        }
        for r in self
            .rounds
            .iter()
            .filter(|r| r.state == RoundState::Sent && !r.closing)
        {
            let Some(sent) = r.sent_at else { continue };
            match humans.iter().find(|m| answers_ours(m.at, sent)) {
                Some(reply) => c.round_replies.push(Some(reply.at.duration_since(sent))),
                // Censored; a round still awaiting its reply is left out.
                None if r.censored_at.is_some() => c.round_replies.push(None),
                None => {}
            }
        }
        c
    }
}

/// Whether a vendor message stamped `reply` came after our message sent at
/// `ours`. Servers stamp mail to the second (IMAP INTERNALDATE), our send
/// time is exact: a reply in the same second as our message counts as after
/// it.
pub fn answers_ours(reply: Timestamp, ours: Timestamp) -> bool {
    reply + SignedDuration::from_secs(1) > ours
}

/// Whether a detected language tag matches the wanted one: the primary
/// subtags agree, and where both name a Chinese script region they agree
/// too (a `zh-TW` probe answered in simplified characters does not match).
pub fn same_language(want: &str, got: &str) -> bool {
    let split = |t: &str| {
        let mut parts = t.split(['-', '_']);
        let primary = parts.next().unwrap_or_default().to_ascii_lowercase();
        let region = parts.next().map(str::to_ascii_uppercase);
        (primary, region)
    };
    let (wp, wr) = split(want);
    let (gp, gr) = split(got);
    if wp != gp {
        return false;
    }
    if wp == "zh" {
        let traditional = |r: &Option<String>| matches!(r.as_deref(), Some("TW" | "HK" | "MO"));
        if let (Some(_), Some(_)) = (&wr, &gr) {
            return traditional(&wr) == traditional(&gr);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{filed_probe, msg};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn with_quality(mut m: MessageRecord, answers: bool, lang: &str) -> MessageRecord {
        m.quality = Some(Quality {
            language: Some(DetectedLanguage {
                tag: lang.into(),
                confidence: 90,
            }),
            answers: Some(Trait::judged(answers, "test")),
            ..Quality::default()
        });
        m
    }

    #[test]
    fn the_conversation_counts_answers_rounds_follow_ups_and_resolution() {
        let mut p = filed_probe();
        p.expect = vec!["status".into()];
        p.language = Some("zh-CN".into());
        p.messages.push(with_quality(
            msg("h1", "2026-11-02T02:20:00Z", Class::Human),
            false,
            "en",
        ));
        // The vendor writes again before we did: a proactive follow-up.
        p.messages.push(with_quality(
            msg("h2", "2026-11-02T02:40:00Z", Class::Human),
            true,
            "en",
        ));
        p.recompute();
        p.resolution = Some(Resolution {
            at: ts("2026-11-02T03:00:00Z"),
            time_source: TimeSource::ImapInternaldate,
            by: "notice".into(),
        });
        let c = p.conversation();
        assert_eq!(c.answered_on_first_reply, Some(false));
        assert_eq!(c.answered_after, Some((2, SignedDuration::from_mins(40))));
        assert_eq!(c.language_match, Some(false));
        assert_eq!(c.rounds_to_resolution, Some(2));
        assert_eq!(c.time_to_resolution, Some(SignedDuration::from_hours(1)));
        assert_eq!(c.vendor_follow_ups, 1);
        assert!(c.round_replies.is_empty());
    }

    #[test]
    fn without_expect_or_language_those_figures_are_not_measured() {
        let mut p = filed_probe();
        p.messages.push(with_quality(
            msg("h1", "2026-11-02T02:20:00Z", Class::Human),
            true,
            "en",
        ));
        p.recompute();
        let c = p.conversation();
        assert_eq!(c.answered_on_first_reply, None);
        assert_eq!(c.answered_after, None);
        assert_eq!(c.language_match, None);
        assert_eq!(c.vendor_follow_ups, 0);
    }

    #[test]
    fn languages_match_on_the_primary_subtag_and_the_chinese_script() {
        assert!(same_language("zh-CN", "zh"));
        assert!(same_language("zh-CN", "zh-CN"));
        assert!(same_language("zh-SG", "zh-CN"));
        assert!(!same_language("zh-TW", "zh-CN"));
        assert!(same_language("es-MX", "es"));
        assert!(!same_language("ja", "zh"));
        assert!(same_language("EN", "en"));
    }
}
