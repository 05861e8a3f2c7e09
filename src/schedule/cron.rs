//! Cron expressions with a seconds field, evaluated in an IANA zone with
//! cronie's rules for daylight saving time changes.
//!
//! `croner` parses the expression and finds matching wall clock times; this
//! module turns those wall clock times into instants. It walks the time line
//! one UTC-offset segment at a time (the stretches between two transitions of
//! the zone), so every answer is strictly after the instant asked about, and
//! it decides what a gap or a repeated hour does with cronie's split between
//! fixed-time and wildcard jobs (see the module documentation of
//! `schedule`).

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{Timestamp, Zoned};

/// The field list every error message repeats, so a user sees what is expected.
const FIELDS: &str = "6 fields (second minute hour day-of-month month day-of-week)";

/// The most offset segments one search crosses before giving up. Zones with
/// daylight saving time have two segments a year, so this covers centuries,
/// far more than any expression that can fire at all needs (29 February
/// recurs within 8 years).
const MAX_SEGMENTS: usize = 1000;

/// Why a cron expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The expression does not have exactly six fields.
    #[error("expected {FIELDS}, found {found}")]
    FieldCount {
        /// How many whitespace-separated fields the expression has.
        found: usize,
    },
    /// A nickname such as `@daily` was given.
    #[error("nicknames like {0} are not supported; expected {FIELDS}, e.g. \"0 0 9 * * MON-FRI\"")]
    Nickname(String),
    /// One field holds a value or syntax that is not allowed there.
    #[error(
        "invalid {field} field {value:?} in {expr:?}: {reason}; expected {expected} \
         (a value, a range a-b, a list a,b or a step */n)"
    )]
    InvalidField {
        /// The expression as given.
        expr: String,
        /// The field's name, e.g. `day-of-month`.
        field: &'static str,
        /// The field's text.
        value: String,
        /// The values the field allows.
        expected: &'static str,
        /// What `croner` found wrong with it.
        reason: String,
    },
    /// Each field is valid alone, but `croner` rejected the whole.
    #[error("invalid cron expression {expr:?}: {reason}; expected {FIELDS}")]
    Invalid {
        /// The expression as given.
        expr: String,
        /// What `croner` found wrong with it.
        reason: String,
    },
}

/// Each field's name and allowed values, in order.
const FIELD_RULES: [(&str, &str); 6] = [
    ("second", "0-59"),
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT"),
];

/// How a schedule treats daylight saving time changes, after cronie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No `*` in the second, minute or hour field: a fixed local time. In a
    /// gap it runs once at the first instant after the gap; in a repeated
    /// range it runs only on the first pass.
    FixedTime,
    /// A `*` (or `*/n`) in the second, minute or hour field: it follows real
    /// elapsed time. Times in a gap do not happen; both passes of a repeated
    /// range run.
    Wildcard,
}

/// A parsed cron expression with a seconds field.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    expr: String,
    kind: Kind,
}

/// What a search inside one offset segment found.
enum InSegment {
    /// The first fire in the segment.
    Fire(Timestamp),
    /// No fire before the segment ends.
    Beyond,
    /// The expression never matches again.
    Never,
}

