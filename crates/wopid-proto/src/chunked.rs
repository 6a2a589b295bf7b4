//! Incremental file transfer: the MessageJSON bodies of GetChunkedFile and PutChunkedFile, and
//! the rules that turn them into what to send and what to store.
//!
//! A file's content is a set of named streams (`MainContent` is what GetFile returns; clients
//! add others such as `Alternate`), each a [`StoredStream`]: a chunking scheme and a list of
//! chunks. A file also has content properties ([`ContentProperty`]).
//!
//! - [`GetChunkedFileRequest::from_body`] reads a GetChunkedFile body; [`plan_get`] says what the
//!   response's MessageJSON is and which chunks follow it as Chunk frames.
//! - [`PutChunkedFileRequest::from_frames`] reads a PutChunkedFile body; [`plan_put`] checks the
//!   signatures against the uploaded and already stored chunks and gives the streams to store;
//!   [`streams_after_put`] and [`streams_after_put_file`] the streams of the new version;
//!   [`properties_after_put`] and [`properties_after_content_change`] its properties.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::chunking::{Chunk, ChunkId, ChunkingScheme};
use crate::error::ProtoError;
use crate::frame::{self, Frame};

/// The stream GetFile and PutFile read and write.
pub const MAIN_CONTENT: &str = "MainContent";
/// Most streams one request names (and one file has).
pub const MAX_STREAMS: usize = 16;
/// Longest stream id.
pub const MAX_STREAM_ID_LEN: usize = 128;
/// Most chunks one stream has (and one GetChunkedFile filter says it knows).
pub const MAX_CHUNKS: usize = 65_536;
/// Most content properties one file has (and one request names).
pub const MAX_PROPERTIES: usize = 64;
/// Longest content property name, in bytes.
pub const MAX_PROPERTY_NAME: usize = 256;
/// Longest content property value, in bytes.
pub const MAX_PROPERTY_VALUE: usize = 64 * 1024;

/// What GetChunkedFile sends of a stream's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChunksToReturn {
    /// No chunk: signatures only.
    None,
    /// Every chunk the client does not already know.
    All,
    /// The last chunk of a `Zip` stream (its central directory), unless known; nothing of a
    /// `FullFile` stream.
    LastZipChunk,
}

/// When a content property is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Retention {
    /// Dropped by the next content change (a PutChunkedFile may set it again).
    DeleteOnContentChange,
    /// Kept until overwritten.
    KeepOnContentChange,
}

impl Retention {
    /// The retention's name on the wire, and as wopid's store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteOnContentChange => "DeleteOnContentChange",
            Self::KeepOnContentChange => "KeepOnContentChange",
        }
    }

    /// A stored name read back: `KeepOnContentChange`, else `DeleteOnContentChange`.
    pub fn from_name(name: &str) -> Self {
        if name == Self::KeepOnContentChange.as_str() {
            Self::KeepOnContentChange
        } else {
            Self::DeleteOnContentChange
        }
    }
}

/// A content property: a client's name and value stored with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentProperty {
    pub retention: Retention,
    pub name: String,
    pub value: String,
}

/// A chunk in a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChunkSignature {
    pub chunk_id: ChunkId,
    pub length: u64,
}

/// A stream's chunks, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Signature {
    pub stream_id: String,
    pub chunking_scheme: ChunkingScheme,
    pub chunk_signatures: Vec<ChunkSignature>,
}

/// A stream as a version of a file stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStream {
    pub scheme: ChunkingScheme,
    pub chunks: Vec<Chunk>,
}

impl StoredStream {
    pub fn len(&self) -> u64 {
        self.chunks.iter().map(|c| c.len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// A filter of GetChunkedFile: one stream and what to send of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentFilter {
    pub stream_id: String,
    /// The scheme the client asks for; the host answers with the stream's own.
    pub chunking_scheme: ChunkingScheme,
    pub chunks_to_return: ChunksToReturn,
    pub already_known_chunks: Vec<ChunkId>,
}

/// The MessageJSON of a GetChunkedFile request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetChunkedFileRequest {
    pub content_properties_to_return: Vec<String>,
    pub content_filters: Vec<ContentFilter>,
}

/// The MessageJSON of a GetChunkedFile response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetChunkedFileResponse {
    pub content_properties: Vec<ContentProperty>,
    pub signatures: Vec<Signature>,
}

