//! The mystery shopper's scorecard: per vendor, the figures published
//! studies of vendor support report, each next to the number of probes it
//! is taken over (`n`), and "–" where that number is zero.
//!
//! Every figure is computed here from the vendor's [`ReadingRow`]s (the
//! per-probe facts come from `ProbeRecord::conversation` via
//! `ReadingRow::of`), and [`Scorecard::lines`] words them once for the
//! table, the digest's text and its HTML. The rules:
//!
//! - **reply rate**: closed probes (answered or unanswered: the answer
//!   window is over) with a human reply at any time, also after the window;
//!   **ack-only**: closed probes that got an acknowledgement and no human
//!   reply at all. Pending probes are not counted until decided.
//! - **first human reply in / out of business hours**: Kaplan–Meier median
//!   and p90 (calendar time) over answered *and* censored probes, split by
//!   the window the probe was filed in.
//! - **answered within 1 h / 4 h / 24 h**: `1 − S(t)` off the same curve
//!   over all windows ([`km::share_within`](super::km::share_within)), in
//!   the report's `within`.
//! - **mean and median among answered**: over answered probes only — the
//!   figure published studies give; it leaves the unanswered out and so
//!   flatters a vendor, which is why the Kaplan–Meier figures come first.
//! - **first-reply traits** (language match, personal, templated,
//!   specific, asks back) and **answered on first reply**: the share of
//!   probes whose first human reply has the trait, over the probes where it
//!   was judged.
//! - **rounds to resolution**: median human replies up to the resolution,
//!   over resolved probes; **time to resolution**: Kaplan–Meier median from
//!   filing, unresolved probes censored where their replies were last read.
//! - **vendor follow-ups**: human messages after our last message was
//!   answered and before we wrote again; the count, and the share of
//!   probes with a human reply that got one.
//!
//! Medians of plain numbers are the lower median (the middle value, or the
//! lower of the two middle ones), as [`km::median`] gives for uncensored
//! data.

use serde::Serialize;

use super::km::{self, Estimate, Observation};
use super::{Item, Latency, Within};
use crate::model::{ProbeState, ReadingRow, Window};

/// A share with the number of probes it is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// `count / n`; `None` when `n` is zero.
    pub rate: Option<f64>,
    /// Probes with the trait or event.
    pub count: usize,
    /// Probes it is taken over.
    pub n: usize,
}

impl Rate {
    /// Of the probes where `of` is known (`Some`), those where it is true.
    pub fn of(values: impl Iterator<Item = Option<bool>>) -> Rate {
        let (mut count, mut n) = (0, 0);
        for v in values.flatten() {
            n += 1;
            count += usize::from(v);
        }
        Rate {
            rate: (n > 0).then(|| count as f64 / n as f64),
            count,
            n,
        }
    }

    /// `50% (n = 4)`, or `– (n = 0)`.
    pub fn display(&self) -> String {
        match self.rate {
            Some(r) => format!("{} (n = {})", percent(r), self.n),
            None => NONE.to_string(),
        }
    }
}

/// A figure in seconds or rounds with the number of probes behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    /// The value; `None` when `n` is zero.
    pub value: Option<i64>,
    /// The value is a lower bound: the Kaplan–Meier curve did not reach
    /// the quantile within the longest time watched.
    pub more_than: bool,
    /// Probes it is taken over.
    pub n: usize,
}

impl Figure {
    fn of(e: Estimate, n: usize) -> Figure {
        match e {
            Estimate::None => Figure {
                value: None,
                more_than: false,
                n,
            },
            Estimate::Exactly(s) => Figure {
                value: Some(s),
                more_than: false,
                n,
            },
            Estimate::MoreThan(s) => Figure {
                value: Some(s),
                more_than: true,
                n,
            },
        }
    }

    fn estimate(&self) -> Estimate {
        match (self.value, self.more_than) {
            (None, _) => Estimate::None,
            (Some(s), false) => Estimate::Exactly(s),
            (Some(s), true) => Estimate::MoreThan(s),
        }
    }

    /// `2h 0m (n = 5)`, `> 3d 0h (n = 2)`, or `– (n = 0)`.
    pub fn display_duration(&self) -> String {
        match self.value {
            None => NONE.to_string(),
            Some(_) => format!("{} (n = {})", self.estimate().display(), self.n),
        }
    }

