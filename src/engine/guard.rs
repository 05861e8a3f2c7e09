//! The guard around every channel: a circuit breaker per endpoint and the
//! record of our own outages.
//!
//! [`Guarded`] wraps any [`Channel`] (email, a ticket API, the demo's
//! simulator) and is what the engine actually calls, so the rules below hold
//! for every channel kind without the channel knowing:
//!
//! - Each channel has two endpoints, *send* (`Channel::send_key`, e.g. the
//!   SMTP account) and *watch* (`Channel::watch_key`, the mailbox), each with
//!   its own [`Breaker`]. While a breaker is open, calls are refused without
//!   touching the network: `file` answers `Rejected { retryable: true }` (the
//!   probe is not sent; the engine's retry window then makes it `not-filed`),
//!   `fetch` and `wait` answer [`ChannelError::CircuitOpen`] (the watcher
//!   backs off: watching is paused).
//! - A failing call opens (or extends) an [`Outage`](crate::store::Outage)
//!   in the store, from the start of the first failing call; the next call
//!   that succeeds closes it. Failures are: a `fetch`/`wait` error, a
//!   retryable rejection and an unknown outcome of `file` (the connection
//!   died). A non-retryable rejection is a definite answer from a reachable
//!   endpoint, neither success nor failure.
//!
//! Architecture Invariant: the guard never retries and never sleeps; it only
//! decides whether a call may go out and records what came back. Retrying is
//! the engine's (filing) and the daemon's (watching) business.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::breaker::{Admission, Breaker, BreakerState};
use crate::channel::{
    Channel, ChannelError, CourtesyDone, Fetched, FileOutcome, FollowUp, FoundTicket, OpenTicket,
    Outgoing, TicketResolved,
};
use crate::clock::Clock;
use crate::store::{OutageKind, Store};

/// One endpoint's breaker and what we know about its outage record.
#[derive(Debug)]
struct Endpoint {
    key: String,
    breaker: Breaker,
    /// Whether an outage may be open in the store: `true` at start (a
    /// previous process may have left one open) and after every failure;
    /// the next success then closes it with one write.
    maybe_open: bool,
    rng: fastrand::Rng,
}

/// A channel behind a circuit breaker per endpoint, recording our outages.
#[derive(Debug)]
pub struct Guarded {
    inner: Arc<dyn Channel>,
    persona: String,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Std mutexes: never held across an `.await`.
    send: Mutex<Endpoint>,
    watch: Mutex<Endpoint>,
}

/// Gives a half-open breaker its trial back if the call is dropped half-way
/// (a shutdown cancels a watcher's IDLE): otherwise no call would ever be
/// admitted again.
struct TrialGuard<'a> {
    endpoint: &'a Mutex<Endpoint>,
    armed: bool,
}

impl Drop for TrialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.endpoint
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .breaker
                .abandon_trial();
        }
    }
}

impl Guarded {
    /// Wraps `inner`, the channel of `persona`, with fresh breakers.
    pub fn new(
        inner: Arc<dyn Channel>,
        persona: &str,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_breakers(inner, persona, store, clock, Breaker::default())
    }

    /// Like [`Guarded::new`], with `breaker` as the template of both breakers.
    pub fn with_breakers(
        inner: Arc<dyn Channel>,
        persona: &str,
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        breaker: Breaker,
    ) -> Self {
        let endpoint = |key| {
            Mutex::new(Endpoint {
                key,
                breaker: breaker.clone(),
                maybe_open: true,
                rng: fastrand::Rng::new(),
            })
        };
        Guarded {
            send: endpoint(inner.send_key()),
            watch: endpoint(inner.watch_key()),
            inner,
            persona: persona.to_string(),
            store,
            clock,
        }
    }

    /// Replaces both endpoints' breakers with fresh copies of `breaker`.
    pub fn set_breaker(&self, breaker: &Breaker) {
        for ep in [&self.send, &self.watch] {
            ep.lock().unwrap_or_else(PoisonError::into_inner).breaker = breaker.clone();
        }
    }

    /// The wrapped channel.
    pub fn inner(&self) -> &Arc<dyn Channel> {
        &self.inner
    }

    fn endpoint(&self, kind: OutageKind) -> &Mutex<Endpoint> {
        match kind {
            OutageKind::Send => &self.send,
            OutageKind::Watch => &self.watch,
        }
    }