/// The MessageJSON of a PutChunkedFile request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutChunkedFileRequest {
    pub content_properties: Vec<ContentProperty>,
    pub signatures: Vec<Signature>,
    /// Sent by clients (as `null` by the validator); wopid does not use upload sessions.
    #[serde(default)]
    pub upload_session_token_to_commit: Option<String>,
}

fn check_stream_id(id: &str) -> Result<(), ProtoError> {
    if id.is_empty() || id.len() > MAX_STREAM_ID_LEN || id.chars().any(char::is_control) {
        return Err(ProtoError::BadRequest(
            "stream id is empty, too long or has control characters",
        ));
    }
    Ok(())
}

fn check_property(p: &ContentProperty) -> Result<(), ProtoError> {
    if p.name.is_empty() || p.name.len() > MAX_PROPERTY_NAME || p.value.len() > MAX_PROPERTY_VALUE {
        return Err(ProtoError::BadRequest(
            "content property name or value is empty or too long",
        ));
    }
    Ok(())
}

fn no_duplicates<'a>(
    ids: impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<(), ProtoError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(ProtoError::BadRequest(what));
        }
    }
    Ok(())
}

fn message<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, ProtoError> {
    serde_json::from_slice(json)
        .map_err(|_| ProtoError::BadRequest("MessageJSON does not have the operation's form"))
}

impl GetChunkedFileRequest {
    /// Reads a GetChunkedFile body: a MessageJSON frame and EndFrame, nothing else (400).
    pub fn from_body(body: &[u8]) -> Result<Self, ProtoError> {
        match frame::decode(body, 0)?.as_slice() {
            [Frame::MessageJson(json)] => Self::from_json(json),
            _ => Err(ProtoError::BadRequest(
                "a GetChunkedFile body has only a MessageJSON frame",
            )),
        }
    }

    /// Reads and checks the MessageJSON: 1 to 16 filters of distinct valid streams, at most
    /// 65 536 known chunks each, at most 64 property names (400 otherwise).
    pub fn from_json(json: &[u8]) -> Result<Self, ProtoError> {
        let r: Self = message(json)?;
        if r.content_filters.is_empty() || r.content_filters.len() > MAX_STREAMS {
            return Err(ProtoError::BadRequest("ContentFilters has 1 to 16 filters"));
        }
        for f in &r.content_filters {
            check_stream_id(&f.stream_id)?;
            if f.already_known_chunks.len() > MAX_CHUNKS {
                return Err(ProtoError::BadRequest("too many AlreadyKnownChunks"));
            }
        }
        no_duplicates(
            r.content_filters.iter().map(|f| f.stream_id.as_str()),
            "a stream is named twice",
        )?;
        if r.content_properties_to_return.len() > MAX_PROPERTIES {
            return Err(ProtoError::BadRequest("too many ContentPropertiesToReturn"));
        }
        Ok(r)
    }
}

/// What a GetChunkedFile response holds: the MessageJSON, then a Chunk frame for each of
/// `send`, in order (each once), then EndFrame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetPlan {
    pub message: GetChunkedFileResponse,
    pub send: Vec<Chunk>,
}

impl GetPlan {
    /// The MessageJSON frame's payload.
    pub fn message_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.message).unwrap_or_default()
    }
}

