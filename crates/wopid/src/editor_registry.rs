//! The configured editors and what wopid knows of each: its discovery document (the actions it
//! offers per extension, its proof keys) and when it was fetched. Refreshing them is
//! `crate::editors`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};

use wopid_proto::discovery::Discovery;
use wopid_proto::proof::ProofKeys;

use crate::config::EditorConfig;

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
    pub(crate) last_attempt: Mutex<Option<i64>>,
    /// Refreshes that failed since start (a metric, and a warning in the log).
    pub(crate) failures: std::sync::atomic::AtomicU64,
    /// The last refresh's error and when it happened (epoch ms); cleared by a good refresh.
    pub(crate) last_error: Mutex<Option<(i64, String)>>,
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

    /// The editor requires proofs, but its discovery (loaded) publishes no usable proof key:
    /// none of its requests can pass.
    pub fn unprovable(&self) -> bool {
        self.config.proof == crate::config::ProofMode::Required
            && self.loaded().is_some_and(|l| l.keys.is_none())
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The last refresh's error and when it happened, unless a refresh succeeded since.
    pub fn last_error(&self) -> Option<(i64, String)> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    pub(crate) fn install(&self, xml: &[u8], fetched_ms: i64) -> Result<(), String> {
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
                last_error: Mutex::new(None),
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
