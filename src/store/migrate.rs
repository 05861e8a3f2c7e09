//! Store schema versions and forward migrations.
//!
//! The `meta` table holds `schema_version`. Opening a store runs [`run`]:
//!
//! - a new, empty file gets every table and the current [`SCHEMA_VERSION`];
//! - an older store is upgraded in place, one step per version, all in one
//!   write transaction (a crash mid-way leaves the old version intact, and
//!   the next start tries again);
//! - a newer store is refused with [`StoreError::TooNew`]: this build does
//!   not know what the newer one wrote, and must not rewrite it.
//!
//! Versions: 1 → 2 added `control` and `filings_by_time`; 2 → 3 deflated
//! the records (see `codec`) and added `readings` (see `rows`); 3 → 4
//! rewrote every reading row with its `unsure` flag and added `unmatched`
//! (see `unmatched`); 4 → 5 rewrote every reading row with the
//! scorecard's figures (see `rows`).
//!
//! Adding a version: bump [`SCHEMA_VERSION`], append a step to [`STEPS`]
//! that turns version N-1 into N, and add a test that builds an N-1 store.

use std::path::Path;

use redb::{Database, ReadableTable, WriteTransaction};

use super::{
    ACTIVE, BY_MESSAGE_ID, BY_REF, BY_TOKEN, CONTROL, CURSORS, FILINGS, FILINGS_BY_TIME,
    FINGERPRINTS, META, PLANS, PROBES, Result, SCHEMA_VERSION, SEP, StoreError,
};

/// One upgrade: from `from` to `from + 1`.
struct Step {
    from: u64,
    what: &'static str,
    apply: fn(&WriteTransaction) -> Result<()>,
}

/// The upgrades, in order. `STEPS[i].from == i + 1`.
const STEPS: &[Step] = &[
    Step {
        from: 1,
        what: "add the control table (pause flags) and a time-ordered index of filings for the global rate ceiling",
        apply: v1_to_v2,
    },
    Step {
        from: 2,
        what: "deflate the probe records and add the readings table (a compact row per probe, ordered by period) for reports",
        apply: v2_to_v3,
    },
    Step {
        from: 3,
        what: "mark each reading row that rests on an unsure classification, and add the unmatched table (replies that matched no probe, for review)",
        apply: v3_to_v4,
    },
    Step {
        from: 4,
        what: "add the scorecard's figures (any human reply, the first reply's traits, resolution, vendor follow-ups) to each reading row",
        apply: v4_to_v5,
    },
];

/// Brings the store in `db` to [`SCHEMA_VERSION`], or refuses a newer one.
/// Returns the version found before (None for a new file).
pub(super) fn run(db: &Database, path: &Path) -> Result<Option<u64>> {
    let txn = db.begin_write()?;
    let found = {
        let meta = txn.open_table(META)?;
        meta.get("schema_version")?.map(|v| v.value())
    };
    match found {
        Some(v) if v > SCHEMA_VERSION => {
            txn.abort()?;
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: v,
            });
        }
        Some(v) if v < SCHEMA_VERSION => {
            for step in STEPS.iter().filter(|s| s.from >= v) {
                tracing::info!(
                    store = %path.display(),
                    from = step.from,
                    to = step.from + 1,
                    "migrating the store: {}",
                    step.what
                );
                (step.apply)(&txn)?;
            }
        }
        _ => {}
    }
    create_tables(&txn)?;
    txn.open_table(META)?
        .insert("schema_version", SCHEMA_VERSION)?;
    txn.commit()?;
    Ok(found)
}

/// Creates every table of the current schema, so read transactions can open
/// them without a "table does not exist" case.
fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(PROBES)?;
    txn.open_table(ACTIVE)?;
    txn.open_table(BY_MESSAGE_ID)?;
    txn.open_table(BY_TOKEN)?;
    txn.open_table(BY_REF)?;
    txn.open_table(FINGERPRINTS)?;
    txn.open_table(FILINGS)?;
    txn.open_table(FILINGS_BY_TIME)?;
    txn.open_table(PLANS)?;
    txn.open_table(CURSORS)?;
    txn.open_table(CONTROL)?;
    txn.open_table(super::rows::READINGS)?;
    txn.open_table(super::unmatched::UNMATCHED)?;
    Ok(())
}

/// v4 → v5: every reading row written anew from its record, now with the
/// scorecard's figures. A v4 row still decodes, but as "no human reply, no
/// follow-up", which is false for any probe that had one.
fn v4_to_v5(txn: &WriteTransaction) -> Result<()> {
    super::rows::backfill(txn)
}

