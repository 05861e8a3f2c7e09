//! A deliberately small HTTP/1.1 responder on tokio for `/metrics` and
//! `/healthz`: GET (and HEAD) only, the request head bounded to 8 KiB and
//! read within 5 s, one request per connection (`Connection: close`), at
//! most 16 connections at a time. Anything else gets 400, 404, 405, 408 or
//! 431. No framework: two fixed paths do not need one, and nothing here
//! can be asked to do more than read the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::daemon::health::Health;
use crate::store::Store;

const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: usize = 16;

/// Binds `addr` and serves until `shutdown`; returns the bound address
/// (useful with port 0). Binding errors are returned, not logged.
pub async fn serve(
    addr: SocketAddr,
    store: Arc<Store>,
    health: Arc<Health>,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = shutdown.cancelled() => return,
            };
            let (stream, _) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                // Too many at once: drop the connection rather than queue.
                continue;
            };
            let (store, health, clock) =
                (Arc::clone(&store), Arc::clone(&health), Arc::clone(&clock));
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = handle(stream, store, health, clock.as_ref()).await {
                    tracing::debug!(error = %e, "metrics request failed");
                }
            });
        }
    });
    Ok(bound)
}

/// Reads the request head: up to the blank line, bounded in size and time.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, u16> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
                return Ok(());
            }
            if buf.len() > MAX_HEAD {
                return Err(431);
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Err(400),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(())) => Ok(buf),
        Ok(Err(code)) => Err(code),
        Err(_) => Err(408),
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

async fn respond(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &str,
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(code),
        body.len()
    );
    if code == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

async fn handle(
    mut stream: TcpStream,
    store: Arc<Store>,
    health: Arc<Health>,
    clock: &dyn Clock,
) -> std::io::Result<()> {
    const TEXT: &str = "text/plain; charset=utf-8";
    let head = match read_head(&mut stream).await {
        Ok(h) => h,
        Err(code) => {
            respond(&mut stream, code, TEXT, reason(code), false).await?;
            // Lingering close: closing with unread input would send a reset
            // that can destroy the response before the client reads it.
            let mut sink = [0u8; 1024];
            let drain = async {
                let mut left = 64 * 1024usize;
                while left > 0 {
                    match stream.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return respond(&mut stream, 400, TEXT, "bad request line\n", false).await;
    }
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return respond(&mut stream, 405, TEXT, "only GET and HEAD\n", false).await;
    }
    let path = target.split('?').next().unwrap_or_default();
    match path {
        "/metrics" => {
            // The store read is synchronous and may wait for the file lock:
            // off the async workers, so a scrape never stalls the daemon.
            let rendered =
                tokio::task::spawn_blocking(move || super::render(&store, &health)).await;
            match rendered {
                Ok(Ok(body)) => {
                    respond(
                        &mut stream,
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        &body,
                        head_only,
                    )
                    .await
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "metrics: cannot read the store");
                    respond(&mut stream, 500, TEXT, "cannot read the store\n", head_only).await
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: rendering failed");
                    respond(&mut stream, 500, TEXT, "rendering failed\n", head_only).await
                }
            }
        }
        "/healthz" => {
            let store_ok = tokio::task::spawn_blocking(move || store.schema_version().is_ok())
                .await
                .unwrap_or(false);
            match (health.check(), store_ok) {
                (Ok(()), true) => {
                    let body = format!("ok {}\n", clock.now());
                    respond(&mut stream, 200, TEXT, &body, head_only).await
                }
                (Err(stuck), _) => {
                    respond(
                        &mut stream,
                        503,
                        TEXT,
                        &format!("stuck: {stuck}\n"),
                        head_only,
                    )
                    .await
                }
                (Ok(()), false) => {
                    respond(
                        &mut stream,
                        503,
                        TEXT,
                        "the store cannot be read\n",
                        head_only,
                    )
                    .await
                }
            }
        }
        _ => {
            respond(
                &mut stream,
                404,
                TEXT,
                "not found: try /metrics or /healthz\n",
                head_only,
            )
            .await
        }
    }
}
