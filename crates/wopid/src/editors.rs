//! The editors wopid works with: their discovery documents (fetched, cached in the metadata
//! store so every node and every restart starts from the last good copy, refreshed on a
//! schedule and again when proof keys rotate), the actions they offer per extension, and their
//! proof keys.

use std::time::Duration;

use futures_util::StreamExt as _;

use crate::config::ProofMode;
pub use crate::editor_registry::{Editor, Editors, Loaded, Refreshed, origin_of};
use crate::state::AppState;

fn setting_key(name: &str) -> String {
    format!("discovery:{name}")
}

/// Largest discovery document wopid reads. The real ones are tens to a few hundred kB; a larger
/// answer is an error, not a reason to fill memory (and the metadata store's cached copy).
pub const MAX_DISCOVERY_BYTES: u64 = 4 << 20;

/// Redirects followed when fetching a discovery document.
pub const MAX_DISCOVERY_REDIRECTS: usize = 3;

/// Reads a discovery document from its URL or local path, at most [`MAX_DISCOVERY_BYTES`].
async fn fetch(source: &str) -> Result<Vec<u8>, String> {
    let too_big = || format!("the document is larger than {MAX_DISCOVERY_BYTES} bytes");
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::limited(MAX_DISCOVERY_REDIRECTS))
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
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_DISCOVERY_BYTES)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        let mut chunks = resp.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| format!("reading: {e}"))?;
            if (body.len() + chunk.len()) as u64 > MAX_DISCOVERY_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    } else {
        use tokio::io::AsyncReadExt as _;
        let path = source.strip_prefix("file://").unwrap_or(source);
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| format!("reading {path}: {e}"))?;
        let mut body = Vec::new();
        file.take(MAX_DISCOVERY_BYTES + 1)
            .read_to_end(&mut body)
            .await
            .map_err(|e| format!("reading {path}: {e}"))?;
        if body.len() as u64 > MAX_DISCOVERY_BYTES {
            return Err(too_big());
        }
        Ok(body)
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
                } else {
                    warn_if_unprovable(e);
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(editor = %e.config.name, error = %err, "reading cached discovery")
            }
        }
    }
}

/// What an editor that requires proofs, with no proof key in its discovery, is told about.
pub const UNPROVABLE: &str = "the editor requires proof keys but its discovery publishes none; \
     set its proof policy to optional (--editor NAME=URL,proof=optional or proof = \"optional\")";

/// Warns when the editor requires proofs and its discovery has no proof key: every request it
/// makes would be refused.
fn warn_if_unprovable(editor: &Editor) {
    if editor.unprovable() {
        tracing::warn!(editor = %editor.config.name, "{UNPROVABLE}");
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
            if let Ok(mut last) = editor.last_error.lock() {
                *last = None;
            }
            tracing::info!(editor = %editor.config.name, "discovery refreshed");
            warn_if_unprovable(editor);
            Refreshed::Updated
        }
        Err(e) => {
            editor
                .failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Ok(mut last) = editor.last_error.lock() {
                *last = Some((state.now_ms(), e.clone()));
            }
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
