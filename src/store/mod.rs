//! The embedded store: every probe, every reply, every checkpoint, in one
//! redb file (`probes.redb` in the state directory).
//!
//! redb rather than sled: see docs/dependencies.md. Every commit is
//! durable when it returns, which is what at-most-once filing relies on: a
//! probe is committed as `filing` *before* the SMTP transaction starts.
//!
//! All changes go through [`Store::write`], which hands a [`WriteTx`] to a
//! closure and commits only if the closure succeeds, so the engine can
//! check caps and mark a probe as filing, or record a batch of replies and
//! advance the mailbox checkpoint, as one atomic step.
//!
//! Two processes may use one store: the daemon and a `probe status` in a
//! terminal. Either way the database file is opened once per process and
//! kept open. [`Mode::Shared`] opens it in redb's multi-writer mode
//! (byte-range locks: any number of processes, one write transaction at a
//! time, each reader sees the others' commits); [`Mode::Exclusive`] locks the
//! whole file, for the demo, tests and bulk work. Whether a *daemon* already
//! runs on a state directory is decided by a separate lock file (see
//! `daemon`), not by the database lock.
//!
//! Tables (keys are strings; `\u{1f}` separates key parts):
//! - `probes`: probe id → JSON [`ProbeRecord`], deflated since v3 (see
//!   [`codec`]).
//! - `active`: probe id → () for probes that still await something
//!   (planned, filing, filed, uncertain).
//! - `by_message_id`: Message-ID → probe id, for our own message and every
//!   message recorded on a probe (so a reply to the vendor's acknowledgement
//!   matches too).
//! - `by_token`: probe token → probe id.
//! - `by_ref`: vendor ticket reference → JSON list of probe ids.
//! - `fingerprints`: vendor, body fingerprint → JSON list of (probe id, message key).
//! - `filings`: vendor, zero-padded filing second, probe id → (), what the
//!   caps count.
//! - `plans`: probe name, zone → the last fire already planned.
//! - `cursors`: channel watch key → JSON [`Cursor`].
//! - `meta`: `schema_version`.
//! - `filings_by_time` (v2): zero-padded filing second, probe id → vendor,
//!   for the global rate ceiling.
//! - `control` (v2): operator flags such as pauses (see [`control`]).
//! - `digests`: ISO week → JSON `DigestRecord` (see `store::digest`).
//! - `outages`: our own downtime per endpoint (see [`outages`]), created on
//!   first write.
//! - `readings` (v3): anchor second, probe id → the compact reading row
//!   reports scan (see [`rows`]); since v4 the row says whether the
//!   reading rests on an `unsure` classification.
//! - `unmatched` (v4): message key → JSON [`Unmatched`], replies that
//!   matched no probe but came from a vendor with a probe open (see
//!   [`unmatched`]).
//!
//! - `signatures`: vendor, probe id, message key → the MinHash signature of
//!   a human reply, for the templated rule (see [`signatures`]), created on
//!   first write.
//!
//! Schema versions and their upgrades are in [`migrate`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::model::{ProbeId, ProbeRecord, ProbeState, RoundState};

mod codec;
mod control;
mod digest;
mod migrate;
mod outages;
mod rounds;
mod rows;
mod signatures;
mod unmatched;

pub use control::Pause;
pub use digest::{BeginDigest, DigestRecord, DigestState};
pub use outages::{Outage, OutageKind};
pub use rounds::BeginRound;
pub use unmatched::{Attachment, Unmatched};

/// The current on-disk schema. Bump it with a migration in [`migrate`].
pub const SCHEMA_VERSION: u64 = 5;

/// The database file's name inside the state directory.
pub const FILE_NAME: &str = "probes.redb";

const PROBES: TableDefinition<&str, &[u8]> = TableDefinition::new("probes");
const ACTIVE: TableDefinition<&str, ()> = TableDefinition::new("active");
const BY_MESSAGE_ID: TableDefinition<&str, &str> = TableDefinition::new("by_message_id");
const BY_TOKEN: TableDefinition<&str, &str> = TableDefinition::new("by_token");
const BY_REF: TableDefinition<&str, &[u8]> = TableDefinition::new("by_ref");
const FINGERPRINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("fingerprints");
const FILINGS: TableDefinition<&str, ()> = TableDefinition::new("filings");
const PLANS: TableDefinition<&str, &[u8]> = TableDefinition::new("plans");
const CURSORS: TableDefinition<&str, &[u8]> = TableDefinition::new("cursors");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FILINGS_BY_TIME: TableDefinition<&str, &str> = TableDefinition::new("filings_by_time");
const CONTROL: TableDefinition<&str, &[u8]> = TableDefinition::new("control");

