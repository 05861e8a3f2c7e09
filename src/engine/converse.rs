//! Conversations: the follow-ups a probe sends after a human reply, the
//! closing message, and each round's deadline.
//!
//! A probe with `follow-ups` goes on after its first human reply: once the
//! vendor has answered our latest message, round *k* is planned `after` that
//! reply (`Round::planned`), and sent when due in the same thread (email:
//! `In-Reply-To` the vendor's reply, `References` the thread, the vendor's
//! subject with its ticket tag; ticket APIs: a comment on the ticket). The
//! conversation ends when every round was answered, when a round goes
//! unanswered past the probe's `answer-within` (censored, like a first
//! reply), or when a round could not be sent; then the `closing-message`,
//! if any, is sent once.
//!
//! At-most-once, as for filing: a round leaves `planned` only once, in the
//! transaction that checks the caps and marks it `sending`
//! ([`crate::store::WriteTx::begin_round`]); it is never retried, and a
//! round found `sending` by a later process is `uncertain`, never re-sent.
//! Rounds count against the vendor's caps like filings. The probe's first
//! reading (time to first human reply) never changes because of a round.

use jiff::{SignedDuration, Timestamp};

use super::{Engine, EngineError, FILING_STALE_AFTER};
use crate::channel::{FileOutcome, FollowUp};
use crate::model::{Class, ProbeId, ProbeRecord, ProbeState, Round, RoundState, answers_ours};
use crate::store::{BeginRound, WriteTx};

/// What happened to one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundReport {
    pub probe: ProbeId,
    pub index: u32,
    pub state: RoundState,
    pub reason: Option<String>,
}

