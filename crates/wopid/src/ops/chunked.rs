//! GetChunkedFile and PutChunkedFile (docs/coauth.md §8–§9): a file version's content as streams
//! of chunks, sent and received as frames.
//!
//! A content made of chunks (`chunks:<id>`) has its streams and properties in the store; a
//! version stored as one blob (a non-zip PutFile, or data from before chunks) is a `MainContent`
//! stream of one `FullFile` chunk, whose id is computed from the blob when asked for.
//!
//! The lock rule of a write and the file's sequence number are co-authoring's
//! (`ops::coauth::check_write`, `ops::coauth::sequence`). Both operations are served only when co-authoring is
//! configured (`http::wopi_call` answers 501 otherwise).

use std::collections::{BTreeMap, HashMap};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;
use sha2::Digest as _;
use wopid_proto::ProtoError;
use wopid_proto::chunked::{
    self, ContentProperty, GetChunkedFileRequest, MAIN_CONTENT, PutChunkedFileRequest, Retention,
    StoredStream,
};
use wopid_proto::chunking::{Chunk, ChunkId, ChunkingScheme};
use wopid_proto::coauth::{self, Presented};
use wopid_proto::frame::{self, FrameHeader, FrameType, HEADER_LEN};
use wopid_store::{
    BlobStream, Blobs, ChunkRecord, Content, ContentProp, FileRecord, FileUpdate, SaveInfo,
    StoreError, content_id,
};

use super::Step;
use super::chunks::{Pending, PendingStream, Src, record_content};
use super::coauth::{check_write, sequence};
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

fn property(p: ContentProp) -> ContentProperty {
    ContentProperty {
        retention: Retention::from_name(&p.retention),
        name: p.name,
        value: p.value,
    }
}

fn prop(p: &ContentProperty) -> ContentProp {
    ContentProp {
        name: p.name.clone(),
        value: p.value.clone(),
        retention: p.retention.as_str().to_owned(),
    }
}

fn chunk_id(rec: &ChunkRecord) -> ChunkId {
    let mut raw = [0u8; 16];
    if rec.chunk_id.len() == 16 {
        raw.copy_from_slice(&rec.chunk_id);
    }
    ChunkId(raw)
}

/// A file's current content in the protocol's terms.
pub struct Current {
    pub streams: BTreeMap<String, StoredStream>,
    /// Where each chunk's bytes are.
    records: HashMap<ChunkId, ChunkRecord>,
    /// The single blob of a version not made of chunks.
    plain: Option<String>,
    pub properties: Vec<ContentProperty>,
}

impl Current {
    /// Where the bytes of a chunk of this content are.
    fn source(&self, id: &ChunkId) -> Option<(ChunkRecord, Src)> {
        let rec = self.records.get(id)?.clone();
        let src = match &self.plain {
            Some(key) => Src::Range(key.clone(), 0..rec.size),
            None => Src::Stored,
        };
        Some((rec, src))
    }
}

/// The streams, chunks and properties of a file's current content.
pub async fn current(state: &AppState, f: &FileRecord) -> Result<Current, ApiError> {
    let mut streams = BTreeMap::new();
    let mut records = HashMap::new();
    match content_id(&f.blob_key) {
        Some(id) => {
            let stored = state
                .meta
                .content_streams(id)
                .await?
                .ok_or(StoreError::Invalid(
                    "a file names content that is not stored",
                ))?;
            for s in stored {
                let chunks = s
                    .chunks
                    .iter()
                    .map(|c| {
                        let id = chunk_id(c);
                        records.entry(id).or_insert_with(|| c.clone());
                        Chunk { id, len: c.size }
                    })
                    .collect();
                streams.insert(
                    s.stream.clone(),
                    StoredStream {
                        scheme: ChunkingScheme::from_name(&s.scheme),
                        chunks,
                    },
                );
            }
            let properties = state
                .meta
                .content_properties(id)
                .await?
                .into_iter()
                .map(property)
                .collect();
            Ok(Current {
                streams,
                records,
                plain: None,
                properties,
            })
        }
        None => {
            if f.size > 0 {
                let len = usize::try_from(f.size)
                    .map_err(|_| StoreError::Invalid("a file too large for this host"))?;
                let whole = std::iter::once(0..len).collect::<Vec<_>>();
                let mut hashed =
                    super::chunks::hash_ranges(&state.blobs, &f.blob_key, &whole).await?;
                if let Some(mut rec) = hashed.pop() {
                    rec.blob_key = f.blob_key.clone();
                    let id = chunk_id(&rec);
                    streams.insert(
                        MAIN_CONTENT.to_owned(),
                        StoredStream {
                            scheme: ChunkingScheme::FullFile,
                            chunks: vec![Chunk { id, len: rec.size }],
                        },
                    );
                    records.insert(id, rec);
                }
            }
            Ok(Current {
                streams,
                records,
                plain: Some(f.blob_key.clone()),
                properties: Vec::new(),
            })
        }
    }
}

