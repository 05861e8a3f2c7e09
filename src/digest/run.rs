//! Sending a week's digest at most once, and the daemon task that does it
//! on the configured schedule.
//!
//! The week is claimed in the store before the SMTP transaction and its
//! outcome recorded after (see `store::digest`): accepted → `sent`; refused
//! before acceptance → `failed` (retried, with backoff, while the week is
//! still the due one); connection lost after the data → `uncertain`, never
//! re-sent automatically. A claim left `sending` by a process that died is
//! settled as `uncertain` when the daemon starts.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{DigestError, mail, schedule};
use crate::channel::FileOutcome;
use crate::clock::{Backoff, Clock, Jitter};
use crate::config::{Config, DigestSettings};
use crate::engine::Engine;
use crate::report::IsoWeek;
use crate::schedule::CronSchedule;
use crate::store::{BeginDigest, DigestRecord, DigestState, Store};

/// The longest the task sleeps before looking at the clock again, so a
/// stepped wall clock or a suspend is followed. Otherwise it sleeps until
/// the next fire, retry or send time: no periodic work while idle.
const MAX_SLEEP: Duration = Duration::from_secs(10 * 60);
/// The first pause after a failed send; doubled up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// The longest pause between failed sends.
const MAX_RETRY: Duration = Duration::from_secs(30 * 60);

/// What happened to a send request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// The server accepted it; its reply.
    Sent(String),
    /// Not sent: the week was sent already, is being sent or may have been.
    AlreadyDone(DigestRecord),
    /// Refused before acceptance; may be retried.
    Failed(String),
    /// May have been sent; not retried.
    Uncertain(String),
}

/// Sends the digest of `week` unless it was sent before (`force` resends a
/// sent or uncertain week; a send under way is never doubled).
pub async fn send_week(
    store: &Store,
    config: &Config,
    settings: &DigestSettings,
    clock: &dyn Clock,
    week: IsoWeek,
    force: bool,
) -> Result<SendResult, DigestError> {
    let key = week.to_string();
    let now = clock.now();
    if let BeginDigest::Done(r) = store.begin_digest(&key, now, force)? {
        return Ok(SendResult::AlreadyDone(r));
    }
    let outcome = async {
        let rows = store.reading_rows(Some(super::row_span(config, week)?))?;
        let own = crate::report::own::OwnSide::from_store(store)?;
        let digest = super::compose_rows(&rows, config, week, now, &own)?;
        mail::send(&digest, config, settings, clock).await
    }
    .await;
    let at = clock.now();
    let (state, result) = match outcome {
        Ok(FileOutcome::Accepted { detail, .. }) => (DigestState::Sent, SendResult::Sent(detail)),
        Ok(FileOutcome::Rejected { reason, .. }) => {
            (DigestState::Failed, SendResult::Failed(reason))
        }
        Ok(FileOutcome::Unknown { reason }) => {
            (DigestState::Uncertain, SendResult::Uncertain(reason))
        }
        Err(e) => {
            store.finish_digest(&key, DigestState::Failed, at, e.to_string())?;
            return Err(e);
        }
    };
    let detail = match &result {
        SendResult::Sent(d) | SendResult::Failed(d) | SendResult::Uncertain(d) => d.clone(),
        SendResult::AlreadyDone(_) => String::new(),
    };
    store.finish_digest(&key, state, at, detail)?;
    Ok(result)
}

/// The daemon's digest task: returns at once when no `[digest]` is
/// configured or it is disabled; otherwise sends each week's digest on the
/// schedule, at most once, until `shutdown`.
pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken) {
    let config = Arc::clone(engine.config());
    let Some(settings) = config.digest.clone().filter(|d| d.enabled) else {
        return;
    };
    let cron = match CronSchedule::parse(&settings.schedule) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "digest schedule invalid; no digest will be sent");
            return;
        }
    };
    let clock = Arc::clone(engine.clock());
    let store = Arc::clone(engine.store());
    let mut settled = None;
    let mut retry = Backoff::with_jitter(FIRST_RETRY, MAX_RETRY, Jitter::None);
    let mut not_before = None;
    tracing::info!(schedule = %settings.schedule, zone = %settings.zone_name, "digest task running");
    while !shutdown.is_cancelled() {
        let now = clock.now();
        let due = schedule::due(
            &cron,
            &settings.zone,
            &config.report.zone,
            settings.jitter,
            now,
        );
        if let Some((week, at)) = due {
            let key = week.to_string();
            if settled.as_ref() != Some(&key) {
                // Once per week and process: a claim left by a dead process.
                match store.settle_stale_digest(&key, now) {
                    Ok(true) => {
                        tracing::warn!(week = %key, "a digest send was interrupted by a stop; it may have gone out and is not re-sent")
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read the digest record"),
                }
                settled = Some(key.clone());
                retry.reset();
                not_before = None;
            }
            let ready = at <= now && not_before.is_none_or(|t| t <= now);
            match store.digest_record(&key) {
                Ok(Some(r)) if r.state != DigestState::Failed => {
                    tracing::debug!(week = %key, state = r.state.as_str(), "digest already handled");
                }
                Ok(_) if ready => {
                    match send_week(&store, &config, &settings, clock.as_ref(), week, false).await {
                        Ok(SendResult::Sent(reply)) => {
                            tracing::info!(week = %key, %reply, "digest sent");
                        }
                        Ok(SendResult::AlreadyDone(r)) => {
                            tracing::debug!(week = %key, state = r.state.as_str(), "digest already handled");
                        }
                        Ok(SendResult::Uncertain(reason)) => {
                            tracing::warn!(week = %key, %reason, "digest may have been sent; not retried");
                        }
                        Ok(SendResult::Failed(reason)) => {
                            tracing::warn!(week = %key, %reason, retry_in_secs = retry.step().as_secs(), "digest not sent (our side); retrying");
                            not_before = backoff(now, &mut retry);
                        }
                        Err(e) => {
                            tracing::warn!(week = %key, error = %e, retry_in_secs = retry.step().as_secs(), "digest not sent (our side); retrying");
                            not_before = backoff(now, &mut retry);
                        }
                    }
                }
                Ok(_) => tracing::debug!(week = %key, %at, "digest due later"),
                Err(e) => tracing::warn!(error = %e, "cannot read the digest record"),
            }
        }
        let next = [
            cron.next_after(now, &settings.zone),
            due.map(|(_, at)| at).filter(|at| *at > now),
            not_before.filter(|t| *t > now),
        ]
        .into_iter()
        .flatten()
        .min();
        let pause = next.map_or(MAX_SLEEP, |t| {
            let ms = t.duration_since(now).as_millis().max(0);
            Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)).min(MAX_SLEEP)
        });
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

/// The instant of the next try after a failed send at `now`; the pause then
/// doubles.
fn backoff(now: jiff::Timestamp, retry: &mut Backoff) -> Option<jiff::Timestamp> {
    let pause = retry.next(&mut fastrand::Rng::new());
    jiff::SignedDuration::try_from(pause)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
}
