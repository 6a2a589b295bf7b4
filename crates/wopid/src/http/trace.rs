//! One span per request: the matched route (never the raw URI, whose query holds the access
//! token), the WOPI operation, the status, the latency and the client's correlation id.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;
use wopid_proto::wopi_header;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect())
        .unwrap_or_default()
}

pub(super) async fn span(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let correlation_id = header(req.headers(), wopi_header::CORRELATION_ID);
    let session_id = header(req.headers(), wopi_header::SESSION_ID);
    // The client's X-Request-ID when it sent one, else a fresh id, so log lines of one request
    // can be found together.
    let request_id = match header(req.headers(), "x-request-id") {
        id if !id.is_empty() => id,
        _ => crate::auth::tokens::random_token()[..16].to_owned(),
    };
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route,
        op = tracing::field::Empty,
        correlation_id = %correlation_id,
        session_id = %session_id,
        request_id = %request_id,
    );
    let start = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = start.elapsed().as_secs_f64() * 1000.0,
            "done"
        )
    });
    resp
}
