//! Filing: at most once, within the caps, never blaming the vendor for our
//! own outage.
//!
//! 1. In one store transaction: check `enabled`, lateness and the vendor's
//!    caps, and mark the probe `filing` with its subject, Message-ID and
//!    recipients. From here on the probe can never be sent by another pass.
//! 2. Send it. A definite failure of ours (connection refused, TLS, AUTH,
//!    4xx) is retried with jittered backoff inside `filing-retry-window`
//!    (an open circuit breaker answers at once, see `guard`); then the
//!    probe is `not-filed` with the reason, which the readings exclude.
//! 3. Accepted: `filed`, `filed_at` = the server's acceptance. Unknown
//!    (the connection died after the data): `uncertain`, never re-sent.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::{Engine, EngineError};
use crate::channel::{FileOutcome, Outgoing};
use crate::config::TokenIn;
use crate::config::{TemplateVars, render};
use crate::model::{Attempt, Origin, ProbeId, ProbeRecord, ProbeState};
use crate::store::{BeginFiling, Caps};

/// The outcome recorded for an attempt while it is under way.
pub(crate) const SENDING: &str = "sending";
/// The prefix of an attempt that failed for certain and will be retried.
pub(crate) const WILL_RETRY: &str = "failed, will retry";

/// The end of one filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub id: ProbeId,
    pub state: ProbeState,
    pub reason: Option<String>,
}

impl Engine {
    /// Files every planned probe that is due.
    pub async fn file_due(&self) -> Result<Vec<FileReport>, EngineError> {
        let now = self.clock.now();
        let mut due: Vec<ProbeRecord> = self
            .store
            .active()?
            .into_iter()
            .filter(|p| p.state == ProbeState::Planned && p.due_at <= now)
            .collect();
        // Oldest due first; ties in a stable order, not by the random part of the id.
        due.sort_by(|a, b| (a.due_at, &a.probe, &a.zone).cmp(&(b.due_at, &b.probe, &b.zone)));
        let due: Vec<ProbeId> = due.into_iter().map(|p| p.id).collect();
        let mut out = Vec::new();
        for id in due {
            if self.shutdown.is_cancelled() {
                // Stopping: what is not begun stays planned for the next start.
                break;
            }
            out.push(self.file_one(&id).await?);
        }
        Ok(out)
    }

