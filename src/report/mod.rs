//! Reports: grouped figures of time to first human reply over a period,
//! for `probe report` and the weekly digest.
//!
//! This is the one aggregation layer: [`own`] says what one probe
//! contributes (with our own downtime kept out), [`km`] estimates; this
//! module groups probes (always by vendor, then by any of window, channel,
//! persona and region) and computes, per group:
//!
//! - counts: filed, answered, pending, unanswered, undeliverable,
//!   uncertain, and — kept apart, because they are never the vendor's —
//!   not filed and skipped;
//! - time to first human reply as Kaplan–Meier median, p90 and max
//!   ([`km`]), over answered *and* censored probes, in **calendar time**
//!   and in **business time** (the clock runs only inside the vendor's
//!   opening hours, like Zendesk's business-hours metric);
//! - a 95 % interval for the median, or the caution "n < 5";
//! - time to acknowledgement (median over the probes that got one);
//! - the share answered within 1 h, 4 h and 24 h, `1 − S(t)` off the same
//!   Kaplan–Meier curve (a lower bound, marked "≥", past the longest time
//!   watched);
//! - SLA compliance against the target recorded on each probe: met when
//!   answered within it, breached when answered later *or* still
//!   unanswered past it (pending or closed); a probe still inside its
//!   target is open, in neither count.
//!
//! Per vendor it adds the [`scorecard`]: reply and ack-only rates, first
//! reply in and out of business hours, mean and median among the answered,
//! the first reply's traits, resolution and vendor follow-ups.
//!
//! Probes belong to a period by the instant they were filed (or were due,
//! for those never filed), and are read with all the evidence known at
//! `now`: a reply that came after the period ended still counts.
//!
//! Reports are built from [`ReadingRow`]s — the store keeps one per probe,
//! ordered by that instant, so a weekly report reads two weeks of small
//! rows ([`build_rows`]); [`build`] takes full records and reads the same
//! rows out of them. Each probe's observations are computed once per report.

pub mod km;
pub mod own;
pub mod period;
pub mod query;
pub mod render;
pub mod scorecard;
pub mod status;
pub mod views;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Config;
use crate::model::{ProbeRecord, ProbeState, ReadingRow, Window};
use km::{Estimate, Interval, Observation};
use own::OwnSide;
pub use period::{IsoWeek, Period, PeriodError};
use scorecard::Scorecard;

/// The ages at which the share answered is reported, in hours.
pub const WITHIN_HOURS: [i64; 3] = [1, 4, 24];

/// A dimension a report can be grouped by, beside the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dim {
    /// When the probe was filed relative to the vendor's calendar.
    Window,
    /// The channel kind (`email`, ...).
    Channel,
    /// The persona that filed it.
    Persona,
    /// The persona's region label.
    Region,
}

impl Dim {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Window => "window",
            Dim::Channel => "channel",
            Dim::Persona => "persona",
            Dim::Region => "region",
        }
    }

    /// Parses `window,channel,persona` (any order, any subset).
    pub fn parse_list(s: &str) -> Result<Vec<Dim>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let d = match part {
                "window" => Dim::Window,
                "channel" => Dim::Channel,
                "persona" => Dim::Persona,
                "region" => Dim::Region,
                other => {
                    return Err(format!(
                        "unknown grouping {other:?}, expected window, channel, persona or region"
                    ));
                }
            };
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }
}

/// What a report covers and how it is grouped.
#[derive(Debug, Clone)]
pub struct Options {
    /// The period; `None` for everything in the store.
    pub period: Option<Period>,
    /// The period compared with, for the week-over-week change.
    pub previous: Option<Period>,
    /// Only this vendor.
    pub vendor: Option<String>,
    /// Grouping inside each vendor.
    pub by: Vec<Dim>,
    /// The instant the evidence is read at (pending probes are censored here).
    pub now: Timestamp,
    /// What we know of our own side: a pending probe is censored where its
    /// mailbox was last read completely, not at `now` (see [`own`]).
    /// The default knows nothing and censors at `now`.
    pub own: OwnSide,
}

