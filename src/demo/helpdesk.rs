//! Simulated helpdesks for `probe demo`: a [`Channel`] that "files" a probe
//! by scheduling the raw emails a real helpdesk would send back, and hands
//! them out once the simulated clock reaches their delivery time.
//!
//! The replies are real RFC 5322 messages with the headers real helpdesks
//! use (Zendesk's auto-generated marks on human answers, Freshdesk's
//! `[#ticket]` subjects, an RFC 3464 bounce), so the demo exercises the real
//! matcher and classifier. The simulator also remembers the true time of
//! every human answer, so the demo can check the recorded readings against
//! the truth.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::characters::{
    Expected, Mail, PANDA_AGENTS, asking_reply, closer_answer, closer_notice, macro_answer,
    panda_answer,
};
use crate::channel::{Channel, ChannelError, Fetched, FileOutcome, FollowUp, Inbound, Outgoing};
use crate::clock::Clock;
use crate::config::Config;
use crate::model::{BusinessCalendar, ProbeId, TimeSource, Window};

/// How a simulated vendor behaves.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// Zendesk: acknowledges in seconds, a human answers within minutes, day and night.
    ZendeskFast,
    /// Freshdesk: acknowledges at once; a human answers only in business hours.
    OfficeHours(Box<BusinessCalendar>),
    /// Acknowledges, never answers.
    AckOnly,
    /// The address bounces.
    Bounce,
    /// panda-live: answers in Chinese, by name, about the probe's detail.
    Panda,
    /// macro-cdn: answers every probe with the same English macro.
    Macro,
    /// asking-stream: asks back twice, answers after our second follow-up.
    Asking,
    /// closer-saas: answers on the first reply, then closes the ticket.
    Closer,
}

/// A probe's thread as the simulated vendor keeps it.
#[derive(Debug, Clone)]
struct Thread {
    vendor_address: String,
    ticket: u32,
    person: String,
    person_address: String,
    subject: String,
    /// Every Message-ID of the thread, oldest first.
    ids: Vec<String>,
    /// Replies the vendor sent so far.
    replies: u32,
    /// The n-th probe of this vendor in the run.
    seq: u32,
}

#[derive(Debug)]
struct State {
    rng: fastrand::Rng,
    ticket_seq: u32,
    /// Replies not yet delivered: (delivery time, raw message).
    pending: Vec<(Timestamp, Vec<u8>)>,
    /// Delivered replies, in delivery order.
    delivered: Vec<Inbound>,
    /// The true first human answer of each probe.
    truth: BTreeMap<ProbeId, Timestamp>,
    /// What a correct reading of each character vendor's probe is.
    expected: BTreeMap<ProbeId, Expected>,
    /// The threads of the vendors that converse.
    threads: BTreeMap<ProbeId, Thread>,
}

/// The simulated helpdesks of the demo vendors.
#[derive(Debug)]
pub struct SimHelpdesk {
    clock: Arc<dyn Clock>,
    /// Vendor address → (vendor name, behavior).
    vendors: BTreeMap<String, (String, Behavior)>,
    /// Vendor name → the `details` of its probes, to tell which one a
    /// probe names.
    details: BTreeMap<String, Vec<String>>,
    /// A std mutex: never held across an `.await`.
    state: Mutex<State>,
}

const AGENTS: [&str; 6] = ["Priya", "Tomasz", "Aiko", "Mateo", "Grace", "Olu"];
const OPENERS: [&str; 8] = [
    "thanks for the note, I went through your message myself",
    "I have your test ticket in front of me and all looks fine on our side",
    "got it, our on-call engineer has read your request",
    "I checked your account and the request came through without problems",
    "happy to confirm that this reached a real person on our team",
    "we see your scheduled test and wanted to answer it properly",
    "I picked this up from the queue just now",
    "confirming receipt, this ticket is assigned to me",
];
const DETAILS: [&str; 10] = [
    "traffic through the Frankfurt edge looks healthy",
    "no incidents are open for your region right now",
    "your origin shield in Virginia is answering normally",
    "the status page shows every service operational",
    "I also verified the certificate renewal for your domain",
    "the streaming ingest in Singapore shows no errors",
    "cache hit ratios for your zone are where they should be",
    "there are no pending maintenance windows this week",
    "your last purge request completed successfully",
    "the Sydney point of presence is serving your content fine",
];
const CLOSERS: [&str; 5] = [
    "Feel free to close this whenever you like.",
    "Let us know if you need anything else.",
    "I will mark this as solved.",
    "Have a good day.",
    "Reply here if anything looks off.",
];

