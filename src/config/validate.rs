//! The meaning checks: from the raw shape to the validated [`Config`].
//!
//! Every check reports into the [`Reporter`] and carries on with a harmless
//! stand-in value, so one run finds every mistake; the config is returned
//! only when no error was reported.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use regex::Regex;
use toml::Spanned;

use super::duration::parse_duration;
use super::error::{Reporter, offset_in_string};
use super::raw::RawMetrics;
use super::raw::{
    RawBusinessHours, RawCaps, RawDaemon, RawDigest, RawDocument, RawFollowUp, RawOverride,
    RawPersona, RawProbe, RawReport, RawServer, RawVendor,
};
use super::template;
use super::value::{absolute, duration, is_loopback, secret};
use super::{BasicAuth, MetricsAuth, MetricsSettings};
use super::{
    Caps, Config, DaemonSettings, DigestSettings, FollowUp, ImapServer, Override, OverrideField,
    Persona, Probe, ReportSettings, Security, Server, Vendor,
};
use crate::model::{BusinessCalendar, Helpdesk, WeekdayKey};
use crate::schedule::{bad_field, cron_parser};

const DAY: Duration = Duration::from_secs(86_400);
const MAX_ANSWER_WITHIN: Duration = Duration::from_secs(90 * 86_400);
const DEFAULT_ANSWER_WITHIN: Duration = Duration::from_secs(7 * 86_400);
const DAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// Checks the meaning of a well-shaped document. Returns the config when no
/// error was reported (before or during this call).
pub(super) fn validate(doc: RawDocument, rep: &mut Reporter<'_>) -> Option<Config> {
    let daemon = doc.daemon.map(|d| daemon(rep, d)).unwrap_or_default();
    let metrics = doc.metrics.map(|m| metrics(rep, m)).unwrap_or_default();
    unique_names(rep, "vendor", doc.vendors.iter().map(|v| &v.name));
    unique_names(rep, "persona", doc.personas.iter().map(|p| &p.name));
    unique_names(rep, "probe", doc.probes.iter().map(|p| &p.name));
    let mut broken_vendors = doc.broken_vendors;
    // `addresses = []` is reported on the vendor; not again on its probes.
    broken_vendors.extend(
        doc.vendors
            .iter()
            .filter(|v| v.addresses.as_ref().is_some_and(|a| a.get_ref().is_empty()))
            .map(|v| v.name.get_ref().clone()),
    );
    let vendors: Vec<Vendor> = doc.vendors.into_iter().map(|v| vendor(rep, v)).collect();
    let personas: Vec<Persona> = doc.personas.into_iter().map(|p| persona(rep, p)).collect();
    let known = Known {
        vendors: &vendors,
        broken_vendors: &broken_vendors,
        personas: &personas,
        broken_personas: &doc.broken_personas,
    };
    let probes: Vec<Probe> = doc
        .probes
        .into_iter()
        .map(|p| probe(rep, &known, p))
        .collect();
    if probes.is_empty() && !rep.has_errors() {
        rep.file_warning("no [[probe]] is defined, nothing will be filed");
    }
    let report = doc.report.map(|r| report(rep, r)).unwrap_or_default();
    let digest = doc
        .digest
        .map(|d| digest(rep, d, &report, &personas, &doc.broken_personas));
    if rep.has_errors() {
        return None;
    }
    Some(Config {
        source: rep.file().to_path_buf(),
        enabled: doc.enabled.unwrap_or(true),
        daemon,
        metrics,
        vendors,
        personas,
        probes,
        report,
        digest,
    })
}

fn daemon(rep: &mut Reporter<'_>, raw: RawDaemon) -> DaemonSettings {
    let defaults = DaemonSettings::default();
    DaemonSettings {
        poll_interval: duration(
            rep,
            raw.poll_interval.as_ref(),
            defaults.poll_interval,
            |d| !d.is_zero(),
            "poll-interval must be greater than zero",
        ),
        missed_grace: duration(
            rep,
            raw.missed_grace.as_ref(),
            defaults.missed_grace,
            |_| true,
            "",
        ),
        filing_retry_window: duration(
            rep,
            raw.filing_retry_window.as_ref(),
            defaults.filing_retry_window,
            |_| true,
            "",
        ),
        state_dir: raw.state_dir.map(|p| absolute(rep, "state-dir", p)),
        max_filings_per_hour: raw
            .max_filings_per_hour
            .as_ref()
            .and_then(|v| bounded(rep, "max-filings-per-hour", v, 1000)),
    }
}

