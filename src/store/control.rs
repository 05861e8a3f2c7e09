//! Operator controls kept in the store: pause flags (`probe pause` /
//! `probe resume`), the global rate ceiling's count, retiring planned fires
//! the config no longer wants or a later fire supersedes, and the reads
//! `/metrics` needs.
//!
//! The flags live in the `control` table, so a `probe pause` in a terminal
//! takes effect in a running daemon without any signal: they are read by
//! [`WriteTx::begin_filing`] in the same transaction that would mark a probe
//! `filing`, so a paused vendor is never filed, whatever the scheduler does.
//!
//! Keys of `control`: `pause` SEP `*` (everything) or `pause` SEP vendor →
//! JSON [`Pause`]. Keys of `filings_by_time`: zero-padded filing second SEP
//! probe id → vendor (kept by [`WriteTx::put`] next to `filings`).

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

use super::{
    ACTIVE, CONTROL, FILINGS_BY_TIME, META, PLANS, PROBES, Result, SEP, Store, WriteTx, decode,
    encode, vendor_key,
};
use crate::model::ProbeState;

/// The key part that stands for "every vendor".
const ALL: &str = "*";

/// A pause flag: nothing (or nothing to one vendor) is filed while it is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// The vendor paused, or `None` for everything.
    pub vendor: Option<String>,
    /// When it was set (the clock of the process that set it).
    pub since: Timestamp,
    /// Why, if the operator said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Pause {
    /// "everything" or "vendor NAME".
    pub fn scope(&self) -> String {
        match &self.vendor {
            None => "everything".to_string(),
            Some(v) => format!("vendor {v}"),
        }
    }
}

fn pause_key(vendor: Option<&str>) -> String {
    format!("pause{SEP}{}", vendor.unwrap_or(ALL))
}

pub(super) fn time_key(second: &str, id: &str) -> String {
    format!("{second}{SEP}{id}")
}

impl Store {
    /// Sets a pause flag (`None` = everything). Returns false if it was already set.
    pub fn pause(
        &self,
        vendor: Option<&str>,
        at: Timestamp,
        reason: Option<String>,
    ) -> Result<bool> {
        let key = pause_key(vendor);
        let flag = Pause {
            vendor: vendor.map(str::to_string),
            since: at,
            reason,
        };
        self.write(|tx| {
            let mut t = tx.txn.open_table(CONTROL)?;
            if t.get(key.as_str())?.is_some() {
                return Ok(false);
            }
            let bytes = encode(&key, &flag)?;
            t.insert(key.as_str(), bytes.as_slice())?;
            Ok(true)
        })
    }

    /// Clears the pause of one vendor, or with `None` every pause flag.
    /// Returns the flags removed.
    pub fn resume(&self, vendor: Option<&str>) -> Result<Vec<Pause>> {
        self.write(|tx| {
            let mut removed = Vec::new();
            let keys: Vec<String> = match vendor {
                Some(v) => vec![pause_key(Some(v))],
                None => tx
                    .pause_flags()?
                    .iter()
                    .map(|p| pause_key(p.vendor.as_deref()))
                    .collect(),
            };
            let mut t = tx.txn.open_table(CONTROL)?;
            for key in keys {
                if let Some(v) = t.remove(key.as_str())? {
                    removed.push(decode(&key, v.value())?);
                }
            }
            Ok(removed)
        })
    }

    /// Every pause flag in force, "everything" first.
    pub fn pauses(&self) -> Result<Vec<Pause>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(CONTROL)?;
            let mut out = Vec::new();
            for row in t.range(format!("pause{SEP}").as_str()..format!("pause{SEP}~").as_str())? {
                let (k, v) = row?;
                out.push(decode(k.value(), v.value())?);
            }
            out.sort_by_key(|p: &Pause| p.vendor.clone());
            Ok(out)
        })
    }

    /// The schema version written in the store.
    pub fn schema_version(&self) -> Result<u64> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(META)?;
            Ok(t.get("schema_version")?.map_or(0, |v| v.value()))
        })
    }
}

