//! A vendor's working calendar: which window an instant falls in, and how
//! much business time lies between two instants.
//!
//! Both are judged on the vendor's local wall clock. Business time is the
//! real elapsed time of the instants whose local time lies inside an opening
//! range on a working, non-holiday day, so a 09:00-17:00 day is 8 hours even
//! on a DST day, and a range that contains a gap or a repeated hour counts the
//! hours that really passed.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::model::{BusinessCalendar, WeekdayKey, Window};

impl BusinessCalendar {
    /// Which window an instant falls in, judged in the calendar's zone:
    /// `Holiday` if the local date is a holiday, `Weekend` if the weekday is
    /// not a working day, `BusinessHours` if inside one of the opening ranges,
    /// else `OffHours`.
    pub fn window_at(&self, at: Timestamp) -> Window {
        let local = self.zone.to_datetime(at);
        let date = local.date();
        if self.holidays.contains(&date) {
            Window::Holiday
        } else if !self.days.contains(&WeekdayKey::from(date.weekday())) {
            Window::Weekend
        } else if self
            .hours
            .iter()
            .any(|&range| in_range(local.time(), range))
        {
            Window::BusinessHours
        } else {
            Window::OffHours
        }
    }

    /// Business time elapsed between two instants: only time inside opening
    /// hours on working, non-holiday days counts. Zero if `to <= from`.
    pub fn business_time_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if to <= from {
            return total;
        }
        // A day before and after: a repeated hour at midnight can put an
        // instant of the span on a local date outside the two end dates.
        let first = self.zone.to_datetime(from).date();
        let first = first.yesterday().unwrap_or(first);
        let last = self.zone.to_datetime(to).date();
        let last = last.tomorrow().unwrap_or(last);
        let mut day = first;
        while day <= last {
            if self.is_open_day(day) {
                for &(start, end) in &self.hours {
                    total += self.open_time_in(day, start, end, from, to);
                }
            }
            let Ok(next) = day.tomorrow() else {
                break;
            };
            day = next;
        }
        total
    }

    /// A 24x7 calendar (every day, the whole day, no holidays) in `zone`.
    pub fn always_open(zone: TimeZone) -> Self {
        BusinessCalendar {
            zone,
            days: (1..=7).map(WeekdayKey).collect(),
            hours: vec![(Time::midnight(), None)],
            holidays: BTreeSet::new(),
        }
    }

    /// Whether `day` is a working day and not a holiday.
    fn is_open_day(&self, day: Date) -> bool {
        !self.holidays.contains(&day) && self.days.contains(&WeekdayKey::from(day.weekday()))
    }

    /// The part of `[from, to)` whose local time lies in the opening range
    /// `[start, end)` of `day`.
    fn open_time_in(
        &self,
        day: Date,
        start: Time,
        end: Option<Time>,
        from: Timestamp,
        to: Timestamp,
    ) -> SignedDuration {
        let local_start = day.to_datetime(start);
        let local_end = match end {
            Some(end) => day.to_datetime(end),
            None => match day.tomorrow() {
                Ok(next) => next.to_datetime(Time::midnight()),
                Err(_) => DateTime::MAX,
            },
        };
        instants_between(&self.zone, local_start, local_end)
            .into_iter()
            .map(|(lo, hi)| {
                let (lo, hi) = (lo.max(from), hi.min(to));
                if lo < hi {
                    hi.duration_since(lo)
                } else {
                    SignedDuration::ZERO
                }
            })
            .sum()
    }
}

/// Whether a local time lies in a half-open opening range (`None` = midnight).
fn in_range(time: Time, (start, end): (Time, Option<Time>)) -> bool {
    time >= start && end.is_none_or(|end| time < end)
}

