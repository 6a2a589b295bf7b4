//! Several nodes: two `wopid serve` processes on one PostgreSQL and one S3 server, sharing
//! nothing else. An editing session alternates every request between them; locks and saves race
//! across both; exactly one lock holder exists at every point, every acknowledged save is
//! readable from both, and versions only go forward. Needs `WOPID_TEST_PG_URL` and
//! `WOPID_TEST_S3_URL` (skips visibly without them, fails under CI without them).

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Response};
use wopid::auth::{Perms, tokens};
use wopid::{AppState, Config, SystemClock};
use wopid_store::ResourceKind;

use crate::services;

/// One `wopid serve` process; killed when dropped.
pub struct Node {
    pub url: String,
    pub child: Child,
}

impl Node {
    pub fn start(meta: &str, blobs: &str, data: &std::path::Path) -> Self {
        Self::start_with(meta, blobs, data, &[])
    }

    pub fn start_with(meta: &str, blobs: &str, data: &std::path::Path, extra: &[&str]) -> Self {
        Self::start_bin(env!("CARGO_BIN_EXE_wopid"), meta, blobs, data, extra)
    }

    pub fn start_bin(
        bin: &str,
        meta: &str,
        blobs: &str,
        data: &std::path::Path,
        extra: &[&str],
    ) -> Self {
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--meta",
                meta,
                "--blobs",
                blobs,
            ])
            .arg("--data")
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn wopid serve");
        let stdout = child.stdout.take().expect("stdout");
        // Read the one "listening on" line, bounded in time.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("wopid serve started in time");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { url, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two nodes on the same fresh schema and prefix, a file and a token valid on both.
pub struct Cluster {
    pub nodes: [Node; 2],
    pub state: AppState,
    pub file: String,
    pub token: String,
    pub http: Client,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start() -> Option<Self> {
        Self::start_configured("").await
    }

    /// [`Cluster::start`] with both nodes reading this `wopid.toml`.
    pub async fn start_configured(toml: &str) -> Option<Self> {
        let (pg, s3) = services::required()?;
        let meta = services::fresh_meta(&pg);
        let blobs = services::fresh_blobs(&s3);
        let dir = tempfile::tempdir().expect("tempdir");
        // This process only prepares the data: the file and its token live in the shared stores.
        let config = Config {
            data: dir.path().join("setup"),
            meta: Some(meta.clone()),
            blobs: Some(blobs.clone()),
            ..Config::default()
        };
        let state = AppState::open(config, Arc::new(SystemClock), "http://unused".into())
            .await
            .expect("open the shared stores");
        let body: wopid_store::BlobStream =
            Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(
                bytes::Bytes::from_static(b"version one"),
            )]));
        let f = wopid::ops::files::add_file(&state, "alice", "doc.docx", None, body)
            .await
            .expect("add file");
        let user = state
            .meta
            .user_by_login("alice")
            .await
            .expect("db")
            .expect("alice");
        use wopid::Clock as _;
        let expires = SystemClock.now_ms() + 3_600_000;
        let token = tokens::issue(
            &state,
            &user.id,
            ResourceKind::File,
            &f.id,
            Perms::READ_WRITE,
            expires,
        )
        .await
        .expect("token")
        .expose()
        .to_owned();
        let config_file = dir.path().join("wopid.toml");
        #[allow(clippy::disallowed_methods)] // a test's own configuration file
        std::fs::write(&config_file, toml).expect("write wopid.toml");
        let config_file = config_file.to_str().expect("utf-8 path").to_owned();
        let extra = ["--config", config_file.as_str()];
        let nodes = [
            Node::start_with(&meta, &blobs, &dir.path().join("n1"), &extra),
            Node::start_with(&meta, &blobs, &dir.path().join("n2"), &extra),
        ];
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Some(Self {
            nodes,
            state,
            file: f.id,
            token,
            http,
            _dir: dir,
        })
    }

    fn base(&self, node: usize) -> &str {
        &self.nodes[node % 2].url
    }

    pub fn file_url(&self, node: usize) -> String {
        format!(
            "{}/wopi/files/{}?access_token={}",
            self.base(node),
            self.file,
            self.token
        )
    }

    pub fn contents_url(&self, node: usize) -> String {
        format!(
            "{}/wopi/files/{}/contents?access_token={}",
            self.base(node),
            self.file,
            self.token
        )
    }

    pub async fn op(&self, node: usize, op: &str, lock: Option<&str>) -> Response {
        let mut r = self
            .http
            .post(self.file_url(node))
            .header("X-WOPI-Override", op);
        if let Some(l) = lock {
            r = r.header("X-WOPI-Lock", l);
        }
        r.send().await.expect("send")
    }

    /// PutFile as an autosave (coalesced in the history with the session's previous one).
    pub async fn put(&self, node: usize, lock: &str, body: Vec<u8>) -> Response {
        self.put_with(node, lock, body, true).await
    }

    pub async fn put_with(
        &self,
        node: usize,
        lock: &str,
        body: Vec<u8>,
        autosave: bool,
    ) -> Response {
        self.http
            .post(self.contents_url(node))
            .header("X-WOPI-Override", "PUT")
            .header("X-WOPI-Lock", lock)
            .header(
                "X-COOL-WOPI-IsAutosave",
                if autosave { "true" } else { "false" },
            )
            .body(body)
            .send()
            .await
            .expect("send")
    }

    pub async fn get(&self, node: usize) -> (i64, Vec<u8>) {
        let r = self
            .http
            .get(self.contents_url(node))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "GetFile on node {}", node % 2 + 1);
        let v = version_header(&r);
        (v, r.bytes().await.expect("body").to_vec())
    }

    pub async fn info(&self, node: usize) -> serde_json::Value {
        let r = self
            .http
            .get(self.file_url(node))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "CheckFileInfo on node {}", node % 2 + 1);
        r.json().await.expect("json")
    }
}

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn version_header(r: &Response) -> i64 {
    header(r, "x-wopi-itemversion")
        .and_then(|v| v.parse().ok())
        .expect("X-WOPI-ItemVersion")
}