impl WriteTx<'_> {
    fn pause_flags(&self) -> Result<Vec<Pause>> {
        let t = self.txn.open_table(CONTROL)?;
        let mut out = Vec::new();
        for row in t.range(format!("pause{SEP}").as_str()..format!("pause{SEP}~").as_str())? {
            let (k, v) = row?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Why `vendor` may not be filed now because of a pause flag, if it is paused.
    pub fn pause_refusal(&self, vendor: &str) -> Result<Option<String>> {
        let t = self.txn.open_table(CONTROL)?;
        for scope in [None, Some(vendor)] {
            let key = pause_key(scope);
            if let Some(v) = t.get(key.as_str())? {
                let p: Pause = decode(&key, v.value())?;
                let reason = p
                    .reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Ok(Some(format!(
                    "paused: {} paused since {} (`probe resume` lifts it){reason}",
                    p.scope(),
                    p.since
                )));
            }
        }
        Ok(None)
    }

    /// How many probes to any vendor may have reached it in `[since, now]`.
    pub fn filings_since_all(&self, since: Timestamp) -> Result<u32> {
        let t = self.txn.open_table(FILINGS_BY_TIME)?;
        let lo = format!("{:020}", since.as_second().max(0));
        let mut n = 0u32;
        for row in t.range(lo.as_str()..)? {
            row?;
            n = n.saturating_add(1);
        }
        Ok(n)
    }

    /// Keeps `filings_by_time` in step with `filings` (called by `put`).
    pub(super) fn index_filing_time(
        &mut self,
        second: &str,
        id: &str,
        vendor: &str,
        reached: bool,
    ) -> Result<()> {
        let key = time_key(second, id);
        let mut t = self.txn.open_table(FILINGS_BY_TIME)?;
        if reached {
            t.insert(key.as_str(), vendor)?;
        } else {
            t.remove(key.as_str())?;
        }
        Ok(())
    }

    /// Skips the scheduled, still planned fires of (`probe`, `zone`) for
    /// instants before `fire`: a later fire is due and supersedes them.
    pub fn supersede_planned(
        &mut self,
        probe: &str,
        zone: &str,
        fire: Timestamp,
        reason: &str,
    ) -> Result<usize> {
        self.skip_planned(probe, zone, reason, |r| {
            r.scheduled_for < fire && r.origin == crate::model::Origin::Schedule
        })
    }

    /// Retires one planned fire: it becomes `skipped` with `reason`, and the
    /// last-planned fire of its (probe, zone) is forgotten so planning starts
    /// again from now. Returns false if the probe was no longer planned.
    pub fn retire_planned(&mut self, id: &crate::model::ProbeId, reason: &str) -> Result<bool> {
        let Some(mut rec) = self.get(id)? else {
            return Ok(false);
        };
        if rec.state != ProbeState::Planned {
            return Ok(false);
        }
        rec.state = ProbeState::Skipped;
        rec.state_reason = Some(reason.to_string());
        self.put(&rec)?;
        let key = vendor_key(&rec.probe, &rec.zone);
        self.txn.open_table(PLANS)?.remove(key.as_str())?;
        Ok(true)
    }

    fn skip_planned(
        &mut self,
        probe: &str,
        zone: &str,
        reason: &str,
        select: impl Fn(&crate::model::ProbeRecord) -> bool,
    ) -> Result<usize> {
        let ids: Vec<String> = {
            let active = self.txn.open_table(ACTIVE)?;
            let mut out = Vec::new();
            for row in active.iter()? {
                let (k, _) = row?;
                out.push(k.value().to_string());
            }
            out
        };
        let mut skipped = 0;
        for id in ids {
            let rec = {
                let probes = self.txn.open_table(PROBES)?;
                let v = probes.get(id.as_str())?;
                match v {
                    Some(v) => {
                        super::codec::decode_record::<crate::model::ProbeRecord>(&id, v.value())?
                    }
                    None => continue,
                }
            };
            if rec.state == ProbeState::Planned
                && rec.probe == probe
                && rec.zone == zone
                && select(&rec)
            {
                let mut rec = rec;
                rec.state = ProbeState::Skipped;
                rec.state_reason = Some(reason.to_string());
                self.put(&rec)?;
                skipped += 1;
            }
        }
        Ok(skipped)
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::store::tests::planned;
    use crate::store::{BeginFiling, Caps, Mode};

    const CAPS: Caps = Caps {
        per_day: 5,
        per_week: 20,
        global_per_hour: None,
    };

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_paused_vendor_is_refused_inside_begin_filing_and_resume_lifts_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Shared).unwrap();
        let now = ts("2026-11-02T01:00:00Z");
        let a = planned("acme", "2026-11-02T01:00:00Z");
        let b = planned("acme", "2026-11-02T01:00:01Z");
        let g = planned("globex", "2026-11-02T01:00:02Z");
        store
            .write(|tx| [&a, &b, &g].iter().try_for_each(|r| tx.put(r)))
            .unwrap();
        assert!(
            store
                .pause(Some("acme"), now, Some("vendor asked".into()))
                .unwrap()
        );
        assert!(
            !store.pause(Some("acme"), now, None).unwrap(),
            "already paused"
        );
        // Even a caller that asks to file (no refusal of its own) is refused.
        match store
            .write(|tx| tx.begin_filing(&a.id, now, CAPS, None))
            .unwrap()
        {
            BeginFiling::Refused(r) => {
                assert!(r.starts_with("paused: vendor acme"), "{r}");
                assert!(r.contains("vendor asked"), "{r}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            store.get(&a.id).unwrap().unwrap().state,
            ProbeState::Skipped
        );
        // Another vendor is not affected.
        assert!(matches!(
            store
                .write(|tx| tx.begin_filing(&g.id, now, CAPS, None))
                .unwrap(),
            BeginFiling::Proceed(_)
        ));
        let removed = store.resume(Some("acme")).unwrap();
        assert_eq!(removed.len(), 1);
        assert!(matches!(
            store
                .write(|tx| tx.begin_filing(&b.id, now, CAPS, None))
                .unwrap(),
            BeginFiling::Proceed(_)
        ));
    }

    #[test]
    fn pausing_everything_refuses_every_vendor_and_a_bare_resume_clears_all_flags() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Shared).unwrap();
        let now = ts("2026-11-02T01:00:00Z");
        store.pause(None, now, None).unwrap();
        store.pause(Some("globex"), now, None).unwrap();
        let pauses = store.pauses().unwrap();
        assert_eq!(pauses.len(), 2);
        assert_eq!(pauses[0].vendor, None, "everything is listed first");
        let g = planned("globex", "2026-11-02T01:00:00Z");
        store.write(|tx| tx.put(&g)).unwrap();
        match store
            .write(|tx| tx.begin_filing(&g.id, now, CAPS, None))
            .unwrap()
        {
            BeginFiling::Refused(r) => assert!(r.starts_with("paused: everything"), "{r}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(store.resume(None).unwrap().len(), 2);
        assert!(store.pauses().unwrap().is_empty());
    }

    #[test]
    fn the_global_ceiling_counts_every_vendor_in_the_last_hour() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let caps = Caps {
            global_per_hour: Some(2),
            ..CAPS
        };
        let now = ts("2026-11-02T10:00:00Z");
        let recs: Vec<_> = ["acme", "globex", "initech"]
            .iter()
            .map(|v| planned(v, "2026-11-02T10:00:00Z"))
            .collect();
        store
            .write(|tx| recs.iter().try_for_each(|r| tx.put(r)))
            .unwrap();
        for r in &recs[..2] {
            assert!(matches!(
                store
                    .write(|tx| tx.begin_filing(&r.id, now, caps, None))
                    .unwrap(),
                BeginFiling::Proceed(_)
            ));
        }
        match store
            .write(|tx| tx.begin_filing(&recs[2].id, now, caps, None))
            .unwrap()
        {
            BeginFiling::Refused(r) => assert!(r.contains("max-filings-per-hour 2"), "{r}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // A not-filed probe gives its slot back.
        store
            .write(|tx| tx.update(&recs[0].id, |p| p.state = ProbeState::NotFiled))
            .unwrap();
        assert_eq!(
            store
                .write(|tx| tx.filings_since_all(now - SignedDuration::from_hours(1)))
                .unwrap(),
            1
        );
    }

    #[test]
    fn retiring_a_planned_fire_skips_it_and_forgets_its_last_plan() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let planned_fire = planned("acme", "2026-11-02T11:00:00Z");
        let mut other_zone = planned("acme", "2026-11-02T11:00:00Z");
        other_zone.zone = "Europe/Berlin".into();
        store
            .write(|tx| {
                [&planned_fire, &other_zone]
                    .iter()
                    .try_for_each(|r| tx.put(r))?;
                tx.set_last_planned("nightly", "UTC", planned_fire.scheduled_for)?;
                tx.set_last_planned("nightly", "Europe/Berlin", other_zone.scheduled_for)
            })
            .unwrap();
        assert!(
            store
                .write(|tx| tx.retire_planned(&planned_fire.id, "schedule changed"))
                .unwrap()
        );
        assert!(
            !store
                .write(|tx| tx.retire_planned(&planned_fire.id, "again"))
                .unwrap(),
            "only a planned fire is retired"
        );
        let r = store.get(&planned_fire.id).unwrap().unwrap();
        assert_eq!(
            (r.state, r.state_reason.as_deref()),
            (ProbeState::Skipped, Some("schedule changed"))
        );
        assert_eq!(store.last_planned("nightly", "UTC").unwrap(), None);
        assert_eq!(
            store.get(&other_zone.id).unwrap().unwrap().state,
            ProbeState::Planned
        );
        assert!(
            store
                .last_planned("nightly", "Europe/Berlin")
                .unwrap()
                .is_some()
        );
    }
}