/// The instants whose local time in `zone` lies in `[a, b)`, as half-open
/// instant ranges in time order. A range holds one interval per UTC offset it
/// spans: a gap inside it simply has no instants, and a repeated hour inside it
/// contributes both passes.
fn instants_between(zone: &TimeZone, a: DateTime, b: DateTime) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    // The earliest instant that can show `a`: read with the largest offset in play.
    let largest = match zone.to_ambiguous_timestamp(a).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, after } | AmbiguousOffset::Fold { before, after } => {
            before.max(after)
        }
    };
    let Ok(mut segment_start) = largest.to_timestamp(a) else {
        return out;
    };
    loop {
        let offset = zone.to_offset(segment_start);
        if offset.to_datetime(segment_start) >= b {
            break;
        }
        let segment_end = zone.following(segment_start).next().map(|t| t.timestamp());
        if let (Ok(lo), Ok(hi)) = (offset.to_timestamp(a), offset.to_timestamp(b)) {
            let lo = lo.max(segment_start);
            let hi = segment_end.map_or(hi, |end| hi.min(end));
            if lo < hi {
                out.push((lo, hi));
            }
        }
        match segment_end {
            Some(end) => segment_start = end,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn new_york() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    /// Monday to Friday, the given ranges, Independence Day observed on Friday 2026-07-03.
    fn office(hours: Vec<(Time, Option<Time>)>) -> BusinessCalendar {
        BusinessCalendar {
            zone: new_york(),
            days: (1..=5).map(WeekdayKey).collect(),
            hours,
            holidays: [date(2026, 7, 3)].into_iter().collect(),
        }
    }

    fn nine_to_five() -> BusinessCalendar {
        office(vec![(time(9, 0, 0, 0), Some(time(17, 0, 0, 0)))])
    }

    /// The instant of a New York wall clock time (the earlier one if it repeats).
    fn ny(s: &str) -> Timestamp {
        let dt: DateTime = s.parse().unwrap();
        new_york().to_ambiguous_timestamp(dt).earlier().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    #[test]
    fn windows_on_a_working_day_switch_exactly_at_the_boundaries() {
        let cal = nine_to_five();
        // 2026-07-06 is a Monday.
        assert_eq!(cal.window_at(ny("2026-07-06T08:59:59")), Window::OffHours);
        assert_eq!(cal.window_at(ny("2026-07-06T09:00")), Window::BusinessHours);
        assert_eq!(
            cal.window_at(ny("2026-07-06T16:59:59")),
            Window::BusinessHours
        );
        assert_eq!(cal.window_at(ny("2026-07-06T17:00")), Window::OffHours);
    }

    #[test]
    fn weekends_and_holidays_are_judged_in_the_calendars_zone() {
        let cal = nine_to_five();
        assert_eq!(cal.window_at(ny("2026-07-04T12:00")), Window::Weekend);
        assert_eq!(cal.window_at(ny("2026-07-03T12:00")), Window::Holiday);
        // Monday 01:00 UTC is still Sunday evening in New York.
        let at: Timestamp = "2026-07-06T01:00:00Z".parse().unwrap();
        assert_eq!(cal.window_at(at), Window::Weekend);
    }

    #[test]
    fn a_lunch_break_is_off_hours_and_does_not_count() {
        let cal = office(vec![
            (time(9, 0, 0, 0), Some(time(12, 0, 0, 0))),
            (time(13, 0, 0, 0), Some(time(17, 0, 0, 0))),
        ]);
        assert_eq!(cal.window_at(ny("2026-07-06T12:30")), Window::OffHours);
        assert_eq!(cal.window_at(ny("2026-07-06T13:00")), Window::BusinessHours);
        let day = cal.business_time_between(ny("2026-07-06T00:00"), ny("2026-07-07T00:00"));
        assert_eq!(day, hours(7));
        let part = cal.business_time_between(ny("2026-07-06T11:30"), ny("2026-07-06T13:15"));
        assert_eq!(part, SignedDuration::from_mins(45));
    }

    #[test]
    fn an_open_ended_range_runs_to_midnight() {
        let cal = office(vec![(time(18, 0, 0, 0), None)]);
        assert_eq!(
            cal.window_at(ny("2026-07-06T23:59:59")),
            Window::BusinessHours
        );
        assert_eq!(cal.window_at(ny("2026-07-07T00:00")), Window::OffHours);
        let span = cal.business_time_between(ny("2026-07-06T20:00"), ny("2026-07-07T19:00"));
        assert_eq!(span, hours(4 + 1));
    }

    #[test]
    fn spans_overnight_over_a_weekend_and_over_a_holiday() {
        let cal = nine_to_five();
        let overnight = cal.business_time_between(ny("2026-07-06T16:00"), ny("2026-07-07T10:00"));
        assert_eq!(overnight, hours(2));
        let weekend = cal.business_time_between(ny("2026-07-10T16:00"), ny("2026-07-13T10:00"));
        assert_eq!(weekend, hours(2));
        // Thursday 16:00 to Monday 10:00 with Friday a holiday.
        let holiday = cal.business_time_between(ny("2026-07-02T16:00"), ny("2026-07-06T10:00"));
        assert_eq!(holiday, hours(2));
        let inside = cal.business_time_between(ny("2026-07-06T10:00"), ny("2026-07-06T10:20"));
        assert_eq!(inside, SignedDuration::from_mins(20));
        let off = cal.business_time_between(ny("2026-07-06T18:00"), ny("2026-07-07T08:00"));
        assert_eq!(off, SignedDuration::ZERO);
    }

    #[test]
    fn an_empty_or_reversed_span_is_zero() {
        let cal = nine_to_five();
        let at = ny("2026-07-06T10:00");
        assert_eq!(cal.business_time_between(at, at), SignedDuration::ZERO);
        assert_eq!(
            cal.business_time_between(at, at - SignedDuration::from_hours(1)),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn a_long_span_counts_every_working_day() {
        let cal = nine_to_five();
        // Eight weeks from Monday 2026-06-01, with one holiday: 39 working days.
        let span = cal.business_time_between(ny("2026-06-01T00:00"), ny("2026-07-27T00:00"));
        assert_eq!(span, hours(39 * 8));
    }

    #[test]
    fn a_working_day_on_a_dst_day_is_still_its_length() {
        let mut cal = nine_to_five();
        cal.days = (1..=7).map(WeekdayKey).collect();
        for day in ["2026-03-08", "2026-11-01"] {
            let from = ny(&format!("{day}T00:00"));
            let to = from + SignedDuration::from_hours(30);
            assert_eq!(cal.business_time_between(from, to), hours(8), "{day}");
        }
    }

    #[test]
    fn a_range_containing_the_change_counts_real_elapsed_time() {
        let mut cal = office(vec![(time(1, 0, 0, 0), Some(time(5, 0, 0, 0)))]);
        cal.days = (1..=7).map(WeekdayKey).collect();
        let spring = cal.business_time_between(ny("2026-03-08T00:00"), ny("2026-03-09T00:00"));
        assert_eq!(spring, hours(3));
        let fall = cal.business_time_between(ny("2026-11-01T00:00"), ny("2026-11-02T00:00"));
        assert_eq!(fall, hours(5));
        // The second pass of 01:30 is business hours too, and counted.
        let second_pass: Timestamp = "2026-11-01T06:30:00Z".parse().unwrap();
        assert_eq!(cal.window_at(second_pass), Window::BusinessHours);
        let tail = cal.business_time_between(second_pass, ny("2026-11-01T02:00"));
        assert_eq!(tail, SignedDuration::from_mins(30));
    }

    #[test]
    fn a_range_starting_in_the_gap_opens_when_the_gap_ends() {
        let mut cal = office(vec![(time(2, 30, 0, 0), Some(time(4, 0, 0, 0)))]);
        cal.days = (1..=7).map(WeekdayKey).collect();
        let gap_end: Timestamp = "2026-03-08T07:00:00Z".parse().unwrap();
        assert_eq!(cal.window_at(gap_end), Window::BusinessHours);
        let day = cal.business_time_between(ny("2026-03-08T00:00"), ny("2026-03-09T00:00"));
        assert_eq!(day, hours(1));
    }

    #[test]
    fn always_open_counts_real_elapsed_time() {
        let cal = BusinessCalendar::always_open(new_york());
        for at in [
            "2026-03-08T02:59:59Z",
            "2026-07-04T12:00:00Z",
            "2026-12-25T23:00:00Z",
        ] {
            assert_eq!(cal.window_at(at.parse().unwrap()), Window::BusinessHours);
        }
        let spring = cal.business_time_between(ny("2026-03-08T00:00"), ny("2026-03-09T00:00"));
        assert_eq!(spring, hours(23));
        let fall = cal.business_time_between(ny("2026-11-01T00:00"), ny("2026-11-02T00:00"));
        assert_eq!(fall, hours(25));
        let week = cal.business_time_between(ny("2026-03-02T00:00"), ny("2026-03-09T00:00"));
        assert_eq!(week, hours(7 * 24 - 1));
    }

    #[test]
    fn instants_between_splits_a_repeated_hour_into_both_passes() {
        let a: DateTime = "2026-11-01T01:00".parse().unwrap();
        let b: DateTime = "2026-11-01T02:00".parse().unwrap();
        let passes = instants_between(&new_york(), a, b);
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            passes,
            vec![
                (ts("2026-11-01T05:00:00Z"), ts("2026-11-01T06:00:00Z")),
                (ts("2026-11-01T06:00:00Z"), ts("2026-11-01T07:00:00Z"))
            ]
        );
    }
}
