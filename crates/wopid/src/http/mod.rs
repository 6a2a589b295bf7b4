//! The HTTP layer: routes, the per-family extractor of WOPI requests (`wopi_call`), one handler
//! per endpoint, and the tracing and metrics layers. The web pages are a sibling (`crate::web`);
//! the two meet only in [`crate::app`].

mod bootstrap;
mod chunked;
mod coauth;
mod containers;
mod files;
mod headers;
mod oauth;
mod ops_routes;
mod proof;
pub mod serve;
mod share;
pub mod tls;
mod trace;
mod wopi;
mod wopi_call;

use axum::Router;
use axum::routing::{any, get, post};

use crate::state::AppState;

pub use ops_routes::metrics_app;

/// The WOPI, bootstrapper, OAuth, share-link and operations routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/wopi/{*rest}", any(wopi::handle))
        .route(
            "/wopibootstrapper",
            get(bootstrap::handle).post(bootstrap::handle),
        )
        .route(
            "/oauth2/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/oauth2/token", post(oauth::token))
        .route("/share/{token}", get(share::download))
        .route("/share/{token}/{file_id}", get(share::download_in_folder))
        .route("/download/{file_id}", get(share::signed_download))
        .merge(ops_routes::routes(state))
}

/// The metrics and tracing layers around every route of the application.
pub fn layers(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops_routes::measure,
        ))
        .layer(axum::middleware::from_fn(trace::span))
}