fn info_version(v: &serde_json::Value) -> i64 {
    v["Version"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v["Version"].as_i64())
        .expect("Version")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_editing_session_alternates_between_two_nodes() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    // Node numbers alternate on every request: n, n+1, …
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n - 1
    };
    let mut seen = 0i64;
    let mut forward = |v: i64, what: &str| {
        assert!(v >= seen, "{what}: version went back from {seen} to {v}");
        seen = v;
    };

    forward(info_version(&c.info(next()).await), "CheckFileInfo");
    let r = c.op(next(), "LOCK", Some("session-1")).await;
    assert_eq!(r.status(), 200, "LOCK on node 1");
    let r = c.op(next(), "GET_LOCK", None).await;
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("session-1"));
    let r = c.op(next(), "LOCK", Some("intruder")).await;
    assert_eq!(r.status(), 409, "another lock id on the other node");
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("session-1"));

    for i in 2..8 {
        let body = format!("version {i}").into_bytes();
        let r = c.put(next(), "session-1", body.clone()).await;
        assert_eq!(r.status(), 200, "PutFile {i}");
        let v = version_header(&r);
        forward(v, "PutFile");
        // The save is readable from both nodes at once.
        for _ in 0..2 {
            let (gv, got) = c.get(next()).await;
            assert_eq!(got, body, "save {i} readable on every node");
            forward(gv, "GetFile");
        }
        let r = c.op(next(), "REFRESH_LOCK", Some("session-1")).await;
        assert_eq!(r.status(), 200, "RefreshLock {i}");
        forward(info_version(&c.info(next()).await), "CheckFileInfo");
    }
    let r = c.put(next(), "wrong", b"lost".to_vec()).await;
    assert_eq!(r.status(), 409, "PutFile with the wrong lock");
    let r = c.op(next(), "UNLOCK", Some("session-1")).await;
    assert_eq!(r.status(), 200, "Unlock");
    let r = c.op(next(), "GET_LOCK", None).await;
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some(""));
    let (_, got) = c.get(next()).await;
    assert_eq!(got, b"version 7");
    // Autosaves of one session share one history row; the file's version counts every save.
    let versions = c.state.meta.versions(&c.file).await.expect("versions");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 7]
    );
    assert_eq!(info_version(&c.info(next()).await), 7);
}