fn metrics(rep: &mut Reporter<'_>, raw: RawMetrics) -> MetricsSettings {
    let enabled = raw.enabled.unwrap_or(false);
    let auth = MetricsAuth {
        token: raw.token.map(|t| secret(rep, t)),
        basic: raw.basic_auth.map(|b| {
            let name = b.username.get_ref();
            if name.is_empty() || name.contains([':', '\n', '\r']) {
                rep.error(
                    b.username.span().start,
                    "metrics.basic-auth.username must not be empty nor contain `:`",
                );
            }
            BasicAuth {
                username: b.username.into_inner(),
                password: secret(rep, b.password),
            }
        }),
    };
    let listen = match &raw.listen {
        None => MetricsSettings::default().listen,
        Some(text) => match text.get_ref().parse::<std::net::SocketAddr>() {
            Ok(addr) => {
                if enabled && !addr.ip().is_loopback() && !auth.is_set() {
                    rep.error(
                        text.span().start,
                        format!(
                            "metrics.listen {addr} is not a loopback address: set \
                             metrics.token or [metrics.basic-auth] so that the network \
                             cannot read the status page, the report API and /metrics \
                             without credentials"
                        ),
                    );
                }
                addr
            }
            Err(_) => {
                rep.error(
                    text.span().start,
                    format!(
                        "metrics.listen must be an IP address and port such as \
                         \"127.0.0.1:9464\", not {:?}",
                        text.get_ref()
                    ),
                );
                MetricsSettings::default().listen
            }
        },
    };
    MetricsSettings {
        enabled,
        listen,
        auth,
    }
}

fn vendor(rep: &mut Reporter<'_>, raw: RawVendor) -> Vendor {
    name(rep, "vendor", &raw.name);
    if let Some(a) = &raw.addresses
        && a.get_ref().is_empty()
    {
        rep.error(a.span().start, "a vendor needs at least one address");
    }
    let addresses = raw
        .addresses
        .map(Spanned::into_inner)
        .unwrap_or_default()
        .into_iter()
        .map(|a| address(rep, a))
        .collect();
    let sla = raw
        .sla
        .unwrap_or_default()
        .into_iter()
        .map(|(label, target)| {
            let rule = "an SLA target must be greater than zero";
            let d = duration(rep, Some(&target), Duration::ZERO, |d| !d.is_zero(), rule);
            (label, d)
        })
        .collect();
    Vendor {
        name: raw.name.into_inner(),
        addresses,
        helpdesk: raw.helpdesk.map(|h| helpdesk(rep, &h)).unwrap_or_default(),
        caps: raw.caps.map(|c| caps(rep, c)).unwrap_or_default(),
        calendar: raw
            .business_hours
            .map_or_else(always_open, |h| calendar(rep, h)),
        sla,
        overrides: raw
            .overrides
            .into_iter()
            .filter_map(|o| override_rule(rep, o))
            .collect(),
    }
}

/// A configured `helpdesk =`: `generic` or the id of a helpdesk the
/// classifier recognises (see `data/helpdesks.toml`).
fn helpdesk(rep: &mut Reporter<'_>, raw: &Spanned<String>) -> Helpdesk {
    let id = raw.get_ref();
    let known = crate::classify::helpdesk_ids();
    if id == Helpdesk::GENERIC || known.contains(&id.as_str()) {
        return Helpdesk::new(id);
    }
    rep.error(
        raw.span().start,
        format!(
            "unknown value `{id}`, expected one of {}, {}",
            known.join(", "),
            Helpdesk::GENERIC
        ),
    );
    Helpdesk::generic()
}

fn caps(rep: &mut Reporter<'_>, raw: Spanned<RawCaps>) -> Caps {
    let span = raw.span();
    let raw = raw.into_inner();
    let defaults = Caps::default();
    let per_day = raw.per_day.as_ref().map_or(Some(defaults.per_day), |v| {
        bounded(rep, "per-day", v, Caps::MAX_PER_DAY)
    });
    let per_week = raw.per_week.as_ref().map_or(Some(defaults.per_week), |v| {
        bounded(rep, "per-week", v, Caps::MAX_PER_WEEK)
    });
    let (Some(per_day), Some(per_week)) = (per_day, per_week) else {
        return defaults;
    };
    if per_week < per_day {
        let at = raw.per_week.map_or(span.start, |v| v.span().start);
        rep.error(
            at,
            format!("per-week ({per_week}) must be at least per-day ({per_day})"),
        );
    }
    Caps { per_day, per_week }
}