/// Plans the next round of `rec`'s conversation, if one is due to be
/// planned: `follow_ups` are the waits of the probe's configured rounds
/// (after the vendor's reply), `closing` whether it has a closing message.
/// Returns whether `rec` changed.
pub fn plan_next_round(
    rec: &mut ProbeRecord,
    follow_ups: &[SignedDuration],
    closing: bool,
) -> bool {
    if rec.state != ProbeState::Answered || rec.rounds.iter().any(|r| r.closing) {
        return false;
    }
    // Anything not settled as sent ends (or holds) the conversation.
    if rec.rounds.iter().any(|r| r.state != RoundState::Sent) {
        return false;
    }
    let Some(last_ours) = rec.our_messages().last().copied() else {
        return false;
    };
    let reply = rec
        .messages
        .iter()
        .filter(|m| m.effective_class() == Class::Human && answers_ours(m.at, last_ours))
        .map(|m| m.at)
        .min();
    let censored = rec.rounds.last().is_some_and(|r| r.censored_at.is_some());
    let index = u32::try_from(rec.rounds.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let (due, is_closing) = match reply {
        Some(at) => match follow_ups.get(rec.rounds.len()) {
            Some(after) => (at.checked_add(*after).unwrap_or(at), false),
            None if closing => (at, true),
            None => return false,
        },
        None if censored && closing => {
            let at = rec
                .rounds
                .last()
                .and_then(|r| r.censored_at)
                .unwrap_or(last_ours);
            (at, true)
        }
        None => return false,
    };
    rec.rounds.push(Round::planned(index, due, is_closing));
    true
}

impl Engine {
    /// The configured follow-up waits and whether there is a closing
    /// message, for `rec`'s probe (none if it left the config).
    fn conversation_plan(&self, rec: &ProbeRecord) -> (Vec<SignedDuration>, bool) {
        let Some(probe) = self.config.probe(&rec.probe) else {
            return (Vec::new(), false);
        };
        let waits = probe
            .follow_ups
            .iter()
            .map(|f| SignedDuration::try_from(f.after).unwrap_or(SignedDuration::MAX))
            .collect();
        (waits, probe.closing_message.is_some())
    }

    /// Plans `rec`'s next round if its conversation calls for one.
    pub(crate) fn plan_round(&self, rec: &mut ProbeRecord) -> bool {
        let (waits, closing) = self.conversation_plan(rec);
        plan_next_round(rec, &waits, closing)
    }

    /// Sends every round that is due, oldest first.
    pub async fn converse_due(&self) -> Result<Vec<RoundReport>, EngineError> {
        let now = self.clock.now();
        let mut due: Vec<(Timestamp, ProbeId, u32)> = self
            .store
            .active()?
            .into_iter()
            .flat_map(|p| {
                p.rounds
                    .iter()
                    .filter(|r| r.state == RoundState::Planned && r.due_at <= now)
                    .map(|r| (r.due_at, p.id.clone(), r.index))
                    .collect::<Vec<_>>()
            })
            .collect();
        due.sort();
        let mut out = Vec::new();
        for (_, id, index) in due {
            if self.shutdown.is_cancelled() {
                break;
            }
            out.push(self.send_round(&id, index).await?);
        }
        Ok(out)
    }

    /// The earliest due time of a planned round, if any.
    pub(crate) fn next_round_due(&self) -> Result<Option<Timestamp>, EngineError> {
        Ok(self
            .store
            .active()?
            .iter()
            .flat_map(|p| p.rounds.iter())
            .filter(|r| r.state == RoundState::Planned)
            .map(|r| r.due_at)
            .min())
    }

    /// Sends round `index` of probe `id`, at most once.
    async fn send_round(&self, id: &ProbeId, index: u32) -> Result<RoundReport, EngineError> {
        let now = self.clock.now();
        let rec = self
            .store
            .get(id)?
            .ok_or_else(|| EngineError::UnknownProbe(id.clone()))?;
        let prepared = self.follow_up_message(&rec, index, now);
        let (message, caps, refuse) = match prepared {
            Ok((m, c)) => (Some(m), c, None),
            Err(reason) => (
                None,
                crate::store::Caps {
                    per_day: 0,
                    per_week: 0,
                    global_per_hour: None,
                },
                Some(format!("not sent: {reason}")),
            ),
        };
        let refuse = refuse.or_else(|| {
            (!self.config.enabled)
                .then(|| "not sent: support-probe is disabled (enabled = false)".to_string())
        });
        let mid = message.as_ref().map(|m| m.message.message_id.clone());
        let begun = self.store.write(|tx| -> Result<BeginRound, EngineError> {
            let b = tx.begin_round(id, index, now, caps, refuse)?;
            if let (BeginRound::Proceed(r), Some(mid)) = (&b, &mid) {
                let mut r = (**r).clone();
                if let Some(round) = r.rounds.iter_mut().find(|x| x.index == index) {
                    round.message_id = Some(mid.clone());
                }
                tx.put(&r)?;
            }
            Ok(b)
        })?;
        let message = match (begun, message) {
            (BeginRound::Proceed(_), Some(m)) => m,
            (BeginRound::Refused(reason), _) => {
                tracing::warn!(probe = %id, round = index, %reason, "follow-up not sent");
                return Ok(RoundReport {
                    probe: id.clone(),
                    index,
                    state: RoundState::Skipped,
                    reason: Some(reason),
                });
            }
            (BeginRound::NotPlanned, _) | (BeginRound::Proceed(_), None) => {
                return Ok(RoundReport {
                    probe: id.clone(),
                    index,
                    state: RoundState::Skipped,
                    reason: Some("not planned any more".into()),
                });
            }
        };
        tracing::info!(probe = %id, round = index, "sending a follow-up");
        let channel = std::sync::Arc::clone(self.channel(&rec.persona)?);
        let outcome = channel.follow_up(&message).await;
        let (state, reason) = match &outcome {
            FileOutcome::Accepted { .. } => (RoundState::Sent, None),
            FileOutcome::Unknown { reason } => (RoundState::Uncertain, Some(reason.clone())),
            FileOutcome::Rejected { reason, .. } => (RoundState::Failed, Some(reason.clone())),
        };
        self.store.write(|tx| {
            tx.update(id, |r| {
                if let Some(round) = r.rounds.iter_mut().find(|x| x.index == index) {
                    round.state = state;
                    round.reason = reason.clone();
                    if let FileOutcome::Accepted { at, source, .. } = &outcome {
                        round.sent_at = Some(*at);
                        round.sent_time_source = Some(*source);
                    }
                }
            })
        })?;
        tracing::info!(probe = %id, round = index, state = ?state, "follow-up ended");
        Ok(RoundReport {
            probe: id.clone(),
            index,
            state,
            reason,
        })
    }

    /// The message of round `index` of `rec`: its body from the config, in
    /// the thread of the vendor's latest message.
    fn follow_up_message(
        &self,
        rec: &ProbeRecord,
        index: u32,
        now: Timestamp,
    ) -> Result<(FollowUp, crate::store::Caps), String> {
        let probe = self
            .config
            .probe(&rec.probe)
            .ok_or_else(|| format!("probe {:?} is not in the config", rec.probe))?;
        let round = rec
            .rounds
            .iter()
            .find(|r| r.index == index)
            .ok_or_else(|| format!("round {index} is not planned"))?;
        let template = if round.closing {
            probe
                .closing_message
                .clone()
                .ok_or_else(|| "the probe has no closing-message any more".to_string())?
        } else {
            let k = usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX);
            probe
                .follow_ups
                .get(k)
                .map(|f| f.body.clone())
                .ok_or_else(|| format!("follow-up {index} is not in the config any more"))?
        };
        // The closing message is sent as written; follow-ups are templates.
        let body = if round.closing {
            template
        } else {
            super::file::render_for(&self.config, rec, now, &template)?
        };
        let mut vendor_msgs: Vec<_> = rec
            .messages
            .iter()
            .filter(|m| !matches!(m.effective_class(), Class::Bounce | Class::Delay))
            .collect();
        vendor_msgs.sort_by_key(|m| m.at);
        let last = vendor_msgs.last();
        // The vendor's subject carries its ticket tag (`[#123]`); keep it.
        let base = last
            .and_then(|m| m.subject.clone())
            .or_else(|| rec.subject.clone())
            .unwrap_or_default();
        let subject = if base.to_ascii_lowercase().starts_with("re:") {
            base
        } else {
            format!("Re: {base}")
        };
        let mut references: Vec<String> = rec.message_id.iter().cloned().collect();
        let mut thread: Vec<(Timestamp, String)> = vendor_msgs
            .iter()
            .filter_map(|m| Some((m.at, m.message_id.clone()?)))
            .collect();
        thread.extend(
            rec.rounds
                .iter()
                .filter_map(|r| Some((r.sent_at?, r.message_id.clone()?))),
        );
        thread.sort();
        references.extend(thread.into_iter().map(|(_, id)| id));
        references.dedup();
        let (message, caps) = super::file::message(&self.config, rec, subject, body)?;
        Ok((
            FollowUp {
                message,
                in_reply_to: last.and_then(|m| m.message_id.clone()),
                references,
                ticket: rec.vendor_refs.first().cloned(),
            },
            caps,
        ))
    }
}

