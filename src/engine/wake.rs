//! When the daemon next has something to do: the earliest due probe, answer
//! deadline or recovery check. The main loop sleeps until then instead of
//! waking on a fixed tick, so an idle daemon does no periodic work.

use jiff::Timestamp;

use super::{Engine, EngineError, FILING_STALE_AFTER};
use crate::model::ProbeState;

impl Engine {
    /// The earliest instant at which planning, filing, expiry or recovery has
    /// work: a planned probe falls due, a filed probe's answer window
    /// closes, or a probe left in `filing` becomes old enough to judge.
    /// `None` when nothing is pending at all.
    pub fn next_wakeup(&self) -> Result<Option<Timestamp>, EngineError> {
        let mut next: Option<Timestamp> = None;
        for p in self.store.active()? {
            let at = match p.state {
                ProbeState::Planned => Some(p.due_at),
                ProbeState::Filed => p.answer_deadline(),
                ProbeState::Filing => p
                    .attempts
                    .last()
                    .map(|a| a.at)
                    .max(p.filing_started_at)
                    .and_then(|t| t.checked_add(FILING_STALE_AFTER).ok()),
                _ => None,
            };
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }
}
