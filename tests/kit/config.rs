//! Probe configs for the tests and benchmarks, built as TOML text from a
//! small builder ([`ConfigText`]) with defaults, and the persona blocks they
//! share: offline personas whose servers are never contacted, personas of
//! the test mail stack (dana, eve, or any account), and ticket-API personas.
//! Also reading the stack's timestamps.

use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;

use super::fake_api::{Flavor, HELPY_SPEC};
use super::{FetchedMail, MailStack};

/// A config file's text, assembled in TOML's order: top-level keys, then
/// tables (`[daemon]`, `[report]`, ...), vendors, personas and probes; a
/// blank line after each table or entry.
#[derive(Debug, Clone, Default)]
pub struct ConfigText {
    top: String,
    sections: String,
    vendors: String,
    personas: String,
    probes: String,
}

impl ConfigText {
    pub fn new() -> Self {
        Self::default()
    }

    /// A top-level key such as `enabled = false`.
    pub fn top(mut self, line: &str) -> Self {
        self.top.push_str(line);
        self.top.push('\n');
        self
    }

    /// `text` ending in one line break and a blank line.
    fn entry(text: &str) -> String {
        format!("{}\n\n", text.trim_end_matches('\n'))
    }

    /// A table of its own (`[daemon]`, `[report]`, `[digest]`, ...), as TOML text.
    pub fn section(mut self, text: &str) -> Self {
        self.sections.push_str(&Self::entry(text));
        self
    }

    pub fn vendor(mut self, vendor: Vendor) -> Self {
        self.vendors.push_str(&vendor.text());
        self
    }

    /// A `[[persona]]` block, as one of this module's persona functions makes it.
    pub fn persona(mut self, text: &str) -> Self {
        self.personas.push_str(&Self::entry(text));
        self
    }

    pub fn probe(mut self, probe: Probe) -> Self {
        self.probes.push_str(&probe.text());
        self
    }

    /// `[[probe]]` entries as TOML text, as they are.
    pub fn probes(mut self, text: &str) -> Self {
        self.probes.push_str(text);
        self
    }

    pub fn build(&self) -> String {
        let top = if self.top.is_empty() {
            String::new()
        } else {
            Self::entry(&self.top)
        };
        format!(
            "{top}{}{}{}{}",
            self.sections, self.vendors, self.personas, self.probes
        )
    }
}

/// A `[[vendor]]` entry.
#[derive(Debug, Clone)]
pub struct Vendor {
    name: String,
    addresses: Vec<String>,
    helpdesk: Option<String>,
    caps: Option<(u32, u32)>,
    extra: String,
}

impl Vendor {
    /// Vendor `name` with no addresses (an API vendor), no helpdesk and the default caps.
    pub fn new(name: &str) -> Self {
        Vendor {
            name: name.into(),
            addresses: Vec::new(),
            helpdesk: None,
            caps: None,
            extra: String::new(),
        }
    }

    pub fn address(mut self, address: &str) -> Self {
        self.addresses.push(address.into());
        self
    }

    pub fn helpdesk(mut self, helpdesk: &str) -> Self {
        self.helpdesk = Some(helpdesk.into());
        self
    }

    pub fn caps(mut self, per_day: u32, per_week: u32) -> Self {
        self.caps = Some((per_day, per_week));
        self
    }

    /// More of the entry as TOML text (keys, or its sub-tables such as
    /// `[vendor.business-hours]`), after the keys above.
    pub fn extra(mut self, text: &str) -> Self {
        self.extra.push_str(text);
        self
    }

    pub fn text(&self) -> String {
        let mut t = format!("[[vendor]]\nname = \"{}\"\n", self.name);
        if !self.addresses.is_empty() {
            let list: Vec<String> = self.addresses.iter().map(|a| format!("\"{a}\"")).collect();
            let _ = writeln!(t, "addresses = [{}]", list.join(", "));
        }
        if let Some(h) = &self.helpdesk {
            let _ = writeln!(t, "helpdesk = \"{h}\"");
        }
        if let Some((day, week)) = self.caps {
            let _ = writeln!(t, "caps = {{ per-day = {day}, per-week = {week} }}");
        }
        t.push_str(&self.extra);
        ConfigText::entry(&t)
    }
}

/// A `[[probe]]` entry; by default daily at 02:30 UTC, subject
/// `Support test {token}`.
#[derive(Debug, Clone)]
pub struct Probe {
    name: String,
    vendor: String,
    persona: String,
    schedule: String,
    zones: Vec<String>,
    subject: String,
    body: String,
    extra: String,
}

impl Probe {
    pub fn new(name: &str, vendor: &str, persona: &str) -> Self {
        Probe {
            name: name.into(),
            vendor: vendor.into(),
            persona: persona.into(),
            schedule: "0 30 2 * * *".into(),
            zones: vec!["UTC".into()],
            subject: "Support test {token}".into(),
            body: "Hello, this is a scheduled support-response test.".into(),
            extra: String::new(),
        }
    }

