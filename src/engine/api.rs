//! What the engine does for ticket-API channels beyond filing and reading:
//! tell the channel which tickets are open, resolve uncertain filings by
//! the channel's token search, and the optional closing courtesy after the
//! first human reply.
//!
//! - **Open tickets** are the probes of the channel (same `watch_key`) that
//!   await a reply and carry the ticket id learned at filing (their first
//!   vendor reference).
//! - **Uncertain filings** (a create that timed out) are never re-sent. If
//!   the channel can search for our token, a ticket found is proof: the
//!   probe becomes `filed` at the ticket's creation time as the API states
//!   it, with a note. Not found: it stays `uncertain` for `probe resolve`
//!   (a search index may lag; absence proves nothing).
//! - **Resolution**: for answered probes whose ticket the channel can read
//!   the status of, the vendor's own time of the solved/closed status is
//!   recorded as the resolution; the look-out ends at the probe's answer
//!   deadline (`resolution_unseen_at`, a censored time to resolution).
//! - **Courtesy** is done at most once per probe: a note `etiquette: under
//!   way` is committed before the call, so neither a crash nor a second
//!   pass can post twice; the outcome replaces it.

use std::sync::Arc;

use jiff::SignedDuration;

use super::{Engine, EngineError, IngestReport};
use crate::channel::{Channel, OpenTicket};
use crate::model::{ProbeState, Resolution, TimeSource};

/// The prefix of the probe note that records the courtesy.
pub(crate) const ETIQUETTE: &str = "etiquette:";
/// What the courtesy says when it marked the ticket solved (see
/// `channel::http`): then the solved status is ours, not the vendor's.
const SOLVED_BY_US: &str = "marked the ticket solved";
/// How far before our filing attempt a ticket found by search may have been
/// created (the vendor's clock and ours differ).
const SEARCH_SLACK: SignedDuration = SignedDuration::from_mins(10);

impl Engine {
    /// The open tickets of the channel with checkpoint `key`.
    pub(crate) fn open_tickets(&self, key: &str) -> Result<Vec<OpenTicket>, EngineError> {
        Ok(self
            .store
            .active()?
            .into_iter()
            .filter(|p| {
                p.watch_key.as_deref() == Some(key)
                    && (p.state == ProbeState::Filed || p.conversation_open())
            })
            .filter_map(|p| {
                Some(OpenTicket {
                    ticket: p.vendor_refs.first()?.clone(),
                    probe: p.id,
                    filed_at: p.filed_at,
                })
            })
            .collect())
    }

