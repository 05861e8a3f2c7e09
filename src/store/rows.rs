//! The `readings` table (schema v3): one compact [`ReadingRow`] per probe,
//! ordered by the instant the probe belongs to a period by, so a weekly
//! report reads two weeks of small rows instead of decoding every full
//! JSON record in the store.
//!
//! Key: zero-padded anchor second (filed, or due for probes never filed),
//! `\u{1f}`, probe id. Value: the row's other fields in a small binary
//! encoding (below). [`WriteTx::put`] writes the row in the same
//! transaction as the record and moves it when the anchor changes, so a
//! row never disagrees with its record; the v2→v3 migration backfills it.
//!
//! Encoding, version 3: a version byte, then vendor, probe, persona and
//! channel as strings, the watch key (optional), the state and window as
//! one byte each, `due_at`, `filed_at`, `first_ack_at`, `first_human_at`,
//! `censored_at` as timestamps, `answer_within_secs`, `sla_target_secs`,
//! `state_reason`, `last_reply_subject`, `unsure` as a 0/1 byte, then the
//! scorecard's figures: one varint of flags (bit 0 `replied`, then two bits
//! per first-reply trait in [`ReadingRow::first_reply_traits`] order: 0 not
//! judged, 1 false, 2 true), `rounds_to_resolution` and
//! `time_to_resolution_secs` (optional), and `vendor_follow_ups`: four
//! bytes on a probe without any of them. Integers are LEB128 varints
//! (signed ones zigzagged); a string is its length and UTF-8 bytes; a
//! timestamp is its second and nanosecond; an optional value has a 0/1
//! byte in front.
//!
//! Version 2 (schema v4) ended at the `unsure` byte and version 1 (schema
//! v3) before it; both still decode (without the scorecard's figures, and
//! as not unsure), and the v3→v4 and v4→v5 migrations rewrote every row.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::Deserialize;

use super::{PROBES, Result, SEP, Store, StoreError, WriteTx};
use crate::model::{ProbeId, ProbeRecord, ProbeState, ReadingRow, Window};

pub(super) const READINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("readings");

const FORMAT: u8 = 3;
/// Rows of schema v4, without the scorecard's figures.
const FORMAT_V2: u8 = 2;
/// Rows of schema v3, without the `unsure` byte either.
const FORMAT_V1: u8 = 1;

const WINDOWS: [Window; 4] = [
    Window::BusinessHours,
    Window::OffHours,
    Window::Weekend,
    Window::Holiday,
];

fn key_second(at: Timestamp) -> String {
    format!("{:020}", at.as_second().max(0))
}

fn row_key(anchor: Timestamp, id: &ProbeId) -> String {
    format!("{}{SEP}{id}", key_second(anchor))
}

/// The two fields of a stored record that place its row.
#[derive(Deserialize)]
struct Anchor {
    due_at: Timestamp,
    #[serde(default)]
    filed_at: Option<Timestamp>,
}

/// The anchor of a stored record, read without decoding the rest.
pub(super) fn stored_anchor(id: &str, json: &[u8]) -> Result<Timestamp> {
    let a: Anchor = super::codec::decode_record(id, json)?;
    Ok(a.filed_at.unwrap_or(a.due_at))
}

impl WriteTx<'_> {
    /// Writes the row of `rec`, removing the one at `old_anchor` if the
    /// record was stored before under another anchor.
    pub(super) fn put_row(
        &mut self,
        old_anchor: Option<Timestamp>,
        rec: &ProbeRecord,
    ) -> Result<()> {
        write_row(self.txn, old_anchor, rec)
    }
}

fn write_row(
    txn: &WriteTransaction,
    old_anchor: Option<Timestamp>,
    rec: &ProbeRecord,
) -> Result<()> {
    let row = ReadingRow::of(rec);
    let key = row_key(row.anchor(), &rec.id);
    let mut t = txn.open_table(READINGS)?;
    if let Some(old) = old_anchor {
        let old_key = row_key(old, &rec.id);
        if old_key != key {
            t.remove(old_key.as_str())?;
        }
    }
    t.insert(key.as_str(), encode_row(&row).as_slice())?;
    Ok(())
}

