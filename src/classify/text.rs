//! Text helpers every part of the classifier shares: the byte caps that bound
//! the work on hostile input and the probe token pattern. A leaf: it imports
//! no sibling, so parsing, the lexicon and the reference scan can all use it.

/// The most body text kept, in bytes.
pub(crate) const BODY_CAP: usize = 256 * 1024;

/// `text` cut to at most `max` bytes at a character boundary.
pub(crate) fn cap(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A probe token: `SP-` and ten Crockford base32 characters.
pub(crate) const TOKEN_PATTERN: &str = r"(?-u)\bSP-[0-9A-HJKMNP-TV-Z]{10}\b";

super::regexes! {
    TOKEN = TOKEN_PATTERN;
}