/// An integer in `1..=max`, or `None` after reporting.
fn bounded(rep: &mut Reporter<'_>, key: &str, value: &Spanned<i64>, max: u32) -> Option<u32> {
    match u32::try_from(*value.get_ref()) {
        Ok(v) if (1..=max).contains(&v) => Some(v),
        _ => {
            rep.error(
                value.span().start,
                format!("{key} must be between 1 and {max}, not {}", value.get_ref()),
            );
            None
        }
    }
}

/// The calendar used when a vendor gives no business hours: always open, in UTC.
fn always_open() -> BusinessCalendar {
    BusinessCalendar {
        zone: TimeZone::UTC,
        days: DAY_NAMES
            .iter()
            .map(|&(_, d)| WeekdayKey::from(d))
            .collect(),
        hours: vec![(Time::midnight(), None)],
        holidays: BTreeSet::new(),
    }
}

fn calendar(rep: &mut Reporter<'_>, raw: RawBusinessHours) -> BusinessCalendar {
    let zone = zone(rep, &raw.zone);
    if raw.days.get_ref().is_empty() {
        rep.error(
            raw.days.span().start,
            "business-hours needs at least one day",
        );
    }
    let mut days = BTreeSet::new();
    for day in raw.days.get_ref() {
        match DAY_NAMES.iter().find(|(n, _)| *n == day.get_ref()) {
            Some(&(_, d)) if !days.insert(WeekdayKey::from(d)) => {
                rep.error(
                    day.span().start,
                    format!("day `{}` is listed twice", day.get_ref()),
                );
            }
            Some(_) => {}
            None => rep.error(
                day.span().start,
                format!(
                    "unknown day `{}`, expected one of mon, tue, wed, thu, fri, sat, sun",
                    day.get_ref()
                ),
            ),
        }
    }
    let holidays = raw
        .holidays
        .iter()
        .filter_map(|h| match h.get_ref().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                rep.error(
                    h.span().start,
                    format!("invalid holiday `{}`, expected YYYY-MM-DD", h.get_ref()),
                );
                None
            }
        })
        .collect();
    BusinessCalendar {
        zone,
        days,
        hours: hours(rep, &raw.hours),
        holidays,
    }
}

/// One opening-hours range: start, and end (`None` for midnight).
type OpeningHours = (Time, Option<Time>);

/// Opening hours: parsed, sorted, and checked not to overlap.
fn hours(rep: &mut Reporter<'_>, raw: &Spanned<Vec<Spanned<String>>>) -> Vec<OpeningHours> {
    if raw.get_ref().is_empty() {
        rep.error(
            raw.span().start,
            "business-hours needs at least one hours range",
        );
    }
    let mut ranges: Vec<(OpeningHours, &Spanned<String>)> = Vec::new();
    for text in raw.get_ref() {
        match hours_range(text.get_ref()) {
            Ok(r) => ranges.push((r, text)),
            Err(why) => rep.error(
                text.span().start,
                format!("invalid hours range `{}`: {why}", text.get_ref()),
            ),
        }
    }
    ranges.sort_by_key(|((start, _), _)| *start);
    for pair in ranges.windows(2) {
        let ((_, end), earlier) = pair[0];
        let ((start, _), later) = pair[1];
        if end.is_none_or(|end| end > start) {
            rep.error(
                later.span().start,
                format!(
                    "hours range `{}` overlaps `{}`",
                    later.get_ref(),
                    earlier.get_ref()
                ),
            );
        }
    }
    ranges.into_iter().map(|(r, _)| r).collect()
}

/// Parses `HH:MM-HH:MM`; an end of `24:00` is midnight (`None`).
fn hours_range(text: &str) -> Result<OpeningHours, &'static str> {
    let (start, end) = text.split_once('-').ok_or("expected HH:MM-HH:MM")?;
    let start = clock(start)?.ok_or("a range cannot start at 24:00")?;
    let end = clock(end)?;
    if end.is_some_and(|end| end <= start) {
        return Err("the end must be after the start (use 24:00 for midnight)");
    }
    Ok((start, end))
}

/// Parses `HH:MM`; `24:00` gives `None`.
fn clock(text: &str) -> Result<Option<Time>, &'static str> {
    const SHAPE: &str = "expected HH:MM-HH:MM";
    let (h, m) = text.split_once(':').ok_or(SHAPE)?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return Err(SHAPE);
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| SHAPE)?, m.parse().map_err(|_| SHAPE)?);
    if (h, m) == (24, 0) {
        return Ok(None);
    }
    Time::new(h, m, 0, 0)
        .map(Some)
        .map_err(|_| "hours go from 00:00 to 24:00")
}

