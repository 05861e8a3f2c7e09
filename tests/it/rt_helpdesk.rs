//! Against a real helpdesk: Request Tracker 5 (Debian's `request-tracker5`, SQLite), run by
//! `scripts/rt` next to the test mail stack (`scripts/test` starts both and exports
//! `SUPPORT_PROBE_RT`). Nothing here is scripted to look like RT: RT itself makes the
//! tickets, sends its AutoReply and mails the agent's answer, with its stock scrips and
//! templates.
//!
//! - Email: a probe goes to the queue address; Postfix pipes it to `rt-mailgate`; RT mails its
//!   AutoReply to dana; a scripted agent answers through REST 2.0
//!   (`POST /ticket/{id}/correspond`); RT mails the answer. The AutoReply must read as `ack`,
//!   the answer as `human` (the vendor is *not* configured as `helpdesk = "rt"`: RT must be
//!   recognised from its own stamps, although it marks every mail, agents' answers included,
//!   `Precedence: bulk`), and the time to the first human reply must be RT's own record of
//!   the answer (its `Correspond` transaction) within a second.
//! - Ticket API: the same RT through REST 2.0 with the `generic` spec (no code): an
//!   unprivileged customer user files with `POST /ticket` and reads `GET
//!   /ticket/{id}/history`, where our `Create` is ours, the agent's `Correspond` is the
//!   human answer, and RT's own bookkeeping (`RT_System`, `EmailRecord`) is not.
//!
//! Set `SUPPORT_PROBE_RT_CAPTURE=DIR` to have the email test save RT's two mails, as they
//! landed in dana's mailbox, to DIR (how `tests/fixtures/helpdesks/rt/` was made).

use std::path::Path;
use std::time::Duration;

use crate::kit::config::{ConfigText, Probe, Vendor, api_persona, dana_persona};
use crate::kit::engine::{engine, init_tls};
use crate::kit::rt::{Rt, Transaction};
use crate::kit::{FetchedMail, MailStack};
use jiff::{SignedDuration, Timestamp};
use support_probe::model::{Class, ProbeRecord, ProbeState, RoundState};

/// RT answers in about two seconds; this is generous for a loaded CI machine.
const WAIT: Duration = Duration::from_secs(60);

/// The vendor "rtco" is only its queue address: no `helpdesk` is configured.
fn email_config(stack: &MailStack, rt: &Rt, dir: &Path) -> String {
    ConfigText::new()
        .section("[daemon]\nfiling-retry-window = \"2s\"")
        .vendor(Vendor::new("rtco").address(&rt.queue_address))
        .persona(&dana_persona(stack, dir))
        .probe(
            Probe::new("rtco-dana", "rtco", "dana")
                .subject("Export question {token}")
                .body(
                    "Hello, our nightly export stopped arriving. Can you help? (A scheduled support-response test.)",
                ),
        )
        .build()
}

/// The ticket API persona: RT's REST 2.0 described with the `generic` spec.
fn api_config(rt: &Rt, dir: &Path) -> String {
    let pw = dir.join("rt-customer.pw");
    std::fs::write(&pw, &rt.customer_password).unwrap();
    let api = format!(
        r#"preset = "generic"
base-url = "{rest}"
auth = "basic"
username = "{user}"
token = {{ file = "{pw}" }}
params = {{ me = "{user}", queue = "{queue}" }}

[persona.api.spec]
ticket-id = "/id"

[persona.api.spec.create]
method = "POST"
url = "/ticket"
body = {{ Queue = "{{queue}}", Requestor = "{{persona_address}}", Subject = "{{subject}}", Content = "{{body}}", ContentType = "text/plain" }}

[persona.api.spec.list]
items = "/items"
pagination = {{ type = "page", param = "page", size-param = "per_page", size = 50 }}

[persona.api.spec.list.request]
url = "/ticket/{{ticket}}/history"
query = {{ fields = "Type,Creator,Created", per_page = "50" }}

[persona.api.spec.message]
id = "/id"
author = "/Creator/id"
body = "/Content"
created = {{ pointer = "/Created", format = "rfc3339" }}

# Our customer user is us; a mail RT sent itself (visible with ShowOutgoingEmail) is a bot;
# RT's own bookkeeping (status changes by RT_System) is nobody's message; an agent's
# Correspond is the vendor's answer, and anything else an agent does (comments, status or
# owner changes) is not an answer.
[persona.api.spec.authors]
default = "other"
us = [{{ field = "/Creator/id", equals = ["{{me}}"] }}]
bot = [{{ field = "/Type", equals = ["EmailRecord"] }}]
other = [{{ field = "/Creator/id", equals = ["RT_System"] }}]
staff = [{{ field = "/Type", equals = ["Correspond"] }}]

# Our follow-ups: a reply on the ticket as its requestor.
[persona.api.spec.reply]
method = "POST"
url = "/ticket/{{ticket}}/correspond"
body = {{ Content = "{{message}}", ContentType = "text/plain" }}

# Resolution: RT's own Resolved time once the status is resolved.
[persona.api.spec.status]
field = "/Status"
resolved = ["resolved"]
resolved-at = {{ pointer = "/Resolved", format = "rfc3339" }}

[persona.api.spec.status.request]
url = "/ticket/{{ticket}}"

[persona.api.spec.search]
items = "/items"
id = "/id"
created = {{ pointer = "/Created", format = "rfc3339" }}

[persona.api.spec.search.request]
url = "/tickets"
query = {{ query = "Queue = '{{queue}}' AND Subject LIKE '{{token}}'", fields = "Created" }}

"#,
        rest = rt.rest(),
        user = rt.customer_user,
        queue = rt.queue,
        pw = pw.display(),
    );
    ConfigText::new()
        .vendor(Vendor::new("rtco"))
        .persona(&api_persona("rtapi", "Probe API", &rt.customer_address, &api))
        .probe(
            Probe::new("rtco-api", "rtco", "rtapi")
                .schedule("0 0 9 * * mon")
                .subject("Export question {token}")
                .body(
                    "Our nightly export stopped arriving. Can you help? (A scheduled support-response test.)",
                )
                .line(
                    "follow-ups = [{ after = \"1s\", body = \"Thank you! Will it run again tonight? ({token})\" }]",
                ),
        )
        .build()
}

