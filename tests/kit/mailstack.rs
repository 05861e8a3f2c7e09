//! The real mail server of the integration tests: a private Postfix + Dovecot on loopback,
//! run by `scripts/mailstack`, and tiny blocking SMTP and IMAP clients (std only) to put mail
//! into it and read mail out of it the way a remote MTA and a mail client would.
//!
//! Which stack a test binary uses is decided once, by [`MailStack::shared`]:
//! - `scripts/test` (the project's test command) starts one stack for the whole run and
//!   exports `SUPPORT_PROBE_MAILSTACK=<dir>/env`; every test binary then uses that one and
//!   `scripts/test` stops it when cargo is done.
//! - Without that variable (a bare `cargo test`), the first call runs
//!   `scripts/mailstack start <temp dir>` for this test binary alone. A Rust static is never
//!   dropped, so the stack cannot be stopped from a destructor; instead a small "lifeline"
//!   shell waits on a pipe that only this process holds open. When the test process exits in
//!   any way (pass, panic, abort, kill), the pipe closes and the lifeline runs
//!   `scripts/mailstack stop` and deletes the directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable that names the `env` file of a running stack.
pub const ENV_VAR: &str = "SUPPORT_PROBE_MAILSTACK";

/// Every listener of the stack is on this address (IPv4 only).
pub const HOST: &str = "127.0.0.1";

/// How long one network read or write may block before the helpers give up.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// How often [`MailStack::wait_for`] looks at the mailbox again.
const POLL_STEP: Duration = Duration::from_millis(50);

/// A running mail stack, as described by the `env` file that `scripts/mailstack start` writes.
#[derive(Debug)]
pub struct MailStack {
    /// The directory holding the stack's configuration, mail, logs and `env` file.
    pub dir: PathBuf,
    /// SMTP without AUTH that accepts mail for the test domains, as a remote MX would.
    pub smtp_plain_port: u16,
    /// SMTP submission: STARTTLS is required, then AUTH is required.
    pub smtp_submission_port: u16,
    /// SMTP over implicit TLS (wrapper mode); AUTH is required.
    pub smtp_tls_port: u16,
    /// IMAP, plain or with STARTTLS; LOGIN is allowed without TLS.
    pub imap_port: u16,
    /// IMAP over implicit TLS.
    pub imaps_port: u16,
    /// The CA that signed the servers' certificate (SAN: localhost, 127.0.0.1).
    pub ca_file: PathBuf,
    /// Every user's password is this prefix followed by the user's local part.
    password_prefix: String,
    /// The lifeline of a stack this process started itself; kept only so its pipe stays open.
    lifeline: Option<Child>,
}

/// One message read back over IMAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMail {
    /// The message's IMAP UID in its mailbox.
    pub uid: u32,
    /// The IMAP INTERNALDATE (delivery time), e.g. `23-Nov-2026 02:56:51 +0000`.
    pub internaldate: String,
    /// The whole message as stored, headers and body, with CRLF line ends.
    pub raw: Vec<u8>,
}

impl FetchedMail {
    /// The message as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The unfolded value of the first header field called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(found) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    found.push(' ');
                    found.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((field, rest)) = line.split_once(':')
                && field.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_owned());
            }
        }
        value
    }
}

