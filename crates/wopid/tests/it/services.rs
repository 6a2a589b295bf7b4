//! The real services some tests run against: PostgreSQL (`WOPID_TEST_PG_URL`) and an S3 server
//! (`WOPID_TEST_S3_URL`). Each server a test starts gets a fresh schema and a fresh key prefix.

#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;

use rand::Rng as _;

pub const PG_VAR: &str = "WOPID_TEST_PG_URL";
pub const S3_VAR: &str = "WOPID_TEST_S3_URL";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Both service URLs, or `None` with a visible "skipped" line; under CI a missing URL fails.
pub fn required() -> Option<(String, String)> {
    match (var(PG_VAR), var(S3_VAR)) {
        (Some(pg), Some(s3)) => Some((pg, s3)),
        _ => {
            assert!(
                !ci(),
                "{PG_VAR} and {S3_VAR} must be set when CI is set: this test may not be skipped"
            );
            let test = std::thread::current().name().unwrap_or("?").to_owned();
            // Past the harness's output capture, so the skip is always seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {PG_VAR} and {S3_VAR} not set ({test})"
            );
            None
        }
    }
}

/// A name unique to one server: lower-case letters and digits.
pub fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}{n:016x}")
}

/// A fresh schema on the PostgreSQL at `url`.
pub fn fresh_meta(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={}", unique("it_"))
}

/// A fresh key prefix in the bucket of the S3 URL `url`.
pub fn fresh_blobs(url: &str) -> String {
    let (loc, query) = url.split_once('?').unwrap_or((url, ""));
    let loc = format!("{}/{}", loc.trim_end_matches('/'), unique("it-"));
    if query.is_empty() {
        loc
    } else {
        format!("{loc}?{query}")
    }
}

/// The engines every in-process test server uses: PostgreSQL and S3 when their URLs are set
/// (fresh schema and prefix), unless `WOPID_TEST_HTTP_ON=embedded` asks for SQLite and disk.
pub fn for_test_server() -> (Option<String>, Option<String>) {
    if var("WOPID_TEST_HTTP_ON").as_deref() == Some("embedded") {
        return (None, None);
    }
    (
        var(PG_VAR).map(|u| fresh_meta(&u)),
        var(S3_VAR).map(|u| fresh_blobs(&u)),
    )
}
