//! wopid: a WOPI host. The server is a library call, [`serve`]; the `wopid` binary parses its
//! command line and calls into [`cli`].

pub mod api;
pub mod auth;
pub mod authorize;
pub mod cli;
mod cli_admin;
pub mod cli_args;
mod cli_keys;
pub mod cli_ops;
pub mod clock;
pub mod config;
pub mod editor_registry;
pub mod editors;
pub mod error;
pub mod http;
pub mod metrics;
pub mod ops;
pub mod page;
pub mod respond;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use state::AppState;

/// The whole application as a router: the WOPI and protocol endpoints, the web pages and the
/// management API, under the tracing and metrics layers. None of `http`, `web` and `api` names
/// another; they meet here.
pub fn app(state: AppState) -> axum::Router {
    let routes = http::routes(&state)
        .merge(web::routes(&state))
        .merge(api::routes());
    http::layers(routes, &state).with_state(state)
}

/// Opens the engines for a server that is bound to `listener`'s address.
pub async fn prepare(
    mut config: Config,
    clock: Arc<dyn Clock>,
    listener: &TcpListener,
) -> anyhow::Result<AppState> {
    config.resolve_secrets()?;
    let base = config.public_base(listener.local_addr()?);
    let state = AppState::open(config, clock, base).await?;
    // Start from the last good discovery documents, then fetch fresh ones in the background.
    editors::load_cached(&state).await;
    Ok(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if !state.editors.all().is_empty() {
        editors::spawn_refresher(state.clone());
    }
    // Metrics on an address of their own, when configured; they stop with the main server.
    let metrics = match state.config.metrics_listen {
        Some(addr) => {
            let l = TcpListener::bind(addr).await?;
            tracing::info!(addr = %l.local_addr()?, "metrics listening");
            let app = http::metrics_app(state.clone());
            Some(tokio::spawn(async move { axum::serve(l, app).await }))
        }
        None => None,
    };
    let limits = http::serve::Limits {
        header: state.config.header_read_timeout,
        body_idle: state.config.body_read_timeout,
        request: state.config.request_timeout,
        max_connections: state.config.max_connections,
    };
    let tls = match (&state.config.tls_cert, &state.config.tls_key) {
        (Some(cert), Some(key)) => Some(http::tls::Tls::start(cert.clone(), key.clone())?),
        (None, None) => None,
        _ => anyhow::bail!("TLS needs both tls_cert and tls_key"),
    };
    let purger = auth::purge::spawn(state.clone());
    // Stops when dropped: at the end of this function, or when this future is dropped.
    let _webhooks = webhooks::worker::spawn(state.clone());
    let served = http::serve::serve(listener, app(state), limits, tls, shutdown).await;

    if let Some(m) = metrics {
        m.abort();
    }
    purger.abort();
    served?;
    Ok(())
}

/// Runs wopid with `config` on an already bound `listener` until `shutdown` completes.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = prepare(config, Arc::new(SystemClock), &listener).await?;
    run(state, listener, shutdown).await
}
