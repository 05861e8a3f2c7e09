//! The one TCP fault proxy of the tests and benchmarks: on 127.0.0.1, in
//! front of one port (of the mail stack, usually), it relays both ways and
//! counts connections and bytes, and on command refuses connections, stalls
//! them, cuts or stalls them once the client has sent a given command, or
//! cuts one connection in N at a random byte.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the connections it accepts from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Accept and close at once.
    Refuse,
    /// Accept and never answer (nor forward anything).
    Stall,
    /// Forward, and cut the connection as soon as the client has sent this
    /// (after forwarding it): the server's answer never reaches the client.
    CutAfterClientSent(&'static str),
    /// Forward until the client has sent this, then keep the connection
    /// open but pass nothing more back: the server seems to hang mid-session.
    StallAfterClientSent(&'static str),
    /// Cut about one connection in this many after a random number of the
    /// client's bytes, at most as many as a whole connection took (learned
    /// from those let through, so the first always passes); both
    /// directions die there, as when a link drops.
    CutOneIn(u32),
}

/// A running proxy.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    upstream: u16,
    fault: Mutex<Fault>,
    connections: AtomicUsize,
    cuts: AtomicUsize,
    bytes: AtomicU64,
    /// The most client bytes a connection that was not cut carried.
    whole: AtomicU64,
    rng: Mutex<fastrand::Rng>,
}

impl Proxy {
    /// Starts a proxy to 127.0.0.1:`upstream` on the current Tokio runtime, passing all.
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            fault: Mutex::new(Fault::Pass),
            connections: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            whole: AtomicU64::new(0),
            rng: Mutex::new(fastrand::Rng::with_seed(6)),
        });
        let s = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                s.connections.fetch_add(1, Ordering::SeqCst);
                let fault = *s.fault.lock().unwrap();
                tokio::spawn(serve(client, Arc::clone(&s), fault));
            }
        });
        Proxy { port, shared }
    }

    /// What to do to the next connections.
    pub fn set(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections cut by [`Fault::CutOneIn`] so far.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Bytes relayed so far, both directions.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }
}

async fn serve(mut client: TcpStream, s: Arc<Shared>, fault: Fault) {
    let (trigger, stall, cut_at) = match fault {
        Fault::Refuse => return drop(client),
        Fault::Stall => {
            // Read and discard until the client gives up.
            let mut sink = tokio::io::sink();
            let _ = tokio::io::copy(&mut client, &mut sink).await;
            return;
        }
        Fault::Pass => (None, false, None),
        Fault::CutAfterClientSent(t) => (Some(t.as_bytes()), false, None),
        Fault::StallAfterClientSent(t) => (Some(t.as_bytes()), true, None),
        Fault::CutOneIn(one_in) => {
            let typical = s.whole.load(Ordering::SeqCst);
            let mut rng = s.rng.lock().unwrap();
            let at = (typical > 0 && rng.u32(..one_in) == 0).then(|| rng.u64(1..=typical));
            (None, false, at)
        }
    };
    let Ok(server) = TcpStream::connect(("127.0.0.1", s.upstream)).await else {
        return;
    };
    let cut = Arc::new(AtomicBool::new(false));
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let (cut_down, s_down) = (Arc::clone(&cut), Arc::clone(&s));
    let down = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if cut_down.load(Ordering::SeqCst) {
                if stall {
                    // Swallow the answer; the client waits in vain.
                    continue;
                }
                return;
            }
            s_down.bytes.fetch_add(n as u64, Ordering::SeqCst);
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
        let _ = cw.shutdown().await;
    });
    let mut seen: Vec<u8> = Vec::new();
    let mut sent = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match cr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let n = match cut_at {
            Some(at) => n.min(usize::try_from(at - sent).unwrap()),
            None => n,
        };
        seen.extend_from_slice(&buf[..n]);
        let hit = trigger.is_some_and(|t| seen.windows(t.len()).any(|w| w == t));
        if hit {
            // Cut before the server can answer: flag first, then forward.
            cut.store(true, Ordering::SeqCst);
        }
        if sw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        s.bytes.fetch_add(n as u64, Ordering::SeqCst);
        sent += n as u64;
        if (hit && !stall) || cut_at == Some(sent) {
            // Give the server the bytes, then drop the connection, both ways.
            let _ = sw.flush().await;
            if cut_at.is_some() {
                s.cuts.fetch_add(1, Ordering::SeqCst);
            }
            down.abort();
            return;
        }
        let keep = seen.len().saturating_sub(64);
        seen.drain(..keep);
    }
    let _ = sw.shutdown().await;
    let _ = down.await;
    if cut_at.is_none() && trigger.is_none() {
        s.whole.fetch_max(sent, Ordering::SeqCst);
    }
}