    /// Asks the breaker; on a refusal, says why in words.
    fn admit(&self, kind: OutageKind, now: Timestamp) -> Result<TrialGuard<'_>, (String, String)> {
        let endpoint = self.endpoint(kind);
        let mut ep = endpoint.lock().unwrap_or_else(PoisonError::into_inner);
        let was_open = matches!(ep.breaker.state(), BreakerState::Open { .. });
        match ep.breaker.admit(now) {
            Admission::Go => {
                if was_open {
                    tracing::info!(endpoint = %ep.key, kind = %kind, "circuit half-open: trying the endpoint again");
                }
                Ok(TrialGuard {
                    endpoint,
                    armed: true,
                })
            }
            Admission::Refused { until } => {
                let when = until.map_or_else(
                    || "a trial call is under way".to_string(),
                    |u| format!("held until {u}"),
                );
                Err((ep.key.clone(), when))
            }
        }
    }

    /// A send (a filing or a follow-up) through the send endpoint's
    /// breaker: refused at once while it is open, else made and its outcome
    /// taught to the breaker.
    async fn send(&self, sending: impl std::future::Future<Output = FileOutcome>) -> FileOutcome {
        let started = self.clock.now();
        let trial = match self.admit(OutageKind::Send, started) {
            Ok(t) => t,
            Err((endpoint, when)) => {
                let e = self.refused_error(OutageKind::Send, endpoint, when);
                return FileOutcome::Rejected {
                    reason: e.to_string(),
                    retryable: true,
                    retry_after: None,
                };
            }
        };
        let outcome = sending.await;
        self.settle_send(trial, started, &outcome);
        outcome
    }

    /// What a send's outcome teaches the send endpoint's breaker.
    fn settle_send(&self, trial: TrialGuard<'_>, started: Timestamp, outcome: &FileOutcome) {
        match outcome {
            FileOutcome::Accepted { .. } => {
                let now = self.clock.now();
                self.succeeded(OutageKind::Send, trial, now);
            }
            FileOutcome::Rejected {
                reason,
                retryable: true,
                retry_after: None,
            }
            | FileOutcome::Unknown { reason } => {
                self.failed(OutageKind::Send, trial, started, reason);
            }
            FileOutcome::Rejected { .. } => {
                // A definite answer (a refusal, or the vendor asking us to
                // slow down): the endpoint is reachable, the breaker learns
                // nothing either way (a trial is handed back).
                drop(trial);
            }
        }
    }

    fn succeeded(&self, kind: OutageKind, mut trial: TrialGuard<'_>, at: Timestamp) {
        trial.armed = false;
        let check_store = {
            let mut ep = self
                .endpoint(kind)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ep.breaker.success();
            std::mem::replace(&mut ep.maybe_open, false).then(|| ep.key.clone())
        };
        let Some(key) = check_store else { return };
        match self.store.write(|tx| tx.outage_success(kind, &key, at)) {
            Ok(Some(o)) => tracing::info!(
                endpoint = %key,
                kind = %kind,
                persona = %self.persona,
                since = %o.started_at,
                minutes = o.overlap(o.started_at, at).as_secs() / 60,
                failures = o.failures,
                "our endpoint works again: outage closed"
            ),
            Ok(None) => {}
            Err(e) => {
                // Try again after the next success.
                self.endpoint(kind)
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .maybe_open = true;
                tracing::warn!(endpoint = %key, error = %e, "cannot record the end of an outage");
            }
        }
    }

    fn failed(
        &self,
        kind: OutageKind,
        mut trial: TrialGuard<'_>,
        started: Timestamp,
        reason: &str,
    ) {
        trial.armed = false;
        let now = self.clock.now();
        let (key, opened_breaker) = {
            let mut ep = self
                .endpoint(kind)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ep.maybe_open = true;
            let Endpoint { breaker, rng, .. } = &mut *ep;
            let opened = breaker.failure(now, rng);
            (ep.key.clone(), opened)
        };
        if opened_breaker {
            tracing::warn!(endpoint = %key, kind = %kind, persona = %self.persona, %reason, "circuit open: calls to this endpoint are held for a cool-down");
        }
        match self
            .store
            .write(|tx| tx.outage_failure(kind, &key, &self.persona, started, reason))
        {
            Ok(true) => tracing::warn!(
                endpoint = %key,
                kind = %kind,
                persona = %self.persona,
                %reason,
                "our endpoint is failing: outage opened (our side, never counted against a vendor)"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(endpoint = %key, error = %e, "cannot record an outage"),
        }
    }

    /// Runs one call of `kind` through the breaker: refused while it is
    /// open, and its success or failure recorded (outage, breaker state).
    async fn guarded<T>(
        &self,
        kind: OutageKind,
        call: impl std::future::Future<Output = Result<T, ChannelError>>,
    ) -> Result<T, ChannelError> {
        let started = self.clock.now();
        let trial = self
            .admit(kind, started)
            .map_err(|(ep, when)| self.refused_error(kind, ep, when))?;
        let result = call.await;
        match &result {
            Ok(_) => {
                let now = self.clock.now();
                self.succeeded(kind, trial, now);
            }
            Err(e) => self.failed(kind, trial, started, &e.to_string()),
        }
        result
    }

    fn refused_error(&self, kind: OutageKind, endpoint: String, when: String) -> ChannelError {
        tracing::debug!(%endpoint, kind = %kind, %when, "call held by the circuit breaker");
        ChannelError::CircuitOpen { endpoint, when }
    }
}

