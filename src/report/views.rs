//! The figures behind the digest's and the status page's pictures, as
//! plain data: the [`ranking`] of vendors, each vendor's [`coverage`]
//! (median first human reply by day of week × hour of filing) and its
//! [`trend`] (the median per ISO week).
//!
//! Every median here is the Kaplan–Meier one of [`super::km`], over
//! answered *and* censored probes, from the same per-probe observation the
//! report uses (`OwnSide::row_observation`): a picture never says a
//! vendor is faster than the tables do.
//!
//! Ranking rule: vendors with a median (the curve reached one half) come
//! first, fastest median first; then those whose median lies beyond the
//! longest time watched, highest reply rate first; ties by name.

use std::cmp::Ordering;

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::Report;
use super::km::MIN_SAMPLE_FOR_INTERVAL as MIN_SAMPLE;
use super::km::{self, Estimate, Observation};
use super::own::OwnSide;
use super::period::{IsoWeek, PeriodError};
use crate::model::{ProbeState, ReadingRow};

/// How the ranking orders vendors, in words (the module note's rule).
pub const RANKING_RULE: &str = "The ranking orders vendors by the Kaplan-Meier median of first human reply (calendar time, unanswered probes included as censored), fastest first; vendors whose median lies beyond the longest time watched come after those with a median, by reply rate.";

/// One vendor's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rank {
    /// 1 for the fastest.
    pub place: usize,
    /// The vendor.
    pub vendor: String,
    /// Kaplan–Meier median of first human reply, calendar time.
    pub median: Estimate,
    /// Observations the median rests on (answered and censored).
    pub n: usize,
    /// Probes that reached (or may have reached) the vendor.
    pub filed: usize,
    /// Of those, answered by a human.
    pub answered: usize,
    /// `answered / filed`, when anything was filed.
    pub reply_rate: Option<f64>,
}

/// The vendors of `report`, fastest first (see the module note for the rule).
pub fn ranking(report: &Report) -> Vec<Rank> {
    let mut ranks: Vec<Rank> = report
        .vendors
        .iter()
        .map(|v| Rank {
            place: 0,
            vendor: v.vendor.clone(),
            median: v.overall.calendar.median,
            n: v.overall.calendar.n,
            filed: v.overall.filed,
            answered: v.overall.answered,
            reply_rate: (v.overall.filed > 0)
                .then(|| v.overall.answered as f64 / v.overall.filed as f64),
        })
        .collect();
    ranks.sort_by(order);
    for (i, r) in ranks.iter_mut().enumerate() {
        r.place = i + 1;
    }
    ranks
}

/// The vendors of `report` in the order of `ranks` (those not ranked last,
/// by name): the bars follow the ranking.
pub fn in_rank_order<'a>(report: &'a Report, ranks: &[Rank]) -> Vec<&'a super::VendorReport> {
    let place = |name: &str| {
        ranks
            .iter()
            .find(|r| r.vendor == name)
            .map_or(usize::MAX, |r| r.place)
    };
    let mut v: Vec<&super::VendorReport> = report.vendors.iter().collect();
    v.sort_by_key(|x| (place(&x.vendor), x.vendor.clone()));
    v
}

fn order(a: &Rank, b: &Rank) -> Ordering {
    // 0: a median; 1: beyond the longest time watched; 2: no observation.
    let class = |e: &Estimate| match e {
        Estimate::Exactly(_) => 0,
        Estimate::MoreThan(_) => 1,
        Estimate::None => 2,
    };
    let rate = |r: &Rank| r.reply_rate.unwrap_or(-1.0);
    class(&a.median)
        .cmp(&class(&b.median))
        .then_with(|| match (a.median, b.median) {
            (Estimate::Exactly(x), Estimate::Exactly(y)) => x.cmp(&y),
            _ => rate(b).total_cmp(&rate(a)),
        })
        .then_with(|| a.vendor.cmp(&b.vendor))
}

