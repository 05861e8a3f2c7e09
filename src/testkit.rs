//! Fixtures the unit tests share (compiled for tests only).
//!
//! The integration tests and benches have their own kit under `tests/kit/`;
//! this one serves the `#[cfg(test)]` modules inside the crate.

/// The `[[persona]]` table of an email persona on loopback whose passwords
/// are never read: `extra` lines (e.g. `region = "eu"`) go into the table.
pub(crate) fn persona_toml(name: &str, display_name: &str, address: &str, extra: &str) -> String {
    let mut extra = extra.trim_end().to_string();
    if !extra.is_empty() {
        extra.push('\n');
    }
    format!(
        r#"
[[persona]]
name = "{name}"
display-name = "{display_name}"
address = "{address}"
{extra}[persona.smtp]
host = "127.0.0.1"
port = 25
security = "insecure"
username = "{name}"
password = {{ env = "PROBE_TEST_UNUSED" }}
[persona.imap]
host = "127.0.0.1"
port = 143
security = "insecure"
username = "{name}"
password = {{ env = "PROBE_TEST_UNUSED" }}
"#
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_persona_table_parses_with_its_extra_lines() {
        let text = format!(
            "[[vendor]]\nname = \"acme\"\naddresses = [\"support@acme.example\"]\n{}",
            super::persona_toml("dana", "Dana", "dana@probe.example", "region = \"eu\"")
        );
        let config = crate::config::parse_str(&text, std::path::Path::new("t.toml"))
            .unwrap()
            .config;
        let p = config.persona("dana").unwrap();
        assert_eq!(p.region.as_deref(), Some("eu"));
        assert_eq!(p.address, "dana@probe.example");
    }
}