/// Latency figures in one time scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Observations (answered + censored).
    pub n: usize,
    /// Kaplan–Meier median.
    pub median: Estimate,
    /// Its 95 % interval; `None` when `n < 5`.
    pub median_interval: Option<Interval>,
    /// Kaplan–Meier 90th percentile.
    pub p90: Estimate,
    /// The longest; "more than" when a probe is still unanswered.
    pub max: Estimate,
}

impl Latency {
    fn of(obs: &[Observation]) -> Latency {
        Latency {
            n: obs.len(),
            median: km::median(obs),
            median_interval: km::median_interval(obs),
            p90: km::quantile(obs, 0.9),
            max: km::maximum(obs),
        }
    }

    /// True when the sample is too small for an interval.
    pub fn small(&self) -> bool {
        self.n < km::MIN_SAMPLE_FOR_INTERVAL
    }

    /// The median with its interval or the small-sample caution:
    /// `2h 0m (95% 1h 0m – 3h 0m)`, `2h 0m (n < 5)`, or `> 3d 0h (n = 7)`
    /// when too few were answered for an interval.
    pub fn median_text(&self) -> String {
        match (&self.median, &self.median_interval) {
            (Estimate::None, _) => "-".into(),
            (m, Some(ci)) if matches!(ci.low, Estimate::MoreThan(_)) => {
                // Too few answers for the band to reach one half: no interval.
                format!("{} (n = {})", m.display(), self.n)
            }
            (m, Some(ci)) => format!("{} (95% {})", m.display(), ci.display()),
            (m, None) => format!("{} (n < 5)", m.display()),
        }
    }
}

/// The share of probes answered within some hours, `1 − S(t)` off the
/// Kaplan–Meier curve ([`km::share_within`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Within {
    /// The age, in hours.
    pub hours: i64,
    /// The estimated share answered within it; `None` when `n` is zero.
    pub share: Option<f64>,
    /// Only a lower bound: no probe was watched that long while some were
    /// still waiting.
    pub at_least: bool,
    /// Observations (answered and censored) on the curve.
    pub n: usize,
}

impl Within {
    /// `47%`, `≥ 50%`, or `–`.
    pub fn share_text(&self) -> String {
        match self.share {
            None => "–".into(),
            Some(s) if self.at_least => format!("≥ {}", scorecard::percent(s)),
            Some(s) => scorecard::percent(s),
        }
    }

    /// [`Within::share_text`] with its n: `47% (n = 5)`, or `– (n = 0)`.
    pub fn display(&self) -> String {
        match self.share {
            None => scorecard::NONE.into(),
            Some(_) => format!("{} (n = {})", self.share_text(), self.n),
        }
    }
}

/// SLA compliance of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    /// The target, when every probe of the group has the same one.
    pub target_secs: Option<u64>,
    /// Probes with a target of differing values.
    pub mixed_targets: bool,
    /// Answered within the target.
    pub met: usize,
    /// Answered late, or unanswered past the target.
    pub breached: usize,
    /// Still inside the target, unanswered: not decided yet.
    pub open: usize,
    /// `met / (met + breached)` in percent.
    pub compliance_pct: Option<f64>,
}

impl Sla {
    /// `80% (4/5)`, or `-` when nothing was decided or no target exists.
    pub fn display(&self) -> String {
        match self.compliance_pct {
            Some(p) => format!("{p:.0}% ({}/{})", self.met, self.met + self.breached),
            None if self.open > 0 => format!("open ({})", self.open),
            None => "-".into(),
        }
    }
}