    /// A probe that never fires by itself (New Year's Day, 03:00 UTC).
    pub fn never(name: &str, vendor: &str, persona: &str) -> Self {
        Probe::new(name, vendor, persona).schedule("0 0 3 1 1 *")
    }

    pub fn schedule(mut self, cron: &str) -> Self {
        self.schedule = cron.into();
        self
    }

    pub fn zones(mut self, zones: &[&str]) -> Self {
        self.zones = zones.iter().map(|z| (*z).into()).collect();
        self
    }

    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = subject.into();
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    /// A further key as a TOML line (`answer-within = "2d"`, `token-in = "body"`, ...).
    pub fn line(mut self, line: &str) -> Self {
        self.extra.push_str(line);
        self.extra.push('\n');
        self
    }

    pub fn text(&self) -> String {
        let zones: Vec<String> = self.zones.iter().map(|z| format!("\"{z}\"")).collect();
        format!(
            "[[probe]]\nname = \"{}\"\nvendor = \"{}\"\npersona = \"{}\"\nschedule = \"{}\"\n\
             zones = [{}]\n{}subject = \"{}\"\nbody = \"{}\"\n\n",
            self.name,
            self.vendor,
            self.persona,
            self.schedule,
            zones.join(", "),
            self.extra,
            self.subject,
            self.body,
        )
    }
}

/// The environment variable offline personas name for their password:
/// never set, never read.
pub const UNUSED_ENV: &str = "PROBE_TEST_UNUSED";

/// A persona on servers that are never contacted (SMTP 127.0.0.1:25, IMAP
/// :143, plain, login `dana`, the password in an unset variable): for tests
/// that parse a config, render from a store or bring their own channels.
/// `extra` is more of the entry (`region = "eu"`) as TOML lines.
pub fn offline_persona(name: &str, display_name: &str, address: &str, extra: &str) -> String {
    format!(
        r#"[[persona]]
name = "{name}"
display-name = "{display_name}"
address = "{address}"
{extra}[persona.smtp]
host = "127.0.0.1"
port = 25
security = "insecure"
username = "dana"
password = {{ env = "{UNUSED_ENV}" }}
[persona.imap]
host = "127.0.0.1"
port = 143
security = "insecure"
username = "dana"
password = {{ env = "{UNUSED_ENV}" }}
"#
    )
}

