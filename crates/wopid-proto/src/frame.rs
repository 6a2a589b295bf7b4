//! The WOPI frame protocol: the bodies of GetChunkedFile and PutChunkedFile.
//!
//! A body is a sequence of frames. Each frame is a 16-byte header, then an extended header, then
//! a payload; all integers are big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0–3 | frame type (u32): 1 EndFrame, 2 MessageJSON, 3 Chunk, 4 ChunkRange; 0 and others are invalid |
//! | 4–7 | length of the extended header (u32) |
//! | 8–15 | length of the payload (u64) |
//!
//! - MessageJSON: no extended header; the payload is a UTF-8 JSON object. It is the first frame.
//! - Chunk: the extended header is the 16-byte chunk id, the payload the chunk's bytes; the id
//!   must be the SpookyHash of the payload.
//! - ChunkRange: carried opaquely (its extended header and payload are kept as given). wopid never
//!   sends one and refuses one in an upload.
//! - EndFrame: no extended header, no payload; it ends the body, and nothing may follow it.
//!
//! [`FrameHeader::parse`] and [`FrameHeader::check`] read one header with the limits that let a
//! caller stream a payload of known length; [`decode`] reads a whole body in memory; [`encode`]
//! and [`FrameHeader::encode`] write them.

use crate::chunking::ChunkId;
use crate::error::ProtoError;

/// Bytes of a frame header.
pub const HEADER_LEN: usize = 16;
/// Longest extended header wopid reads (a chunk id is 16 bytes).
pub const MAX_EXTENDED_HEADER: u32 = 1024;
/// Longest MessageJSON payload wopid reads.
pub const MAX_MESSAGE_JSON: u64 = 4 * 1024 * 1024;

/// The frame types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    EndFrame,
    MessageJson,
    Chunk,
    ChunkRange,
}

impl FrameType {
    pub fn code(self) -> u32 {
        match self {
            Self::EndFrame => 1,
            Self::MessageJson => 2,
            Self::Chunk => 3,
            Self::ChunkRange => 4,
        }
    }

    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::EndFrame,
            2 => Self::MessageJson,
            3 => Self::Chunk,
            4 => Self::ChunkRange,
            _ => return None,
        })
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub kind: FrameType,
    pub extended_len: u32,
    pub payload_len: u64,
}

impl FrameHeader {
    /// Reads the 16 header bytes; an unknown frame type is 400.
    pub fn parse(raw: &[u8; HEADER_LEN]) -> Result<Self, ProtoError> {
        let mut t = [0u8; 4];
        t.copy_from_slice(&raw[0..4]);
        let mut e = [0u8; 4];
        e.copy_from_slice(&raw[4..8]);
        let mut p = [0u8; 8];
        p.copy_from_slice(&raw[8..16]);
        Ok(Self {
            kind: FrameType::from_code(u32::from_be_bytes(t))
                .ok_or(ProtoError::BadRequest("unknown frame type"))?,
            extended_len: u32::from_be_bytes(e),
            payload_len: u64::from_be_bytes(p),
        })
    }

    /// The lengths each frame type allows (400 otherwise); `max_payload` bounds a Chunk or
    /// ChunkRange payload (the host's size limit), MessageJSON has [`MAX_MESSAGE_JSON`].
    pub fn check(&self, max_payload: u64) -> Result<(), ProtoError> {
        let ok = match self.kind {
            FrameType::EndFrame => self.extended_len == 0 && self.payload_len == 0,
            FrameType::MessageJson => {
                self.extended_len == 0
                    && self.payload_len > 0
                    && self.payload_len <= MAX_MESSAGE_JSON
            }
            FrameType::Chunk => self.extended_len == 16 && self.payload_len <= max_payload,
            FrameType::ChunkRange => {
                self.extended_len <= MAX_EXTENDED_HEADER && self.payload_len <= max_payload
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ProtoError::BadRequest("frame lengths do not fit its type"))
        }
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.kind.code().to_be_bytes());
        out[4..8].copy_from_slice(&self.extended_len.to_be_bytes());
        out[8..16].copy_from_slice(&self.payload_len.to_be_bytes());
        out
    }
}

/// One frame, EndFrame excluded (it is implied at the end of a body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    MessageJson(Vec<u8>),
    Chunk { id: ChunkId, data: Vec<u8> },
    ChunkRange { extended: Vec<u8>, data: Vec<u8> },
}

