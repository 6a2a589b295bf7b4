//! `AppState`: what every request and CLI command works with. No globals.

use std::sync::Arc;

use wopid_store::{Blobs, Meta};

use crate::clock::Clock;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub meta: Meta,
    pub blobs: Blobs,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    /// Public base URL without trailing slash.
    pub base: String,
    /// Key of signed download URLs, shared by every node through the metadata store.
    pub url_key: crate::auth::signed::UrlKey,
    /// This process's request metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The configured editors and their discovery documents.
    pub editors: crate::editor_registry::Editors,
    /// Permits to hash or check a password on the blocking pool (`password_hash_concurrency`).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Wakes this process's webhook delivery worker.
    pub webhooks: Arc<crate::webhooks::Hub>,
}

impl AppState {
    /// Opens the configured engines.
    pub async fn open(config: Config, clock: Arc<dyn Clock>, base: String) -> anyhow::Result<Self> {
        let meta = Meta::open(&config.meta_url()).await?;
        let blobs = Blobs::open(&config.blobs_url()).await?;
        let editors = crate::editor_registry::Editors::new(&config.editors);
        let hashing = Arc::new(tokio::sync::Semaphore::new(
            crate::auth::password::concurrency(config.password_hash_concurrency),
        ));
        let url_key = meta
            .setting_or_init("url_signing_key", &wopid_store::new_id())
            .await?;
        let url_key = crate::auth::signed::UrlKey::new(url_key.as_bytes())
            .map_err(|e| anyhow::anyhow!("the URL signing key: {e}"))?;
        Ok(Self(Arc::new(Inner {
            meta,
            blobs,
            clock,
            config,
            base,
            url_key,
            metrics: Arc::default(),
            editors,
            hashing,
            webhooks: Arc::default(),
        })))
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// How lock ids are compared (see `legacy_json_locks`).
    pub fn lock_match(&self) -> wopid_proto::LockMatch {
        if self.config.legacy_json_locks {
            wopid_proto::LockMatch::LegacyJson
        } else {
            wopid_proto::LockMatch::Exact
        }
    }

    /// The origin of the public URL (scheme, host and port), for `PostMessageOrigin`: the base
    /// URL up to its path.
    pub fn origin(&self) -> &str {
        match self.base.find("://") {
            Some(i) => {
                let rest = &self.base[i + 3..];
                let end = rest.find('/').unwrap_or(rest.len());
                &self.base[..i + 3 + end]
            }
            None => &self.base,
        }
    }

    /// The host page of a file for an action (`view`, `edit`).
    pub fn host_page(&self, file_id: &str, action: &str) -> String {
        [self.base.as_str(), "/files/", file_id, "/", action].concat()
    }

    /// The WopiSrc of a file.
    pub fn wopi_src(&self, file_id: &str) -> String {
        [self.base.as_str(), "/wopi/files/", file_id].concat()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
