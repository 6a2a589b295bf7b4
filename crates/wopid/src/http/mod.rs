//! The HTTP layer: router, request extraction, one handler per endpoint, responses.

pub mod serve;
mod share;
mod trace;
mod wopi;

use axum::Router;
use axum::routing::{any, get};

use crate::state::AppState;

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/wopi/{*rest}", any(wopi::handle))
        .route("/share/{token}", get(share::download))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(axum::middleware::from_fn(trace::span))
        .with_state(state)
}
