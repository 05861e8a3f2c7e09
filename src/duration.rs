//! Durations in words for people: `2h 5m`, `3d 4h`, `40s`.
//!
//! A leaf: every layer that prints a time span (the engine's notes, reports,
//! the digest, the CLI) uses this one formatter, so a figure reads the same
//! wherever it appears.

use jiff::SignedDuration;

/// A duration in the largest sensible unit, e.g. `2h 5m`, `40s`.
pub fn human(d: SignedDuration) -> String {
    let secs = d.as_secs().abs();
    let sign = if d.is_negative() { "-" } else { "" };
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h >= 48 {
        format!("{sign}{}d {}h", h / 24, h % 24)
    } else if h > 0 {
        format!("{sign}{h}h {m}m")
    } else if m > 0 {
        format!("{sign}{m}m {s}s")
    } else {
        format!("{sign}{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_largest_sensible_unit() {
        assert_eq!(human(SignedDuration::from_secs(40)), "40s");
        assert_eq!(human(SignedDuration::from_secs(125)), "2m 5s");
        assert_eq!(human(SignedDuration::from_secs(7500)), "2h 5m");
        assert_eq!(human(SignedDuration::from_secs(47 * 3600 + 60)), "47h 1m");
        assert_eq!(human(SignedDuration::from_secs(50 * 3600)), "2d 2h");
        assert_eq!(human(SignedDuration::from_secs(-90)), "-1m 30s");
    }
}