/// Everything computed for one group of probes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Probes that reached, or may have reached, the vendor.
    pub filed: usize,
    /// A human reply within `answer-within`.
    pub answered: usize,
    /// Filed, still waiting, inside `answer-within`.
    pub pending: usize,
    /// No human reply within `answer-within` (censored).
    pub unanswered: usize,
    /// Bounced: never reached the vendor.
    pub undeliverable: usize,
    /// We cannot know whether the vendor got it.
    pub uncertain: usize,
    /// Our fault: we failed to send. Never the vendor's.
    pub not_filed: usize,
    /// Not sent on purpose (caps, missed while down). Never the vendor's.
    pub skipped: usize,
    /// Probes that got an automatic acknowledgement.
    pub acknowledged: usize,
    /// Median time to acknowledgement, over the acknowledged probes.
    pub ack_median: Estimate,
    /// Time to first human reply, calendar time.
    pub calendar: Latency,
    /// Time to first human reply, business time (vendor's opening hours);
    /// `None` when the vendor's calendar is unknown (gone from the config).
    pub business: Option<Latency>,
    /// Share answered within 1 h, 4 h, 24 h (calendar time, Kaplan–Meier).
    pub within: Vec<Within>,
    /// SLA compliance.
    pub sla: Sla,
    /// Probes whose reading rests on a classification marked `unsure`:
    /// the figures stand, but a person should look (`probe review`).
    pub unsure: usize,
}

/// One group inside a vendor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The value of each grouping dimension, e.g. `window = off-hours`.
    pub key: BTreeMap<Dim, String>,
    /// The group's figures.
    pub figures: Figures,
}

impl Group {
    /// `off-hours / email` for tables.
    pub fn label(&self) -> String {
        if self.key.is_empty() {
            "all".into()
        } else {
            self.key.values().cloned().collect::<Vec<_>>().join(" / ")
        }
    }
}

/// The change from the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// Calendar median now minus before, when both are exact.
    pub median_secs: Option<i64>,
    /// SLA compliance now minus before, in percentage points.
    pub sla_points: Option<f64>,
    /// Probes filed before.
    pub filed_before: usize,
}

impl Change {
    /// `+12m 0s`, `-5m 0s`, `±0`, or `n/a`.
    pub fn median_display(&self) -> String {
        match self.median_secs {
            None => "n/a".into(),
            Some(0) => "±0".into(),
            Some(s) if s > 0 => format!(
                "+{}",
                crate::duration::human(jiff::SignedDuration::from_secs(s))
            ),
            Some(s) => format!(
                "-{}",
                crate::duration::human(jiff::SignedDuration::from_secs(-s))
            ),
        }
    }
}

/// One vendor's part of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorReport {
    /// The vendor's name.
    pub vendor: String,
    /// All its probes in the period.
    pub overall: Figures,
    /// Calendar median of probes filed inside business hours.
    pub median_business_hours: Estimate,
    /// Calendar median of probes filed outside (off-hours, weekend, holiday).
    pub median_outside_hours: Estimate,
    /// The scorecard; its figures sit directly under the vendor in JSON
    /// (`reply`, `ack_only`, `quality`, `resolution`, ...).
    #[serde(flatten)]
    pub scorecard: Scorecard,
    /// The groups, in key order.
    pub groups: Vec<Group>,
    /// Against the previous period, when one was asked for.
    pub change: Option<Change>,
}

impl VendorReport {
    /// The report of a vendor with no probe in it: zero counts and the
    /// estimates of no observation, computed as for any other vendor.
    pub fn of_nothing(vendor: &str) -> VendorReport {
        let scorecard = Scorecard::of(&[]);
        VendorReport {
            vendor: vendor.to_string(),
            overall: figures(&[]),
            median_business_hours: scorecard.first_reply_business_hours.median,
            median_outside_hours: scorecard.first_reply_outside_hours.median,
            scorecard,
            groups: Vec::new(),
            change: None,
        }
    }
}

/// A probe listed by name in a report (unanswered, undeliverable, not filed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeLine {
    /// The probe id.
    pub id: String,
    /// The vendor.
    pub vendor: String,
    /// The `[[probe]]` name.
    pub probe: String,
    /// Its state.
    pub state: ProbeState,
    /// When it was filed, or due for those never filed.
    pub at: Timestamp,
    /// The window it was filed in.
    pub window: Option<Window>,
    /// The subject of the last message that came back (vendor-supplied text).
    pub last_reply_subject: Option<String>,
    /// Why it is in this state, in words.
    pub reason: Option<String>,
    /// Its reading rests on a classification marked `unsure`.
    pub unsure: bool,
}