fn rfc2822(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

fn minutes(rng: &mut fastrand::Rng, lo: i64, hi: i64) -> SignedDuration {
    SignedDuration::from_secs(rng.i64(lo * 60..=hi * 60))
}

impl SimHelpdesk {
    /// Simulators for the demo config's vendors, by name; other vendors only acknowledge.
    pub fn new(config: &Config, clock: Arc<dyn Clock>, seed: u64) -> SimHelpdesk {
        let mut vendors = BTreeMap::new();
        for v in &config.vendors {
            let behavior = match v.name.as_str() {
                "swiftcdn" => Behavior::ZendeskFast,
                "officehours-stream" => Behavior::OfficeHours(Box::new(v.calendar.clone())),
                "gone-vendor" => Behavior::Bounce,
                "panda-live" => Behavior::Panda,
                "macro-cdn" => Behavior::Macro,
                "asking-stream" => Behavior::Asking,
                "closer-saas" => Behavior::Closer,
                _ => Behavior::AckOnly,
            };
            for a in &v.addresses {
                vendors.insert(a.to_ascii_lowercase(), (v.name.clone(), behavior.clone()));
            }
        }
        let mut details: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &config.probes {
            details
                .entry(p.vendor.clone())
                .or_default()
                .extend(p.details.iter().cloned());
        }
        SimHelpdesk {
            clock,
            vendors,
            details,
            state: Mutex::new(State {
                rng: fastrand::Rng::with_seed(seed),
                ticket_seq: 4100,
                pending: Vec::new(),
                delivered: Vec::new(),
                truth: BTreeMap::new(),
                expected: BTreeMap::new(),
                threads: BTreeMap::new(),
            }),
        }
    }

    /// The next time a reply will be delivered, if any is pending.
    pub fn next_delivery(&self) -> Option<Timestamp> {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.pending.iter().map(|(t, _)| *t).min()
    }

    /// The true first human answer per probe.
    pub fn truth(&self) -> BTreeMap<ProbeId, Timestamp> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .truth
            .clone()
    }

    /// What a correct reading of each character vendor's probe is.
    pub fn expected(&self) -> BTreeMap<ProbeId, Expected> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .expected
            .clone()
    }

    fn schedule(&self, probe: &Outgoing, now: Timestamp) {
        let Some(to) = probe.to.first() else { return };
        let Some((vendor, behavior)) = self.vendors.get(&to.to_ascii_lowercase()).cloned() else {
            return;
        };
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let s = &mut *guard;
        s.ticket_seq += 1;
        let n = s.ticket_seq;
        let ours = &probe.message_id;
        let subj = &probe.subject;
        let person = &probe.from_name;
        let rcpt = &probe.from_address;
        match behavior {
            Behavior::ZendeskFast => {
                let code = format!(
                    "{:04X}{}-{}V",
                    s.rng.u16(..),
                    (b'A' + s.rng.u8(0..26)) as char,
                    n
                );
                let zd = |mid: &str, at: Timestamp, body: String| -> Vec<u8> {
                    format!(
                        "From: SwiftCDN Support <support@swiftcdn.zendesk.com>\r\nTo: {person} <{rcpt}>\r\n\
                         Subject: [SwiftCDN] Re: {subj}\r\nDate: {}\r\nMessage-ID: <{mid}_sprut@zendesk.com>\r\n\
                         In-Reply-To: <{ours}>\r\nReferences: <{ours}>\r\nAuto-Submitted: auto-generated\r\n\
                         X-Auto-Response-Suppress: All\r\nX-Mailer: Zendesk Mailer\r\n\
                         X-Zendesk-From-Account-Id: 7c1f2a\r\nMIME-Version: 1.0\r\n\
                         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}",
                        rfc2822(at)
                    )
                    .into_bytes()
                };
                let ack_at = now + SignedDuration::from_secs(s.rng.i64(5..40));
                let ack = format!(
                    "##- Please type your reply above this line -##\r\n\r\nYour request ({n}) has been \
                     received and is being reviewed by our support staff.\r\n\r\nTo add additional \
                     comments, reply to this email.\r\n\r\n[{code}]\r\n"
                );
                s.pending
                    .push((ack_at, zd(&format!("ACK{n}"), ack_at, ack)));
                let human_at = now + minutes(&mut s.rng, 6, 40);
                let agent = AGENTS[s.rng.usize(..AGENTS.len())];
                let body = format!(
                    "##- Please type your reply above this line -##\r\n\r\n{agent} (SwiftCDN)\r\n\r\n\
                     Hi {person},\r\n\r\n{}, and {}. {}\r\n\r\nBest,\r\n{agent}\r\n\r\n[{code}]\r\n",
                    OPENERS[s.rng.usize(..OPENERS.len())],
                    DETAILS[s.rng.usize(..DETAILS.len())],
                    CLOSERS[s.rng.usize(..CLOSERS.len())],
                );
                s.pending
                    .push((human_at, zd(&format!("HUM{n}"), human_at, body)));
                s.truth.insert(probe.probe_id.clone(), human_at);
            }
            Behavior::OfficeHours(calendar) => {
                let ack_mid = format!("ack-{n}@officehours-stream.freshdesk.com");
                let ack_at = now + SignedDuration::from_secs(s.rng.i64(10..90));
                let ack = format!(
                    "From: OfficeHours Stream Support <help@officehours-stream.freshdesk.com>\r\n\
                     To: {rcpt}\r\nSubject: [#{n}] Ticket received: {subj}\r\nDate: {}\r\n\
                     Message-ID: <{ack_mid}>\r\nIn-Reply-To: <{ours}>\r\nReferences: <{ours}>\r\n\
                     Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                     Dear {person},\r\n\r\nWe would like to acknowledge that we have received your \
                     request and a ticket has been created with Ticket ID {n}.\r\nA support \
                     representative will review your request and get back to you shortly.\r\n\r\n\
                     This is an automated message, please do not reply.\r\n",
                    rfc2822(ack_at)
                );
                s.pending.push((ack_at, ack.into_bytes()));
                let human_at = if calendar.window_at(now) == Window::BusinessHours {
                    now + minutes(&mut s.rng, 10, 50)
                } else {
                    next_opening(&calendar, now) + minutes(&mut s.rng, 15, 110)
                };
                let agent = AGENTS[s.rng.usize(..AGENTS.len())];
                let human = format!(
                    "From: {agent} at OfficeHours Stream <help@officehours-stream.freshdesk.com>\r\n\
                     To: {rcpt}\r\nSubject: Re: [#{n}] Your support request\r\nDate: {}\r\n\
                     Message-ID: <reply-{n}-{}@officehours-stream.freshdesk.com>\r\n\
                     In-Reply-To: <{ack_mid}>\r\nReferences: <{ack_mid}>\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\nHello {person},\r\n\r\n{}, and {}.\r\n\
                     {}\r\n\r\nKind regards,\r\n{agent}\r\n",
                    rfc2822(human_at),
                    s.rng.u32(..),
                    OPENERS[s.rng.usize(..OPENERS.len())],
                    DETAILS[s.rng.usize(..DETAILS.len())],
                    CLOSERS[s.rng.usize(..CLOSERS.len())],
                );
                s.pending.push((human_at, human.into_bytes()));
                s.truth.insert(probe.probe_id.clone(), human_at);
            }
            Behavior::AckOnly => {
                let at = now + SignedDuration::from_secs(s.rng.i64(20..120));
                let ack = format!(
                    "From: {vendor} <noreply@silent-saas.example>\r\nTo: {rcpt}\r\n\
                     Subject: Re: {subj} - request received\r\nDate: {}\r\n\
                     Message-ID: <auto-{n}@silent-saas.example>\r\nIn-Reply-To: <{ours}>\r\n\
                     Auto-Submitted: auto-replied\r\nPrecedence: auto_reply\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\nThank you for contacting us. \
                     This is an automated response confirming that we have received your message. \
                     Our team will get back to you as soon as possible.\r\n",
                    rfc2822(at)
                );
                s.pending.push((at, ack.into_bytes()));
            }
            Behavior::Panda | Behavior::Macro | Behavior::Asking | Behavior::Closer => {
                let thread = Thread {
                    vendor_address: to.clone(),
                    ticket: n,
                    person: person.clone(),
                    person_address: rcpt.clone(),
                    subject: format!("Re: {subj}"),
                    ids: vec![ours.clone()],
                    replies: 0,
                    seq: 0,
                };
                s.threads.insert(probe.probe_id.clone(), thread);
                // The n-th probe of this vendor in the run.
                let seq = u32::try_from(
                    s.threads
                        .values()
                        .filter(|t| t.vendor_address == *to)
                        .count(),
                )
                .unwrap_or(0)
                .saturating_sub(1);
                if let Some(t) = s.threads.get_mut(&probe.probe_id) {
                    t.seq = seq;
                }
                let delay = match behavior {
                    Behavior::Panda => minutes(&mut s.rng, 8, 45),
                    Behavior::Macro => minutes(&mut s.rng, 6, 40),
                    _ => minutes(&mut s.rng, 10, 90),
                };
                let at = now + delay;
                let details = self.details.get(&vendor).cloned().unwrap_or_default();
                let detail = detail_in(&details, &probe.body);
                let expected = match behavior {
                    Behavior::Panda => Expected {
                        language: Some("zh"),
                        personal: Some(true),
                        specific: Some(detail.is_some()),
                        asks_back: Some(false),
                        answers: Some(true),
                        answered_on_reply: Some(1),
                        ..Expected::default()
                    },
                    Behavior::Macro => Expected {
                        language: Some("en"),
                        personal: Some(false),
                        specific: detail.map(|_| false),
                        asks_back: Some(false),
                        macro_reply: true,
                        ..Expected::default()
                    },
                    Behavior::Asking => Expected {
                        language: Some("en"),
                        personal: Some(true),
                        asks_back: Some(true),
                        answers: Some(false),
                        answered_on_reply: Some(3),
                        ..Expected::default()
                    },
                    _ => Expected {
                        language: Some("en"),
                        personal: Some(true),
                        asks_back: Some(false),
                        answers: Some(true),
                        answered_on_reply: Some(1),
                        ..Expected::default()
                    },
                };
                s.expected.insert(probe.probe_id.clone(), expected);
                s.truth.insert(probe.probe_id.clone(), at);
                let body = match behavior {
                    Behavior::Panda => {
                        let agent = PANDA_AGENTS[s.rng.usize(..PANDA_AGENTS.len())];
                        panda_answer(person, detail.unwrap_or("直播服务"), agent, seq)
                    }
                    Behavior::Macro => macro_answer(n),
                    Behavior::Asking => asking_reply(0, person, seq),
                    _ => closer_answer(person, seq),
                };
                if let Some(raw) = reply(&mut s.threads, &probe.probe_id, &vendor, at, body) {
                    s.pending.push((at, raw));
                }
                if matches!(behavior, Behavior::Closer) {
                    let notice_at = at + minutes(&mut s.rng, 1, 5);
                    let notice = format!(
                        "From: {vendor} <noreply@closer-saas.example>\r\nTo: {rcpt}\r\n\
                         Subject: Request #{n} has been resolved\r\nDate: {}\r\n\
                         Message-ID: <solved-{n}@closer-saas.example>\r\nIn-Reply-To: <{ours}>\r\n\
                         References: <{ours}>\r\nAuto-Submitted: auto-generated\r\n\
                         Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
                        rfc2822(notice_at),
                        closer_notice(n)
                    );
                    s.pending.push((notice_at, notice.into_bytes()));
                    if let Some(e) = s.expected.get_mut(&probe.probe_id) {
                        e.resolved_at = Some(notice_at);
                    }
                }
            }
            Behavior::Bounce => {
                let at = now + SignedDuration::from_secs(s.rng.i64(1..10));
                let dsn = format!(
                    "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.probe.example (Mail Delivery System)\r\n\
                     To: {rcpt}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n\
                     Message-ID: <bounce-{n}@mx.probe.example>\r\nAuto-Submitted: auto-replied\r\n\
                     MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\
                     \tboundary=\"B{n}\"\r\n\r\n--B{n}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
                     I'm sorry to have to inform you that your message could not\r\nbe delivered to one or \
                     more recipients.\r\n\r\n<{to}>: host mx.gone-vendor.example said: 550 5.1.1 user \
                     unknown\r\n\r\n--B{n}\r\nContent-Type: message/delivery-status\r\n\r\n\
                     Reporting-MTA: dns; mx.probe.example\r\n\r\nFinal-Recipient: rfc822; {to}\r\n\
                     Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\
                     \r\n--B{n}\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {person} <{rcpt}>\r\n\
                     To: {to}\r\nSubject: {subj}\r\nMessage-ID: <{ours}>\r\nX-Support-Probe: {id}\r\n\
                     \r\n--B{n}--\r\n",
                    date = rfc2822(at),
                    id = probe.probe_id,
                );
                s.pending.push((at, dsn.into_bytes()));
            }
        }
    }
}