/// Rounds of the lock race: `WOPID_TEST_LOCK_ROUNDS` (default 100).
fn lock_rounds() -> usize {
    std::env::var("WOPID_TEST_LOCK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_lockers_on_two_nodes_have_exactly_one_winner() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let c = Arc::new(c);
    const LOCKERS: usize = 32;
    let rounds = lock_rounds();
    let started = std::time::Instant::now();
    for round in 0..rounds {
        let barrier = Arc::new(tokio::sync::Barrier::new(LOCKERS));
        let mut tasks = Vec::new();
        for i in 0..LOCKERS {
            let c = c.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("r{round}-{i}");
                barrier.wait().await;
                let r = c.op(i, "LOCK", Some(&id)).await;
                (r.status().as_u16(), id, header(&r, "x-wopi-lock"))
            }));
        }
        let mut winners = Vec::new();
        let mut holders_seen = Vec::new();
        for t in tasks {
            let (status, id, current) = t.await.expect("task");
            match status {
                200 => winners.push(id),
                409 => holders_seen.extend(current),
                other => panic!("round {round}: LOCK answered {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let winner = &winners[0];
        // Every loser was told of the one holder (or of nothing yet, if it lost before the
        // winner committed... which cannot be: a 409 names the lock that beat it).
        assert!(
            holders_seen.iter().all(|h| h == winner),
            "round {round}: losers saw {holders_seen:?}, winner {winner}"
        );
        let r = c.op(round + 1, "GET_LOCK", None).await;
        assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some(winner.as_str()));
        let r = c.op(round, "UNLOCK", Some(winner)).await;
        assert_eq!(r.status(), 200, "round {round}: unlock");
    }
    println!(
        "lock race: {rounds} rounds of {LOCKERS} concurrent LOCKs over two nodes, exactly one 200 \
         each ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}

/// Co-authoring: a coauth lock and the WOPI lock are one compare-and-swap on the file, so a
/// GetCoauthLock (CoauthExclusive) on one node and a Lock on the other, sent at once, never both
/// succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coauth_lock_and_lock_racing_on_two_nodes_have_exactly_one_winner() {
    let Some(c) = Cluster::start_configured(
        "coauth_collaboration_service_url = \"https://ocs.example.com/\"\n\
         coauth_real_time_channel_url = \"https://rtc.example.com/\"\n",
    )
    .await
    else {
        return;
    };
    let c = Arc::new(c);
    let rounds = lock_rounds();
    let (mut coauth_wins, mut lock_wins) = (0, 0);
    for round in 0..rounds {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let (cc, b) = (c.clone(), barrier.clone());
        let coauth = tokio::spawn(async move {
            b.wait().await;
            let r = cc
                .http
                .post(cc.file_url(round))
                .header("X-WOPI-Override", "GET_COAUTH_LOCK")
                .header("X-WOPI-CoauthLockId", format!("C{round}"))
                .header("X-WOPI-CoauthLockType", "CoauthExclusive")
                .header("X-WOPI-CoauthLockExpirationTimeout", "600")
                .send()
                .await
                .expect("send");
            (
                r.status().as_u16(),
                header(&r, "x-wopi-conflictingmechanism"),
            )
        });
        let (cc, b) = (c.clone(), barrier.clone());
        let lock = tokio::spawn(async move {
            b.wait().await;
            let r = cc.op(round + 1, "LOCK", Some(&format!("L{round}"))).await;
            (
                r.status().as_u16(),
                header(&r, "x-wopi-conflictingmechanism"),
            )
        });
        let coauth = coauth.await.expect("task");
        let lock = lock.await.expect("task");
        match (coauth.0, lock.0) {
            (200, 409) => {
                coauth_wins += 1;
                assert_eq!(lock.1.as_deref(), Some("WOPI-CoauthExclusiveLock"));
                let r = c
                    .http
                    .post(c.file_url(round + 1))
                    .header("X-WOPI-Override", "UNLOCK_COAUTH_LOCK")
                    .header("X-WOPI-CoauthLockId", format!("C{round}"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(r.status(), 200, "round {round}: unlock coauth");
            }
            (409, 200) => {
                lock_wins += 1;
                assert_eq!(coauth.1.as_deref(), Some("WOPI-Lock"));
                let r = c.op(round, "UNLOCK", Some(&format!("L{round}"))).await;
                assert_eq!(r.status(), 200, "round {round}: unlock");
            }
            other => panic!("round {round}: GetCoauthLock and Lock answered {other:?}"),
        }
    }
    println!(
        "coauth race: {rounds} rounds of GetCoauthLock against Lock over two nodes, exactly one \
         winner each ({coauth_wins} coauth, {lock_wins} WOPI lock)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_saves_on_two_nodes_all_land_in_order() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let c = Arc::new(c);
    let r = c.op(0, "LOCK", Some("editor")).await;
    assert_eq!(r.status(), 200);
    const SAVES: usize = 24;
    let mut tasks = Vec::new();
    for i in 0..SAVES {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            // Saves with the lock, and lock attempts by others, on both nodes at once.
            if i % 4 == 3 {
                let r = c.op(i, "LOCK", Some(&format!("other-{i}"))).await;
                return (r.status().as_u16(), None);
            }
            let body = format!("save {i}").into_bytes();
            // Not autosaves: each save keeps a history row of its own.
            let r = c.put_with(i, "editor", body.clone(), false).await;
            let status = r.status().as_u16();
            let v = (status == 200).then(|| version_header(&r));
            (status, v.map(|v| (v, body)))
        }));
    }
    let mut acked = BTreeMap::new();
    for t in tasks {
        match t.await.expect("task") {
            (200, Some((v, body))) => {
                assert!(
                    acked.insert(v, body).is_none(),
                    "version {v} acknowledged twice"
                );
            }
            (409, None) => {}
            other => panic!("unexpected answer {:?}", other.0),
        }
    }
    assert_eq!(
        acked.len(),
        SAVES - SAVES / 4,
        "every save with the lock lands"
    );
    let versions = c.state.meta.versions(&c.file).await.expect("versions");
    let last = *acked.keys().last().expect("saves");
    assert_eq!(versions.last().map(|v| v.version), Some(last));
    // Every acknowledged save is kept as a version whose content is readable.
    for (v, body) in &acked {
        let rec = versions
            .iter()
            .find(|r| r.version == *v)
            .unwrap_or_else(|| panic!("version {v} kept"));
        let mut s = c.state.blobs.get(&rec.blob_key, None).await.expect("blob");
        let mut got = Vec::new();
        use futures_util::StreamExt as _;
        while let Some(chunk) = s.next().await {
            got.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(&got, body, "version {v}");
    }
    // Both nodes serve the last one.
    for node in 0..2 {
        let (v, got) = c.get(node).await;
        assert_eq!(v, last);
        assert_eq!(&got, &acked[&last]);
    }
}

/// Nothing a node reads per request is cached: a lock taken on one node, a share narrowed and a
/// token revoked by another process on the same database are seen by the very next request on
/// either node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn locks_shares_and_revocations_apply_to_the_next_request_on_every_node() {
    let Some(c) = Cluster::start().await else {
        return;
    };
    let r = c.op(0, "LOCK", Some("held-on-1")).await;
    assert_eq!(r.status(), 200);
    let r = c.op(1, "LOCK", Some("other")).await;
    assert_eq!(r.status(), 409, "the lock taken on node 1");
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("held-on-1"));

    use wopid::Clock as _;
    let now = SystemClock.now_ms();
    let bob = c
        .state
        .meta
        .ensure_user("bob", "Bob", now)
        .await
        .expect("bob");
    let share = |can_write| wopid_store::Share {
        resource_id: c.file.clone(),
        user_id: bob.id.clone(),
        can_write,
    };
    c.state.meta.put_share(&share(true)).await.expect("share");
    let bob_token = tokens::issue(
        &c.state,
        &bob.id,
        ResourceKind::File,
        &c.file,
        Perms::READ_WRITE,
        now + 3_600_000,
    )
    .await
    .expect("token")
    .expose()
    .to_owned();
    let bob_info = |node: usize| {
        let url = format!(
            "{}/wopi/files/{}?access_token={bob_token}",
            c.base(node),
            c.file
        );
        let http = c.http.clone();
        async move {
            let r = http.get(url).send().await.expect("send");
            assert_eq!(r.status(), 200);
            // A false flag is left out of CheckFileInfo.
            r.json::<serde_json::Value>().await.expect("json")["UserCanWrite"] == true
        }
    };
    assert!(bob_info(0).await);
    c.state.meta.put_share(&share(false)).await.expect("narrow");
    assert!(!bob_info(1).await, "the narrowed share on node 2");
    assert!(!bob_info(0).await, "the narrowed share on node 1");

    let alice = c.state.meta.user_by_login("alice").await.expect("db");
    let alice = alice.expect("alice");
    for node in 0..2 {
        let r = c.http.get(c.file_url(node)).send().await.expect("send");
        assert_eq!(r.status(), 200);
    }
    let n = c
        .state
        .meta
        .revoke_tokens(&alice.id, Some(&c.file))
        .await
        .expect("revoke");
    assert_eq!(n, 1);
    for node in 0..2 {
        let r = c.http.get(c.file_url(node)).send().await.expect("send");
        assert_eq!(r.status(), 401, "the revoked token on node {}", node + 1);
    }
}

