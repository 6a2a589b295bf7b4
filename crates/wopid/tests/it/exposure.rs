//! What wopid shows to whoever asks, and what it takes from the editors' servers: `/metrics` needs
//! its bearer token on the main listener, avatars need a session or their signed URL, the
//! container share page cannot be framed, and discovery fetches are capped in size and redirects.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::harness::*;

#[tokio::test]
async fn metrics_need_their_token_on_the_main_listener() {
    // Default: not served on the main listener at all.
    let s = TestServer::start().await;
    let r = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404, "no /metrics without a token");
    drop(s);

    // With a token: only with it.
    let s = TestServer::start_with(|c| {
        c.metrics_token = Some(wopid::config::Secret::new("metrics-s3cret"));
    })
    .await;
    let url = format!("{}/metrics", s.base);
    let r = s.http.get(&url).send().await.expect("send");
    assert_eq!(r.status(), 401);
    assert!(header(&r, "www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
    let r = s
        .http
        .get(&url)
        .bearer_auth("metrics-s3cres")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .get(&url)
        .bearer_auth("metrics-s3cret")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .expect("text")
            .contains("wopid_requests_total")
    );
}

#[tokio::test]
async fn avatars_need_a_session_or_their_signed_url() {
    let s = TestServer::start().await;
    let alice = crate::web::user(&s, "alice", "alice-password").await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    // Guessing the URL from a user id gets nothing.
    for path in [
        format!("/avatar/{alice}.svg"),
        format!("/avatar/{alice}.svg?s=AAAA"),
    ] {
        let r = s
            .http
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401, "{path}");
    }
    // The URL CheckFileInfo hands the editor works as given.
    let info = s.check_file_info(&id, &t).await;
    let avatar = info["UserExtraInfo"]["avatar"]
        .as_str()
        .expect("avatar url")
        .to_owned();
    let r = s.http.get(&avatar).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type").as_deref(), Some("image/svg+xml"));
    // So does the plain URL with a web session.
    let b = crate::web::Browser::sign_in(&s, "alice", "alice-password").await;
    let r = b.get(&format!("/avatar/{alice}.svg")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_container_share_page_cannot_be_framed() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let v: Value = s
        .http
        .get(format!(
            "{}/wopi/files/{id}/ancestry?access_token={t}",
            s.base
        ))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let root = v["AncestorsWithRootFirst"][0]["Url"]
        .as_str()
        .expect("root url")
        .to_owned();
    let r = s
        .http
        .post(&root)
        .header("X-WOPI-Override", "GET_SHARE_URL")
        .header("X-WOPI-UrlType", "ReadOnly")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let share = r.json::<Value>().await.expect("json")["ShareUrl"]
        .as_str()
        .expect("url")
        .to_owned();
    let r = s.http.get(&share).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        header(&r, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let csp = header(&r, "content-security-policy").expect("a CSP");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

/// A discovery document an editor-less server can install (no proof key: proof "off").
fn discovery_xml(padding: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<wopi-discovery>\n<!--{}-->\n<net-zone name=\"external-http\">\n<app name=\"Writer\">\n<action name=\"edit\" ext=\"odt\" urlsrc=\"http://127.0.0.1:1/edit?\"/>\n</app>\n</net-zone>\n</wopi-discovery>\n",
        "x".repeat(padding)
    )
}

/// A loopback web server: `/big` is a valid discovery document of 8 MiB, `/hop/N` redirects
/// to `/hop/N-1` and `/hop/0` is a small valid document.
async fn discovery_server() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let resp = if path == "/big" {
                    let body = discovery_xml(8 << 20);
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else if let Some(n) = path.strip_prefix("/hop/") {
                    let n: u32 = n.parse().unwrap_or(0);
                    if n == 0 {
                        let body = discovery_xml(0);
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        format!(
                            "HTTP/1.1 302 Found\r\nLocation: /hop/{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            n - 1
                        )
                    }
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

async fn refresh(s: &TestServer, name: &str) -> wopid::editors::Refreshed {
    let e = s
        .state
        .editors
        .all()
        .iter()
        .find(|e| e.config.name == name)
        .expect("editor");
    tokio::time::timeout(
        Duration::from_secs(20),
        wopid::editors::refresh(&s.state, e),
    )
    .await
    .expect("a bounded fetch")
}

#[tokio::test]
async fn discovery_fetches_are_capped_in_size_and_redirects() {
    let origin = discovery_server().await;
    let editor = |name: &str, path: &str| {
        let mut e = wopid::config::EditorConfig::from_flag(&format!("{name}={origin}{path}"))
            .expect("flag");
        e.proof = wopid::config::ProofMode::Off;
        e
    };
    let s = TestServer::start_with(|c| {
        c.editors = vec![
            editor("small", "/hop/0"),
            editor("one-hop", "/hop/1"),
            editor("big", "/big"),
            editor("many-hops", "/hop/8"),
        ];
    })
    .await;
    assert_eq!(
        refresh(&s, "small").await,
        wopid::editors::Refreshed::Updated
    );
    assert_eq!(
        refresh(&s, "one-hop").await,
        wopid::editors::Refreshed::Updated
    );
    assert!(
        matches!(
            refresh(&s, "big").await,
            wopid::editors::Refreshed::Failed(_)
        ),
        "an 8 MiB discovery document is refused"
    );
    assert!(
        matches!(
            refresh(&s, "many-hops").await,
            wopid::editors::Refreshed::Failed(_)
        ),
        "eight redirects are too many"
    );
}
