//! The editors wopid works with: their discovery documents (fetched, cached in the metadata
//! store so every node and every restart starts from the last good copy, refreshed on a
//! schedule and again when proof keys rotate), the actions they offer per extension, and their
//! proof keys.

use std::time::Duration;

use crate::config::ProofMode;
pub use crate::editor_registry::{Editor, Editors, Loaded, Refreshed, origin_of};
use crate::state::AppState;

fn setting_key(name: &str) -> String {
    format!("discovery:{name}")
}

/// Reads a discovery document from its URL or local path.
async fn fetch(source: &str) -> Result<Vec<u8>, String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client
            .get(source)
            .send()
            .await
            .map_err(|e| format!("fetching: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("fetching: HTTP {}", resp.status()));
        }
        let body = resp.bytes().await.map_err(|e| format!("reading: {e}"))?;
        Ok(body.to_vec())
    } else {
        let path = source.strip_prefix("file://").unwrap_or(source);
        tokio::fs::read(path)
            .await
            .map_err(|e| format!("reading {path}: {e}"))
    }
}

/// Loads the cached copies from the metadata store (so a node starts with what another fetched).
pub async fn load_cached(state: &AppState) {
    for e in state.editors.all() {
        match state.meta.setting(&setting_key(&e.config.name)).await {
            Ok(Some(cached)) => {
                let (ms, xml) = cached.split_once('\n').unwrap_or(("0", &cached));
                if let Err(err) = e.install(xml.as_bytes(), ms.parse().unwrap_or(0)) {
                    tracing::warn!(editor = %e.config.name, error = %err, "cached discovery unusable");
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(editor = %e.config.name, error = %err, "reading cached discovery")
            }
        }
    }
}

/// Fetches one editor's discovery; on success installs and caches it, on failure keeps serving
/// the last good copy.
pub async fn refresh(state: &AppState, editor: &Editor) -> Refreshed {
    if let Ok(mut last) = editor.last_attempt.lock() {
        *last = Some(state.now_ms());
    }
    let result = match fetch(&editor.config.discovery).await {
        Ok(xml) => {
            let now = state.now_ms();
            match editor.install(&xml, now) {
                Ok(()) => {
                    let cached = format!("{now}\n{}", String::from_utf8_lossy(&xml));
                    if let Err(e) = state
                        .meta
                        .put_setting(&setting_key(&editor.config.name), &cached)
                        .await
                    {
                        tracing::warn!(editor = %editor.config.name, error = %e, "caching discovery");
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            tracing::info!(editor = %editor.config.name, "discovery refreshed");
            Refreshed::Updated
        }
        Err(e) => {
            editor
                .failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let kept = if editor.loaded().is_some() {
                "keeping the last good copy"
            } else {
                "no copy to fall back on"
            };
            tracing::warn!(editor = %editor.config.name, error = %e, "discovery refresh failed, {kept}");
            Refreshed::Failed(e)
        }
    }
}

/// How long after a fetch attempt a rotation re-fetch waits, so that forged proofs cannot make
/// wopid hammer an editor.
const ROTATION_REFETCH_GAP_MS: i64 = 60_000;

/// A re-fetch after a proof check failed or matched only the old key (keys rotated), at most
/// once a minute per editor. True when new keys were installed.
pub async fn refresh_after_rotation(state: &AppState, editor: &Editor) -> bool {
    let now = state.now_ms();
    let due = editor
        .last_attempt
        .lock()
        .map(|l| l.is_none_or(|t| now - t >= ROTATION_REFETCH_GAP_MS))
        .unwrap_or(false);
    due && refresh(state, editor).await == Refreshed::Updated
}

/// Refreshes every editor now and then every `discovery_refresh`, until the process ends.
pub fn spawn_refresher(state: AppState) {
    tokio::spawn(async move {
        let every = state.config.discovery_refresh.max(Duration::from_secs(60));
        loop {
            for e in state.editors.all() {
                refresh(&state, e).await;
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// The proof policy of the editor a token was minted for (none: checked when present).
pub fn proof_mode(state: &AppState, client: Option<&str>) -> ProofMode {
    match client.and_then(|c| state.editors.get(c)) {
        Some(e) => e.config.proof,
        None => ProofMode::Optional,
    }
}
