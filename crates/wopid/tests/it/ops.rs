//! `/healthz`, `/readyz` and `/metrics`, on the main listener (with its token) or on
//! `metrics_listen`.

use crate::harness::{RW, TestServer};

const TOKEN: &str = "metrics-token-for-tests";

fn with_token(c: &mut wopid::Config) {
    c.metrics_token = Some(wopid::config::Secret::new(TOKEN));
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = TestServer::start_with(with_token).await;
    let get = |path: &str| {
        s.http
            .get(format!("{}{path}", s.base))
            .bearer_auth(TOKEN)
            .send()
    };
    let r = get("/healthz").await.expect("send");
    assert_eq!(r.status(), 200);
    let r = get("/readyz").await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("text"), "metadata: ok\nblobs: ok\n");

    let id = s.add_file("alice", "a.docx", b"").await;
    let token = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &token, "one").await.status(), 200);
    assert_eq!(s.lock(&id, &token, "two").await.status(), 409);
    let put = s.put_file(&id, &token, Some("one"), b"12345").await;
    assert_eq!(put.status(), 200);

    let text = get("/metrics")
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    for line in [
        "wopid_requests_total{op=\"Lock\",status=\"200\"} 1",
        "wopid_requests_total{op=\"Lock\",status=\"409\"} 1",
        "wopid_requests_total{op=\"PutFile\",status=\"200\"} 1",
        "wopid_lock_conflicts_total{op=\"Lock\"} 1",
        "wopid_request_duration_seconds_count{op=\"PutFile\"} 1",
        "wopid_bytes_received_total 5",
        "wopid_store_errors_total{kind=\"unavailable\"} 0",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(!text.contains(&token), "no token in the metrics");
}

#[tokio::test]
async fn requests_are_labelled_by_their_parsed_operation() {
    let s = TestServer::start_with(with_token).await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let post = |path: String| s.http.post(format!("{}{path}", s.base));
    // An unknown operation (501), a path that names no endpoint (404), and a Lock refused
    // before its handler runs (no token: 401).
    let r = post(format!("/wopi/files/{id}"))
        .header("X-WOPI-Override", "FROBNICATE")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 501);
    let r = post("/wopi/nothing/here".to_owned())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    let r = post(format!("/wopi/files/{id}"))
        .header("X-WOPI-Override", "LOCK")
        .header("X-WOPI-Lock", "l")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let token = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &token, "one").await.status(), 200);
    assert_eq!(s.lock(&id, &token, "two").await.status(), 409);
    let text = s
        .http
        .get(format!("{}/metrics", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    for line in [
        "wopid_requests_total{op=\"Unknown\",status=\"501\"} 1",
        "wopid_requests_total{op=\"Unknown\",status=\"404\"} 1",
        "wopid_requests_total{op=\"Lock\",status=\"401\"} 1",
        "wopid_lock_conflicts_total{op=\"Lock\"} 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_on_their_own_listener() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let s = TestServer::start_with(|c| c.metrics_listen = Some(addr)).await;
    let r = s
        .http
        .get(format!("{}/metrics", s.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404, "not on the public listener");
    // The metrics listener is bound as the server starts: wait for it, bounded.
    let mut text = None;
    for _ in 0..100 {
        if let Ok(r) = s.http.get(format!("http://{addr}/metrics")).send().await {
            text = Some(r.text().await.expect("text"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let text = text.expect("metrics listener answers");
    assert!(text.contains("wopid_requests_total"), "{text}");
}

#[tokio::test]
async fn discovery_refresh_failures_show_in_the_metrics() {
    let s = TestServer::start_with(|c| {
        with_token(c);
        c.editors = vec![
            wopid::config::EditorConfig::from_flag("gone=/nonexistent/discovery.xml")
                .expect("flag"),
        ];
    })
    .await;
    // The refresher fetches at start; the failure is counted and no copy is in use.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = s
            .http
            .get(format!("{}/metrics", s.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("text");
        if text.contains("wopid_discovery_refresh_failures_total{editor=\"gone\"} 1") {
            assert!(
                text.contains("wopid_discovery_age_seconds{editor=\"gone\"} -1"),
                "{text}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh failure counted:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