const SEP: char = '\u{1f}';

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store {path} is in use by another process and stayed busy for {waited_secs} s")]
    Busy { path: PathBuf, waited_secs: u64 },
    #[error("the store {path} cannot be opened: {source}")]
    Open {
        path: PathBuf,
        source: redb::DatabaseError,
    },
    #[error(
        "the store {path} has schema version {found}, newer than this build understands ({SCHEMA_VERSION}); use a newer probe"
    )]
    TooNew { path: PathBuf, found: u64 },
    #[error("store operation failed: {0}")]
    Redb(#[from] redb::Error),
    #[error("a stored record is corrupt ({what}): {source}")]
    Corrupt {
        what: String,
        source: serde_json::Error,
    },
    #[error("a stored reading row is corrupt ({key})")]
    CorruptRow { key: String },
    #[error("a stored record is corrupt ({what}): {source}")]
    Deflate {
        what: String,
        source: std::io::Error,
    },
}

macro_rules! redb_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Redb(e.into())
            }
        }
    )*};
}
redb_error_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How the database file is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// This process alone has the file open.
    Exclusive,
    /// Other processes may have the file open at the same time.
    Shared,
}

/// A mailbox (or API) checkpoint: how far a channel's messages have been recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Channel-specific position (e.g. UIDVALIDITY and last UID).
    pub position: serde_json::Value,
    /// Our clock when the channel was last read completely: replies stamped
    /// before this instant have all been seen.
    pub caught_up_at: Timestamp,
}

/// The answer to "may this probe be filed now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginFiling {
    /// Marked `filing`; go ahead.
    Proceed(Box<ProbeRecord>),
    /// Not filed, and recorded as skipped with this reason.
    Refused(String),
    /// The probe is not planned any more (already filed, skipped, ...).
    NotPlanned(ProbeState),
}

/// Hard caps on what may reach one vendor, counted from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// At most this many probes in any rolling 24 hours.
    pub per_day: u32,
    /// At most this many probes in any rolling 7 days.
    pub per_week: u32,
    /// At most this many probes to all vendors together in any rolling hour
    /// (`[daemon] max-filings-per-hour`), if set.
    pub global_per_hour: Option<u32>,
}

/// The embedded store.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    mode: Mode,
    /// The database, opened at the first operation and kept open; the mutex
    /// also queues this process's operations. A std mutex: it is never held
    /// across an `.await` (store calls are synchronous).
    db: Mutex<Option<Database>>,
}

impl Store {
    /// Opens (creating if needed) the store in `state_dir`.
    pub fn open(state_dir: &Path, mode: Mode) -> Result<Store> {
        std::fs::create_dir_all(state_dir).map_err(|source| StoreError::CreateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let store = Store {
            path: state_dir.join(FILE_NAME),
            mode,
            db: Mutex::new(None),
        };
        store.with_db(|db| migrate::run(db, &store.path))?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_db(&self) -> Result<Database> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        let mut builder = redb::Builder::new();
        if self.mode == Mode::Shared {
            builder.set_concurrency_mode(redb::ConcurrencyMode::MultiWriter);
        }
        loop {
            match builder.create(&self.path) {
                Ok(db) => return Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if started.elapsed() < Duration::from_secs(10) =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                    return Err(StoreError::Busy {
                        path: self.path.clone(),
                        waited_secs: started.elapsed().as_secs(),
                    });
                }
                Err(source) => {
                    return Err(StoreError::Open {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
    }

    fn with_db<T>(&self, f: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        let mut guard = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            *guard = Some(self.open_db()?);
        }
        match guard.as_ref() {
            Some(db) => f(db),
            None => Err(StoreError::Busy {
                path: self.path.clone(),
                waited_secs: 0,
            }),
        }
    }

    /// Runs `f` in one write transaction, committed only if `f` returns `Ok`.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut out = None;
        self.with_db(|db| {
            let txn = db.begin_write()?;
            let mut tx = WriteTx { txn: &txn };
            match f(&mut tx) {
                Ok(v) => {
                    txn.commit()?;
                    out = Some(Ok(v));
                }
                Err(e) => {
                    txn.abort()?;
                    out = Some(Err(e));
                }
            }
            Ok(())
        })?;
        out.unwrap_or_else(|| {
            Err(E::from(StoreError::Busy {
                path: self.path.clone(),
                waited_secs: 0,
            }))
        })
    }

    /// One probe.
    pub fn get(&self, id: &ProbeId) -> Result<Option<ProbeRecord>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(PROBES)?;
            t.get(id.as_str())?
                .map(|v| codec::decode_record(id.as_str(), v.value()))
                .transpose()
        })
    }