/// The vendor's next human reply in `id`'s thread, sent at `at`.
fn reply(
    threads: &mut BTreeMap<ProbeId, Thread>,
    id: &ProbeId,
    vendor: &str,
    at: Timestamp,
    body: String,
) -> Option<Vec<u8>> {
    let t = threads.get_mut(id)?;
    t.replies += 1;
    let domain = t
        .vendor_address
        .rsplit_once('@')
        .map_or("vendor.example", |(_, d)| d);
    let mid = format!("r{}-{}-{}@{domain}", t.ticket, t.replies, at.as_second());
    let in_reply_to = t.ids.last().cloned().unwrap_or_default();
    let raw = Mail {
        from_name: vendor,
        from_address: &t.vendor_address,
        to_name: &t.person,
        to_address: &t.person_address,
        subject: format!("[#{}] {}", t.ticket, t.subject),
        message_id: mid.clone(),
        in_reply_to: &in_reply_to,
        references: &t.ids,
        at,
        body,
    }
    .build();
    t.ids.push(mid);
    raw
}

/// Which of the vendor's configured details the probe's text names.
fn detail_in<'a>(details: &'a [String], text: &str) -> Option<&'a str> {
    details
        .iter()
        .find(|d| text.contains(d.as_str()))
        .map(String::as_str)
}

