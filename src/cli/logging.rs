//! Log output: human-readable on a terminal, journald-friendly under
//! systemd, JSON lines on request.
//!
//! - `auto` (default): when stderr is the journal (`$JOURNAL_STREAM` names
//!   stderr's device and inode, which is how systemd says so) or the process
//!   runs under systemd without a terminal, lines carry no timestamp (the
//!   journal adds its own) and no ANSI colours; on a terminal, the usual
//!   coloured lines with timestamps; otherwise plain lines with timestamps.
//! - `text`, `journal`, `json` force one of them (`--log-json` = `json`).
//!
//! Every probe event carries a `probe=<id>` field, so `journalctl -u
//! support-probe | grep <id>` shows one probe's whole life (planned,
//! filing, filed or not, replies, closed). Secret values never reach the
//! log: they are held in redacting types (see `config::secret`), and the
//! protocol libraries, whose traces include LOGIN and AUTH lines, are capped
//! at info ([`SECRET_BEARING_TARGETS`]).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

use super::Global;

/// Targets whose debug and trace output contains credentials.
pub const SECRET_BEARING_TARGETS: [&str; 3] = ["async_imap", "imap_proto", "lettre"];

/// The `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Decide from the environment.
    Auto,
    /// Lines with timestamps (colours on a terminal).
    Text,
    /// No timestamps, no colours: for the journal.
    Journal,
    /// One JSON object per line.
    Json,
}

/// Whether stderr is connected to the journal: `$JOURNAL_STREAM` is
/// `DEVICE:INODE` of the stream systemd connected, compared with stderr's.
fn stderr_is_journal() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Some(var) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        let var = var.to_string_lossy().into_owned();
        let Some((dev, ino)) = var.split_once(':') else {
            return false;
        };
        let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
            return false;
        };
        let Ok(meta) = std::fs::File::from(fd).metadata() else {
            return false;
        };
        dev.parse::<u64>().is_ok_and(|d| d == meta.dev())
            && ino.parse::<u64>().is_ok_and(|i| i == meta.ino())
    }
    #[cfg(not(unix))]
    false
}

/// The format `auto` resolves to here.
pub fn resolve(requested: LogFormat, log_json: bool) -> LogFormat {
    if log_json {
        return LogFormat::Json;
    }
    match requested {
        LogFormat::Auto => {
            let under_systemd = std::env::var_os("INVOCATION_ID").is_some();
            if stderr_is_journal() || (under_systemd && !std::io::stderr().is_terminal()) {
                LogFormat::Journal
            } else {
                LogFormat::Text
            }
        }
        other => other,
    }
}

/// When output may carry ANSI colours (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set to anything but empty.
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// Whether colours are used for a stream that is (or is not) a terminal,
/// with `no_color` the value of `NO_COLOR` (<https://no-color.org>: any
/// non-empty value turns colours off in `auto`).
pub fn use_color(choice: Color, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(g: &Global, daemon: bool) {
    let default = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 if daemon => "info",
            0 => "warn",
            1 => "debug",
            _ => "trace",
        }
    };
    let mut filter =
        EnvFilter::try_from_env("PROBE_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // The IMAP and SMTP libraries trace every command they send, LOGIN and
    // AUTH with the password included: never below info, whatever -vv or
    // PROBE_LOG ask for (added last, these directives win).
    for quiet in SECRET_BEARING_TARGETS {
        if let Ok(d) = format!("{quiet}=info").parse() {
            filter = filter.add_directive(d);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match resolve(g.log_format, g.log_json) {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Journal => builder.without_time().with_ansi(false).try_init(),
        LogFormat::Text | LogFormat::Auto => builder
            .with_ansi(use_color(
                g.color,
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colours_follow_the_choice_the_terminal_and_no_color() {
        assert!(use_color(Color::Auto, true, None));
        assert!(!use_color(Color::Auto, false, None));
        assert!(!use_color(Color::Auto, true, Some(OsStr::new("1"))));
        assert!(use_color(Color::Auto, true, Some(OsStr::new(""))));
        assert!(use_color(Color::Always, false, Some(OsStr::new("1"))));
        assert!(!use_color(Color::Never, true, None));
    }
}