/// A GetChunkedFile answer: the frames (streamed), the sequence number and the version.
pub struct ChunkedDownload {
    pub body: BlobStream,
    pub sequence: u32,
    pub version: i64,
}

/// GetChunkedFile: the signatures of the streams asked for, the chunks the client lacks, the
/// properties it names. Read-only.
pub async fn get_chunked_file(
    state: &AppState,
    file: &FileRecord,
    body: &[u8],
) -> Result<ChunkedDownload, ApiError> {
    let req = GetChunkedFileRequest::from_body(body)?;
    let cur = current(state, file).await?;
    let plan = chunked::plan_get(&req, |id| cur.streams.get(id), &cur.properties);
    let mut parts: Vec<Part> = vec![Part::Bytes(Bytes::from(frame::message_frame(
        &plan.message_json(),
    )))];
    for c in &plan.send {
        let rec = cur
            .records
            .get(&c.id)
            .ok_or(StoreError::Invalid("a chunk of the content is not stored"))?;
        parts.push(Part::Bytes(Bytes::copy_from_slice(&frame::chunk_prefix(
            &c.id, c.len,
        ))));
        if c.len > 0 {
            parts.push(Part::Blob(rec.blob_key.clone()));
        }
    }
    parts.push(Part::Bytes(Bytes::copy_from_slice(&frame::end_frame())));
    Ok(ChunkedDownload {
        body: frames_body(state.blobs.clone(), parts),
        sequence: sequence(file),
        version: file.version,
    })
}

enum Part {
    Bytes(Bytes),
    Blob(String),
}

/// The response body: the parts in order, each blob streamed when its turn comes.
fn frames_body(blobs: Blobs, parts: Vec<Part>) -> BlobStream {
    Box::pin(
        futures_util::stream::iter(parts)
            .then(move |p| {
                let blobs = blobs.clone();
                async move {
                    match p {
                        Part::Bytes(b) => {
                            Ok(Box::pin(futures_util::stream::once(async move { Ok(b) }))
                                as BlobStream)
                        }
                        Part::Blob(key) => {
                            blobs.get(&key, None).await.map_err(std::io::Error::other)
                        }
                    }
                }
            })
            .flat_map(|r| match r {
                Ok(s) => s,
                Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
            }),
    )
}

/// Reads a request body piece by piece.
struct Reader {
    body: BlobStream,
    buf: BytesMut,
}

impl Reader {
    /// Fills the buffer to `n` bytes; `false` when the body ends first.
    async fn fill(&mut self, n: usize) -> Result<bool, ApiError> {
        while self.buf.len() < n {
            match self.body.next().await {
                Some(piece) => self
                    .buf
                    .extend_from_slice(&piece.map_err(StoreError::Body)?),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    async fn exact(&mut self, n: usize) -> Result<Bytes, ApiError> {
        if !self.fill(n).await? {
            return Err(ProtoError::BadRequest("frame longer than the body").into());
        }
        Ok(self.buf.split_to(n).freeze())
    }

    /// Up to `max` bytes (at least one), or a 400 when the body ended.
    async fn some(&mut self, max: usize) -> Result<Bytes, ApiError> {
        if !self.fill(1).await? {
            return Err(ProtoError::BadRequest("frame longer than the body").into());
        }
        let n = self.buf.len().min(max);
        Ok(self.buf.split_to(n).freeze())
    }

    async fn at_end(&mut self) -> Result<bool, ApiError> {
        Ok(!self.fill(1).await?)
    }
}

/// An uploaded chunk, spooled to a blob of its own.
struct Spooled {
    key: String,
    sha256: String,
    len: u64,
}

/// The chunks a PutChunkedFile body uploaded; their blobs go unless taken.
struct Uploads {
    chunks: HashMap<ChunkId, Spooled>,
}

impl Uploads {
    async fn discard(self, state: &AppState) {
        for s in self.chunks.into_values() {
            super::content::discard_blob(state, &s.key).await;
        }
    }
}

/// Reads a Chunk frame's payload into a new blob while hashing it; 400 when the id is not the
/// payload's hash.
async fn spool(
    state: &AppState,
    r: &mut Reader,
    id: ChunkId,
    len: u64,
) -> Result<Spooled, ApiError> {
    let key = Blobs::new_key();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let stream: BlobStream = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    }));
    let put = state.blobs.put(&key, stream, len);
    let feed = async {
        let mut spooky = ChunkId::hasher();
        let mut left = len;
        while left > 0 {
            let piece = r.some(usize::try_from(left).unwrap_or(usize::MAX)).await?;
            left -= piece.len() as u64;
            spooky.update(&piece);
            if tx.send(Ok(piece)).await.is_err() {
                break;
            }
        }
        drop(tx);
        Ok::<_, ApiError>(ChunkId::from_hash(spooky.finish()))
    };
    let (stored, fed) = tokio::join!(put, feed);
    let refused = match (&stored, &fed) {
        (_, Err(_)) | (Err(_), _) => true,
        (Ok(out), Ok(got)) => out.size != len || *got != id,
    };
    if refused {
        super::content::discard_blob(state, &key).await;
        fed?;
        let out = stored?;
        if out.size != len {
            return Err(StoreError::Invalid("a spooled chunk has the wrong length").into());
        }
        return Err(ProtoError::BadRequest("chunk id is not the hash of the chunk").into());
    }
    let out = stored?;
    Ok(Spooled {
        key,
        sha256: out.sha256,
        len,
    })
}

