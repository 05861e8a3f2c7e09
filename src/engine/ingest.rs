//! Recording inbound messages: match each to its probe, classify it, store
//! it, and advance the channel's checkpoint — all in one transaction, so a
//! crash either records a batch and its checkpoint or neither, and every
//! reply is recorded exactly once.
//!
//! Matching, in order (the first that finds a probe wins):
//! 1. the channel says which probe (ticket APIs, the demo);
//! 2. `In-Reply-To` / `References` name our Message-ID, or a message
//!    already recorded on a probe (a reply to the vendor's acknowledgement);
//! 3. an `X-Support-Probe` header or a probe token anywhere in the message,
//!    including a quoted or attached original (bounces);
//! 4. a ticket reference the vendor assigned in an earlier message of the
//!    probe (`[#12345]`, `[ABC-123]`, ...).
//!
//! Mail that matches no probe is left alone, with one exception: a message
//! from a vendor's address or domain, or naming a ticket reference known
//! for that vendor, while a probe to that vendor is open, is kept in the
//! store's `unmatched` table with the likely probe and its classification,
//! for a person to attach (`probe review`, `probe attach`): a vendor that
//! answers from an agent's own mailbox with a fresh subject must not look
//! silent. Our own mail looping back and unrelated senders are not kept.
//!
//! Parsing and classifying go through the classifier's panic boundary
//! (`parse_guarded`, `classify_guarded`): a message that cannot be read is
//! still matched by a byte scan and recorded as `unsure`, and the checkpoint
//! moves past it.
//!
//! The canned-text rule lives here because it
//! needs the store: a message whose normalized body equals an earlier
//! message of the same vendor on a *different* probe is canned, and that
//! earlier message, if it was taken for a human answer, is reclassified too.

use jiff::{SignedDuration, Timestamp};

use super::{Engine, EngineError};
use crate::channel::{AuthorRole, Fetched, Inbound};
use crate::classify::{self, Classification, Context, MessageFacts};
use crate::duration::human;
use crate::model::{
    Class, MatchedBy, MessageRecord, ProbeId, ProbeRecord, ProbeState, Quality, Resolution,
};
use crate::quality;
use crate::store::{Cursor, Unmatched, WriteTx};

/// A `Date:` header further than this from the delivery time gets a note.
const DATE_HEADER_TOLERANCE: SignedDuration = SignedDuration::from_mins(15);
/// How much later than a message a probe may have been filed and still be
/// the one a ticket reference points to: INTERNALDATE has one-second
/// resolution, and our clock and the mail server's may differ a little.
const REF_MATCH_SLACK: SignedDuration = SignedDuration::from_secs(60);
/// A topmost `Received:` line further than this from INTERNALDATE gets a note.
const RECEIVED_TOLERANCE: SignedDuration = SignedDuration::from_mins(2);
/// How far back an unmatched message looks for the open probe it likely
/// answers, at least: the longest answer window configured, if longer.
const UNMATCHED_LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 15);

/// One message recorded on a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub probe: ProbeId,
    pub vendor: String,
    pub class: Class,
    pub at: Timestamp,
    pub state: ProbeState,
}

/// What one or more ingest passes did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// Messages looked at.
    pub seen: usize,
    pub recorded: Vec<Recorded>,
    /// Messages that belong to no probe.
    pub unmatched: usize,
    /// Of those, the ones kept for review: from a vendor with a probe open.
    pub kept_unmatched: usize,
    /// Messages already recorded (after a rescan).
    pub duplicates: usize,
    /// Earlier messages reclassified as canned.
    pub reclassified: usize,
}

impl IngestReport {
    /// Adds another pass's counts to this one.
    pub fn absorb(&mut self, other: IngestReport) {
        self.seen += other.seen;
        self.recorded.extend(other.recorded);
        self.unmatched += other.unmatched;
        self.kept_unmatched += other.kept_unmatched;
        self.duplicates += other.duplicates;
        self.reclassified += other.reclassified;
    }
}