    /// `2 (n = 3)` or `– (n = 0)`.
    pub fn display_count(&self) -> String {
        match self.value {
            None => NONE.to_string(),
            Some(v) => format!("{v} (n = {})", self.n),
        }
    }
}

/// First reply time among the answered only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AmongAnswered {
    /// Answered probes.
    pub n: usize,
    /// The mean, rounded to the second.
    pub mean_secs: Option<i64>,
    /// The (lower) median.
    pub median_secs: Option<i64>,
}

/// The first reply's traits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityRates {
    /// In the probe's language (probes with a `language` whose first
    /// reply's language was detected).
    pub language_match: Rate,
    /// Addresses the persona by name, signed by a person.
    pub personal: Rate,
    /// Near-identical to the vendor's replies to other probes.
    pub templated: Rate,
    /// Mentions the probe's `{detail}` (probes with one).
    pub specific: Rate,
    /// Asks us questions instead of answering.
    pub asks_back: Rate,
    /// Contains what the probe's `expect` says a right answer contains
    /// (probes with `expect`).
    pub answered_on_first_reply: Rate,
}

/// Resolution figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResolutionFigures {
    /// Probes whose ticket was resolved.
    pub resolved: usize,
    /// Median human replies up to the resolution, over resolved probes.
    pub rounds_median: Figure,
    /// Kaplan–Meier median from filing to resolution, over answered,
    /// unanswered and pending probes (unresolved ones censored).
    pub time_to_resolution_median_secs: Figure,
}

/// Proactive follow-ups by the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FollowUps {
    /// Follow-up messages in all.
    pub count: u64,
    /// Probes with a human reply that got at least one.
    pub probes: Rate,
}

/// One vendor's scorecard (flattened into its part of the JSON report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// A human reply at any time, over closed probes.
    pub reply: Rate,
    /// An acknowledgement and no human reply, over closed probes.
    pub ack_only: Rate,
    /// Time to first human reply of probes filed in business hours.
    pub first_reply_business_hours: Latency,
    /// The same, filed outside (off-hours, weekend, holiday).
    pub first_reply_outside_hours: Latency,
    /// Mean and median among answered probes only.
    pub among_answered: AmongAnswered,
    /// The first reply's traits.
    pub quality: QualityRates,
    /// Rounds and time to resolution.
    pub resolution: ResolutionFigures,
    /// Follow-ups the vendor sent unasked.
    pub vendor_follow_ups: FollowUps,
}

/// Shown where a figure is taken over no probe.
pub const NONE: &str = "– (n = 0)";

/// `47%`.
pub fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

impl Scorecard {
    /// The scorecard of one vendor's probes in a period.
    pub(super) fn of(items: &[&Item]) -> Scorecard {
        let rows = || items.iter().map(|i| i.p);
        let closed =
            || rows().filter(|p| matches!(p.state, ProbeState::Answered | ProbeState::Unanswered));
        let by_window = |inside: bool| {
            let obs: Vec<Observation> = items
                .iter()
                .filter(|i| i.p.window.is_some())
                .filter(|i| (i.p.window == Some(Window::BusinessHours)) == inside)
                .filter_map(|i| i.obs)
                .collect();
            Latency::of(&obs)
        };
        let answered: Vec<Observation> = items
            .iter()
            .filter_map(|i| i.obs)
            .filter(|o| o.answered)
            .collect();
        let mean_secs = (!answered.is_empty()).then(|| {
            let sum: f64 = answered.iter().map(|o| o.secs as f64).sum();
            (sum / answered.len() as f64).round() as i64
        });
        let trait_rate = |f: fn(&ReadingRow) -> Option<bool>| Rate::of(rows().map(f));
        // Resolution figures are over the probes on the first-reply curve
        // (answered, unanswered, pending), like that curve.
        let rounds: Vec<Observation> = items
            .iter()
            .filter(|i| i.obs.is_some())
            .filter_map(|i| i.p.rounds_to_resolution)
            .map(|n| Observation::answer(i64::from(n)))
            .collect();
        let to_resolution: Vec<Observation> = items.iter().filter_map(|i| i.resolution).collect();
        let replied = || rows().filter(|p| p.replied);
        Scorecard {
            reply: Rate::of(closed().map(|p| Some(p.replied))),
            ack_only: Rate::of(closed().map(|p| Some(p.ack_only()))),
            first_reply_business_hours: by_window(true),
            first_reply_outside_hours: by_window(false),
            among_answered: AmongAnswered {
                n: answered.len(),
                mean_secs,
                median_secs: km::median(&answered).exact_secs(),
            },
            quality: QualityRates {
                language_match: trait_rate(|p| p.language_match),
                personal: trait_rate(|p| p.personal),
                templated: trait_rate(|p| p.templated),
                specific: trait_rate(|p| p.specific),
                asks_back: trait_rate(|p| p.asks_back),
                answered_on_first_reply: trait_rate(|p| p.answered_on_first_reply),
            },
            resolution: ResolutionFigures {
                resolved: rounds.len(),
                rounds_median: Figure::of(km::median(&rounds), rounds.len()),
                time_to_resolution_median_secs: Figure::of(
                    km::median(&to_resolution),
                    to_resolution.len(),
                ),
            },
            vendor_follow_ups: FollowUps {
                count: replied().map(|p| u64::from(p.vendor_follow_ups)).sum(),
                probes: Rate::of(replied().map(|p| Some(p.vendor_follow_ups > 0))),
            },
        }
    }

