//! Operations: `/healthz` (the process answers), `/readyz` (the metadata and blob stores answer
//! and the schema is current) and a Prometheus `/metrics`. `/metrics` is served on
//! `metrics_listen` when that is set, else on the main listener only when `metrics_token` is set;
//! with a token it needs `Authorization: Bearer TOKEN` wherever it is served. The metrics name
//! the editors, the operations in use and the request volume: nothing for the public.
//!
//! The registry is small and hand-rolled (counters and one histogram behind a mutex that is never
//! held across an await); it lives in `AppState`, so there are no globals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use wopid_proto::{Endpoint, Method, Operation};

use crate::state::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How long a readiness probe waits for each store.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Marks a response that failed because of the storage layer; set by `ApiError`, counted here.
#[derive(Debug, Clone, Copy)]
pub struct StoreFailure {
    /// The store was unreachable (503) rather than failing otherwise (500).
    pub unavailable: bool,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    lock_conflicts: BTreeMap<&'static str, u64>,
    store_errors: BTreeMap<&'static str, u64>,
    proof_failures: BTreeMap<String, u64>,
    bytes_in: u64,
    bytes_out: u64,
}

/// The metrics of one wopid process.
#[derive(Default)]
pub struct Metrics(Mutex<Registry>);

impl Metrics {
    /// A request refused because its proof-key signature did not verify (by editor).
    pub fn proof_failed(&self, editor: &str) {
        if let Ok(mut r) = self.0.lock() {
            *r.proof_failures
                .entry(editor.chars().take(64).collect())
                .or_default() += 1;
        }
    }