/// A message classified as a message of one probe.
struct Reading {
    verdict: Classification,
    /// Its body fingerprint, for the canned-text rule.
    fingerprint: Option<String>,
    /// Earlier messages of the vendor with the same fingerprint.
    hits: Vec<(ProbeId, String)>,
    /// Another probe the same text arrived on: the text is canned.
    canned_on: Option<ProbeId>,
}

impl Engine {
    /// Records a fetched batch and the channel checkpoint `key`. `started`
    /// is when the fetch began: once a fetch returns with nothing more to
    /// read, every message stamped before `started` has been seen.
    pub(crate) fn ingest(
        &self,
        key: &str,
        fetched: Fetched,
        started: Timestamp,
        previous_caught_up: Option<Timestamp>,
    ) -> Result<IngestReport, EngineError> {
        let mut report = IngestReport::default();
        let caught_up_at = if fetched.more {
            previous_caught_up.unwrap_or(Timestamp::UNIX_EPOCH)
        } else {
            started
        };
        self.store.write(|tx| -> Result<(), EngineError> {
            for message in fetched.messages {
                report.seen += 1;
                self.ingest_one(tx, message, &mut report)?;
            }
            tx.set_cursor(
                key,
                &Cursor {
                    position: fetched.position,
                    caught_up_at,
                },
            )?;
            Ok(())
        })?;
        for r in &report.recorded {
            tracing::info!(probe = %r.probe, vendor = %r.vendor, class = %r.class, at = %r.at, state = %r.state, "reply recorded");
        }
        Ok(report)
    }

    fn find_probe(
        &self,
        tx: &WriteTx<'_>,
        message: &Inbound,
        facts: &MessageFacts,
    ) -> Result<Option<(ProbeRecord, MatchedBy)>, EngineError> {
        if let Some(id) = &message.probe_hint
            && let Some(rec) = tx.get(id)?
        {
            return Ok(Some((rec, MatchedBy::Channel)));
        }
        for mid in facts.in_reply_to.iter().chain(&facts.references) {
            if let Some(id) = tx.probe_by_message_id(mid)?
                && let Some(rec) = tx.get(&id)?
            {
                let by = if rec.message_id.as_deref() == Some(mid.as_str()) {
                    MatchedBy::OurMessageId
                } else {
                    MatchedBy::ThreadMessageId
                };
                return Ok(Some((rec, by)));
            }
        }
        for raw_id in &facts.probe_ids {
            if let Ok(id) = ProbeId::parse(raw_id)
                && let Some(rec) = tx.get(&id)?
            {
                return Ok(Some((rec, MatchedBy::Token)));
            }
        }
        for token in &facts.probe_tokens {
            if let Some(id) = tx.probe_by_token(token)?
                && let Some(rec) = tx.get(&id)?
            {
                return Ok(Some((rec, MatchedBy::Token)));
            }
        }
        for reference in &facts.ticket_refs {
            // The newest probe that carried this reference and was filed
            // before the message arrived (allowing for INTERNALDATE's
            // one-second resolution and a little clock skew). A message
            // older than every such probe is about an earlier ticket.
            let mut candidates = Vec::new();
            for id in tx.probes_by_ref(reference)? {
                if let Some(rec) = tx.get(&id)? {
                    candidates.push(rec);
                }
            }
            candidates.sort_by_key(|r| r.filing_started_at);
            let latest_possible = message.at + REF_MATCH_SLACK;
            let pick = candidates
                .iter()
                .rposition(|r| r.filing_started_at.is_some_and(|t| t <= latest_possible));
            if let Some(i) = pick {
                return Ok(Some((candidates.swap_remove(i), MatchedBy::VendorRef)));
            }
        }
        Ok(None)
    }

    /// The persona's own addresses for a probe, lowercase.
    fn our_addresses(&self, rec: &ProbeRecord) -> Vec<String> {
        self.config
            .persona(&rec.persona)
            .map(|p| vec![p.address.to_lowercase()])
            .unwrap_or_default()
    }