/// v2 → v3, v3 → v4 and v4 → v5: a row for every stored record, written anew.
pub(super) fn backfill(txn: &WriteTransaction) -> Result<()> {
    let probes = txn.open_table(PROBES)?;
    for entry in probes.iter()? {
        let (k, v) = entry?;
        let rec: ProbeRecord = super::codec::decode_record(k.value(), v.value())?;
        write_row(txn, None, &rec)?;
    }
    Ok(())
}

impl Store {
    /// The reading rows of probes whose anchor (filed, or due when never
    /// filed) lies in `[from, until)`, or of every probe with `None`, in
    /// anchor order.
    pub fn reading_rows(&self, span: Option<(Timestamp, Timestamp)>) -> Result<Vec<ReadingRow>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            scan(&txn.open_table(READINGS)?, span)
        })
    }
}

impl WriteTx<'_> {
    /// [`Store::reading_rows`] inside a write transaction.
    pub fn reading_rows(&self, span: Option<(Timestamp, Timestamp)>) -> Result<Vec<ReadingRow>> {
        scan(&self.txn.open_table(READINGS)?, span)
    }
}

/// The rows of `t` whose anchor lies in `span` (all with `None`).
fn scan(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    span: Option<(Timestamp, Timestamp)>,
) -> Result<Vec<ReadingRow>> {
    let mut names = Interner::default();
    let mut out = Vec::new();
    let mut take = |k: &str, v: &[u8]| -> Result<()> {
        let row = decode_row(k, v, &mut names)
            .ok_or_else(|| StoreError::CorruptRow { key: k.to_string() })?;
        if span.is_none_or(|(from, until)| from <= row.anchor() && row.anchor() < until) {
            out.push(row);
        }
        Ok(())
    };
    match span {
        None => {
            for entry in t.iter()? {
                let (k, v) = entry?;
                take(k.value(), v.value())?;
            }
        }
        Some((from, until)) => {
            // Whole seconds bound the range; the exact test is above.
            let lo = key_second(from);
            let hi = format!("{:020}", until.as_second().max(0).saturating_add(1));
            for entry in t.range(lo.as_str()..hi.as_str())? {
                let (k, v) = entry?;
                take(k.value(), v.value())?;
            }
        }
    }
    Ok(out)
}

/// Shares the text that repeats on every row.
#[derive(Default)]
struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&a));
        a
    }
}

fn encode_row(r: &ReadingRow) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    out.push(FORMAT);
    for s in [&r.vendor, &r.probe, &r.persona, &r.channel] {
        put_str(&mut out, s);
    }
    put_opt(&mut out, r.watch_key.as_deref(), put_str);
    let state = ProbeState::ALL
        .iter()
        .position(|s| *s == r.state)
        .unwrap_or(0);
    out.push(u8::try_from(state).unwrap_or(0));
    let window = r
        .window
        .and_then(|w| WINDOWS.iter().position(|x| *x == w))
        .map_or(0, |i| i + 1);
    out.push(u8::try_from(window).unwrap_or(0));
    put_ts(&mut out, r.due_at);
    for t in [r.filed_at, r.first_ack_at, r.first_human_at, r.censored_at] {
        put_opt(&mut out, t, put_ts);
    }
    put_u64(&mut out, r.answer_within_secs);
    put_opt(&mut out, r.sla_target_secs, put_u64);
    put_opt(&mut out, r.state_reason.as_deref(), put_str);
    put_opt(&mut out, r.last_reply_subject.as_deref(), put_str);
    out.push(u8::from(r.unsure));
    put_u64(&mut out, scorecard_flags(r));
    put_opt(&mut out, r.rounds_to_resolution.map(u64::from), put_u64);
    put_opt(&mut out, r.time_to_resolution_secs, put_i64);
    put_u64(&mut out, u64::from(r.vendor_follow_ups));
    out
}

/// Bit 0 `replied`; then two bits per first-reply trait (0 not judged,
/// 1 false, 2 true).
fn scorecard_flags(r: &ReadingRow) -> u64 {
    let mut flags = u64::from(r.replied);
    for (i, t) in r.first_reply_traits().iter().enumerate() {
        let v = match t {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        flags |= v << (1 + 2 * i);
    }
    flags
}

/// The inverse of [`scorecard_flags`]; `None` for bits it never writes.
fn from_scorecard_flags(flags: u64) -> Option<(bool, [Option<bool>; 6])> {
    if flags >> 13 != 0 {
        return None;
    }
    let mut traits = [None; 6];
    for (i, t) in traits.iter_mut().enumerate() {
        *t = match (flags >> (1 + 2 * i)) & 3 {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        };
    }
    Some((flags & 1 == 1, traits))
}

fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_ts(out: &mut Vec<u8>, t: Timestamp) {
    put_i64(out, t.as_second());
    put_u64(out, u64::try_from(t.subsec_nanosecond()).unwrap_or(0));
}

fn put_opt<T>(out: &mut Vec<u8>, v: Option<T>, put: impl Fn(&mut Vec<u8>, T)) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put(out, v);
        }
    }
}