/// The one `Correspond` of ticket `id` written by the agent.
fn agents_correspond<'t>(rt: &Rt, history: &'t [Transaction]) -> &'t Transaction {
    let answers: Vec<&Transaction> = history
        .iter()
        .filter(|t| t.kind == "Correspond" && t.creator == rt.agent_user)
        .collect();
    assert_eq!(answers.len(), 1, "one answer by the agent in {history:#?}");
    answers[0]
}

fn within_a_second(a: Timestamp, b: Timestamp) -> bool {
    a.duration_since(b).abs() <= SignedDuration::from_secs(1)
}

/// Saves `mail` under `$SUPPORT_PROBE_RT_CAPTURE/name` when that variable is set.
fn capture(name: &str, mail: &FetchedMail) {
    if let Some(dir) = std::env::var_os("SUPPORT_PROBE_RT_CAPTURE") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), &mail.raw).unwrap();
    }
}

fn message<'r>(rec: &'r ProbeRecord, mid: &str) -> &'r support_probe::model::MessageRecord {
    rec.messages
        .iter()
        .find(|m| m.message_id.as_deref() == Some(mid))
        .unwrap_or_else(|| panic!("no message {mid} in {:#?}", rec.messages))
}

#[tokio::test]
async fn email_probe_to_rt_reads_the_autoreply_as_ack_and_the_agents_answer_as_human() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let rt = Rt::shared(stack);
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&email_config(stack, rt, dir.path()), dir.path());

    let report = engine.run_now("rtco-dana").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    let our_mid = rec.message_id.clone().unwrap();

    // RT makes a ticket of it and mails its AutoReply, In-Reply-To our Message-ID.
    let autoreply = stack
        .wait_for("dana@probe.test", WAIT, |m| {
            m.header("X-RT-Ticket").is_some()
                && m.header("In-Reply-To").as_deref() == Some(&format!("<{our_mid}>"))
        })
        .unwrap_or_else(|e| {
            panic!(
                "no AutoReply from RT for <{our_mid}>: {e}\n(see {}/log and the mail stack's log)",
                rt.dir.display()
            )
        });
    let ticket = rt
        .ticket_of(&autoreply.header("X-RT-Ticket").unwrap())
        .unwrap();
    assert!(
        autoreply.header("Subject").unwrap().contains("AutoReply:"),
        "{}",
        autoreply.text()
    );
    capture("ack--rt-autoreply.eml", &autoreply);

    // The agent answers in RT; RT mails the answer to dana.
    // Unique per run (the stack's mailboxes outlive an RT), and not our token: an agent does
    // not quote it, so the answer must be matched by RT's threading or ticket tag.
    let marker = format!(
        "purged the export queue (case {ticket}, job {})",
        Timestamp::now().as_millisecond() % 100_000
    );
    rt.agent_answers(
        &ticket,
        &format!(
            "Hi Dana,\n\nI looked at your account and {marker}; tonight's export will run.\n\nSam"
        ),
    )
    .await;
    let answer = stack
        .wait_for("dana@probe.test", WAIT, |m| {
            m.header("X-RT-Ticket").is_some() && m.text().contains(&marker)
        })
        .unwrap();
    capture("human--rt-agent-answer.eml", &answer);
    let history = rt.history(&ticket).await;
    let correspond = agents_correspond(rt, &history);

    let report = engine.watch_once("dana").await.unwrap();
    assert!(report.recorded.len() >= 2, "{report:?}");
    let rec = engine.store().get(&rec.id).unwrap().unwrap();
    let strip = |h: Option<String>| {
        h.unwrap()
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    };
    let ack = message(&rec, &strip(autoreply.header("Message-ID")));
    let human = message(&rec, &strip(answer.header("Message-ID")));
    assert_eq!(ack.class, Class::Ack, "RT's AutoReply: {ack:#?}");
    assert_eq!(
        human.class,
        Class::Human,
        "the agent's answer through RT (Precedence: bulk, no Auto-Submitted): {human:#?}"
    );
    assert_eq!(rec.state, ProbeState::Answered, "{rec:#?}");
    let first_human = rec.first_human_at.unwrap();
    assert!(
        within_a_second(first_human, correspond.created),
        "first human reply at {first_human}, RT recorded the answer at {}",
        correspond.created
    );
}