/// GetChunkedFile. `stream` gives a stored stream of the file's current version by id (`None`
/// when it has none), `properties` the file's content properties. A stream that does not exist,
/// or is empty, is answered as an empty `Zip` stream; a stream is described with its own scheme
/// whatever the filter asks for.
pub fn plan_get<'a>(
    req: &GetChunkedFileRequest,
    stream: impl Fn(&str) -> Option<&'a StoredStream>,
    properties: &[ContentProperty],
) -> GetPlan {
    let empty = StoredStream {
        scheme: ChunkingScheme::Zip,
        chunks: Vec::new(),
    };
    let mut signatures = Vec::with_capacity(req.content_filters.len());
    let mut send = Vec::new();
    let mut sent = HashSet::new();
    for f in &req.content_filters {
        let s = stream(&f.stream_id)
            .filter(|s| !s.is_empty())
            .unwrap_or(&empty);
        let known: HashSet<ChunkId> = f.already_known_chunks.iter().copied().collect();
        let wanted: &[Chunk] = match (f.chunks_to_return, s.scheme) {
            (ChunksToReturn::None, _) => &[],
            (ChunksToReturn::All, _) => &s.chunks,
            (ChunksToReturn::LastZipChunk, ChunkingScheme::Zip) => {
                s.chunks.last().map(std::slice::from_ref).unwrap_or(&[])
            }
            (ChunksToReturn::LastZipChunk, ChunkingScheme::FullFile) => &[],
        };
        for c in wanted {
            if !known.contains(&c.id) && sent.insert(c.id) {
                send.push(*c);
            }
        }
        signatures.push(Signature {
            stream_id: f.stream_id.clone(),
            chunking_scheme: s.scheme,
            chunk_signatures: s
                .chunks
                .iter()
                .map(|c| ChunkSignature {
                    chunk_id: c.id,
                    length: c.len,
                })
                .collect(),
        });
    }
    let content_properties = req
        .content_properties_to_return
        .iter()
        .filter_map(|name| properties.iter().find(|p| &p.name == name).cloned())
        .collect();
    GetPlan {
        message: GetChunkedFileResponse {
            content_properties,
            signatures,
        },
        send,
    }
}

impl PutChunkedFileRequest {
    /// Reads a decoded PutChunkedFile body: the MessageJSON and the uploaded chunks (ids already
    /// checked against their payloads by [`frame::decode`]). A ChunkRange frame is 400.
    pub fn from_frames(frames: &[Frame]) -> Result<(Self, HashMap<ChunkId, &[u8]>), ProtoError> {
        let (first, rest) = frames
            .split_first()
            .ok_or(ProtoError::BadRequest("no MessageJSON frame"))?;
        let Frame::MessageJson(json) = first else {
            return Err(ProtoError::BadRequest("the first frame is not MessageJSON"));
        };
        let req = Self::from_json(json)?;
        let mut uploaded = HashMap::new();
        for f in rest {
            match f {
                Frame::Chunk { id, data } => {
                    uploaded.entry(*id).or_insert(data.as_slice());
                }
                Frame::MessageJson(_) => {
                    return Err(ProtoError::BadRequest("a second MessageJSON frame"));
                }
                Frame::ChunkRange { .. } => {
                    return Err(ProtoError::BadRequest(
                        "ChunkRange frames are not supported",
                    ));
                }
            }
        }
        Ok((req, uploaded))
    }

    /// Reads and checks the MessageJSON: 1 to 16 signatures of distinct valid streams, at most
    /// 65 536 chunks each, at most 64 valid properties of distinct names (400 otherwise).
    pub fn from_json(json: &[u8]) -> Result<Self, ProtoError> {
        let r: Self = message(json)?;
        if r.signatures.is_empty() || r.signatures.len() > MAX_STREAMS {
            return Err(ProtoError::BadRequest("Signatures has 1 to 16 streams"));
        }
        for s in &r.signatures {
            check_stream_id(&s.stream_id)?;
            if s.chunk_signatures.len() > MAX_CHUNKS {
                return Err(ProtoError::BadRequest("too many chunks in a stream"));
            }
        }
        no_duplicates(
            r.signatures.iter().map(|s| s.stream_id.as_str()),
            "a stream is named twice",
        )?;
        if r.content_properties.len() > MAX_PROPERTIES {
            return Err(ProtoError::BadRequest("too many ContentProperties"));
        }
        for p in &r.content_properties {
            check_property(p)?;
        }
        no_duplicates(
            r.content_properties.iter().map(|p| p.name.as_str()),
            "a content property is named twice",
        )?;
        Ok(r)
    }
}

/// Where a chunk of an accepted upload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A Chunk frame of this request.
    Uploaded,
    /// Already stored for this file.
    Stored,
}

/// What PutChunkedFile stores: the new streams, and for each distinct chunk where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutPlan {
    pub streams: Vec<(String, StoredStream)>,
    pub sources: BTreeMap<ChunkId, Source>,
}

