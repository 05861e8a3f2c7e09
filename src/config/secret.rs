//! Passwords: where they come from, resolved only when needed, never printed.
//!
//! A [`Secret`] says where a password lives (an environment variable, a
//! file, a systemd credential, a command's output, or, discouraged, the
//! config file itself). [`Secret::resolve`] reads it when called; the
//! daemon calls it once, when it builds a persona's channels at start, so a
//! rotated password needs a restart. The value is held
//! in a [`SecretString`], whose `Debug` and `Display` print `[redacted]`;
//! no error in this module contains a secret value or a command's stdout.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// How much of a failing command's stderr is kept in the error.
const STDERR_LIMIT: usize = 1000;

/// A secret value. `Debug` and `Display` print `[redacted]`; use
/// [`SecretString::expose`] at the one place the value is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        SecretString(value)
    }

    /// The secret value itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where a password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// Written in the config file (accepted with a warning).
    Inline(SecretString),
    /// The named environment variable.
    Env(String),
    /// The contents of a file, minus one trailing newline.
    File(PathBuf),
    /// A systemd credential: the file `$CREDENTIALS_DIRECTORY/<name>`.
    Credential(String),
    /// The stdout of a command (program and arguments, no shell), minus one
    /// trailing newline.
    Command(Vec<String>),
}

/// Why a secret could not be resolved. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("environment variable `{name}` is not set")]
    EnvUnset {
        /// The variable's name.
        name: String,
    },
    /// A secret file could not be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The read error.
        source: io::Error,
    },
    /// A credential was asked for outside a systemd unit with credentials.
    #[error(
        "credential `{name}` needs $CREDENTIALS_DIRECTORY, which is not set (see systemd LoadCredential=)"
    )]
    NoCredentialsDirectory {
        /// The credential's name.
        name: String,
    },
    /// A credential file could not be read.
    #[error("cannot read credential `{name}` from {}: {source}", path.display())]
    Credential {
        /// The credential's name.
        name: String,
        /// The file it was looked for in.
        path: PathBuf,
        /// The read error.
        source: io::Error,
    },
    /// The secret command has no program.
    #[error("the secret command is empty")]
    EmptyCommand,
    /// The secret command could not be started.
    #[error("cannot run secret command `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The spawn error.
        source: io::Error,
    },
    /// The secret command exited unsuccessfully.
    #[error("secret command `{program}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The program.
        program: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its stderr, trimmed and shortened; stdout is never kept.
        stderr: String,
    },
    /// The secret is not valid UTF-8.
    #[error("the secret from {source_name} is not valid UTF-8")]
    NotUnicode {
        /// Where it came from, e.g. `environment variable PASS`.
        source_name: String,
    },
    /// The secret is empty.
    #[error("the secret from {source_name} is empty")]
    Empty {
        /// Where it came from, e.g. `environment variable PASS`.
        source_name: String,
    },
}

impl Secret {
    /// Reads the secret now, from the process environment and file system.
    ///
    /// This blocks (file reads, running a command): call it from
    /// `tokio::task::spawn_blocking` in async code.
    pub fn resolve(&self) -> Result<SecretString, SecretError> {
        self.resolve_with(&|name| std::env::var_os(name))
    }

    /// Like [`Secret::resolve`], with the environment given as a lookup
    /// function (tests use this instead of mutating the process environment).
    pub fn resolve_with(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<SecretString, SecretError> {
        let (value, source_name) = match self {
            Secret::Inline(s) => return Ok(s.clone()),
            Secret::Env(name) => {
                let value =
                    env(name).ok_or_else(|| SecretError::EnvUnset { name: name.clone() })?;
                let value = value.into_string().map_err(|_| SecretError::NotUnicode {
                    source_name: format!("environment variable {name}"),
                })?;
                (value, format!("environment variable {name}"))
            }
            Secret::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                })?;
                (utf8(bytes, path)?, format!("file {}", path.display()))
            }
            Secret::Credential(name) => {
                let path = credential_path(name, env)?;
                let bytes = std::fs::read(&path).map_err(|source| SecretError::Credential {
                    name: name.clone(),
                    path: path.clone(),
                    source,
                })?;
                (utf8(bytes, &path)?, format!("credential {name}"))
            }
            Secret::Command(argv) => run(argv)?,
        };
        let value = strip_one_newline(value);
        if value.is_empty() {
            return Err(SecretError::Empty { source_name });
        }
        Ok(SecretString(value))
    }
}

fn credential_path(
    name: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, SecretError> {
    let dir = env("CREDENTIALS_DIRECTORY")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| SecretError::NoCredentialsDirectory {
            name: name.to_string(),
        })?;
    Ok(PathBuf::from(dir).join(name))
}

fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String, SecretError> {
    String::from_utf8(bytes).map_err(|_| SecretError::NotUnicode {
        source_name: format!("file {}", path.display()),
    })
}

/// Runs a secret command; returns its stdout and a description of it.
fn run(argv: &[String]) -> Result<(String, String), SecretError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(SecretError::EmptyCommand);
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| SecretError::Spawn {
            program: program.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr: String = stderr.trim().chars().take(STDERR_LIMIT).collect();
        return Err(SecretError::CommandFailed {
            program: program.clone(),
            status: output.status,
            stderr,
        });
    }
    let source_name = format!("command {program}");
    let stdout = String::from_utf8(output.stdout).map_err(|_| SecretError::NotUnicode {
        source_name: source_name.clone(),
    })?;
    Ok((stdout, source_name))
}

fn strip_one_newline(mut value: String) -> String {
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "hunter2-Sup3rSecret";

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    fn assert_hidden(text: &str) {
        assert!(!text.contains(VALUE), "secret leaked into: {text}");
        assert!(!text.contains("hunter2"), "secret leaked into: {text}");
    }

    #[test]
    fn inline_resolves_and_is_redacted() {
        let s = Secret::Inline(SecretString::new(VALUE.into()));
        assert_hidden(&format!("{s:?}"));
        let v = s.resolve_with(&no_env).unwrap();
        assert_eq!(v.expose(), VALUE);
        assert_eq!(format!("{v}"), "[redacted]");
        assert_eq!(format!("{v:?}"), "[redacted]");
    }

    #[test]
    fn env_resolves_from_the_given_lookup() {
        let s = Secret::Env("PROBE_PW".into());
        let env = |name: &str| (name == "PROBE_PW").then(|| OsString::from(VALUE));
        assert_eq!(s.resolve_with(&env).unwrap().expose(), VALUE);
        let err = s.resolve_with(&no_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable `PROBE_PW` is not set"
        );
    }

    #[test]
    fn an_empty_env_value_is_an_error() {
        let s = Secret::Env("PROBE_PW".into());
        let err = s.resolve_with(&|_| Some(OsString::new())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the secret from environment variable PROBE_PW is empty"
        );
    }

    #[test]
    fn file_loses_exactly_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, format!("{VALUE}\n\n")).unwrap();
        let s = Secret::File(path.clone());
        assert_eq!(
            s.resolve_with(&no_env).unwrap().expose(),
            format!("{VALUE}\n")
        );
        std::fs::write(&path, format!("{VALUE}\r\n")).unwrap();
        assert_eq!(s.resolve_with(&no_env).unwrap().expose(), VALUE);
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent");
        let err = Secret::File(path.clone())
            .resolve_with(&no_env)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&format!("cannot read secret file {}: ", path.display())));
    }

    #[test]
    fn credential_reads_from_the_credentials_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("imap-password"), format!("{VALUE}\n")).unwrap();
        let dir_os = dir.path().as_os_str().to_owned();
        let env = move |name: &str| (name == "CREDENTIALS_DIRECTORY").then(|| dir_os.clone());
        let s = Secret::Credential("imap-password".into());
        assert_eq!(s.resolve_with(&env).unwrap().expose(), VALUE);
        let err = s.resolve_with(&no_env).unwrap_err();
        assert!(matches!(err, SecretError::NoCredentialsDirectory { .. }));
        assert!(err.to_string().contains("$CREDENTIALS_DIRECTORY"));
    }

    #[test]
    fn command_stdout_is_the_secret() {
        let s = Secret::Command(vec!["printf".into(), format!("{VALUE}\n")]);
        assert_eq!(s.resolve_with(&no_env).unwrap().expose(), VALUE);
    }

    #[test]
    fn a_failing_command_reports_status_and_stderr_but_not_stdout() {
        let script = format!("echo {VALUE}; echo 'vault is sealed' >&2; exit 3");
        let s = Secret::Command(vec!["sh".into(), "-c".into(), script]);
        let err = s.resolve_with(&no_env).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("vault is sealed"), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.starts_with("secret command `sh` failed"), "{text}");
        assert_hidden(&text);
        assert_hidden(&format!("{err:?}"));
    }

    #[test]
    fn a_missing_program_is_reported() {
        let s = Secret::Command(vec!["/nonexistent/secret-helper".into()]);
        let err = s.resolve_with(&no_env).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot run secret command `/nonexistent/secret-helper`: ")
        );
        let empty = Secret::Command(vec![]).resolve_with(&no_env).unwrap_err();
        assert!(matches!(empty, SecretError::EmptyCommand));
    }
}