impl CronSchedule {
    /// Parses a cron expression with a seconds field (6 fields). Ranges,
    /// steps, lists and names such as `MON` and `JAN` are accepted; when both
    /// day-of-month and day-of-week are restricted, either one matching is
    /// enough, as in cronie.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if let Some(first) = fields.first().filter(|f| f.starts_with('@')) {
            return Err(CronError::Nickname((*first).to_string()));
        }
        if fields.len() != 6 {
            return Err(CronError::FieldCount {
                found: fields.len(),
            });
        }
        let cron = parser()
            .parse(expr)
            .map_err(|e| explain(expr, &fields, &e))?;
        let wildcard = fields[..3].iter().any(|f| f.starts_with(['*', '?']));
        Ok(CronSchedule {
            cron,
            expr: expr.to_string(),
            kind: if wildcard {
                Kind::Wildcard
            } else {
                Kind::FixedTime
            },
        })
    }

    /// The expression as it was given.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first fire strictly after `after`, in `tz`. `None` only if the
    /// expression can never fire again.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut start = after;
        let mut inclusive = false;
        for _ in 0..MAX_SEGMENTS {
            let offset = tz.to_offset(start);
            let end = tz.following(start).next().map(|t| t.timestamp());
            match self.fire_in_segment(start, inclusive, end, offset, tz) {
                InSegment::Fire(at) => return Some(at),
                InSegment::Never => return None,
                InSegment::Beyond => {}
            }
            let end = end?;
            if self.kind == Kind::FixedTime && self.matches_in_gap(end, offset, tz.to_offset(end)) {
                return Some(end);
            }
            start = end;
            inclusive = true;
        }
        None
    }

    /// The next `n` fires strictly after `from`, as zoned datetimes in `tz`.
    /// Fewer than `n` only if the expression stops firing.
    pub fn upcoming(&self, from: Timestamp, tz: &TimeZone, n: usize) -> Vec<Zoned> {
        let mut fires = Vec::with_capacity(n);
        let mut at = from;
        while fires.len() < n {
            let Some(next) = self.next_after(at, tz) else {
                break;
            };
            fires.push(next.to_zoned(tz.clone()));
            at = next;
        }
        fires
    }

    /// Searches the segment that starts at `start` (inclusive or not), has
    /// `offset` and ends at `end` (exclusive; `None` when the zone never
    /// changes again). Fixed-time jobs skip wall clock times that are the
    /// second pass of a repeated range: they already ran on the first pass.
    fn fire_in_segment(
        &self,
        start: Timestamp,
        inclusive: bool,
        end: Option<Timestamp>,
        offset: Offset,
        tz: &TimeZone,
    ) -> InSegment {
        let mut cursor = offset.to_datetime(start);
        let mut inclusive = inclusive;
        loop {
            let Ok(local) = self.cron.find_next_occurrence(&cursor, inclusive) else {
                return InSegment::Never;
            };
            let Ok(at) = offset.to_timestamp(local) else {
                return InSegment::Never;
            };
            if end.is_some_and(|end| at >= end) {
                return InSegment::Beyond;
            }
            if self.kind == Kind::FixedTime && is_second_pass(tz, local, offset) {
                cursor = local;
                inclusive = false;
                continue;
            }
            return InSegment::Fire(at);
        }
    }

    /// Whether the expression matches a wall clock time that the transition
    /// at `at` skips (from `before` to `after`, a gap when the offset grows).
    fn matches_in_gap(&self, at: Timestamp, before: Offset, after: Offset) -> bool {
        if after <= before {
            return false;
        }
        let gap_start = before.to_datetime(at);
        let gap_end = after.to_datetime(at);
        self.cron
            .find_next_occurrence(&gap_start, true)
            .is_ok_and(|local| local < gap_end)
    }
}

/// The parser for 6-field expressions with a seconds field and no year.
pub(crate) fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Disallowed)
        .build()
}

/// Turns `croner`'s rejection of `expr` into an error naming the bad field.
fn explain(expr: &str, fields: &[&str], error: &croner::errors::CronError) -> CronError {
    let reason = error.to_string().trim_end_matches('.').to_string();
    match bad_field(fields).and_then(|(i, _, _)| FIELD_RULES.get(i).map(|rule| (i, rule))) {
        Some((i, &(field, expected))) => CronError::InvalidField {
            expr: expr.to_string(),
            field,
            value: fields[i].to_string(),
            expected,
            reason,
        },
        None => CronError::Invalid {
            expr: expr.to_string(),
            reason,
        },
    }
}

/// The culprit of a rejected expression: the first field that is rejected
/// with every other field a `*`, as its index, its name (`day-of-month`)
/// and `croner`'s error for it alone. The config check reports it at the
/// field's column; [`CronSchedule::parse`] names it in its error.
pub(crate) fn bad_field(
    fields: &[&str],
) -> Option<(usize, &'static str, croner::errors::CronError)> {
    let parser = parser();
    (0..fields.len()).find_map(|i| {
        let alone: Vec<&str> = (0..fields.len())
            .map(|j| if j == i { fields[j] } else { "*" })
            .collect();
        let error = parser.parse(&alone.join(" ")).err()?;
        let name = FIELD_RULES.get(i).map_or("", |rule| rule.0);
        Some((i, name, error))
    })
}