/// PutChunkedFile: every chunk of every signature must be uploaded in this request or already
/// stored for the file (`stored` gives a stored chunk's length), with the length the signature
/// says; else 400. `max_stream` bounds each stream's total length (413 above it). Uploaded
/// chunks no signature names are ignored.
pub fn plan_put(
    req: &PutChunkedFileRequest,
    uploaded: &HashMap<ChunkId, &[u8]>,
    stored: impl Fn(&ChunkId) -> Option<u64>,
    max_stream: u64,
) -> Result<PutPlan, ProtoError> {
    let lengths: HashMap<ChunkId, u64> = uploaded
        .iter()
        .map(|(id, data)| (*id, data.len() as u64))
        .collect();
    plan_put_lengths(req, &lengths, stored, max_stream)
}

/// [`plan_put`] knowing only the uploaded chunks' lengths (a server that spooled their bytes to
/// storage while it read them).
pub fn plan_put_lengths(
    req: &PutChunkedFileRequest,
    uploaded: &HashMap<ChunkId, u64>,
    stored: impl Fn(&ChunkId) -> Option<u64>,
    max_stream: u64,
) -> Result<PutPlan, ProtoError> {
    let mut sources = BTreeMap::new();
    let mut streams = Vec::with_capacity(req.signatures.len());
    for s in &req.signatures {
        let mut total: u64 = 0;
        let mut chunks = Vec::with_capacity(s.chunk_signatures.len());
        for c in &s.chunk_signatures {
            let (len, source) = match uploaded.get(&c.chunk_id) {
                Some(len) => (*len, Source::Uploaded),
                None => (
                    stored(&c.chunk_id).ok_or(ProtoError::BadRequest(
                        "a chunk is neither uploaded nor stored",
                    ))?,
                    Source::Stored,
                ),
            };
            if len != c.length {
                return Err(ProtoError::BadRequest("a chunk's Length is not its length"));
            }
            total = total.saturating_add(len);
            if total > max_stream {
                return Err(ProtoError::TooLarge { limit: max_stream });
            }
            sources.insert(c.chunk_id, source);
            chunks.push(Chunk {
                id: c.chunk_id,
                len,
            });
        }
        streams.push((
            s.stream_id.clone(),
            StoredStream {
                scheme: s.chunking_scheme,
                chunks,
            },
        ));
    }
    Ok(PutPlan { streams, sources })
}

/// The streams after a PutChunkedFile: the ones it names are replaced (an empty one removed),
/// the others kept.
pub fn streams_after_put(
    current: &BTreeMap<String, StoredStream>,
    put: &[(String, StoredStream)],
) -> BTreeMap<String, StoredStream> {
    let mut next = current.clone();
    for (id, s) in put {
        if s.is_empty() {
            next.remove(id);
        } else {
            next.insert(id.clone(), s.clone());
        }
    }
    next
}

/// The streams after a PutFile (or any whole-content write): `MainContent` only.
pub fn streams_after_put_file(main: StoredStream) -> BTreeMap<String, StoredStream> {
    let mut next = BTreeMap::new();
    if !main.is_empty() {
        next.insert(MAIN_CONTENT.to_owned(), main);
    }
    next
}

/// The properties after a content change by anything but PutChunkedFile (PutFile, a restore):
/// `DeleteOnContentChange` ones are dropped.
pub fn properties_after_content_change(current: &[ContentProperty]) -> Vec<ContentProperty> {
    current
        .iter()
        .filter(|p| p.retention == Retention::KeepOnContentChange)
        .cloned()
        .collect()
}

/// The properties after a PutChunkedFile: the content changed, then the request's properties
/// are set (replacing those of the same name). 400 when the file would have more than 64.
pub fn properties_after_put(
    current: &[ContentProperty],
    set: &[ContentProperty],
) -> Result<Vec<ContentProperty>, ProtoError> {
    let mut next = properties_after_content_change(current);
    for p in set {
        match next.iter_mut().find(|q| q.name == p.name) {
            Some(q) => *q = p.clone(),
            None => next.push(p.clone()),
        }
    }
    if next.len() > MAX_PROPERTIES {
        return Err(ProtoError::BadRequest("too many content properties"));
    }
    Ok(next)
}

#[cfg(test)]
mod tests;
