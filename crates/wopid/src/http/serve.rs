//! The accept loop. HTTP/1.1 connections are served by hyper with a deadline on each request's
//! headers and an idle timeout on request bodies, so a client that trickles (or stops sending) is
//! cut off instead of holding a connection, a task and, for an upload, a temp file forever. On
//! shutdown it stops accepting, closes idle connections and lets the requests in flight finish.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use futures_util::StreamExt as _;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service as _;

/// How long a client may take to send what it sends.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Deadline for a request's whole header section, from its first byte.
    pub header: Duration,
    /// Longest wait for the next piece of a request body.
    pub body_idle: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then drains the connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    tls: Option<super::tls::Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
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
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(|body| idle_timeout(body, timeouts.body_idle));
            // The peer address, for throttling sign-in attempts per client.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            app.clone().call(req)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header);
        match tls.as_ref().and_then(super::tls::Tls::acceptor) {
            None => {
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
            Some(acceptor) => {
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // The handshake is bounded like the headers are: a client that stalls in it is
                    // cut off.
                    let stream = match tokio::time::timeout(
                        timeouts.header,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn =
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The request body, failing with `TimedOut` when no data arrives for `idle`.
fn idle_timeout(body: Incoming, idle: Duration) -> Body {
    if body.is_end_stream() {
        return Body::new(body);
    }
    let chunks = Body::new(body).into_data_stream();
    Body::from_stream(futures_util::stream::unfold(
        Some(chunks),
        move |chunks| async move {
            let mut chunks = chunks?;
            match tokio::time::timeout(idle, chunks.next()).await {
                Ok(Some(Ok(data))) => Some((Ok(data), Some(chunks))),
                Ok(Some(Err(e))) => Some((Err(io::Error::other(e)), None)),
                Ok(None) => None,
                Err(_) => Some((Err(io::Error::from(io::ErrorKind::TimedOut)), None)),
            }
        },
    ))
}

/// Whether a body read failed because the client stopped sending (see [`idle_timeout`]).
pub fn body_timed_out(e: &io::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::TimedOut {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_out_is_found_through_wrappers() {
        let inner = io::Error::from(io::ErrorKind::TimedOut);
        assert!(body_timed_out(&inner));
        let wrapped = io::Error::other(axum::Error::new(io::Error::other(inner)));
        assert!(body_timed_out(&wrapped));
        assert!(!body_timed_out(&io::Error::other("reset")));
    }
}
