//! The scale-out blob engine: any S3-compatible object store, through the `object_store` crate.
//!
//! URL: `s3://BUCKET[/PREFIX]?endpoint=http://host:port&region=REGION`. Without `endpoint`, AWS
//! itself (virtual-hosted style); with one, path-style requests, and plain HTTP allowed when the
//! endpoint says `http://`. Credentials come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
//! (and `AWS_SESSION_TOKEN`), or from the files named by the same variables with `_FILE`.
//!
//! A body up to `MULTIPART_THRESHOLD` goes up in one PUT. A larger one is sent as a multipart
//! upload in `PART_SIZE` parts with at most `PART_CONCURRENCY` in flight, so memory stays bounded
//! whatever the size; S3 makes the object visible only when the upload completes, and a failed
//! upload (limit exceeded, client gone, store error) is aborted. Blob keys are random and written
//! once, so no reader ever sees a half-written object under a key a record points to.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, PutPayload, PutPayloadMut,
    RetryConfig, WriteMultipart,
};
use sha2::{Digest as _, Sha256};

use crate::blob::{BlobBackend, BlobStream, PutOutcome};
use crate::error::{Result, StoreError};
use crate::meta::redact_url;

/// Bodies up to this size are sent in one request.
const MULTIPART_THRESHOLD: usize = 8 << 20;
/// Size of one part of a multipart upload (S3 needs at least 5 MiB but for the last part).
const PART_SIZE: usize = 8 << 20;
/// Parts uploaded at once: memory per upload is about `PART_SIZE * (PART_CONCURRENCY + 1)`.
const PART_CONCURRENCY: usize = 2;
/// A body's chunks at least this large are kept as they came; smaller ones are copied into
/// blocks, so a body sent in tiny chunks costs no more memory than its bytes.
const PACK: usize = 64 * 1024;

/// A new payload for the start of a body: a list of buffers, small chunks packed into blocks of
/// [`PACK`] bytes (see [`gather`]).
fn payload() -> PutPayloadMut {
    PutPayloadMut::new().with_block_size(PACK)
}

/// Adds a chunk to the start of a body: a large one as it is, a small one copied into a block.
fn gather(payload: &mut PutPayloadMut, chunk: Bytes) {
    if chunk.len() >= PACK {
        payload.push(chunk);
    } else {
        payload.extend_from_slice(&chunk);
    }
}

/// Adds a chunk to a multipart upload by the same rule as [`gather`]: a large one as it is, a
/// small one copied into the upload's own blocks.
fn add_to_part(w: &mut WriteMultipart, chunk: Bytes) {
    if chunk.len() >= PACK {
        w.put(chunk);
    } else {
        w.write(&chunk);
    }
}

pub(crate) struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
}

fn valid_key(key: &str) -> bool {
    key.len() >= 2
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A secret from `NAME`, else from the file `NAME_FILE` names.
fn secret(name: &str) -> Result<Option<String>> {
    if let Ok(v) = std::env::var(name) {
        return Ok(Some(v));
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) => Ok(Some(
            std::fs::read_to_string(path)?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        )),
        Err(_) => Ok(None),
    }
}

fn store_error(e: object_store::Error) -> StoreError {
    StoreError::ObjectStore(Box::new(e))
}

impl S3Blobs {
    /// `rest` is the URL after `s3://`.
    pub(crate) fn open(url: &str) -> Result<Self> {
        let bad = || StoreError::BadUrl(redact_url(url));
        let rest = url.strip_prefix("s3://").ok_or_else(bad)?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.is_empty() {
            return Err(bad());
        }
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(5),
                    base: 2.0,
                },
                max_retries: 5,
                retry_timeout: Duration::from_secs(30),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120)),
            );
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "endpoint" => {
                    b = b
                        .with_endpoint(v)
                        .with_virtual_hosted_style_request(false)
                        .with_allow_http(v.starts_with("http://"));
                }
                "region" => b = b.with_region(v),
                _ => return Err(bad()),
            }
        }
        if let Some(k) = secret("AWS_ACCESS_KEY_ID")? {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = secret("AWS_SECRET_ACCESS_KEY")? {
            b = b.with_secret_access_key(s);
        }
        if let Some(t) = secret("AWS_SESSION_TOKEN")? {
            b = b.with_token(t);
        }
        let store = b.build().map_err(|_| bad())?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    fn path(&self, key: &str) -> Result<ObjPath> {
        if !valid_key(key) {
            return Err(StoreError::Invalid("invalid blob key"));
        }
        Ok(if self.prefix.is_empty() {
            ObjPath::from(key)
        } else {
            ObjPath::from(format!("{}/{key}", self.prefix))
        })
    }

    /// Reads the body into a multipart upload, starting with what `put` already gathered. The
    /// body's large chunks make up the parts as they are; small ones are packed.
    async fn put_multipart(
        &self,
        path: &ObjPath,
        first: PutPayload,
        mut body: BlobStream,
        limit: u64,
        mut size: u64,
        mut hasher: Sha256,
    ) -> Result<PutOutcome> {
        let upload = self.store.put_multipart(path).await.map_err(store_error)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for chunk in first {
            w.put(chunk);
        }
        let result = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(StoreError::Body)?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(StoreError::TooLarge { limit });
                }
                hasher.update(&chunk);
                // Back-pressure: wait while too many parts are in flight.
                w.wait_for_capacity(PART_CONCURRENCY)
                    .await
                    .map_err(store_error)?;
                add_to_part(&mut w, chunk);
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                w.finish().await.map_err(store_error)?;
                Ok(PutOutcome {
                    size,
                    sha256: hex::encode(hasher.finalize()),
                })
            }
            Err(e) => {
                if let Err(abort) = w.abort().await {
                    tracing::warn!(error = %abort, "could not abort a failed multipart upload");
                }
                Err(e)
            }
        }
    }
}