    fn record(
        &self,
        op: &'static str,
        status: u16,
        secs: f64,
        bytes: (u64, u64),
        store: Option<StoreFailure>,
    ) {
        let Ok(mut r) = self.0.lock() else { return };
        *r.requests.entry((op, status)).or_default() += 1;
        let h = r.latency.entry(op).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        if status == 409 && is_lock_op(op) {
            *r.lock_conflicts.entry(op).or_default() += 1;
        }
        if let Some(f) = store {
            let kind = if f.unavailable {
                "unavailable"
            } else {
                "failed"
            };
            *r.store_errors.entry(kind).or_default() += 1;
        }
        r.bytes_in += bytes.0;
        r.bytes_out += bytes.1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let Ok(r) = self.0.lock() else {
            return String::new();
        };
        let mut out = String::new();
        out.push_str(
            "# HELP wopid_requests_total HTTP requests by WOPI operation (or route) and status.\n",
        );
        out.push_str("# TYPE wopid_requests_total counter\n");
        for ((op, status), n) in &r.requests {
            let _ = writeln!(
                out,
                "wopid_requests_total{{op=\"{op}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP wopid_request_duration_seconds Request latency by operation.\n");
        out.push_str("# TYPE wopid_request_duration_seconds histogram\n");
        for (op, h) in &r.latency {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "wopid_request_duration_seconds_bucket{{op=\"{op}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_bucket{{op=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_sum{{op=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_count{{op=\"{op}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP wopid_lock_conflicts_total Lock operations and saves refused with 409.\n",
        );
        out.push_str("# TYPE wopid_lock_conflicts_total counter\n");
        for (op, n) in &r.lock_conflicts {
            let _ = writeln!(out, "wopid_lock_conflicts_total{{op=\"{op}\"}} {n}");
        }
        out.push_str(
            "# HELP wopid_store_errors_total Requests failed by the metadata or blob store.\n",
        );
        out.push_str("# TYPE wopid_store_errors_total counter\n");
        for kind in ["failed", "unavailable"] {
            let n = r.store_errors.get(kind).copied().unwrap_or(0);
            let _ = writeln!(out, "wopid_store_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP wopid_proof_failures_total Requests refused for a missing, stale or wrong proof.\n");
        out.push_str("# TYPE wopid_proof_failures_total counter\n");
        for (editor, n) in &r.proof_failures {
            let editor = editor.replace(['\\', '"', '\n'], "_");
            let _ = writeln!(out, "wopid_proof_failures_total{{editor=\"{editor}\"}} {n}");
        }
        out.push_str("# HELP wopid_bytes_received_total Request body bytes (by Content-Length).\n");
        out.push_str("# TYPE wopid_bytes_received_total counter\n");
        let _ = writeln!(out, "wopid_bytes_received_total {}", r.bytes_in);
        out.push_str("# HELP wopid_bytes_sent_total Response body bytes (by Content-Length).\n");
        out.push_str("# TYPE wopid_bytes_sent_total counter\n");
        let _ = writeln!(out, "wopid_bytes_sent_total {}", r.bytes_out);
        out
    }
}

fn is_lock_op(op: &str) -> bool {
    matches!(
        op,
        "Lock"
            | "UnlockAndRelock"
            | "RefreshLock"
            | "Unlock"
            | "PutFile"
            | "RenameFile"
            | "DeleteFile"
    )
}

fn content_length(h: &HeaderMap) -> u64 {
    h.get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The label of a request: its WOPI operation, else its route.
fn operation(req: &Request) -> &'static str {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/wopi/") {
        let Some(endpoint) = Endpoint::parse(rest) else {
            return "Unknown";
        };
        let m = match *req.method() {
            axum::http::Method::GET => Method::Get,
            axum::http::Method::POST => Method::Post,
            _ => Method::Other,
        };
        let h = req.headers();
        return Operation::parse(
            m,
            &endpoint,
            h.get("x-wopi-override").map(|v| v.as_bytes()),
            h.contains_key("x-wopi-oldlock"),
        )
        .name();
    }
    match path {
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        p if p.starts_with("/share/") || p.starts_with("/download/") => "download",
        p if p.starts_with("/oauth2/") || p == "/wopibootstrapper" => "bootstrap",
        _ => "other",
    }
}

/// Middleware: counts and times every request.
pub(super) async fn measure(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let op = operation(&req);
    let bytes_in = content_length(req.headers());
    let start = Instant::now();
    let resp = next.run(req).await;
    let store = resp.extensions().get::<StoreFailure>().copied();
    state.metrics.record(
        op,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
        (bytes_in, content_length(resp.headers())),
        store,
    );
    resp
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    let meta = tokio::time::timeout(READY_TIMEOUT, state.meta.ping()).await;
    let blobs = tokio::time::timeout(READY_TIMEOUT, state.blobs.ping()).await;
    let verdict = |r: Result<Result<(), wopid_store::StoreError>, _>| match r {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            "unavailable".to_owned()
        }
        Err(_) => "timed out".to_owned(),
    };
    let (m, b) = (verdict(meta), verdict(blobs));
    let status = if m == "ok" && b == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, format!("metadata: {m}\nblobs: {b}\n")).into_response()
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        if !presented.is_some_and(|p| crate::auth::tokens::same(p, token.expose())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"wopid metrics\"")],
                "/metrics needs its bearer token\n",
            )
                .into_response();
        }
    }
    let mut text = state.metrics.render();
    // The editors' discovery documents: failed refreshes, and the age of the copy in use.
    text.push_str("# HELP wopid_discovery_refresh_failures_total Discovery fetches that failed (the last good copy stayed in use).\n");
    text.push_str("# TYPE wopid_discovery_refresh_failures_total counter\n");
    for e in state.editors.all() {
        let name = e.config.name.replace(['\\', '"', '\n'], "_");
        let _ = writeln!(
            text,
            "wopid_discovery_refresh_failures_total{{editor=\"{name}\"}} {}",
            e.failures()
        );
    }
    text.push_str(
        "# HELP wopid_discovery_age_seconds Age of the discovery document in use (-1: none).\n",
    );
    text.push_str("# TYPE wopid_discovery_age_seconds gauge\n");
    for e in state.editors.all() {
        let name = e.config.name.replace(['\\', '"', '\n'], "_");
        let age = e
            .loaded()
            .map_or(-1, |l| (state.now_ms() - l.fetched_ms) / 1000);
        let _ = writeln!(
            text,
            "wopid_discovery_age_seconds{{editor=\"{name}\"}} {age}"
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `/healthz` and `/readyz`, and `/metrics` when it has a token and no listener of its own.
pub(super) fn routes(state: &AppState) -> Router<AppState> {
    let r = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if state.config.metrics_listen.is_none() && state.config.metrics_token.is_some() {
        r.route("/metrics", get(metrics))
    } else {
        r
    }
}

/// The router of the separate metrics listener.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

#[cfg(test)]
mod proof_metric_tests {
    #[test]
    fn proof_failures_are_counted_per_editor() {
        let m = super::Metrics::default();
        m.proof_failed("collabora");
        m.proof_failed("collabora");
        m.proof_failed("we\"ird");
        let text = m.render();
        assert!(
            text.contains("wopid_proof_failures_total{editor=\"collabora\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("wopid_proof_failures_total{editor=\"we_ird\"} 1"),
            "{text}"
        );
    }
}