#[async_trait]
impl Channel for Guarded {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn watch_key(&self) -> String {
        self.inner.watch_key()
    }

    fn send_key(&self) -> String {
        self.inner.send_key()
    }

    async fn file(&self, probe: &Outgoing) -> FileOutcome {
        self.send(self.inner.file(probe)).await
    }

    async fn follow_up(&self, message: &FollowUp) -> FileOutcome {
        self.send(self.inner.follow_up(message)).await
    }

    async fn fetch(
        &self,
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.guarded(OutageKind::Watch, self.inner.fetch(position, since))
            .await
    }

    async fn fetch_open(
        &self,
        open: &[OpenTicket],
        position: Option<&serde_json::Value>,
        since: Option<Timestamp>,
    ) -> Result<Fetched, ChannelError> {
        self.guarded(
            OutageKind::Watch,
            self.inner.fetch_open(open, position, since),
        )
        .await
    }

    async fn find_filed(
        &self,
        token: &str,
        since: Timestamp,
    ) -> Result<Option<FoundTicket>, ChannelError> {
        self.guarded(OutageKind::Watch, self.inner.find_filed(token, since))
            .await
    }

    fn reads_resolution(&self) -> bool {
        self.inner.reads_resolution()
    }

    async fn resolution(&self, ticket: &str) -> Result<Option<TicketResolved>, ChannelError> {
        self.guarded(OutageKind::Watch, self.inner.resolution(ticket))
            .await
    }

    fn has_courtesy(&self) -> bool {
        self.inner.has_courtesy()
    }

    async fn courtesy(&self, ticket: &str) -> Result<CourtesyDone, ChannelError> {
        self.guarded(OutageKind::Send, self.inner.courtesy(ticket))
            .await
    }

    fn longest_wait(&self, max: Duration) -> Duration {
        self.inner.longest_wait(max)
    }