impl ProbeLine {
    fn of(p: &ReadingRow) -> ProbeLine {
        ProbeLine {
            id: p.id.to_string(),
            vendor: p.vendor.to_string(),
            probe: p.probe.to_string(),
            state: p.state,
            at: p.anchor(),
            window: p.window,
            last_reply_subject: p.last_reply_subject.clone(),
            reason: p.state_reason.clone(),
            unsure: p.unsure,
        }
    }
}

/// Our side: what went wrong on our end, never counted against a vendor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OurSide {
    /// Probes we failed to send.
    pub not_filed: Vec<ProbeLine>,
    /// Probes not sent on purpose (caps, missed fires).
    pub skipped: usize,
    /// Probes whose filing outcome is unknown.
    pub uncertain: Vec<ProbeLine>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The period, or `None` for everything.
    pub period: Option<Period>,
    /// The period compared with.
    pub previous: Option<Period>,
    /// The instant the evidence was read at.
    pub generated_at: Timestamp,
    /// Grouping inside each vendor.
    pub by: Vec<Dim>,
    /// Per vendor, in name order.
    pub vendors: Vec<VendorReport>,
    /// Unanswered probes (censored at their deadline).
    pub unanswered: Vec<ProbeLine>,
    /// Probes that bounced.
    pub undeliverable: Vec<ProbeLine>,
    /// Our own failures, apart from the vendors' figures.
    pub our_side: OurSide,
}

/// One probe with what it contributes, computed once per report.
struct Item<'a> {
    p: &'a ReadingRow,
    /// Calendar time to first human reply, or censored.
    obs: Option<Observation>,
    /// The same in business time (only computed when `obs` is).
    biz: Option<Observation>,
    sla: SlaOutcome,
    /// Time from filing to resolution, or censored where the probe's
    /// replies were last read (only computed when `obs` is).
    resolution: Option<Observation>,
}