    /// The scorecard in words, one `(figure, value)` per line, for the
    /// table and both parts of the digest; `filed` and `within` are the
    /// vendor's overall figures.
    pub fn lines(&self, filed: usize, within: &[Within]) -> Vec<(&'static str, String)> {
        let latency = |l: &Latency| {
            if l.n == 0 {
                NONE.to_string()
            } else {
                format!(
                    "median {}, p90 {} (n = {})",
                    l.median.display(),
                    l.p90.display(),
                    l.n
                )
            }
        };
        let within_text = match within.first().map(|w| w.n) {
            None | Some(0) => NONE.to_string(),
            Some(n) => format!(
                "{} (n = {n})",
                within
                    .iter()
                    .map(|w| format!("{}h {}", w.hours, w.share_text()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let secs = |s: Option<i64>, n: usize| Figure {
            value: s,
            more_than: false,
            n,
        };
        let a = &self.among_answered;
        let q = &self.quality;
        let r = &self.resolution;
        let f = &self.vendor_follow_ups;
        vec![
            ("filed", filed.to_string()),
            (
                "reply rate (any human reply; closed probes)",
                self.reply.display(),
            ),
            (
                "ack-only rate (acknowledged, never answered)",
                self.ack_only.display(),
            ),
            (
                "first human reply, filed in business hours (Kaplan-Meier)",
                latency(&self.first_reply_business_hours),
            ),
            (
                "first human reply, filed outside business hours (Kaplan-Meier)",
                latency(&self.first_reply_outside_hours),
            ),
            ("answered within (Kaplan-Meier, 1 - S(t))", within_text),
            (
                "mean among answered (as in published studies)",
                secs(a.mean_secs, a.n).display_duration(),
            ),
            (
                "median among answered (as in published studies)",
                secs(a.median_secs, a.n).display_duration(),
            ),
            (
                "answered on first reply",
                q.answered_on_first_reply.display(),
            ),
            (
                "rounds to resolution (median, resolved probes)",
                r.rounds_median.display_count(),
            ),
            (
                "time to resolution (Kaplan-Meier median)",
                match r.time_to_resolution_median_secs.value {
                    None => NONE.to_string(),
                    Some(_) => format!(
                        "{}, {} resolved",
                        r.time_to_resolution_median_secs.display_duration(),
                        r.resolved
                    ),
                },
            ),
            (
                "answered in the probe's language",
                q.language_match.display(),
            ),
            ("personal", q.personal.display()),
            ("templated", q.templated.display()),
            ("specific", q.specific.display()),
            ("asks back", q.asks_back.display()),
            (
                "vendor follow-ups (probes with one, of those with a reply)",
                match f.probes.rate {
                    None => NONE.to_string(),
                    Some(_) => format!("{} in all; {}", f.count, f.probes.display()),
                },
            ),
        ]
    }
}
