//! Reporting periods: ISO weeks and date ranges, read in the reporting zone.
//!
//! An ISO week runs from Monday 00:00 to the next Monday 00:00 on the
//! reporting zone's wall clock, so a week with a daylight saving change is
//! 167 or 169 hours long, and the first days of January may belong to the
//! last week of the year before (`2027-01-01` is in `2026-W53`).

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::Serialize;

/// Why a period could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not of the form `2026-W47`.
    #[error("invalid ISO week {0:?}, expected YYYY-Www such as 2026-W47")]
    BadWeek(String),
    /// The week does not exist (week 53 of a 52-week year, week 0).
    #[error("ISO week {0} does not exist")]
    NoSuchWeek(String),
    /// A date outside what the zone can represent.
    #[error("{0} cannot be placed in the reporting zone: {1}")]
    Zone(String, String),
    /// `--since` is not before `--until`.
    #[error("the period is empty: {since} is not before the end of {until}")]
    Empty { since: String, until: String },
}

/// An ISO 8601 week, e.g. `2026-W47`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    /// The ISO week-numbering year (not always the calendar year).
    pub year: i16,
    /// 1 to 52 or 53.
    pub week: i8,
}

impl IsoWeek {
    /// The week holding `at`, on the wall clock of `tz`.
    pub fn containing(at: Timestamp, tz: &TimeZone) -> IsoWeek {
        let d = tz.to_datetime(at).date().iso_week_date();
        IsoWeek {
            year: d.year(),
            week: d.week(),
        }
    }

    /// The Monday this week starts on.
    pub fn monday(self) -> Result<Date, PeriodError> {
        ISOWeekDate::new(self.year, self.week, Weekday::Monday)
            .map(|d| d.date())
            .map_err(|_| PeriodError::NoSuchWeek(self.to_string()))
    }

    /// The week before.
    pub fn previous(self) -> Result<IsoWeek, PeriodError> {
        let monday = self.monday()?;
        let before = monday
            .checked_sub(Span::new().days(7))
            .map_err(|_| PeriodError::NoSuchWeek(self.to_string()))?;
        let d = before.iso_week_date();
        Ok(IsoWeek {
            year: d.year(),
            week: d.week(),
        })
    }

    /// `[Monday 00:00, next Monday 00:00)` in `tz`.
    pub fn bounds(self, tz: &TimeZone) -> Result<(Timestamp, Timestamp), PeriodError> {
        let monday = self.monday()?;
        let next = monday
            .checked_add(Span::new().days(7))
            .map_err(|_| PeriodError::NoSuchWeek(self.to_string()))?;
        Ok((start_of(monday, tz)?, start_of(next, tz)?))
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PeriodError::BadWeek(s.to_string());
        let (year, week) = s.split_once(['W', 'w']).ok_or_else(bad)?;
        let year = year.strip_suffix('-').unwrap_or(year);
        let year: i16 = year.parse().map_err(|_| bad())?;
        let week: i8 = week.parse().map_err(|_| bad())?;
        let w = IsoWeek { year, week };
        w.monday()?;
        Ok(w)
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The first instant of `day` in `tz` (midnight, or the end of a gap at midnight).
pub fn start_of(day: Date, tz: &TimeZone) -> Result<Timestamp, PeriodError> {
    day.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|e| PeriodError::Zone(day.to_string(), e.to_string()))
}

/// A half-open span of time a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First instant included.
    pub from: Timestamp,
    /// First instant not included.
    pub until: Timestamp,
    /// How a person names it: `2026-W47` or `2026-11-01 to 2026-11-07`.
    pub label: String,
    /// The ISO week, when the period is one.
    pub week: Option<IsoWeek>,
}

impl Period {
    /// One ISO week in `tz`.
    pub fn week(week: IsoWeek, tz: &TimeZone) -> Result<Period, PeriodError> {
        let (from, until) = week.bounds(tz)?;
        Ok(Period {
            from,
            until,
            label: week.to_string(),
            week: Some(week),
        })
    }

    /// From the start of `since` to the end of `until` (both days
    /// included), in `tz`.
    pub fn dates(since: Date, until: Date, tz: &TimeZone) -> Result<Period, PeriodError> {
        let after = until
            .tomorrow()
            .map_err(|e| PeriodError::Zone(until.to_string(), e.to_string()))?;
        let (from, end) = (start_of(since, tz)?, start_of(after, tz)?);
        if from >= end {
            return Err(PeriodError::Empty {
                since: since.to_string(),
                until: until.to_string(),
            });
        }
        Ok(Period {
            from,
            until: end,
            label: format!("{since} to {until}"),
            week: None,
        })
    }