impl MailStack {
    /// The stack for this test binary: the one named by `SUPPORT_PROBE_MAILSTACK` (set by
    /// `scripts/test`), otherwise one started for this process alone (see the module docs).
    ///
    /// Panics with instructions when neither works, since no mail test can run then.
    pub fn shared() -> &'static MailStack {
        static STACK: OnceLock<MailStack> = OnceLock::new();
        STACK.get_or_init(|| {
            let found = match std::env::var_os(ENV_VAR) {
                Some(env_file) => MailStack::from_env_file(Path::new(&env_file)),
                None => MailStack::start_private(),
            };
            match found {
                Ok(stack) => stack,
                Err(error) => panic!(
                    "no mail stack for the tests: {error}\nrun scripts/test, or run \
                     `scripts/mailstack start DIR` and export {ENV_VAR}=DIR/env"
                ),
            }
        })
    }

    /// Reads the `env` file that `scripts/mailstack start` wrote.
    pub fn from_env_file(path: &Path) -> Result<MailStack, String> {
        let get = env_file(path)?;
        let port = |key: &str| -> Result<u16, String> {
            let value = get(key)?;
            value
                .parse()
                .map_err(|e| format!("{key}={value} in {} is no port: {e}", path.display()))
        };
        Ok(MailStack {
            dir: PathBuf::from(get("MAILSTACK_DIR")?),
            smtp_plain_port: port("SMTP_PLAIN_PORT")?,
            smtp_submission_port: port("SMTP_SUBMISSION_PORT")?,
            smtp_tls_port: port("SMTP_TLS_PORT")?,
            imap_port: port("IMAP_PORT")?,
            imaps_port: port("IMAPS_PORT")?,
            ca_file: PathBuf::from(get("CA_FILE")?),
            password_prefix: get("MAILSTACK_PASSWORD_PREFIX")?,
            lifeline: None,
        })
    }

    /// Starts a stack in a fresh temporary directory for this process, with a lifeline that
    /// stops it when the process exits.
    fn start_private() -> Result<MailStack, String> {
        let (dir, lifeline) = start_private("mailstack", "mail", ENV_VAR, &[])?;
        let mut stack = MailStack::from_env_file(&dir.join("env"))?;
        stack.lifeline = Some(lifeline);
        Ok(stack)
    }

    /// The password of `user` (a full address such as `dana@probe.test`).
    pub fn password(&self, user: &str) -> String {
        let local = user.split('@').next().unwrap_or(user);
        format!("{}{local}", self.password_prefix)
    }

    /// Sends `raw` (an RFC 5322 message) over the plain SMTP port without AUTH, as a remote
    /// MTA would. Bare LF line ends become CRLF and lines starting with a dot are stuffed.
    /// An error carries the server's reply.
    pub fn deliver(&self, mail_from: &str, rcpt_to: &[&str], raw: &[u8]) -> Result<(), String> {
        let mut smtp = Smtp::connect(self.smtp_plain_port)?;
        smtp.expect(220, "greeting")?;
        smtp.command("EHLO remote-mta.test", 250)?;
        smtp.command(&format!("MAIL FROM:<{mail_from}>"), 250)?;
        for rcpt in rcpt_to {
            smtp.command(&format!("RCPT TO:<{rcpt}>"), 250)?;
        }
        smtp.command("DATA", 354)?;
        smtp.send(&dot_stuff(raw))?;
        smtp.expect(250, "end of DATA")?;
        smtp.command("QUIT", 221)?;
        Ok(())
    }

    /// Reads every message of `mailbox` of `user` over IMAP (LOGIN on the plain port), in UID
    /// order, without marking them seen.
    pub fn fetch_all(&self, user: &str, mailbox: &str) -> Result<Vec<FetchedMail>, String> {
        let mut imap = Imap::connect(self.imap_port)?;
        imap.command(&format!(
            "LOGIN {} {}",
            quote(user),
            quote(&self.password(user))
        ))?;
        imap.command(&format!("SELECT {}", quote(mailbox)))?;
        let uids = imap
            .command("UID SEARCH ALL")?
            .iter()
            .filter_map(|response| {
                response
                    .first_text()
                    .strip_prefix("* SEARCH")
                    .map(str::to_owned)
            })
            .flat_map(|rest| {
                rest.split_whitespace()
                    .filter_map(|uid| uid.parse::<u32>().ok())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        let mut mails = Vec::with_capacity(uids.len());
        if !uids.is_empty() {
            let set = uids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            for response in
                imap.command(&format!("UID FETCH {set} (UID INTERNALDATE BODY.PEEK[])"))?
            {
                if response.first_text().contains(" FETCH (") {
                    mails.push(response.fetched_mail()?);
                }
            }
        }
        imap.command("LOGOUT")?;
        mails.sort_by_key(|mail| mail.uid);
        Ok(mails)
    }

    /// Polls `user`'s INBOX every 50 ms until a message satisfies `pred` (returned) or
    /// `deadline` has passed (an error listing what was there).
    pub fn wait_for(
        &self,
        user: &str,
        deadline: Duration,
        pred: impl Fn(&FetchedMail) -> bool,
    ) -> Result<FetchedMail, String> {
        let started = Instant::now();
        loop {
            let seen = match self.fetch_all(user, "INBOX") {
                Ok(mut mails) => {
                    if let Some(index) = mails.iter().position(&pred) {
                        return Ok(mails.swap_remove(index));
                    }
                    describe(&mails)
                }
                Err(error) => format!("reading the mailbox failed: {error}"),
            };
            if started.elapsed() >= deadline {
                return Err(format!(
                    "no message in the INBOX of {user} matched within {deadline:?}; last seen: {seen}"
                ));
            }
            std::thread::sleep(POLL_STEP);
        }
    }
}

/// A one-line summary of each message (UID and subject), for error messages.
fn describe(mails: &[FetchedMail]) -> String {
    if mails.is_empty() {
        return "no messages".to_owned();
    }
    mails
        .iter()
        .map(|mail| {
            format!(
                "uid {} subject {:?}",
                mail.uid,
                mail.header("Subject").unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Opens a TCP connection to a port of the stack with read and write timeouts.
fn connect(port: u16) -> Result<TcpStream, String> {
    let stream = TcpStream::connect((HOST, port))
        .map_err(|e| format!("cannot connect to {HOST}:{port}: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| format!("cannot set timeouts on {HOST}:{port}: {e}"))?;
    Ok(stream)
}

/// Turns a message into SMTP DATA: CRLF line ends, leading dots doubled, and the final dot.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 16 + 5);
    let mut at_line_start = true;
    let mut previous = 0u8;
    for &byte in raw {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
        previous = byte;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The `KEY=value` lines of the `env` file that `scripts/mailstack start` or `scripts/rt
/// start` wrote, as a lookup that names the file and key when one is missing.
pub(super) fn env_file(path: &Path) -> Result<impl Fn(&str) -> Result<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let path = path.to_path_buf();
    Ok(move |key: &str| -> Result<String, String> {
        text.lines()
            .filter_map(|line| line.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().trim_matches('\'').to_owned())
            .ok_or_else(|| format!("{} has no {key}", path.display()))
    })
}

/// Runs `scripts/SCRIPT start <fresh temp dir>` (with `env` set) for this process alone,
/// and a lifeline shell that stops it and deletes the directory when the process exits
/// (see the module docs). Returns the directory and the lifeline, whose pipe must stay open.
pub(super) fn start_private(
    script: &str,
    label: &str,
    env_var: &str,
    env: &[(&str, &Path)],
) -> Result<(PathBuf, Child), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(script);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "support-probe-{label}-{}-{nanos}",
        std::process::id()
    ));
    let output = Command::new(&script)
        .arg("start")
        .arg(&dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{env_var} is not set and {} failed: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{env_var} is not set and `{} start {}` failed ({}): {}{}",
            script.display(),
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let lifeline = Command::new("bash")
        .arg("-c")
        .arg(r#"trap '' INT HUP; read -r _ || true; "$0" stop "$1"; rm -rf "$1""#)
        .arg(&script)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start the lifeline of {label} in {}: {e}",
                dir.display()
            )
        })?;
    Ok((dir, lifeline))
}

/// A minimal blocking SMTP client session.
struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smtp {
    fn connect(port: u16) -> Result<Smtp, String> {
        let writer = connect(port)?;
        let reader = writer
            .try_clone()
            .map_err(|e| format!("cannot clone the SMTP connection: {e}"))?;
        Ok(Smtp {
            reader: BufReader::new(reader),
            writer,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.writer
            .write_all(bytes)
            .map_err(|e| format!("cannot write to the SMTP server: {e}"))
    }

    /// Reads one (possibly multi-line) reply: its code and its full text.
    fn reply(&mut self) -> Result<(u16, String), String> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let read = self
                .reader
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the SMTP reply: {e}"))?;
            if read == 0 {
                return Err(format!(
                    "the SMTP server closed the connection after {text:?}"
                ));
            }
            text.push_str(&line);
            let code = line
                .get(..3)
                .and_then(|code| code.parse::<u16>().ok())
                .ok_or_else(|| format!("malformed SMTP reply line {line:?}"))?;
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text.trim_end().to_owned()));
            }
        }
    }

    fn expect(&mut self, code: u16, what: &str) -> Result<String, String> {
        let (got, text) = self.reply()?;
        if got == code {
            Ok(text)
        } else {
            Err(format!("SMTP {what}: expected {code}, got: {text}"))
        }
    }

    fn command(&mut self, line: &str, code: u16) -> Result<String, String> {
        self.send(format!("{line}\r\n").as_bytes())?;
        self.expect(code, line)
    }
}

