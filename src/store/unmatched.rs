//! The `unmatched` table (schema v4): replies that thread to no probe but
//! that a person should see.
//!
//! A vendor that answers from an agent's own mailbox with a fresh subject
//! and no threading headers sends a reply no rule can tie to its probe.
//! Counting it only would hide a human answer and make the vendor look
//! silent. `engine::ingest` keeps such a message here when it comes from a
//! vendor's address or domain (or names a ticket reference known for that
//! vendor) while a probe to that vendor is open, with the likely probe, its
//! classification and the facts needed to attach it later. `probe review`
//! lists them; `probe attach` turns one into a message of a probe and marks
//! the row attached (kept, as a relabel keeps the original class).
//!
//! Key: the message's key (unique per channel), so the same message read
//! twice is one row. Value: JSON [`Unmatched`].

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{Result, Store, WriteTx, decode, encode};
use crate::model::{Class, Confidence, MatchedBy, MessageRecord, ProbeId, Relabel, TimeSource};

pub(super) const UNMATCHED: TableDefinition<&str, &[u8]> = TableDefinition::new("unmatched");

/// A reply that matched no probe, kept for a person to attach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    /// The message's key (unique per channel).
    pub key: String,
    /// The vendor it came from.
    pub vendor: String,
    /// The newest probe to that vendor that was open (waiting for a reply)
    /// and filed before the message arrived.
    pub likely_probe: ProbeId,
    /// Why it was kept, in words (which vendor address or reference).
    pub why: String,
    /// When it arrived, as a message on a probe would be read.
    pub at: Timestamp,
    /// Which clock `at` came from.
    pub time_source: TimeSource,
    /// The `Date:` header.
    pub date_header: Option<Timestamp>,
    /// The topmost `Received:` line's date.
    pub received_header: Option<Timestamp>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// The message's `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` and `References` ids.
    pub refs: Vec<String>,
    /// Ticket references found in the message.
    pub ticket_refs: Vec<String>,
    /// Hash of the normalized body, for the canned-text rule.
    pub fingerprint: Option<String>,
    /// The classifier's verdict, read with the likely probe's context.
    pub class: Class,
    pub confidence: Confidence,
    pub reasons: Vec<String>,
    pub markers: Vec<String>,
    /// Doubts about the message's timing, in words.
    pub notes: Vec<String>,
    /// When a person tied it to a probe (`probe attach`), if one did.
    pub attached: Option<Attachment>,
}

/// A person's decision that an unmatched message belongs to a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub probe: ProbeId,
    pub at: Timestamp,
}

impl Unmatched {
    /// The message it becomes on a probe when a person attaches it at
    /// `now`: the classifier's verdict is kept as it was; the person's word
    /// concerns the match, not the class.
    pub fn message_record(&self, now: Timestamp) -> MessageRecord {
        let mut notes = self.notes.clone();
        notes.push(format!(
            "attached by a person at {now}: it matched no probe ({})",
            self.why
        ));
        MessageRecord {
            key: self.key.clone(),
            message_id: self.message_id.clone(),
            at: self.at,
            time_source: self.time_source,
            date_header: self.date_header,
            received_header: self.received_header,
            from: self.from.clone(),
            subject: self.subject.clone(),
            class: self.class,
            confidence: self.confidence,
            reasons: self.reasons.clone(),
            relabel: None::<Relabel>,
            matched_by: MatchedBy::Attached,
            fingerprint: self.fingerprint.clone(),
            vendor_refs: if matches!(self.class, Class::Bounce | Class::Delay) {
                Vec::new()
            } else {
                self.ticket_refs.clone()
            },
            notes,
            markers: self.markers.clone(),
            quality: None,
        }
    }
}

impl WriteTx<'_> {
    /// An unmatched message by key.
    pub fn unmatched(&self, key: &str) -> Result<Option<Unmatched>> {
        let t = self.txn.open_table(UNMATCHED)?;
        t.get(key)?.map(|v| decode(key, v.value())).transpose()
    }

    /// Keeps an unmatched message; returns false (and changes nothing) when
    /// its key is already kept.
    pub fn add_unmatched(&mut self, u: &Unmatched) -> Result<bool> {
        if self.unmatched(&u.key)?.is_some() {
            return Ok(false);
        }
        self.put_unmatched(u)?;
        Ok(true)
    }

    /// Stores an unmatched message (new, or marked attached).
    pub fn put_unmatched(&mut self, u: &Unmatched) -> Result<()> {
        let bytes = encode(&u.key, u)?;
        self.txn
            .open_table(UNMATCHED)?
            .insert(u.key.as_str(), bytes.as_slice())?;
        Ok(())
    }
}

impl Store {
    /// Every unmatched message kept, attached ones included, oldest first.
    pub fn unmatched(&self) -> Result<Vec<Unmatched>> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let t = txn.open_table(UNMATCHED)?;
            let mut out: Vec<Unmatched> = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.push(decode(k.value(), v.value())?);
            }
            out.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Mode, tests::planned};

    fn sample(key: &str, likely: &ProbeId) -> Unmatched {
        Unmatched {
            key: key.into(),
            vendor: "acme".into(),
            likely_probe: likely.clone(),
            why: "from acme's domain acme.example".into(),
            at: "2026-11-02T03:00:00Z".parse().unwrap(),
            time_source: TimeSource::ImapInternaldate,
            date_header: None,
            received_header: None,
            from: Some("agent@acme.example".into()),
            subject: Some("About your question".into()),
            message_id: Some("m1@acme.example".into()),
            refs: vec![],
            ticket_refs: vec!["#77".into()],
            fingerprint: Some("abc".into()),
            class: Class::Human,
            confidence: Confidence::Likely,
            reasons: vec!["wording".into()],
            markers: vec![],
            notes: vec![],
            attached: None,
        }
    }

    #[test]
    fn the_same_message_is_kept_once_and_an_attachment_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Mode::Exclusive).unwrap();
        let p = planned("acme", "2026-11-02T01:00:00Z");
        let u = sample("imap:INBOX:1:7", &p.id);
        assert!(store.write(|tx| tx.add_unmatched(&u)).unwrap());
        assert!(!store.write(|tx| tx.add_unmatched(&u)).unwrap());
        assert_eq!(store.unmatched().unwrap(), vec![u.clone()]);

        let now: Timestamp = "2026-11-03T00:00:00Z".parse().unwrap();
        let m = u.message_record(now);
        assert_eq!(m.matched_by, MatchedBy::Attached);
        assert_eq!(m.at, u.at);
        assert!(m.notes.iter().any(|n| n.contains("attached by a person")));
        let mut done = u.clone();
        done.attached = Some(Attachment {
            probe: p.id.clone(),
            at: now,
        });
        store.write(|tx| tx.put_unmatched(&done)).unwrap();
        assert_eq!(store.unmatched().unwrap(), vec![done]);
    }
}