/// The first instant at or after `from` inside business hours (5-minute steps, at most 3 weeks).
fn next_opening(calendar: &BusinessCalendar, from: Timestamp) -> Timestamp {
    let step = SignedDuration::from_mins(5);
    let mut t = from;
    for _ in 0..(21 * 24 * 12) {
        if calendar.window_at(t) == Window::BusinessHours {
            return t;
        }
        t += step;
    }
    t
}

#[async_trait]
impl Channel for SimHelpdesk {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn watch_key(&self) -> String {
        "sim:demo".to_string()
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        let now = self.clock.now();
        self.schedule(probe, now);
        FileOutcome::Accepted {
            at: now,
            source: TimeSource::Simulated,
            detail: "250 2.0.0 Ok: queued (simulated)".into(),
            ticket_ref: None,
        }
    }

    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        let now = self.clock.now();
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let s = &mut *guard;
        let id = &message.message.probe_id;
        let Some(thread) = s.threads.get_mut(id) else {
            return FileOutcome::Accepted {
                at: now,
                source: TimeSource::Simulated,
                detail: "250 2.0.0 Ok: queued (simulated; nobody reads it)".into(),
                ticket_ref: None,
            };
        };
        thread.ids.push(message.message.message_id.clone());
        let vendor = self
            .vendors
            .get(&thread.vendor_address)
            .map(|(name, b)| (name.clone(), b.clone()));
        // Only asking-stream goes on talking: it answers our follow-ups
        // until it has answered the question.
        if let Some((name, Behavior::Asking)) = vendor
            && thread.replies < 3
        {
            let round = thread.replies;
            let person = thread.person.clone();
            let seq = thread.seq;
            let at = now + minutes(&mut s.rng, 5, 40);
            let text = asking_reply(round, &person, seq);
            if let Some(raw) = reply(&mut s.threads, id, &name, at, text) {
                s.pending.push((at, raw));
            }
        }
        FileOutcome::Accepted {
            at: now,
            source: TimeSource::Simulated,
            detail: "250 2.0.0 Ok: queued (simulated)".into(),
            ticket_ref: None,
        }
    }

    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        _since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        let now = self.clock.now();
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let s = &mut *guard;
        s.pending.sort_by_key(|(t, _)| *t);
        let due = s.pending.iter().take_while(|(t, _)| *t <= now).count();
        for (at, raw) in s.pending.drain(..due) {
            let seq = s.delivered.len();
            s.delivered.push(Inbound {
                key: format!("sim:{seq}"),
                at,
                source: TimeSource::Simulated,
                raw,
                probe_hint: None,
                api: None,
            });
        }
        let from = position
            .and_then(|p| p.get("seq"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(s.delivered.len());
        Ok(Fetched {
            messages: s.delivered[from..].to_vec(),
            position: serde_json::json!({ "seq": s.delivered.len() }),
            rescanned: false,
            more: false,
        })
    }
}