/// One cell of a coverage grid: the probes filed in one hour of one day
/// of the week.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cell {
    /// Probes that entered latency figures (answered or censored).
    pub filed: usize,
    /// Of those, answered by a human.
    pub answered: usize,
    /// Kaplan–Meier median; [`Estimate::None`] for an empty cell.
    pub median: Estimate,
}

impl Cell {
    /// Fewer probes than a median deserves trust for.
    pub fn small(&self) -> bool {
        self.filed < MIN_SAMPLE
    }
}

/// One vendor's coverage: `cells[day][hour]`, day 0 = Monday, hour of
/// filing on the wall clock of the report zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The vendor.
    pub vendor: String,
    /// Seven rows (Monday first) of 24 cells.
    pub cells: Vec<Vec<Cell>>,
}

impl Coverage {
    /// The cell of `day` (0 = Monday) and `hour`, if in range.
    pub fn cell(&self, day: usize, hour: usize) -> Option<&Cell> {
        self.cells.get(day).and_then(|r| r.get(hour))
    }
}

/// Short English day names, Monday first.
pub const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn day_index(w: Weekday) -> usize {
    usize::from(w.to_monday_zero_offset().unsigned_abs())
}

/// The observations of `vendor`'s probes filed in `[from, until)`, with
/// their filing instant.
fn observations<'a>(
    rows: &'a [ReadingRow],
    vendor: &'a str,
    now: Timestamp,
    own: &'a OwnSide,
    (from, until): (Timestamp, Timestamp),
) -> impl Iterator<Item = (Timestamp, Observation)> + 'a {
    rows.iter()
        .filter(move |p| &*p.vendor == vendor && p.state != ProbeState::Planned)
        .filter_map(move |p| {
            let at = p.filed_at?;
            if at < from || at >= until {
                return None;
            }
            Some((at, own.row_observation(p, now)?))
        })
}

/// `vendor`'s coverage grid over probes filed in `span` (`[from, until)`),
/// read at `now`, hours and days in `tz`.
pub fn coverage(
    rows: &[ReadingRow],
    vendor: &str,
    tz: &TimeZone,
    now: Timestamp,
    span: (Timestamp, Timestamp),
    own: &OwnSide,
) -> Coverage {
    let mut obs: Vec<Vec<Vec<Observation>>> = vec![vec![Vec::new(); 24]; 7];
    for (at, o) in observations(rows, vendor, now, own, span) {
        let local = tz.to_datetime(at);
        let hour = usize::from(local.hour().unsigned_abs());
        if let Some(slot) = obs
            .get_mut(day_index(local.weekday()))
            .and_then(|d| d.get_mut(hour))
        {
            slot.push(o);
        }
    }
    Coverage {
        vendor: vendor.to_string(),
        cells: obs
            .iter()
            .map(|day| {
                day.iter()
                    .map(|o| Cell {
                        filed: o.len(),
                        answered: o.iter().filter(|x| x.answered).count(),
                        median: km::median(o),
                    })
                    .collect()
            })
            .collect(),
    }
}

/// One ISO week of a vendor's trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The week.
    pub week: IsoWeek,
    /// Kaplan–Meier median of the probes filed that week.
    pub median: Estimate,
    /// Observations (answered and censored).
    pub n: usize,
    /// `n < 5`: shown, but marked.
    pub small: bool,
}

/// The `weeks` ISO weeks ending with `last`, oldest first.
pub fn weeks_ending(last: IsoWeek, weeks: usize) -> Result<Vec<IsoWeek>, PeriodError> {
    if weeks == 0 {
        return Ok(Vec::new());
    }
    let mut out = vec![last];
    for _ in 1..weeks {
        let before = out.last().copied().unwrap_or(last).previous()?;
        out.push(before);
    }
    out.reverse();
    Ok(out)
}

