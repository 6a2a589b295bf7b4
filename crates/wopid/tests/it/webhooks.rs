//! Webhooks: a receiver served by the test on 127.0.0.1:0 gets the events of real operations,
//! signed, in order, retried after failures and across a restart of wopid.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use wopid::config::{Secret, WebhookConfig};

use crate::harness::{RW, T0, TestServer};

const SECRET: &str = "receiver secret";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    status: u16,
    event: String,
    delivery: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Got>>>,
    /// Answer 500 to this many more requests.
    failures: Arc<AtomicUsize>,
    count: Arc<tokio::sync::watch::Sender<usize>>,
}

struct Receiver {
    url: String,
    inbox: Inbox,
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: String) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let fail = inbox
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    let got = Got {
        status: status.as_u16(),
        event: h("x-wopid-event"),
        delivery: h("x-wopid-delivery"),
        timestamp: h("x-wopid-timestamp"),
        signature: h("x-wopid-signature"),
        content_type: h("content-type"),
        body,
    };
    let n = {
        let mut all = inbox.got.lock().expect("inbox");
        all.push(got);
        all.len()
    };
    inbox.count.send_replace(n);
    status
}

impl Receiver {
    async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("address")).await
    }

    async fn start_on(addr: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let inbox = Inbox::default();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inbox }
    }

    fn got(&self) -> Vec<Got> {
        self.inbox.got.lock().expect("inbox").clone()
    }

    /// The requests answered 2xx.
    fn delivered(&self) -> Vec<Got> {
        self.got().into_iter().filter(|g| g.status < 300).collect()
    }

    /// Waits (at most 20 s) until `done` holds for what arrived.
    async fn wait_until(&self, what: &str, done: impl Fn(&[Got]) -> bool) {
        let mut rx = self.inbox.count.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if done(&self.got()) {
                    return;
                }
                rx.changed().await.expect("receiver alive");
            }
        })
        .await;
        assert!(waited.is_ok(), "{what}: got {:#?}", self.got());
    }

    /// Moves the server's clock on (past any retry wait) and wakes its worker until `done`
    /// holds, at most 40 rounds.
    async fn retry_until(&self, s: &TestServer, what: &str, done: impl Fn(&[Got]) -> bool) {
        let mut rx = self.inbox.count.subscribe();
        for _ in 0..40 {
            if done(&self.got()) {
                return;
            }
            s.clock.advance_ms(60_000);
            s.state.webhooks.wake();
            let _ = tokio::time::timeout(Duration::from_secs(3), rx.changed()).await;
        }
        panic!("{what}: got {:#?}", self.got());
    }
}

fn hook(url: &str, secret: &str, events: Option<&[&str]>) -> WebhookConfig {
    WebhookConfig {
        url: url.to_owned(),
        events: events.map(|e| e.iter().map(|s| (*s).to_owned()).collect()),
        secret: Some(Secret::new(secret)),
        secret_file: None,
    }
}

fn fast_retries(c: &mut wopid::Config) {
    c.webhook_retry_initial = Duration::from_secs(1);
    c.webhook_retry_max = Duration::from_secs(5);
    c.webhook_timeout = Duration::from_secs(5);
}

/// Waits (bounded) until the server has recorded every delivery: the receiver sees a request
/// before the worker has the answer.
async fn drained(s: &TestServer) {
    for _ in 0..500 {
        if s.state
            .meta
            .pending_deliveries(10)
            .await
            .expect("queue")
            .is_empty()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "deliveries left queued: {:#?}",
        s.state.meta.pending_deliveries(10).await
    );
}

fn types(got: &[Got]) -> Vec<String> {
    got.iter().map(|g| g.event.clone()).collect()
}