#[tokio::test]
async fn rt_rest_api_files_and_reads_the_agents_correspond_as_human() {
    let _gate = crate::kit::gate::enter(module_path!());
    init_tls();
    let stack = MailStack::shared();
    let rt = Rt::shared(stack);
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&api_config(rt, dir.path()), dir.path());

    let report = engine.run_now("rtco-api").await.unwrap();
    assert_eq!(report.state, ProbeState::Filed, "{report:?}");
    let rec = engine.store().get(&report.id).unwrap().unwrap();
    assert_eq!(rec.vendor_refs.len(), 1, "the ticket id: {rec:#?}");
    let ticket = rec.vendor_refs[0].clone();

    // Before anyone answers, only our own Create is there: nothing is recorded.
    let early = engine.watch_once("rtapi").await.unwrap();
    assert!(early.recorded.is_empty(), "{early:?}");

    rt.agent_answers(
        &ticket,
        "Hi,\n\nthe export job was stuck; I restarted it.\n\nSam",
    )
    .await;
    let history = rt.history(&ticket).await;
    let create = history.iter().find(|t| t.kind == "Create").unwrap();
    assert_eq!(create.creator, rt.customer_user, "{history:#?}");
    let correspond = agents_correspond(rt, &history);

    let report = engine.watch_once("rtapi").await.unwrap();
    assert!(!report.recorded.is_empty(), "{report:?}");
    let rec = engine.store().get(&rec.id).unwrap().unwrap();
    let humans: Vec<_> = rec
        .messages
        .iter()
        .filter(|m| m.class == Class::Human)
        .collect();
    assert_eq!(humans.len(), 1, "{:#?}", rec.messages);
    assert!(
        humans[0].key.ends_with(&format!(":{}", correspond.id)),
        "the human answer is the agent's Correspond transaction {}: {:#?}",
        correspond.id,
        humans[0]
    );
    assert_eq!(rec.state, ProbeState::Answered, "{rec:#?}");
    // RT stamps to the second; an answer in the second of the filing reads 0s.
    let first = rec.first_human_at.unwrap();
    assert!(
        first == correspond.created
            || (first == rec.filed_at.unwrap() && within_a_second(first, correspond.created)),
        "{first} vs RT's {}",
        correspond.created
    );

    // Our follow-up goes on the ticket as the requestor's reply, once.
    assert_eq!(rec.rounds.len(), 1, "{:#?}", rec.rounds);
    while Timestamp::now() < rec.rounds[0].due_at {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let sent = engine.converse_due().await.unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].state, RoundState::Sent, "{sent:?}");
    assert!(
        engine.converse_due().await.unwrap().is_empty(),
        "at most once"
    );
    let history = rt.history(&ticket).await;
    let ours: Vec<_> = history
        .iter()
        .filter(|t| t.kind == "Correspond" && t.creator == rt.customer_user)
        .collect();
    assert_eq!(ours.len(), 1, "{history:#?}");

    // The agent answers again and resolves the ticket: the round's reply and
    // the resolution come with RT's own times.
    rt.agent_answers(&ticket, "Yes, it runs again at 02:00 tonight.\n\nSam")
        .await;
    let resolved = rt.agent_resolves(&ticket).await;
    engine.watch_once("rtapi").await.unwrap();
    let rec = engine.store().get(&rec.id).unwrap().unwrap();
    let history = rt.history(&ticket).await;
    let second = history
        .iter()
        .filter(|t| t.kind == "Correspond" && t.creator == rt.agent_user)
        .nth(1)
        .expect("the agent's second answer");
    let c = rec.conversation();
    let round_sent = rec.rounds[0].sent_at.unwrap();
    assert_eq!(
        c.round_replies,
        vec![Some(second.created.duration_since(round_sent))]
    );
    let resolution = rec.resolution.clone().expect("resolved through the API");
    assert_eq!(resolution.at, resolved, "RT's own Resolved time");
    assert_eq!(c.rounds_to_resolution, Some(2), "{history:#?}");
    assert!(!rec.awaits_resolution());
}
