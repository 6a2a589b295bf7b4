//! The editors wopid works with: their discovery documents (fetched, cached in the metadata
//! store so every node and every restart starts from the last good copy, refreshed on a
//! schedule and again when proof keys rotate), the actions they offer per extension, and their
//! proof keys.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use wopid_proto::discovery::Discovery;
use wopid_proto::proof::ProofKeys;

use crate::config::{EditorConfig, ProofMode};
use crate::state::AppState;

/// A discovery document as wopid uses it.
pub struct Loaded {
    pub discovery: Discovery,
    /// `None` when the document has no (valid) proof keys.
    pub keys: Option<ProofKeys>,
    /// When it was fetched (epoch ms).
    pub fetched_ms: i64,
}

pub struct Editor {
    pub config: EditorConfig,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// The last fetch attempt (epoch ms, wopid's clock), so a rotation re-fetch happens at most
    /// once a minute.
    last_attempt: Mutex<Option<i64>>,
    /// Refreshes that failed since start (a metric, and a warning in the log).
    failures: std::sync::atomic::AtomicU64,
}

/// What `refresh` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    Updated,
    /// The fetch failed; the last good copy (if any) stays in use.
    Failed(String),
}

impl Editor {
    pub fn loaded(&self) -> Option<Arc<Loaded>> {
        self.loaded.read().ok().and_then(|l| l.clone())
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn install(&self, xml: &[u8], fetched_ms: i64) -> Result<(), String> {
        let discovery = Discovery::parse(xml).map_err(|e| format!("discovery document: {e}"))?;
        let keys = discovery
            .proof_key
            .as_ref()
            .and_then(|k| ProofKeys::from_discovery(k).ok());
        if let Ok(mut slot) = self.loaded.write() {
            *slot = Some(Arc::new(Loaded {
                discovery,
                keys,
                fetched_ms,
            }));
        }
        Ok(())
    }

    /// The origin (scheme, host, port) of the editor's action URLs, for the frame and messages.
    pub fn origin(&self, ext: &str) -> Option<String> {
        let loaded = self.loaded()?;
        let url = loaded
            .discovery
            .actions(ext)
            .first()
            .map(|a| a.action.urlsrc.clone())?;
        origin_of(&url)
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let i = url.find("://")?;
    let rest = &url[i + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| format!("{}{}", &url[..i + 3], &rest[..end]))
}

pub struct Editors {
    list: Vec<Editor>,
}

impl Editors {
    pub fn new(configs: &[EditorConfig]) -> Self {
        let list = configs
            .iter()
            .map(|c| Editor {
                config: c.clone(),
                loaded: RwLock::new(None),
                last_attempt: Mutex::new(None),
                failures: std::sync::atomic::AtomicU64::new(0),
            })
            .collect();
        Self { list }
    }

    pub fn all(&self) -> &[Editor] {
        &self.list
    }

    pub fn get(&self, name: &str) -> Option<&Editor> {
        self.list.iter().find(|e| e.config.name == name)
    }

    /// "Open in <editor>" choices for an extension: `(editor, "edit" | "view")`.
    pub fn open_actions(&self, ext: &str, can_write: bool) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for e in &self.list {
            let Some(l) = e.loaded() else { continue };
            if can_write && l.discovery.action(ext, "edit").is_some() {
                out.push((e.config.name.clone(), "edit"));
            } else if l.discovery.action(ext, "view").is_some() {
                out.push((e.config.name.clone(), "view"));
            }
        }
        out
    }

    /// The editor that opens an extension by default: the one configured for it, else the
    /// first that can edit it, else the first that can view it.
    pub fn default_for(&self, ext: &str) -> Option<String> {
        let ext = ext.to_ascii_lowercase();
        if let Some(e) = self.list.iter().find(|e| {
            e.config
                .default_for
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&ext))
        }) {
            return Some(e.config.name.clone());
        }
        let has = |action: &str| {
            self.list
                .iter()
                .find(|e| {
                    e.loaded()
                        .is_some_and(|l| l.discovery.action(&ext, action).is_some())
                })
                .map(|e| e.config.name.clone())
        };
        has("edit").or_else(|| has("view"))
    }

    /// Every origin editors are framed from, for the host page's `frame-src`.
    pub fn frame_origins(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for e in &self.list {
            let Some(l) = e.loaded() else { continue };
            for ext in l
                .discovery
                .extensions_with("view")
                .iter()
                .chain(l.discovery.extensions_with("edit").iter())
            {
                if let Some(o) = e.origin(ext) {
                    out.insert(o);
                }
            }
        }
        out
    }

    /// Every extension some editor can edit.
    pub fn editable_extensions(&self) -> BTreeSet<String> {
        self.list
            .iter()
            .filter_map(Editor::loaded)
            .flat_map(|l| l.discovery.extensions_with("edit"))
            .collect()
    }
}

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