/// `vendor`'s median per ISO week for the `weeks` weeks ending with
/// `last`, weeks read in `tz`, oldest first.
pub fn trend(
    rows: &[ReadingRow],
    vendor: &str,
    tz: &TimeZone,
    now: Timestamp,
    last: IsoWeek,
    weeks: usize,
    own: &OwnSide,
) -> Result<Vec<TrendPoint>, PeriodError> {
    weeks_ending(last, weeks)?
        .into_iter()
        .map(|week| {
            let obs: Vec<Observation> = observations(rows, vendor, now, own, week.bounds(tz)?)
                .map(|(_, o)| o)
                .collect();
            Ok(TrendPoint {
                week,
                median: km::median(&obs),
                n: obs.len(),
                small: obs.len() < MIN_SAMPLE,
            })
        })
        .collect()
}

/// The `[from, until)` of the `weeks` ISO weeks ending with `last` in `tz`.
pub fn weeks_span(
    last: IsoWeek,
    weeks: usize,
    tz: &TimeZone,
) -> Result<(Timestamp, Timestamp), PeriodError> {
    let all = weeks_ending(last, weeks)?;
    let first = all.first().copied().unwrap_or(last);
    Ok((first.bounds(tz)?.0, last.bounds(tz)?.1))
}

/// A part of the week, for saying the coverage in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Band {
    /// Monday to Friday, 06:00–18:00.
    WeekdayDaytime,
    /// Monday to Friday, 18:00–24:00.
    WeekdayEvening,
    /// Monday to Friday, 00:00–06:00.
    WeekdayNight,
    /// Saturday and Sunday, all day.
    Weekend,
}

impl Band {
    /// Every band, in the order they are told.
    pub const ALL: [Band; 4] = [
        Band::WeekdayDaytime,
        Band::WeekdayEvening,
        Band::WeekdayNight,
        Band::Weekend,
    ];

    /// The band of a filing on `day` (0 = Monday) at `hour`.
    pub fn of(day: usize, hour: usize) -> Band {
        match (day, hour) {
            (5.., _) => Band::Weekend,
            (_, 0..6) => Band::WeekdayNight,
            (_, 6..18) => Band::WeekdayDaytime,
            _ => Band::WeekdayEvening,
        }
    }

    /// In words: `weekday daytime (06–18)`.
    pub fn label(self) -> &'static str {
        match self {
            Band::WeekdayDaytime => "weekday daytime (06–18)",
            Band::WeekdayEvening => "weekday evenings (18–24)",
            Band::WeekdayNight => "weekday nights (00–06)",
            Band::Weekend => "weekends",
        }
    }
}

/// A band's figures: the Kaplan–Meier median over all its probes (not a
/// median of cell medians).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandFigure {
    /// The band.
    pub band: Band,
    /// Probes filed in it (answered or censored).
    pub filed: usize,
    /// Of those, answered.
    pub answered: usize,
    /// Kaplan–Meier median.
    pub median: Estimate,
}

/// Hours of the day (any day of the week) in which probes were filed and
/// none was ever answered: the longest run, `[from, until)` hours with
/// the probes filed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Silent {
    /// First hour of the run.
    pub from: usize,
    /// Hour after the last one of the run.
    pub until: usize,
    /// Probes filed in those hours.
    pub filed: usize,
}

/// Everything the pictures show of one vendor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VendorViews {
    /// The vendor.
    pub vendor: String,
    /// Its coverage grid.
    pub coverage: Coverage,
    /// The grid in words, by part of the week.
    pub bands: Vec<BandFigure>,
    /// The longest run of hours never answered, if any.
    pub silent: Option<Silent>,
    /// Its weekly medians.
    pub trend: Vec<TrendPoint>,
}

/// Where the views of [`vendor_views`] reach.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// Probes filed in `[from, until)` enter the coverage grid.
    pub coverage: (Timestamp, Timestamp),
    /// The last week of the trend.
    pub last_week: IsoWeek,
    /// How many weeks the trend shows.
    pub weeks: usize,
}

