//! The probe loop: plan, file, watch, classify, expire.
//!
//! [`Engine`] holds the validated config, the store, the clock and one
//! channel per persona, and offers the steps the daemon, `probe run` and the
//! demo drive in their own rhythm:
//!
//! - [`Engine::plan`] persists the next fire of every (probe, zone) before it
//!   is due ([`plan`]);
//! - [`Engine::file_due`] / [`Engine::file_one`] send what is due, at most
//!   once, within the caps ([`file`]);
//! - [`Engine::watch_once`] reads new messages of a channel, matches them to
//!   probes, classifies them and records them together with the channel's
//!   checkpoint ([`ingest`]);
//! - [`Engine::converse_due`] sends the follow-ups and closing messages
//!   that are due, at most once, within the caps ([`converse`]);
//! - [`Engine::expire`] turns probes without a human reply by their deadline
//!   into censored "unanswered" observations, but only once the channel has
//!   been read up to that deadline, so our own IMAP outage never makes a
//!   vendor look silent.
//!
//! Architecture Invariant: the engine never reads the wall clock directly
//! and never sleeps except between filing retries; everything else is the
//! caller's rhythm.

mod api;
pub mod breaker;
mod converse;
mod file;
pub mod guard;
mod ingest;
mod plan;
mod wake;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::classify;
use crate::clock::Clock;
use crate::config::Config;
use crate::model::{ProbeId, ProbeRecord, ProbeState};
use crate::store::{Store, StoreError, WriteTx};

pub use converse::{RoundReport, plan_next_round};
pub use file::{FileReport, compose};
pub use ingest::{IngestReport, Recorded};
pub use plan::{PlanReport, draft_record};

pub use breaker::{Backoff, Breaker};
pub use guard::Guarded;

/// What can stop an engine step.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error("no channel for persona {0:?}")]
    NoChannel(String),
    #[error("probe {0} is not in the store")]
    UnknownProbe(ProbeId),
    #[error("{0}")]
    Invalid(String),
}

/// The classifier's rules for a vendor, from its config.
pub fn rules_for(vendor: &crate::config::Vendor) -> classify::Rules {
    classify::Rules {
        helpdesk: vendor.helpdesk.clone(),
        overrides: vendor.overrides.clone(),
    }
}

/// Closes the answer window of a filed probe whose deadline has passed, if
/// its channel has been read up to that deadline (otherwise a reply may be
/// waiting unread: our lag, not the vendor's silence). Returns whether it
/// changed `rec`; the caller stores it.
pub fn close_if_due(
    tx: &WriteTx<'_>,
    rec: &mut ProbeRecord,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(deadline) = rec.answer_deadline() else {
        return Ok(false);
    };
    if rec.state != ProbeState::Filed || deadline > now {
        return Ok(false);
    }
    let Some(key) = &rec.watch_key else {
        return Ok(false);
    };
    let caught_up = tx.cursor(key)?.map(|c| c.caught_up_at);
    if caught_up.is_none_or(|c| c < deadline) {
        return Ok(false);
    }
    rec.censored_at = Some(deadline);
    rec.state = ProbeState::Unanswered;
    rec.recompute();
    Ok(true)
}

/// How long a probe may sit in `filing` before we conclude that the process
/// filing it died, and call it uncertain. Longer than any SMTP transaction
/// can take (four times the network timeout).
const FILING_STALE_AFTER: SignedDuration = SignedDuration::from_mins(15);

/// The probe loop's state: config, store, clock, channels.
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// One channel per persona name.
    channels: BTreeMap<String, Arc<dyn Channel>>,
    /// The same channels' guards (breakers, outage record), to tune them.
    guards: Vec<Arc<Guarded>>,
    /// Classification rules per vendor name, compiled once.
    rules: BTreeMap<String, classify::Rules>,
    /// Sleep between filing retries; the demo and tests shorten it.
    retry_pause: Duration,
    /// Draws jitter. Seedable so the demo is reproducible; a std mutex,
    /// never held across an `.await`.
    rng: Mutex<fastrand::Rng>,
    /// Cancelled when the process is asked to stop: a pending filing retry
    /// then ends as "not filed" instead of leaving the probe in `filing`.
    shutdown: CancellationToken,
}

