//! At-most-once for follow-ups: a round leaves `planned` only once, in the
//! same transaction that checks the caps, exactly as a probe leaves
//! `planned` ([`WriteTx::begin_filing`]).

use jiff::Timestamp;

use super::{Caps, Result, WriteTx};
use crate::model::{ProbeId, ProbeRecord, RoundState};

/// What [`WriteTx::begin_round`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginRound {
    /// Marked `sending`; go ahead.
    Proceed(Box<ProbeRecord>),
    /// Not sent, and recorded as skipped with this reason.
    Refused(String),
    /// The round is not planned any more (or the probe is gone).
    NotPlanned,
}

impl WriteTx<'_> {
    /// Checks `refuse` (the engine's reasons), the pauses and the caps, then
    /// marks round `index` of probe `id` as `sending` at `now`, or records
    /// it as skipped.
    pub fn begin_round(
        &mut self,
        id: &ProbeId,
        index: u32,
        now: Timestamp,
        caps: Caps,
        refuse: Option<String>,
    ) -> Result<BeginRound> {
        let Some(mut rec) = self.get(id)? else {
            return Ok(BeginRound::NotPlanned);
        };
        let vendor = rec.vendor.clone();
        let Some(round) = rec
            .rounds
            .iter_mut()
            .find(|r| r.index == index && r.state == RoundState::Planned)
        else {
            return Ok(BeginRound::NotPlanned);
        };
        let refusal = match refuse {
            Some(r) => Some(r),
            None => self.cap_refusal(&vendor, now, caps)?,
        };
        if let Some(reason) = refusal {
            round.state = RoundState::Skipped;
            round.reason = Some(reason.clone());
            self.put(&rec)?;
            return Ok(BeginRound::Refused(reason));
        }
        round.state = RoundState::Sending;
        round.started_at = Some(now);
        self.put(&rec)?;
        Ok(BeginRound::Proceed(Box::new(rec)))
    }
}
