//! MinHash signatures of a reply's new text, for the templated rule: two
//! copies of the same macro with another name, ticket number or date have
//! nearly all shingles in common; two answers written for two problems do
//! not.
//!
//! The text is normalized (NFKC, lowercase), probe tokens (`SP-…`), e-mail
//! addresses, the persona's and the vendor's names removed, and cut into
//! units: words in scripts that separate words with spaces, single
//! characters in Chinese, Japanese, Korean and Thai; units with digits are
//! dropped (numbers, ids, dates, times). Shingles are runs of [`SHINGLE`]
//! units, hashed with FNV-1a; the signature keeps, for each of [`HASHES`]
//! seeded mixes of those hashes, the smallest. The share of equal positions
//! of two signatures estimates the Jaccard similarity of their shingle sets
//! (standard error about `sqrt(J(1-J)/64)`, under 0.07).

use std::sync::LazyLock;

use regex::Regex;

use crate::classify::{TOKEN_PATTERN, normalize, unspaced};

/// Hashes per signature.
pub const HASHES: usize = 64;
/// Units per shingle.
pub const SHINGLE: usize = 3;
/// Fewer units than this: too short to compare (no signature).
pub const MIN_UNITS: usize = 8;
/// The most units a signature is computed over.
const MAX_UNITS: usize = 4096;

/// Probe tokens and e-mail addresses, removed before comparing.
static VARIABLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:{TOKEN_PATTERN})|[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
    ))
    .ok()
});

/// The MinHash signature of `text` with the words of every string in
/// `strip` (persona and vendor names) removed; empty when fewer than
/// [`MIN_UNITS`] units remain.
pub fn signature_without(text: &str, strip: &[&str]) -> Vec<u32> {
    let mut norm = normalize(text);
    if let Some(re) = VARIABLE.as_ref() {
        norm = re.replace_all(&norm, " ").into_owned();
    }
    let mut stripped: Vec<String> = Vec::new();
    for s in strip {
        let s = normalize(s);
        // Names in a script without spaces are removed where they stand.
        if s.chars().count() >= 2 && s.chars().any(unspaced) {
            norm = norm.replace(&s, " ");
            norm = norm.replace(&s.replace(' ', ""), " ");
        }
        stripped.extend(units(&s));
    }
    let kept: Vec<String> = units(&norm)
        .into_iter()
        .filter(|u| !u.chars().any(char::is_numeric) && !stripped.contains(u))
        .take(MAX_UNITS)
        .collect();
    if kept.len() < MIN_UNITS {
        return Vec::new();
    }
    let mut mins = [u64::MAX; HASHES];
    for window in kept.windows(SHINGLE) {
        let mut h = FNV_OFFSET;
        for (i, u) in window.iter().enumerate() {
            if i > 0 {
                h = fnv_step(h, 0x1f);
            }
            for b in u.bytes() {
                h = fnv_step(h, b);
            }
        }
        for (k, min) in mins.iter_mut().enumerate() {
            let v = mix(h ^ SEEDS[k]);
            if v < *min {
                *min = v;
            }
        }
    }
    mins.iter().map(|m| (m >> 32) as u32).collect()
}

/// The estimated Jaccard similarity of the shingle sets two signatures
/// were made from: the share of equal positions; 0 when either is empty or
/// they differ in length.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// The units of `text` (normalized): words of spaced scripts, single
/// characters of scripts without spaces.
fn units(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() && !unspaced(c) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if unspaced(c) && c.is_alphanumeric() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One byte of FNV-1a, 64 bits: stable across runs, platforms and versions.
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

/// The SplitMix64 finalizer: a stable, well-mixing permutation of 64 bits.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One seed per hash, fixed forever (signatures are stored).
const SEEDS: [u64; HASHES] = {
    let mut s = [0u64; HASHES];
    let mut k = 0;
    while k < HASHES {
        s[k] = mix(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(k as u64 + 1));
        k += 1;
    }
    s
};

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn fnv_and_mix_are_the_reference_functions() {
        let fnv = |s: &[u8]| s.iter().fold(FNV_OFFSET, |h, &b| fnv_step(h, b));
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
        // SplitMix64's first output for seed 0 is mix(0x9e3779b97f4a7c15).
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn units_are_words_or_single_characters() {
        assert_eq!(units("the fix, 已修复"), ["the", "fix", "已", "修", "复"]);
    }
}