/// An override rule; `None` (after reporting) when its pattern does not compile.
fn override_rule(rep: &mut Reporter<'_>, raw: RawOverride) -> Option<Override> {
    let field = match raw.field.get_ref().as_str() {
        "subject" => OverrideField::Subject,
        "from" => OverrideField::From,
        "body" => OverrideField::Body,
        other => match other.strip_prefix("header:") {
            Some(h) if is_header_name(h) => OverrideField::Header(h.to_ascii_lowercase()),
            _ => {
                rep.error(
                    raw.field.span().start,
                    format!("unknown override field `{other}`, expected subject, from, body or header:<name>"),
                );
                OverrideField::Subject
            }
        },
    };
    let pattern = match Regex::new(raw.pattern.get_ref()) {
        Ok(p) => p,
        Err(e) => {
            let why = regex_reason(&e);
            rep.error(raw.pattern.span().start, format!("invalid pattern: {why}"));
            return None;
        }
    };
    Some(Override {
        field,
        pattern,
        class: raw.class,
    })
}

/// The `regex` crate's complaint in one line, without its `error: ` prefix
/// (its full message repeats the pattern with a caret under it).
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let why = text.lines().last().unwrap_or_default();
    why.strip_prefix("error: ").unwrap_or(why).to_string()
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

fn persona(rep: &mut Reporter<'_>, raw: RawPersona) -> Persona {
    name(rep, "persona", &raw.name);
    let display_name = raw.display_name.get_ref();
    if display_name.trim().is_empty() || display_name.chars().any(char::is_control) {
        rep.error(
            raw.display_name.span().start,
            "display-name must be a non-empty single line without control characters",
        );
    }
    match (&raw.smtp, &raw.imap, &raw.api) {
        (Some(_), Some(_), None) | (None, None, Some(_)) => {}
        (_, _, Some(_)) => rep.error(
            raw.name.span().start,
            "a persona uses either [persona.api] or [persona.smtp] + [persona.imap], not both",
        ),
        _ => rep.error(
            raw.name.span().start,
            "a persona needs [persona.smtp] and [persona.imap], or [persona.api]",
        ),
    }
    let imap = raw.imap.map(|imap| {
        let (imap, mailbox, idle) = imap.split();
        let mailbox = mailbox.map_or_else(
            || "INBOX".to_string(),
            |m| {
                if m.get_ref().trim().is_empty() {
                    rep.error(m.span().start, "mailbox must not be empty");
                }
                m.into_inner()
            },
        );
        ImapServer {
            server: server(rep, imap),
            mailbox,
            idle: idle.unwrap_or(true),
        }
    });
    Persona {
        name: raw.name.into_inner(),
        display_name: raw.display_name.into_inner(),
        address: address(rep, raw.address),
        region: raw.region,
        smtp: raw.smtp.map(|s| server(rep, s)),
        imap,
        api: raw.api.map(|a| super::api::api(rep, a)),
    }
}

fn server(rep: &mut Reporter<'_>, raw: RawServer) -> Server {
    let host = raw.host.get_ref();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        rep.error(raw.host.span().start, format!("invalid host `{host}`"));
    }
    let port = match u16::try_from(*raw.port.get_ref()) {
        Ok(p) if p > 0 => p,
        _ => {
            rep.error(
                raw.port.span().start,
                format!(
                    "port must be between 1 and 65535, not {}",
                    raw.port.get_ref()
                ),
            );
            1
        }
    };
    let security = *raw.security.get_ref();
    if security == Security::Insecure && !is_loopback(host) {
        rep.error(
            raw.security.span().start,
            format!(
                "security = \"insecure\" is only allowed for 127.0.0.1, ::1 or localhost, not `{host}`"
            ),
        );
    }
    if raw.username.get_ref().is_empty() {
        rep.error(raw.username.span().start, "username must not be empty");
    }
    Server {
        host: raw.host.into_inner(),
        port,
        security,
        username: raw.username.into_inner(),
        password: secret(rep, raw.password),
        ca_file: raw.ca_file.map(|p| absolute(rep, "ca-file", p)),
    }
}

/// What probes may refer to.
struct Known<'a> {
    vendors: &'a [Vendor],
    broken_vendors: &'a HashSet<String>,
    personas: &'a [Persona],
    broken_personas: &'a HashSet<String>,
}

