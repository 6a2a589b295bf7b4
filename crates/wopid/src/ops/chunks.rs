//! Content made of chunks: cutting a stored upload (zip-based documents are cut at their entries
//! with `chunking::split_zip`, so that versions share every part that did not change), reading a
//! content back whole or as a range, and collecting the chunks nothing references any more.
//!
//! Memory stays flat whatever the upload: the body is first streamed to a blob as before, the cut
//! reads only the zip's end records, central directory and local headers (range reads), the
//! chunks are hashed while the blob streams once, and only the chunks not stored yet are copied
//! (range reads again) into blobs of their own. A non-zip upload stays the single blob it was
//! written to (the fast path of GetFile and its one-statement read).

use futures_util::{StreamExt as _, TryStreamExt as _};
use sha2::Digest as _;
use wopid_proto::chunked::MAIN_CONTENT;
use wopid_proto::chunking::{self, ChunkId, ChunkingScheme, Pieces};
use wopid_store::{
    BlobStream, Blobs, ChunkRecord, ContentProp, NewContent, PutContent, PutOutcome, StoreError,
    StreamChunks, content_id, content_key,
};

use crate::error::ApiError;
use crate::state::AppState;

/// A central directory larger than this is not read: such an upload stays one blob.
const MAX_DIRECTORY: usize = 16 << 20;
/// An archive with more entries than this stays one blob (each entry costs a range read).
const MAX_ENTRIES: usize = 4096;
/// Blob keys of freed chunks deleted per round of the collector.
const DEAD_PAGE: u32 = 256;

async fn read_range(
    blobs: &Blobs,
    key: &str,
    r: std::ops::Range<usize>,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(r.len());
    if r.is_empty() {
        return Ok(out);
    }
    let mut s = blobs
        .get(key, Some((r.start as u64, r.end as u64 - 1)))
        .await?;
    while let Some(piece) = s.next().await {
        out.extend_from_slice(&piece.map_err(StoreError::Io)?);
    }
    Ok(out)
}

/// The zip cut of a stored blob, from range reads; `None` when it is no zip archive worth cutting.
async fn zip_cut(
    blobs: &Blobs,
    key: &str,
    len: usize,
) -> Result<Option<Vec<std::ops::Range<usize>>>, ApiError> {
    let mut view = Pieces::new(len);
    let tail = chunking::zip_tail(len);
    if tail.len() < 22 {
        return Ok(None);
    }
    view.add(tail.start, read_range(blobs, key, tail).await?);
    let Some(dir) = chunking::zip_directory(&view) else {
        return Ok(None);
    };
    if dir.len() > MAX_DIRECTORY {
        return Ok(None);
    }
    if !view.covers(&dir) {
        view.add(dir.start, read_range(blobs, key, dir).await?);
    }
    let Some(headers) = chunking::zip_local_headers(&view) else {
        return Ok(None);
    };
    if headers.len() > MAX_ENTRIES {
        return Ok(None);
    }
    for r in headers {
        if !view.covers(&r) {
            view.add(r.start, read_range(blobs, key, r).await?);
        }
    }
    Ok(chunking::split_zip(&view)
        .filter(|s| s.ranges.len() > 1)
        .map(|s| s.ranges))
}

