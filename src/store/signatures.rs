//! The MinHash signatures of vendors' human replies, for the templated
//! rule: a reply near-identical to this vendor's replies to *other* probes
//! is a macro (see `quality`).
//!
//! Table `signatures` (created on first write; a store without it simply
//! has none): `vendor \u{1f} probe id \u{1f} message key` → JSON list of
//! `u32`. Probe ids are ULIDs, so a vendor's entries are in filing order and
//! the newest are read first.

use redb::{ReadableTable, TableDefinition};

use super::{Result, SEP, WriteTx, decode, encode};
use crate::model::ProbeId;

const SIGNATURES: TableDefinition<&str, &[u8]> = TableDefinition::new("signatures");

/// How many of a vendor's newest replies a new reply is compared with: a
/// macro in use shows up among them, and the cost of a comparison stays
/// bounded however long the store runs.
pub const COMPARED: usize = 500;

impl WriteTx<'_> {
    /// The signatures of `vendor`'s newest human replies (at most
    /// [`COMPARED`]), on probes other than `except`: (probe id, signature).
    pub fn signatures(&self, vendor: &str, except: &ProbeId) -> Result<Vec<(String, Vec<u32>)>> {
        let t = self.txn.open_table(SIGNATURES)?;
        let start = format!("{vendor}{SEP}");
        let end = format!("{vendor}{}", char::from_u32(SEP as u32 + 1).unwrap_or(SEP));
        let mut out = Vec::new();
        for entry in t.range(start.as_str()..end.as_str())?.rev() {
            let (k, v) = entry?;
            let key = k.value();
            let probe = key.split(SEP).nth(1).unwrap_or_default();
            if probe == except.as_str() {
                continue;
            }
            out.push((probe.to_string(), decode(key, v.value())?));
            if out.len() >= COMPARED {
                break;
            }
        }
        Ok(out)
    }

    /// Records the signature of a human reply.
    pub fn add_signature(
        &mut self,
        vendor: &str,
        id: &ProbeId,
        message_key: &str,
        signature: &[u32],
    ) -> Result<()> {
        let key = format!("{vendor}{SEP}{id}{SEP}{message_key}");
        let bytes = encode(&key, &signature)?;
        self.txn
            .open_table(SIGNATURES)?
            .insert(key.as_str(), bytes.as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ProbeId;
    use crate::store::{Mode, Store};

    #[test]
    fn newest_signatures_of_the_vendor_on_other_probes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let a = ProbeId::generate(now);
        let b = ProbeId::generate(now + jiff::SignedDuration::from_secs(5));
        store
            .write(|tx| -> crate::store::Result<()> {
                tx.add_signature("acme", &a, "k1", &[1, 2, 3])?;
                tx.add_signature("acme", &b, "k2", &[4, 5, 6])?;
                tx.add_signature("globex", &b, "k3", &[7])?;
                assert_eq!(
                    tx.signatures("acme", &b)?,
                    vec![(a.to_string(), vec![1, 2, 3])]
                );
                let both = tx.signatures("acme", &ProbeId::generate(now))?;
                assert_eq!(both.len(), 2);
                assert_eq!(both[0].0, b.to_string(), "newest first");
                assert!(tx.signatures("initech", &a)?.is_empty());
                Ok(())
            })
            .unwrap();
    }
}
