//! Our own outages: intervals during which one of *our* endpoints (a
//! persona's SMTP server, its IMAP mailbox, a ticket API account) failed.
//!
//! An outage opens at the start of the first failing call to an endpoint and
//! closes when the next call to it succeeds; failures in between only count
//! up and keep the latest reason. There is at most one open outage per
//! (kind, endpoint). The intervals are what `probe status` (and the digest)
//! report as our own downtime, separately from every vendor's figures; the
//! readings use the mailbox checkpoints, not these intervals, to keep that
//! time out of vendors' latencies (see `report::own`).
//!
//! Table `outages` (created on first write; a store without it simply has no
//! outages): `kind \u{1f} endpoint \u{1f} zero-padded start second \u{1f}
//! start nanos` → JSON [`Outage`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{CURSORS, Cursor, Result, SEP, Store, StoreError, WriteTx, decode, encode};

const OUTAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("outages");

/// Which of our operations failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutageKind {
    /// Filing: probes could not be sent (they become `not-filed`).
    Send,
    /// Watching: replies could not be read (expiry waits; see the readings).
    Watch,
}

impl OutageKind {
    /// The name printed by the CLI and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OutageKind::Send => "send",
            OutageKind::Watch => "watch",
        }
    }
}

impl std::fmt::Display for OutageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One interval of our own downtime at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub kind: OutageKind,
    /// Which endpoint, e.g. `smtp:dana@mail.example.net:587` or an IMAP watch key.
    pub endpoint: String,
    /// The persona whose channel failed.
    pub persona: String,
    /// The start of the first failing call.
    pub started_at: Timestamp,
    /// The end of the first succeeding call after it; `None` while ongoing.
    pub ended_at: Option<Timestamp>,
    /// Why the first call failed.
    pub first_reason: String,
    /// Why the latest call failed.
    pub last_reason: String,
    /// How many calls failed during the outage (calls refused by an open
    /// circuit breaker are not counted: they never reached the endpoint).
    pub failures: u64,
}

impl Outage {
    /// How much of `[from, to]` this outage covers; an ongoing one lasts until `to`.
    pub fn overlap(&self, from: Timestamp, to: Timestamp) -> jiff::SignedDuration {
        let start = self.started_at.max(from);
        let end = self.ended_at.unwrap_or(to).min(to);
        if end > start {
            end.duration_since(start)
        } else {
            jiff::SignedDuration::ZERO
        }
    }

    fn key(&self) -> String {
        outage_key(self.kind, &self.endpoint, self.started_at)
    }
}

fn prefix(kind: OutageKind, endpoint: &str) -> String {
    format!("{}{SEP}{endpoint}{SEP}", kind.as_str())
}

fn outage_key(kind: OutageKind, endpoint: &str, at: Timestamp) -> String {
    format!(
        "{}{:020}{SEP}{:09}",
        prefix(kind, endpoint),
        at.as_second().max(0),
        at.subsec_nanosecond().max(0)
    )
}

/// Whether a redb error only says that the outages table was never created.
fn missing_table(e: &redb::TableError) -> bool {
    matches!(e, redb::TableError::TableDoesNotExist(_))
}

impl WriteTx<'_> {
    /// The open outage of (kind, endpoint), if any.
    pub fn open_outage(&self, kind: OutageKind, endpoint: &str) -> Result<Option<Outage>> {
        let t = self.txn.open_table(OUTAGES)?;
        let lo = prefix(kind, endpoint);
        let hi = format!("{lo}~");
        let last = t.range(lo.as_str()..hi.as_str())?.next_back();
        match last {
            Some(row) => {
                let (k, v) = row?;
                let o: Outage = decode(k.value(), v.value())?;
                Ok(o.ended_at.is_none().then_some(o))
            }
            None => Ok(None),
        }
    }

    /// Records a failed call to `endpoint` that started at `at`: opens an
    /// outage or extends the open one. Returns `true` if it opened one.
    pub fn outage_failure(
        &mut self,
        kind: OutageKind,
        endpoint: &str,
        persona: &str,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool> {
        let (outage, opened) = match self.open_outage(kind, endpoint)? {
            Some(mut o) => {
                o.failures = o.failures.saturating_add(1);
                o.last_reason = reason.to_string();
                (o, false)
            }
            None => (
                Outage {
                    kind,
                    endpoint: endpoint.to_string(),
                    persona: persona.to_string(),
                    started_at: at,
                    ended_at: None,
                    first_reason: reason.to_string(),
                    last_reason: reason.to_string(),
                    failures: 1,
                },
                true,
            ),
        };
        let key = outage.key();
        let bytes = encode(&key, &outage)?;
        self.txn
            .open_table(OUTAGES)?
            .insert(key.as_str(), bytes.as_slice())?;
        Ok(opened)
    }

    /// Records a successful call to `endpoint` that ended at `at`: closes the
    /// open outage, if there is one, and returns it.
    pub fn outage_success(
        &mut self,
        kind: OutageKind,
        endpoint: &str,
        at: Timestamp,
    ) -> Result<Option<Outage>> {
        let Some(mut o) = self.open_outage(kind, endpoint)? else {
            return Ok(None);
        };
        // A clock stepped back must not make an interval end before it began.
        o.ended_at = Some(at.max(o.started_at));
        let key = o.key();
        let bytes = encode(&key, &o)?;
        self.txn
            .open_table(OUTAGES)?
            .insert(key.as_str(), bytes.as_slice())?;
        Ok(Some(o))
    }
}

