//! What a reader asks a report for — a week or a date range, a vendor, a
//! grouping — turned into [`Options`]. `probe report` and the daemon's
//! `GET /api/report` both go through here, so the same question gets the
//! same period, defaults and the same answer.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::own::OwnSide;
use super::{Dim, IsoWeek, Options, Period, PeriodError};

/// The grouping inside each vendor when none is asked for.
pub const DEFAULT_BY: &str = "window,channel";

/// A report request as written by a reader, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// First day included, in the reporting zone.
    pub since: Option<Date>,
    /// Last day included, in the reporting zone; today when `since` is given alone.
    pub until: Option<Date>,
    /// One ISO week such as `2026-W47`, compared with the week before.
    pub week: Option<String>,
    /// Only this vendor (an unknown one gives an empty report).
    pub vendor: Option<String>,
    /// Grouping inside each vendor; [`DEFAULT_BY`] when `None`.
    pub by: Option<String>,
}

/// Why a request cannot be answered. Each variant names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `by` names an unknown grouping.
    #[error("{0}")]
    By(String),
    /// The week, or the dates, give no period.
    #[error("{0}")]
    Period(#[from] PeriodError),
    /// `until` without `since`.
    #[error("until needs since")]
    UntilAlone,
    /// `week` together with `since` or `until`.
    #[error("week cannot be combined with since or until")]
    WeekAndDates,
}

impl RequestError {
    /// The parameter the error is about, as `GET /api/report` names it.
    pub fn parameter(&self) -> &'static str {
        match self {
            RequestError::By(_) => "by",
            RequestError::Period(PeriodError::BadWeek(_) | PeriodError::NoSuchWeek(_)) => "week",
            RequestError::Period(_) | RequestError::UntilAlone => "until",
            RequestError::WeekAndDates => "week",
        }
    }
}

impl Request {
    /// The grouping asked for.
    pub fn dims(&self) -> Result<Vec<Dim>, RequestError> {
        Dim::parse_list(self.by.as_deref().unwrap_or(DEFAULT_BY)).map_err(RequestError::By)
    }

    /// The period asked for (`None`: everything) and the one before it,
    /// for the change. Dates and weeks are read in `tz`; `until` defaults
    /// to today there.
    pub fn periods(
        &self,
        tz: &TimeZone,
        now: Timestamp,
    ) -> Result<(Option<Period>, Option<Period>), RequestError> {
        if self.week.is_some() && (self.since.is_some() || self.until.is_some()) {
            return Err(RequestError::WeekAndDates);
        }
        let p = if let Some(w) = &self.week {
            let week: IsoWeek = w.parse()?;
            Some(Period::week(week, tz)?)
        } else if let Some(since) = self.since {
            let until = self.until.unwrap_or_else(|| tz.to_datetime(now).date());
            Some(Period::dates(since, until, tz)?)
        } else if self.until.is_some() {
            return Err(RequestError::UntilAlone);
        } else {
            None
        };
        let previous = match &p {
            Some(p) => Some(p.previous(tz)?),
            None => None,
        };
        Ok((p, previous))
    }

    /// The report options for this request, read at `now`.
    pub fn options(
        &self,
        tz: &TimeZone,
        now: Timestamp,
        own: OwnSide,
    ) -> Result<Options, RequestError> {
        let by = self.dims()?;
        let (period, previous) = self.periods(tz, now)?;
        Ok(Options {
            period,
            previous,
            vendor: self.vendor.clone(),
            by,
            now,
            own,
        })
    }
}

impl Options {
    /// The filing instants whose reading rows the report needs: the period
    /// and the one before it, or `None` for everything.
    pub fn row_span(&self) -> Option<(Timestamp, Timestamp)> {
        self.period.as_ref().map(|p| match &self.previous {
            Some(prev) => (p.from.min(prev.from), p.until.max(prev.until)),
            None => (p.from, p.until),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn since_alone_runs_to_today_in_the_zone_and_compares_with_the_span_before() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        // 23:30 UTC on the 3rd is already the 4th in Berlin.
        let now: Timestamp = "2026-12-03T23:30:00Z".parse().unwrap();
        let req = Request {
            since: Some(date("2026-12-01")),
            ..Request::default()
        };
        let (p, prev) = req.periods(&tz, now).unwrap();
        let p = p.unwrap();
        assert_eq!(p.label, "2026-12-01 to 2026-12-04");
        assert_eq!(p.from.to_string(), "2026-11-30T23:00:00Z");
        assert_eq!(p.until.to_string(), "2026-12-04T23:00:00Z");
        assert_eq!(prev.unwrap().until, p.from);
    }

    #[test]
    fn bad_combinations_name_their_parameter() {
        let tz = TimeZone::UTC;
        let now = Timestamp::UNIX_EPOCH;
        let until_alone = Request {
            until: Some(date("2026-12-01")),
            ..Request::default()
        };
        let e = until_alone.periods(&tz, now).unwrap_err();
        assert_eq!(
            (e.parameter(), e.to_string().as_str()),
            ("until", "until needs since")
        );
        let both = Request {
            week: Some("2026-W47".into()),
            since: Some(date("2026-12-01")),
            ..Request::default()
        };
        assert_eq!(both.periods(&tz, now).unwrap_err().parameter(), "week");
        let bad_week = Request {
            week: Some("2026-47".into()),
            ..Request::default()
        };
        assert_eq!(bad_week.periods(&tz, now).unwrap_err().parameter(), "week");
        let bad_by = Request {
            by: Some("colour".into()),
            ..Request::default()
        };
        assert_eq!(bad_by.dims().unwrap_err().parameter(), "by");
        let empty = Request {
            since: Some(date("2026-12-02")),
            until: Some(date("2026-12-01")),
            ..Request::default()
        };
        assert_eq!(empty.periods(&tz, now).unwrap_err().parameter(), "until");
    }

    #[test]
    fn nothing_asked_is_everything_grouped_by_window_and_channel() {
        let o = Request::default()
            .options(&TimeZone::UTC, Timestamp::UNIX_EPOCH, OwnSide::default())
            .unwrap();
        assert!(o.period.is_none() && o.previous.is_none() && o.row_span().is_none());
        assert_eq!(o.by, vec![Dim::Window, Dim::Channel]);
    }
}
