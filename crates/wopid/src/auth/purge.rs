//! Expired credentials are deleted now and then: every EnumerateChildren mints a token per child,
//! so without this the token table only grows. Each node purges on its own; the deletes are
//! idempotent, so several nodes on one database need no coordination. Trash entries past
//! `trash_retention` go in the same round, and so do chunks no version references any more
//! (`ops::chunks::collect`).

use std::time::Duration;

use crate::state::AppState;

/// How often a server deletes expired tokens, codes and sessions.
pub const EVERY: Duration = Duration::from_secs(15 * 60);

/// Deletes the tokens, authorization codes and sessions that have expired, and destroys the
/// trash entries older than `trash_retention`; returns how many rows and entries went.
pub async fn once(state: &AppState) -> Result<u64, wopid_store::StoreError> {
    let rows = state.meta.purge_expired(state.now_ms()).await?;
    let trashed = crate::ops::trash::purge_expired(state).await?;
    Ok(rows + trashed + crate::ops::chunks::collect(state).await?)
}

/// Purges at start and then every `EVERY`, until the task is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match once(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "expired credentials purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired credentials failed"),
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}