#[async_trait]
impl BlobBackend for S3Blobs {
    async fn put(&self, key: &str, mut body: BlobStream, limit: u64) -> Result<PutOutcome> {
        let path = self.path(key)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // Gathered as a list of buffers, not copied into one that grows by doubling: at the
        // switch to a multipart upload that was three times the threshold at once.
        let mut gathered = payload();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StoreError::Body)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge { limit });
            }
            hasher.update(&chunk);
            gather(&mut gathered, chunk);
            if size > MULTIPART_THRESHOLD as u64 {
                return self
                    .put_multipart(&path, gathered.freeze(), body, limit, size, hasher)
                    .await;
            }
        }
        self.store
            .put(&path, gathered.freeze())
            .await
            .map_err(store_error)?;
        Ok(PutOutcome {
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream> {
        let path = self.path(key)?;
        let opts = GetOptions {
            range: range.map(|(start, end)| GetRange::Bounded(start..end.saturating_add(1))),
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&path, opts).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::BlobNotFound(key.to_owned()));
            }
            Err(e) => return Err(store_error(e)),
        };
        Ok(Box::pin(got.into_stream().map_err(std::io::Error::other)))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn ping(&self) -> Result<()> {
        // Reachable, authorised and writable: write and remove a small object.
        let path = self.path("_ping")?;
        self.store
            .put(&path, PutPayload::from_static(b"ok"))
            .await
            .map_err(store_error)?;
        self.store.delete(&path).await.map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_bucket_prefix_and_endpoint() {
        let s = S3Blobs::open("s3://b/some/prefix/?endpoint=http://127.0.0.1:1&region=eu")
            .expect("opens");
        assert_eq!(s.prefix, "some/prefix");
        assert_eq!(
            s.path("abc").expect("path").as_ref(),
            "some/prefix/abc",
            "keys live under the prefix"
        );
        assert!(S3Blobs::open("s3://?endpoint=x").is_err());
        assert!(S3Blobs::open("s3://b?unknown=1").is_err());
        assert!(s.path("../x").is_err());
    }

    #[test]
    fn gathered_bodies_keep_their_bytes_and_pack_small_chunks() {
        let big = Bytes::from(vec![7u8; PACK + 3]);
        // (chunk sizes, the most buffers the gathered body may take)
        let cases: &[(&[usize], usize)] = &[
            (&[], 0),
            (&[1], 1),
            (&[1; 10_000], 10_000 / PACK + 1),
            (&[PACK], 1),
            (&[10, PACK + 3, 10], 3),
            (&[PACK - 1, 2, PACK - 1], 3),
            (&[5_000; 100], 100 * 5_000 / PACK + 1),
        ];
        for (sizes, most) in cases {
            let mut g = payload();
            let mut want = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let chunk = if n == PACK + 3 {
                    big.clone()
                } else {
                    Bytes::from(vec![u8::try_from(i % 251).expect("byte"); n])
                };
                want.extend_from_slice(&chunk);
                gather(&mut g, chunk);
            }
            let buffers: Vec<Bytes> = g.freeze().into_iter().collect();
            assert!(
                buffers.len() <= *most,
                "{sizes:?}: {} buffers",
                buffers.len()
            );
            assert!(buffers.iter().all(|b| !b.is_empty()));
            assert_eq!(buffers.concat(), want, "{sizes:?}");
        }
    }
}
