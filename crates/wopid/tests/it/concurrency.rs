//! 64 clients hammer one file over HTTP with Lock, PutFile, RefreshLock, GetLock, GetFile and
//! Unlock. Invariants: at most one lock holder at any time, and the holder sees its own lock until
//! it unlocks; PutFile succeeds only for the holder; no acknowledged save is lost; every GetFile
//! body is exactly one whole version that some client wrote, never a mix.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rand::{Rng as _, SeedableRng as _};
use sha2::{Digest as _, Sha256};

use crate::harness::*;

const CLIENTS: usize = 64;
const ROUNDS: usize = 12;
const NOBODY: usize = usize::MAX;

/// A save whose every byte says who wrote it and when: `<cc:nnnnn>` repeated.
fn content(client: usize, n: usize, reps: usize) -> Vec<u8> {
    format!("<{client:02}:{n:05}>").repeat(reps).into_bytes()
}

fn sha(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Default)]
struct Shared {
    /// Every body a PutFile carried (acknowledged or not), by SHA-256.
    attempted: Mutex<HashSet<String>>,
    /// Acknowledged saves: version -> SHA-256.
    acked: Mutex<HashMap<i64, String>>,
    /// The client that holds the lock according to the responses, or NOBODY.
    holder: AtomicUsize,
    reads: AtomicUsize,
    locks: AtomicUsize,
}

fn status(r: &reqwest::Response) -> u16 {
    r.status().as_u16()
}

async fn client(s: Arc<TestServer>, sh: Arc<Shared>, id: String, t: String, me: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(me as u64);
    let my_lock = format!("client-{me}");
    let mut n = 0;
    for _ in 0..ROUNDS {
        let r = s.lock(&id, &t, &my_lock).await;
        match status(&r) {
            200 => {
                sh.locks.fetch_add(1, Ordering::SeqCst);
                let prev = sh.holder.swap(me, Ordering::SeqCst);
                assert_eq!(
                    prev, NOBODY,
                    "client {me} got the lock while {prev} held it"
                );
                for _ in 0..rng.random_range(1..4) {
                    n += 1;
                    let body = content(me, n, rng.random_range(1..1600));
                    let digest = sha(&body);
                    sh.attempted.lock().expect("mutex").insert(digest.clone());
                    let r = s.put_file(&id, &t, Some(&my_lock), &body).await;
                    assert_eq!(status(&r), 200, "holder {me}: PutFile");
                    let v: i64 = header(&r, "x-wopi-itemversion")
                        .and_then(|v| v.parse().ok())
                        .expect("X-WOPI-ItemVersion");
                    let old = sh.acked.lock().expect("mutex").insert(v, digest.clone());
                    assert!(old.is_none(), "version {v} acknowledged twice");
                    // Nobody else can write while we hold the lock: we read back our own save.
                    let got = s.get_file(&id, &t).await;
                    assert_eq!(sha(&got), digest, "holder {me} reads back its save");
                    let r = s.op(&id, &t, "GET_LOCK").send().await.expect("send");
                    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some(my_lock.as_str()));
                    let r = s
                        .op(&id, &t, "REFRESH_LOCK")
                        .header("X-WOPI-Lock", &my_lock)
                        .send()
                        .await
                        .expect("send");
                    assert_eq!(status(&r), 200, "holder {me}: RefreshLock");
                }
                // Step down before unlocking: between the two nobody else can get a 200 Lock.
                assert_eq!(sh.holder.swap(NOBODY, Ordering::SeqCst), me);
                let r = s
                    .op(&id, &t, "UNLOCK")
                    .header("X-WOPI-Lock", &my_lock)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(status(&r), 200, "holder {me}: Unlock");
            }
            409 => {
                let current = header(&r, "x-wopi-lock").unwrap_or_default();
                assert_ne!(current, my_lock, "409 names our own lock");
                // Not the holder: writes and lock changes with our id are refused.
                n += 1;
                let body = content(me, n, 7);
                sh.attempted.lock().expect("mutex").insert(sha(&body));
                let r = s.put_file(&id, &t, Some(&my_lock), &body).await;
                assert_eq!(status(&r), 409, "non-holder {me}: PutFile");
                for ov in ["REFRESH_LOCK", "UNLOCK"] {
                    let r = s
                        .op(&id, &t, ov)
                        .header("X-WOPI-Lock", &my_lock)
                        .send()
                        .await
                        .expect("send");
                    assert_eq!(status(&r), 409, "non-holder {me}: {ov}");
                }
                // Whatever the holder is doing, a read is one whole version.
                let r = s
                    .http
                    .get(s.contents_url(&id, &t))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(status(&r), 200, "GetFile");
                let body = r.bytes().await.expect("body");
                let digest = sha(&body);
                assert!(
                    body.is_empty() || sh.attempted.lock().expect("mutex").contains(&digest),
                    "GetFile returned {} bytes that no PutFile sent",
                    body.len()
                );
                if let Some(unit) = body.get(..10) {
                    assert!(
                        body.chunks(10).all(|c| c == unit),
                        "GetFile mixes two saves"
                    );
                }
                sh.reads.fetch_add(1, Ordering::SeqCst);
            }
            other => panic!("client {me}: Lock got {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_on_one_file() {
    // Every save its own history entry, so the history can be checked against the acknowledgements.
    let s = Arc::new(
        TestServer::start_with(|c| c.autosave_coalesce_window = std::time::Duration::ZERO).await,
    );
    let id = s.add_file("alice", "shared.docx", b"").await;
    let sh = Arc::new(Shared {
        holder: AtomicUsize::new(NOBODY),
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for me in 0..CLIENTS {
        let user = format!("user{}", me % 8);
        let t = s.token(&user, &id, RW).await;
        tasks.push(tokio::spawn(client(
            s.clone(),
            sh.clone(),
            id.clone(),
            t,
            me,
        )));
    }
    let run = async {
        for t in tasks {
            t.await.expect("client task");
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(240), run)
        .await
        .expect("the clients finish in time");

    let acked = sh.acked.lock().expect("mutex").clone();
    // The run exercised both sides: several holders in turn, and reads while the file was locked.
    assert!(
        sh.locks.load(Ordering::SeqCst) > 1,
        "the lock changed hands"
    );
    assert!(
        sh.reads.load(Ordering::SeqCst) > 0,
        "some reads raced writes"
    );
    // No acknowledged save is lost: the history holds each with its content, and nothing else.
    let history = s.state.meta.versions(&id).await.expect("versions");
    let by_version: HashMap<i64, String> = history
        .iter()
        .map(|v| (v.version, v.sha256.clone()))
        .collect();
    assert_eq!(
        history.len(),
        acked.len() + 1,
        "one version per acknowledged save"
    );
    for (v, digest) in &acked {
        assert_eq!(by_version.get(v), Some(digest), "acknowledged version {v}");
    }
    let last = acked.keys().max().copied().expect("some saves");
    let t = s.token("alice", &id, RW).await;
    assert_eq!(sha(&s.get_file(&id, &t).await), acked[&last]);
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["Version"], last.to_string());
    let r = s.op(&id, &t, "GET_LOCK").send().await.expect("send");
    assert_eq!(
        header(&r, "x-wopi-lock").as_deref(),
        Some(""),
        "all unlocked"
    );
}
