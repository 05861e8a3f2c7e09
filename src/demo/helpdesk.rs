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

use crate::channel::{Channel, ChannelError, Fetched, FileOutcome, Inbound, Outgoing};
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
}

/// The simulated helpdesks of the demo vendors.
#[derive(Debug)]
pub struct SimHelpdesk {
    clock: Arc<dyn Clock>,
    /// Vendor address → (vendor name, behavior).
    vendors: BTreeMap<String, (String, Behavior)>,
    /// A std mutex: never held across an `.await`.
    state: Mutex<State>,
}

const AGENTS: [&str; 6] = ["Priya", "Tomasz", "Aiko", "Mateo", "Grace", "Olu"];
const OPENERS: [&str; 8] = [
    "thanks for reaching out, I can confirm we received your message",
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
                _ => Behavior::AckOnly,
            };
            for a in &v.addresses {
                vendors.insert(a.to_ascii_lowercase(), (v.name.clone(), behavior.clone()));
            }
        }
        SimHelpdesk {
            clock,
            vendors,
            state: Mutex::new(State {
                rng: fastrand::Rng::with_seed(seed),
                ticket_seq: 4100,
                pending: Vec::new(),
                delivered: Vec::new(),
                truth: BTreeMap::new(),
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