/// An account of the test mail stack as a persona: how it submits and reads.
#[derive(Debug, Clone)]
pub struct MailPersona {
    pub name: String,
    pub display_name: String,
    pub address: String,
    /// SMTP port and security (`starttls`, `tls`, `insecure`).
    pub smtp: (u16, &'static str),
    /// IMAP port and security.
    pub imap: (u16, &'static str),
    /// `idle = ...` for IMAP, when set.
    pub idle: Option<bool>,
}

impl MailPersona {
    /// Submission with STARTTLS, IMAPS.
    pub fn new(stack: &MailStack, name: &str, display_name: &str, address: &str) -> Self {
        MailPersona {
            name: name.into(),
            display_name: display_name.into(),
            address: address.into(),
            smtp: (stack.smtp_submission_port, "starttls"),
            imap: (stack.imaps_port, "tls"),
            idle: None,
        }
    }

    /// The `[[persona]]` block; the password goes to a file under `dir`.
    pub fn text(&self, stack: &MailStack, dir: &Path) -> String {
        let pw = dir.join(format!("{}.pw", self.address));
        std::fs::write(&pw, stack.password(&self.address)).unwrap();
        let pw = pw.display();
        let ca = stack.ca_file.display();
        let idle = self
            .idle
            .map(|i| format!("idle = {i}\n"))
            .unwrap_or_default();
        format!(
            r#"[[persona]]
name = "{name}"
display-name = "{display}"
address = "{address}"
[persona.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "{smtp_security}"
username = "{address}"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
[persona.imap]
host = "127.0.0.1"
port = {imap_port}
security = "{imap_security}"
username = "{address}"
password = {{ file = "{pw}" }}
ca-file = "{ca}"
{idle}"#,
            name = self.name,
            display = self.display_name,
            address = self.address,
            smtp_port = self.smtp.0,
            smtp_security = self.smtp.1,
            imap_port = self.imap.0,
            imap_security = self.imap.1,
        )
    }
}

/// dana of the stack: STARTTLS submission and IMAPS, her password in a file under `dir`.
pub fn dana_persona(stack: &MailStack, dir: &Path) -> String {
    MailPersona::new(stack, "dana", "Dana Probe", "dana@probe.test").text(stack, dir)
}

/// eve of the stack: implicit-TLS SMTP and IMAP with STARTTLS.
pub fn eve_persona(stack: &MailStack, dir: &Path) -> String {
    MailPersona {
        smtp: (stack.smtp_tls_port, "tls"),
        imap: (stack.imap_port, "starttls"),
        ..MailPersona::new(stack, "eve", "Eve Probe", "eve@probe.test")
    }
    .text(stack, dir)
}

/// A ticket-API persona: `api` is the body of its `[persona.api]` table.
pub fn api_persona(name: &str, display_name: &str, address: &str, api: &str) -> String {
    format!(
        "[[persona]]\nname = \"{name}\"\ndisplay-name = \"{display_name}\"\naddress = \"{address}\"\n\n\
         [persona.api]\n{api}"
    )
}

/// The `[persona.api]` keys of a preset `flavor` against a fake at `base`:
/// `token` is the token's TOML value (`{ env = "..." }`, `{ file = "..." }`),
/// `extra` more keys as TOML lines (before the generic spec's tables).
pub fn api_table(flavor: Flavor, base: &str, token: &str, extra: &str) -> String {
    match flavor {
        Flavor::Zendesk => format!(
            "preset = \"zendesk\"\nbase-url = \"{base}\"\nusername = \"dana@probe.example/token\"\n\
             token = {token}\nparams = {{ bot_user_ids = \"900,901\" }}\n{extra}"
        ),
        Flavor::Jsm => format!(
            "preset = \"jsm\"\nbase-url = \"{base}\"\nusername = \"dana@probe.example\"\n\
             token = {token}\nparams = {{ service_desk_id = \"1\", request_type_id = \"7\", \
             account_id = \"acc-us\", automation_account_ids = \"acc-bot\" }}\n{extra}"
        ),
        Flavor::Github => format!(
            "preset = \"github\"\nbase-url = \"{base}\"\ntoken = {token}\n\
             params = {{ owner = \"acme\", repo = \"support\", user = \"dana-probe\", org = \"acme\" }}\n{extra}"
        ),
        Flavor::Slack => format!(
            "preset = \"slack\"\nbase-url = \"{base}\"\ntoken = {token}\n\
             params = {{ channel = \"C0SHARED\", user_id = \"U0US\", team_id = \"T0US\" }}\n{extra}"
        ),
        Flavor::Helpy => format!(
            "preset = \"generic\"\nbase-url = \"{base}\"\nauth = \"header:X-Helpy-Key\"\n\
             token = {token}\nparams = {{ me = \"cust-1\" }}\n{extra}\n{HELPY_SPEC}"
        ),
    }
}

/// `n` vendors `vendor-00`.. with business hours in Berlin and a 4 h P1
/// target, reported in Berlin, and an offline persona `dana`: the config of
/// the 50-vendor digest and status page measures and tests.
pub fn business_vendors(n: usize) -> String {
    let mut text = ConfigText::new().section("[report]\nzone = \"Europe/Berlin\"");
    for v in 0..n {
        text = text.vendor(
            Vendor::new(&format!("vendor-{v:02}"))
                .address(&format!("support@v{v}.example"))
                .extra(
                    "[vendor.business-hours]\nzone = \"Europe/Berlin\"\n\
                     days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nhours = [\"09:00-17:00\"]\n\
                     [vendor.sla]\nP1 = \"4h\"\n",
                ),
        );
    }
    text.persona(&offline_persona("dana", "Dana", "dana@probe.example", ""))
        .build()
}

/// Probes for [`config_text`]: acme through dana and eve, and one to an address that bounces.
pub fn default_probes() -> String {
    ConfigText::new()
        .probe(
            Probe::new("acme-dana", "acme", "dana")
                .zones(&["Europe/Berlin"])
                .body("Hello {vendor}, this is a scheduled support-response test."),
        )
        .probe(
            Probe::new("acme-eve", "acme", "eve")
                .line("token-in = \"body\"")
                .subject("Support test from Eve"),
        )
        .probe(Probe::new("gone-dana", "gone", "dana"))
        .build()
}

/// The stack's config without probes: persona dana (STARTTLS submission,
/// IMAPS) and eve (implicit-TLS SMTP, IMAP with STARTTLS); vendor acme (a
/// helpdesk at support@vendor.test), vendor gone (an address that bounces).
pub fn stack_config(stack: &MailStack, dir: &Path) -> ConfigText {
    ConfigText::new()
        .section("[daemon]\nfiling-retry-window = \"2s\"")
        .vendor(
            Vendor::new("acme")
                .address("support@vendor.test")
                .helpdesk("freshdesk")
                .caps(2, 10),
        )
        .vendor(Vendor::new("gone").address("nobody@gone.test"))
        .persona(&dana_persona(stack, dir))
        .persona(&eve_persona(stack, dir))
}

/// [`stack_config`] with `probes` (TOML `[[probe]]` text).
pub fn config_text(stack: &MailStack, dir: &Path, probes: &str) -> String {
    stack_config(stack, dir).probes(probes).build()
}

/// INTERNALDATE as the test's own IMAP client read it, e.g. `23-Nov-2026 03:10:11 +0000`.
pub fn internaldate(m: &FetchedMail) -> Timestamp {
    jiff::fmt::strtime::parse("%d-%b-%Y %H:%M:%S %z", m.internaldate.trim())
        .unwrap()
        .to_timestamp()
        .unwrap()
}