    /// The earliest due time of a planned probe or follow-up, if any.
    pub fn next_due(&self) -> Result<Option<Timestamp>, EngineError> {
        let probe = self
            .store
            .active()?
            .into_iter()
            .filter(|p| p.state == ProbeState::Planned)
            .map(|p| p.due_at)
            .min();
        let round = self.next_round_due()?;
        Ok(match (probe, round) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Creates a probe now for `probe` (as `probe run` does) and files it.
    pub async fn run_now(&self, probe: &str) -> Result<FileReport, EngineError> {
        let cfg = self
            .config
            .probe(probe)
            .ok_or_else(|| EngineError::Invalid(format!("no probe named {probe:?}")))?;
        let zone = cfg
            .zones
            .first()
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| "UTC".to_string());
        let now = self.clock.now();
        let mut rec = self.new_record(cfg, &zone, now, Origin::Manual, now)?;
        rec.due_at = now;
        self.store.write(|tx| tx.put(&rec))?;
        self.file_one(&rec.id).await
    }

    fn refusal(&self, rec: &ProbeRecord, now: Timestamp) -> Option<String> {
        if !self.config.enabled {
            return Some("not sent: support-probe is disabled (enabled = false)".into());
        }
        let Some(probe) = self.config.probe(&rec.probe) else {
            return Some(format!(
                "not sent: probe {:?} is no longer in the config",
                rec.probe
            ));
        };
        if !probe.enabled && rec.origin == Origin::Schedule {
            return Some(format!("not sent: probe {:?} is disabled", rec.probe));
        }
        let grace = SignedDuration::try_from(self.config.daemon.missed_grace).unwrap_or_default();
        if now.duration_since(rec.due_at) > grace {
            return Some(format!(
                "missed: due at {}, more than the missed-grace late (the daemon was not running)",
                rec.due_at
            ));
        }
        None
    }

    /// Files one planned probe; see the module doc.
    pub async fn file_one(&self, id: &ProbeId) -> Result<FileReport, EngineError> {
        let now = self.clock.now();
        let rec = self
            .store
            .get(id)?
            .ok_or_else(|| EngineError::UnknownProbe(id.clone()))?;
        let refuse = self.refusal(&rec, now);
        let (outgoing, caps, problem) = match self.outgoing(&rec, now) {
            Ok((o, c)) => (Some(o), c, None),
            Err(reason) => (
                None,
                Caps {
                    per_day: 0,
                    per_week: 0,
                    global_per_hour: None,
                },
                Some(format!("not sent: {reason}")),
            ),
        };
        let refuse = refuse.or(problem);
        let begun = self.store.write(|tx| -> Result<BeginFiling, EngineError> {
            let b = tx.begin_filing(id, now, caps, refuse)?;
            if let (BeginFiling::Proceed(r), Some(o)) = (&b, &outgoing) {
                let mut r = (**r).clone();
                r.subject = Some(o.subject.clone());
                r.message_id = Some(o.message_id.clone());
                r.recipients = o.to.clone();
                tx.put(&r)?;
            }
            Ok(b)
        })?;
        let outgoing = match (begun, outgoing) {
            (BeginFiling::Proceed(_), Some(o)) => o,
            (BeginFiling::Refused(reason), _) => {
                tracing::warn!(probe = %id, %reason, "probe not sent");
                return Ok(FileReport {
                    id: id.clone(),
                    state: ProbeState::Skipped,
                    reason: Some(reason),
                });
            }
            (BeginFiling::NotPlanned(state), _) => {
                return Ok(FileReport {
                    id: id.clone(),
                    state,
                    reason: Some(format!("not sent again: the probe is already {state}")),
                });
            }
            (BeginFiling::Proceed(_), None) => {
                return Err(EngineError::Invalid(
                    "filing began without a message".into(),
                ));
            }
        };
        tracing::info!(probe = %id, vendor = %rec.vendor, to = ?outgoing.to, "filing");
        let channel = std::sync::Arc::clone(self.channel(&rec.persona)?);
        let started = self.clock.now();
        let window =
            SignedDuration::try_from(self.config.daemon.filing_retry_window).unwrap_or_default();
        let mut backoff = super::Backoff::new(self.retry_pause, Duration::from_secs(120));
        loop {
            // Recorded before the send, so that recovery after a crash can
            // tell "died while sending" (uncertain) from "died between
            // failed attempts" (certainly not filed).
            let sending = Attempt {
                at: self.clock.now(),
                outcome: SENDING.to_string(),
            };
            self.store
                .write(|tx| tx.update(id, |r| r.attempts.push(sending)))?;
            let outcome = channel.file(&outgoing).await;
            let at = self.clock.now();
            let (state, reason, retry) = match &outcome {
                FileOutcome::Accepted { .. } => (ProbeState::Filed, None, false),
                FileOutcome::Unknown { reason } => {
                    (ProbeState::Uncertain, Some(reason.clone()), false)
                }
                FileOutcome::Rejected {
                    reason,
                    retryable,
                    retry_after,
                } => {
                    // A retry the vendor asked us to hold off past the
                    // window is not made: the probe is not filed.
                    let wait = retry_after
                        .and_then(|d| SignedDuration::try_from(d).ok())
                        .unwrap_or_default();
                    let retry = *retryable && at.duration_since(started) + wait < window;
                    (ProbeState::NotFiled, Some(reason.clone()), retry)
                }
            };
            let attempt = Attempt {
                at,
                outcome: match &outcome {
                    FileOutcome::Accepted { detail, .. } => format!("accepted: {detail}"),
                    FileOutcome::Unknown { reason } => format!("unknown: {reason}"),
                    FileOutcome::Rejected { reason, .. } if retry => {
                        format!("{WILL_RETRY}: {reason}")
                    }
                    FileOutcome::Rejected { reason, .. } => format!("failed: {reason}"),
                },
            };
            let calendar = self.config.vendor(&rec.vendor).map(|v| v.calendar.clone());
            self.store.write(|tx| {
                tx.update(id, |r| {
                    if r.attempts.last().is_some_and(|a| a.outcome == SENDING) {
                        r.attempts.pop();
                    }
                    r.attempts.push(attempt);
                    if retry {
                        return;
                    }
                    r.state = state;
                    r.state_reason = reason.clone();
                    if let FileOutcome::Accepted {
                        at,
                        source,
                        ticket_ref,
                        ..
                    } = &outcome
                    {
                        r.filed_at = Some(*at);
                        r.filed_time_source = Some(*source);
                        r.window = calendar.as_ref().map(|c| c.window_at(*at));
                        if let Some(t) = ticket_ref {
                            r.vendor_refs.push(t.clone());
                        }
                    }
                    // A fast reply may have been recorded while the probe was
                    // still `filing`: derive the state from it too.
                    r.recompute();
                })
            })?;
            if !retry {
                match state {
                    ProbeState::Filed => tracing::info!(probe = %id, "filed"),
                    _ => {
                        tracing::warn!(probe = %id, state = %state, reason = reason.as_deref().unwrap_or(""), "filing ended")
                    }
                }
                return Ok(FileReport {
                    id: id.clone(),
                    state,
                    reason,
                });
            }
            let pause = backoff.next(
                &mut self
                    .rng
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            // Never sooner than the vendor asked (HTTP 429 `Retry-After`).
            let pause = match &outcome {
                FileOutcome::Rejected {
                    retry_after: Some(wait),
                    ..
                } => pause.max(*wait),
                _ => pause,
            };
            tracing::warn!(probe = %id, reason = reason.as_deref().unwrap_or(""), retry_in_ms = pause.as_millis(), "send failed, retrying");
            let stopping = tokio::select! {
                _ = tokio::time::sleep(pause) => false,
                _ = self.shutdown.cancelled() => true,
            };
            if stopping {
                let reason = format!(
                    "stopped before a retry succeeded; last failure: {}",
                    reason.as_deref().unwrap_or("unknown")
                );
                self.store.write(|tx| {
                    tx.update(id, |r| {
                        r.state = ProbeState::NotFiled;
                        r.state_reason = Some(reason.clone());
                    })
                })?;
                return Ok(FileReport {
                    id: id.clone(),
                    state: ProbeState::NotFiled,
                    reason: Some(reason),
                });
            }
        }
    }

    /// The message for a probe and its vendor's caps.
    fn outgoing(&self, rec: &ProbeRecord, now: Timestamp) -> Result<(Outgoing, Caps), String> {
        compose(&self.config, rec, now)
    }
}

/// The message `rec` would be sent as at `now`, and its vendor's caps:
/// templates rendered, the token placed, a fresh Message-ID.
pub fn compose(
    config: &crate::config::Config,
    rec: &ProbeRecord,
    now: Timestamp,
) -> Result<(Outgoing, Caps), String> {
    let probe = config
        .probe(&rec.probe)
        .ok_or_else(|| format!("probe {:?} is not in the config", rec.probe))?;
    let mut subject = render_for(config, rec, now, &probe.subject)?;
    let mut body = render_for(config, rec, now, &probe.body)?;
    let in_subject = matches!(probe.token_in, TokenIn::Subject | TokenIn::Both);
    let in_body = matches!(probe.token_in, TokenIn::Body | TokenIn::Both);
    if in_subject && !subject.contains(&rec.token) {
        subject = format!("{subject} [{}]", rec.token);
    }
    if in_body && !body.contains(&rec.token) {
        body = format!("{body}\n\nReference: {}\n", rec.token);
    }
    message(config, rec, subject, body)
}

/// A message from the probe's persona to its vendor with a fresh
/// Message-ID, and the vendor's caps.
pub(crate) fn message(
    config: &crate::config::Config,
    rec: &ProbeRecord,
    subject: String,
    body: String,
) -> Result<(Outgoing, Caps), String> {
    let vendor = config
        .vendor(&rec.vendor)
        .ok_or_else(|| format!("vendor {:?} is not in the config", rec.vendor))?;
    let persona = config
        .persona(&rec.persona)
        .ok_or_else(|| format!("persona {:?} is not in the config", rec.persona))?;
    let domain = persona
        .address
        .rsplit_once('@')
        .map_or("support-probe.invalid", |(_, d)| d);
    let message_id = format!("{}.{:016x}@{domain}", rec.id, fastrand::u64(..));
    let caps = Caps {
        per_day: vendor.caps.per_day,
        per_week: vendor.caps.per_week,
        global_per_hour: config.daemon.max_filings_per_hour,
    };
    Ok((
        Outgoing {
            probe_id: rec.id.clone(),
            token: rec.token.clone(),
            message_id,
            from_name: persona.display_name.clone(),
            from_address: persona.address.clone(),
            to: vendor.addresses.clone(),
            subject,
            body,
        },
        caps,
    ))
}

/// `template` rendered for probe `rec` at `now` (see `config::template`).
pub(crate) fn render_for(
    config: &crate::config::Config,
    rec: &ProbeRecord,
    now: Timestamp,
    template: &str,
) -> Result<String, String> {
    let probe = config
        .probe(&rec.probe)
        .ok_or_else(|| format!("probe {:?} is not in the config", rec.probe))?;
    let persona = config
        .persona(&rec.persona)
        .ok_or_else(|| format!("persona {:?} is not in the config", rec.persona))?;
    let tz = probe
        .zones
        .iter()
        .find(|(name, _)| *name == rec.zone)
        .map(|(_, tz)| tz.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let local_time = now.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string();
    let id = rec.id.to_string();
    let vars = TemplateVars {
        vendor: &rec.vendor,
        probe: &probe.name,
        probe_id: &id,
        token: &rec.token,
        local_time: &local_time,
        zone: &rec.zone,
        priority: rec.priority.as_deref(),
        persona: &persona.display_name,
        detail: rec.detail.as_deref().or_else(|| probe.detail_for(&id)),
    };
    Ok(render(template, &vars))
}