fn probe(rep: &mut Reporter<'_>, known: &Known<'_>, raw: RawProbe) -> Probe {
    name(rep, "probe", &raw.name);
    let vendor = known
        .vendors
        .iter()
        .find(|v| v.name == *raw.vendor.get_ref());
    if vendor.is_none() && !known.broken_vendors.contains(raw.vendor.get_ref()) {
        let names: Vec<&str> = known.vendors.iter().map(|v| v.name.as_str()).collect();
        unknown_reference(rep, "vendor", &raw.vendor, &names);
    }
    let persona = known
        .personas
        .iter()
        .find(|p| p.name == *raw.persona.get_ref());
    let persona_known = persona.is_some();
    if let (Some(p), Some(v)) = (persona, vendor)
        && p.api.is_none()
        && v.addresses.is_empty()
        && !known.broken_vendors.contains(&v.name)
    {
        rep.error(
            raw.persona.span().start,
            format!(
                "persona `{}` files by email but vendor `{}` has no addresses",
                p.name, v.name
            ),
        );
    }
    if !persona_known && !known.broken_personas.contains(raw.persona.get_ref()) {
        let names: Vec<&str> = known.personas.iter().map(|p| p.name.as_str()).collect();
        unknown_reference(rep, "persona", &raw.persona, &names);
    }
    schedule(rep, &raw.schedule);
    let jitter = duration(
        rep,
        raw.jitter.as_ref(),
        Duration::ZERO,
        |d| d < DAY,
        "jitter must be less than 24h",
    );
    let answer_within = duration(
        rep,
        raw.answer_within.as_ref(),
        DEFAULT_ANSWER_WITHIN,
        |d| !d.is_zero() && d <= MAX_ANSWER_WITHIN,
        "answer-within must be more than 0s and at most 90d",
    );
    if let (Some(p), Some(v)) = (&raw.priority, vendor)
        && !v.sla.is_empty()
        && !v.sla.contains_key(p.get_ref())
    {
        let labels: Vec<&str> = v.sla.keys().map(String::as_str).collect();
        rep.error(
            p.span().start,
            format!(
                "priority `{}` is not in vendor `{}`'s sla table, expected one of {}",
                p.get_ref(),
                v.name,
                labels.join(", ")
            ),
        );
    }
    if raw.subject.get_ref().contains(['\r', '\n']) {
        rep.error(raw.subject.span().start, "subject must be a single line");
    }
    let language = raw.language.map(|l| language(rep, l));
    let details = details(rep, raw.details);
    let has_details = !details.is_empty();
    template_text(rep, &raw.subject, has_details);
    template_text(rep, &raw.body, has_details);
    // A follow-up's wait is compared with answer-within only when that was
    // valid, so one mistake is not reported twice.
    let answer_within_ok = raw
        .answer_within
        .as_ref()
        .is_none_or(|a| parse_duration(a.get_ref()).is_ok_and(|d| d == answer_within));
    let follow_ups = raw.follow_ups.map_or_else(Vec::new, |f| {
        follow_ups(
            rep,
            f,
            answer_within_ok.then_some(answer_within),
            has_details,
        )
    });
    let closing_message = raw.closing_message.map(|m| {
        if m.get_ref().trim().is_empty() {
            rep.error(m.span().start, "closing-message must not be empty");
        }
        if let Some(p) = persona
            && let Some(api) = &p.api
            && !super::api::can_post_closing_message(api)
        {
            rep.error(
                m.span().start,
                format!(
                    "persona `{}` files through preset `{}`, which cannot post a closing message",
                    p.name, api.preset
                ),
            );
        }
        m.into_inner()
    });
    Probe {
        name: raw.name.into_inner(),
        vendor: raw.vendor.into_inner(),
        persona: raw.persona.into_inner(),
        schedule: raw.schedule.into_inner(),
        zones: zones(rep, raw.zones),
        jitter,
        priority: raw.priority.map(Spanned::into_inner),
        answer_within,
        token_in: raw.token_in,
        subject: raw.subject.into_inner(),
        body: raw.body.into_inner(),
        enabled: raw.enabled.unwrap_or(true),
        language,
        details,
        expect: raw.expect.map_or_else(Vec::new, |e| expect(rep, e)),
        follow_ups,
        closing_message,
    }
}

/// What a probe's `language` must look like, for the error message.
const LANGUAGE_SHAPE: &str = "expected a BCP 47 tag such as zh, zh-CN, zh-Hant-TW, es-419 or pt-BR";