impl<'a> Item<'a> {
    fn of(p: &'a ReadingRow, config: Option<&Config>, opts: &Options) -> Item<'a> {
        let obs = opts.own.row_observation(p, opts.now);
        Item {
            p,
            obs,
            biz: obs.and_then(|o| business_of(&p.vendor, p.filed_at, o, config)),
            sla: sla_of(p.sla_target_secs, obs),
            resolution: obs.and_then(|_| resolution_of(p, opts)),
        }
    }
}

/// A row's time to resolution: an event when resolved, else censored at
/// the instant its replies were last read completely.
fn resolution_of(p: &ReadingRow, opts: &Options) -> Option<Observation> {
    let filed = p.filed_at?;
    if let Some(secs) = p.time_to_resolution_secs {
        return Some(Observation::answer(secs.max(0)));
    }
    let read = opts.own.row_read_until(p, opts.now)?;
    (read >= filed).then(|| Observation::censored(read.duration_since(filed).as_secs()))
}

fn in_period(p: &ReadingRow, period: Option<&Period>) -> bool {
    p.state != ProbeState::Planned && period.is_none_or(|per| per.contains(p.anchor()))
}

/// Builds a report from every probe record; `config` supplies calendars
/// (business time) and persona regions.
pub fn build(probes: &[ProbeRecord], config: Option<&Config>, opts: &Options) -> Report {
    let rows: Vec<ReadingRow> = probes.iter().map(ReadingRow::of).collect();
    build_rows(&rows, config, opts)
}

/// Builds a report from reading rows. Rows outside the period (and the
/// previous one) are ignored, so passing more than needed is harmless.
pub fn build_rows(rows: &[ReadingRow], config: Option<&Config>, opts: &Options) -> Report {
    let wanted = |p: &&ReadingRow| opts.vendor.as_deref().is_none_or(|v| &*p.vendor == v);
    let selected: Vec<Item> = rows
        .iter()
        .filter(wanted)
        .filter(|p| in_period(p, opts.period.as_ref()))
        .map(|p| Item::of(p, config, opts))
        .collect();
    let before: Vec<Item> = match &opts.previous {
        Some(prev) => rows
            .iter()
            .filter(wanted)
            .filter(|p| in_period(p, Some(prev)))
            .map(|p| Item::of(p, config, opts))
            .collect(),
        None => Vec::new(),
    };
    let mut by_vendor: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for i in &selected {
        by_vendor.entry(&*i.p.vendor).or_default().push(i);
    }
    let vendors = by_vendor
        .into_iter()
        .map(|(vendor, ps)| {
            let overall = figures(&ps);
            let mut groups: BTreeMap<BTreeMap<Dim, String>, Vec<&Item>> = BTreeMap::new();
            for i in &ps {
                groups
                    .entry(key(i.p, &opts.by, config))
                    .or_default()
                    .push(i);
            }
            let scorecard = Scorecard::of(&ps);
            let change = opts.previous.as_ref().map(|_| {
                let old: Vec<&Item> = before.iter().filter(|i| &*i.p.vendor == vendor).collect();
                let was = figures(&old);
                Change {
                    median_secs: match (
                        overall.calendar.median.exact_secs(),
                        was.calendar.median.exact_secs(),
                    ) {
                        (Some(a), Some(b)) => Some(a - b),
                        _ => None,
                    },
                    sla_points: match (overall.sla.compliance_pct, was.sla.compliance_pct) {
                        (Some(a), Some(b)) => Some(a - b),
                        _ => None,
                    },
                    filed_before: was.filed,
                }
            });
            VendorReport {
                vendor: vendor.to_string(),
                median_business_hours: scorecard.first_reply_business_hours.median,
                median_outside_hours: scorecard.first_reply_outside_hours.median,
                scorecard,
                overall,
                groups: groups
                    .into_iter()
                    .map(|(key, ps)| Group {
                        key,
                        figures: figures(&ps),
                    })
                    .collect(),
                change,
            }
        })
        .collect();
    let list = |state: ProbeState| -> Vec<ProbeLine> {
        let mut v: Vec<ProbeLine> = selected
            .iter()
            .filter(|i| i.p.state == state)
            .map(|i| ProbeLine::of(i.p))
            .collect();
        v.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        v
    };
    Report {
        period: opts.period.clone(),
        previous: opts.previous.clone(),
        generated_at: opts.now,
        by: opts.by.clone(),
        vendors,
        unanswered: list(ProbeState::Unanswered),
        undeliverable: list(ProbeState::Undeliverable),
        our_side: OurSide {
            not_filed: list(ProbeState::NotFiled),
            skipped: selected
                .iter()
                .filter(|i| i.p.state == ProbeState::Skipped)
                .count(),
            uncertain: list(ProbeState::Uncertain),
        },
    }
}

fn key(p: &ReadingRow, by: &[Dim], config: Option<&Config>) -> BTreeMap<Dim, String> {
    by.iter()
        .map(|d| {
            let v = match d {
                Dim::Window => p.window.map_or("not filed", Window::as_str).to_string(),
                Dim::Channel => p.channel.to_string(),
                Dim::Persona => p.persona.to_string(),
                Dim::Region => region(&p.persona, config),
            };
            (*d, v)
        })
        .collect()
}

fn region(persona: &str, config: Option<&Config>) -> String {
    config
        .and_then(|c| c.persona(persona))
        .and_then(|per| per.region.clone())
        .unwrap_or_else(|| "-".to_string())
}

/// How a probe stands against its SLA target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlaOutcome {
    /// Answered within the target.
    Met,
    /// Answered late, or unanswered past the target.
    Breached,
    /// Unanswered, still inside the target.
    Open,
    /// No target, or the probe never reached the vendor.
    NotApplicable,
}

impl SlaOutcome {
    /// The name used in CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaOutcome::Met => "met",
            SlaOutcome::Breached => "breached",
            SlaOutcome::Open => "open",
            SlaOutcome::NotApplicable => "",
        }
    }
}