/// The coverage (with its bands and silent hours) and trend of `vendor`.
pub fn vendor_views(
    rows: &[ReadingRow],
    vendor: &str,
    tz: &TimeZone,
    now: Timestamp,
    reach: Reach,
    own: &OwnSide,
) -> Result<VendorViews, PeriodError> {
    let mut pooled: Vec<(Band, Observation)> = Vec::new();
    for (at, o) in observations(rows, vendor, now, own, reach.coverage) {
        let local = tz.to_datetime(at);
        let hour = usize::from(local.hour().unsigned_abs());
        pooled.push((Band::of(day_index(local.weekday()), hour), o));
    }
    let bands = Band::ALL
        .iter()
        .map(|&band| {
            let obs: Vec<Observation> = pooled
                .iter()
                .filter(|(b, _)| *b == band)
                .map(|(_, o)| *o)
                .collect();
            BandFigure {
                band,
                filed: obs.len(),
                answered: obs.iter().filter(|o| o.answered).count(),
                median: km::median(&obs),
            }
        })
        .collect();
    let coverage = coverage(rows, vendor, tz, now, reach.coverage, own);
    Ok(VendorViews {
        vendor: vendor.to_string(),
        silent: silent_hours(&coverage),
        bands,
        coverage,
        trend: trend(rows, vendor, tz, now, reach.last_week, reach.weeks, own)?,
    })
}