/// A probe's `language`, kept as written; a malformed tag is reported at
/// the subtag that breaks it.
fn language(rep: &mut Reporter<'_>, raw: Spanned<String>) -> String {
    let tag = raw.get_ref();
    if let Err((index, fragment, why)) = language_shape(tag) {
        let at = offset_in_string(rep.text(), raw.span(), tag, index, fragment);
        rep.error(
            at,
            format!("invalid language `{tag}`: {why}; {LANGUAGE_SHAPE}"),
        );
    }
    raw.into_inner()
}

/// Checks the shape of a BCP 47 tag as this tool uses it: a 2–3 letter
/// language, then optionally a 4-letter script, then optionally a 2-letter
/// or 3-digit region, separated by `-`. On a mistake: the byte index and
/// text of the offending subtag, and why.
fn language_shape(tag: &str) -> Result<(), (usize, &str, String)> {
    if let Some(i) = tag.find('_') {
        return Err((i, "_", "subtags are separated by `-`, not `_`".into()));
    }
    let letters = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
    };
    let is_script = |s: &str| letters(s, 4..=4);
    let is_region =
        |s: &str| letters(s, 2..=2) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()));
    /// The last subtag read.
    #[derive(Clone, Copy)]
    enum Last {
        Nothing,
        Language,
        Script,
        Region,
    }
    let mut last = Last::Nothing;
    let mut start = 0;
    for subtag in tag.split('-') {
        let at = start;
        start += subtag.len() + 1;
        if subtag.is_empty() {
            let why = if tag.is_empty() {
                "the tag is empty"
            } else {
                "a subtag is empty"
            };
            return Err((at, "", why.into()));
        }
        last = match last {
            Last::Nothing if letters(subtag, 2..=3) => Last::Language,
            Last::Language if is_script(subtag) => Last::Script,
            Last::Language | Last::Script if is_region(subtag) => Last::Region,
            Last::Nothing => {
                let why = format!("the language `{subtag}` must be 2 or 3 letters");
                return Err((at, subtag, why));
            }
            Last::Language => {
                let why = format!(
                    "`{subtag}` is neither a 4-letter script nor a 2-letter or 3-digit region"
                );
                return Err((at, subtag, why));
            }
            Last::Script => {
                let why = format!("`{subtag}` is not a 2-letter or 3-digit region");
                return Err((at, subtag, why));
            }
            Last::Region => {
                let why = format!("nothing may follow the region, found `{subtag}`");
                return Err((at, subtag, why));
            }
        };
    }
    Ok(())
}

