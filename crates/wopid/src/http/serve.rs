//! The accept loop. HTTP/1.1 connections are served by hyper with a deadline on each request's
//! headers, an idle timeout on request bodies and a total deadline on reading a whole request, so
//! a client that trickles (or stops sending) is cut off instead of holding a connection, a task
//! and, for an upload, a temp file forever. At most `max_connections` are served at once: one
//! more is answered 503 (its `/healthz` still 200, so liveness probes keep working) and closed,
//! rather than left waiting or refused by a failing `accept`. On shutdown it stops accepting,
//! closes idle connections and lets the requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use futures_util::StreamExt as _;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::Service as _;

/// How long a client may take to send what it sends, and how many may be served at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deadline for a request's whole header section, from its first byte.
    pub header: Duration,
    /// Longest wait for the next piece of a request body.
    pub body_idle: Duration,
    /// Deadline for a request's body, from the end of its headers, however steadily it arrives.
    pub request: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Connections beyond `max_connections` that are still answered (503, or 200 for `/healthz`);
/// past these a connection is closed as soon as it is accepted, so the refusals themselves cannot
/// exhaust file descriptors.
const SPARE_CONNECTIONS: usize = 64;

/// How long a connection beyond the limit may take to send its request line and headers.
const SPARE_DEADLINE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` completes, then drains the connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<super::tls::Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(connection_cap(
        limits.max_connections,
        open_files_limit(),
    )));
    let spare = Arc::new(Semaphore::new(SPARE_CONNECTIONS));
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses go out in one write; no reason to let Nagle hold back their last segment.
        let _ = stream.set_nodelay(true);
        let acceptor = tls.as_ref().and_then(super::tls::Tls::acceptor);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            match spare.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(async move {
                        let refused = refuse(stream, acceptor, limits.header.min(SPARE_DEADLINE));
                        let _ = tokio::time::timeout(SPARE_DEADLINE * 2, refused).await;
                        drop(permit);
                    });
                }
                Err(_) => {
                    // Debug, not warn: under a flood this would be a line per connection.
                    tracing::debug!("too many connections: closing one unanswered");
                    drop(stream);
                }
            }
            continue;
        };
        connection(app.clone(), stream, peer, acceptor, limits, &graceful, slot);
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one accepted connection on a task of its own; `slot` is held until it closes.
fn connection(
    app: Router,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    graceful: &GracefulShutdown,
    slot: tokio::sync::OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        // Set when the body was cut off: the response then closes the connection, since
        // the rest of the body was never read.
        let cut = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + limits.request;
        let mut req = req.map(|body| limit_body(body, limits.body_idle, deadline, cut.clone()));
        // The peer address, for throttling sign-in attempts per client.
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let response = app.clone().call(req);
        async move {
            let mut resp = response.await?;
            if cut.load(Ordering::Relaxed) {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(resp)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header);
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        // The handshake is bounded like the headers are: a client that stalls in it is cut
        // off.
        let Some(io) = handshake(stream, acceptor, limits.header).await else {
            return;
        };
        let conn = watcher.watch(builder.serve_connection(TokioIo::new(io), service));
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection closed with an error");
        }
        drop(slot);
    });
}

/// File descriptors kept out of the connections' share: the stores, the listeners, the log and
/// the spare connections that are answered 503.
const RESERVED_DESCRIPTORS: u64 = 128 + SPARE_CONNECTIONS as u64;

/// `max_connections`, lowered when the process may not open enough files for that many: a
/// served connection can hold two descriptors (its socket and an upload's temp file), and if
/// they ran out, `accept` would fail for everyone, health checks included.
fn connection_cap(max_connections: usize, open_files: Option<u64>) -> usize {
    let cap = max_connections.max(1);
    let Some(limit) = open_files else {
        return cap;
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS) / 2)
        .unwrap_or(usize::MAX)
        .max(1);
    if room < cap {
        tracing::warn!(
            max_connections,
            open_files = limit,
            serving = room,
            "max_connections lowered to what the open-files limit allows"
        );
        return room;
    }
    cap
}

/// The soft limit on open files of this process (Linux; None elsewhere or when unlimited).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A plain or TLS connection, after the handshake.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// The TLS handshake when serving HTTPS, bounded by `within`.
async fn handshake(
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    within: Duration,
) -> Option<Box<dyn Io>> {
    let Some(acceptor) = acceptor else {
        return Some(Box::new(stream));
    };
    match tokio::time::timeout(within, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(Box::new(s)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

/// Answers one request of a connection beyond the limit, then closes it: `/healthz` gets its
/// usual 200, anything else 503 with `Retry-After`. The request body is never read.
async fn refuse(stream: TcpStream, acceptor: Option<tokio_rustls::TlsAcceptor>, within: Duration) {
    let Some(io) = handshake(stream, acceptor, within).await else {
        return;
    };
    let service = hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
        let resp = if req.method() == hyper::Method::GET && req.uri().path() == "/healthz" {
            hyper::Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(Body::from("ok\n"))
        } else {
            hyper::Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header(header::RETRY_AFTER, "1")
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(Body::from(
                    "the server is at its connection limit; try again shortly\n",
                ))
        };
        Ok::<_, Infallible>(resp.unwrap_or_default())
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(within)
        .keep_alive(false)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "refused connection closed with an error");
    }
}

/// The request body, failing with `TimedOut` when no data arrives for `idle` or when `deadline`
/// passes before its end; `cut` records that it did.
fn limit_body(body: Incoming, idle: Duration, deadline: Instant, cut: Arc<AtomicBool>) -> Body {
    if body.is_end_stream() {
        return Body::new(body);
    }
    let chunks = Body::new(body).into_data_stream();
    Body::from_stream(futures_util::stream::unfold(Some(chunks), move |chunks| {
        let cut = cut.clone();
        async move {
            let mut chunks = chunks?;
            let until = deadline.min(Instant::now() + idle);
            match tokio::time::timeout_at(until, chunks.next()).await {
                Ok(Some(Ok(data))) => Some((Ok(data), Some(chunks))),
                Ok(Some(Err(e))) => Some((Err(io::Error::other(e)), None)),
                Ok(None) => None,
                Err(_) => {
                    cut.store(true, Ordering::Relaxed);
                    Some((Err(io::Error::from(io::ErrorKind::TimedOut)), None))
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_open_files_limit() {
        assert_eq!(connection_cap(512, None), 512);
        assert_eq!(connection_cap(0, None), 1);
        assert_eq!(connection_cap(512, Some(20_000)), 512);
        // 1024 descriptors: 192 reserved, two per connection.
        assert_eq!(connection_cap(512, Some(1024)), 416);
        assert_eq!(connection_cap(512, Some(100)), 1);
        assert!(open_files_limit().is_none_or(|n| n > 0));
    }
}