    /// Looks for the tickets of uncertain probes of this channel; returns
    /// how many were resolved. Search failures are logged, not returned:
    /// they must not stop the reading of replies.
    pub(crate) async fn resolve_uncertain(&self, channel: &Arc<dyn Channel>) -> usize {
        let key = channel.watch_key();
        let Ok(active) = self.store.active() else {
            return 0;
        };
        let mut resolved = 0;
        for p in active {
            if p.watch_key.as_deref() != Some(key.as_str())
                || p.state != ProbeState::Uncertain
                || !p.vendor_refs.is_empty()
            {
                continue;
            }
            let Some(started) = p.filing_started_at else {
                continue;
            };
            let since = started - SEARCH_SLACK;
            let found = match channel.find_filed(&p.token, since).await {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(probe = %p.id, error = %e, "cannot search for an uncertain filing");
                    continue;
                }
            };
            let calendar = self.config.vendor(&p.vendor).map(|v| v.calendar.clone());
            let done = self.store.write(|tx| {
                tx.update(&p.id, |r| {
                    if r.state != ProbeState::Uncertain {
                        return;
                    }
                    r.state = ProbeState::Filed;
                    r.state_reason = None;
                    r.filed_at = Some(found.created_at);
                    r.filed_time_source = Some(TimeSource::ApiCreated);
                    r.window = calendar.as_ref().map(|c| c.window_at(found.created_at));
                    r.vendor_refs.push(found.ticket.clone());
                    r.notes.push(format!(
                        "the uncertain filing was resolved: a search for {} found ticket {} created {}",
                        r.token, found.ticket, found.created_at
                    ));
                    r.recompute();
                })
            });
            match done {
                Ok(Some(_)) => {
                    tracing::info!(probe = %p.id, ticket = %found.ticket, "uncertain filing resolved by search");
                    resolved += 1;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(probe = %p.id, error = %e, "cannot record a resolved filing")
                }
            }
        }
        resolved
    }

    /// Reads the status of the answered tickets of this channel that are
    /// not resolved yet, and records the vendor's resolution time.
    pub(crate) async fn read_resolutions(
        &self,
        channel: &Arc<dyn Channel>,
    ) -> Result<(), EngineError> {
        if !channel.reads_resolution() {
            return Ok(());
        }
        let key = channel.watch_key();
        let waiting: Vec<_> = self
            .store
            .active()?
            .into_iter()
            .filter(|p| p.watch_key.as_deref() == Some(key.as_str()) && p.awaits_resolution())
            .collect();
        for p in waiting {
            let Some(ticket) = p.vendor_refs.first() else {
                continue;
            };
            let resolved = match channel.resolution(ticket).await {
                Ok(r) => r,
                Err(e) => {
                    // Our side or the connection: try again next pass.
                    tracing::warn!(probe = %p.id, %ticket, error = %e, "cannot read the ticket's status");
                    continue;
                }
            };
            let Some(resolved) = resolved else { continue };
            self.store.write(|tx| {
                tx.update(&p.id, |r| {
                    if r.resolution.is_none() {
                        r.resolution = Some(Resolution {
                            at: resolved.at,
                            time_source: TimeSource::ApiCreated,
                            by: format!("ticket {ticket} status {} (API)", resolved.status),
                        });
                    }
                })
            })?;
            tracing::info!(probe = %p.id, %ticket, at = %resolved.at, "ticket resolved");
        }
        Ok(())
    }

    /// The closing courtesy for probes that this pass answered.
    pub(crate) async fn courtesy_after(
        &self,
        channel: &Arc<dyn Channel>,
        report: &IngestReport,
    ) -> Result<(), EngineError> {
        if !channel.has_courtesy() {
            return Ok(());
        }
        let mut ids: Vec<_> = report
            .recorded
            .iter()
            .filter(|r| r.state == ProbeState::Answered)
            .map(|r| r.probe.clone())
            .collect();
        ids.dedup();
        for id in ids {
            let now = self.clock.now();
            let begun = self.store.write(|tx| {
                let Some(rec) = tx.get(&id)? else {
                    return Ok::<_, EngineError>(None);
                };
                // A conversation still under way is not closed; a probe
                // with its own closing message closes it itself.
                let own_closing = self
                    .config
                    .probe(&rec.probe)
                    .is_some_and(|p| p.closing_message.is_some());
                if rec.notes.iter().any(|n| n.starts_with(ETIQUETTE))
                    || rec.conversation_open()
                    || own_closing
                {
                    return Ok(None);
                }
                let Some(ticket) = rec.vendor_refs.first().cloned() else {
                    return Ok(None);
                };
                tx.update(&id, |r| {
                    r.notes.push(format!(
                        "{ETIQUETTE} under way since {now}; if this note stays, the process stopped during the call and the courtesy may or may not have been posted"
                    ));
                })?;
                Ok(Some(ticket))
            })?;
            let Some(ticket) = begun else { continue };
            let outcome = match channel.courtesy(&ticket).await {
                Ok(done) => format!("{ETIQUETTE} {} at {}", done.detail, self.clock.now()),
                Err(e) => format!("{ETIQUETTE} failed, not retried: {e}"),
            };
            tracing::info!(probe = %id, %outcome, "closing courtesy");
            // A ticket we marked solved ourselves has no vendor resolution
            // to read: the look-out ends here.
            let we_solved = outcome.contains(SOLVED_BY_US);
            let now = self.clock.now();
            self.store.write(|tx| {
                tx.update(&id, |r| {
                    r.notes.retain(|n| !n.starts_with(ETIQUETTE));
                    r.notes.push(outcome.clone());
                    if we_solved && r.resolution.is_none() {
                        r.resolution_unseen_at = Some(now);
                    }
                })
            })?;
        }
        Ok(())
    }
}