/// A non-empty list of single-line strings without duplicates (`details`,
/// `expect`): returns the entries whose shape is right, after reporting
/// the others. `what` names one entry in messages.
fn string_list(
    rep: &mut Reporter<'_>,
    key: &str,
    what: &str,
    raw: Spanned<Vec<Spanned<String>>>,
) -> Vec<Spanned<String>> {
    if raw.get_ref().is_empty() {
        rep.error(
            raw.span().start,
            format!("{key} needs at least one entry; leave the key out for none"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for item in raw.into_inner() {
        let text = item.get_ref();
        if text.trim().is_empty() {
            rep.error(item.span().start, format!("{what} must not be empty"));
        } else if text.chars().any(char::is_control) {
            rep.error(
                item.span().start,
                format!("{what} must be a single line without control characters"),
            );
        } else if !seen.insert(text.clone()) {
            rep.error(
                item.span().start,
                format!("{what} `{text}` is listed twice"),
            );
        } else {
            out.push(item);
        }
    }
    out
}

/// `details`: the facts `{detail}` is drawn from.
fn details(rep: &mut Reporter<'_>, raw: Option<Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    raw.map_or_else(Vec::new, |raw| {
        string_list(rep, "details", "a detail", raw)
            .into_iter()
            .map(Spanned::into_inner)
            .collect()
    })
}

/// `expect`: regular expressions a right answer contains, kept as written.
fn expect(rep: &mut Reporter<'_>, raw: Spanned<Vec<Spanned<String>>>) -> Vec<String> {
    let mut out = Vec::new();
    for pattern in string_list(rep, "expect", "an expect pattern", raw) {
        match Regex::new(pattern.get_ref()) {
            Ok(re) if re.is_match("") => rep.error(
                pattern.span().start,
                format!(
                    "expect pattern `{}` matches an empty text, so every reply would count as \
                     answered",
                    pattern.get_ref()
                ),
            ),
            Ok(_) => {}
            Err(e) => rep.error(
                pattern.span().start,
                format!(
                    "invalid expect pattern `{}`: {}",
                    pattern.get_ref(),
                    regex_reason(&e)
                ),
            ),
        }
        out.push(pattern.into_inner());
    }
    out
}

/// `follow-ups`: at most [`Probe::MAX_FOLLOW_UPS`] rounds, each waiting
/// more than zero and at most `answer_within` (when that is known to be
/// valid), with a non-empty body template.
fn follow_ups(
    rep: &mut Reporter<'_>,
    raw: Spanned<Vec<Spanned<RawFollowUp>>>,
    answer_within: Option<Duration>,
    has_details: bool,
) -> Vec<FollowUp> {
    let count = raw.get_ref().len();
    if count == 0 {
        rep.error(
            raw.span().start,
            "follow-ups needs at least one entry; leave the key out for none",
        );
    }
    if let Some(extra) = raw.get_ref().get(Probe::MAX_FOLLOW_UPS) {
        rep.error(
            extra.span().start,
            format!(
                "at most {} follow-ups per probe, found {count}: each is a message to the \
                 vendor's staff, and the cap keeps a mistake from becoming a stream of mail",
                Probe::MAX_FOLLOW_UPS
            ),
        );
    }
    let mut out = Vec::new();
    for entry in raw.into_inner() {
        let entry = entry.into_inner();
        let after = duration(
            rep,
            Some(&entry.after),
            Duration::ZERO,
            |d| !d.is_zero(),
            "a follow-up's after must be more than 0s",
        );
        if let Some(limit) = answer_within
            && after > limit
        {
            rep.error(
                entry.after.span().start,
                format!(
                    "a follow-up's after ({}) must be at most the probe's answer-within ({})",
                    entry.after.get_ref(),
                    super::format_duration(limit)
                ),
            );
        }
        if entry.body.get_ref().trim().is_empty() {
            rep.error(
                entry.body.span().start,
                "a follow-up body must not be empty",
            );
        }
        template_text(rep, &entry.body, has_details);
        out.push(FollowUp {
            after,
            body: entry.body.into_inner(),
        });
    }
    out
}

fn unknown_reference(rep: &mut Reporter<'_>, kind: &str, value: &Spanned<String>, names: &[&str]) {
    let message = if names.is_empty() {
        format!(
            "unknown {kind} `{}`, no [[{kind}]] is defined",
            value.get_ref()
        )
    } else {
        format!(
            "unknown {kind} `{}`, expected one of {}",
            value.get_ref(),
            names.join(", ")
        )
    };
    rep.error(value.span().start, message);
}

/// Checks a cron expression; a bad field is reported at its own column.
fn schedule(rep: &mut Reporter<'_>, raw: &Spanned<String>) {
    let text = raw.get_ref();
    let fields = words(text);
    if fields.len() != 6 {
        rep.error(
            raw.span().start,
            format!(
                "invalid schedule `{text}`: must have 6 fields (second minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ),
        );
        return;
    }
    let Err(whole) = cron_parser().parse(text) else {
        return;
    };
    let plain: Vec<&str> = fields.iter().map(|&(_, field)| field).collect();
    if let Some((i, name, e)) = bad_field(&plain)
        && let Some(&(offset, field)) = fields.get(i)
    {
        let at = offset_in_string(rep.text(), raw.span(), text, offset, field);
        rep.error(
            at,
            format!(
                "invalid schedule `{text}`: {name} field `{field}`: {}",
                cron_reason(&e)
            ),
        );
        return;
    }
    rep.error(
        raw.span().start,
        format!("invalid schedule `{text}`: {}", cron_reason(&whole)),
    );
}

/// croner's message without its category prefix and trailing period.
fn cron_reason(error: &croner::errors::CronError) -> String {
    let text = error.to_string();
    let text = [
        "Component error: ",
        "Invalid pattern: ",
        "Pattern contains illegal characters: ",
    ]
    .iter()
    .find_map(|p| text.strip_prefix(p))
    .unwrap_or(&text);
    text.trim_end_matches('.').to_string()
}

/// The whitespace-separated words of `text`, with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

fn zones(rep: &mut Reporter<'_>, raw: Spanned<Vec<Spanned<String>>>) -> Vec<(String, TimeZone)> {
    if raw.get_ref().is_empty() {
        rep.error(raw.span().start, "a probe needs at least one zone");
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in raw.into_inner() {
        if !seen.insert(name.get_ref().clone()) {
            rep.error(
                name.span().start,
                format!("zone `{}` is listed twice", name.get_ref()),
            );
        }
        let tz = zone(rep, &name);
        out.push((name.into_inner(), tz));
    }
    out
}

fn zone(rep: &mut Reporter<'_>, name: &Spanned<String>) -> TimeZone {
    TimeZone::get(name.get_ref()).unwrap_or_else(|_| {
        rep.error(
            name.span().start,
            format!(
                "unknown time zone `{}`, expected an IANA name such as Europe/Berlin",
                name.get_ref()
            ),
        );
        TimeZone::UTC
    })
}

fn template_text(rep: &mut Reporter<'_>, value: &Spanned<String>, has_details: bool) {
    for problem in template::check(value.get_ref(), has_details) {
        let at = offset_in_string(
            rep.text(),
            value.span(),
            value.get_ref(),
            problem.offset,
            &problem.fragment,
        );
        rep.error(at, problem.message);
    }
}

fn name(rep: &mut Reporter<'_>, kind: &str, name: &Spanned<String>) {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        rep.error(
            name.span().start,
            format!("invalid {kind} name `{n}`, use only a-z, 0-9, - and _"),
        );
    }
}

fn unique_names<'a>(
    rep: &mut Reporter<'_>,
    kind: &str,
    names: impl Iterator<Item = &'a Spanned<String>>,
) {
    let mut first: HashMap<&str, Range<usize>> = HashMap::new();
    for n in names {
        match first.get(n.get_ref().as_str()) {
            Some(earlier) => {
                let line = rep.line_of(earlier.start);
                rep.error(
                    n.span().start,
                    format!(
                        "duplicate {kind} name `{}`, first defined on line {line}",
                        n.get_ref()
                    ),
                );
            }
            None => {
                first.insert(n.get_ref(), n.span());
            }
        }
    }
}