/// An IMAP quoted string.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One piece of an IMAP server response: text outside literals, or a literal's bytes.
enum Part {
    Text(String),
    Literal(Vec<u8>),
}

/// One whole IMAP server response, its literals included.
struct Response {
    parts: Vec<Part>,
}

impl Response {
    /// The text before the first literal (for tagged and most untagged responses, all of it).
    fn first_text(&self) -> &str {
        match self.parts.first() {
            Some(Part::Text(text)) => text,
            _ => "",
        }
    }

    /// Reads UID, INTERNALDATE and BODY[] out of a FETCH response.
    fn fetched_mail(&self) -> Result<FetchedMail, String> {
        let texts = self
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Text(text) => Some(text.as_str()),
                Part::Literal(_) => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        let uid = texts
            .split_once("UID ")
            .and_then(|(_, rest)| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .ok_or_else(|| format!("no UID in FETCH response {texts:?}"))?;
        let internaldate = texts
            .split_once("INTERNALDATE \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(date, _)| date.to_owned())
            .ok_or_else(|| format!("no INTERNALDATE in FETCH response {texts:?}"))?;
        let raw = self
            .parts
            .windows(2)
            .find_map(|pair| match pair {
                [Part::Text(before), Part::Literal(bytes)]
                    if before
                        .trim_end()
                        .rsplit_once(' ')
                        .is_some_and(|(head, _)| head.ends_with("BODY[]")) =>
                {
                    Some(bytes.clone())
                }
                _ => None,
            })
            .ok_or_else(|| format!("no BODY[] literal in FETCH response {texts:?}"))?;
        Ok(FetchedMail {
            uid,
            internaldate,
            raw,
        })
    }
}

/// A minimal blocking IMAP client session.
struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_tag: u32,
}

impl Imap {
    fn connect(port: u16) -> Result<Imap, String> {
        let writer = connect(port)?;
        let reader = writer
            .try_clone()
            .map_err(|e| format!("cannot clone the IMAP connection: {e}"))?;
        let mut imap = Imap {
            reader: BufReader::new(reader),
            writer,
            next_tag: 1,
        };
        let greeting = imap.response()?;
        if !greeting.first_text().starts_with("* OK") {
            return Err(format!(
                "unexpected IMAP greeting {:?}",
                greeting.first_text()
            ));
        }
        Ok(imap)
    }