/// v3 → v4: every reading row written anew from its record, now with the
/// `unsure` flag (a v3 row still decodes, as not unsure, but would hide
/// the doubt), and the `unmatched` table.
fn v3_to_v4(txn: &WriteTransaction) -> Result<()> {
    super::rows::backfill(txn)?;
    txn.open_table(super::unmatched::UNMATCHED)?;
    Ok(())
}

/// v2 → v3: every record re-stored deflated (`codec`), then a reading
/// row for each (`rows`).
fn v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    let ids: Vec<String> = {
        let probes = txn.open_table(PROBES)?;
        let mut out = Vec::new();
        for row in probes.iter()? {
            let (k, _) = row?;
            out.push(k.value().to_string());
        }
        out
    };
    let mut probes = txn.open_table(PROBES)?;
    for id in ids {
        let rec: Option<crate::model::ProbeRecord> = probes
            .get(id.as_str())?
            .map(|v| super::codec::decode_record(&id, v.value()))
            .transpose()?;
        if let Some(rec) = rec {
            let bytes = super::codec::encode_record(&id, &rec)?;
            probes.insert(id.as_str(), bytes.as_slice())?;
        }
    }
    drop(probes);
    super::rows::backfill(txn)
}

/// v1 → v2: `filings` is keyed vendor first, which cannot answer "how many
/// filings to anyone in the last hour" without a full scan; v2 adds
/// `filings_by_time` (filing second, probe id → vendor), backfilled here
/// from every existing `filings` row, and the `control` table.
fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    let rows: Vec<String> = {
        let filings = txn.open_table(FILINGS)?;
        let mut out = Vec::new();
        for row in filings.iter()? {
            let (k, _) = row?;
            out.push(k.value().to_string());
        }
        out
    };
    let mut by_time = txn.open_table(FILINGS_BY_TIME)?;
    for key in rows {
        let mut parts = key.splitn(3, SEP);
        if let (Some(vendor), Some(second), Some(id)) = (parts.next(), parts.next(), parts.next()) {
            let time_key = format!("{second}{SEP}{id}");
            by_time.insert(time_key.as_str(), vendor)?;
        }
    }
    txn.open_table(CONTROL)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use redb::TableDefinition;

    use super::*;
    use crate::store::{Mode, Store, tests::planned};

    /// Writes a store exactly as schema version 1 did: its tables only, its
    /// key formats, `schema_version = 1`.
    fn build_v1(path: &Path, filings: &[(&str, i64, &str)], probes: &[(&str, Vec<u8>)]) {
        const V1_PROBES: TableDefinition<&str, &[u8]> = TableDefinition::new("probes");
        const V1_FILINGS: TableDefinition<&str, ()> = TableDefinition::new("filings");
        const V1_META: TableDefinition<&str, u64> = TableDefinition::new("meta");
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut f = txn.open_table(V1_FILINGS).unwrap();
            for (vendor, second, id) in filings {
                let key = format!("{vendor}{SEP}{second:020}{SEP}{id}");
                f.insert(key.as_str(), ()).unwrap();
            }
            let mut p = txn.open_table(V1_PROBES).unwrap();
            for (id, json) in probes {
                p.insert(*id, json.as_slice()).unwrap();
            }
            // The other tables of v1, empty: same names and types as v1 had.
            let bytes_tables = ["by_ref", "fingerprints", "plans", "cursors"];
            for name in bytes_tables {
                txn.open_table(TableDefinition::<&str, &[u8]>::new(name))
                    .unwrap();
            }
            for name in ["by_message_id", "by_token"] {
                txn.open_table(TableDefinition::<&str, &str>::new(name))
                    .unwrap();
            }
            txn.open_table(TableDefinition::<&str, ()>::new("active"))
                .unwrap();
            txn.open_table(V1_META)
                .unwrap()
                .insert("schema_version", 1)
                .unwrap();
        }
        txn.commit().unwrap();
    }

    #[test]
    fn a_v1_store_is_migrated_in_place_and_keeps_its_records_and_cap_counts() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-02T12:00:00Z".parse().unwrap();
        let rec = planned("acme", "2026-11-02T11:30:00Z");
        let json = serde_json::to_vec(&rec).unwrap();
        let recent = now.as_second() - 600;
        let old = now.as_second() - 3 * 3600;
        build_v1(
            &dir.path().join(crate::store::FILE_NAME),
            &[
                ("acme", recent, "01AAAAAAAAAAAAAAAAAAAAAAAA"),
                ("globex", recent, "01BBBBBBBBBBBBBBBBBBBBBBBB"),
                ("acme", old, "01CCCCCCCCCCCCCCCCCCCCCCCC"),
            ],
            &[(rec.id.as_str(), json)],
        );

        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        // The v1 record is still readable.
        assert_eq!(store.get(&rec.id).unwrap().unwrap().vendor, "acme");
        // The backfilled index answers the global question...
        let hour_ago = now - SignedDuration::from_hours(1);
        let all = store.write(|tx| tx.filings_since_all(hour_ago)).unwrap();
        assert_eq!(all, 2);
        // ...and the per-vendor counts are unchanged.
        let acme = store
            .write(|tx| tx.filings_since("acme", now - SignedDuration::from_hours(24)))
            .unwrap();
        assert_eq!(acme, 2);
        // The control table exists: pausing works on a migrated store.
        store.pause(Some("acme"), now, None).unwrap();
        assert_eq!(store.pauses().unwrap().len(), 1);
        drop(store);
        // Opening again is a no-op: the migration ran once.
        let again = Store::open(dir.path(), Mode::Shared).unwrap();
        assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(again.write(|tx| tx.filings_since_all(hour_ago)).unwrap(), 2);
    }

    #[test]
    fn a_v2_store_is_deflated_and_gets_a_reading_row_for_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut answered = planned("acme", "2026-11-02T11:30:00Z");
        answered.state = crate::model::ProbeState::Answered;
        answered.filed_at = Some("2026-11-02T11:31:02.5Z".parse().unwrap());
        answered.first_human_at = Some("2026-11-02T12:00:00Z".parse().unwrap());
        let waiting = planned("globex", "2026-11-03T09:00:00Z");
        {
            // A v2 store: the indexes v2 wrote, the records as plain JSON,
            // no readings table.
            let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
            store
                .write(|tx| {
                    tx.put(&answered)?;
                    tx.put(&waiting)
                })
                .unwrap();
            drop(store);
            let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
            let txn = db.begin_write().unwrap();
            assert!(txn.delete_table(super::super::rows::READINGS).unwrap());
            {
                let mut probes = txn.open_table(PROBES).unwrap();
                for rec in [&answered, &waiting] {
                    let json = serde_json::to_vec(rec).unwrap();
                    probes.insert(rec.id.as_str(), json.as_slice()).unwrap();
                }
            }
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 2)
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let rows = store.reading_rows(None).unwrap();
        assert_eq!(
            rows,
            vec![
                crate::model::ReadingRow::of(&answered),
                crate::model::ReadingRow::of(&waiting)
            ]
        );
        // The backfilled rows are kept in step by later writes.
        let mut filed = waiting.clone();
        filed.state = crate::model::ProbeState::Filed;
        filed.filed_at = Some("2026-11-04T09:00:00Z".parse().unwrap());
        store.write(|tx| tx.put(&filed)).unwrap();
        let rows = store.reading_rows(None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], crate::model::ReadingRow::of(&filed));
        assert_eq!(store.get(&answered.id).unwrap(), Some(answered.clone()));
        drop(store);
        // Every record is now stored deflated.
        let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let probes = txn.open_table(PROBES).unwrap();
        for rec in [&answered, &filed] {
            let v = probes.get(rec.id.as_str()).unwrap().unwrap();
            assert_eq!(v.value()[0], 1, "{}", rec.id);
        }
    }

    #[test]
    fn a_v3_store_gets_its_rows_marked_unsure_and_an_unmatched_table() {
        use crate::model::{Class, Confidence, MatchedBy, MessageRecord, ProbeState, TimeSource};
        let dir = tempfile::tempdir().unwrap();
        let mut doubtful = planned("acme", "2026-11-02T11:30:00Z");
        doubtful.state = ProbeState::Filed;
        doubtful.filed_at = Some("2026-11-02T11:30:00Z".parse().unwrap());
        doubtful.messages.push(MessageRecord {
            key: "k1".into(),
            message_id: None,
            at: "2026-11-02T11:40:00Z".parse().unwrap(),
            time_source: TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: None,
            subject: None,
            class: Class::Human,
            confidence: Confidence::Unsure,
            reasons: vec!["could not be read".into()],
            relabel: None,
            matched_by: MatchedBy::Token,
            fingerprint: None,
            vendor_refs: vec![],
            notes: vec![],
            markers: vec![],
            quality: None,
        });
        doubtful.recompute();
        assert_eq!(doubtful.state, ProbeState::Answered);
        let plain = planned("globex", "2026-11-03T09:00:00Z");
        {
            // A v3 store: rows in the v3 encoding (no unsure byte), no
            // unmatched table.
            let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
            store
                .write(|tx| {
                    tx.put(&doubtful)?;
                    tx.put(&plain)
                })
                .unwrap();
            drop(store);
            let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
            let txn = db.begin_write().unwrap();
            assert!(
                txn.delete_table(super::super::unmatched::UNMATCHED)
                    .unwrap()
            );
            {
                let mut rows = txn.open_table(super::super::rows::READINGS).unwrap();
                let keys: Vec<String> = rows
                    .iter()
                    .unwrap()
                    .map(|e| e.unwrap().0.value().to_string())
                    .collect();
                for k in keys {
                    let mut v = rows.get(k.as_str()).unwrap().unwrap().value().to_vec();
                    // The v3 row: format byte 1, no trailing unsure byte.
                    v[0] = 1;
                    v.pop();
                    rows.insert(k.as_str(), v.as_slice()).unwrap();
                }
            }
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 3)
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let rows = store.reading_rows(None).unwrap();
        assert_eq!(
            rows,
            vec![
                crate::model::ReadingRow::of(&doubtful),
                crate::model::ReadingRow::of(&plain)
            ]
        );
        assert!(rows[0].unsure, "the migration marked the doubtful reading");
        assert!(!rows[1].unsure);
        assert!(store.unmatched().unwrap().is_empty(), "the table exists");
        assert_eq!(store.get(&doubtful.id).unwrap(), Some(doubtful));
    }

    #[test]
    fn a_v4_store_gets_the_scorecard_figures_in_its_rows() {
        use crate::model::{Class, MatchedBy, MessageRecord, ProbeState, TimeSource};
        let dir = tempfile::tempdir().unwrap();
        let msg = |key: &str, at: &str| MessageRecord {
            key: key.into(),
            message_id: None,
            at: at.parse().unwrap(),
            time_source: TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: None,
            subject: None,
            class: Class::Human,
            confidence: Default::default(),
            reasons: vec![],
            relabel: None,
            matched_by: MatchedBy::Token,
            fingerprint: None,
            vendor_refs: vec![],
            notes: vec![],
            markers: vec![],
            quality: None,
        };
        // Answered, then the vendor wrote again unasked: one follow-up.
        let mut talked = planned("acme", "2026-11-02T11:30:00Z");
        talked.state = ProbeState::Filed;
        talked.filed_at = Some("2026-11-02T11:30:00Z".parse().unwrap());
        talked.messages.push(msg("k1", "2026-11-02T11:40:00Z"));
        talked.messages.push(msg("k2", "2026-11-03T09:00:00Z"));
        talked.recompute();
        assert_eq!(talked.state, ProbeState::Answered);
        let plain = planned("globex", "2026-11-03T09:00:00Z");
        {
            // A v4 store: rows in the v4 encoding (they end at the unsure
            // byte).
            let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
            store
                .write(|tx| {
                    tx.put(&talked)?;
                    tx.put(&plain)
                })
                .unwrap();
            drop(store);
            let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut rows = txn.open_table(super::super::rows::READINGS).unwrap();
                let keys: Vec<String> = rows
                    .iter()
                    .unwrap()
                    .map(|e| e.unwrap().0.value().to_string())
                    .collect();
                for k in keys {
                    let mut v = rows.get(k.as_str()).unwrap().unwrap().value().to_vec();
                    // Cut the scorecard's figures, one byte each here:
                    // flags, rounds (none), resolution time (none), and
                    // the follow-ups.
                    v.truncate(v.len() - 4);
                    v[0] = 2;
                    rows.insert(k.as_str(), v.as_slice()).unwrap();
                }
            }
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 4)
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let rows = store.reading_rows(None).unwrap();
        assert_eq!(
            rows,
            vec![
                crate::model::ReadingRow::of(&talked),
                crate::model::ReadingRow::of(&plain)
            ]
        );
        assert!(rows[0].replied);
        assert_eq!(rows[0].vendor_follow_ups, 1);
        assert!(!rows[1].replied);
    }

    #[test]
    fn a_new_store_starts_at_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_newer_store_is_refused_with_a_message_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", SCHEMA_VERSION + 5)
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(dir.path(), Mode::Shared).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("schema version {}", SCHEMA_VERSION + 5)),
            "{text}"
        );
        assert!(text.contains("use a newer probe"), "{text}");
        // Refused means untouched: the version is still the newer one.
        let db = Database::create(dir.path().join(crate::store::FILE_NAME)).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let v = txn
            .open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .unwrap()
            .value();
        assert_eq!(v, SCHEMA_VERSION + 5);
    }
}