/// The SLA outcome of one probe at `now`.
pub fn sla_outcome(p: &ProbeRecord, now: Timestamp, own: &OwnSide) -> SlaOutcome {
    sla_of(p.sla_target_secs, own.observation(p, now))
}

fn sla_of(target: Option<u64>, obs: Option<Observation>) -> SlaOutcome {
    let (Some(target), Some(obs)) = (target, obs) else {
        return SlaOutcome::NotApplicable;
    };
    let target = i64::try_from(target).unwrap_or(i64::MAX);
    if obs.answered && obs.secs <= target {
        SlaOutcome::Met
    } else if obs.secs > target {
        SlaOutcome::Breached
    } else {
        SlaOutcome::Open
    }
}

/// Business time to first human reply (or to censoring) of one probe, in
/// the vendor's calendar.
pub fn business_observation(
    p: &ProbeRecord,
    config: Option<&Config>,
    now: Timestamp,
    own: &OwnSide,
) -> Option<Observation> {
    let obs = own.observation(p, now)?;
    business_of(&p.vendor, p.filed_at, obs, config)
}

fn business_of(
    vendor: &str,
    filed_at: Option<Timestamp>,
    obs: Observation,
    config: Option<&Config>,
) -> Option<Observation> {
    let vendor = config?.vendor(vendor)?;
    let filed = filed_at?;
    let end = filed
        .checked_add(jiff::SignedDuration::from_secs(obs.secs))
        .ok()?;
    let secs = vendor.calendar.business_time_between(filed, end).as_secs();
    Some(Observation {
        secs,
        answered: obs.answered,
    })
}

fn figures(ps: &[&Item]) -> Figures {
    let count = |s: ProbeState| ps.iter().filter(|i| i.p.state == s).count();
    let obs: Vec<Observation> = ps.iter().filter_map(|i| i.obs).collect();
    let business: Option<Vec<Observation>> = ps
        .iter()
        .filter(|i| i.obs.is_some())
        .map(|i| i.biz)
        .collect();
    let acks: Vec<Observation> = ps
        .iter()
        .filter_map(|i| i.p.time_to_first_ack())
        .map(|d| Observation::answer(d.as_secs().max(0)))
        .collect();
    let n_of = |o: SlaOutcome| ps.iter().filter(|i| i.sla == o).count();
    let (met, breached) = (n_of(SlaOutcome::Met), n_of(SlaOutcome::Breached));
    let mut targets: Vec<u64> = ps
        .iter()
        .filter(|i| i.obs.is_some())
        .filter_map(|i| i.p.sla_target_secs)
        .collect();
    targets.sort_unstable();
    targets.dedup();
    Figures {
        filed: ps
            .iter()
            .filter(|i| i.p.state.may_have_reached_vendor())
            .count(),
        answered: count(ProbeState::Answered),
        pending: count(ProbeState::Filed),
        unanswered: count(ProbeState::Unanswered),
        undeliverable: count(ProbeState::Undeliverable),
        uncertain: count(ProbeState::Uncertain) + count(ProbeState::Filing),
        not_filed: count(ProbeState::NotFiled),
        skipped: count(ProbeState::Skipped),
        acknowledged: acks.len(),
        ack_median: km::median(&acks),
        calendar: Latency::of(&obs),
        business: business.map(|b| Latency::of(&b)),
        within: WITHIN_HOURS
            .iter()
            .map(|&h| {
                let share = km::share_within(&obs, h * 3600);
                Within {
                    hours: h,
                    share: share.map(|(s, _)| s),
                    at_least: share.is_some_and(|(_, b)| b),
                    n: obs.len(),
                }
            })
            .collect(),
        sla: Sla {
            target_secs: (targets.len() == 1).then(|| targets[0]),
            mixed_targets: targets.len() > 1,
            met,
            breached,
            open: n_of(SlaOutcome::Open),
            compliance_pct: (met + breached > 0)
                .then(|| 100.0 * met as f64 / (met + breached) as f64),
        },
        unsure: ps.iter().filter(|i| i.p.unsure).count(),
    }
}

#[cfg(test)]
mod tests;