    /// Classifies `message` as a message of `rec`: the vendor's rules, the
    /// probe's earlier messages, the time since filing, our addresses and
    /// the canned-text lookup, behind the classifier's panic boundary.
    fn read(
        &self,
        tx: &WriteTx<'_>,
        rec: &ProbeRecord,
        message: &Inbound,
        facts: &MessageFacts,
        parse_error: Option<&str>,
    ) -> Result<Reading, EngineError> {
        let mut strip: Vec<&str> = vec![rec.vendor.as_str()];
        let persona_name = self
            .config
            .persona(&rec.persona)
            .map(|p| p.display_name.clone());
        if let Some(name) = &persona_name {
            strip.push(name);
        }
        if let Some(subject) = &rec.subject {
            strip.push(subject);
        }
        let fingerprint = classify::fingerprint(facts, &strip);
        let hits = match &fingerprint {
            Some(f) => tx.fingerprint_hits(&rec.vendor, f)?,
            None => Vec::new(),
        };
        let canned_on = hits
            .iter()
            .find(|(p, _)| *p != rec.id)
            .map(|(p, _)| p.clone());
        let default_rules = classify::Rules {
            helpdesk: crate::model::Helpdesk::generic(),
            overrides: Vec::new(),
        };
        let rules = self.rules.get(&rec.vendor).unwrap_or(&default_rules);
        let our_addresses = self.our_addresses(rec);
        let since_filing = rec.filed_at.map(|f| message.at.duration_since(f));
        let ctx = Context {
            rules,
            canned_match: canned_on.as_ref().map(ProbeId::as_str),
            our_addresses: &our_addresses,
            since_filing,
            thread: &rec.messages,
        };
        let verdict = match &message.api {
            Some(api) => classify::classify_api(api, facts, &ctx),
            None => classify::classify_guarded(facts, &ctx, parse_error),
        };
        Ok(Reading {
            verdict,
            fingerprint,
            hits,
            canned_on,
        })
    }

