//! Proves the test mail stack and its helpers: mail sent over plain SMTP arrives and reads
//! back over IMAP with an INTERNALDATE, unknown users are refused, and mail to the bounce
//! domain comes back to the sender as a real Postfix delivery status notification.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::kit::{FetchedMail, MailStack};

/// Delivery on loopback takes milliseconds; this only bounds a broken stack.
const DEADLINE: Duration = Duration::from_secs(20);

/// A token no other test run or test puts in a message.
fn unique(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{label}-{}-{nanos}", std::process::id())
}

/// True for an IMAP date-time such as `23-Nov-2026 02:56:51 +0000` (day may be space-padded).
fn looks_like_internaldate(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 26
        && b[2] == b'-'
        && b[6] == b'-'
        && b[11] == b' '
        && b[14] == b':'
        && b[17] == b':'
        && b[20] == b' '
        && (b[21] == b'+' || b[21] == b'-')
}

fn message(from: &str, to: &str, token: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: smoke {token}\r\nMessage-ID: <{token}@probe.test>\r\n\
         \r\nHello from the smoke test.\r\n.a line that starts with a dot\r\n"
    )
}

#[test]
fn plain_smtp_delivery_reads_back_over_imap_with_an_internaldate() -> Result<(), String> {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let token = unique("plain");
    let raw = message("Dana <dana@probe.test>", "support@vendor.test", &token);
    stack.deliver("dana@probe.test", &["support@vendor.test"], raw.as_bytes())?;

    let mail = stack.wait_for("support@vendor.test", DEADLINE, |m| {
        m.text().contains(&token)
    })?;

    assert!(mail.uid > 0, "uid {}", mail.uid);
    assert!(
        looks_like_internaldate(&mail.internaldate),
        "INTERNALDATE {:?}",
        mail.internaldate
    );
    assert_eq!(
        mail.header("Delivered-To").as_deref(),
        Some("support@vendor.test")
    );
    assert_eq!(mail.header("Subject"), Some(format!("smoke {token}")));
    assert!(
        mail.text()
            .contains("\r\n.a line that starts with a dot\r\n"),
        "dot-stuffing was not undone: {}",
        mail.text()
    );
    let listed = stack.fetch_all("support@vendor.test", "INBOX")?;
    assert!(
        listed.iter().any(|m| m == &mail),
        "fetch_all lacks uid {}",
        mail.uid
    );
    Ok(())
}

#[test]
fn plain_smtp_refuses_an_unknown_user_with_the_servers_reply() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let raw = message("dana@probe.test", "nobody@vendor.test", &unique("unknown"));
    let result = stack.deliver("dana@probe.test", &["nobody@vendor.test"], raw.as_bytes());
    match result {
        Ok(()) => panic!("mail to nobody@vendor.test was accepted"),
        Err(error) => assert!(error.contains("550"), "unexpected error: {error}"),
    }
}

#[test]
fn mail_to_the_gone_domain_bounces_back_as_a_delivery_status_notification() -> Result<(), String> {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    let token = unique("bounce");
    let raw = message("Dana <dana@probe.test>", "someone@gone.test", &token);
    stack.deliver("dana@probe.test", &["someone@gone.test"], raw.as_bytes())?;

    let is_the_bounce = |m: &FetchedMail| {
        m.text().contains(&token)
            && m.header("Subject").as_deref() == Some("Undelivered Mail Returned to Sender")
    };
    let dsn = stack.wait_for("dana@probe.test", DEADLINE, is_the_bounce)?;

    let content_type = dsn.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/report"),
        "Content-Type {content_type:?}"
    );
    assert!(
        content_type.contains("report-type=delivery-status"),
        "Content-Type {content_type:?}"
    );
    let text = dsn.text();
    assert!(
        text.contains("Content-Type: message/delivery-status"),
        "{text}"
    );
    assert!(
        text.contains("Final-Recipient: rfc822; someone@gone.test"),
        "{text}"
    );
    assert!(text.contains("Action: failed"), "{text}");
    assert!(text.contains("Status: 5."), "{text}");
    assert_eq!(dsn.header("Return-Path").as_deref(), Some("<>"));
    Ok(())
}

#[test]
fn passwords_follow_the_stacks_prefix() {
    let _gate = crate::kit::gate::enter(module_path!());
    let stack = MailStack::shared();
    assert_eq!(stack.password("dana@probe.test"), "secret-dana");
    assert_eq!(stack.password("support@vendor.test"), "secret-support");
}
