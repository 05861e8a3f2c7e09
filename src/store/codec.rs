//! How a probe record is stored in the `probes` table: its JSON, deflated
//! (schema v3).
//!
//! A record's JSON repeats every field name on every message; deflate
//! keeps it self-describing (new fields with `#[serde(default)]` still read
//! old records) at a fraction of the bytes. The value is a marker byte
//! ([`DEFLATE`]) followed by the raw deflate stream. A value that starts
//! with `{` is plain JSON as v1 and v2 wrote it; it is still read, so the
//! migration and a half-upgraded value can never make a record unreadable.

use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};

use super::{Result, StoreError, decode, encode};

/// The first byte of a deflated record.
const DEFLATE: u8 = 1;

/// The stored bytes of a record.
pub(super) fn encode_record<T: Serialize>(id: &str, value: &T) -> Result<Vec<u8>> {
    let json = encode(id, value)?;
    let mut out = Vec::with_capacity(json.len() / 2 + 8);
    out.push(DEFLATE);
    let mut enc = DeflateEncoder::new(out, Compression::fast());
    let io = |source| StoreError::Deflate {
        what: id.to_string(),
        source,
    };
    enc.write_all(&json).map_err(io)?;
    enc.finish().map_err(io)
}

/// The JSON of a stored record.
pub(super) fn record_json<'a>(id: &str, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    match bytes.split_first() {
        Some((&DEFLATE, rest)) => {
            let mut json = Vec::with_capacity(rest.len() * 4);
            DeflateDecoder::new(rest)
                .read_to_end(&mut json)
                .map_err(|source| StoreError::Deflate {
                    what: id.to_string(),
                    source,
                })?;
            Ok(Cow::Owned(json))
        }
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

/// A stored record, decoded (deflated or plain JSON).
pub(super) fn decode_record<T: for<'de> Deserialize<'de>>(id: &str, bytes: &[u8]) -> Result<T> {
    decode(id, &record_json(id, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProbeRecord;
    use crate::store::tests::planned;

    #[test]
    fn a_record_is_stored_deflated_and_plain_json_still_reads() {
        let mut rec = planned("acme", "2026-11-02T01:00:00Z");
        rec.notes = vec!["a note that repeats, a note that repeats, a note that repeats".into()];
        let plain = serde_json::to_vec(&rec).unwrap();
        let stored = encode_record(rec.id.as_str(), &rec).unwrap();
        assert_eq!(stored[0], DEFLATE);
        assert!(
            stored.len() < plain.len(),
            "{} >= {}",
            stored.len(),
            plain.len()
        );
        let back: ProbeRecord = decode_record(rec.id.as_str(), &stored).unwrap();
        assert_eq!(back, rec);
        let old: ProbeRecord = decode_record(rec.id.as_str(), &plain).unwrap();
        assert_eq!(old, rec);
        // A damaged stream is an error, not a wrong record.
        let err = decode_record::<ProbeRecord>("x", &stored[..stored.len() / 2]).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
