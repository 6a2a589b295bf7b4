//! Starts a wopid server in-process on an ephemeral loopback port with a manual clock.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response};
use wopid::auth::{Perms, tokens};
use wopid::{AppState, Config, ManualClock};
use wopid_store::ResourceKind;

/// 2026-01-01T00:00:00Z, where every test's clock starts.
pub const T0: i64 = 1_767_225_600_000;
pub const HOUR: i64 = 3_600_000;

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (meta, blobs) = crate::services::for_test_server();
        let mut config = Config {
            data: dir.path().join("data"),
            meta,
            blobs,
            ..Config::default()
        };
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let clock = ManualClock::new(T0);
        let state = wopid::prepare(config, Arc::new(clock.clone()), &listener)
            .await
            .expect("open stores");
        let base = state.base.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let _ = wopid::run(serving, listener, async move {
                let _ = rx.await;
            })
            .await;
        });
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            base,
            state,
            clock,
            http,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Starts a server with these editors and fetches their discovery documents before returning.
    pub async fn start_with_editors(
        editors: Vec<wopid::config::EditorConfig>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let s = Self::start_with(|c| {
            c.editors = editors;
            tweak(c);
        })
        .await;
        for e in s.state.editors.all() {
            assert_eq!(
                wopid::editors::refresh(&s.state, e).await,
                wopid::editors::Refreshed::Updated,
                "discovery of {}",
                e.config.name
            );
        }
        s
    }

    /// Stores a file for `user` and returns its id.
    pub async fn add_file(&self, user: &str, name: &str, content: &[u8]) -> String {
        let body = bytes::Bytes::copy_from_slice(content);
        let stream: wopid_store::BlobStream =
            Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(body)]));
        let f = wopid::ops::files::add_file(&self.state, user, name, None, stream)
            .await
            .expect("add file");
        f.id
    }

    /// A token for `user` on file `id` valid for ten hours from the test clock's now.
    pub async fn token(&self, user: &str, id: &str, perms: Perms) -> String {
        let u = wopid::ops::files::ensure_user(&self.state, user)
            .await
            .expect("user");
        // A user who does not own the file gets it shared first, as `perms` say.
        let f = self.state.meta.file(id).await.expect("db").expect("file");
        if f.owner_id != u.id {
            let share = wopid_store::Share {
                resource_id: id.to_owned(),
                user_id: u.id.clone(),
                can_write: perms.can_write(),
            };
            self.state.meta.put_share(&share).await.expect("share");
        }
        let t = tokens::issue(
            &self.state,
            &u.id,
            ResourceKind::File,
            id,
            perms,
            self.clock_now() + 10 * HOUR,
        )
        .await
        .expect("token");
        t.expose().to_owned()
    }

    pub fn clock_now(&self) -> i64 {
        use wopid::Clock as _;
        self.clock.now_ms()
    }

    pub fn file_url(&self, id: &str, token: &str) -> String {
        format!("{}/wopi/files/{id}?access_token={token}", self.base)
    }

    pub fn contents_url(&self, id: &str, token: &str) -> String {
        format!(
            "{}/wopi/files/{id}/contents?access_token={token}",
            self.base
        )
    }

    /// A POST to the file endpoint with `X-WOPI-Override`.
    pub fn op(&self, id: &str, token: &str, override_: &str) -> RequestBuilder {
        self.http
            .request(Method::POST, self.file_url(id, token))
            .header("X-WOPI-Override", override_)
    }

    pub async fn check_file_info(&self, id: &str, token: &str) -> serde_json::Value {
        let r = self
            .http
            .get(self.file_url(id, token))
            .send()
            .await
            .expect("send");
        assert_eq!(
            r.status(),
            200,
            "CheckFileInfo: {:?}",
            r.headers().get("x-wopi-servererror")
        );
        r.json().await.expect("json")
    }

    pub async fn get_file(&self, id: &str, token: &str) -> Vec<u8> {
        let r = self
            .http
            .get(self.contents_url(id, token))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "GetFile");
        r.bytes().await.expect("body").to_vec()
    }

    pub async fn put_file(
        &self,
        id: &str,
        token: &str,
        lock: Option<&str>,
        body: &[u8],
    ) -> Response {
        let mut req = self
            .http
            .post(self.contents_url(id, token))
            .header("X-WOPI-Override", "PUT")
            .body(body.to_vec());
        if let Some(l) = lock {
            req = req.header("X-WOPI-Lock", l);
        }
        req.send().await.expect("send")
    }

    pub async fn lock(&self, id: &str, token: &str, lock: &str) -> Response {
        self.op(id, token, "LOCK")
            .header("X-WOPI-Lock", lock)
            .send()
            .await
            .expect("send")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

pub fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("<non-ascii>").to_owned())
}

pub const RW: Perms = Perms::READ_WRITE;
pub const RO: Perms = Perms::READ_ONLY;