/// Whether `local`, read with `offset`, is the second pass of a wall clock
/// time that happens twice.
fn is_second_pass(tz: &TimeZone, local: DateTime, offset: Offset) -> bool {
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Fold { before, after } => before != after && offset == after,
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Gap { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Date, date};
    use jiff::{SignedDuration, ToSpan};

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn cron(expr: &str) -> CronSchedule {
        CronSchedule::parse(expr).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The instant of a local wall clock time (the earlier one if it repeats).
    fn local(zone: &TimeZone, s: &str) -> Timestamp {
        let dt: DateTime = s.parse().unwrap();
        zone.to_ambiguous_timestamp(dt).earlier().unwrap()
    }

    /// Fires strictly after `from`, rendered as local RFC 3339 with offset.
    fn fires(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
        let zone = tz(zone);
        cron(expr)
            .upcoming(local(&zone, from), &zone, n)
            .iter()
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .collect()
    }

    #[test]
    fn the_2026_transitions_are_where_the_tests_expect_them() {
        let cases = [
            (
                "America/New_York",
                "2026-03-08T07:00:00Z",
                "2026-11-01T06:00:00Z",
            ),
            (
                "Europe/Berlin",
                "2026-03-29T01:00:00Z",
                "2026-10-25T01:00:00Z",
            ),
            // Lord Howe is in the southern hemisphere: DST ends in April.
            (
                "Australia/Lord_Howe",
                "2026-04-04T15:00:00Z",
                "2026-10-03T15:30:00Z",
            ),
        ];
        for (name, first, second) in cases {
            let zone = tz(name);
            let got: Vec<Timestamp> = zone
                .following(ts("2026-01-01T00:00:00Z"))
                .take(2)
                .map(|t| t.timestamp())
                .collect();
            assert_eq!(got, vec![ts(first), ts(second)], "{name}");
        }
        for name in ["Asia/Kolkata", "Asia/Shanghai"] {
            let zone = tz(name);
            assert!(
                zone.following(ts("2026-01-01T00:00:00Z"))
                    .next()
                    .is_none_or(|t| t.timestamp() > ts("2027-01-01T00:00:00Z")),
                "{name} has no transition in 2026"
            );
        }
    }

    #[test]
    fn five_fields_are_rejected_with_what_is_expected() {
        let err = CronSchedule::parse("30 2 * * *").unwrap_err();
        assert_eq!(err, CronError::FieldCount { found: 5 });
        assert_eq!(
            err.to_string(),
            "expected 6 fields (second minute hour day-of-month month day-of-week), found 5"
        );
        assert_eq!(
            CronSchedule::parse("0 0 0 * * * 2026").unwrap_err(),
            CronError::FieldCount { found: 7 }
        );
        assert_eq!(
            CronSchedule::parse("   ").unwrap_err(),
            CronError::FieldCount { found: 0 }
        );
    }

    #[test]
    fn nicknames_and_bad_values_are_rejected() {
        let err = CronSchedule::parse("@daily").unwrap_err();
        assert!(matches!(err, CronError::Nickname(ref n) if n == "@daily"));
        assert!(err.to_string().contains("expected 6 fields"));

        let err = CronSchedule::parse("0 61 * * * *").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("invalid minute field \"61\" in \"0 61 * * * *\": "),
            "{msg}"
        );
        assert!(msg.contains("expected 0-59 (a value"), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
        let err = CronSchedule::parse("0 0 9 * * FUNDAY").unwrap_err();
        assert!(
            matches!(
                err,
                CronError::InvalidField {
                    field: "day-of-week",
                    ..
                }
            ),
            "{err}"
        );
        let err = CronSchedule::parse("0 0 0 0 * *").unwrap_err();
        assert!(
            matches!(
                err,
                CronError::InvalidField {
                    field: "day-of-month",
                    expected: "1-31",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn usual_syntax_is_accepted_and_the_text_kept() {
        for expr in [
            "0 0 9 * * MON-FRI",
            "0 */15 * * * *",
            "0 0,30 8-18/2 1,15 JAN,JUL *",
            "*/10 * * * * ?",
            "0 0 12 ? * sun",
        ] {
            assert_eq!(cron(expr).expr(), expr);
        }
        let zone = tz("Europe/Berlin");
        // 2026-01-01 is a Thursday; the next Monday-to-Friday 09:00 is Friday.
        assert_eq!(
            fires("0 0 9 * * MON-FRI", "Europe/Berlin", "2026-01-01T10:00", 2),
            ["2026-01-02T09:00:00+01:00", "2026-01-05T09:00:00+01:00"]
        );
        assert_eq!(
            cron("0 0 12 1 JUL *").next_after(local(&zone, "2026-01-01T00:00"), &zone),
            Some(ts("2026-07-01T10:00:00Z"))
        );
    }

    #[test]
    fn day_of_month_or_day_of_week_matches_as_in_cronie() {
        // 2026-02-01 is a Sunday: Friday the 6th, Tuesday the 10th, Friday the 13th.
        assert_eq!(
            fires("0 0 12 10 * FRI", "Europe/Berlin", "2026-02-01T00:00", 3),
            [
                "2026-02-06T12:00:00+01:00",
                "2026-02-10T12:00:00+01:00",
                "2026-02-13T12:00:00+01:00"
            ]
        );
    }

    #[test]
    fn an_expression_that_never_fires_gives_none() {
        let zone = tz("America/New_York");
        let never = cron("0 0 0 31 2 *");
        assert_eq!(never.next_after(ts("2026-01-01T00:00:00Z"), &zone), None);
        assert!(
            never
                .upcoming(ts("2026-01-01T00:00:00Z"), &zone, 3)
                .is_empty()
        );
    }

    #[test]
    fn leap_day_fires_across_many_segments() {
        assert_eq!(
            fires("0 0 12 29 2 *", "America/New_York", "2026-01-01T00:00", 2),
            ["2028-02-29T12:00:00-05:00", "2032-02-29T12:00:00-05:00"]
        );
    }

    #[test]
    fn fixed_time_in_a_gap_fires_once_right_after_it() {
        assert_eq!(
            fires("0 30 2 * * *", "America/New_York", "2026-03-07T12:00", 3),
            [
                "2026-03-08T03:00:00-04:00",
                "2026-03-09T02:30:00-04:00",
                "2026-03-10T02:30:00-04:00"
            ]
        );
        assert_eq!(
            fires("0 30 2 * * *", "Europe/Berlin", "2026-03-28T12:00", 2),
            ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
        );
        assert_eq!(
            fires("0 15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00", 2),
            ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]
        );
    }

    #[test]
    fn the_post_gap_fire_is_not_repeated_when_asked_from_it() {
        let zone = tz("America/New_York");
        let daily = cron("0 30 2 * * *");
        let gap_end = ts("2026-03-08T07:00:00Z");
        assert_eq!(daily.next_after(gap_end - 1.second(), &zone), Some(gap_end));
        assert_eq!(
            daily.next_after(gap_end, &zone),
            Some(local(&zone, "2026-03-09T02:30"))
        );
    }

    #[test]
    fn several_fixed_times_in_one_gap_fire_once() {
        assert_eq!(
            fires("0 0,30 2 * * *", "America/New_York", "2026-03-08T00:00", 3),
            [
                "2026-03-08T03:00:00-04:00",
                "2026-03-09T02:00:00-04:00",
                "2026-03-09T02:30:00-04:00"
            ]
        );
    }

    #[test]
    fn a_wildcard_minute_in_a_gap_does_not_happen() {
        assert_eq!(
            fires("0 */30 2 * * *", "America/New_York", "2026-03-08T00:00", 2),
            ["2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"]
        );
    }

    #[test]
    fn fixed_time_that_repeats_fires_once_on_the_first_pass() {
        assert_eq!(
            fires("0 30 1 * * *", "America/New_York", "2026-10-31T12:00", 2),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
        assert_eq!(
            fires("0 30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", 2),
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
        );
        assert_eq!(
            fires("0 45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00", 2),
            ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]
        );
    }

    #[test]
    fn an_hour_range_is_fixed_time_as_in_cronie() {
        assert_eq!(
            fires("0 30 0-3 * * *", "America/New_York", "2026-11-01T00:00", 4),
            [
                "2026-11-01T00:30:00-04:00",
                "2026-11-01T01:30:00-04:00",
                "2026-11-01T02:30:00-05:00",
                "2026-11-01T03:30:00-05:00"
            ]
        );
    }

    #[test]
    fn asked_from_inside_the_repeated_hour_a_fixed_time_waits_a_day() {
        let zone = tz("America/New_York");
        let daily = cron("0 30 1 * * *");
        let tomorrow = local(&zone, "2026-11-02T01:30");
        // Every minute of both passes of 01:00-02:00 (05:00Z to 07:00Z), after the fire.
        let mut now = ts("2026-11-01T05:30:00Z");
        while now < ts("2026-11-01T07:00:00Z") {
            assert_eq!(daily.next_after(now, &zone), Some(tomorrow), "from {now}");
            now += 1.minute();
        }
    }

    #[test]
    fn hourly_follows_elapsed_time_across_both_changes() {
        assert_eq!(
            fires("0 0 * * * *", "America/New_York", "2026-11-01T00:00", 3),
            [
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T02:00:00-05:00"
            ]
        );
        assert_eq!(
            fires("0 0 * * * *", "America/New_York", "2026-03-08T00:00", 3),
            [
                "2026-03-08T01:00:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T04:00:00-04:00"
            ]
        );
        assert_eq!(
            fires("0 0 * * * *", "Europe/Berlin", "2026-10-25T01:30", 3),
            [
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:00:00+01:00",
                "2026-10-25T03:00:00+01:00"
            ]
        );
    }

    /// Fires whose local date is `day`, and checks they are `step` apart in real time.
    fn fires_on_day(expr: &str, zone: &str, day: Date, step: SignedDuration) -> usize {
        let zone = tz(zone);
        let start = zone
            .to_ambiguous_timestamp(day.at(0, 0, 0, 0))
            .earlier()
            .unwrap();
        let schedule = cron(expr);
        let mut all = vec![start];
        let mut now = start;
        while let Some(next) = schedule.next_after(now, &zone) {
            if next.to_zoned(zone.clone()).date() != day {
                break;
            }
            all.push(next);
            now = next;
        }
        for pair in all.windows(2) {
            assert_eq!(pair[1].duration_since(pair[0]), step, "after {}", pair[0]);
        }
        all.len()
    }

    #[test]
    fn every_15_minutes_runs_both_passes_in_order_and_skips_the_gap() {
        let q = SignedDuration::from_mins(15);
        // The day starts with a fire at 00:00; 24.5 h (Lord Howe fall-back) is 98 quarters.
        assert_eq!(
            fires_on_day("0 */15 * * * *", "Australia/Lord_Howe", date(2026, 4, 5), q),
            98
        );
        assert_eq!(
            fires_on_day(
                "0 */15 * * * *",
                "Australia/Lord_Howe",
                date(2026, 10, 4),
                q
            ),
            94
        );
        assert_eq!(
            fires_on_day("0 */15 * * * *", "America/New_York", date(2026, 11, 1), q),
            100
        );
        assert_eq!(
            fires_on_day("0 */15 * * * *", "America/New_York", date(2026, 3, 8), q),
            92
        );
        assert_eq!(
            fires_on_day("0 */15 * * * *", "Europe/Berlin", date(2026, 10, 25), q),
            100
        );
        assert_eq!(
            fires_on_day("0 */15 * * * *", "Asia/Kolkata", date(2026, 10, 25), q),
            96
        );
        let h = SignedDuration::from_hours(1);
        assert_eq!(
            fires_on_day("0 0 * * * *", "Europe/Berlin", date(2026, 3, 29), h),
            23
        );
        assert_eq!(
            fires_on_day("0 0 * * * *", "Asia/Shanghai", date(2026, 3, 29), h),
            24
        );
    }

    #[test]
    fn a_scheduler_loop_inside_the_repeated_hour_never_goes_back_or_repeats() {
        for (zone, start, stop) in [
            (
                "America/New_York",
                "2026-11-01T04:50:00Z",
                "2026-11-01T07:10:00Z",
            ),
            (
                "Australia/Lord_Howe",
                "2026-04-04T14:20:00Z",
                "2026-04-04T15:40:00Z",
            ),
        ] {
            let zone = tz(zone);
            for expr in ["0 */15 * * * *", "0 0 * * * *", "0 30 1 * * *"] {
                let schedule = cron(expr);
                let mut returned: Vec<Timestamp> = Vec::new();
                // The loop wakes every 7 seconds and asks for the next fire after now.
                let mut now = ts(start);
                while now < ts(stop) {
                    let next = schedule.next_after(now, &zone).unwrap();
                    assert!(next > now, "{expr}: {next} is not after {now}");
                    if returned.last() != Some(&next) {
                        assert!(!returned.contains(&next), "{expr}: {next} returned again");
                        assert!(returned.last().is_none_or(|&l| l < next), "{expr}: order");
                        returned.push(next);
                    }
                    now += 7.seconds();
                }
            }
        }
    }

    #[test]
    fn a_zone_without_dst_fires_at_the_same_local_time_every_day() {
        assert_eq!(
            fires("0 30 2 * * *", "Asia/Kolkata", "2026-03-07T12:00", 2),
            ["2026-03-08T02:30:00+05:30", "2026-03-09T02:30:00+05:30"]
        );
        assert_eq!(
            fires("0 0 * * * *", "Asia/Shanghai", "2026-11-01T00:30", 2),
            ["2026-11-01T01:00:00+08:00", "2026-11-01T02:00:00+08:00"]
        );
    }

    #[test]
    fn sub_second_start_is_handled_strictly() {
        let zone = tz("UTC");
        let every_second = cron("* * * * * *");
        assert_eq!(
            every_second.next_after(ts("2026-01-01T00:00:00.5Z"), &zone),
            Some(ts("2026-01-01T00:00:01Z"))
        );
        assert_eq!(
            every_second.next_after(ts("2026-01-01T00:00:00Z"), &zone),
            Some(ts("2026-01-01T00:00:01Z"))
        );
    }

    /// Iterates a daily fixed time over 2026 and checks one fire per local
    /// day, strictly increasing, at the expected local time.
    fn check_year(zone: &str, expr: &str, hour: i8, minute: i8) {
        let zone = tz(zone);
        let schedule = cron(expr);
        let mut now = local(&zone, "2025-12-31T23:59:59");
        let mut day = date(2026, 1, 1);
        for _ in 0..365 {
            let next = schedule.next_after(now, &zone).unwrap();
            assert!(next > now);
            let at = next.to_zoned(zone.clone());
            assert_eq!(at.date(), day, "{expr} in {zone:?}");
            let wanted = day.at(hour, minute, 0, 0);
            match zone.to_ambiguous_timestamp(wanted).offset() {
                // The wanted time does not exist: the first instant after the gap.
                AmbiguousOffset::Gap { before, .. } => {
                    let transition = zone.following(next - 1.second()).next().unwrap();
                    assert_eq!(transition.timestamp(), next);
                    assert!(before.to_datetime(next) <= wanted);
                }
                // Otherwise the wanted time itself, on its first pass if it repeats.
                _ => {
                    let first = zone.to_ambiguous_timestamp(wanted).earlier().unwrap();
                    assert_eq!(next, first, "{expr} in {zone:?}");
                }
            }
            now = next;
            day = day.tomorrow().unwrap();
        }
        assert_eq!(day, date(2027, 1, 1));
        let next = schedule.next_after(now, &zone).unwrap();
        assert_eq!(next.to_zoned(zone.clone()).date(), day);
    }

    #[test]
    fn a_daily_fixed_time_fires_365_times_in_2026_in_every_zone() {
        check_year("America/New_York", "0 30 2 * * *", 2, 30);
        check_year("America/New_York", "0 30 1 * * *", 1, 30);
        check_year("Europe/Berlin", "0 30 2 * * *", 2, 30);
        check_year("Australia/Lord_Howe", "0 15 2 * * *", 2, 15);
        check_year("Australia/Lord_Howe", "0 45 1 * * *", 1, 45);
        check_year("Asia/Kolkata", "0 0 9 * * *", 9, 0);
        check_year("Asia/Shanghai", "0 30 2 * * *", 2, 30);
    }
}
