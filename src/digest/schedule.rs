//! When a digest is due: pure functions of the schedule, the zones and an
//! instant (no clock, no store).
//!
//! Each fire of the digest's cron schedule (read in the digest's zone) is
//! due to send the last ISO week (in the reporting zone) that was complete
//! at the fire. The daemon looks at the *latest* fire at or before now: if
//! that fire's week was not sent, it is due — which sends a digest missed
//! while the daemon was down once, on the next start, and never an older
//! one. The send happens at a random delay after the fire, up to the
//! configured jitter, drawn from the week so a restart keeps the same
//! minute (Healthchecks-style "near the configured time", spreading load).

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::report::IsoWeek;
use crate::schedule::CronSchedule;

/// How far back to look for the latest fire, smallest first: the first
/// window that holds a fire bounds the walk forward to the latest one.
const LOOKBACK_SECS: [i64; 6] = [60, 3600, 86_400, 8 * 86_400, 32 * 86_400, 370 * 86_400];

/// The latest fire at or before `now`, if the schedule fired in the last year.
pub fn latest_fire(schedule: &CronSchedule, tz: &TimeZone, now: Timestamp) -> Option<Timestamp> {
    for back in LOOKBACK_SECS {
        let from = now.checked_sub(SignedDuration::from_secs(back)).ok()?;
        let mut fire = schedule.next_after(from, tz)?;
        if fire > now {
            continue;
        }
        while let Some(next) = schedule.next_after(fire, tz) {
            if next > now {
                break;
            }
            fire = next;
        }
        return Some(fire);
    }
    None
}

/// The week a fire at `fire` reports: the last complete ISO week.
pub fn week_for_fire(fire: Timestamp, report_tz: &TimeZone) -> Option<IsoWeek> {
    IsoWeek::containing(fire, report_tz).previous().ok()
}

/// The delay after the fire for `week`: the same for the same week, less
/// than `jitter`, in whole minutes when the jitter is a minute or more.
pub fn delay_for(week: IsoWeek, jitter: Duration) -> Duration {
    let secs = jitter.as_secs();
    if secs == 0 {
        return Duration::ZERO;
    }
    let seed = (i64::from(week.year) as u64) << 8 | week.week as u64;
    let mut rng = fastrand::Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    if secs >= 60 {
        Duration::from_secs(rng.u64(0..secs / 60) * 60)
    } else {
        Duration::from_secs(rng.u64(0..secs))
    }
}

/// The digest the schedule says is due at `now`: the week, and the instant
/// it should go out (possibly already past: send now).
pub fn due(
    schedule: &CronSchedule,
    digest_tz: &TimeZone,
    report_tz: &TimeZone,
    jitter: Duration,
    now: Timestamp,
) -> Option<(IsoWeek, Timestamp)> {
    let fire = latest_fire(schedule, digest_tz, now)?;
    let week = week_for_fire(fire, report_tz)?;
    let delay = SignedDuration::try_from(delay_for(week, jitter)).ok()?;
    Some((week, fire.checked_add(delay).ok()?))
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
    fn monday_morning_sends_last_week_and_a_restart_finds_the_same_week() {
        let s = CronSchedule::parse("0 0 8 * * MON").unwrap();
        let tz = berlin();
        // Mon 23 Nov 2026 08:00 Berlin = 07:00 UTC.
        let fire = ts("2026-11-23T07:00:00Z");
        assert_eq!(latest_fire(&s, &tz, ts("2026-11-23T07:00:00Z")), Some(fire));
        assert_eq!(latest_fire(&s, &tz, ts("2026-11-25T12:00:00Z")), Some(fire));
        assert_eq!(
            latest_fire(&s, &tz, ts("2026-11-23T06:59:59Z")),
            Some(ts("2026-11-16T07:00:00Z"))
        );
        let (week, at) = due(&s, &tz, &tz, Duration::ZERO, ts("2026-11-24T00:00:00Z")).unwrap();
        assert_eq!(week.to_string(), "2026-W47");
        assert_eq!(at, fire);
        // Down for three weeks: only the latest missed week is due, not a flood.
        let (week, _) = due(&s, &tz, &tz, Duration::ZERO, ts("2026-12-15T12:00:00Z")).unwrap();
        assert_eq!(week.to_string(), "2026-W50");
    }

    #[test]
    fn the_fire_after_the_autumn_change_uses_the_new_offset() {
        // Mon 26 Oct 2026 08:00 CET = 07:00 UTC (the week before it was 06:00 UTC).
        let s = CronSchedule::parse("0 0 8 * * MON").unwrap();
        let tz = berlin();
        assert_eq!(
            latest_fire(&s, &tz, ts("2026-10-27T00:00:00Z")),
            Some(ts("2026-10-26T07:00:00Z"))
        );
        let (week, _) = due(&s, &tz, &tz, Duration::ZERO, ts("2026-10-27T00:00:00Z")).unwrap();
        assert_eq!(week.to_string(), "2026-W43");
    }

    #[test]
    fn the_week_is_judged_in_the_reporting_zone() {
        // Monday 00:30 Berlin is Sunday 23:30 UTC: in Berlin week 48 has
        // begun (report week 47); in UTC it is still week 47 (report week 46).
        let s = CronSchedule::parse("0 30 0 * * MON").unwrap();
        let now = ts("2026-11-22T23:40:00Z");
        let (w_berlin, _) = due(&s, &berlin(), &berlin(), Duration::ZERO, now).unwrap();
        let (w_utc, _) = due(&s, &berlin(), &TimeZone::UTC, Duration::ZERO, now).unwrap();
        assert_eq!(w_berlin.to_string(), "2026-W47");
        assert_eq!(w_utc.to_string(), "2026-W46");
    }

    #[test]
    fn the_random_minute_is_stable_per_week_and_inside_the_jitter() {
        let w: IsoWeek = "2026-W47".parse().unwrap();
        let j = Duration::from_secs(30 * 60);
        let d = delay_for(w, j);
        assert_eq!(d, delay_for(w, j));
        assert!(d < j);
        assert_eq!(d.as_secs() % 60, 0);
        assert_eq!(delay_for(w, Duration::ZERO), Duration::ZERO);
        let spread: std::collections::BTreeSet<u64> = (1..=52)
            .map(|n| {
                delay_for(
                    IsoWeek {
                        year: 2026,
                        week: n,
                    },
                    j,
                )
                .as_secs()
            })
            .collect();
        assert!(spread.len() > 5, "the minute varies between weeks");
    }

    #[test]
    fn an_every_minute_schedule_finds_the_latest_fire_quickly() {
        let s = CronSchedule::parse("0 * * * * *").unwrap();
        let now = ts("2026-11-23T07:00:30Z");
        assert_eq!(
            latest_fire(&s, &TimeZone::UTC, now),
            Some(ts("2026-11-23T07:00:00Z"))
        );
    }
}