/// A cursor over an encoded row; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn i64(&mut self) -> Option<i64> {
        let v = self.u64()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.u64()?).ok()?;
        if len > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(s).ok()
    }

    fn ts(&mut self) -> Option<Timestamp> {
        let secs = self.i64()?;
        let nanos = i32::try_from(self.u64()?).ok()?;
        Timestamp::new(secs, nanos).ok()
    }

    fn opt<T>(&mut self, get: impl Fn(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.byte()? {
            0 => Some(None),
            1 => get(self).map(Some),
            _ => None,
        }
    }
}

fn decode_row(key: &str, value: &[u8], names: &mut Interner) -> Option<ReadingRow> {
    let (_, id) = key.split_once(SEP)?;
    let id = ProbeId::parse(id).ok()?;
    let mut r = Reader(value);
    let format = r.byte()?;
    if ![FORMAT, FORMAT_V2, FORMAT_V1].contains(&format) {
        return None;
    }
    let vendor = names.get(r.str()?);
    let probe = names.get(r.str()?);
    let persona = names.get(r.str()?);
    let channel = names.get(r.str()?);
    let watch_key = r
        .opt(|r| r.str().map(str::to_string))?
        .map(|k| names.get(&k));
    let state = *ProbeState::ALL.get(usize::from(r.byte()?))?;
    let window = match r.byte()? {
        0 => None,
        i => Some(*WINDOWS.get(usize::from(i) - 1)?),
    };
    let due_at = r.ts()?;
    let filed_at = r.opt(Reader::ts)?;
    let first_ack_at = r.opt(Reader::ts)?;
    let first_human_at = r.opt(Reader::ts)?;
    let censored_at = r.opt(Reader::ts)?;
    let answer_within_secs = r.u64()?;
    let sla_target_secs = r.opt(Reader::u64)?;
    let state_reason = r.opt(|r| r.str().map(str::to_string))?;
    let last_reply_subject = r.opt(|r| r.str().map(str::to_string))?;
    let unsure = match format {
        FORMAT_V1 => false,
        _ => match r.byte()? {
            0 => false,
            1 => true,
            _ => return None,
        },
    };
    let (replied, traits, rounds_to_resolution, time_to_resolution_secs, vendor_follow_ups) =
        if format == FORMAT {
            let (replied, traits) = from_scorecard_flags(r.u64()?)?;
            let rounds = match r.opt(Reader::u64)? {
                Some(n) => Some(u32::try_from(n).ok()?),
                None => None,
            };
            let ttr = r.opt(Reader::i64)?;
            let follow_ups = u32::try_from(r.u64()?).ok()?;
            (replied, traits, rounds, ttr, follow_ups)
        } else {
            (false, [None; 6], None, None, 0)
        };
    let mut row = ReadingRow {
        id,
        vendor,
        probe,
        persona,
        channel,
        watch_key,
        state,
        due_at,
        filed_at,
        window,
        answer_within_secs,
        sla_target_secs,
        first_ack_at,
        first_human_at,
        censored_at,
        state_reason,
        last_reply_subject,
        unsure,
        replied,
        language_match: None,
        personal: None,
        templated: None,
        specific: None,
        asks_back: None,
        answered_on_first_reply: None,
        rounds_to_resolution,
        time_to_resolution_secs,
        vendor_follow_ups,
    };
    row.set_first_reply_traits(traits);
    r.0.is_empty().then_some(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Mode, tests::planned};

    #[test]
    fn a_row_round_trips_with_sub_second_times_and_text() {
        let mut rec = planned("acme", "2026-11-02T01:00:00Z");
        rec.state = ProbeState::Answered;
        rec.window = Some(Window::Weekend);
        rec.filed_at = Some("2026-11-02T01:00:07.123456789Z".parse().unwrap());
        rec.first_human_at = Some("2026-11-02T03:00:00.5Z".parse().unwrap());
        rec.sla_target_secs = Some(3600);
        rec.state_reason = Some("a reason, with ünïcode".into());
        let row = ReadingRow::of(&rec);
        let key = row_key(row.anchor(), &rec.id);
        let bytes = encode_row(&row);
        let back = decode_row(&key, &bytes, &mut Interner::default()).unwrap();
        assert_eq!(back, row);
        // A truncated or extended value is refused, not misread.
        assert!(decode_row(&key, &bytes[..bytes.len() - 1], &mut Interner::default()).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_row(&key, &longer, &mut Interner::default()).is_none());
    }

    #[test]
    fn the_scorecard_figures_round_trip_and_bad_flags_are_refused() {
        let rec = planned("acme", "2026-11-02T01:00:00Z");
        let mut row = ReadingRow::of(&rec);
        row.replied = true;
        row.set_first_reply_traits([Some(true), Some(false), None, Some(true), Some(false), None]);
        row.rounds_to_resolution = Some(3);
        row.time_to_resolution_secs = Some(90_061);
        row.vendor_follow_ups = 2;
        let key = row_key(row.anchor(), &rec.id);
        let bytes = encode_row(&row);
        assert_eq!(
            decode_row(&key, &bytes, &mut Interner::default()),
            Some(row.clone())
        );
        // Flags: replied (1) + true<<1 (4) + false<<3 (8) + true<<7 (256)
        // + false<<9 (512) = 781, as a varint 0x8d 0x06.
        assert_eq!(scorecard_flags(&row), 781);
        // A trait value of 3 is never written: refused, not misread.
        assert_eq!(from_scorecard_flags(781 | (3 << 11)), None);
        assert_eq!(from_scorecard_flags(1 << 13), None);
    }

    #[test]
    fn rows_of_schema_v3_and_v4_still_decode() {
        let rec = planned("acme", "2026-11-02T01:00:00Z");
        let mut row = ReadingRow::of(&rec);
        row.unsure = true;
        let key = row_key(row.anchor(), &rec.id);
        let bytes = encode_row(&row);
        // A probe without scorecard figures ends in four bytes: no flags,
        // no rounds, no resolution time, no follow-ups.
        assert_eq!(&bytes[bytes.len() - 4..], &[0, 0, 0, 0]);
        let mut v4 = bytes[..bytes.len() - 4].to_vec();
        v4[0] = FORMAT_V2;
        assert_eq!(
            decode_row(&key, &v4, &mut Interner::default()),
            Some(row.clone())
        );
        let mut v3 = v4.clone();
        v3[0] = FORMAT_V1;
        v3.pop();
        let old = decode_row(&key, &v3, &mut Interner::default()).unwrap();
        assert!(!old.unsure);
        // An unsure byte other than 0 or 1 is refused.
        let mut bad = v4;
        if let Some(last) = bad.last_mut() {
            *last = 7;
        }
        assert!(decode_row(&key, &bad, &mut Interner::default()).is_none());
    }

    #[test]
    fn a_row_follows_its_record_when_the_anchor_moves() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let mut rec = planned("acme", "2026-11-02T01:00:00Z");
        store.write(|tx| tx.put(&rec)).unwrap();
        // Filed a day later: the anchor moves from due_at to filed_at.
        rec.state = ProbeState::Filed;
        rec.filed_at = Some("2026-11-03T01:00:00Z".parse().unwrap());
        store.write(|tx| tx.put(&rec)).unwrap();
        let all = store.reading_rows(None).unwrap();
        assert_eq!(all, vec![ReadingRow::of(&rec)]);
        let day = |d: &str| -> Timestamp { d.parse().unwrap() };
        let first_day = store
            .reading_rows(Some((
                day("2026-11-02T00:00:00Z"),
                day("2026-11-03T00:00:00Z"),
            )))
            .unwrap();
        assert!(first_day.is_empty(), "{first_day:?}");
        let second_day = store
            .reading_rows(Some((
                day("2026-11-03T00:00:00Z"),
                day("2026-11-04T00:00:00Z"),
            )))
            .unwrap();
        assert_eq!(second_day.len(), 1);
        // The end of a span is excluded, to the nanosecond.
        let before = store
            .reading_rows(Some((
                day("2026-11-02T00:00:00Z"),
                day("2026-11-03T01:00:00Z"),
            )))
            .unwrap();
        assert!(before.is_empty());
    }
}