/// The id, SHA-256 and length of each range of a blob, read once from start to end.
pub(crate) async fn hash_ranges(
    blobs: &Blobs,
    key: &str,
    ranges: &[std::ops::Range<usize>],
) -> Result<Vec<ChunkRecord>, ApiError> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut body = blobs.get(key, None).await?;
    let mut pos = 0usize;
    let mut i = 0usize;
    let mut spooky = ChunkId::hasher();
    let mut sha = sha2::Sha256::new();
    let mut finish =
        |spooky: &mut wopid_proto::spooky::Hasher, sha: &mut sha2::Sha256, len: usize| {
            let id = ChunkId::from_hash(spooky.finish());
            out.push(ChunkRecord {
                sha256: hex::encode(std::mem::take(sha).finalize()),
                chunk_id: id.0.to_vec(),
                size: len as u64,
                blob_key: String::new(),
            });
            *spooky = ChunkId::hasher();
        };
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(StoreError::Io)?;
        let mut at = 0usize;
        while at < piece.len() && i < ranges.len() {
            let r = &ranges[i];
            let take = (r.end - pos).min(piece.len() - at);
            let part = &piece[at..at + take];
            spooky.update(part);
            sha.update(part);
            at += take;
            pos += take;
            if pos == r.end {
                finish(&mut spooky, &mut sha, r.len());
                i += 1;
            }
        }
    }
    if i != ranges.len() {
        return Err(StoreError::Invalid("a stored upload is shorter than it was").into());
    }
    Ok(out)
}

/// Where the bytes of a chunk to record are.
#[derive(Debug, Clone)]
pub enum Src {
    /// A range of a blob that stays where it is (copied into a blob of its own when needed).
    Range(String, std::ops::Range<u64>),
    /// A blob holding exactly the chunk, owned by the caller: used as the chunk's blob when the
    /// chunk is new, deleted otherwise.
    Owned(String),
    /// A chunk already stored (its record's `blob_key`).
    Stored,
}

/// A chunk to record: its id, SHA-256 and length, and where its bytes are.
#[derive(Debug, Clone)]
pub struct Pending {
    pub rec: ChunkRecord,
    pub src: Src,
}

/// A stream to record.
pub struct PendingStream {
    pub stream: String,
    pub scheme: ChunkingScheme,
    pub chunks: Vec<Pending>,
}