/// Reads a PutChunkedFile body frame by frame: the MessageJSON, then Chunk frames (each spooled
/// to a blob), then EndFrame and nothing after it. Every violation is 400; uploads beyond
/// `max_total` bytes are 413.
async fn read_put_body(
    state: &AppState,
    body: BlobStream,
    uploads: &mut Uploads,
) -> Result<PutChunkedFileRequest, ApiError> {
    let max_chunk = state.config.max_upload_bytes;
    let max_total = max_chunk.saturating_mul(chunked::MAX_STREAMS as u64);
    let mut r = Reader {
        body,
        buf: BytesMut::new(),
    };
    let mut req: Option<PutChunkedFileRequest> = None;
    let mut total: u64 = 0;
    loop {
        if !r.fill(HEADER_LEN).await? {
            return Err(ProtoError::BadRequest("frame body ends before EndFrame").into());
        }
        let raw: [u8; HEADER_LEN] = r.buf[..HEADER_LEN].try_into().unwrap_or([0; HEADER_LEN]);
        let header = FrameHeader::parse(&raw)?;
        header.check(max_chunk)?;
        let _ = r.buf.split_to(HEADER_LEN);
        match header.kind {
            FrameType::EndFrame => {
                if !r.at_end().await? {
                    return Err(ProtoError::BadRequest("bytes after EndFrame").into());
                }
                return req.ok_or_else(|| ProtoError::BadRequest("no MessageJSON frame").into());
            }
            FrameType::MessageJson => {
                if req.is_some() {
                    return Err(ProtoError::BadRequest("a second MessageJSON frame").into());
                }
                let json = r.exact(header.payload_len as usize).await?;
                req = Some(PutChunkedFileRequest::from_json(&json)?);
            }
            FrameType::Chunk => {
                if req.is_none() {
                    return Err(ProtoError::BadRequest("MessageJSON is not the first frame").into());
                }
                total = total.saturating_add(header.payload_len);
                if total > max_total {
                    return Err(ProtoError::TooLarge { limit: max_total }.into());
                }
                let id = ChunkId::from_header(&r.exact(16).await?)?;
                let spooled = spool(state, &mut r, id, header.payload_len).await?;
                if let Some(twice) = uploads.chunks.insert(id, spooled) {
                    super::content::discard_blob(state, &twice.key).await;
                }
            }
            FrameType::ChunkRange => {
                return Err(ProtoError::BadRequest("ChunkRange frames are not supported").into());
            }
        }
    }
}

/// What a PutChunkedFile answers.
pub struct ChunkedSaved {
    pub sequence: u32,
    pub version: i64,
}

/// The arguments of a PutChunkedFile from its headers.
pub struct PutChunked {
    pub sequence_number: u32,
    pub lock: Presented,
    pub editors: Option<String>,
}

/// PutChunkedFile, in the order of docs/coauth.md §9: the body's 400s, the lock rule (409), the
/// sequence number (412), every chunk uploaded or already stored for this file (400; 413 for a
/// stream over the size limit), then one compare-and-swap that re-checks the lock and the
/// sequence number.
pub async fn put_chunked_file(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    args: PutChunked,
    body: BlobStream,
) -> Result<ChunkedSaved, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow writing").into());
    }
    let mut uploads = Uploads {
        chunks: HashMap::new(),
    };
    let result = put_with_uploads(state, grant, file, &args, body, &mut uploads).await;
    uploads.discard(state).await;
    let saved = result?;
    webhooks::emit(
        state,
        Event::file(webhooks::FILE_SAVED, Some(&grant.user_id), &saved),
    )
    .await;
    Ok(ChunkedSaved {
        sequence: sequence(&saved),
        version: saved.version,
    })
}