    async fn wait(
        &self,
        position: Option<&serde_json::Value>,
        max: Duration,
    ) -> Result<(), ChannelError> {
        let started = self.clock.now();
        let trial = self
            .admit(OutageKind::Watch, started)
            .map_err(|(ep, when)| self.refused_error(OutageKind::Watch, ep, when))?;
        let result = self.inner.wait(position, max).await;
        match &result {
            // A wait may last minutes; the endpoint answered at its start.
            Ok(()) => self.succeeded(OutageKind::Watch, trial, started),
            Err(e) => self.failed(OutageKind::Watch, trial, started, &e.to_string()),
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jiff::SignedDuration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::Mode;

    /// A channel whose server is up or down, counting the calls that reach it.
    #[derive(Debug, Default)]
    struct Flaky {
        down: Mutex<bool>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Channel for Flaky {
        fn kind(&self) -> &'static str {
            "test"
        }
        fn watch_key(&self) -> String {
            "test:inbox".into()
        }
        async fn file(&self, _probe: &Outgoing) -> FileOutcome {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if *self.down.lock().unwrap() {
                FileOutcome::Rejected {
                    reason: "connection refused".into(),
                    retryable: true,
                    retry_after: None,
                }
            } else {
                FileOutcome::Accepted {
                    at: "2026-11-02T12:00:00Z".parse().unwrap(),
                    source: crate::model::TimeSource::Simulated,
                    detail: "ok".into(),
                    ticket_ref: None,
                }
            }
        }
        async fn fetch(
            &self,
            _position: Option<&serde_json::Value>,
            _since: Option<Timestamp>,
        ) -> Result<Fetched, ChannelError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if *self.down.lock().unwrap() {
                Err(ChannelError::Connect {
                    server: "imap.test:993".into(),
                    reason: "failed to lookup address information".into(),
                })
            } else {
                Ok(Fetched {
                    messages: vec![],
                    position: serde_json::json!(0),
                    rescanned: false,
                    more: false,
                })
            }
        }
    }

    fn outgoing() -> Outgoing {
        let id = crate::model::ProbeId::generate("2026-11-02T12:00:00Z".parse().unwrap());
        Outgoing {
            token: id.token(),
            probe_id: id,
            message_id: "m@probe.test".into(),
            from_name: "Dana".into(),
            from_address: "dana@probe.test".into(),
            to: vec!["support@vendor.test".into()],
            subject: "s".into(),
            body: "b".into(),
        }
    }

    #[tokio::test]
    async fn a_dead_endpoint_is_not_hammered_and_its_outage_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Mode::Exclusive).unwrap());
        let clock = ManualClock::new("2026-11-02T12:00:00Z".parse().unwrap());
        let flaky = Arc::new(Flaky::default());
        *flaky.down.lock().unwrap() = true;
        let guarded = Guarded::with_breakers(
            flaky.clone(),
            "dana",
            Arc::clone(&store),
            Arc::new(clock.clone()),
            Breaker::new(3, Duration::from_secs(30), Duration::from_secs(300)),
        );
        for _ in 0..10 {
            let out = guarded.file(&outgoing()).await;
            assert!(matches!(
                out,
                FileOutcome::Rejected {
                    retryable: true,
                    ..
                }
            ));
        }
        assert_eq!(
            flaky.calls.load(Ordering::SeqCst),
            3,
            "after three failures the breaker holds the calls"
        );
        let outages = store.outages().unwrap();
        assert_eq!(outages.len(), 1, "{outages:?}");
        assert_eq!(outages[0].kind, OutageKind::Send);
        assert_eq!(outages[0].failures, 3);
        assert_eq!(outages[0].ended_at, None);
        assert_eq!(outages[0].endpoint, "test-send:test:inbox");

        // The server comes back; after the cool-down one trial goes through and closes the outage.
        *flaky.down.lock().unwrap() = false;
        clock.advance(SignedDuration::from_mins(1));
        let out = guarded.file(&outgoing()).await;
        assert!(matches!(out, FileOutcome::Accepted { .. }), "{out:?}");
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 4);
        let outages = store.outages().unwrap();
        assert_eq!(
            outages[0].ended_at,
            Some("2026-11-02T12:01:00Z".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn watch_failures_pause_watching_and_the_next_success_closes_the_outage() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Mode::Exclusive).unwrap());
        let clock = ManualClock::new("2026-11-02T12:00:00Z".parse().unwrap());
        let flaky = Arc::new(Flaky::default());
        *flaky.down.lock().unwrap() = true;
        let guarded = Guarded::with_breakers(
            flaky.clone(),
            "dana",
            Arc::clone(&store),
            Arc::new(clock.clone()),
            Breaker::new(2, Duration::from_secs(30), Duration::from_secs(300)),
        );
        assert!(matches!(
            guarded.fetch(None, None).await,
            Err(ChannelError::Connect { .. })
        ));
        clock.advance(SignedDuration::from_secs(5));
        assert!(guarded.fetch(None, None).await.is_err());
        let held = guarded.fetch(None, None).await.unwrap_err();
        assert!(matches!(held, ChannelError::CircuitOpen { .. }), "{held}");
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
        let o = &store.outages().unwrap()[0];
        assert_eq!(o.kind, OutageKind::Watch);
        assert!(o.first_reason.contains("lookup address"), "DNS kept: {o:?}");
        // A success on the other endpoint does not close it.
        *flaky.down.lock().unwrap() = false;
        assert!(matches!(
            guarded.file(&outgoing()).await,
            FileOutcome::Accepted { .. }
        ));
        assert!(store.outages().unwrap()[0].ended_at.is_none());
        clock.advance(SignedDuration::from_mins(2));
        guarded.fetch(None, None).await.unwrap();
        let o = &store.outages().unwrap()[0];
        assert_eq!(o.started_at, "2026-11-02T12:00:00Z".parse().unwrap());
        assert_eq!(o.ended_at, Some("2026-11-02T12:02:05Z".parse().unwrap()));
    }

    #[tokio::test]
    async fn an_outage_left_open_by_a_previous_process_is_closed_by_the_first_success() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Mode::Exclusive).unwrap());
        store
            .write(|tx| {
                tx.outage_failure(
                    OutageKind::Watch,
                    "test:inbox",
                    "dana",
                    "2026-11-02T11:00:00Z".parse().unwrap(),
                    "killed while down",
                )
            })
            .unwrap();
        let clock = ManualClock::new("2026-11-02T12:00:00Z".parse().unwrap());
        let guarded = Guarded::new(
            Arc::new(Flaky::default()),
            "dana",
            Arc::clone(&store),
            Arc::new(clock),
        );
        guarded.fetch(None, None).await.unwrap();
        assert_eq!(
            store.outages().unwrap()[0].ended_at,
            Some("2026-11-02T12:00:00Z".parse().unwrap())
        );
    }
}