    /// Every probe, oldest first.
    pub fn all(&self) -> Result<Vec<ProbeRecord>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(PROBES)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.push(codec::decode_record(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    /// Probes that still await something (planned, filing, filed, uncertain), oldest first.
    pub fn active(&self) -> Result<Vec<ProbeRecord>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let active = txn.open_table(ACTIVE)?;
            let probes = txn.open_table(PROBES)?;
            let mut out = Vec::new();
            for row in active.iter()? {
                let (k, _) = row?;
                if let Some(v) = probes.get(k.value())? {
                    out.push(codec::decode_record(k.value(), v.value())?);
                }
            }
            Ok(out)
        })
    }

    /// The last fire already planned for (probe, zone).
    pub fn last_planned(&self, probe: &str, zone: &str) -> Result<Option<Timestamp>> {
        let key = vendor_key(probe, zone);
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(PLANS)?;
            t.get(key.as_str())?
                .map(|v| decode(&key, v.value()))
                .transpose()
        })
    }

    /// A channel's checkpoint.
    pub fn cursor(&self, key: &str) -> Result<Option<Cursor>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(CURSORS)?;
            t.get(key)?.map(|v| decode(key, v.value())).transpose()
        })
    }
}

fn decode<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        what: what.to_string(),
        source,
    })
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
        what: what.to_string(),
        source,
    })
}

fn filing_key(vendor: &str, at: Timestamp, id: &ProbeId) -> String {
    format!("{vendor}{SEP}{:020}{SEP}{id}", at.as_second().max(0))
}

fn vendor_key(vendor: &str, rest: &str) -> String {
    format!("{vendor}{SEP}{rest}")
}

/// One write transaction. Obtained from [`Store::write`].
pub struct WriteTx<'a> {
    txn: &'a redb::WriteTransaction,
}

