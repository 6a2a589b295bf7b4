//! The scale-out engines under stress, run by `.ci/run` as steps of their own (ignored otherwise,
//! since they restart shared services or move a gigabyte):
//!
//! - `restarts_of_postgres_and_s3_under_traffic` (`WOPID_TEST_RESTARTS=1`): PostgreSQL restarted
//!   with `WOPID_CI_PG_CTL restart`, and an S3 server of the test's own killed and started again,
//!   while saves and reads run: failures are clean (503, or 500 with `X-WOPI-ServerError`), no
//!   acknowledged save is lost, and wopid recovers by itself.
//! - `big_put_to_s3_keeps_memory_flat` (`WOPID_TEST_BIG_PUT=1`): a 1 GiB PutFile to S3, with the
//!   wopid process's peak RSS measured and printed.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use wopid::auth::{Perms, tokens};
use wopid::{AppState, Config, SystemClock};
use wopid_store::ResourceKind;

use crate::multinode::Node;
use crate::services;

fn enabled(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// A file owned by alice in the stores at `meta`/`blobs`, and a read-write token for it.
async fn file_and_token(
    meta: &str,
    blobs: &str,
    dir: &std::path::Path,
) -> (AppState, String, String) {
    let config = Config {
        data: dir.join("setup"),
        meta: Some(meta.to_owned()),
        blobs: Some(blobs.to_owned()),
        ..Config::default()
    };
    let state = AppState::open(config, Arc::new(SystemClock), "http://unused".into())
        .await
        .expect("open stores");
    let body: wopid_store::BlobStream = Box::pin(futures_util::stream::empty());
    let f = wopid::ops::files::add_file(&state, "alice", "big.bin", None, body)
        .await
        .expect("add file");
    let user = state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    use wopid::Clock as _;
    let token = tokens::issue(
        &state,
        &user.id,
        ResourceKind::File,
        &f.id,
        Perms::READ_WRITE,
        SystemClock.now_ms() + 3_600_000,
    )
    .await
    .expect("token")
    .expose()
    .to_owned();
    (state, f.id, token)
}

/// An s3s-fs server of this test's own, on `port` (0: a free one), serving `root`.
struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    fn start(root: &std::path::Path, port: u16) -> Self {
        let port = if port == 0 {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port()
        } else {
            port
        };
        let bin = std::env::var("WOPID_TEST_S3S_FS").unwrap_or_else(|_| "s3s-fs".into());
        let child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--access-key",
                &std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
            ])
            .args([
                "--secret-key",
                &std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs (WOPID_TEST_S3S_FS or s3s-fs on PATH)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pg_ctl(action: &str) {
    let ctl = std::env::var("WOPID_CI_PG_CTL").expect("WOPID_CI_PG_CTL names the cluster's pg_ctl");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{ctl} -w -t 60 -m fast {action} >/dev/null"))
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {action}");
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    /// Acknowledged saves: version -> body.
    acked: BTreeMap<i64, Vec<u8>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "restarts shared services: run by .ci/run with WOPID_TEST_RESTARTS=1"]
async fn restarts_of_postgres_and_s3_under_traffic() {
    if !enabled("WOPID_TEST_RESTARTS") {
        return;
    }
    let Some((pg, _)) = services::required() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(s3_root.join("restart")).expect("bucket");
    let s3 = S3Server::start(&s3_root, 0);
    let port = s3.port;
    let meta = services::fresh_meta(&pg);
    let blobs = format!("s3://restart?endpoint=http://127.0.0.1:{port}&region=us-east-1");
    let (state, file, token) = file_and_token(&meta, &blobs, dir.path()).await;
    let node = Node::start(&meta, &blobs, &dir.path().join("node"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let file_url = format!("{}/wopi/files/{file}?access_token={token}", node.url);
    let contents_url = format!(
        "{}/wopi/files/{file}/contents?access_token={token}",
        node.url
    );
    let r = http
        .post(&file_url)
        .header("X-WOPI-Override", "LOCK")
        .header("X-WOPI-Lock", "L")
        .send()
        .await
        .expect("lock");
    assert_eq!(r.status(), 200);

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let traffic = {
        let (stop, tally, http) = (stop.clone(), tally.clone(), http.clone());
        let contents_url = contents_url.clone();
        tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = format!("save {i}").into_bytes();
                let r = http
                    .post(&contents_url)
                    .header("X-WOPI-Override", "PUT")
                    .header("X-WOPI-Lock", "L")
                    .header("X-COOL-WOPI-IsAutosave", "false")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("wopid answers every request (no crash, no dropped connection)");
                let status = r.status().as_u16();
                assert!(
                    status == 200
                        || status == 503
                        || (status == 500 && r.headers().contains_key("x-wopi-servererror")),
                    "PutFile answered {status} without a clean error"
                );
                let version = r
                    .headers()
                    .get("x-wopi-itemversion")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                {
                    let mut t = tally.lock().expect("tally");
                    *t.statuses.entry(status).or_default() += 1;
                    if status == 200 {
                        t.acked
                            .insert(version.expect("X-WOPI-ItemVersion on 200"), body);
                    }
                }
                let r = http
                    .get(&contents_url)
                    .send()
                    .await
                    .expect("wopid answers every request");
                let s = r.status().as_u16();
                assert!(
                    s == 200
                        || s == 503
                        || (s == 500 && r.headers().contains_key("x-wopi-servererror")),
                    "GetFile answered {s}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Waits until a save succeeds again, bounded.
    let recovered = |what: &'static str| {
        let tally = tally.clone();
        async move {
            let before = tally.lock().expect("tally").acked.len();
            let deadline = Instant::now() + Duration::from_secs(60);
            while tally.lock().expect("tally").acked.len() <= before {
                assert!(Instant::now() < deadline, "no recovery after {what}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    recovered("start").await;

    let t = Instant::now();
    pg_ctl("restart");
    recovered("the PostgreSQL restart").await;
    println!(
        "PostgreSQL restarted; saves succeed again after {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    drop(s3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let s3 = S3Server::start(&s3_root, port);
    recovered("the S3 restart").await;
    println!(
        "S3 server restarted; saves succeed again after {:.1} s",
        t.elapsed().as_secs_f64()
    );

    stop.store(true, Ordering::Relaxed);
    traffic.await.expect("traffic task");
    let t = std::mem::take(&mut *tally.lock().expect("tally"));
    println!("answers during the restarts: {:?}", t.statuses);
    assert!(
        t.statuses.keys().any(|s| *s != 200),
        "the restarts were seen by some request"
    );
    // No acknowledged save is lost: each one is a version whose content reads back.
    let versions = state.meta.versions(&file).await.expect("versions");
    for (v, body) in &t.acked {
        let rec = versions
            .iter()
            .find(|r| r.version == *v)
            .unwrap_or_else(|| panic!("acknowledged version {v} kept"));
        let mut s = state.blobs.get(&rec.blob_key, None).await.expect("blob");
        let mut got = Vec::new();
        while let Some(c) = s.next().await {
            got.extend_from_slice(&c.expect("chunk"));
        }
        assert_eq!(&got, body, "version {v}");
    }
    let last = t.acked.keys().last().copied().expect("saves");
    let r = http.get(&contents_url).send().await.expect("get");
    assert_eq!(r.status(), 200);
    let served: i64 = r
        .headers()
        .get("x-wopi-itemversion")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("version");
    assert!(served >= last, "versions only go forward");
    drop(s3);
}

/// Peak resident memory of a process, from /proc (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "moves a gigabyte: run by .ci/run with WOPID_TEST_BIG_PUT=1"]
async fn big_put_to_s3_keeps_memory_flat() {
    if !enabled("WOPID_TEST_BIG_PUT") {
        return;
    }
    let Some((pg, s3)) = services::required() else {
        return;
    };
    const SIZE: u64 = 1 << 30;
    const CHUNK: usize = 1 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = services::fresh_meta(&pg);
    let blobs = services::fresh_blobs(&s3);
    let (_state, file, token) = file_and_token(&meta, &blobs, dir.path()).await;
    // The release binary when given (as CI does): a debug build hashes ten times slower.
    let bin = std::env::var("WOPID_TEST_WOPID_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_wopid").into());
    let node = Node::start_bin(&bin, &meta, &blobs, &dir.path().join("node"), &[]);
    let before = peak_rss(node.pid());
    let chunk = bytes::Bytes::from(vec![0x5a; CHUNK]);
    let body = futures_util::stream::iter(
        (0..SIZE / CHUNK as u64).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let started = Instant::now();
    // An empty, unlocked file takes a PutFile without a lock.
    let r = http
        .post(format!(
            "{}/wopi/files/{file}/contents?access_token={token}",
            node.url
        ))
        .header("X-WOPI-Override", "PUT")
        .header("Content-Length", SIZE.to_string())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        200,
        "{:?}",
        r.headers().get("x-wopi-servererror")
    );
    let secs = started.elapsed().as_secs_f64();
    let peak = peak_rss(node.pid());
    println!(
        "1 GiB PutFile to S3: {secs:.1} s ({:.0} MiB/s); wopid peak RSS {:.1} MB (at start {:.1} MB)",
        1024.0 / secs,
        peak as f64 / 1e6,
        before as f64 / 1e6
    );
    let info: serde_json::Value = http
        .get(format!(
            "{}/wopi/files/{file}?access_token={token}",
            node.url
        ))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    assert_eq!(info["Size"].as_u64(), Some(SIZE));
    assert!(peak < 100_000_000, "peak RSS {peak} bytes is over 100 MB");
}
