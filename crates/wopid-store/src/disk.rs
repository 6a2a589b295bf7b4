//! The local-disk blob engine. A blob is written to `tmp/`, fsync'd, renamed into `xx/KEY` and
//! the directory fsync'd, so after a crash a key either holds the whole content or does not exist.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::blob::{BlobBackend, BlobStream, PutOutcome};
use crate::error::{Result, StoreError};

const WRITE_BUFFER: usize = 256 * 1024;
const READ_CHUNK: usize = 256 * 1024;
/// Reads up to this size are done whole in one blocking call: one hop to the blocking pool
/// instead of one for the open and one per chunk, which is most of the cost of a small GetFile.
const SMALL_READ: u64 = 1 << 20;
/// An upload file in `tmp/` this old belongs to no live request.
const STALE_UPLOAD: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Bodies up to this size are written in one blocking call (see `put`).
const SMALL_WRITE: usize = 256 * 1024;
/// Reads up to this size are done on the calling thread (see `get`).
const INLINE_READ: u64 = 256 * 1024;

/// A blob opened for reading: read whole when small, else streamed (with the length of the
/// range, so that it is not asked for again).
enum Opened {
    Small(Vec<u8>),
    Large(std::fs::File, u64),
}

pub(crate) struct DiskBlobs {
    root: PathBuf,
}

/// How many bytes of `file` a read of `range` covers.
fn span(file: &std::fs::File, range: Option<(u64, u64)>) -> std::io::Result<u64> {
    Ok(match range {
        None => file.metadata()?.len(),
        Some((start, end)) => end.saturating_sub(start) + 1,
    })
}

/// Reads `range` of `file` whole when it is at most `limit` bytes; else hands the file back with
/// the length of the range.
fn open_range(
    mut file: std::fs::File,
    range: Option<(u64, u64)>,
    limit: u64,
) -> std::io::Result<Opened> {
    use std::io::{Read as _, Seek as _};
    let len = span(&file, range)?;
    if len > limit {
        return Ok(Opened::Large(file, len));
    }
    if let Some((start, _)) = range.filter(|(s, _)| *s > 0) {
        file.seek(SeekFrom::Start(start))?;
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len).read_to_end(&mut buf)?;
    Ok(Opened::Small(buf))
}

/// Streams `len` bytes of `file` from its current position in chunks of [`READ_CHUNK`], each read
/// in one blocking call straight into the buffer that is sent: no second buffer and no copy
/// between them, so a download holds about two chunks (the one being sent and the one being
/// read), whatever the file's size. A file shorter than `len` ends the stream with an error.
fn chunks(file: std::fs::File, len: u64) -> BlobStream {
    Box::pin(futures_util::stream::try_unfold(
        (Some(file), len),
        |(file, left)| async move {
            let Some(mut file) = file.filter(|_| left > 0) else {
                return Ok(None);
            };
            let want = left.min(READ_CHUNK as u64);
            // Allocated here, not on the blocking thread: buffers then come from and go back to
            // the workers' heaps, instead of piling up in one heap per blocking thread.
            let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(READ_CHUNK));
            let (file, buf) = tokio::task::spawn_blocking(move || {
                use std::io::Read as _;
                (&mut file).take(want).read_to_end(&mut buf)?;
                Ok::<_, std::io::Error>((file, buf))
            })
            .await
            .map_err(std::io::Error::other)??;
            if buf.is_empty() {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
            }
            let left = left - buf.len() as u64;
            Ok(Some((bytes::Bytes::from(buf), (Some(file), left))))
        },
    ))
}

fn valid_key(key: &str) -> bool {
    key.len() >= 2
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}