/// Records a content (streams and properties): chunks already stored (same length, id and
/// SHA-256) are reused, the others written. Every `Src::Owned` blob is used or deleted. Returns
/// the content's blob key (`chunks:<id>`).
pub async fn record_content(
    state: &AppState,
    streams: Vec<PendingStream>,
    properties: Vec<ContentProp>,
) -> Result<String, ApiError> {
    let owned: Vec<String> = streams
        .iter()
        .flat_map(|s| &s.chunks)
        .filter_map(|c| match &c.src {
            Src::Owned(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let result = record_attempts(state, &streams, properties).await;
    let used: Vec<String> = match &result {
        Ok((_, used)) => used.clone(),
        Err(_) => Vec::new(),
    };
    let unused: Vec<String> = owned.into_iter().filter(|k| !used.contains(k)).collect();
    discard_all(state, &unused).await;
    result.map(|(key, _)| key)
}

/// Up to three attempts (a reused chunk freed meanwhile is written anew the next time); returns
/// the content key and the owned blobs it uses.
async fn record_attempts(
    state: &AppState,
    streams: &[PendingStream],
    properties: Vec<ContentProp>,
) -> Result<(String, Vec<String>), ApiError> {
    for _ in 0..3 {
        let mut wanted: Vec<String> = streams
            .iter()
            .flat_map(|s| &s.chunks)
            .map(|c| c.rec.sha256.clone())
            .collect();
        wanted.sort();
        wanted.dedup();
        let stored = state.meta.find_chunks(&wanted).await?;
        // Blobs this attempt wrote (deleted when it fails) and the owned blobs it uses.
        let mut fresh: Vec<String> = Vec::new();
        let mut owned_used: Vec<String> = Vec::new();
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut out = Vec::with_capacity(streams.len());
        let mut failed: Option<ApiError> = None;
        'streams: for s in streams {
            let mut chunks = Vec::with_capacity(s.chunks.len());
            for c in &s.chunks {
                let mut rec = c.rec.clone();
                if let Some(k) = stored.iter().find(|k| {
                    k.sha256 == rec.sha256 && k.size == rec.size && k.chunk_id == rec.chunk_id
                }) {
                    rec.blob_key = k.blob_key.clone();
                } else if let Some((_, k)) = keys.iter().find(|(sha, _)| *sha == rec.sha256) {
                    rec.blob_key = k.clone();
                } else {
                    match &c.src {
                        Src::Stored => {
                            // Freed since it was found: the client must upload it again.
                            failed = Some(ApiError::Busy);
                            break 'streams;
                        }
                        Src::Owned(k) => {
                            owned_used.push(k.clone());
                            rec.blob_key = k.clone();
                        }
                        Src::Range(blob, r) => {
                            let k = Blobs::new_key();
                            fresh.push(k.clone());
                            if let Err(e) = copy_range(state, blob, r, &k, &rec).await {
                                failed = Some(e);
                                break 'streams;
                            }
                            rec.blob_key = k;
                        }
                    }
                    keys.push((rec.sha256.clone(), rec.blob_key.clone()));
                }
                chunks.push(rec);
            }
            out.push(StreamChunks {
                stream: s.stream.clone(),
                scheme: s.scheme.as_str().to_owned(),
                chunks,
            });
        }
        if let Some(e) = failed {
            discard_all(state, &fresh).await;
            return Err(e);
        }
        let mut all_fresh = fresh.clone();
        all_fresh.extend(owned_used.iter().cloned());
        let content = NewContent {
            id: wopid_store::new_id(),
            file_id: String::new(),
            streams: out,
            fresh: all_fresh,
            properties: properties.clone(),
            now_ms: state.now_ms(),
        };
        match state.meta.put_content(&content).await {
            Ok(PutContent::Stored { unused }) => {
                discard_all(state, &unused).await;
                let used = owned_used
                    .into_iter()
                    .filter(|k| !unused.contains(k))
                    .collect();
                return Ok((content_key(&content.id), used));
            }
            Ok(PutContent::ChunkGone) => discard_all(state, &fresh).await,
            Err(e) => {
                discard_all(state, &fresh).await;
                return Err(e.into());
            }
        }
    }
    Err(ApiError::Busy)
}

/// Copies a range of a blob into a new blob, checking it holds the chunk.
async fn copy_range(
    state: &AppState,
    blob: &str,
    r: &std::ops::Range<u64>,
    key: &str,
    rec: &ChunkRecord,
) -> Result<(), ApiError> {
    let body = state.blobs.get(blob, Some((r.start, r.end - 1))).await?;
    let put = state.blobs.put(key, body, rec.size).await?;
    if put.sha256 != rec.sha256 || put.size != rec.size {
        return Err(StoreError::Invalid("a chunk changed while it was copied").into());
    }
    Ok(())
}

/// Cuts a stored upload (`zip_like`: it starts with a zip local header): a zip archive becomes a content of chunks (only the chunks not stored
/// yet are written) and the upload's blob goes. Anything else stays the blob it is, unless
/// `properties` are to be kept with it: then it becomes a content of one `FullFile` chunk (the
/// upload's blob). Returns the blob key the version holds.
pub async fn cut_stored(
    state: &AppState,
    key: String,
    out: &PutOutcome,
    properties: Vec<ContentProp>,
    zip_like: bool,
) -> Result<String, ApiError> {
    let Ok(len) = usize::try_from(out.size) else {
        return Ok(key);
    };
    if !zip_like && properties.is_empty() {
        // The fast path: not a zip archive, one blob.
        return Ok(key);
    }
    let cut = if zip_like {
        zip_cut(&state.blobs, &key, len).await?
    } else {
        None
    };
    let (scheme, ranges) = match cut {
        Some(ranges) => (ChunkingScheme::Zip, ranges),
        None if properties.is_empty() => return Ok(key),
        None => (
            ChunkingScheme::FullFile,
            std::iter::once(0..len).filter(|r| !r.is_empty()).collect(),
        ),
    };
    let hashed = hash_ranges(&state.blobs, &key, &ranges).await?;
    let whole = scheme == ChunkingScheme::FullFile;
    let chunks = hashed
        .into_iter()
        .zip(&ranges)
        .map(|(rec, r)| Pending {
            rec,
            src: if whole {
                Src::Owned(key.clone())
            } else {
                Src::Range(key.clone(), r.start as u64..r.end as u64)
            },
        })
        .collect();
    let stream = PendingStream {
        stream: MAIN_CONTENT.to_owned(),
        scheme,
        chunks,
    };
    let recorded = record_content(state, vec![stream], properties).await;
    if !whole || len == 0 {
        // The upload's blob was only read from.
        super::content::discard_blob(state, &key).await;
    }
    recorded
}

async fn discard_all(state: &AppState, keys: &[String]) {
    for k in keys {
        super::content::discard_blob(state, k).await;
    }
}

/// The MainContent chunks of a content (no content: none).
pub async fn main_chunks(state: &AppState, content: &str) -> Result<Vec<ChunkRecord>, ApiError> {
    let streams = state
        .meta
        .content_streams(content)
        .await?
        .ok_or(StoreError::Invalid(
            "a version names content that is not stored",
        ))?;
    Ok(streams
        .into_iter()
        .find(|s| s.stream == MAIN_CONTENT)
        .map(|s| s.chunks)
        .unwrap_or_default())
}

/// Reads the chunks in order, whole or the inclusive byte range `start..=end` of their
/// concatenation, streaming one chunk after the other.
pub fn read_chunks(
    blobs: &Blobs,
    chunks: Vec<ChunkRecord>,
    range: Option<(u64, u64)>,
) -> BlobStream {
    let mut parts = Vec::new();
    let mut at = 0u64;
    for c in chunks {
        let (start, stop) = (at, at + c.size);
        at = stop;
        if c.size == 0 {
            continue;
        }
        match range {
            None => parts.push((c.blob_key, None)),
            Some((s, e)) if s < stop && e >= start => {
                let from = s.max(start) - start;
                let to = e.min(stop - 1) - start;
                let whole = from == 0 && to == c.size - 1;
                parts.push((c.blob_key, (!whole).then_some((from, to))));
            }
            Some(_) => {}
        }
    }
    let blobs = blobs.clone();
    Box::pin(
        futures_util::stream::iter(parts)
            .then(move |(key, r)| {
                let blobs = blobs.clone();
                async move { blobs.get(&key, r).await.map_err(std::io::Error::other) }
            })
            .try_flatten(),
    )
}

/// The body of a stored content (a blob key or a content of chunks), whole or a range.
pub async fn read_content(
    state: &AppState,
    blob_key: &str,
    range: Option<(u64, u64)>,
) -> Result<BlobStream, ApiError> {
    match content_id(blob_key) {
        None => Ok(state.blobs.get(blob_key, range).await?),
        Some(id) => {
            let chunks = main_chunks(state, id).await?;
            Ok(read_chunks(&state.blobs, chunks, range))
        }
    }
}

/// Frees the chunks no version references (untouched for `chunk_grace`) and deletes their blobs;
/// returns how many chunks went. Safe to run anywhere at any time, on several nodes at once.
pub async fn collect(state: &AppState) -> Result<u64, StoreError> {
    let before = wopid_proto::Millis::from_ms(state.now_ms())
        .saturating_sub(state.config.chunk_grace)
        .as_ms();
    let freed = state.meta.sweep_chunks(before).await?;
    loop {
        let dead = state.meta.dead_blobs(DEAD_PAGE).await?;
        if dead.is_empty() {
            break;
        }
        for k in &dead {
            state.blobs.delete(k).await?;
        }
        state.meta.forget_dead_blobs(&dead).await?;
        if dead.len() < DEAD_PAGE as usize {
            break;
        }
    }
    Ok(freed)
}

/// [`collect`] after content left the history (a file or version deleted); a failure is logged,
/// the periodic purge runs it again.
pub async fn collect_now(state: &AppState) {
    if let Err(e) = collect(state).await {
        tracing::warn!(error = %e, "collecting unused chunks failed");
    }
}
