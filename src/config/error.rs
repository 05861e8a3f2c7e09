//! Config diagnostics: where a mistake is (`file:line:col`) and what it is.
//!
//! Every problem found while loading a config becomes a [`Diagnostic`]; the
//! loader collects all of them and returns them together as [`ConfigErrors`],
//! so a user fixes a file in one pass instead of one error per run.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The sysexits code for a bad configuration (`EX_CONFIG`).
pub const EX_CONFIG: i32 = 78;

/// A 1-based line and column in the config file. Columns count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The line, starting at 1.
    pub line: usize,
    /// The column, starting at 1, counted in characters.
    pub col: usize,
}

/// One error or warning about the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The config file, as the user named it.
    pub file: PathBuf,
    /// Where in the file; `None` when the problem concerns the whole file
    /// (it cannot be read, or something is missing altogether).
    pub position: Option<Position>,
    /// What is wrong, without a trailing period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(Position { line, col }) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every error found in a config file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl ConfigErrors {
    /// The process exit code for a bad configuration: [`EX_CONFIG`].
    pub fn exit_code(&self) -> i32 {
        EX_CONFIG
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects errors and warnings while a config is loaded, turning byte
/// offsets into line and column.
pub(super) struct Reporter<'a> {
    file: &'a Path,
    text: &'a str,
    line_starts: Vec<usize>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    /// A reporter for `text`, read from `file`.
    pub(super) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Reporter {
            file,
            text,
            line_starts,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The config text being checked.
    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// The config file's path, as given.
    pub(super) fn file(&self) -> &'a Path {
        self.file
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.position(offset).line
    }

    /// Records an error at a byte offset.
    pub(super) fn error(&mut self, offset: usize, message: impl Into<String>) {
        let d = self.diagnostic(Some(offset), message.into());
        self.errors.push(d);
    }

    /// Records a warning at a byte offset.
    pub(super) fn warn(&mut self, offset: usize, message: impl Into<String>) {
        let d = self.diagnostic(Some(offset), message.into());
        self.warnings.push(d);
    }

    /// Records a warning about the whole file.
    pub(super) fn file_warning(&mut self, message: impl Into<String>) {
        let d = self.diagnostic(None, message.into());
        self.warnings.push(d);
    }

    /// Whether any error was recorded so far.
    pub(super) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors (sorted by position) or, if there are none, the warnings.
    pub(super) fn finish(mut self) -> Result<Vec<Diagnostic>, ConfigErrors> {
        if self.errors.is_empty() {
            self.warnings.sort_by_key(|d| d.position);
            Ok(self.warnings)
        } else {
            self.errors.sort_by_key(|d| d.position);
            Err(ConfigErrors(self.errors))
        }
    }

    fn diagnostic(&self, offset: Option<usize>, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.to_path_buf(),
            position: offset.map(|o| self.position(o)),
            message,
        }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position { line, col: col + 1 }
    }
}

/// The byte offset, in the config text, of the character at byte `index`
/// of a string value whose TOML source spans `span`.
///
/// When the value appears verbatim in its source (no escapes) the answer is
/// exact. Otherwise the same occurrence of `fragment` (the text at `index`)
/// is looked up in the source, and failing that the start of the value is
/// used.
pub(super) fn offset_in_string(
    text: &str,
    span: Range<usize>,
    value: &str,
    index: usize,
    fragment: &str,
) -> usize {
    let Some(raw) = text.get(span.clone()) else {
        return span.start;
    };
    if let Some(at) = raw.find(value).filter(|_| !value.is_empty()) {
        return span.start + at + index;
    }
    let nth = value
        .get(..index)
        .map_or(0, |before| before.matches(fragment).count());
    if fragment.is_empty() {
        return span.start;
    }
    raw.match_indices(fragment)
        .nth(nth)
        .map_or(span.start, |(at, _)| span.start + at)
}

/// Rewrites serde's wording for TOML users: "field" becomes "key", Rust type
/// names become TOML ones, and lists of expected names lose their backticks.
pub(super) fn humanize(message: &str) -> String {
    let message = message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("unknown variant", "unknown value")
        .replace("wanted string or table", "invalid type, expected a string")
        .replace(
            "invalid type: map,",
            "invalid type: table or unquoted date,",
        )
        .replace("invalid type: sequence,", "invalid type: array,");
    let message = match message.split_once(", expected ") {
        Some((head, tail)) if head.starts_with("unknown ") => {
            format!("{head}, expected {}", tail.replace('`', ""))
        }
        _ => message,
    };
    rename_types(&message)
}

fn rename_types(message: &str) -> String {
    let Some((head, expected)) = message.rsplit_once(", expected ") else {
        return message.to_string();
    };
    let expected = if expected.starts_with("struct ") || expected == "a map" {
        "a table"
    } else {
        match expected {
            "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer",
            "i8" | "i16" | "i32" | "i64" => "an integer",
            "a boolean" => "true or false",
            "a sequence" => "an array",
            other => other,
        }
    };
    format!("{head}, expected {expected}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nb = \"é\" x\n";
        let r = Reporter::new(Path::new("f.toml"), text);
        assert_eq!(r.position(0), Position { line: 1, col: 1 });
        assert_eq!(r.position(6), Position { line: 2, col: 1 });
        let x = text.find('x').unwrap_or_default();
        assert_eq!(r.position(x), Position { line: 2, col: 9 });
    }

    #[test]
    fn serde_wording_is_rewritten_for_toml_users() {
        assert_eq!(
            humanize("unknown field `hostt`, expected one of `host`, `port`"),
            "unknown key `hostt`, expected one of host, port"
        );
        assert_eq!(humanize("missing field `name`"), "missing key `name`");
        assert_eq!(
            humanize("invalid type: map, expected a string"),
            "invalid type: table or unquoted date, expected a string"
        );
        assert_eq!(
            humanize("invalid type: string \"x\", expected u16"),
            "invalid type: string \"x\", expected a non-negative integer"
        );
    }

    #[test]
    fn offsets_inside_strings_follow_escapes() {
        let text = r#"s = "a\tb {x}""#;
        let start = text.find('"').unwrap_or_default();
        let span = start..text.len();
        let value = "a\tb {x}";
        let at = offset_in_string(text, span, value, 4, "{x}");
        assert_eq!(&text[at..at + 3], "{x}");
    }
}