impl Frame {
    /// The header this frame is written with.
    pub fn header(&self) -> FrameHeader {
        let (kind, extended_len, payload_len) = match self {
            Self::MessageJson(p) => (FrameType::MessageJson, 0, p.len()),
            Self::Chunk { data, .. } => (FrameType::Chunk, 16, data.len()),
            Self::ChunkRange { extended, data } => {
                (FrameType::ChunkRange, extended.len(), data.len())
            }
        };
        FrameHeader {
            kind,
            extended_len: u32::try_from(extended_len).unwrap_or(u32::MAX),
            payload_len: payload_len as u64,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header().encode());
        match self {
            Self::MessageJson(p) => out.extend_from_slice(p),
            Self::Chunk { id, data } => {
                out.extend_from_slice(&id.0);
                out.extend_from_slice(data);
            }
            Self::ChunkRange { extended, data } => {
                out.extend_from_slice(extended);
                out.extend_from_slice(data);
            }
        }
    }
}

/// The EndFrame header.
pub fn end_frame() -> [u8; HEADER_LEN] {
    FrameHeader {
        kind: FrameType::EndFrame,
        extended_len: 0,
        payload_len: 0,
    }
    .encode()
}

/// The bytes of a MessageJSON frame (header and payload), for a response written piece by piece.
pub fn message_frame(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + json.len());
    Frame::MessageJson(Vec::new()).write(&mut out);
    out[8..16].copy_from_slice(&(json.len() as u64).to_be_bytes());
    out.extend_from_slice(json);
    out
}

/// What precedes a chunk's bytes in its Chunk frame: the header and the id (32 bytes), so a
/// response streams each chunk from storage after it.
pub fn chunk_prefix(id: &ChunkId, len: u64) -> [u8; HEADER_LEN + 16] {
    let mut out = [0u8; HEADER_LEN + 16];
    out[..HEADER_LEN].copy_from_slice(
        &FrameHeader {
            kind: FrameType::Chunk,
            extended_len: 16,
            payload_len: len,
        }
        .encode(),
    );
    out[HEADER_LEN..].copy_from_slice(&id.0);
    out
}

/// A body: the frames, then EndFrame.
pub fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.write(&mut out);
    }
    out.extend_from_slice(&end_frame());
    out
}

