//! The systemd notification protocol (`sd_notify`), in a few lines over a
//! Unix datagram socket: `READY=1`, `RELOADING=1`, `STOPPING=1`,
//! `WATCHDOG=1` and `STATUS=...`.
//!
//! systemd passes the socket in `$NOTIFY_SOCKET` (a path, or `@name` for
//! the abstract namespace) and, with `WatchdogSec=`, the watchdog period in
//! `$WATCHDOG_USEC` (for the process in `$WATCHDOG_PID`, if set). Outside
//! systemd there is no socket and every call does nothing. A failed send is
//! logged at debug level and otherwise ignored: notification is advice to
//! the service manager, never a reason to stop measuring.
//!
//! Hand-written rather than the `sd-notify` crate: it is one `send_to`, and
//! keeping it here lets tests point it at their own socket.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A connection to the service manager, or nothing outside systemd.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog: None,
        }
    }

    /// Reads `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`.
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok();
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        Notifier::new(socket.as_deref(), usec.as_deref(), pid.as_deref())
    }

    /// A notifier for the given variable values (tests pass their own).
    pub fn new(
        socket: Option<&str>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
    ) -> Notifier {
        let target = socket.filter(|s| !s.is_empty()).and_then(|s| {
            let addr = if let Some(name) = s.strip_prefix('@') {
                abstract_addr(name)
            } else {
                SocketAddr::from_pathname(s).ok()
            };
            let sock = UnixDatagram::unbound().ok()?;
            Some((sock, addr?))
        });
        let ours = watchdog_pid.is_none_or(|p| p.trim() == std::process::id().to_string());
        let watchdog = watchdog_usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && ours)
            .map(Duration::from_micros);
        Notifier { target, watchdog }
    }

    /// Whether a service manager is listening.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1`: half the period systemd asked for,
    /// or `None` without a watchdog.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.target.as_ref()?;
        self.watchdog.map(|d| d / 2)
    }

    fn send(&self, message: &str) {
        if let Some((sock, addr)) = &self.target
            && let Err(e) = sock.send_to_addr(message.as_bytes(), addr)
        {
            tracing::debug!(error = %e, "cannot notify the service manager");
        }
    }

    /// Startup is complete: the store is open and every task runs.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// A reload started; [`Notifier::ready`] ends it.
    pub fn reloading(&self) {
        self.send("RELOADING=1\nSTATUS=reloading the configuration");
    }

    /// Shutdown started.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping");
    }

    /// The main loop made progress: keep the watchdog from firing.
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// A one-line status for `systemctl status`.
    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(target_os = "linux")]
fn abstract_addr(name: &str) -> Option<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name.as_bytes()).ok()
}

#[cfg(not(target_os = "linux"))]
fn abstract_addr(_name: &str) -> Option<SocketAddr> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn messages_arrive_on_the_socket_named_by_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(path.to_str(), Some("4000000"), None);
        assert!(n.is_enabled());
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(2)));
        n.ready("watching 1 mailbox\nnext probe at noon");
        assert_eq!(
            receive(&listener),
            "READY=1\nSTATUS=watching 1 mailbox next probe at noon"
        );
        n.watchdog();
        assert_eq!(receive(&listener), "WATCHDOG=1");
        n.reloading();
        assert!(receive(&listener).starts_with("RELOADING=1\n"));
        n.stopping();
        assert!(receive(&listener).starts_with("STOPPING=1\n"));
    }

    #[test]
    fn the_abstract_namespace_is_supported() {
        let name = format!("support-probe-test-{}", std::process::id());
        let listener = UnixDatagram::bind_addr(&abstract_addr(&name).unwrap()).unwrap();
        let n = Notifier::new(Some(&format!("@{name}")), None, None);
        n.status("hello");
        assert_eq!(receive(&listener), "STATUS=hello");
        assert_eq!(n.watchdog_interval(), None, "no WATCHDOG_USEC, no pings");
    }

    #[test]
    fn a_watchdog_meant_for_another_process_is_ignored_and_no_socket_means_no_op() {
        let n = Notifier::new(Some("/nonexistent/socket"), Some("1000000"), Some("1"));
        assert_eq!(n.watchdog_interval(), None);
        n.ready("sent to nowhere, and that is fine");
        let off = Notifier::new(None, Some("1000000"), None);
        assert!(!off.is_enabled());
        assert_eq!(off.watchdog_interval(), None);
    }
}