/// Censors `rec`'s sent rounds whose reply deadline (sent + the probe's
/// answer window) has passed, once the channel was read that far; then
/// plans the closing message if that ended the conversation. Returns
/// whether `rec` changed; the caller stores it.
pub(crate) fn close_rounds_if_due(
    tx: &WriteTx<'_>,
    rec: &mut ProbeRecord,
    now: Timestamp,
) -> Result<bool, crate::store::StoreError> {
    let within =
        SignedDuration::from_secs(i64::try_from(rec.answer_within_secs).unwrap_or(i64::MAX));
    let caught_up = match &rec.watch_key {
        Some(key) => tx.cursor(key)?.map(|c| c.caught_up_at),
        None => None,
    };
    let humans: Vec<Timestamp> = rec.human_replies().iter().map(|m| m.at).collect();
    let mut changed = false;
    for r in rec.rounds.iter_mut() {
        if r.state != RoundState::Sent || r.closing || r.censored_at.is_some() {
            continue;
        }
        let Some(sent) = r.sent_at else { continue };
        if humans.iter().any(|h| answers_ours(*h, sent)) {
            continue;
        }
        let Ok(deadline) = sent.checked_add(within) else {
            continue;
        };
        if deadline <= now && caught_up.is_some_and(|c| c >= deadline) {
            r.censored_at = Some(deadline);
            changed = true;
        }
    }
    Ok(changed)
}