    /// What a human reply on `rec` is (language, personal, templated,
    /// specific, asks back, answers), judged against the vendor's replies to
    /// other probes; its signature is kept for later replies. Judging runs
    /// behind a panic boundary: a reply it cannot judge is recorded without
    /// the evidence, never dropped.
    fn judge(
        &self,
        tx: &mut WriteTx<'_>,
        rec: &ProbeRecord,
        facts: &MessageFacts,
        key: &str,
    ) -> Result<Option<Quality>, EngineError> {
        let others = tx.signatures(&rec.vendor, &rec.id)?;
        let persona_name = self
            .config
            .persona(&rec.persona)
            .map(|p| p.display_name.clone())
            .unwrap_or_default();
        let judge = quality::Judge {
            persona_name: &persona_name,
            vendor: &rec.vendor,
            detail: rec.detail.as_deref(),
            expect: &rec.expect,
            others: &others,
        };
        let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            quality::judge(facts, &judge)
        }));
        let Ok(q) = judged else {
            tracing::warn!(probe = %rec.id, key, "the reply could not be judged (the judge panicked); recorded without its evidence");
            return Ok(None);
        };
        if !q.signature.is_empty() {
            tx.add_signature(&rec.vendor, &rec.id, key, &q.signature)?;
        }
        Ok(Some(q))
    }

    /// The vendor an unmatched message comes from, and why we think so: one
    /// of its addresses, a ticket reference known on one of its probes, or
    /// its domain (unless one of our personas shares it). Mail from our own
    /// addresses is never the vendor's.
    fn vendor_of(
        &self,
        tx: &WriteTx<'_>,
        facts: &MessageFacts,
    ) -> Result<Option<(String, String)>, EngineError> {
        let from = facts
            .from_addr
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default();
        let ours: Vec<String> = self
            .config
            .personas
            .iter()
            .map(|p| p.address.to_lowercase())
            .collect();
        if ours.contains(&from) {
            return Ok(None);
        }
        let domain_of = |a: &str| a.rsplit_once('@').map(|(_, d)| d.to_string());
        let our_domains: Vec<String> = ours.iter().filter_map(|a| domain_of(a)).collect();
        if !from.is_empty() {
            for v in &self.config.vendors {
                if v.addresses.iter().any(|a| a.eq_ignore_ascii_case(&from)) {
                    return Ok(Some((
                        v.name.clone(),
                        format!("from {from}, an address of vendor {}", v.name),
                    )));
                }
            }
        }
        for reference in &facts.ticket_refs {
            for id in tx.probes_by_ref(reference)? {
                if let Some(p) = tx.get(&id)? {
                    return Ok(Some((
                        p.vendor.clone(),
                        format!(
                            "names ticket {reference}, seen on probe {id} of vendor {}",
                            p.vendor
                        ),
                    )));
                }
            }
        }
        let Some(from_domain) = domain_of(&from) else {
            return Ok(None);
        };
        for v in &self.config.vendors {
            for domain in v
                .addresses
                .iter()
                .filter_map(|a| domain_of(&a.to_lowercase()))
            {
                let same = from_domain == domain || from_domain.ends_with(&format!(".{domain}"));
                if same && !our_domains.contains(&domain) {
                    return Ok(Some((
                        v.name.clone(),
                        format!("from {from}, in the domain of vendor {} ({domain})", v.name),
                    )));
                }
            }
        }
        Ok(None)
    }

    /// The probe an unmatched message of `vendor` arriving at `at` most
    /// likely answers: the newest probe to that vendor filed before it that
    /// still awaits a reply (filed, uncertain) or whose answer window `at`
    /// falls in.
    fn likely_probe(
        &self,
        tx: &WriteTx<'_>,
        vendor: &str,
        at: Timestamp,
    ) -> Result<Option<ProbeRecord>, EngineError> {
        let longest = self
            .config
            .probes
            .iter()
            .filter_map(|p| i64::try_from(p.answer_within.as_secs()).ok())
            .map(SignedDuration::from_secs)
            .max()
            .unwrap_or(SignedDuration::ZERO)
            .max(UNMATCHED_LOOKBACK);
        let from = at
            .checked_sub(
                longest
                    .checked_add(SignedDuration::from_hours(24))
                    .unwrap_or(longest),
            )
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let until = at.checked_add(REF_MATCH_SLACK).unwrap_or(Timestamp::MAX);
        let rows = tx.reading_rows(Some((from, until)))?;
        let pick = rows
            .iter()
            .filter(|r| &*r.vendor == vendor && r.state.may_have_reached_vendor())
            .filter(|r| {
                r.state.awaits_reply()
                    || (r.filed_at.is_some() && r.answer_deadline().is_some_and(|d| at <= d))
            })
            .max_by_key(|r| r.anchor());
        match pick {
            Some(r) => Ok(tx.get(&r.id)?),
            None => Ok(None),
        }
    }

    /// Keeps a message that matched no probe when it comes from a vendor
    /// with a probe open ([`Engine::vendor_of`], [`Engine::likely_probe`]),
    /// classified as a message of the likely probe. Returns whether it was
    /// kept now (false for a message kept before: the same key is one row).
    fn keep_unmatched(
        &self,
        tx: &mut WriteTx<'_>,
        message: &Inbound,
        facts: &MessageFacts,
        parse_error: Option<&str>,
    ) -> Result<bool, EngineError> {
        let Some((vendor, why)) = self.vendor_of(tx, facts)? else {
            return Ok(false);
        };
        let Some(likely) = self.likely_probe(tx, &vendor, message.at)? else {
            return Ok(false);
        };
        if tx.unmatched(&message.key)?.is_some() {
            return Ok(false);
        }
        let Reading {
            verdict,
            fingerprint,
            ..
        } = self.read(tx, &likely, message, facts, parse_error)?;
        let unmatched = Unmatched {
            key: message.key.clone(),
            vendor,
            likely_probe: likely.id.clone(),
            why,
            at: message.at,
            time_source: message.source,
            date_header: facts.date,
            received_header: facts.top_received,
            from: facts.from_addr.clone(),
            subject: facts.subject.clone(),
            message_id: facts.message_id.clone(),
            refs: facts
                .in_reply_to
                .iter()
                .chain(&facts.references)
                .cloned()
                .collect(),
            ticket_refs: facts.ticket_refs.clone(),
            fingerprint,
            class: verdict.class,
            confidence: verdict.confidence,
            reasons: verdict.reasons,
            markers: verdict.markers,
            notes: timing_notes(message, facts, &likely),
            attached: None,
        };
        tx.add_unmatched(&unmatched)?;
        tracing::info!(
            vendor = %unmatched.vendor,
            likely_probe = %unmatched.likely_probe,
            key = %unmatched.key,
            class = %unmatched.class,
            "a reply matched no probe; kept for review (`probe review`, `probe attach`)"
        );
        Ok(true)
    }

    fn ingest_one(
        &self,
        tx: &mut WriteTx<'_>,
        message: Inbound,
        report: &mut IngestReport,
    ) -> Result<(), EngineError> {
        // A message the parser panics on still gets the facts a byte scan
        // finds (enough to match it) and is recorded as unsure.
        let (facts, parse_error) = match &message.api {
            Some(api) => (classify::api_facts(api), None),
            None => classify::parse_guarded(&message.raw),
        };
        let Some((mut rec, matched_by)) = self.find_probe(tx, &message, &facts)? else {
            report.unmatched += 1;
            if message.api.is_none()
                && self.keep_unmatched(tx, &message, &facts, parse_error.as_deref())?
            {
                report.kept_unmatched += 1;
            }
            return Ok(());
        };
        if message
            .api
            .as_ref()
            .is_some_and(|a| matches!(a.role, AuthorRole::Us | AuthorRole::Other))
        {
            // Our own message (the probe, a closing note) or a bystander's:
            // not the vendor's answer.
            report.unmatched += 1;
            return Ok(());
        }
        let ours = |id: &Option<String>| {
            id.is_some()
                && (*id == rec.message_id || rec.rounds.iter().any(|r| r.message_id == *id))
        };
        if rec.state == ProbeState::Planned || ours(&facts.message_id) {
            // Our own probe looping back, or a stray token: not a reply.
            report.unmatched += 1;
            return Ok(());
        }
        let duplicate = rec.messages.iter().any(|m| {
            m.key == message.key || (m.message_id.is_some() && m.message_id == facts.message_id)
        });
        if duplicate {
            report.duplicates += 1;
            return Ok(());
        }

        let Reading {
            verdict,
            fingerprint,
            hits,
            canned_on,
        } = self.read(tx, &rec, &message, &facts, parse_error.as_deref())?;

        if verdict.class == Class::Ack && canned_on.is_some() {
            for (other, key) in hits.iter().filter(|(p, _)| *p != rec.id) {
                let mut changed = false;
                tx.update(other, |r| {
                    for m in r.messages.iter_mut().filter(|m| &m.key == key) {
                        if m.class == Class::Human && m.relabel.is_none() {
                            m.class = Class::Ack;
                            m.reasons.push(format!(
                                "reclassified: the same text later arrived on probe {} (canned)",
                                rec.id
                            ));
                            changed = true;
                        }
                    }
                    if changed {
                        r.recompute();
                    }
                })?;
                if changed {
                    report.reclassified += 1;
                }
            }
        }
        if let Some(f) = &fingerprint
            && !matches!(verdict.class, Class::Bounce | Class::Delay)
        {
            tx.add_fingerprint(&rec.vendor, f, &rec.id, &message.key)?;
        }

        let (notes, at) = if message.api.is_some() {
            api_timing(&message, &mut rec)
        } else {
            (timing_notes(&message, &facts, &rec), message.at)
        };
        let refs = if matches!(verdict.class, Class::Bounce | Class::Delay) {
            Vec::new()
        } else {
            facts.ticket_refs.clone()
        };
        for r in &refs {
            if !rec.vendor_refs.contains(r) {
                rec.vendor_refs.push(r.clone());
            }
            tx.add_ref(r, &rec.id)?;
        }
        if rec.state == ProbeState::NotFiled {
            rec.notes.push(format!(
                "a reply ({}) arrived for a probe recorded as not filed",
                verdict.class
            ));
        }
        let quality = if verdict.class == Class::Human {
            self.judge(tx, &rec, &facts, &message.key)?
        } else {
            None
        };
        if let (Some(phrase), None) = (&verdict.resolves, &rec.resolution) {
            rec.resolution = Some(Resolution {
                at,
                time_source: message.source,
                by: format!("the vendor's notice {} ({phrase})", message.key),
            });
        }
        rec.messages.push(MessageRecord {
            key: message.key,
            message_id: facts.message_id.clone(),
            at,
            time_source: message.source,
            date_header: facts.date,
            received_header: facts.top_received,
            from: facts.from_addr.clone(),
            subject: facts.subject.clone(),
            class: verdict.class,
            confidence: verdict.confidence,
            reasons: verdict.reasons,
            relabel: None,
            matched_by,
            fingerprint,
            vendor_refs: refs,
            notes,
            markers: verdict.markers,
            quality,
        });
        rec.recompute();
        if verdict.class == Class::Human {
            self.plan_round(&mut rec);
        }
        tx.put(&rec)?;
        report.recorded.push(Recorded {
            probe: rec.id.clone(),
            vendor: rec.vendor.clone(),
            class: verdict.class,
            at,
            state: rec.state,
        });
        Ok(())
    }
}

