//! Operations: `/healthz` (the process answers), `/readyz` (the metadata and blob stores answer
//! and the schema is current) and a Prometheus `/metrics`. `/metrics` is served on
//! `metrics_listen` when that is set, else on the main listener only when `metrics_token` is set;
//! with a token it needs `Authorization: Bearer TOKEN` wherever it is served. The metrics name
//! the editors, the operations in use and the request volume: nothing for the public.
//!
//! The registry is `crate::metrics`; the middleware here times each request and records it under
//! the label its handler attached (`OpLabel`), else its route's.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::StoreFailure;
use crate::metrics::OpLabel;
use crate::state::AppState;

/// How long a readiness probe waits for each store.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

fn content_length(h: &HeaderMap) -> u64 {
    h.get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The label of a request its handler did not label: its route. A `/wopi/` request without a
/// label named no endpoint (or no operation): `Unknown`.
fn route_label(path: &str) -> &'static str {
    match path {
        p if p.starts_with("/wopi/") => "Unknown",
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
    let route = route_label(req.uri().path());
    let bytes_in = content_length(req.headers());
    let start = Instant::now();
    let resp = next.run(req).await;
    let store = resp.extensions().get::<StoreFailure>().copied();
    let op = resp
        .extensions()
        .get::<OpLabel>()
        .copied()
        .unwrap_or_else(|| OpLabel::route(route));
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
