//! `probe run --wait` as an engineer uses it: files over the real mail stack,
//! stays until a human answers, prints the reading and exits 0.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::kit::MailStack;
use crate::kit::config::{config_text, default_probes};
use support_probe::store::{Mode, Store};

#[test]
fn run_wait_follows_a_probe_until_a_human_answers() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probes.toml");
    std::fs::write(&config, config_text(stack, dir.path(), &default_probes())).unwrap();
    let mut child = crate::kit::run::command(&config, Some(&dir.path().join("state")))
        .args(["run", "--probe", "acme-dana", "--wait"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The vendor gets the probe (the one this run recorded) and answers it.
    let state = dir.path().join("state");
    let ours = |id: &str| {
        Store::open(&state, Mode::Shared)
            .and_then(|s| s.all())
            .is_ok_and(|all| all.iter().any(|p| p.id.as_str() == id))
    };
    let probe = stack
        .wait_for("support@vendor.test", Duration::from_secs(20), |m| {
            m.header("X-Support-Probe").is_some_and(|id| ours(&id))
        })
        .unwrap();
    let id = probe.header("X-Support-Probe").unwrap();
    let mid = probe.header("Message-ID").unwrap();
    let answer = format!(
        "From: Rui <support@vendor.test>\r\nTo: dana@probe.test\r\nSubject: Re: your test\r\n\
         Message-ID: <wait-{id}@vendor.test>\r\nIn-Reply-To: {mid}\r\n\r\nHello Dana, I can see your \
         account and all edge locations report healthy right now.\r\n"
    );
    stack
        .deliver(
            "support@vendor.test",
            &["dana@probe.test"],
            answer.as_bytes(),
        )
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("probe run --wait did not end after the human answer");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "exit {status:?}\nstdout:\n{out}\nstderr:\n{err}"
    );
    // The filing table, then one line per recorded reply.
    assert!(out.contains(&id), "{out}");
    assert!(out.contains("filed"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with(&id) && l.contains("human"))
        .unwrap_or_else(|| panic!("no reply line in:\n{out}"));
    assert!(line.contains("from acme -> answered"), "{line}");
    assert!(line.contains(" +"), "elapsed time shown: {line}");
}