/// The longest run of hours of the day with probes filed and none answered.
pub fn silent_hours(c: &Coverage) -> Option<Silent> {
    let per_hour: Vec<(usize, usize)> = (0..24)
        .map(|h| {
            c.cells.iter().fold((0, 0), |(f, a), day| {
                day.get(h)
                    .map_or((f, a), |cell| (f + cell.filed, a + cell.answered))
            })
        })
        .collect();
    let mut best: Option<Silent> = None;
    let mut h = 0;
    while h < 24 {
        if per_hour[h].0 > 0 && per_hour[h].1 == 0 {
            let start = h;
            let mut filed = 0;
            while h < 24 && per_hour[h].0 > 0 && per_hour[h].1 == 0 {
                filed += per_hour[h].0;
                h += 1;
            }
            if best.is_none_or(|b| h - start > b.until - b.from) {
                best = Some(Silent {
                    from: start,
                    until: h,
                    filed,
                });
            }
        } else {
            h += 1;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Class, ReadingRow, Window};
    use crate::report::tests::probe;
    use crate::report::{Options, build_rows};

    fn row(n: u32, vendor: &str, filed: &str, answer_after: Option<i64>) -> ReadingRow {
        let (replies, state) = match answer_after {
            Some(s) => (vec![(s, Class::Human)], ProbeState::Answered),
            None => (vec![], ProbeState::Unanswered),
        };
        ReadingRow::of(&probe(
            n,
            vendor,
            filed,
            Some(Window::OffHours),
            None,
            &replies,
            state,
        ))
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    const NOW: &str = "2026-12-01T00:00:00Z";

    #[test]
    fn a_cell_is_the_local_hour_of_filing_across_a_dst_change() {
        let rows = vec![
            // Mon 30 Mar 2026 (CEST, UTC+2): 07:30Z is 09:30 in Berlin.
            row(1, "acme", "2026-03-30T07:30:00Z", Some(600)),
            // Mon 23 Mar 2026 (CET, UTC+1): 08:30Z is 09:30 too.
            row(2, "acme", "2026-03-23T08:30:00Z", Some(1800)),
            // Mon 23 Mar 08:00Z is 09:00: the same cell; unanswered (72 h).
            row(3, "acme", "2026-03-23T08:00:00Z", None),
            // Another vendor never enters acme's grid.
            row(4, "beta", "2026-03-23T08:00:00Z", Some(60)),
            // Outside the span.
            row(5, "acme", "2026-04-06T07:30:00Z", Some(60)),
        ];
        let span = (ts("2026-03-23T00:00:00Z"), ts("2026-04-06T00:00:00Z"));
        let c = coverage(&rows, "acme", &berlin(), ts(NOW), span, &OwnSide::default());
        let nine = c.cell(0, 9).unwrap();
        assert_eq!((nine.filed, nine.answered), (3, 2));
        // 600 s, 1800 s, censored at 259200 s: S drops to 2/3 at 600,
        // to 1/3 at 1800: the median is 1800 s.
        assert_eq!(nine.median, Estimate::Exactly(1800));
        assert!(nine.small());
        // In UTC the same probes sit at 07 and 08.
        let utc = coverage(
            &rows,
            "acme",
            &TimeZone::UTC,
            ts(NOW),
            span,
            &OwnSide::default(),
        );
        assert_eq!(utc.cell(0, 7).unwrap().filed, 1);
        assert_eq!(utc.cell(0, 8).unwrap().filed, 2);
        assert_eq!(utc.cell(0, 9).unwrap().filed, 0);
        assert_eq!(utc.cell(0, 9).unwrap().median, Estimate::None);
        let total: usize = c.cells.iter().flatten().map(|c| c.filed).sum();
        assert_eq!(total, 3);
    }

    #[test]
    fn bands_pool_observations_and_silent_hours_are_found() {
        let rows = vec![
            // Weekday daytime in Berlin: Mon 09:30 and 10:30, answered.
            row(1, "acme", "2026-03-23T08:30:00Z", Some(600)),
            row(2, "acme", "2026-03-23T09:30:00Z", Some(3000)),
            // Weekday night: Tue 02:10 and Wed 03:40 Berlin, never answered.
            row(3, "acme", "2026-03-24T01:10:00Z", None),
            row(4, "acme", "2026-03-25T02:40:00Z", None),
            // Saturday 12:00 Berlin, answered after 1 day.
            row(5, "acme", "2026-03-28T11:00:00Z", Some(86400)),
        ];
        let reach = Reach {
            coverage: (ts("2026-03-23T00:00:00Z"), ts("2026-03-30T00:00:00Z")),
            last_week: "2026-W13".parse().unwrap(),
            weeks: 2,
        };
        let v = vendor_views(
            &rows,
            "acme",
            &berlin(),
            ts(NOW),
            reach,
            &OwnSide::default(),
        )
        .unwrap();
        let day = v.bands[0];
        assert_eq!(
            (day.band, day.filed, day.answered),
            (Band::WeekdayDaytime, 2, 2)
        );
        assert_eq!(day.median, Estimate::Exactly(600));
        let night = v.bands[2];
        assert_eq!((night.filed, night.answered), (2, 0));
        assert_eq!(night.median, Estimate::MoreThan(72 * 3600));
        assert_eq!(v.bands[3].median, Estimate::Exactly(86400));
        assert_eq!((v.bands[1].filed, v.bands[1].median), (0, Estimate::None));
        // Hours 02 and 03 hold unanswered probes only: one run 02–04.
        assert_eq!(
            v.silent,
            Some(Silent {
                from: 2,
                until: 4,
                filed: 2
            })
        );
        assert_eq!(v.trend.len(), 2);
        assert_eq!(v.trend[1].n, 5);
        assert!(!v.trend[1].small);
    }

    #[test]
    fn a_cell_where_nothing_was_answered_is_beyond_the_time_watched() {
        // Sun 22 Mar 2026 23:30 Berlin (22:30Z): Sunday, hour 23.
        let rows = vec![row(1, "acme", "2026-03-22T22:30:00Z", None)];
        let span = (ts("2026-03-16T00:00:00Z"), ts("2026-03-30T00:00:00Z"));
        let c = coverage(&rows, "acme", &berlin(), ts(NOW), span, &OwnSide::default());
        let cell = c.cell(6, 23).unwrap();
        assert_eq!((cell.filed, cell.answered), (1, 0));
        assert_eq!(cell.median, Estimate::MoreThan(72 * 3600));
    }

    #[test]
    fn weeks_ending_counts_back_from_the_last_week_and_zero_is_none() {
        // 2020 has 53 ISO weeks.
        let last: IsoWeek = "2021-W02".parse().unwrap();
        let names: Vec<String> = weeks_ending(last, 3)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["2020-W53", "2021-W01", "2021-W02"]);
        assert!(weeks_ending(last, 0).unwrap().is_empty());
    }

    #[test]
    fn the_trend_has_one_point_per_iso_week_in_the_zone() {
        let rows = vec![
            // Sun 22 Nov 2026 23:30 Berlin = 22:30Z: week 47 in Berlin,
            // though Monday 23 Nov has not begun in UTC either; 23:30Z is
            // Mon 00:30 Berlin: week 48.
            row(1, "acme", "2026-11-22T22:30:00Z", Some(3600)),
            row(2, "acme", "2026-11-22T23:30:00Z", Some(7200)),
            row(3, "acme", "2026-11-24T10:00:00Z", Some(600)),
        ];
        let last: IsoWeek = "2026-W48".parse().unwrap();
        let t = trend(
            &rows,
            "acme",
            &berlin(),
            ts(NOW),
            last,
            3,
            &OwnSide::default(),
        )
        .unwrap();
        let weeks: Vec<String> = t.iter().map(|p| p.week.to_string()).collect();
        assert_eq!(weeks, ["2026-W46", "2026-W47", "2026-W48"]);
        assert_eq!((t[0].n, t[0].median), (0, Estimate::None));
        assert_eq!((t[1].n, t[1].median), (1, Estimate::Exactly(3600)));
        // 600 and 7200: S = 1/2 at 600, so the median is 600 s.
        assert_eq!((t[2].n, t[2].median), (2, Estimate::Exactly(600)));
        assert!(t.iter().all(|p| p.small));
        let (from, until) = weeks_span(last, 3, &berlin()).unwrap();
        assert_eq!(from, ts("2026-11-08T23:00:00Z"));
        assert_eq!(until, ts("2026-11-29T23:00:00Z"));
    }

    #[test]
    fn the_ranking_puts_medians_first_then_reply_rate() {
        let rows = vec![
            // fast: one answer in 10 min.
            row(1, "fast", "2026-11-16T08:00:00Z", Some(600)),
            // slow: answers in 2 h.
            row(2, "slow", "2026-11-16T08:00:00Z", Some(7200)),
            // silent: nothing answered.
            row(3, "silent", "2026-11-16T08:00:00Z", None),
            // some: 1 of 3 answered, median beyond the time watched.
            row(4, "some", "2026-11-16T08:00:00Z", Some(60)),
            row(5, "some", "2026-11-16T09:00:00Z", None),
            row(6, "some", "2026-11-16T10:00:00Z", None),
        ];
        let report = build_rows(
            &rows,
            None,
            &Options {
                period: None,
                previous: None,
                vendor: None,
                by: Vec::new(),
                now: ts(NOW),
                own: OwnSide::default(),
            },
        );
        let r = ranking(&report);
        let order: Vec<(usize, &str)> = r.iter().map(|r| (r.place, r.vendor.as_str())).collect();
        assert_eq!(
            order,
            [(1, "fast"), (2, "slow"), (3, "some"), (4, "silent")]
        );
        assert_eq!(r[2].median, Estimate::MoreThan(72 * 3600));
        let names: Vec<&str> = in_rank_order(&report, &r)
            .iter()
            .map(|v| v.vendor.as_str())
            .collect();
        assert_eq!(names, ["fast", "slow", "some", "silent"]);
        assert_eq!(r[2].reply_rate, Some(1.0 / 3.0));
    }
}
