//! Chunks of incremental file transfer: their ids and the two chunking schemes.
//!
//! A stream (a file's `MainContent`, or another named stream such as `Alternate`) is a sequence
//! of chunks; a chunk is identified by the SpookyHash V2 of its bytes ([`ChunkId`]).
//!
//! - `FullFile`: the whole stream is one chunk, and an empty stream has none.
//! - `Zip`: a zip archive is cut at its entries' boundaries: for each entry in the order of the
//!   archive, its local header (signature, fixed fields, name and extra field) is one chunk and
//!   what follows up to the next entry (the compressed data, and a data descriptor if any) is
//!   another; the central directory with the end records is the last chunk. Bytes before the first
//!   entry are a chunk of their own. Empty pieces are no chunk. This is the cut of the
//!   validator's `ChunkIds.txt` resources, so versions of a document that change one part share
//!   every other chunk. Content that is not such an archive (or a zip64 one) is chunked `FullFile`.
//!
//! [`split`] gives the chunk boundaries of content whose scheme the host picks (a plain PutFile),
//! and [`Chunk::of`] the id and length of each piece.

use base64::Engine as _;

use crate::error::ProtoError;
use crate::spooky;

/// The id of a chunk: SpookyHash V2 of its bytes, seeds 0, both halves little-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId(pub [u8; 16]);

impl ChunkId {
    /// The id of these bytes.
    pub fn of(data: &[u8]) -> Self {
        Self::from_hash(spooky::hash128(data, 0, 0))
    }

    /// The id from a finished hash (see [`spooky::Hasher`]).
    pub fn from_hash((a, b): (u64, u64)) -> Self {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&a.to_le_bytes());
        raw[8..].copy_from_slice(&b.to_le_bytes());
        Self(raw)
    }

    /// A hasher whose [`spooky::Hasher::finish`] gives the id via [`ChunkId::from_hash`].
    pub fn hasher() -> spooky::Hasher {
        spooky::Hasher::new(0, 0)
    }

    /// The id as JSON carries it: standard base64 with padding (24 characters).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses a JSON chunk id: standard base64 of exactly 16 bytes, else 400.
    pub fn parse(text: &str) -> Result<Self, ProtoError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| ProtoError::BadRequest("chunk id is not base64"))?;
        <[u8; 16]>::try_from(raw.as_slice())
            .map(Self)
            .map_err(|_| ProtoError::BadRequest("chunk id is not 16 bytes"))
    }

    /// The id from a Chunk frame's extended header: exactly 16 bytes, else 400.
    pub fn from_header(raw: &[u8]) -> Result<Self, ProtoError> {
        <[u8; 16]>::try_from(raw)
            .map(Self)
            .map_err(|_| ProtoError::BadRequest("chunk frame header is not 16 bytes"))
    }
}

impl std::fmt::Debug for ChunkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkId({})", self.to_base64())
    }
}

impl std::fmt::Display for ChunkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl serde::Serialize for ChunkId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> serde::Deserialize<'de> for ChunkId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// How a stream is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ChunkingScheme {
    FullFile,
    Zip,
}

impl ChunkingScheme {
    /// The scheme's name on the wire, and as wopid's store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullFile => "FullFile",
            Self::Zip => "Zip",
        }
    }

    /// A stored name read back: `FullFile`, else `Zip`.
    pub fn from_name(name: &str) -> Self {
        if name == Self::FullFile.as_str() {
            Self::FullFile
        } else {
            Self::Zip
        }
    }
}

/// One chunk of a stream: its id and its length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chunk {
    pub id: ChunkId,
    pub len: u64,
}

impl Chunk {
    pub fn of(data: &[u8]) -> Self {
        Self {
            id: ChunkId::of(data),
            len: data.len() as u64,
        }
    }
}

/// Where content is cut: the scheme and the byte ranges of the chunks, in order, covering the
/// content exactly, none empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub scheme: ChunkingScheme,
    pub ranges: Vec<std::ops::Range<usize>>,
}