/// Rounds left `sending` by a process that stopped: uncertain, never re-sent.
pub(crate) fn recover_rounds(rec: &mut ProbeRecord, now: Timestamp) -> bool {
    let mut changed = false;
    for r in rec.rounds.iter_mut() {
        if r.state == RoundState::Sending
            && r.started_at
                .is_none_or(|t| now.duration_since(t) >= FILING_STALE_AFTER)
        {
            r.state = RoundState::Uncertain;
            r.reason = Some(
                "the process stopped during the send; the vendor may or may not have it; \
                 never sent again"
                    .into(),
            );
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{filed_probe, msg};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn answered() -> ProbeRecord {
        let mut p = filed_probe();
        p.messages
            .push(msg("ack", "2026-11-02T02:00:05Z", Class::Ack));
        p.messages
            .push(msg("h1", "2026-11-02T02:30:00Z", Class::Human));
        p.recompute();
        p
    }

    fn send(p: &mut ProbeRecord, at: &str) {
        let r = p.rounds.last_mut().unwrap();
        r.state = RoundState::Sent;
        r.started_at = Some(ts(at));
        r.sent_at = Some(ts(at));
    }

    const WAITS: [SignedDuration; 2] =
        [SignedDuration::from_mins(15), SignedDuration::from_mins(15)];

    #[test]
    fn each_round_is_planned_only_after_the_vendor_answered_the_last_one() {
        let mut p = answered();
        assert!(plan_next_round(&mut p, &WAITS, true));
        assert_eq!(p.rounds.len(), 1);
        assert_eq!(p.rounds[0].due_at, ts("2026-11-02T02:45:00Z"));
        assert!(!p.rounds[0].closing);
        // Planned (or sending): nothing more is planned.
        assert!(!plan_next_round(&mut p, &WAITS, true));
        send(&mut p, "2026-11-02T02:45:00Z");
        // Sent, not answered yet: still nothing, and the probe stays open.
        assert!(!plan_next_round(&mut p, &WAITS, true));
        assert!(p.conversation_open());
        p.messages
            .push(msg("h2", "2026-11-02T03:10:00Z", Class::Human));
        p.recompute();
        assert!(!p.conversation_open());
        assert!(plan_next_round(&mut p, &WAITS, true));
        assert_eq!(p.rounds[1].index, 2);
        assert_eq!(p.rounds[1].due_at, ts("2026-11-02T03:25:00Z"));
        send(&mut p, "2026-11-02T03:25:00Z");
        p.messages
            .push(msg("h3", "2026-11-02T04:00:00Z", Class::Human));
        p.recompute();
        // Both follow-ups answered: the closing message, due at once.
        assert!(plan_next_round(&mut p, &WAITS, true));
        assert!(p.rounds[2].closing);
        assert_eq!(p.rounds[2].due_at, ts("2026-11-02T04:00:00Z"));
        send(&mut p, "2026-11-02T04:00:00Z");
        assert!(
            !p.conversation_open(),
            "the closing message awaits no reply"
        );
        assert!(
            !plan_next_round(&mut p, &WAITS, true),
            "nothing after closing"
        );
        let c = p.conversation();
        assert_eq!(
            c.round_replies,
            vec![
                Some(SignedDuration::from_mins(25)),
                Some(SignedDuration::from_mins(35))
            ]
        );
        assert_eq!(c.vendor_follow_ups, 0);
    }

    #[test]
    fn a_failed_or_skipped_round_ends_the_conversation_and_machine_mail_answers_nothing() {
        let mut p = answered();
        plan_next_round(&mut p, &WAITS, true);
        send(&mut p, "2026-11-02T02:45:00Z");
        // An out-of-office is not an answer to our follow-up.
        p.messages
            .push(msg("ooo", "2026-11-02T02:46:00Z", Class::OutOfOffice));
        p.recompute();
        assert!(!plan_next_round(&mut p, &WAITS, true));
        p.messages
            .push(msg("h2", "2026-11-02T03:00:00Z", Class::Human));
        p.recompute();
        assert!(plan_next_round(&mut p, &WAITS, false));
        p.rounds[1].state = RoundState::Skipped;
        assert!(!plan_next_round(&mut p, &WAITS, true), "skipped ends it");
        assert!(!p.conversation_open());
    }

    #[test]
    fn an_unanswered_round_is_censored_at_its_deadline_then_closed() {
        let mut p = answered();
        plan_next_round(&mut p, &WAITS, true);
        send(&mut p, "2026-11-02T02:45:00Z");
        p.rounds[0].censored_at = Some(ts("2026-11-02T03:45:00Z"));
        assert!(!p.conversation_open());
        assert!(plan_next_round(&mut p, &WAITS, true));
        assert!(p.rounds[1].closing);
        assert_eq!(p.rounds[1].due_at, ts("2026-11-02T03:45:00Z"));
        assert_eq!(p.conversation().round_replies, vec![None]);
    }

    #[test]
    fn an_unanswered_probe_has_no_conversation() {
        let mut p = filed_probe();
        assert!(!plan_next_round(&mut p, &WAITS, true));
        assert!(p.rounds.is_empty());
    }

    #[test]
    fn a_round_left_sending_becomes_uncertain_once_stale() {
        let mut p = answered();
        plan_next_round(&mut p, &WAITS, false);
        p.rounds[0].state = RoundState::Sending;
        p.rounds[0].started_at = Some(ts("2026-11-02T02:45:00Z"));
        assert!(!recover_rounds(&mut p, ts("2026-11-02T02:50:00Z")));
        assert!(recover_rounds(&mut p, ts("2026-11-02T03:05:00Z")));
        assert_eq!(p.rounds[0].state, RoundState::Uncertain);
        assert!(!plan_next_round(&mut p, &WAITS, true), "never re-sent");
    }
}