/// An address such as `support@acme.example`; reported (and kept) if malformed.
fn address(rep: &mut Reporter<'_>, value: Spanned<String>) -> String {
    if let Err(why) = check_address(value.get_ref()) {
        rep.error(
            value.span().start,
            format!("invalid address `{}`: {why}", value.get_ref()),
        );
    }
    value.into_inner()
}

fn check_address(address: &str) -> Result<(), &'static str> {
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or("expected local@domain, without a display name")?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !"()<>[]\\,;:@\"".contains(c));
    if !local_ok {
        return Err("the part before @ has a space or a forbidden character");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !domain.split('.').all(label_ok) {
        return Err("the domain is not a valid host name");
    }
    Ok(())
}

/// `[report]`: the zone ISO weeks are read in.
fn report(rep: &mut Reporter<'_>, raw: RawReport) -> ReportSettings {
    match raw.zone {
        Some(name) => ReportSettings {
            zone: zone(rep, &name),
            zone_name: name.into_inner(),
        },
        None => ReportSettings::default(),
    }
}

/// `[digest]`: when, from whom and to whom the weekly digest is sent.
fn digest(
    rep: &mut Reporter<'_>,
    raw: RawDigest,
    report: &ReportSettings,
    personas: &[Persona],
    broken_personas: &HashSet<String>,
) -> DigestSettings {
    let schedule_text = match raw.schedule {
        Some(s) => {
            schedule(rep, &s);
            s.into_inner()
        }
        None => DigestSettings::DEFAULT_SCHEDULE.to_string(),
    };
    let (zone_name, tz) = match raw.zone {
        Some(name) => {
            let tz = zone(rep, &name);
            (name.into_inner(), tz)
        }
        None => (report.zone_name.clone(), report.zone.clone()),
    };
    let jitter = duration(
        rep,
        raw.jitter.as_ref(),
        DigestSettings::DEFAULT_JITTER,
        |d| d < Duration::from_secs(24 * 3600),
        "the digest jitter must be less than a day",
    );
    let persona = raw.persona.get_ref();
    match personas.iter().find(|p| &p.name == persona) {
        None if !broken_personas.contains(persona) => {
            let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
            unknown_reference(rep, "persona", &raw.persona, &names);
        }
        Some(p) if p.smtp.is_none() => rep.error(
            raw.persona.span().start,
            format!(
                "persona `{persona}` has no [persona.smtp]: the digest is sent by email, so name an email persona"
            ),
        ),
        _ => {}
    }
    if raw.recipients.get_ref().is_empty() {
        rep.error(
            raw.recipients.span().start,
            "the digest needs at least one recipient",
        );
    }
    DigestSettings {
        enabled: raw.enabled.unwrap_or(true),
        schedule: schedule_text,
        zone_name,
        zone: tz,
        jitter,
        persona: raw.persona.into_inner(),
        recipients: raw
            .recipients
            .into_inner()
            .into_iter()
            .map(|a| address(rep, a))
            .collect(),
    }
}