#[tokio::test]
async fn a_file_s_life_is_told_in_order_and_signed() {
    let all = Receiver::start().await;
    let deletions = Receiver::start().await;
    let (a, d) = (all.url.clone(), deletions.url.clone());
    let s = TestServer::start_with(move |c| {
        c.webhooks = vec![
            hook(&a, SECRET, None),
            hook(&d, "other secret", Some(&["file.deleted"])),
        ];
    })
    .await;
    let alice = wopid::ops::files::ensure_user(&s.state, "alice")
        .await
        .expect("alice");
    wopid::ops::files::ensure_user(&s.state, "bob")
        .await
        .expect("bob");

    let id = s.add_file("alice", "report.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, "L1").await.status(), 200);
    // A refresh is not a new lock; a refused save or lock changes nothing: no events.
    assert_eq!(s.lock(&id, &t, "L1").await.status(), 200);
    assert_eq!(s.lock(&id, &t, "L2").await.status(), 409);
    assert_eq!(s.put_file(&id, &t, Some("wrong"), b"x").await.status(), 409);
    let r = s.op(&id, &t, "DELETE").send().await.expect("delete");
    assert_eq!(r.status(), 409, "locked");
    assert_eq!(s.put_file(&id, &t, Some("L1"), b"v2").await.status(), 200);
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", "L1")
        .send()
        .await
        .expect("unlock");
    assert_eq!(r.status(), 200);
    let r = s
        .op(&id, &t, "RENAME_FILE")
        .header("X-WOPI-RequestedName", "final")
        .send()
        .await
        .expect("rename");
    assert_eq!(r.status(), 200);
    let file = s.state.meta.file(&id).await.expect("db").expect("file");
    let shared = wopid::ops::sharing::Resource::File(file.clone());
    let share = || wopid::ops::sharing::share(&s.state, Some(&alice.id), &shared, "bob", false);
    assert_eq!(
        share().await.expect("share"),
        wopid::ops::sharing::Change::Done
    );
    // The same share again changes nothing; a change of permission and a removal are told.
    assert_eq!(
        share().await.expect("share"),
        wopid::ops::sharing::Change::Done
    );
    let bob = s
        .state
        .meta
        .user_by_login("bob")
        .await
        .expect("db")
        .expect("bob");
    let changed = wopid::ops::sharing::set_share(&s.state, &alice.id, &shared, &bob.id, true);
    assert_eq!(
        changed.await.expect("change"),
        wopid::ops::sharing::Change::Done
    );
    let removed = wopid::ops::sharing::remove_share(&s.state, &alice.id, &shared, &bob.id);
    assert_eq!(
        removed.await.expect("remove"),
        wopid::ops::sharing::Change::Done
    );
    let r = s.op(&id, &t, "DELETE").send().await.expect("delete");
    assert_eq!(r.status(), 200);

    let want = [
        "file.created",
        "file.locked",
        "file.saved",
        "file.unlocked",
        "file.renamed",
        "share.created",
        "share.changed",
        "share.removed",
        "file.deleted",
    ];
    all.wait_until("the whole story", |g| g.len() >= want.len())
        .await;
    deletions
        .wait_until("the deletion", |g| !g.is_empty())
        .await;
    let got = all.got();
    assert_eq!(types(&got), want, "exactly these events, in order");
    assert_eq!(
        types(&deletions.got()),
        ["file.deleted"],
        "only what it asked for"
    );

    let mut ids = std::collections::HashSet::new();
    for g in &got {
        assert_eq!(g.content_type, "application/json");
        assert!(ids.insert(g.delivery.clone()), "one delivery id each");
        // The signature verifies with the receiver's secret, and not with another.
        assert!(
            wopid::webhooks::sign::verify(
                SECRET.as_bytes(),
                &g.timestamp,
                g.body.as_bytes(),
                &g.signature
            ),
            "{g:?}"
        );
        assert!(!wopid::webhooks::sign::verify(
            b"wrong secret",
            &g.timestamp,
            g.body.as_bytes(),
            &g.signature
        ));
        let mut tampered = g.body.clone();
        tampered.push(' ');
        assert!(!wopid::webhooks::sign::verify(
            SECRET.as_bytes(),
            &g.timestamp,
            tampered.as_bytes(),
            &g.signature
        ));
        assert_eq!(g.timestamp, (T0 / 1000).to_string());
        let v = g.json();
        assert_eq!(v["type"], g.event.as_str());
        assert_eq!(v["actor"]["id"], alice.id.as_str());
        assert_eq!(v["occurred_at"], "2026-01-01T00:00:00.0000000Z");
        assert_eq!(v["file"]["id"], id.as_str());
        assert_eq!(v["file"]["parent"], file.container_id.as_str());
        assert!(v["id"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The same event reaches every receiver under one event id, each with its own delivery id.
    let del = deletions.got().remove(0);
    let last = got.last().expect("the deletion");
    assert_eq!(del.json()["id"], last.json()["id"]);
    assert_ne!(del.delivery, last.delivery);
    assert!(wopid::webhooks::sign::verify(
        b"other secret",
        &del.timestamp,
        del.body.as_bytes(),
        &del.signature
    ));

    let v: Vec<Value> = got.iter().map(Got::json).collect();
    assert_eq!(v[0]["file"]["name"], "report.docx");
    assert_eq!(
        (
            v[0]["file"]["size"].as_u64(),
            v[0]["file"]["version"].as_i64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(
        (
            v[2]["file"]["size"].as_u64(),
            v[2]["file"]["version"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(v[4]["file"]["name"], "final.docx");
    assert_eq!(v[4]["previous_name"], "report.docx");
    assert_eq!(v[5]["share"]["can_write"], false);
    assert!(v[5]["share"]["user"]["id"].as_str().is_some());
    assert_eq!(v[6]["file"]["name"], "final.docx");
    // Nothing is left queued.
    drained(&s).await;
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_the_same_delivery_id() {
    let rx = Receiver::start().await;
    rx.inbox.failures.store(2, Ordering::SeqCst);
    let url = rx.url.clone();
    let s = TestServer::start_with(move |c| {
        c.webhooks = vec![hook(&url, SECRET, None)];
        fast_retries(c);
    })
    .await;
    s.add_file("alice", "a.txt", b"hello").await;
    rx.wait_until("a first attempt", |g| !g.is_empty()).await;
    rx.retry_until(&s, "delivered after two failures", |g| {
        g.iter().any(|g| g.status < 300)
    })
    .await;
    let got = rx.got();
    assert_eq!(
        got.iter().map(|g| g.status).collect::<Vec<_>>(),
        [500, 500, 204],
        "{got:#?}"
    );
    assert!(
        got.iter().all(|g| g.delivery == got[0].delivery),
        "one delivery id"
    );
    assert!(got.iter().all(|g| g.body == got[0].body), "the same event");
    assert!(got.iter().all(|g| g.event == "file.created"));
    drained(&s).await;
    let metrics = s.state.metrics.render();
    assert!(
        metrics.contains("wopid_webhook_deliveries_total{outcome=\"failed\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wopid_webhook_deliveries_total{outcome=\"delivered\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn deliveries_pending_at_a_stop_are_sent_after_the_next_start() {
    let rx = Receiver::start().await;
    // The receiver is down (answers 500) for as long as the first server runs.
    rx.inbox.failures.store(usize::MAX, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (url, d1) = (rx.url.clone(), data.clone());
    let first = TestServer::start_with(move |c| {
        c.data = d1;
        c.webhooks = vec![hook(&url, SECRET, None)];
        fast_retries(c);
    })
    .await;
    let id = first.add_file("alice", "a.txt", b"one").await;
    let t = first.token("alice", &id, RW).await;
    assert_eq!(first.lock(&id, &t, "L").await.status(), 200);
    rx.wait_until("a failed attempt of each", |g| {
        g.iter().any(|g| g.event == "file.created") && g.iter().any(|g| g.event == "file.locked")
    })
    .await;
    let mut before: Vec<(String, String)> = rx
        .got()
        .iter()
        .map(|g| (g.delivery.clone(), g.body.clone()))
        .collect();
    before.sort();
    before.dedup();
    assert_eq!(before.len(), 2, "two deliveries: {before:?}");
    let (meta, blobs) = (
        first.state.config.meta.clone(),
        first.state.config.blobs.clone(),
    );
    drop(first);

    // wopid started again on the same data, and the receiver back up.
    let url = rx.url.clone();
    let second = TestServer::start_with(move |c| {
        c.data = data;
        c.meta = meta;
        c.blobs = blobs;
        c.webhooks = vec![hook(&url, SECRET, None)];
        fast_retries(c);
    })
    .await;
    rx.inbox.failures.store(0, Ordering::SeqCst);
    rx.retry_until(&second, "both delivered after the restart", |g| {
        g.iter().filter(|g| g.status < 300).count() >= 2
    })
    .await;
    let mut after: Vec<(String, String)> = rx
        .delivered()
        .iter()
        .map(|g| (g.delivery.clone(), g.body.clone()))
        .collect();
    after.sort();
    assert_eq!(after, before, "the same deliveries, same ids and bodies");
    drained(&second).await;
    // Sent by the new server.
    let metrics = second.state.metrics.render();
    assert!(
        metrics.contains("wopid_webhook_deliveries_total{outcome=\"delivered\"} 2"),
        "{metrics}"
    );
    drop(dir);
}

#[tokio::test]
async fn deliveries_for_a_receiver_that_is_down_survive_a_restart() {
    // An address with nothing listening: every attempt is refused.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = probe.local_addr().expect("addr");
    drop(probe);
    let url = format!("http://{addr}/hook");
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (u, d1) = (url.clone(), data.clone());
    let first = TestServer::start_with(move |c| {
        c.data = d1;
        c.webhooks = vec![hook(&u, SECRET, None)];
        fast_retries(c);
    })
    .await;
    let id = first.add_file("alice", "a.txt", b"one").await;
    let t = first.token("alice", &id, RW).await;
    assert_eq!(first.lock(&id, &t, "L").await.status(), 200);
    // Each delivery was tried once and failed, and waits in the queue.
    let mut before = Vec::new();
    for _ in 0..500 {
        let q = first
            .state
            .meta
            .pending_deliveries(10)
            .await
            .expect("queue");
        if q.len() == 2 && q.iter().all(|d| d.attempts >= 1) {
            assert!(q.iter().all(|d| d.last_error.is_some()), "{q:#?}");
            before = q;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(before.len(), 2, "two failed deliveries queued");
    let (meta, blobs) = (
        first.state.config.meta.clone(),
        first.state.config.blobs.clone(),
    );
    drop(first);

    let u = url.clone();
    let second = TestServer::start_with(move |c| {
        c.data = data;
        c.meta = meta;
        c.blobs = blobs;
        c.webhooks = vec![hook(&u, SECRET, None)];
        fast_retries(c);
    })
    .await;
    let rx = Receiver::start_on(addr).await;
    rx.retry_until(&second, "both delivered once the receiver is up", |g| {
        g.len() >= 2
    })
    .await;
    drained(&second).await;
    let mut want: Vec<_> = before
        .iter()
        .map(|d| (d.id.clone(), d.event.clone(), d.payload.clone()))
        .collect();
    let mut got: Vec<_> = rx
        .got()
        .iter()
        .map(|g| (g.delivery.clone(), g.event.clone(), g.body.clone()))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "every queued delivery, with its id and body");
    drop(dir);
}

#[tokio::test]
async fn two_nodes_on_one_database_send_each_delivery_once() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (u, d) = (rx.url.clone(), data.clone());
    let a = TestServer::start_with(move |c| {
        c.data = d;
        c.webhooks = vec![hook(&u, SECRET, None)];
    })
    .await;
    let (meta, blobs) = (a.state.config.meta.clone(), a.state.config.blobs.clone());
    let u = rx.url.clone();
    let b = TestServer::start_with(move |c| {
        c.data = data;
        c.meta = meta;
        c.blobs = blobs;
        c.webhooks = vec![hook(&u, SECRET, None)];
    })
    .await;
    // Both nodes queue events at once; both workers claim from the one queue.
    let (na, nb) = tokio::join!(
        async {
            for i in 0..15 {
                a.add_file("alice", &format!("a{i}.txt"), b"a").await;
            }
        },
        async {
            for i in 0..15 {
                b.add_file("bob", &format!("b{i}.txt"), b"b").await;
            }
        }
    );
    let ((), ()) = (na, nb);
    rx.wait_until("thirty deliveries", |g| g.len() >= 30).await;
    drained(&a).await;
    let got = rx.got();
    let mut ids: Vec<_> = got.iter().map(|g| g.delivery.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each delivery once: {got:#?}");
    assert_eq!(got.len(), 30, "no delivery twice");
    drop((a, b, dir));
}

/// A WOPI container URL with a token of `user_id`.
async fn container_url(s: &TestServer, user_id: &str, id: &str) -> String {
    let t = wopid::auth::tokens::issue(
        &s.state,
        user_id,
        wopid_store::ResourceKind::Container,
        id,
        RW,
        s.clock_now() + crate::harness::HOUR,
    )
    .await
    .expect("token");
    format!(
        "{}/wopi/containers/{id}?access_token={}",
        s.base,
        t.expose()
    )
}

async fn container_op(s: &TestServer, url: &str, op: &str, name: Option<&str>) -> u16 {
    let mut r = s.http.post(url).header("X-WOPI-Override", op);
    if let Some(n) = name {
        r = r.header("X-WOPI-RequestedName", n);
    }
    r.send().await.expect("send").status().as_u16()
}

#[tokio::test]
async fn folders_and_moves_are_told_too() {
    let rx = Receiver::start().await;
    let url = rx.url.clone();
    let s = TestServer::start_with(move |c| {
        let wanted = [
            "container.created",
            "container.renamed",
            "container.deleted",
            "file.moved",
        ];
        c.webhooks = vec![hook(&url, SECRET, Some(&wanted))];
    })
    .await;
    let alice = wopid::ops::files::ensure_user(&s.state, "alice")
        .await
        .expect("alice");
    let id = s.add_file("alice", "a.txt", b"one").await;
    let root = s
        .state
        .meta
        .root_container(&alice.id, T0)
        .await
        .expect("root");
    let folder = wopid::ops::containers::create_named(&s.state, &alice.id, &root, "Docs")
        .await
        .expect("mkdir")
        .expect("created");
    // A taken name creates nothing.
    assert!(
        wopid::ops::containers::create_named(&s.state, &alice.id, &root, "Docs")
            .await
            .expect("mkdir")
            .is_none()
    );
    let file = s.state.meta.file(&id).await.expect("db").expect("file");
    let moved = wopid::ops::files::move_to(&s.state, &alice.id, file, &folder.id)
        .await
        .expect("move");
    assert_eq!(moved, wopid::ops::files::Moved::Done);
    let docs = container_url(&s, &alice.id, &folder.id).await;
    assert_eq!(
        container_op(&s, &docs, "RENAME_CONTAINER", Some("Papers")).await,
        200
    );
    // Not empty, or the same name again: nothing happens, nothing is told.
    assert_eq!(container_op(&s, &docs, "DELETE_CONTAINER", None).await, 409);
    assert_eq!(
        container_op(&s, &docs, "RENAME_CONTAINER", Some("Papers")).await,
        200
    );
    let empty = wopid::ops::containers::create_named(&s.state, &alice.id, &root, "Empty")
        .await
        .expect("mkdir")
        .expect("created");
    let empty_url = container_url(&s, &alice.id, &empty.id).await;
    assert_eq!(
        container_op(&s, &empty_url, "DELETE_CONTAINER", None).await,
        200
    );

    let want = [
        "container.created",
        "file.moved",
        "container.renamed",
        "container.created",
        "container.deleted",
    ];
    rx.wait_until("all", |g| g.len() >= want.len()).await;
    let got = rx.got();
    assert_eq!(types(&got), want);
    let v: Vec<Value> = got.iter().map(Got::json).collect();
    assert_eq!(v[0]["container"]["name"], "Docs");
    assert_eq!(v[0]["container"]["parent"], root.id.as_str());
    assert_eq!(v[1]["file"]["parent"], folder.id.as_str());
    assert_eq!(v[1]["previous_parent"], root.id.as_str());
    assert_eq!(v[2]["container"]["name"], "Papers");
    assert_eq!(v[2]["previous_name"], "Docs");
    assert_eq!(v[4]["container"]["id"], empty.id.as_str());
    assert!(got.iter().all(|g| {
        let v = g.json();
        v["actor"]["id"] == alice.id.as_str()
    }));
}

#[tokio::test]
async fn start_up_refuses_bad_webhook_settings() {
    for (w, why) in [
        (hook("ftp://example.com/x", SECRET, None), "http"),
        (hook("not a url", SECRET, None), "webhook url"),
        (
            hook("http://example.com/x", SECRET, Some(&["file.exploded"])),
            "unknown event",
        ),
        (
            hook("http://example.com/x", SECRET, Some(&[])),
            "sends nothing",
        ),
        (hook("http://example.com/x", " ", None), "empty"),
        (
            WebhookConfig {
                secret: None,
                ..hook("http://example.com/x", SECRET, None)
            },
            "secret",
        ),
    ] {
        let mut c = wopid::Config {
            webhooks: vec![w.clone()],
            ..wopid::Config::default()
        };
        let e = c.resolve_secrets().expect_err("refused").to_string();
        assert!(e.contains(why), "{w:?}: {e}");
    }
    // A secret file's first line is the secret, and Debug never shows it.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("secret");
    std::fs::File::create(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"from file\nignored\n"))
        .expect("secret file");
    let mut c = wopid::Config {
        webhooks: vec![WebhookConfig {
            secret: None,
            secret_file: Some(path),
            ..hook(
                "https://hookuser:hookpass@example.com/x?token=querysecret",
                SECRET,
                None,
            )
        }],
        ..wopid::Config::default()
    };
    c.resolve_secrets().expect("accepted");
    assert_eq!(
        c.webhooks[0].secret.as_ref().map(Secret::expose),
        Some("from file")
    );
    let shown = format!("{c:?}");
    for hidden in ["from file", "querysecret", "hookpass"] {
        assert!(!shown.contains(hidden), "{hidden} in {shown}");
    }
}

/// Kills the child process when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_sends_the_events_of_cli_changes() {
    use std::io::BufRead as _;
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let secret_file = dir.path().join("hook-secret");
    let config = dir.path().join("wopid.toml");
    let data = dir.path().join("data");
    for (path, text) in [
        (&secret_file, format!("{SECRET}\n")),
        (
            &config,
            format!(
                "[[webhooks]]\nurl = \"{}\"\nevents = [\"file.created\"]\nsecret_file = \"{}\"\n",
                rx.url,
                secret_file.display()
            ),
        ),
    ] {
        std::fs::File::create(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .expect("write");
    }
    let wopid = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wopid"));
        c.stderr(std::process::Stdio::null());
        c
    };
    let mut serve = Child(
        wopid()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(&data)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn serve"),
    );
    let mut lines = std::io::BufReader::new(serve.0.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("read");
    assert!(first.starts_with("listening on "), "{first}");

    // A file added by the CLI, in another process, while the server runs.
    let out = wopid()
        .args([
            "files", "add", "--name", "cli.txt", "--user", "carol", "--config",
        ])
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .output()
        .expect("files add");
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    rx.wait_until("the CLI's file.created", |g| !g.is_empty())
        .await;
    let g = rx.got().remove(0);
    assert_eq!(g.event, "file.created");
    assert!(wopid::webhooks::sign::verify(
        SECRET.as_bytes(),
        &g.timestamp,
        g.body.as_bytes(),
        &g.signature
    ));
    let v = g.json();
    assert_eq!(v["file"]["id"], id.as_str());
    assert_eq!(v["file"]["name"], "cli.txt");
    assert!(v["actor"]["id"].as_str().is_some_and(|a| !a.is_empty()));
    drop(serve);
}
