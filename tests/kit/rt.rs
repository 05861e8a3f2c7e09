//! The real helpdesk of the integration tests: a private Request Tracker 5 on loopback, run by
//! `scripts/rt` and wired into the mail stack (Postfix pipes mail for the queue address to
//! `rt-mailgate`; RT sends its mail through the stack's SMTP), plus a small REST 2.0 client
//! for the scripted agent's side.
//!
//! As for the mail stack, `scripts/test` starts one RT for the whole run and exports
//! `SUPPORT_PROBE_RT=<dir>/env`. Without that variable the first call runs `scripts/rt start
//! <temp dir>` against this binary's mail stack, with a lifeline shell that stops it when the
//! test process exits (see `mailstack.rs`).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;

use jiff::Timestamp;
use serde_json::Value;

use super::MailStack;
use super::mailstack::{env_file, start_private};

/// The variable that names the `env` file of a running RT.
pub const ENV_VAR: &str = "SUPPORT_PROBE_RT";

/// A running RT, as described by the `env` file that `scripts/rt start` writes.
#[derive(Debug)]
pub struct Rt {
    /// The instance's directory (configuration, SQLite database, logs).
    pub dir: PathBuf,
    /// The web UI and REST 2.0 base, e.g. `http://127.0.0.1:25099`.
    pub url: String,
    /// RT's `$rtname`, the subject tag: `[vendor.test #12]`.
    pub rtname: String,
    /// The queue's name.
    pub queue: String,
    /// The queue's correspond address (mail to it becomes tickets).
    pub queue_address: String,
    /// The privileged staff user who answers.
    pub agent_user: String,
    /// Its password.
    pub agent_password: String,
    /// Its email address (RT puts it in `X-RT-Originator`).
    pub agent_address: String,
    /// An unprivileged customer user for our API persona.
    pub customer_user: String,
    /// Its password.
    pub customer_password: String,
    /// Its email address (RT's mail to it is discarded by the stack).
    pub customer_address: String,
    /// The lifeline of an RT this process started itself; kept only so its pipe stays open.
    lifeline: Option<Child>,
}

/// One transaction of a ticket's history, as REST 2.0 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Its id.
    pub id: String,
    /// `Create`, `Correspond`, `EmailRecord`, `Status`, ...
    pub kind: String,
    /// The user's name (`agent`, `RT_System`) or, for mail from an unknown sender, the address.
    pub creator: String,
    /// When RT recorded it (UTC, whole seconds).
    pub created: Timestamp,
}

impl Rt {
    /// The RT for this test binary: the one named by `SUPPORT_PROBE_RT` (set by `scripts/test`),
    /// otherwise one started for this process alone against `stack`.
    pub fn shared(stack: &MailStack) -> &'static Rt {
        static RT: OnceLock<Rt> = OnceLock::new();
        RT.get_or_init(|| {
            let found = match std::env::var_os(ENV_VAR) {
                Some(env_file) => Rt::from_env_file(Path::new(&env_file)),
                None => Rt::start_private(stack),
            };
            match found {
                Ok(rt) => rt,
                Err(error) => panic!(
                    "no Request Tracker for the tests: {error}\nrun scripts/test, or run \
                     `scripts/rt start DIR` (with SUPPORT_PROBE_MAILSTACK set) and export \
                     {ENV_VAR}=DIR/env"
                ),
            }
        })
    }

    /// Reads the `env` file that `scripts/rt start` wrote.
    pub fn from_env_file(path: &Path) -> Result<Rt, String> {
        let get = env_file(path)?;
        Ok(Rt {
            dir: PathBuf::from(get("RT_DIR")?),
            url: get("RT_URL")?,
            rtname: get("RT_NAME")?,
            queue: get("RT_QUEUE")?,
            queue_address: get("RT_QUEUE_ADDRESS")?,
            agent_user: get("RT_AGENT_USER")?,
            agent_password: get("RT_AGENT_PASSWORD")?,
            agent_address: get("RT_AGENT_ADDRESS")?,
            customer_user: get("RT_CUSTOMER_USER")?,
            customer_password: get("RT_CUSTOMER_PASSWORD")?,
            customer_address: get("RT_CUSTOMER_ADDRESS")?,
            lifeline: None,
        })
    }

    fn start_private(stack: &MailStack) -> Result<Rt, String> {
        let stack_env = stack.dir.join("env");
        let (dir, lifeline) = start_private(
            "rt",
            "rt",
            ENV_VAR,
            &[(super::mailstack::ENV_VAR, &stack_env)],
        )?;
        let mut rt = Rt::from_env_file(&dir.join("env"))?;
        rt.lifeline = Some(lifeline);
        Ok(rt)
    }

    /// The REST 2.0 base URL.
    pub fn rest(&self) -> String {
        format!("{}/REST/2.0", self.url)
    }

    /// The agent answers ticket `id` through REST 2.0 (`POST /ticket/{id}/correspond`), as
    /// a person in RT's web UI would; RT mails the answer to the requestors.
    pub async fn agent_answers(&self, id: &str, text: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/ticket/{id}/correspond", self.rest()))
            .basic_auth(&self.agent_user, Some(&self.agent_password))
            .json(&serde_json::json!({ "Content": text, "ContentType": "text/plain" }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_success() && body.contains("Correspondence added"),
            "correspond on ticket {id}: {status} {body}"
        );
    }

    /// The agent marks ticket `id` resolved (`PUT /ticket/{id}`), and
    /// returns RT's own record of when (`Resolved`).
    pub async fn agent_resolves(&self, id: &str) -> jiff::Timestamp {
        let client = reqwest::Client::new();
        let response = client
            .put(format!("{}/ticket/{id}", self.rest()))
            .basic_auth(&self.agent_user, Some(&self.agent_password))
            .json(&serde_json::json!({ "Status": "resolved" }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "resolve ticket {id}: {status} {body}");
        let ticket: Value = client
            .get(format!("{}/ticket/{id}", self.rest()))
            .basic_auth(&self.agent_user, Some(&self.agent_password))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ticket["Status"], "resolved", "{ticket}");
        ticket["Resolved"]
            .as_str()
            .unwrap_or_else(|| panic!("no Resolved in {ticket}"))
            .parse()
            .unwrap()
    }

    /// Ticket `id`'s transactions, oldest first, as the agent sees them.
    pub async fn history(&self, id: &str) -> Vec<Transaction> {
        let response = reqwest::Client::new()
            .get(format!("{}/ticket/{id}/history", self.rest()))
            .query(&[("fields", "Type,Creator,Created"), ("per_page", "100")])
            .basic_auth(&self.agent_user, Some(&self.agent_password))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(
            status.is_success(),
            "history of ticket {id}: {status} {body}"
        );
        body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {body}"))
            .iter()
            .map(|t| Transaction {
                id: t["id"].as_str().unwrap().to_owned(),
                kind: t["Type"].as_str().unwrap().to_owned(),
                creator: t["Creator"]["id"].as_str().unwrap().to_owned(),
                created: t["Created"].as_str().unwrap().parse().unwrap(),
            })
            .collect()
    }

    /// The ticket number in an `X-RT-Ticket: vendor.test #12` header value.
    pub fn ticket_of(&self, header: &str) -> Option<String> {
        let rest = header.trim().strip_prefix(self.rtname.as_str())?;
        Some(rest.trim().strip_prefix('#')?.trim().to_owned())
    }
}