impl Split {
    /// The chunks of `data` (which must be the content this split was made for).
    pub fn chunks(&self, data: &[u8]) -> Vec<Chunk> {
        self.ranges
            .iter()
            .map(|r| Chunk::of(&data[r.clone()]))
            .collect()
    }
}

/// The `FullFile` cut: one chunk, none for empty content.
pub fn split_full_file(data: &[u8]) -> Split {
    Split {
        scheme: ChunkingScheme::FullFile,
        ranges: std::iter::once(0..data.len())
            .filter(|r| !r.is_empty())
            .collect(),
    }
}

/// The cut a host picks for content it receives whole: `Zip` when the content is a zip archive
/// this module can read, else `FullFile`.
pub fn split(data: &[u8]) -> Split {
    split_zip(data).unwrap_or_else(|| split_full_file(data))
}

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END_LEN: usize = 22;
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;

fn u16_at<V: ZipView + ?Sized>(d: &V, at: usize) -> Option<usize> {
    let b = d.bytes(at, 2)?;
    Some(usize::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at<V: ZipView + ?Sized>(d: &V, at: usize) -> Option<u32> {
    let b = d.bytes(at, 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Content as the zip cut reads it: its length and the bytes at some offsets. The whole content
/// in memory is one; [`Pieces`] holds only what the cut reads (the end records, the central
/// directory and each entry's local header), so content in storage is cut with a few range reads
/// ([`zip_tail`], [`zip_directory`], [`zip_local_headers`]) instead of being held in memory.
pub trait ZipView {
    /// The length of the whole content.
    fn total_len(&self) -> usize;
    /// The `n` bytes at `at`, when known (and inside the content).
    fn bytes(&self, at: usize, n: usize) -> Option<&[u8]>;
}

impl ZipView for [u8] {
    fn total_len(&self) -> usize {
        self.len()
    }
    fn bytes(&self, at: usize, n: usize) -> Option<&[u8]> {
        self.get(at..at.checked_add(n)?)
    }
}

/// Some pieces of content of a known length, by offset.
#[derive(Debug, Clone, Default)]
pub struct Pieces {
    len: usize,
    pieces: Vec<(usize, Vec<u8>)>,
}

impl Pieces {
    pub fn new(len: usize) -> Self {
        Self {
            len,
            pieces: Vec::new(),
        }
    }

    /// Whether the bytes of `range` are known already (then they need not be read).
    pub fn covers(&self, range: &std::ops::Range<usize>) -> bool {
        self.bytes(range.start, range.len()).is_some()
    }

    /// Adds the bytes found at offset `at`. Add only what is not covered yet: a lookup tries the
    /// few pieces starting nearest below it.
    pub fn add(&mut self, at: usize, bytes: Vec<u8>) {
        let i = self.pieces.partition_point(|(s, _)| *s < at);
        self.pieces.insert(i, (at, bytes));
    }
}

impl ZipView for Pieces {
    fn total_len(&self) -> usize {
        self.len
    }
    fn bytes(&self, at: usize, n: usize) -> Option<&[u8]> {
        let stop = at.checked_add(n)?;
        if stop > self.len {
            return None;
        }
        // The pieces starting at or before `at`, nearest first: one of them may cover the range.
        let i = self.pieces.partition_point(|(s, _)| *s <= at);
        self.pieces[..i]
            .iter()
            .rev()
            .take(4)
            .find_map(|(s, b)| b.get(at - s..stop - s))
    }
}

/// The range that holds the end of central directory record of content `len` bytes long, if it
/// is a zip archive: its last 64 KiB + 22 bytes.
pub fn zip_tail(len: usize) -> std::ops::Range<usize> {
    len.saturating_sub(END_LEN + usize::from(u16::MAX))..len
}

/// The range of the central directory, read from the end records ([`zip_tail`] must be in
/// `view`); `None` when the content is not a zip archive the cut reads.
pub fn zip_directory<V: ZipView + ?Sized>(view: &V) -> Option<std::ops::Range<usize>> {
    let e = end_record(view)?;
    Some(e.cd_offset..e.cd_offset + e.cd_size)
}

/// The ranges of the entries' fixed local headers (30 bytes each; the central directory must be
/// in `view`), in the archive's order.
pub fn zip_local_headers<V: ZipView + ?Sized>(view: &V) -> Option<Vec<std::ops::Range<usize>>> {
    let e = end_record(view)?;
    let offsets = local_offsets(view, &e)?;
    offsets
        .into_iter()
        .map(|at| {
            let r = at..at.checked_add(LOCAL_LEN)?;
            (r.end <= e.cd_offset).then_some(r)
        })
        .collect()
}

struct EndRecord {
    end: usize,
    entries: usize,
    cd_offset: usize,
    cd_size: usize,
}

fn end_record<V: ZipView + ?Sized>(data: &V) -> Option<EndRecord> {
    // The end of central directory record: the last signature within the comment's reach.
    let len = data.total_len();
    let min = len.checked_sub(END_LEN)?;
    let lowest = min.saturating_sub(usize::from(u16::MAX));
    let end = (lowest..=min).rev().find(|&at| {
        u32_at(data, at) == Some(END_SIG) && u16_at(data, at + 20) == Some(len - at - END_LEN)
    })?;
    let disk = u16_at(data, end + 4)?;
    let cd_disk = u16_at(data, end + 6)?;
    let entries_here = u16_at(data, end + 8)?;
    let entries = u16_at(data, end + 10)?;
    let cd_size = u32_at(data, end + 12)? as usize;
    let cd_offset = u32_at(data, end + 16)? as usize;
    if disk != 0 || cd_disk != 0 || entries_here != entries || entries == 0 || entries == 0xffff {
        return None;
    }
    if cd_offset.checked_add(cd_size)? > end || cd_offset == 0xffff_ffff {
        return None;
    }
    Some(EndRecord {
        end,
        entries,
        cd_offset,
        cd_size,
    })
}

/// The local header offsets, sorted.
fn local_offsets<V: ZipView + ?Sized>(data: &V, e: &EndRecord) -> Option<Vec<usize>> {
    let mut offsets = Vec::with_capacity(e.entries);
    let mut at = e.cd_offset;
    for _ in 0..e.entries {
        if u32_at(data, at)? != CENTRAL_SIG {
            return None;
        }
        let name = u16_at(data, at + 28)?;
        let extra = u16_at(data, at + 30)?;
        let comment = u16_at(data, at + 32)?;
        let local = u32_at(data, at + 42)?;
        if local == 0xffff_ffff {
            return None;
        }
        offsets.push(local as usize);
        at = at.checked_add(CENTRAL_LEN + name + extra + comment)?;
    }
    if at > e.end {
        return None;
    }
    offsets.sort_unstable();
    Some(offsets)
}

/// The `Zip` cut of a zip archive, read from its central directory; `None` when `data` is not a
/// zip archive with at least one entry that this reads (zip64, multi-disk, inconsistent offsets,
/// entries overlapping or out of the central directory's order are `None`).
pub fn split_zip<V: ZipView + ?Sized>(data: &V) -> Option<Split> {
    let e = end_record(data)?;
    let offsets = local_offsets(data, &e)?;
    let cd_offset = e.cd_offset;
    let mut ranges = Vec::with_capacity(2 * e.entries + 2);
    let mut push = |r: std::ops::Range<usize>| {
        if !r.is_empty() {
            ranges.push(r);
        }
    };
    let mut pos = 0;
    for (i, &start) in offsets.iter().enumerate() {
        if start < pos || start >= cd_offset || u32_at(data, start)? != LOCAL_SIG {
            return None;
        }
        let header_end = start
            .checked_add(LOCAL_LEN)?
            .checked_add(u16_at(data, start + 26)?)?
            .checked_add(u16_at(data, start + 28)?)?;
        let next = offsets.get(i + 1).copied().unwrap_or(cd_offset);
        if header_end > next {
            return None;
        }
        push(pos..start);
        push(start..header_end);
        pos = header_end;
        // The entry's data runs to the next entry's header, pushed on the next round.
        if i + 1 == offsets.len() {
            push(pos..cd_offset);
            pos = cd_offset;
        }
    }
    // Central directory and end records: everything left.
    push(pos..data.total_len());
    Some(Split {
        scheme: ChunkingScheme::Zip,
        ranges,
    })
}

/// The `Zip` cut of content read piece by piece: `read(range)` gives the bytes of a range of the
/// content (`len` bytes long). `None` when it is not a zip archive the cut reads (or a read failed).
pub fn split_zip_by_ranges<E>(
    len: usize,
    mut read: impl FnMut(std::ops::Range<usize>) -> Result<Vec<u8>, E>,
) -> Result<Option<Split>, E> {
    let mut view = Pieces::new(len);
    let tail = zip_tail(len);
    if tail.is_empty() {
        return Ok(None);
    }
    view.add(tail.start, read(tail)?);
    let Some(dir) = zip_directory(&view) else {
        return Ok(None);
    };
    if !view.covers(&dir) {
        view.add(dir.start, read(dir)?);
    }
    let Some(headers) = zip_local_headers(&view) else {
        return Ok(None);
    };
    for r in headers {
        if !view.covers(&r) {
            view.add(r.start, read(r)?);
        }
    }
    Ok(split_zip(&view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/validator/ZipChunking")
            .join(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// The validator's cut of a resource: `ChunkIds.txt` holds the offset of every chunk.
    fn validator_cut(dir: &str) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
        let stream = fixture(&format!("{dir}/FileStream"));
        let text = String::from_utf8(fixture(&format!("{dir}/ChunkIds.txt"))).expect("text");
        let starts: Vec<usize> = text
            .lines()
            .map(|l| l.trim().parse().expect("offset"))
            .collect();
        let ranges = starts
            .iter()
            .enumerate()
            .map(|(i, &s)| s..starts.get(i + 1).copied().unwrap_or(stream.len()))
            .collect();
        (stream, ranges)
    }

    pub(crate) const RESOURCES: &[&str] = &[
        "NonZeroByteExcel/Version1/MainContent",
        "NonZeroByteExcel/Version1/AltContent",
        "NonZeroByteExcel/Version2/MainContent",
        "NonZeroByteExcel/Version2/AltContent",
        "NonZeroByteWord/Version1/MainContent",
        "NonZeroByteWord/Version2/MainContent",
        "NonZeroBytePpt/Version1/MainContent",
    ];

    #[test]
    fn zip_cut_is_the_validators() {
        for dir in RESOURCES {
            let (stream, want) = validator_cut(dir);
            let got = split(&stream);
            assert_eq!(got.scheme, ChunkingScheme::Zip, "{dir}");
            assert_eq!(got.ranges, want, "{dir}");
        }
    }

    /// The cut read range by range (as the server reads a stored upload) is the cut of the
    /// whole content, and reads only the end records, the directory and the local headers.
    #[test]
    fn cut_by_ranges_is_the_whole_cut() {
        for dir in RESOURCES {
            let (stream, want) = validator_cut(dir);
            let mut read_bytes = 0;
            let got = split_zip_by_ranges::<()>(stream.len(), |r| {
                read_bytes += r.len();
                Ok(stream[r].to_vec())
            })
            .expect("reads")
            .expect("a zip");
            assert_eq!(got.ranges, want, "{dir}");
            assert_eq!(Some(got), split_zip(&stream[..]), "{dir}");
            assert!(read_bytes <= stream.len() + 30 * want.len(), "{dir}");
        }
        for data in [&b""[..], b"PK", b"not a zip at all, just some text"] {
            let got = split_zip_by_ranges::<()>(data.len(), |r| Ok(data[r].to_vec()));
            assert_eq!(got, Ok(None));
        }
        // A read that fails stops the cut with its error.
        let (stream, _) = validator_cut(RESOURCES[0]);
        assert_eq!(split_zip_by_ranges(stream.len(), |_| Err("io")), Err("io"));
    }

    /// DeltaUploadsAndDeltaDownloadNonZeroBlobs: knowing version 1 of both streams, a client
    /// receives 18 distinct chunks of version 2; LastZipChunk returns two chunks.
    #[test]
    fn excel_versions_share_chunks() {
        let ids = |dir: &str| {
            let d = fixture(&format!("{dir}/FileStream"));
            split(&d)
                .chunks(&d)
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        let mut new = std::collections::BTreeSet::new();
        for s in ["MainContent", "AltContent"] {
            let v1 = ids(&format!("NonZeroByteExcel/Version1/{s}"));
            for id in ids(&format!("NonZeroByteExcel/Version2/{s}")) {
                if !v1.contains(&id) {
                    new.insert(id);
                }
            }
        }
        assert_eq!(new.len(), 18);
        let main = ids("NonZeroByteExcel/Version1/MainContent");
        let alt = ids("NonZeroByteExcel/Version1/AltContent");
        assert_ne!(main.last(), alt.last());
    }

    /// A streaming writer's archive: sizes in data descriptors after the data, a stored entry, an
    /// empty entry and an archive comment. The cut follows the central directory.
    #[test]
    fn data_descriptors() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/zip/data-descriptors.zip");
        let d = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let s = split(&d);
        assert_eq!(s.scheme, ChunkingScheme::Zip);
        let starts: Vec<usize> = s.ranges.iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![0, 38, 93, 134, 184, 223, 241]);
        assert_eq!(s.ranges.last().map(|r| r.end), Some(d.len()));
        assert_eq!(&d[241..245], b"PK\x01\x02");
        // Each data chunk carries its descriptor.
        assert_eq!(&d[223..227], b"\x03\x00PK");
    }

    #[test]
    fn not_a_zip_is_full_file() {
        assert_eq!(split(b""), split_full_file(b""));
        assert!(split(b"").ranges.is_empty());
        assert_eq!(split(b"SampleTextVersion-1").ranges, vec![0..19]);
        assert_eq!(
            split(b"SampleTextVersion-1").scheme,
            ChunkingScheme::FullFile
        );
        // A zip cut short is not a zip.
        let d = fixture("NonZeroByteWord/Version1/MainContent/FileStream");
        assert_eq!(split(&d[..d.len() - 1]).scheme, ChunkingScheme::FullFile);
        assert_eq!(split(&d[1..]).scheme, ChunkingScheme::FullFile);
    }

    #[test]
    fn a_shifted_archive_is_full_file() {
        let d = fixture("NonZeroByteWord/Version1/MainContent/FileStream");
        // Offsets in the archive are absolute: a prefix shifts them, so the archive no longer
        // reads and the whole is FullFile.
        let mut prefixed = b"MZ".to_vec();
        prefixed.extend_from_slice(&d);
        assert_eq!(split(&prefixed).scheme, ChunkingScheme::FullFile);
    }

    #[test]
    fn chunk_id_text() {
        let id = ChunkId::of(b"SampleTextVersion-1");
        assert_eq!(id.to_base64(), "OpSWhpt12BRkuGX4z7bQPg==");
        assert_eq!(ChunkId::parse("OpSWhpt12BRkuGX4z7bQPg=="), Ok(id));
        assert_eq!(
            serde_json::to_string(&id).expect("json"),
            "\"OpSWhpt12BRkuGX4z7bQPg==\""
        );
        assert!(ChunkId::parse("AAAA").is_err());
        assert!(ChunkId::parse("not base64!").is_err());
        assert!(ChunkId::from_header(&[0; 15]).is_err());
        assert_eq!(ChunkId::from_header(&id.0), Ok(id));
    }

    proptest! {
        /// Any bytes: the cut never panics, covers the content exactly and has no empty chunk.
        #[test]
        fn cut_covers_the_content(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let s = split(&data);
            let mut pos = 0;
            for r in &s.ranges {
                prop_assert_eq!(r.start, pos);
                prop_assert!(r.end > r.start);
                pos = r.end;
            }
            prop_assert_eq!(pos, data.len());
        }

        /// A real archive with bytes flipped: still never panics, still covers the content.
        #[test]
        fn damaged_zip_still_covers(at in 0usize..12_421, byte in any::<u8>()) {
            let mut d = fixture("NonZeroByteWord/Version1/MainContent/FileStream");
            let at = at % d.len();
            d[at] = byte;
            let s = split(&d);
            prop_assert_eq!(s.ranges.iter().map(|r| r.len()).sum::<usize>(), d.len());
        }
    }
}
