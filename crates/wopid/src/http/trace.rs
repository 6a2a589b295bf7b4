//! One span per request: the matched route (never the raw URI, whose query holds the access
//! token), the WOPI operation, the status, the latency and the client's correlation id.
//!
//! This runs on every request, so the span's fields are borrowed from the request (the subscriber
//! formats them when the span is opened) and the generated request id is built on the stack.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use rand::RngCore as _;
use tracing::Instrument as _;
use wopid_proto::wopi_header;

/// Longest header value a span carries, in characters.
const HEADER_CHARS: usize = 128;

/// The headers a span carries, as names (a name given as a string is parsed on every lookup).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const CORRELATION_ID: HeaderName = HeaderName::from_static(wopi_header::CORRELATION_ID);
const SESSION_ID: HeaderName = HeaderName::from_static(wopi_header::SESSION_ID);

/// A header's value cut to `HEADER_CHARS` characters, or "" when absent or not visible ASCII.
fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> &'a str {
    let value = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match value.char_indices().nth(HEADER_CHARS) {
        Some((end, _)) => &value[..end],
        None => value,
    }
}

/// 16 random base64url characters (12 random bytes), for a request that brings no id.
fn fresh_request_id(out: &mut [u8; 16]) -> &str {
    let mut raw = [0u8; 12];
    rand::rng().fill_bytes(&mut raw);
    match base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_slice(raw, out) {
        Ok(16) => std::str::from_utf8(out).unwrap_or_default(),
        _ => "",
    }
}

pub(super) async fn span(req: Request, next: Next) -> Response {
    let mut fresh = [0u8; 16];
    let span = {
        let headers = req.headers();
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |m| m.as_str());
        // The client's X-Request-ID when it sent one, else a fresh id, so log lines of one
        // request can be found together.
        let request_id = match header(headers, &REQUEST_ID) {
            "" => fresh_request_id(&mut fresh),
            id => id,
        };
        tracing::info_span!(
            "request",
            method = %req.method(),
            route = %route,
            op = tracing::field::Empty,
            correlation_id = %header(headers, &CORRELATION_ID),
            session_id = %header(headers, &SESSION_ID),
            request_id = %request_id,
        )
    };
    let start = Instant::now();
    // The `done` line is logged inside the span, by the future the span instruments, so the span
    // is neither cloned nor entered once more for it.
    async move {
        let resp = next.run(req).await;
        tracing::info!(
            status = resp.status().as_u16(),
            latency_ms = start.elapsed().as_secs_f64() * 1000.0,
            "done"
        );
        resp
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn headers_are_cut_to_128_characters() {
        let mut h = HeaderMap::new();
        assert_eq!(header(&h, &REQUEST_ID), "");
        h.insert("x-request-id", HeaderValue::from_static("abc"));
        assert_eq!(header(&h, &REQUEST_ID), "abc");
        let long = HeaderValue::from_str(&"x".repeat(200)).expect("ASCII");
        h.insert("x-request-id", long);
        assert_eq!(header(&h, &REQUEST_ID).len(), 128);
        // Not visible ASCII: not carried (as before).
        let utf8 = HeaderValue::from_bytes("é".repeat(10).as_bytes()).expect("opaque bytes");
        h.insert("x-request-id", utf8);
        assert_eq!(header(&h, &REQUEST_ID), "");
    }

    #[test]
    fn fresh_ids_are_16_url_safe_characters() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        let (a, b) = (
            fresh_request_id(&mut a),
            fresh_request_id(&mut b).to_owned(),
        );
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }
}
