//! The engines the conformance suite runs on: SQLite and local disk always; PostgreSQL when
//! `WOPID_TEST_PG_URL` is set and S3 when `WOPID_TEST_S3_URL` is set. Locally a missing URL skips
//! that engine visibly; when `CI` is set it fails the test, so green never means skipped.
//!
//! Every test gets engines of its own: a fresh temp dir, a fresh PostgreSQL schema, a fresh S3
//! key prefix.

#![allow(dead_code, unreachable_pub)]

use rand::Rng as _;
use wopid_store::{Blobs, Meta};

pub const PG_VAR: &str = "WOPID_TEST_PG_URL";
pub const S3_VAR: &str = "WOPID_TEST_S3_URL";

/// The URL in `var`, or `None` (skipped, said aloud) when it is unset outside CI.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
                panic!("{var} must be set when CI is set: the service tests may not be skipped");
            }
            // Written past the test harness's output capture, so a skip is always seen.
            use std::io::Write as _;
            let test = std::thread::current().name().unwrap_or("?").to_owned();
            let _ = writeln!(std::io::stderr(), "skipped: {var} not set ({test})");
            None
        }
    }
}

/// A name unique to this test: lower-case letters and digits.
pub fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}{n:016x}")
}

/// `url` with one more query parameter.
pub fn with_param(url: &str, kv: &str) -> String {
    if url.contains('?') {
        format!("{url}&{kv}")
    } else {
        format!("{url}?{kv}")
    }
}

/// `s3://bucket[/prefix]?query` with `/sub` appended to the prefix.
pub fn with_s3_prefix(url: &str, sub: &str) -> String {
    let (loc, query) = url.split_once('?').unwrap_or((url, ""));
    let loc = loc.trim_end_matches('/');
    if query.is_empty() {
        format!("{loc}/{sub}")
    } else {
        format!("{loc}/{sub}?{query}")
    }
}

/// A metadata engine of one test, with whatever keeps it alive.
#[derive(Clone)]
pub struct MetaUnderTest {
    pub meta: Meta,
    /// The URL other processes can open to share this engine.
    pub url: String,
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

pub async fn sqlite() -> MetaUnderTest {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let meta = Meta::open(&url).await.expect("open sqlite");
    MetaUnderTest {
        meta,
        url,
        _dir: Some(std::sync::Arc::new(dir)),
    }
}

pub async fn postgres() -> Option<MetaUnderTest> {
    let base = service_url(PG_VAR)?;
    let url = with_param(&base, &format!("schema={}", unique("t_")));
    let meta = Meta::open(&url).await.expect("open postgres");
    Some(MetaUnderTest {
        meta,
        url,
        _dir: None,
    })
}

#[derive(Clone)]
pub struct BlobsUnderTest {
    pub blobs: Blobs,
    _dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

pub async fn disk() -> BlobsUnderTest {
    let dir = tempfile::tempdir().expect("tempdir");
    let blobs = Blobs::open(&format!("file://{}", dir.path().join("blobs").display()))
        .await
        .expect("open disk");
    BlobsUnderTest {
        blobs,
        _dir: Some(std::sync::Arc::new(dir)),
    }
}

pub async fn s3() -> Option<BlobsUnderTest> {
    let base = service_url(S3_VAR)?;
    let blobs = Blobs::open(&with_s3_prefix(&base, &unique("t-")))
        .await
        .expect("open s3");
    Some(BlobsUnderTest { blobs, _dir: None })
}

/// Runs a metadata test on SQLite, and on PostgreSQL when its URL is set:
/// `meta_test!(name, |m: MetaUnderTest| async move { … })` makes `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! meta_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let m = engines::sqlite().await;
                // The closure may keep only some fields: the temp dir lives until the end.
                let keep = m.clone();
                ($body)(m).await;
                drop(keep);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(m) = engines::postgres().await else {
                    return;
                };
                ($body)(m).await;
            }
        }
    };
}

/// Runs a blob test on local disk, and on S3 when its URL is set.
#[macro_export]
macro_rules! blob_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn disk() {
                let b = engines::disk().await;
                let keep = b.clone();
                ($body)(b).await;
                drop(keep);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn s3() {
                let Some(b) = engines::s3().await else {
                    return;
                };
                ($body)(b).await;
            }
        }
    };
}