impl WriteTx<'_> {
    /// One probe.
    pub fn get(&self, id: &ProbeId) -> Result<Option<ProbeRecord>> {
        let t = self.txn.open_table(PROBES)?;
        let v = t.get(id.as_str())?;
        v.map(|v| codec::decode_record(id.as_str(), v.value()))
            .transpose()
    }

    /// Stores a probe and keeps the `active`, `by_message_id`, `by_token`,
    /// `filings` and `readings` tables in step with it.
    pub fn put(&mut self, rec: &ProbeRecord) -> Result<()> {
        let id = rec.id.as_str();
        let bytes = codec::encode_record(id, rec)?;
        let mut probes = self.txn.open_table(PROBES)?;
        let old_anchor = match probes.get(id)? {
            Some(old) => Some(rows::stored_anchor(id, old.value())?),
            None => None,
        };
        probes.insert(id, bytes.as_slice())?;
        drop(probes);
        self.put_row(old_anchor, rec)?;
        let mut active = self.txn.open_table(ACTIVE)?;
        if matches!(
            rec.state,
            ProbeState::Planned | ProbeState::Filing | ProbeState::Filed | ProbeState::Uncertain
        ) || rec.conversation_open()
            || rec.awaits_resolution()
        {
            active.insert(id, ())?;
        } else {
            active.remove(id)?;
        }
        self.txn
            .open_table(BY_TOKEN)?
            .insert(rec.token.as_str(), id)?;
        let mut by_mid = self.txn.open_table(BY_MESSAGE_ID)?;
        if let Some(mid) = &rec.message_id {
            by_mid.insert(mid.as_str(), id)?;
        }
        for m in &rec.messages {
            if let Some(mid) = &m.message_id {
                by_mid.insert(mid.as_str(), id)?;
            }
        }
        for r in &rec.rounds {
            if let Some(mid) = &r.message_id {
                by_mid.insert(mid.as_str(), id)?;
            }
        }
        if let Some(started) = rec.filing_started_at {
            let key = filing_key(&rec.vendor, started, &rec.id);
            let mut filings = self.txn.open_table(FILINGS)?;
            if rec.state.may_have_reached_vendor() {
                filings.insert(key.as_str(), ())?;
            } else {
                filings.remove(key.as_str())?;
            }
            drop(filings);
            let second = format!("{:020}", started.as_second().max(0));
            let reached = rec.state.may_have_reached_vendor();
            self.index_filing_time(&second, id, &rec.vendor, reached)?;
        }
        // Follow-ups count against the caps like filings: each round that
        // began may have reached the vendor unless it certainly failed.
        for r in &rec.rounds {
            let Some(started) = r.started_at else {
                continue;
            };
            let round_id = format!("{id}.r{}", r.index);
            let reached = matches!(
                r.state,
                RoundState::Sending | RoundState::Sent | RoundState::Uncertain
            );
            let second = format!("{:020}", started.as_second().max(0));
            let key = format!("{}{SEP}{second}{SEP}{round_id}", rec.vendor);
            let mut filings = self.txn.open_table(FILINGS)?;
            if reached {
                filings.insert(key.as_str(), ())?;
            } else {
                filings.remove(key.as_str())?;
            }
            drop(filings);
            self.index_filing_time(&second, &round_id, &rec.vendor, reached)?;
        }
        Ok(())
    }

    /// Reads a probe, lets `f` change it, recomputes nothing, stores it.
    pub fn update(
        &mut self,
        id: &ProbeId,
        f: impl FnOnce(&mut ProbeRecord),
    ) -> Result<Option<ProbeRecord>> {
        let Some(mut rec) = self.get(id)? else {
            return Ok(None);
        };
        f(&mut rec);
        self.put(&rec)?;
        Ok(Some(rec))
    }

    /// How many probes to `vendor` may have reached it in `[since, now]`.
    pub fn filings_since(&self, vendor: &str, since: Timestamp) -> Result<u32> {
        let t = self.txn.open_table(FILINGS)?;
        let lo = format!("{vendor}{SEP}{:020}", since.as_second().max(0));
        let hi = format!("{vendor}{SEP}~");
        let mut n = 0u32;
        for row in t.range(lo.as_str()..hi.as_str())? {
            row?;
            n = n.saturating_add(1);
        }
        Ok(n)
    }

    /// Checks `enabled`, the pause flags, the vendor's caps and the global
    /// ceiling, then marks the planned probe
    /// `id` as `filing` at `now`, or records it as skipped. At-most-once
    /// filing rests on this: a probe can leave `planned` only once.
    pub fn begin_filing(
        &mut self,
        id: &ProbeId,
        now: Timestamp,
        caps: Caps,
        refuse: Option<String>,
    ) -> Result<BeginFiling> {
        let Some(mut rec) = self.get(id)? else {
            return Ok(BeginFiling::NotPlanned(ProbeState::Skipped));
        };
        if rec.state != ProbeState::Planned {
            return Ok(BeginFiling::NotPlanned(rec.state));
        }
        let refusal = match refuse {
            Some(r) => Some(r),
            None => self.cap_refusal(&rec.vendor, now, caps)?,
        };
        if let Some(reason) = refusal {
            rec.state = ProbeState::Skipped;
            rec.state_reason = Some(reason.clone());
            self.put(&rec)?;
            return Ok(BeginFiling::Refused(reason));
        }
        rec.state = ProbeState::Filing;
        rec.filing_started_at = Some(now);
        self.put(&rec)?;
        Ok(BeginFiling::Proceed(Box::new(rec)))
    }

    /// Why nothing more may be sent to `vendor` at `now`: a pause, or one of
    /// the caps reached (filings and follow-ups count alike). `None`: go ahead.
    pub fn cap_refusal(&self, vendor: &str, now: Timestamp, caps: Caps) -> Result<Option<String>> {
        if let Some(paused) = self.pause_refusal(vendor)? {
            return Ok(Some(paused));
        }
        let day = self.filings_since(vendor, now - SignedDuration::from_hours(24))?;
        if day >= caps.per_day {
            return Ok(Some(format!(
                "cap reached: {day} probe(s) to {vendor} in the last 24 h (per-day cap {})",
                caps.per_day
            )));
        }
        let week = self.filings_since(vendor, now - SignedDuration::from_hours(24 * 7))?;
        if week >= caps.per_week {
            return Ok(Some(format!(
                "cap reached: {week} probe(s) to {vendor} in the last 7 days (per-week cap {})",
                caps.per_week
            )));
        }
        if let Some(max) = caps.global_per_hour {
            let n = self.filings_since_all(now - SignedDuration::from_hours(1))?;
            if n >= max {
                return Ok(Some(format!(
                    "global cap reached: {n} probe(s) to all vendors in the last hour \
                     (max-filings-per-hour {max})"
                )));
            }
        }
        Ok(None)
    }

    /// The probe a Message-ID belongs to.
    pub fn probe_by_message_id(&self, message_id: &str) -> Result<Option<ProbeId>> {
        let t = self.txn.open_table(BY_MESSAGE_ID)?;
        Ok(t.get(message_id)?
            .and_then(|v| ProbeId::parse(v.value()).ok()))
    }

    /// The probe a token belongs to.
    pub fn probe_by_token(&self, token: &str) -> Result<Option<ProbeId>> {
        let t = self.txn.open_table(BY_TOKEN)?;
        Ok(t.get(token)?.and_then(|v| ProbeId::parse(v.value()).ok()))
    }

    /// Probes a vendor ticket reference has been seen on, oldest first.
    pub fn probes_by_ref(&self, reference: &str) -> Result<Vec<ProbeId>> {
        let t = self.txn.open_table(BY_REF)?;
        match t.get(reference)? {
            Some(v) => decode(reference, v.value()),
            None => Ok(Vec::new()),
        }
    }

    /// Records that `reference` was seen on probe `id`.
    pub fn add_ref(&mut self, reference: &str, id: &ProbeId) -> Result<()> {
        let mut ids = self.probes_by_ref(reference)?;
        if !ids.contains(id) {
            ids.push(id.clone());
            let bytes = encode(reference, &ids)?;
            self.txn
                .open_table(BY_REF)?
                .insert(reference, bytes.as_slice())?;
        }
        Ok(())
    }

    /// Messages of `vendor` with this body fingerprint: (probe id, message key).
    pub fn fingerprint_hits(
        &self,
        vendor: &str,
        fingerprint: &str,
    ) -> Result<Vec<(ProbeId, String)>> {
        let key = vendor_key(vendor, fingerprint);
        let t = self.txn.open_table(FINGERPRINTS)?;
        match t.get(key.as_str())? {
            Some(v) => decode(&key, v.value()),
            None => Ok(Vec::new()),
        }
    }

    /// Records a message's body fingerprint.
    pub fn add_fingerprint(
        &mut self,
        vendor: &str,
        fingerprint: &str,
        id: &ProbeId,
        message_key: &str,
    ) -> Result<()> {
        let mut hits = self.fingerprint_hits(vendor, fingerprint)?;
        let entry = (id.clone(), message_key.to_string());
        if !hits.contains(&entry) {
            hits.push(entry);
            let key = vendor_key(vendor, fingerprint);
            let bytes = encode(&key, &hits)?;
            self.txn
                .open_table(FINGERPRINTS)?
                .insert(key.as_str(), bytes.as_slice())?;
        }
        Ok(())
    }

    /// The last fire already planned for (probe, zone).
    pub fn last_planned(&self, probe: &str, zone: &str) -> Result<Option<Timestamp>> {
        let key = vendor_key(probe, zone);
        let t = self.txn.open_table(PLANS)?;
        t.get(key.as_str())?
            .map(|v| decode(&key, v.value()))
            .transpose()
    }

    /// Records the last fire planned for (probe, zone).
    pub fn set_last_planned(&mut self, probe: &str, zone: &str, at: Timestamp) -> Result<()> {
        let key = vendor_key(probe, zone);
        let bytes = encode(&key, &at)?;
        self.txn
            .open_table(PLANS)?
            .insert(key.as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// A channel's checkpoint.
    pub fn cursor(&self, key: &str) -> Result<Option<Cursor>> {
        let t = self.txn.open_table(CURSORS)?;
        t.get(key)?.map(|v| decode(key, v.value())).transpose()
    }

    /// Sets a channel's checkpoint.
    pub fn set_cursor(&mut self, key: &str, cursor: &Cursor) -> Result<()> {
        let bytes = encode(key, cursor)?;
        self.txn
            .open_table(CURSORS)?
            .insert(key, bytes.as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn planned(vendor: &str, at: &str) -> ProbeRecord {
        let at: Timestamp = at.parse().unwrap();
        ProbeRecord {
            probe: "nightly".into(),
            vendor: vendor.into(),
            message_id: Some(format!("{}@probe.test", at.as_second())),
            ..crate::model::tests::record(at)
        }
    }

    const CAPS: Caps = Caps {
        per_day: 2,
        per_week: 3,
        global_per_hour: None,
    };

    #[test]
    fn caps_are_counted_from_the_store_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let times = [
            "2026-11-02T01:00:00Z",
            "2026-11-02T02:00:00Z",
            "2026-11-02T03:00:00Z",
        ];
        let recs: Vec<_> = times.iter().map(|t| planned("acme", t)).collect();
        {
            let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
            store
                .write(|tx| recs.iter().try_for_each(|r| tx.put(r)))
                .unwrap();
            for (r, t) in recs.iter().zip(times).take(2) {
                let out = store
                    .write(|tx| tx.begin_filing(&r.id, t.parse().unwrap(), CAPS, None))
                    .unwrap();
                assert!(matches!(out, BeginFiling::Proceed(_)), "{out:?}");
            }
        }
        // A new process sees the same counts: the cap is not an in-memory counter.
        let store = Store::open(dir.path(), Mode::Shared).unwrap();
        let out = store
            .write(|tx| tx.begin_filing(&recs[2].id, times[2].parse().unwrap(), CAPS, None))
            .unwrap();
        match out {
            BeginFiling::Refused(reason) => assert!(reason.contains("per-day cap 2"), "{reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            store.get(&recs[2].id).unwrap().unwrap().state,
            ProbeState::Skipped
        );
    }

    #[test]
    fn a_probe_leaves_planned_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let r = planned("acme", "2026-11-02T01:00:00Z");
        store.write(|tx| tx.put(&r)).unwrap();
        let now: Timestamp = "2026-11-02T01:00:00Z".parse().unwrap();
        let first = store
            .write(|tx| tx.begin_filing(&r.id, now, CAPS, None))
            .unwrap();
        assert!(matches!(first, BeginFiling::Proceed(_)));
        let second = store
            .write(|tx| tx.begin_filing(&r.id, now, CAPS, None))
            .unwrap();
        assert_eq!(second, BeginFiling::NotPlanned(ProbeState::Filing));
    }

    #[test]
    fn not_filed_probes_do_not_count_against_caps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let now: Timestamp = "2026-11-02T01:00:00Z".parse().unwrap();
        let r = planned("acme", "2026-11-02T01:00:00Z");
        store.write(|tx| tx.put(&r)).unwrap();
        store
            .write(|tx| tx.begin_filing(&r.id, now, CAPS, None))
            .unwrap();
        assert_eq!(
            store
                .write(|tx| tx.filings_since("acme", now - SignedDuration::from_hours(1)))
                .unwrap(),
            1
        );
        store
            .write(|tx| tx.update(&r.id, |p| p.state = ProbeState::NotFiled))
            .unwrap();
        assert_eq!(
            store
                .write(|tx| tx.filings_since("acme", now - SignedDuration::from_hours(1)))
                .unwrap(),
            0
        );
    }

    #[test]
    fn a_failed_closure_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let r = planned("acme", "2026-11-02T01:00:00Z");
        let out: Result<(), StoreError> = store.write(|tx| {
            tx.put(&r)?;
            Err(StoreError::Busy {
                path: PathBuf::new(),
                waited_secs: 0,
            })
        });
        assert!(out.is_err());
        assert!(store.get(&r.id).unwrap().is_none());
        assert!(store.active().unwrap().is_empty());
    }

    #[test]
    fn indexes_find_probes_by_message_id_token_and_ref() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let r = planned("acme", "2026-11-02T01:00:00Z");
        store
            .write(|tx| {
                tx.put(&r)?;
                tx.add_ref("#4711", &r.id)?;
                tx.add_ref("#4711", &r.id)?;
                tx.add_fingerprint("acme", "abc", &r.id, "k1")
            })
            .unwrap();
        store
            .write(|tx| {
                assert_eq!(
                    tx.probe_by_message_id(r.message_id.as_deref().unwrap())?,
                    Some(r.id.clone())
                );
                assert_eq!(tx.probe_by_token(&r.token)?, Some(r.id.clone()));
                assert_eq!(tx.probes_by_ref("#4711")?, vec![r.id.clone()]);
                assert_eq!(tx.fingerprint_hits("acme", "abc")?.len(), 1);
                assert!(tx.fingerprint_hits("other", "abc")?.is_empty());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(FILE_NAME)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", SCHEMA_VERSION + 1)
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(dir.path(), Mode::Shared).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    }
}