    /// The period just before this one: the previous ISO week, or a span
    /// of the same length ending where this one starts.
    pub fn previous(&self, tz: &TimeZone) -> Result<Period, PeriodError> {
        if let Some(w) = self.week {
            return Period::week(w.previous()?, tz);
        }
        let len = self.until.duration_since(self.from);
        let from = self
            .from
            .checked_sub(len)
            .map_err(|e| PeriodError::Zone(self.label.clone(), e.to_string()))?;
        Ok(Period {
            from,
            until: self.from,
            label: format!("the {} before", crate::duration::human(len)),
            week: None,
        })
    }

    /// Whether `at` is inside.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn weeks_parse_and_print() {
        let w: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!(
            w,
            IsoWeek {
                year: 2026,
                week: 47
            }
        );
        assert_eq!(w.to_string(), "2026-W47");
        assert_eq!(
            "2026W05".parse::<IsoWeek>().unwrap().to_string(),
            "2026-W05"
        );
        assert!(matches!(
            "2026-47".parse::<IsoWeek>(),
            Err(PeriodError::BadWeek(_))
        ));
        // 2026 starts on a Thursday: it has 53 weeks; 2027 does not.
        assert!("2026-W53".parse::<IsoWeek>().is_ok());
        assert!(matches!(
            "2027-W53".parse::<IsoWeek>(),
            Err(PeriodError::NoSuchWeek(_))
        ));
        assert!("2026-W00".parse::<IsoWeek>().is_err());
    }

    #[test]
    fn a_week_with_the_autumn_change_lasts_169_hours_in_berlin() {
        // 2026-10-25 03:00 CEST becomes 02:00 CET: week 43 is one hour longer.
        let w: IsoWeek = "2026-W43".parse().unwrap();
        let (from, until) = w.bounds(&berlin()).unwrap();
        assert_eq!(from, ts("2026-10-18T22:00:00Z"), "Monday 00:00 CEST");
        assert_eq!(until, ts("2026-10-25T23:00:00Z"), "Monday 00:00 CET");
        assert_eq!(until.duration_since(from).as_hours(), 169);
        // The spring change (2026-03-29) makes week 13 one hour shorter.
        let (from, until) = "2026-W13"
            .parse::<IsoWeek>()
            .unwrap()
            .bounds(&berlin())
            .unwrap();
        assert_eq!(until.duration_since(from).as_hours(), 167);
    }

    #[test]
    fn the_week_of_an_instant_is_judged_on_the_reporting_zones_clock() {
        // Sunday 23:30 in Berlin (CET) is Sunday 22:30 UTC: still week 43
        // in both; Monday 00:30 Berlin is Sunday 23:30 UTC: week 44 in
        // Berlin, week 43 in UTC.
        let sunday_late = ts("2026-10-25T22:30:00Z");
        let monday_early = ts("2026-10-25T23:30:00Z");
        assert_eq!(
            IsoWeek::containing(sunday_late, &berlin()).to_string(),
            "2026-W43"
        );
        assert_eq!(
            IsoWeek::containing(monday_early, &berlin()).to_string(),
            "2026-W44"
        );
        assert_eq!(
            IsoWeek::containing(monday_early, &TimeZone::UTC).to_string(),
            "2026-W43"
        );
        let p = Period::week("2026-W43".parse().unwrap(), &berlin()).unwrap();
        assert!(p.contains(sunday_late));
        assert!(!p.contains(monday_early));
    }

    #[test]
    fn iso_weeks_cross_the_new_year() {
        let tz = TimeZone::UTC;
        // 2027-01-01 is a Friday in 2026-W53; 2027-W01 starts on 2027-01-04.
        assert_eq!(
            IsoWeek::containing(ts("2027-01-01T12:00:00Z"), &tz).to_string(),
            "2026-W53"
        );
        assert_eq!(
            IsoWeek::containing(ts("2027-01-04T00:00:00Z"), &tz).to_string(),
            "2027-W01"
        );
        let w1: IsoWeek = "2027-W01".parse().unwrap();
        assert_eq!(w1.previous().unwrap().to_string(), "2026-W53");
        // 2025-12-29 (Monday) starts 2026-W01.
        let (from, _) = "2026-W01".parse::<IsoWeek>().unwrap().bounds(&tz).unwrap();
        assert_eq!(from, ts("2025-12-29T00:00:00Z"));
    }

    #[test]
    fn date_ranges_include_both_days_and_have_a_previous_span() {
        let tz = berlin();
        let p = Period::dates(
            "2026-11-02".parse().unwrap(),
            "2026-11-08".parse().unwrap(),
            &tz,
        )
        .unwrap();
        assert_eq!(p.from, ts("2026-11-01T23:00:00Z"));
        assert_eq!(p.until, ts("2026-11-08T23:00:00Z"));
        let before = p.previous(&tz).unwrap();
        assert_eq!(before.until, p.from);
        assert_eq!(before.from, ts("2026-10-25T23:00:00Z"));
        assert!(
            Period::dates(
                "2026-11-08".parse().unwrap(),
                "2026-11-02".parse().unwrap(),
                &tz
            )
            .is_err()
        );
    }
}