fn timing_notes(message: &Inbound, facts: &MessageFacts, rec: &ProbeRecord) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(date) = facts.date {
        let off = message.at.duration_since(date);
        if off.abs() > DATE_HEADER_TOLERANCE {
            notes.push(format!(
                "Date header is {} {} the delivery time (sender's clock or a delivery delay); the delivery time is used",
                human(off.abs()),
                if off.is_negative() { "after" } else { "before" }
            ));
        }
    }
    if let Some(received) = facts.top_received {
        let off = message.at.duration_since(received);
        if off.abs() > RECEIVED_TOLERANCE {
            notes.push(format!(
                "topmost Received line differs from INTERNALDATE by {}",
                human(off.abs())
            ));
        }
    }
    if let Some(filed) = rec.filed_at
        && message.at < filed
    {
        notes.push(format!(
            "stamped {} before our filing: clock skew between this host and the receiving server",
            human(filed.duration_since(message.at))
        ));
    }
    notes
}

/// The instant and notes of an API message. The API stamps both the
/// ticket and its messages, so a message stamped before the filing is
/// impossible data or a skew between the vendor's servers. Such a message
/// is recorded at the filing instant (so no reading is negative) and
/// flagged, with its own stamp, on the message and on the probe.
fn api_timing(message: &Inbound, rec: &mut ProbeRecord) -> (Vec<String>, Timestamp) {
    let mut notes = Vec::new();
    if let Some(filed) = rec.filed_at
        && message.at < filed
    {
        if filed.duration_since(message.at) < SignedDuration::from_secs(1) {
            // The API stamps to the second, our filing time is exact: the
            // same second is not skew. The reading is 0s at the filing.
            notes.push(format!(
                "stamped {} by the API (to the second), in the second of the filing at {filed}: recorded at the filing instant",
                message.at
            ));
            return (notes, filed);
        }
        let by = human(filed.duration_since(message.at));
        notes.push(format!(
            "clock skew: the API stamped it {} ({by} before the filing at {filed}); recorded at the filing instant, never as a negative time",
            message.at
        ));
        rec.notes.push(format!(
            "clock skew: message {} is stamped {by} before the filing; its reading is 0s and flagged",
            message.key
        ));
        return (notes, filed);
    }
    (notes, message.at)
}
