//! When probes fire, and how a vendor's calendar reads an instant.
//!
//! # Schedules
//!
//! A schedule is a cron expression with a seconds field (`second minute hour
//! day-of-month month day-of-week`, e.g. `0 30 9 * * MON-FRI`), read in an IANA
//! zone from the system tz database. Expressions are parsed by `croner`; when
//! both day-of-month and day-of-week are restricted, either matching is enough.
//! Across daylight saving time changes the schedule follows cronie:
//!
//! - A *fixed-time* expression has no `*` in its second, minute or hour field
//!   (`0 30 2 * * *`, `0 0 9,17 * * *`, `0 30 0-3 * * *`). A local time that
//!   does not exist because the clock jumps forward fires once, at the first
//!   instant after the gap (02:30 on the New York spring-forward day fires at
//!   03:00 EDT; 02:15 in Lord Howe's 30-minute gap fires at 02:30). Several
//!   such times in one gap fire once together. A local time that happens twice
//!   because the clock goes back fires once, on its first occurrence.
//! - A *wildcard* expression has a `*` (or `*/n`) in its second, minute or hour
//!   field (`0 0 * * * *`, `0 */15 * * * *`). It follows real elapsed time:
//!   times inside a gap do not happen, and both passes of a repeated hour fire,
//!   in order.
//!
//! Fire times are strictly increasing and no day is skipped. "The next fire
//! after now" is always strictly after now, also inside a repeated hour, so a
//! scheduler loop that asks again after each fire never fires twice for one
//! slot.
//!
//! # Calendars
//!
//! [`crate::model::BusinessCalendar`] gets its methods here: the window an
//! instant falls in (holiday, weekend, business hours or off hours, judged on
//! the vendor's wall clock) and the business time between two instants, which
//! counts the real elapsed time spent inside opening hours on working,
//! non-holiday days (a 09:00-17:00 day is 8 hours on a DST day too, unless the
//! change falls inside it).
//!
//! # Output
//!
//! `probe schedule` merges the upcoming fires of several schedules in time
//! order and prints them as an aligned table or as JSON.

mod calendar;
mod cron;
mod render;

pub use cron::{CronError, CronSchedule};
pub(crate) use cron::{bad_field, parser as cron_parser};
pub use render::{Fire, merge_upcoming, render_json, render_table};