impl Store {
    /// Every outage that overlaps `[from, to]` (ongoing ones included), by start.
    pub fn outages_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Outage>> {
        let mut out: Vec<Outage> = self
            .outages()?
            .into_iter()
            .filter(|o| o.started_at <= to && o.ended_at.is_none_or(|e| e >= from))
            .collect();
        out.sort_by(|a, b| (a.started_at, &a.endpoint).cmp(&(b.started_at, &b.endpoint)));
        Ok(out)
    }

    /// Every recorded outage, in key order.
    pub fn outages(&self) -> Result<Vec<Outage>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = match txn.open_table(OUTAGES) {
                Ok(t) => t,
                Err(e) if missing_table(&e) => return Ok(Vec::new()),
                Err(e) => return Err(StoreError::from(e)),
            };
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.push(decode(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    /// Every channel checkpoint, by watch key.
    pub fn cursors(&self) -> Result<BTreeMap<String, Cursor>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(CURSORS)?;
            let mut out = BTreeMap::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.insert(k.value().to_string(), decode(k.value(), v.value())?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Mode;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_outage_opens_on_the_first_failure_and_closes_on_the_next_success() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert!(
            store.outages().unwrap().is_empty(),
            "no table yet, no outages"
        );
        let ep = "smtp:dana@127.0.0.1:587";
        let opened = store
            .write(|tx| {
                let a = tx.outage_failure(
                    OutageKind::Send,
                    ep,
                    "dana",
                    ts("2026-11-02T10:00:00Z"),
                    "connection refused",
                )?;
                let b = tx.outage_failure(
                    OutageKind::Send,
                    ep,
                    "dana",
                    ts("2026-11-02T10:05:00Z"),
                    "timed out",
                )?;
                Ok::<_, StoreError>((a, b))
            })
            .unwrap();
        assert_eq!(opened, (true, false));
        // A watch failure of the same persona is another interval.
        store
            .write(|tx| {
                tx.outage_failure(
                    OutageKind::Watch,
                    "imap:x",
                    "dana",
                    ts("2026-11-02T10:01:00Z"),
                    "no route",
                )
            })
            .unwrap();
        let closed = store
            .write(|tx| tx.outage_success(OutageKind::Send, ep, ts("2026-11-02T10:30:00Z")))
            .unwrap()
            .unwrap();
        assert_eq!(closed.started_at, ts("2026-11-02T10:00:00Z"));
        assert_eq!(closed.ended_at, Some(ts("2026-11-02T10:30:00Z")));
        assert_eq!(closed.failures, 2);
        assert_eq!(closed.first_reason, "connection refused");
        assert_eq!(closed.last_reason, "timed out");
        // A second success closes nothing; a new failure opens a new interval.
        assert!(
            store
                .write(|tx| tx.outage_success(OutageKind::Send, ep, ts("2026-11-02T11:00:00Z")))
                .unwrap()
                .is_none()
        );
        store
            .write(|tx| {
                tx.outage_failure(
                    OutageKind::Send,
                    ep,
                    "dana",
                    ts("2026-11-03T09:00:00Z"),
                    "refused",
                )
            })
            .unwrap();
        let all = store.outages().unwrap();
        assert_eq!(all.len(), 3);
        // Reads select by overlap; an ongoing outage overlaps everything after its start.
        let day1 = store
            .outages_between(ts("2026-11-02T00:00:00Z"), ts("2026-11-02T23:59:59Z"))
            .unwrap();
        assert_eq!(day1.len(), 2);
        assert_eq!(day1[0].endpoint, ep);
        assert_eq!(day1[1].kind, OutageKind::Watch);
        let later = store
            .outages_between(ts("2026-11-04T00:00:00Z"), ts("2026-11-05T00:00:00Z"))
            .unwrap();
        assert_eq!(
            later.len(),
            2,
            "the watch outage and the new send outage are ongoing"
        );
        assert!(later.iter().all(|o| o.ended_at.is_none()));
        assert_eq!(
            later[0].overlap(ts("2026-11-04T00:00:00Z"), ts("2026-11-04T06:00:00Z")),
            jiff::SignedDuration::from_hours(6)
        );
    }
}