/// Sign-in guesses and refresh-token rotations spread over both nodes: the limits hold across
/// them, since both are decided in PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_limits_and_refresh_rotation_hold_across_nodes() {
    use sha2::Digest as _;
    let Some(c) = Cluster::start().await else {
        return;
    };
    let alice = c
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    let hash = wopid::auth::password::hash("alice-password").expect("hash");
    c.state
        .meta
        .set_password_hash(&alice.id, &hash)
        .await
        .expect("password");
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    // The login form's CSRF check is a double-submit cookie: any matching pair will do.
    let login = |node: usize, password: String| {
        let req = http
            .post(format!("{}/login", c.base(node)))
            .header("Cookie", "wopid_login_csrf=same")
            .form(&[
                ("csrf", "same"),
                ("username", "alice"),
                ("password", password.as_str()),
                ("next", "/"),
            ]);
        async move { req.send().await.expect("send").status().as_u16() }
    };
    let attempts = (0..40).map(|i| login(i, format!("wrong-{i}")));
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));
    assert_eq!(login(0, "alice-password".into()).await, 429);
    assert_eq!(login(1, "alice-password".into()).await, 429);

    // One refresh token, six refreshes at once over both nodes.
    let client = wopid_store::OAuthClient {
        id: "native".into(),
        name: "Native".into(),
        redirect_uri: "https://localhost/cb".into(),
        require_pkce: true,
    };
    c.state
        .meta
        .add_oauth_client(&client)
        .await
        .expect("client");
    let secret = "a-refresh-token-handed-out-earlier-0123456789";
    use wopid::Clock as _;
    let record = wopid_store::TokenRecord {
        hash: sha2::Sha256::digest(secret.as_bytes()).to_vec(),
        user_id: alice.id.clone(),
        kind: ResourceKind::Refresh,
        resource_id: "native".into(),
        perms: Perms::READ_WRITE.bits(),
        expires_ms: SystemClock.now_ms() + 3_600_000,
        revoked: false,
        client: None,
        epoch: alice.epoch,
        link: None,
    };
    assert!(
        c.state
            .meta
            .insert_family_tokens(b"family-of-a-sign-in", &[record])
            .await
            .expect("issue")
    );
    let refreshes = (0..6).map(|i| {
        let req = http.post(format!("{}/oauth2/token", c.base(i))).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", secret),
            ("client_id", "native"),
        ]);
        async move {
            let r = req.send().await.expect("send");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.expect("json"))
        }
    });
    let answers = futures_util::future::join_all(refreshes).await;
    let pairs: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert!(pairs.len() <= 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 400));
    // The losers presented a used token: the winner's pair is revoked with its family.
    for (_, pair) in pairs {
        let access = pair["access_token"].as_str().expect("access");
        for node in 0..2 {
            let r = http
                .get(format!("{}/wopibootstrapper", c.base(node)))
                .bearer_auth(access)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 401);
        }
    }
}
