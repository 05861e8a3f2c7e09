//! Measure 5 of BENCHMARKS.md: the cost of one reply check as the mailbox grows.
//!
//! Fills two mailboxes of the real Dovecot with `BENCH_SIZES` messages
//! (default `1000,100000`; written straight into the Maildir, dated over
//! the past year, as a long-lived support mailbox would be), lets Dovecot
//! index them once, then measures the check the daemon makes on every
//! wake-up: `Channel::fetch` from the stored checkpoint. Every IMAP byte
//! passes a counting proxy. Two kinds of check: nothing new, and one new
//! reply delivered through Postfix just before.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::os::unix::fs::chown;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use jiff::Timestamp;
use kit::bench::{self, Table, describe, fmt_secs};
use kit::proxy::Proxy;

const BENCH: &str = "mailbox";
const CHECKS: usize = 10;
const USERS: [&str; 2] = ["helpdesk@vendor.test", "slow@vendor.test"];

#[tokio::main]
async fn main() {
    if !bench::measuring(BENCH) {
        return;
    }
    bench::init();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,100000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("BENCH_SIZES: counts, comma separated")
        })
        .collect();
    assert!(sizes.len() <= USERS.len(), "at most {} sizes", USERS.len());
    println!("{BENCH}: machine: {}", bench::machine());
    let mut table = Table::new(
        BENCH,
        &format!("5. One reply check by mailbox size (median of {CHECKS} checks each)"),
        &[
            "messages in mailbox",
            "first read (Dovecot indexes)",
            "check, nothing new: time",
            "bytes",
            "check, one new reply: time",
            "bytes",
        ],
    );
    for (size, user) in sizes.iter().zip(USERS) {
        let row = measure(*size, user).await;
        table.row(row);
    }
    table.emit();
}

async fn measure(size: usize, user: &str) -> Vec<String> {
    let stack = kit::MailStack::shared();
    let filled = Instant::now();
    fill_maildir(&stack.dir, user, size);
    println!(
        "{BENCH}: wrote {size} messages for {user} in {:.1} s",
        filled.elapsed().as_secs_f64()
    );

    let proxy = Proxy::start(stack.imap_port).await;
    let dir = tempfile::tempdir().unwrap();
    let persona = bench::persona_plain(stack, "hd", user, proxy.port, false);
    let text = bench::config_text(
        stack,
        dir.path(),
        Duration::from_secs(60),
        1,
        &[persona],
        "",
    );
    let engine = std::sync::Arc::new(kit::engine::engine(&text, dir.path()));
    let channel = std::sync::Arc::clone(engine.channel("hd").unwrap());

    // The first read: no checkpoint, replies awaited since yesterday.
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(24);
    // It reads in batches; like the daemon, go on while it says there is more.
    let t = Instant::now();
    let mut first = channel.fetch(None, Some(since)).await.unwrap();
    while first.more {
        first = channel.fetch(Some(&first.position), None).await.unwrap();
    }
    let first_read = t.elapsed().as_secs_f64();
    let mut position = first.position;

    let mut idle_times = Vec::new();
    let mut idle_bytes = Vec::new();
    let mut new_times = Vec::new();
    let mut new_bytes = Vec::new();
    for i in 0..CHECKS {
        let before = proxy.bytes();
        let t = Instant::now();
        let got = channel.fetch(Some(&position), None).await.unwrap();
        idle_times.push(t.elapsed().as_secs_f64());
        idle_bytes.push((proxy.bytes() - before) as f64);
        assert!(got.messages.is_empty(), "nothing was delivered");

        let reply = bench::human_reply(user, &format!("bench-{i}@probe.test"), &format!("n{i}"));
        stack
            .deliver("support@vendor.test", &[user], reply.as_bytes())
            .unwrap();
        wait_delivered(&stack.dir, user, size + i + 1);
        let before = proxy.bytes();
        let t = Instant::now();
        let got = channel.fetch(Some(&position), None).await.unwrap();
        new_times.push(t.elapsed().as_secs_f64());
        new_bytes.push((proxy.bytes() - before) as f64);
        assert_eq!(got.messages.len(), 1, "exactly the new reply");
        position = got.position;
    }
    let (_, idle_t, _, _) = describe(&idle_times);
    let (_, idle_b, _, _) = describe(&idle_bytes);
    let (_, new_t, _, _) = describe(&new_times);
    let (_, new_b, _, _) = describe(&new_bytes);
    vec![
        size.to_string(),
        fmt_secs(first_read),
        fmt_secs(idle_t),
        format!("{idle_b:.0}"),
        fmt_secs(new_t),
        format!("{new_b:.0}"),
    ]
}

/// Writes `count` small messages into `user`'s Maildir, owned by the `mail`
/// user Dovecot runs as, with modification times (Dovecot's INTERNALDATE)
/// spread over the past year.
fn fill_maildir(stack_dir: &Path, user: &str, count: usize) {
    let (local, domain) = user.split_once('@').unwrap();
    let home = stack_dir.join("mail").join(domain).join(local);
    let maildir = home.join("Maildir");
    let (uid, gid) = mail_ids();
    for sub in ["", "cur", "new", "tmp"] {
        let d = maildir.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        chown(&d, Some(uid), Some(gid)).unwrap();
    }
    chown(&home, Some(uid), Some(gid)).unwrap();
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 24 * 3600);
    for n in 0..count {
        let age = year.mul_f64(1.0 - n as f64 / count as f64);
        let mtime = now - age;
        let secs = mtime
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let body = format!(
            "From: customer{n}@example.test\r\nTo: {user}\r\nSubject: Ticket {n}\r\n\
             Message-ID: <old-{n}@example.test>\r\n\r\n\
             An older conversation, number {n}, kept in the support mailbox.\r\n"
        );
        let path = maildir
            .join("cur")
            .join(format!("{secs}.M{n}P1.bench,S={}:2,S", body.len()));
        std::fs::write(&path, body).unwrap();
        chown(&path, Some(uid), Some(gid)).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(mtime).unwrap();
    }
}

/// Waits until `user`'s Maildir holds `count` messages.
fn wait_delivered(stack_dir: &Path, user: &str, count: usize) {
    let (local, domain) = user.split_once('@').unwrap();
    let maildir = stack_dir
        .join("mail")
        .join(domain)
        .join(local)
        .join("Maildir");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: usize = ["cur", "new"]
            .iter()
            .map(|d| std::fs::read_dir(maildir.join(d)).map_or(0, |r| r.count()))
            .sum();
        if n >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "delivery to {user} did not arrive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The uid and gid of the `mail` user, from /etc/passwd.
fn mail_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("mail:"))
        .expect("a mail user");
    let f: Vec<&str> = line.split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}
