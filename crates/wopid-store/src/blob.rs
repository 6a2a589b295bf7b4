//! The blob store: file contents as immutable objects under random keys.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

use crate::error::{Result, StoreError};

/// A stream of content bytes, as read from a request or a blob.
pub type BlobStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// What a completed `put` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// A blob engine. Objects are written once and never modified.
#[async_trait]
pub trait BlobBackend: Send + Sync {
    /// Stores the whole stream under `key`, all or nothing, and durably before returning. More
    /// than `limit` bytes fails with `TooLarge` and stores nothing.
    async fn put(&self, key: &str, body: BlobStream, limit: u64) -> Result<PutOutcome>;
    /// Reads a blob, or the inclusive byte range `start..=end` of it.
    async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream>;
    /// Removes a blob; removing a missing blob succeeds.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Checks the store is reachable and writable.
    async fn ping(&self) -> Result<()>;
}

/// The blob store wopid uses, whatever the engine.
#[derive(Clone)]
pub struct Blobs(Arc<dyn BlobBackend>);

impl Blobs {
    /// Opens a blob engine by URL: `file://PATH` (created when missing) or
    /// `s3://BUCKET/PREFIX?endpoint=…&region=…`.
    pub async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            let disk = crate::disk::DiskBlobs::open(std::path::Path::new(path)).await?;
            return Ok(Self(Arc::new(disk)));
        }
        if url.starts_with("s3://") {
            return Ok(Self(Arc::new(crate::s3::S3Blobs::open(url)?)));
        }
        Err(StoreError::BadUrl(crate::meta::redact_url(url)))
    }

    pub fn from_backend(b: Arc<dyn BlobBackend>) -> Self {
        Self(b)
    }

    /// A fresh key for a new blob.
    pub fn new_key() -> String {
        crate::new_id()
    }
}

impl std::ops::Deref for Blobs {
    type Target = dyn BlobBackend;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}
