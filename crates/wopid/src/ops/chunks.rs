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
    BlobStream, Blobs, ChunkRecord, NewContent, PutContent, PutOutcome, StoreError, StreamChunks,
    content_id, content_key,
};

use crate::error::ApiError;
use crate::state::AppState;

/// A central directory larger than this is not read: such an upload stays one blob.
const MAX_DIRECTORY: usize = 16 << 20;
/// An archive with more entries than this stays one blob (each entry costs a range read).
const MAX_ENTRIES: usize = 4096;
/// Blob keys of freed chunks deleted per round of the collector.
const DEAD_PAGE: u32 = 256;

pub(crate) fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// The scheme's name as the store keeps it.
pub(crate) fn scheme_name(s: ChunkingScheme) -> &'static str {
    match s {
        ChunkingScheme::Zip => "Zip",
        ChunkingScheme::FullFile => "FullFile",
    }
}

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
async fn hash_ranges(
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
                sha256: hex(&std::mem::take(sha).finalize()),
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

/// Cuts a stored upload: a zip archive becomes a content of chunks (only the chunks not stored
/// yet are written) and the upload's blob goes; anything else stays the blob it is. Returns the
/// blob key the version holds.
pub async fn cut_stored(
    state: &AppState,
    key: String,
    out: &PutOutcome,
) -> Result<String, ApiError> {
    let Ok(len) = usize::try_from(out.size) else {
        return Ok(key);
    };
    let Some(ranges) = zip_cut(&state.blobs, &key, len).await? else {
        return Ok(key);
    };
    let mut chunks = hash_ranges(&state.blobs, &key, &ranges).await?;
    // A reused chunk that the collector frees meanwhile: cut again (it is then written anew).
    for _ in 0..3 {
        let mut wanted: Vec<String> = chunks.iter().map(|c| c.sha256.clone()).collect();
        wanted.sort();
        wanted.dedup();
        let stored = state.meta.find_chunks(&wanted).await?;
        let mut fresh = Vec::new();
        let mut written: Vec<(String, String)> = Vec::new();
        let mut failed = None;
        for (c, r) in chunks.iter_mut().zip(&ranges) {
            if let Some(s) = stored
                .iter()
                .find(|s| s.sha256 == c.sha256 && s.size == c.size && s.chunk_id == c.chunk_id)
            {
                c.blob_key = s.blob_key.clone();
            } else if let Some((_, k)) = written.iter().find(|(sha, _)| *sha == c.sha256) {
                c.blob_key = k.clone();
            } else {
                let k = Blobs::new_key();
                let body = state
                    .blobs
                    .get(&key, Some((r.start as u64, r.end as u64 - 1)))
                    .await?;
                match state.blobs.put(&k, body, c.size).await {
                    Ok(put) if put.sha256 == c.sha256 && put.size == c.size => {}
                    Ok(_) => {
                        failed = Some(StoreError::Invalid("a chunk changed while it was copied"));
                    }
                    Err(e) => failed = Some(e),
                }
                fresh.push(k.clone());
                if failed.is_some() {
                    break;
                }
                written.push((c.sha256.clone(), k.clone()));
                c.blob_key = k;
            }
        }
        if let Some(e) = failed {
            discard_all(state, &fresh).await;
            return Err(e.into());
        }
        let content = NewContent {
            id: wopid_store::new_id(),
            file_id: String::new(),
            streams: vec![StreamChunks {
                stream: MAIN_CONTENT.to_owned(),
                scheme: scheme_name(ChunkingScheme::Zip).to_owned(),
                chunks: chunks.clone(),
            }],
            fresh: fresh.clone(),
            now_ms: state.now_ms(),
        };
        match state.meta.put_content(&content).await {
            Ok(PutContent::Stored { unused }) => {
                discard_all(state, &unused).await;
                super::content::discard_blob(state, &key).await;
                return Ok(content_key(&content.id));
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
