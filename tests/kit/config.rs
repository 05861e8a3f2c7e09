//! The probe configuration the mail tests use, and reading the stack's timestamps.

use std::path::Path;

use jiff::Timestamp;

use super::{FetchedMail, MailStack};

/// Probes for [`config_text`]: acme through dana and eve, and one to an address that bounces.
pub const DEFAULT_PROBES: &str = r#"
[[probe]]
name = "acme-dana"
vendor = "acme"
persona = "dana"
schedule = "0 30 2 * * *"
zones = ["Europe/Berlin"]
subject = "Support test {token}"
body = "Hello {vendor}, this is a scheduled support-response test."

[[probe]]
name = "acme-eve"
vendor = "acme"
persona = "eve"
schedule = "0 30 2 * * *"
zones = ["UTC"]
token-in = "body"
subject = "Support test from Eve"
body = "Hello, this is a scheduled support-response test."

[[probe]]
name = "gone-dana"
vendor = "gone"
persona = "dana"
schedule = "0 30 2 * * *"
zones = ["UTC"]
subject = "Support test {token}"
body = "Hello, this is a scheduled support-response test."
"#;

/// The `[[persona]]` block of dana: STARTTLS submission and IMAPS on the
/// stack, her password in a file under `dir`.
pub fn dana_persona(stack: &MailStack, dir: &Path) -> String {
    let pw = dir.join("dana@probe.test.pw");
    std::fs::write(&pw, stack.password("dana@probe.test")).unwrap();
    format!(
        r#"
[[persona]]
name = "dana"
display-name = "Dana Probe"
address = "dana@probe.test"
[persona.smtp]
host = "127.0.0.1"
port = {sub}
security = "starttls"
username = "dana@probe.test"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
[persona.imap]
host = "127.0.0.1"
port = {imaps}
security = "tls"
username = "dana@probe.test"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
"#,
        sub = stack.smtp_submission_port,
        imaps = stack.imaps_port,
        pw = pw.display(),
        ca = stack.ca_file.display(),
    )
}

/// A config for the stack: persona dana (STARTTLS submission, IMAPS) and
/// eve (implicit-TLS SMTP, IMAP with STARTTLS); vendor acme (a helpdesk
/// at support@vendor.test), vendor gone (an address that bounces).
pub fn config_text(stack: &MailStack, dir: &Path, probes: &str) -> String {
    let eve = dir.join("eve@probe.test.pw");
    std::fs::write(&eve, stack.password("eve@probe.test")).unwrap();
    let eve = eve.display();
    let ca = stack.ca_file.display();
    let dana = dana_persona(stack, dir);
    format!(
        r#"
[daemon]
filing-retry-window = "2s"

[[vendor]]
name = "acme"
addresses = ["support@vendor.test"]
helpdesk = "freshdesk"
caps = {{ per-day = 2, per-week = 10 }}

[[vendor]]
name = "gone"
addresses = ["nobody@gone.test"]
{dana}
[[persona]]
name = "eve"
display-name = "Eve Probe"
address = "eve@probe.test"
[persona.smtp]
host = "127.0.0.1"
port = {smtps}
security = "tls"
username = "eve@probe.test"
password = {{ file = "{eve}" }}
ca-file = "{ca}"
[persona.imap]
host = "127.0.0.1"
port = {imap}
security = "starttls"
username = "eve@probe.test"
password = {{ file = "{eve}" }}
ca-file = "{ca}"

{probes}
"#,
        smtps = stack.smtp_tls_port,
        imap = stack.imap_port,
    )
}

/// INTERNALDATE as the test's own IMAP client read it, e.g. `23-Nov-2026 03:10:11 +0000`.
pub fn internaldate(m: &FetchedMail) -> Timestamp {
    jiff::fmt::strtime::parse("%d-%b-%Y %H:%M:%S %z", m.internaldate.trim())
        .unwrap()
        .to_timestamp()
        .unwrap()
}
