//! Content stored as chunks addressed by their SHA-256, so that versions share what did not change.
//!
//! A chunk is an ordinary blob under a random key (never reused once its chunk is freed), listed
//! in `chunks` by the SHA-256 of its bytes with its protocol chunk id (SpookyHash) and length. A
//! content (`contents`) belongs to one file and is a map stream id → (scheme, ordered chunk
//! list) (`content_streams`, `content_chunks`). A version whose content is made of chunks has
//! the blob key `chunks:<content id>` ([`content_key`]); any other blob key is a single blob
//! holding the whole content (a non-zip file, or data written before chunks existed): that is the
//! fast path of GetFile.
//!
//! Saving is two steps: [`ChunkStore::put_content`] records the content and its chunks (touching
//! every chunk it reuses: `used_ms`), then the version commit references it and touches the
//! content row in its own transaction (or fails with `StoreError::ContentGone`). Nothing is freed
//! by reference counts: [`ChunkStore::sweep_chunks`] deletes, in one transaction, the contents no
//! file or version references and not touched since `before_ms`, then the chunks no content
//! references and not touched since then, moving their blob keys to `dead_blobs`; the caller
//! deletes those blobs and then forgets them ([`ChunkStore::dead_blobs`],
//! [`ChunkStore::forget_dead_blobs`]). A crash at any point leaves at worst a blob still listed as
//! dead (deleted again next time) and never frees a chunk a committed version references: a
//! commit that reuses a row touches it, and on PostgreSQL the sweep runs at REPEATABLE READ, so a
//! sweep racing a commit that touched a row it wants to delete fails and is run again later.

use async_trait::async_trait;

use crate::error::Result;

/// The blob-key prefix of a content made of chunks.
pub const CONTENT_PREFIX: &str = "chunks:";

/// The blob key a version holds for the content `id`.
pub fn content_key(id: &str) -> String {
    format!("{CONTENT_PREFIX}{id}")
}

/// The content id of a blob key naming a content made of chunks; `None` for a single blob.
pub fn content_id(blob_key: &str) -> Option<&str> {
    blob_key.strip_prefix(CONTENT_PREFIX)
}

/// One stored chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    /// Lower-case hex SHA-256 of the bytes: the key.
    pub sha256: String,
    /// The protocol chunk id (SpookyHash V2, 16 bytes).
    pub chunk_id: Vec<u8>,
    pub size: u64,
    pub blob_key: String,
}

/// One stream of a content: its chunking scheme and its chunks in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamChunks {
    pub stream: String,
    /// `Zip` or `FullFile`, as the protocol names them.
    pub scheme: String,
    pub chunks: Vec<ChunkRecord>,
}

impl StreamChunks {
    pub fn len(&self) -> u64 {
        self.chunks.iter().map(|c| c.size).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// A content property (`X-WOPI` co-authoring): kept with the content it was set with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentProp {
    pub name: String,
    pub value: String,
    /// `KeepOnContentChange` or `DeleteOnContentChange`, as the protocol names them.
    pub retention: String,
}

/// A content to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContent {
    pub id: String,
    /// The file it belongs to; empty when not known yet (a new file): the first version commit
    /// that references it claims it for its file.
    pub file_id: String,
    pub streams: Vec<StreamChunks>,
    /// The blob keys this save wrote (chunks that were not stored): they are inserted, every
    /// other chunk must still be stored under its key.
    pub fresh: Vec<String>,
    /// The content properties that go with it.
    pub properties: Vec<ContentProp>,
    pub now_ms: i64,
}

/// What recording a content did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutContent {
    /// Recorded. The fresh blobs listed here are not used: another save stored the same chunk
    /// first (delete them).
    Stored { unused: Vec<String> },
    /// A chunk the content reuses was freed meanwhile: nothing was recorded; cut again.
    ChunkGone,
}

/// Chunk storage, beside the metadata of every engine.
#[async_trait]
pub trait ChunkStore: Send + Sync {
    /// The stored chunks with these SHA-256 (those that exist).
    async fn find_chunks(&self, sha256: &[String]) -> Result<Vec<ChunkRecord>>;
    /// Records a content and its chunks, in one step.
    async fn put_content(&self, content: &NewContent) -> Result<PutContent>;
    /// The streams of a content, each with its chunks in order (`None`: no such content).
    async fn content_streams(&self, content_id: &str) -> Result<Option<Vec<StreamChunks>>>;
    /// The properties of a content, by name.
    async fn content_properties(&self, content_id: &str) -> Result<Vec<ContentProp>>;
    /// The chunks with these protocol ids stored in a content of the file `file_id` that one of
    /// its versions (or the file) references.
    async fn file_chunks(&self, file_id: &str, chunk_ids: &[Vec<u8>]) -> Result<Vec<ChunkRecord>>;
    /// Frees the contents and chunks nothing references and nothing touched since `before_ms`;
    /// returns how many chunks went (their blob keys are in `dead_blobs`).
    async fn sweep_chunks(&self, before_ms: i64) -> Result<u64>;
    /// Up to `limit` blob keys of freed chunks, still to delete from the blob store.
    async fn dead_blobs(&self, limit: u32) -> Result<Vec<String>>;
    /// Forgets dead blob keys whose blobs are deleted.
    async fn forget_dead_blobs(&self, keys: &[String]) -> Result<()>;
    /// How many chunks are stored (for tests and statistics).
    async fn chunk_count(&self) -> Result<u64>;
}

/// The columns of a chunk, of the table aliased `k`.
pub(crate) const CHUNK_COLS: &str = "k.sha256, k.chunk_id, k.size, k.blob_key";

/// A chunk from the [`CHUNK_COLS`] starting at column `at`.
pub(crate) fn chunk_at(r: &impl crate::rows::Get, at: usize) -> Result<ChunkRecord> {
    Ok(ChunkRecord {
        sha256: r.text(at)?,
        chunk_id: r.bytes(at + 1)?,
        size: u64::try_from(r.int(at + 2)?).unwrap_or(0),
        blob_key: r.text(at + 3)?,
    })
}

/// Groups (stream, chunk) rows ordered by stream and position into the streams of a content.
pub(crate) fn group_streams(
    streams: Vec<(String, String)>,
    chunks: Vec<(String, ChunkRecord)>,
) -> Vec<StreamChunks> {
    let mut out: Vec<StreamChunks> = streams
        .into_iter()
        .map(|(stream, scheme)| StreamChunks {
            stream,
            scheme,
            chunks: Vec::new(),
        })
        .collect();
    for (stream, chunk) in chunks {
        if let Some(s) = out.iter_mut().find(|s| s.stream == stream) {
            s.chunks.push(chunk);
        }
    }
    out
}

/// Whether a content is referenced, as an SQL condition on the table aliased `c` (`contents`):
/// a version of its file, or the file itself, holds its key.
pub(crate) const CONTENT_REFERENCED: &str = "(EXISTS (SELECT 1 FROM versions v WHERE v.file_id = c.file_id AND v.blob_key = 'chunks:' || c.id) \
     OR EXISTS (SELECT 1 FROM files f WHERE f.id = c.file_id AND f.blob_key = 'chunks:' || c.id))";