/// Reads a whole body: the first frame is MessageJSON, the last EndFrame, nothing follows it, and
/// every Chunk's id is the hash of its payload. `max_payload` bounds each Chunk payload. Any
/// violation, or a body cut short, is 400; no length is trusted before the bytes are there.
pub fn decode(body: &[u8], max_payload: u64) -> Result<Vec<Frame>, ProtoError> {
    let mut frames = Vec::new();
    let mut rest = body;
    loop {
        let raw: &[u8; HEADER_LEN] = rest
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(ProtoError::BadRequest("frame body ends before EndFrame"))?;
        let header = FrameHeader::parse(raw)?;
        header.check(max_payload)?;
        rest = &rest[HEADER_LEN..];
        let ext_len = header.extended_len as usize;
        let total = u64::try_from(ext_len)
            .ok()
            .and_then(|e| e.checked_add(header.payload_len))
            .filter(|&t| t <= rest.len() as u64)
            .ok_or(ProtoError::BadRequest("frame longer than the body"))?
            as usize;
        let (extended, payload) = rest[..total].split_at(ext_len);
        rest = &rest[total..];
        let frame = match header.kind {
            FrameType::EndFrame => {
                if !rest.is_empty() {
                    return Err(ProtoError::BadRequest("bytes after EndFrame"));
                }
                if frames.is_empty() {
                    return Err(ProtoError::BadRequest("no MessageJSON frame"));
                }
                return Ok(frames);
            }
            FrameType::MessageJson => {
                if !frames.is_empty() {
                    return Err(ProtoError::BadRequest("MessageJSON is not the first frame"));
                }
                Frame::MessageJson(payload.to_vec())
            }
            FrameType::Chunk => {
                let id = ChunkId::from_header(extended)?;
                if ChunkId::of(payload) != id {
                    return Err(ProtoError::BadRequest(
                        "chunk id is not the hash of the chunk",
                    ));
                }
                Frame::Chunk {
                    id,
                    data: payload.to_vec(),
                }
            }
            FrameType::ChunkRange => Frame::ChunkRange {
                extended: extended.to_vec(),
                data: payload.to_vec(),
            },
        };
        if frames.is_empty() && !matches!(frame, Frame::MessageJson(_)) {
            return Err(ProtoError::BadRequest("the first frame is not MessageJSON"));
        }
        frames.push(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: u64 = 1 << 20;

    fn chunk(data: &[u8]) -> Frame {
        Frame::Chunk {
            id: ChunkId::of(data),
            data: data.to_vec(),
        }
    }

    /// The bytes the validator's client builds for a GetChunkedFile request: MessageJSON, EndFrame.
    #[test]
    fn layout_byte_by_byte() {
        let body = encode(&[Frame::MessageJson(b"{}".to_vec()), chunk(b"ab")]);
        let mut want = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, b'{', b'}'];
        want.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 2]);
        want.extend_from_slice(&ChunkId::of(b"ab").0);
        want.extend_from_slice(b"ab");
        want.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(body, want);
        assert_eq!(
            decode(&body, MAX),
            Ok(vec![Frame::MessageJson(b"{}".to_vec()), chunk(b"ab")])
        );
    }

    #[test]
    fn refusals() {
        let good = encode(&[Frame::MessageJson(b"{}".to_vec()), chunk(b"xyz")]);
        let bad = |b: &[u8]| decode(b, MAX).is_err();
        // Cut anywhere before the end.
        for n in 0..good.len() {
            assert!(bad(&good[..n]), "cut at {n}");
        }
        // Trailing bytes.
        let mut t = good.clone();
        t.push(0);
        assert!(bad(&t));
        // No MessageJSON; MessageJSON not first; an empty MessageJSON.
        assert!(bad(&encode(&[])));
        assert!(bad(&encode(&[
            chunk(b"a"),
            Frame::MessageJson(b"{}".to_vec())
        ])));
        assert!(bad(&encode(&[Frame::MessageJson(Vec::new())])));
        // A chunk whose id is not its hash.
        let mut wrong = encode(&[Frame::MessageJson(b"{}".to_vec()), chunk(b"xyz")]);
        let n = wrong.len();
        wrong[n - HEADER_LEN - 1] ^= 1;
        assert!(bad(&wrong));
        // Undefined frame type 0 and type 5.
        for code in [0u8, 5] {
            let mut u = good.clone();
            u[3] = code;
            assert!(bad(&u));
        }
        // A chunk payload above the limit.
        assert!(decode(&good, 2).is_err());
        assert!(decode(&good, 3).is_ok());
        // A huge declared length is refused without allocating.
        let mut huge = FrameHeader {
            kind: FrameType::MessageJson,
            extended_len: 0,
            payload_len: u64::MAX,
        }
        .encode()
        .to_vec();
        huge.extend_from_slice(&end_frame());
        assert!(bad(&huge));
    }

    #[test]
    fn written_piece_by_piece() {
        let mut body = message_frame(b"{}");
        body.extend_from_slice(&chunk_prefix(&ChunkId::of(b"ab"), 2));
        body.extend_from_slice(b"ab");
        body.extend_from_slice(&end_frame());
        assert_eq!(
            body,
            encode(&[Frame::MessageJson(b"{}".to_vec()), chunk(b"ab")])
        );
    }

    #[test]
    fn chunk_range_is_carried() {
        let f = Frame::ChunkRange {
            extended: vec![1, 2, 3],
            data: vec![9; 5],
        };
        let body = encode(&[Frame::MessageJson(b"{}".to_vec()), f.clone()]);
        assert_eq!(
            decode(&body, MAX),
            Ok(vec![Frame::MessageJson(b"{}".to_vec()), f])
        );
    }

    fn any_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|d| chunk(&d)),
            (
                proptest::collection::vec(any::<u8>(), 0..20),
                proptest::collection::vec(any::<u8>(), 0..20)
            )
                .prop_map(|(extended, data)| Frame::ChunkRange { extended, data }),
        ]
    }

    proptest! {
        #[test]
        fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&body, MAX);
        }

        #[test]
        fn round_trip(
            json in proptest::collection::vec(any::<u8>(), 1..64),
            rest in proptest::collection::vec(any_frame(), 0..6),
        ) {
            let mut frames = vec![Frame::MessageJson(json)];
            frames.extend(rest);
            prop_assert_eq!(decode(&encode(&frames), MAX), Ok(frames));
        }

        /// Valid bodies with one byte changed: an error or frames, never a panic.
        #[test]
        fn mutated_bodies_never_panic(
            rest in proptest::collection::vec(any_frame(), 0..4),
            at in any::<usize>(),
            byte in any::<u8>(),
        ) {
            let mut frames = vec![Frame::MessageJson(b"{}".to_vec())];
            frames.extend(rest);
            let mut body = encode(&frames);
            let n = body.len();
            body[at % n] = byte;
            let _ = decode(&body, MAX);
        }
    }
}
