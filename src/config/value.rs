//! Values several sections share, their shape and their check: a secret as
//! written ([`RawSecret`], deserialized by hand) and checked into a
//! [`Secret`], durations, absolute paths and loopback hosts. A leaf of the
//! config module: `raw`, `api` and `validate` all use it, it uses none of them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::duration::parse_duration;
use super::error::{Reporter, offset_in_string};
use super::secret::{Secret, SecretString};

/// A password as written: a string (inline) or a one-key table naming where
/// it lives. Deserialized by hand so that no error message ever repeats a
/// value written in the `password` key.
pub(super) enum RawSecret {
    Inline(String),
    Env(String),
    File(PathBuf),
    Credential(String),
    Command(Vec<String>),
}

const SECRET_KINDS: [&str; 4] = ["env", "file", "credential", "command"];

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn wrong_type<E: de::Error>(&self, found: &str) -> E {
        E::custom(format!(
            "invalid type: {found}, expected {}",
            self.describe()
        ))
    }

    fn describe(&self) -> &'static str {
        "a table such as { env = \"NAME\" }, { file = \"/path\" }, { credential = \"name\" }, \
         { command = [\"prog\", \"arg\"] } or a string"
    }
}

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = RawSecret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSecret, E> {
        Ok(RawSecret::Inline(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawSecret, E> {
        Err(self.wrong_type("boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawSecret, E> {
        Err(self.wrong_type("integer"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawSecret, E> {
        Err(self.wrong_type("integer"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawSecret, E> {
        Err(self.wrong_type("float"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<RawSecret, A::Error> {
        Err(self.wrong_type("array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSecret, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(self.wrong_type("empty table"));
        };
        let secret = match kind.as_str() {
            "env" => RawSecret::Env(map.next_value()?),
            "file" => RawSecret::File(map.next_value()?),
            "credential" => RawSecret::Credential(map.next_value()?),
            "command" => RawSecret::Command(map.next_value()?),
            _ => return Err(de::Error::unknown_field(&kind, &SECRET_KINDS)),
        };
        if map.next_key::<String>()?.is_some() {
            return Err(de::Error::custom(
                "a password table takes exactly one of env, file, credential, command",
            ));
        }
        Ok(secret)
    }
}

/// Whether `host` names this machine (plain text to it stays local).
pub(super) fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "::1" | "[::1]" | "localhost")
}

/// A secret as written, checked: where it lives, and a warning for one
/// written inline.
pub(super) fn secret(rep: &mut Reporter<'_>, raw: Spanned<RawSecret>) -> Secret {
    let at = raw.span().start;
    match raw.into_inner() {
        RawSecret::Inline(value) => {
            if value.is_empty() {
                rep.error(at, "password must not be empty");
            } else {
                rep.warn(
                    at,
                    "password written in the config file, prefer { env = \"NAME\" }, \
                     { file = \"/path\" } or { credential = \"name\" }",
                );
            }
            Secret::Inline(SecretString::new(value))
        }
        RawSecret::Env(name) => {
            if name.is_empty() || name.contains(['=', '\0']) {
                rep.error(at, format!("invalid environment variable name `{name}`"));
            }
            Secret::Env(name)
        }
        RawSecret::File(path) => {
            if !path.is_absolute() {
                rep.error(
                    at,
                    format!(
                        "password file must be an absolute path, not `{}`",
                        path.display()
                    ),
                );
            }
            Secret::File(path)
        }
        RawSecret::Credential(name) => {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                rep.error(
                    at,
                    format!("invalid credential name `{name}`, it must be a plain file name"),
                );
            }
            Secret::Credential(name)
        }
        RawSecret::Command(argv) => {
            if argv.first().is_none_or(String::is_empty) {
                rep.error(at, "password command must name a program");
            }
            Secret::Command(argv)
        }
    }
}

/// A duration value that must satisfy `ok` (else `rule` is reported), or
/// `default` when the key is absent. After a reported mistake `default` is
/// returned too; the config is discarded then.
pub(super) fn duration(
    rep: &mut Reporter<'_>,
    value: Option<&Spanned<String>>,
    default: Duration,
    ok: fn(Duration) -> bool,
    rule: &str,
) -> Duration {
    let Some(value) = value else {
        return default;
    };
    match parse_duration(value.get_ref()) {
        Ok(d) if ok(d) => d,
        Ok(_) => {
            rep.error(value.span().start, rule);
            default
        }
        Err(e) => {
            let fragment = value.get_ref().get(e.position..).unwrap_or_default();
            let fragment: String = fragment.chars().take(1).collect();
            let text = value.get_ref();
            let at = offset_in_string(rep.text(), value.span(), text, e.position, &fragment);
            rep.error(at, format!("invalid duration `{text}`: {}", e.kind));
            default
        }
    }
}

/// A path that must be absolute; `key` names it in the error.
pub(super) fn absolute(rep: &mut Reporter<'_>, key: &str, path: Spanned<PathBuf>) -> PathBuf {
    if !path.get_ref().is_absolute() {
        rep.error(
            path.span().start,
            format!(
                "{key} must be an absolute path, not `{}`",
                path.get_ref().display()
            ),
        );
    }
    path.into_inner()
}
