//! Durations as written in the config file: `90s`, `15m`, `4h30m`, `7d`, `2w`.
//!
//! A duration is one or more `<number><unit>` parts with units `w`, `d`, `h`,
//! `m`, `s`, each unit at most once and in that order. Errors carry the
//! character position of the mistake so the config loader can point at it.

use std::fmt;
use std::time::Duration;

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Why a duration string was rejected and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at character {})", position + 1)]
pub struct DurationError {
    /// The byte offset of the mistake in the input (0-based).
    pub position: usize,
    /// What the mistake is.
    pub kind: DurationErrorKind,
}

/// The kinds of mistake in a duration string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationErrorKind {
    /// Nothing was written.
    Empty,
    /// A unit letter or other character came where a number was expected.
    ExpectedNumber(char),
    /// A number ended the input without a unit.
    MissingUnit,
    /// A letter that is not one of `w d h m s`.
    UnknownUnit(char),
    /// A unit repeated or out of order, such as `30m4h`.
    UnitOrder(char),
    /// The total does not fit in 64-bit seconds.
    Overflow,
}

impl fmt::Display for DurationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty duration, expected e.g. 90s, 15m, 4h30m, 7d"),
            Self::ExpectedNumber(c) => write!(f, "expected a number, found `{c}`"),
            Self::MissingUnit => write!(f, "missing unit, expected one of w, d, h, m, s"),
            Self::UnknownUnit(c) => write!(f, "unknown unit `{c}`, expected one of w, d, h, m, s"),
            Self::UnitOrder(c) => write!(
                f,
                "unit `{c}` repeated or out of order, units go w, d, h, m, s"
            ),
            Self::Overflow => write!(f, "duration too large"),
        }
    }
}

/// Parses a duration such as `90s`, `15m`, `4h30m`, `7d` or `2w`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let fail = |position, kind| Err(DurationError { position, kind });
    if text.is_empty() {
        return fail(0, DurationErrorKind::Empty);
    }
    let mut total: u64 = 0;
    let mut next_unit = 0;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if !c.is_ascii_digit() {
            return fail(start, DurationErrorKind::ExpectedNumber(c));
        }
        let mut number: u64 = 0;
        while let Some(&(at, d)) = chars.peek() {
            let Some(digit) = d.to_digit(10) else { break };
            number = match number
                .checked_mul(10)
                .and_then(|n| n.checked_add(digit.into()))
            {
                Some(n) => n,
                None => return fail(at, DurationErrorKind::Overflow),
            };
            chars.next();
        }
        let Some((at, unit)) = chars.next() else {
            return fail(text.len(), DurationErrorKind::MissingUnit);
        };
        let Some(index) = UNITS.iter().position(|&(u, _)| u == unit) else {
            return fail(at, DurationErrorKind::UnknownUnit(unit));
        };
        if index < next_unit {
            return fail(at, DurationErrorKind::UnitOrder(unit));
        }
        next_unit = index + 1;
        let secs = UNITS[index].1;
        total = match number.checked_mul(secs).and_then(|s| s.checked_add(total)) {
            Some(t) => t,
            None => return fail(start, DurationErrorKind::Overflow),
        };
    }
    Ok(Duration::from_secs(total))
}

/// Formats whole seconds the way the config writes them: `4h30m`, `7d`, `0s`.
/// Sub-second parts are dropped.
pub fn format_duration(duration: Duration) -> String {
    let mut left = duration.as_secs();
    if left == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, secs) in UNITS {
        if left >= secs {
            out.push_str(&format!("{}{unit}", left / secs));
            left %= secs;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> u64 {
        parse_duration(text)
            .map(|d| d.as_secs())
            .unwrap_or(u64::MAX)
    }

    fn err(text: &str) -> (usize, String) {
        match parse_duration(text) {
            Ok(d) => panic!("{text} parsed as {d:?}"),
            Err(e) => (e.position, e.kind.to_string()),
        }
    }

    #[test]
    fn every_unit_and_combinations_parse() {
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("15m"), 900);
        assert_eq!(secs("1h"), 3_600);
        assert_eq!(secs("4h30m"), 16_200);
        assert_eq!(secs("7d"), 604_800);
        assert_eq!(secs("2w"), 1_209_600);
        assert_eq!(
            secs("1w2d3h4m5s"),
            604_800 + 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5
        );
        assert_eq!(secs("0s"), 0);
    }

    #[test]
    fn mistakes_name_their_position() {
        assert_eq!(err("").0, 0);
        assert_eq!(
            err("90"),
            (2, "missing unit, expected one of w, d, h, m, s".into())
        );
        assert_eq!(
            err("4x"),
            (1, "unknown unit `x`, expected one of w, d, h, m, s".into())
        );
        assert_eq!(
            err("30m4h"),
            (
                4,
                "unit `h` repeated or out of order, units go w, d, h, m, s".into()
            )
        );
        assert_eq!(err("1h1h").0, 3);
        assert_eq!(err("h"), (0, "expected a number, found `h`".into()));
        assert_eq!(err("1h "), (2, "expected a number, found ` `".into()));
        assert_eq!(err("99999999999999999999s").1, "duration too large");
        assert_eq!(err("99999999999999w").1, "duration too large");
    }

    #[test]
    fn display_includes_the_character_position() {
        let e = parse_duration("5y").err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("unknown unit `y`, expected one of w, d, h, m, s (at character 2)")
        );
    }

    #[test]
    fn format_round_trips() {
        for text in ["0s", "90s", "1m30s", "4h30m", "7d", "2w", "1w2d3h4m5s"] {
            let d = parse_duration(text).unwrap_or_default();
            assert_eq!(parse_duration(&format_duration(d)).ok(), Some(d));
        }
        assert_eq!(format_duration(Duration::from_secs(16_200)), "4h30m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