impl Engine {
    /// Builds an engine. `channels` maps persona names to their channel;
    /// each is wrapped in a [`Guarded`] (circuit breakers, outage record).
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        channels: BTreeMap<String, Arc<dyn Channel>>,
    ) -> Result<Engine, EngineError> {
        let rules = config
            .vendors
            .iter()
            .map(|v| (v.name.clone(), rules_for(v)))
            .collect();
        let mut guards = Vec::new();
        let channels = channels
            .into_iter()
            .map(|(persona, inner)| {
                let guard = Arc::new(Guarded::new(
                    inner,
                    &persona,
                    Arc::clone(&store),
                    Arc::clone(&clock),
                ));
                guards.push(Arc::clone(&guard));
                let guarded: Arc<dyn Channel> = guard;
                (persona, guarded)
            })
            .collect();
        Ok(Engine {
            config,
            store,
            clock,
            channels,
            guards,
            rules,
            retry_pause: Duration::from_secs(5),
            shutdown: CancellationToken::new(),
            rng: Mutex::new(fastrand::Rng::new()),
        })
    }

    /// Sets the pause between filing retries (tests use a short one).
    pub fn with_retry_pause(mut self, pause: Duration) -> Self {
        self.retry_pause = pause;
        self
    }

    /// Replaces the circuit breakers of every channel endpoint (tests use a
    /// short cool-down; the default is [`Breaker::default`]).
    pub fn with_breaker(self, breaker: Breaker) -> Self {
        for g in &self.guards {
            g.set_breaker(&breaker);
        }
        self
    }

    /// Seeds the jitter (the demo's runs are then reproducible).
    pub fn with_seed(self, seed: u64) -> Self {
        *self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fastrand::Rng::with_seed(seed);
        self
    }

    /// Sets the token that tells the engine the process is stopping.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The config in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The channel of a persona.
    pub fn channel(&self, persona: &str) -> Result<&Arc<dyn Channel>, EngineError> {
        self.channels
            .get(persona)
            .ok_or_else(|| EngineError::NoChannel(persona.to_string()))
    }

    /// Persona names with a channel, in order.
    pub fn personas(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// Marks probes left in `filing` by a process that died as `uncertain`:
    /// we cannot know whether the vendor received them, and we never send
    /// them again on our own.
    pub fn recover(&self) -> Result<Vec<ProbeId>, EngineError> {
        let now = self.clock.now();
        let stale: Vec<ProbeRecord> = self
            .store
            .active()?
            .into_iter()
            .filter(|p| {
                // The latest sign of life: the filing's start or its latest attempt.
                let last = p.attempts.last().map(|a| a.at).max(p.filing_started_at);
                p.state == ProbeState::Filing
                    && last.is_some_and(|t| now.duration_since(t) >= FILING_STALE_AFTER)
            })
            .collect();
        let mut ids = Vec::new();
        let sending: Vec<ProbeId> = self
            .store
            .active()?
            .into_iter()
            .filter(|p| {
                p.rounds
                    .iter()
                    .any(|r| r.state == crate::model::RoundState::Sending)
            })
            .map(|p| p.id)
            .collect();
        for id in sending {
            let changed = self.store.write(|tx| {
                let Some(mut r) = tx.get(&id)? else {
                    return Ok::<_, EngineError>(None);
                };
                if converse::recover_rounds(&mut r, now) {
                    tx.put(&r)?;
                    return Ok(Some(r));
                }
                Ok(None)
            })?;
            if let Some(r) = changed {
                tracing::warn!(probe = %r.id, "a follow-up was left sending by a stopped process; uncertain, never sent again");
                ids.push(r.id);
            }
        }
        for p in stale {
            let changed = self.store.write(|tx| {
                tx.update(&p.id, |r| {
                    if r.state != ProbeState::Filing {
                        return;
                    }
                    let between_failures = r
                        .attempts
                        .last()
                        .is_some_and(|a| a.outcome.starts_with(file::WILL_RETRY));
                    if between_failures {
                        r.state = ProbeState::NotFiled;
                        r.state_reason = Some(
                            "the process stopped between retries; every attempt had failed".into(),
                        );
                    } else {
                        r.state = ProbeState::Uncertain;
                        r.state_reason = Some(
                            "the process stopped during the send; the vendor may or may not \
                             have it (resolve with `probe resolve`)"
                                .into(),
                        );
                        // A reply recorded while it was still `filing` (the
                        // process died after the server's 250) proves receipt.
                        r.recompute();
                    }
                })
            })?;
            if let Some(r) = changed {
                tracing::warn!(probe = %r.id, state = %r.state, "probe left in filing by a stopped process");
                ids.push(r.id);
            }
        }
        Ok(ids)
    }

    /// Turns filed probes whose answer deadline has passed into censored
    /// `unanswered` observations, once their channel has been read up to the
    /// deadline. Returns the probes changed.
    pub fn expire(&self) -> Result<Vec<ProbeId>, EngineError> {
        let now = self.clock.now();
        let mut changed = Vec::new();
        for p in self.store.active()? {
            if p.awaits_resolution()
                && !p.conversation_open()
                && p.answer_deadline().is_some_and(|d| d <= now)
            {
                // The look-out for the ticket's resolution ends with the
                // answer window: the time to resolution is censored there.
                self.store.write(|tx| {
                    tx.update(&p.id, |r| {
                        if r.awaits_resolution() {
                            r.resolution_unseen_at = r.answer_deadline();
                        }
                    })
                })?;
                changed.push(p.id.clone());
                continue;
            }
            if p.conversation_open() {
                let closed =
                    self.store
                        .write(|tx| -> Result<Option<ProbeRecord>, EngineError> {
                            let Some(mut r) = tx.get(&p.id)? else {
                                return Ok(None);
                            };
                            if converse::close_rounds_if_due(tx, &mut r, now)? {
                                self.plan_round(&mut r);
                                tx.put(&r)?;
                                return Ok(Some(r));
                            }
                            Ok(None)
                        })?;
                if let Some(r) = closed {
                    tracing::info!(probe = %r.id, vendor = %r.vendor, "a follow-up went unanswered by its deadline (censored); the conversation ends");
                    changed.push(r.id);
                }
                continue;
            }
            if p.state != ProbeState::Filed || p.answer_deadline().is_none_or(|d| d > now) {
                continue;
            }
            let closed = self
                .store
                .write(|tx| -> Result<Option<ProbeRecord>, EngineError> {
                    let Some(mut r) = tx.get(&p.id)? else {
                        return Ok(None);
                    };
                    if close_if_due(tx, &mut r, now)? {
                        tx.put(&r)?;
                        return Ok(Some(r));
                    }
                    Ok(None)
                })?;
            if let Some(r) = closed {
                tracing::info!(probe = %r.id, vendor = %r.vendor, state = %r.state, "answer window closed");
                changed.push(r.id);
            }
        }
        Ok(changed)
    }

    /// Reads one channel until it has nothing more, recording what matches.
    pub async fn watch_once(&self, persona: &str) -> Result<IngestReport, EngineError> {
        let channel = Arc::clone(self.channel(persona)?);
        let key = channel.watch_key();
        let mut total = IngestReport::default();
        self.resolve_uncertain(&channel).await;
        loop {
            let started = self.clock.now();
            let cursor = self.store.cursor(&key)?;
            let since = self.earliest_open_filing(persona)?;
            let open = self.open_tickets(&key)?;
            let fetched = channel
                .fetch_open(&open, cursor.as_ref().map(|c| &c.position), since)
                .await?;
            let more = fetched.more;
            if fetched.rescanned {
                tracing::warn!(%persona, key = %key, "the mailbox was renumbered (UIDVALIDITY changed); rescanned back to the earliest open probe");
            }
            let report = self.ingest(&key, fetched, started, cursor.map(|c| c.caught_up_at))?;
            self.courtesy_after(&channel, &report).await?;
            self.read_resolutions(&channel).await?;
            total.absorb(report);
            if !more {
                return Ok(total);
            }
        }
    }

    fn earliest_open_filing(&self, persona: &str) -> Result<Option<Timestamp>, EngineError> {
        Ok(self
            .store
            .active()?
            .into_iter()
            .filter(|p| p.persona == persona && (p.state.awaits_reply() || p.conversation_open()))
            .filter_map(|p| p.filing_started_at)
            .min())
    }
}

#[cfg(test)]
mod tests;
