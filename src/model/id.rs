//! Probe identifiers: ULIDs (48-bit millisecond time + 80 random bits, Crockford
//! base32), so ids sort by creation time and are unique without coordination.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A probe's id, e.g. `01JD3Q4X5R8ZJ6Q2W3E4R5T6Y7`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProbeId(String);

/// A string that is not a probe id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a probe id (26 characters of Crockford base32)")]
pub struct ProbeIdError(pub String);

impl ProbeId {
    /// A new id for a probe created at `now`.
    pub fn generate(now: Timestamp) -> Self {
        let millis = u128::try_from(now.as_millisecond().max(0)).unwrap_or(0) & ((1 << 48) - 1);
        let random = u128::from(fastrand::u64(..)) << 16 | u128::from(fastrand::u16(..));
        let mut value = millis << 80 | (random & ((1 << 80) - 1));
        let mut out = [0u8; 26];
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[(value & 31) as usize];
            value >>= 5;
        }
        ProbeId(out.iter().map(|&b| char::from(b)).collect())
    }

    /// Parses an id as printed (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, ProbeIdError> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() == 26 && upper.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(ProbeId(upper))
        } else {
            Err(ProbeIdError(s.to_string()))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The short token that goes into subjects and bodies: `SP-` and the last
    /// ten characters (50 random bits) of the id.
    pub fn token(&self) -> String {
        format!("SP-{}", &self.0[16..])
    }
}

impl TryFrom<String> for ProbeId {
    type Error = ProbeIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProbeId::parse(&s)
    }
}

impl From<ProbeId> for String {
    fn from(id: ProbeId) -> String {
        id.0
    }
}

impl std::fmt::Display for ProbeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_round_trip() {
        let a = ProbeId::generate("2026-01-01T00:00:00Z".parse().unwrap());
        let b = ProbeId::generate("2026-01-01T00:00:01Z".parse().unwrap());
        assert!(a < b);
        assert_eq!(ProbeId::parse(&a.as_str().to_lowercase()).unwrap(), a);
        assert_eq!(a.token().len(), 13);
        assert!(a.token().starts_with("SP-"));
        assert!(ProbeId::parse("not-an-id").is_err());
        assert!(
            ProbeId::parse("01JD000000000000000000000U").is_err(),
            "U is not Crockford"
        );
    }

    #[test]
    fn ids_made_in_the_same_millisecond_differ() {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| ProbeId::generate(now)).collect();
        assert_eq!(ids.len(), 1000);
    }
}
