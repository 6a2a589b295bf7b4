//! The HTTP layer: router, request extraction, one handler per endpoint, responses.

mod bootstrap;
mod containers;
pub(crate) mod oauth;
mod ops_routes;
mod proof;
pub mod serve;
mod share;
pub mod tls;

pub(crate) use oauth::ClientAddr;
pub(crate) use share::send_file;
mod trace;
mod wopi;

use axum::Router;
use axum::routing::{any, get, post};

use crate::state::AppState;

pub use ops_routes::{Metrics, StoreFailure, metrics_app};

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
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
        .merge(crate::web::routes())
        .merge(ops_routes::routes(&state))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops_routes::measure,
        ))
        .layer(axum::middleware::from_fn(trace::span))
        .with_state(state)
}