async fn put_with_uploads(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    args: &PutChunked,
    body: BlobStream,
    uploads: &mut Uploads,
) -> Result<FileRecord, ApiError> {
    let req = read_put_body(state, body, uploads).await?;
    let mode = state.lock_match();
    check_write(&args.lock, &file, state.now_ms(), mode)?;
    coauth::check_sequence(args.sequence_number, sequence(&file))?;

    // Chunks not uploaded must be stored for this file: in its current content, or in a content
    // of one of its kept versions.
    let cur = current(state, &file).await?;
    let wanted: Vec<ChunkId> = req
        .signatures
        .iter()
        .flat_map(|s| &s.chunk_signatures)
        .map(|c| c.chunk_id)
        .filter(|id| !uploads.chunks.contains_key(id) && !cur.records.contains_key(id))
        .collect();
    let mut kept: HashMap<ChunkId, ChunkRecord> = HashMap::new();
    if !wanted.is_empty() {
        let ids: Vec<Vec<u8>> = wanted.iter().map(|id| id.0.to_vec()).collect();
        for rec in state.meta.file_chunks(&file.id, &ids).await? {
            kept.insert(chunk_id(&rec), rec);
        }
    }
    let lengths: HashMap<ChunkId, u64> =
        uploads.chunks.iter().map(|(id, s)| (*id, s.len)).collect();
    let plan = chunked::plan_put_lengths(
        &req,
        &lengths,
        |id| cur.records.get(id).or_else(|| kept.get(id)).map(|r| r.size),
        state.config.max_upload_bytes,
    )?;
    let properties = chunked::properties_after_put(&cur.properties, &req.content_properties)?;
    let next = chunked::streams_after_put(&cur.streams, &plan.streams);

    // Where each chunk of the new content is.
    let source = |c: &Chunk| -> Result<Pending, ApiError> {
        if let Some(s) = uploads.chunks.get(&c.id) {
            return Ok(Pending {
                rec: ChunkRecord {
                    sha256: s.sha256.clone(),
                    chunk_id: c.id.0.to_vec(),
                    size: s.len,
                    blob_key: String::new(),
                },
                src: Src::Owned(s.key.clone()),
            });
        }
        if let Some((rec, src)) = cur.source(&c.id) {
            return Ok(Pending { rec, src });
        }
        let rec = kept.get(&c.id).cloned().ok_or(ProtoError::BadRequest(
            "a chunk is neither uploaded nor stored",
        ))?;
        Ok(Pending {
            rec,
            src: Src::Stored,
        })
    };
    let mut streams = Vec::with_capacity(next.len());
    for (id, s) in &next {
        streams.push(PendingStream {
            stream: id.clone(),
            scheme: s.scheme,
            chunks: s.chunks.iter().map(&source).collect::<Result<_, _>>()?,
        });
    }
    let main: Vec<ChunkRecord> = streams
        .iter()
        .find(|s| s.stream == MAIN_CONTENT)
        .map(|s| s.chunks.iter().map(|p| p.rec.clone()).collect())
        .unwrap_or_default();
    let size: u64 = main.iter().map(|c| c.size).sum();
    // The uploaded blobs the new content takes are its own from here on.
    let taken: Vec<String> = streams
        .iter()
        .flat_map(|s| &s.chunks)
        .filter_map(|p| match &p.src {
            Src::Owned(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    uploads.chunks.retain(|_, s| !taken.contains(&s.key));
    let props: Vec<ContentProp> = properties.iter().map(prop).collect();
    let key = record_content(state, streams, props).await?;
    let sha256 = main_sha256(state, &key).await?;

    let content = Content {
        blob_key: key,
        size,
        sha256,
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    let info = SaveInfo {
        editors: args.editors.clone().filter(|e| !e.is_empty()),
        autosave: false,
        exit_save: false,
        modified_by_user: true,
        session: None,
    };
    let presented = args.lock.clone();
    let seq = args.sequence_number;
    let done = super::update_from(state, file, |f, now| {
        check_write(&presented, f, now, mode)?;
        coauth::check_sequence(seq, sequence(f))?;
        let mut c = content.clone();
        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(
            FileUpdate::Save {
                content: c,
                info: info.clone(),
                replaces: None,
            },
            (),
        ))
    })
    .await?;
    // A refused commit leaves the recorded content to the collector.
    done.map(|(f, ())| f).ok_or(ApiError::Busy)
}

/// The SHA-256 of a content's `MainContent`, read chunk after chunk.
async fn main_sha256(state: &AppState, key: &str) -> Result<String, ApiError> {
    let mut body = super::chunks::read_content(state, key, None).await?;
    let mut sha = sha2::Sha256::new();
    while let Some(piece) = body.next().await {
        sha.update(&piece.map_err(StoreError::Io)?);
    }
    Ok(hex::encode(sha.finalize()))
}
