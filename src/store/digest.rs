//! Which weekly digests were sent: the record that makes the digest
//! at-most-once per ISO week, across restarts.
//!
//! Table `digests`: ISO week (`2026-W47`) → JSON [`DigestRecord`]. The
//! week is claimed (`sending`) in a committed transaction *before* the SMTP
//! transaction starts, like a probe's `filing`; the outcome is recorded
//! after it. A week found `sent` or `uncertain` (the connection broke after
//! the data, or the process died mid-send) is never sent again
//! automatically; `failed` (a definite refusal before acceptance) may be
//! retried. The table is created by the first write, so a store from before
//! the digest existed needs no migration.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, decode, encode};

const DIGESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("digests");

/// Where a week's digest stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestState {
    /// Claimed; the send is under way (or the process died during it).
    Sending,
    /// The server accepted it.
    Sent,
    /// Definitely not sent (refused before acceptance); may be retried.
    Failed,
    /// May have been sent; never re-sent automatically.
    Uncertain,
}

impl DigestState {
    /// The name printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestState::Sending => "sending",
            DigestState::Sent => "sent",
            DigestState::Failed => "failed",
            DigestState::Uncertain => "uncertain",
        }
    }
}

/// One week's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRecord {
    /// `2026-W47`.
    pub week: String,
    /// Where it stands.
    pub state: DigestState,
    /// When the state was last set (our clock).
    pub updated_at: Timestamp,
    /// Send attempts so far.
    pub attempts: u32,
    /// The server's reply or the failure, in words.
    pub detail: Option<String>,
}

/// The answer to "may this week's digest be sent now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginDigest {
    /// Claimed as `sending`; go ahead.
    Proceed,
    /// Already sent, sending or uncertain: do not send.
    Done(DigestRecord),
}

impl Store {
    /// The record of one week's digest.
    pub fn digest_record(&self, week: &str) -> Result<Option<DigestRecord>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = match txn.open_table(DIGESTS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(StoreError::from(e)),
            };
            t.get(week)?.map(|v| decode(week, v.value())).transpose()
        })
    }

    /// Claims `week` for sending unless it was sent, is being sent or may
    /// have been sent. With `force` (an operator's explicit resend) only a
    /// send under way is refused.
    pub fn begin_digest(&self, week: &str, at: Timestamp, force: bool) -> Result<BeginDigest> {
        self.write(|tx| {
            let mut t = tx.txn.open_table(DIGESTS)?;
            let found: Option<DigestRecord> =
                t.get(week)?.map(|v| decode(week, v.value())).transpose()?;
            let attempts = found.as_ref().map_or(0, |r| r.attempts);
            if let Some(r) = found {
                let blocked = match r.state {
                    DigestState::Failed => false,
                    DigestState::Sending => true,
                    DigestState::Sent | DigestState::Uncertain => !force,
                };
                if blocked {
                    return Ok(BeginDigest::Done(r));
                }
            }
            let rec = DigestRecord {
                week: week.to_string(),
                state: DigestState::Sending,
                updated_at: at,
                attempts: attempts + 1,
                detail: None,
            };
            let bytes = encode(week, &rec)?;
            t.insert(week, bytes.as_slice())?;
            Ok(BeginDigest::Proceed)
        })
    }

    /// Records the outcome of a send begun with [`Store::begin_digest`].
    pub fn finish_digest(
        &self,
        week: &str,
        state: DigestState,
        at: Timestamp,
        detail: String,
    ) -> Result<()> {
        self.write(|tx| {
            let mut t = tx.txn.open_table(DIGESTS)?;
            let found: Option<DigestRecord> =
                t.get(week)?.map(|v| decode(week, v.value())).transpose()?;
            let rec = DigestRecord {
                week: week.to_string(),
                state,
                updated_at: at,
                attempts: found.map_or(1, |r| r.attempts),
                detail: Some(detail),
            };
            let bytes = encode(week, &rec)?;
            t.insert(week, bytes.as_slice())?;
            Ok(())
        })
    }

    /// A digest left `sending` by a process that died mid-send becomes
    /// `uncertain`: it may have gone out, so it is not sent again.
    pub fn settle_stale_digest(&self, week: &str, at: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let mut t = tx.txn.open_table(DIGESTS)?;
            let found: Option<DigestRecord> =
                t.get(week)?.map(|v| decode(week, v.value())).transpose()?;
            match found {
                Some(mut r) if r.state == DigestState::Sending => {
                    r.state = DigestState::Uncertain;
                    r.updated_at = at;
                    r.detail = Some("the process stopped while the digest was being sent".into());
                    let bytes = encode(week, &r)?;
                    t.insert(week, bytes.as_slice())?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Mode;

    #[test]
    fn a_week_is_claimed_once_and_a_failure_may_be_retried() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let at: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        assert_eq!(store.digest_record("2026-W47").unwrap(), None);
        assert_eq!(
            store.begin_digest("2026-W47", at, false).unwrap(),
            BeginDigest::Proceed
        );
        assert!(matches!(
            store.begin_digest("2026-W47", at, true).unwrap(),
            BeginDigest::Done(r) if r.state == DigestState::Sending
        ));
        store
            .finish_digest("2026-W47", DigestState::Failed, at, "refused".into())
            .unwrap();
        assert_eq!(
            store.begin_digest("2026-W47", at, false).unwrap(),
            BeginDigest::Proceed
        );
        store
            .finish_digest("2026-W47", DigestState::Sent, at, "250 ok".into())
            .unwrap();
        let again = store.begin_digest("2026-W47", at, false).unwrap();
        assert!(
            matches!(again, BeginDigest::Done(ref r) if r.state == DigestState::Sent && r.attempts == 2)
        );
        // Another week is independent; an operator may force a resend.
        assert_eq!(
            store.begin_digest("2026-W48", at, false).unwrap(),
            BeginDigest::Proceed
        );
        assert_eq!(
            store.begin_digest("2026-W47", at, true).unwrap(),
            BeginDigest::Proceed
        );
    }

    #[test]
    fn a_send_interrupted_by_a_crash_becomes_uncertain_and_is_not_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let at: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        {
            let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
            store.begin_digest("2026-W47", at, false).unwrap();
        }
        let store = Store::open(dir.path(), Mode::Shared).unwrap();
        assert!(store.settle_stale_digest("2026-W47", at).unwrap());
        let r = store.digest_record("2026-W47").unwrap().unwrap();
        assert_eq!(r.state, DigestState::Uncertain);
        assert!(matches!(
            store.begin_digest("2026-W47", at, false).unwrap(),
            BeginDigest::Done(_)
        ));
    }
}