    /// Reads one response: a line, and for each `{n}` that ends a line, n bytes and the rest.
    fn response(&mut self) -> Result<Response, String> {
        let mut parts = Vec::new();
        loop {
            let mut line = Vec::new();
            let read = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("cannot read the IMAP response: {e}"))?;
            if read == 0 {
                return Err("the IMAP server closed the connection".to_owned());
            }
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            let literal_len = text
                .strip_suffix('}')
                .and_then(|head| head.rsplit_once('{'))
                .and_then(|(_, len)| len.parse::<usize>().ok());
            parts.push(Part::Text(text));
            let Some(len) = literal_len else {
                return Ok(Response { parts });
            };
            let mut literal = vec![0u8; len];
            self.reader
                .read_exact(&mut literal)
                .map_err(|e| format!("cannot read an IMAP literal of {len} bytes: {e}"))?;
            parts.push(Part::Literal(literal));
        }
    }

    /// Sends a command and returns its untagged responses once it completed with OK.
    fn command(&mut self, command: &str) -> Result<Vec<Response>, String> {
        let tag = format!("t{}", self.next_tag);
        self.next_tag += 1;
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .map_err(|e| format!("cannot write to the IMAP server: {e}"))?;
        let mut untagged = Vec::new();
        loop {
            let response = self.response()?;
            if let Some(status) = response.first_text().strip_prefix(&format!("{tag} ")) {
                if status.starts_with("OK") {
                    return Ok(untagged);
                }
                let shown = command.split(' ').next().unwrap_or(command);
                return Err(format!("IMAP {shown} failed: {status}"));
            }
            untagged.push(response);
        }
    }
}