impl DiskBlobs {
    pub(crate) async fn open(root: &Path) -> Result<Self> {
        tokio::fs::create_dir_all(root.join("tmp")).await?;
        // Leftovers of writes interrupted by a crash were never acknowledged: remove them. Another
        // process (a CLI command beside the server) may be writing right now, so only old ones.
        let mut rd = tokio::fs::read_dir(root.join("tmp")).await?;
        while let Some(e) = rd.next_entry().await? {
            let stale = e
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok());
            if stale.is_some_and(|age| age > STALE_UPLOAD) {
                let _ = tokio::fs::remove_file(e.path()).await;
            }
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        if !valid_key(key) {
            return Err(StoreError::Invalid("invalid blob key"));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }

    /// The atomic writer for a body too large to gather: streamed into `tmp`, fsync'd, renamed to
    /// `dest`, and the directory fsync'd.
    async fn put_streamed(
        &self,
        dest: &Path,
        tmp: &Path,
        body: BlobStream,
        limit: u64,
    ) -> Result<PutOutcome> {
        let outcome = match self.write_tmp(tmp, body, limit).await {
            Ok(o) => o,
            Err(e) => {
                let _ = tokio::fs::remove_file(tmp).await;
                return Err(e);
            }
        };
        let shard = dest
            .parent()
            .ok_or(StoreError::Invalid("blob path has no parent"))?;
        if tokio::fs::metadata(shard).await.is_err() {
            tokio::fs::create_dir_all(shard).await?;
            fsync_dir(&self.root).await?;
        }
        #[allow(clippy::disallowed_methods)] // the atomic blob writer is the one place that renames
        let renamed = tokio::fs::rename(tmp, dest).await;
        if let Err(e) = renamed {
            let _ = tokio::fs::remove_file(tmp).await;
            return Err(e.into());
        }
        fsync_dir(shard).await?;
        Ok(outcome)
    }

    async fn write_tmp(&self, tmp: &Path, mut body: BlobStream, limit: u64) -> Result<PutOutcome> {
        let file = tokio::fs::File::create(tmp).await?;
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge { limit });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        out.get_mut().sync_all().await?;
        Ok(PutOutcome {
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// The atomic writer for a gathered body, in one blocking call: `tmp` written and fsync'd,
/// renamed to `dest`, and the directory fsync'd (the root too when the shard directory is new).
fn write_small(root: &Path, tmp: &Path, dest: &Path, data: &[u8]) -> Result<PutOutcome> {
    use std::io::Write as _;
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(data)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(e.into());
    }
    let shard = dest
        .parent()
        .ok_or(StoreError::Invalid("blob path has no parent"))?;
    if std::fs::metadata(shard).is_err() {
        std::fs::create_dir_all(shard)?;
        std::fs::File::open(root)?.sync_all()?;
    }
    #[allow(clippy::disallowed_methods)] // the atomic blob writer is the one place that renames
    let renamed = std::fs::rename(tmp, dest);
    if let Err(e) = renamed {
        let _ = std::fs::remove_file(tmp);
        return Err(e.into());
    }
    std::fs::File::open(shard)?.sync_all()?;
    Ok(PutOutcome {
        size: data.len() as u64,
        sha256: hex::encode(Sha256::digest(data)),
    })
}

#[async_trait]
impl BlobBackend for DiskBlobs {
    async fn put(&self, key: &str, mut body: BlobStream, limit: u64) -> Result<PutOutcome> {
        let dest = self.path(key)?;
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{key}.{}.part", crate::new_id()));
        // A small body is gathered whole, then written, fsync'd, renamed and its directory
        // fsync'd in one blocking call: one hop to the blocking pool instead of one per step.
        let mut head = bytes::BytesMut::new();
        let mut small = true;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            if (head.len() + chunk.len()) as u64 > limit {
                return Err(StoreError::TooLarge { limit });
            }
            head.extend_from_slice(&chunk);
            if head.len() > SMALL_WRITE {
                small = false;
                break;
            }
        }
        if small {
            let root = self.root.clone();
            return tokio::task::spawn_blocking(move || write_small(&root, &tmp, &dest, &head))
                .await
                .map_err(std::io::Error::other)?;
        }
        let first = futures_util::stream::once(async move { Ok(head.freeze()) });
        self.put_streamed(&dest, &tmp, Box::pin(first.chain(body)), limit)
            .await
    }

    async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream> {
        let path = self.path(key)?;
        // Opening a file and reading its size are quick system calls, and so is reading a small
        // blob from the page cache: done here, they cost less than a hop to the blocking pool and
        // back, which was most of the time of a small GetFile.
        let inline = match std::fs::File::open(&path) {
            Ok(file) => open_range(file, range, INLINE_READ),
            Err(e) => Err(e),
        };
        let opened = match inline {
            Ok(Opened::Large(file, len)) if len <= SMALL_READ => {
                tokio::task::spawn_blocking(move || open_range(file, range, SMALL_READ))
                    .await
                    .map_err(std::io::Error::other)?
            }
            other => other,
        };
        let (mut file, len) = match opened {
            Ok(Opened::Small(buf)) => {
                return Ok(Box::pin(futures_util::stream::once(async move {
                    Ok(bytes::Bytes::from(buf))
                })));
            }
            Ok(Opened::Large(file, len)) => (file, len),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobNotFound(key.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some((start, _)) = range {
            use std::io::Seek as _;
            file.seek(SeekFrom::Start(start))?;
        }
        Ok(chunks(file, len))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn ping(&self) -> Result<()> {
        let meta = tokio::fs::metadata(self.root.join("tmp")).await?;
        if meta.permissions().readonly() {
            return Err(StoreError::Invalid("blob folder is read-only"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(blobs: &DiskBlobs, range: Option<(u64, u64)>) -> Vec<u8> {
        let mut s = blobs.get("bigkey", range).await.expect("get");
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.expect("chunk"));
        }
        out
    }

    /// Whole reads and ranges on both sides of the small-read limit return the same bytes.
    #[tokio::test]
    async fn small_and_large_reads_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = DiskBlobs::open(dir.path()).await.expect("open");
        let len = 3 * SMALL_READ + 7;
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let body: BlobStream = Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from(data.clone()),
        )]));
        blobs.put("bigkey", body, u64::MAX).await.expect("put");
        assert_eq!(read(&blobs, None).await, data);
        for (start, end) in [
            (0, 9),
            (SMALL_READ - 5, SMALL_READ + 5),
            (10, SMALL_READ + 9),
            (10, SMALL_READ + 10),
            (1, len - 1),
            (len - 3, len - 1),
        ] {
            let want = &data[start as usize..=end as usize];
            assert_eq!(
                read(&blobs, Some((start, end))).await,
                want,
                "{start}-{end}"
            );
        }
    }
}
