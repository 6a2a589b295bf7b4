//! The management API at `/api/v1`: keys and scopes, problem details, users, files, shares,
//! `open` and the WOPI calls its token makes, pagination, ranges, and the OpenAPI document.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, header};

const ORIGIN: &str = "https://app.example";

/// An editor whose discovery is the Office fixture, without proof keys.
fn office() -> wopid::config::EditorConfig {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../wopid-proto/tests/fixtures/discovery/office.xml"
    );
    let mut e = wopid::config::EditorConfig::from_flag(&format!("office={path}")).expect("flag");
    e.proof = wopid::config::ProofMode::Off;
    e
}

async fn key(s: &TestServer, scope: &str, origins: &[&str]) -> String {
    let scope = wopid::auth::api_key::Scope::parse(scope).expect("scope");
    let origins = origins.iter().map(|o| (*o).to_owned()).collect();
    let (_, k) = wopid::auth::api_key::create(&s.state, "test", scope, origins)
        .await
        .expect("store")
        .expect("key");
    k.expose().to_owned()
}

struct Api<'a> {
    s: &'a TestServer,
    key: String,
}

impl Api<'_> {
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.s
            .http
            .request(method, format!("{}/api/v1{path}", self.s.base))
            .bearer_auth(&self.key)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }
}

/// Asserts an RFC 9457 problem of `status`; returns its detail.
async fn problem(resp: reqwest::Response, status: u16) -> String {
    assert_eq!(resp.status().as_u16(), status, "status");
    assert_eq!(
        header(&resp, "content-type").as_deref(),
        Some("application/problem+json")
    );
    let v: Value = resp.json().await.expect("problem json");
    assert_eq!(v["status"], status, "{v}");
    assert!(v["type"].is_string() && v["title"].is_string(), "{v}");
    v["detail"].as_str().expect("detail").to_owned()
}

#[tokio::test]
async fn an_application_creates_a_user_uploads_shares_and_opens_a_file_for_editing() {
    let s = TestServer::start_with_editors(vec![office()], |_| {}).await;
    let api = Api {
        key: key(&s, "files", &[ORIGIN]).await,
        s: &s,
    };
    let ann = api
        .ok(
            Method::POST,
            "/users",
            Some(json!({"login": "ann", "password": "ann-password", "email": "ann@example.com"})),
        )
        .await;
    // The first user created administers wopid.
    assert_eq!(ann["admin"], true);
    let bob = api
        .ok(Method::POST, "/users", Some(json!({"login": "bob"})))
        .await;
    assert_eq!(bob["admin"], false);
    let (ann_id, bob_id) = (
        ann["id"].as_str().expect("a string"),
        bob["id"].as_str().expect("a string"),
    );
    let root = api
        .ok(Method::GET, &format!("/users/{ann_id}/root"), None)
        .await;
    let root_id = root["id"].as_str().expect("a string");

    // 20 MB, streamed in.
    let content: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let r = api
        .req(
            Method::POST,
            &format!("/containers/{root_id}/files?name=report.docx"),
        )
        .header("content-type", "application/octet-stream")
        .body(content.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let file: Value = r.json().await.expect("json");
    let id = file["id"].as_str().expect("a string").to_owned();
    assert_eq!(file["size"], content.len());
    assert_eq!(file["owner_id"], ann_id);

    // Whole and ranged downloads.
    let r = api
        .req(Method::GET, &format!("/files/{id}/content"))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 206);
    assert_eq!(
        header(&r, "content-range").as_deref(),
        Some(format!("bytes 1000-1999/{}", content.len()).as_str())
    );
    assert_eq!(
        r.bytes().await.expect("body").as_ref(),
        &content[1000..2000]
    );
    let r = api
        .req(Method::GET, &format!("/files/{id}/content"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.expect("body").len(), content.len());
    let r = api
        .req(Method::GET, &format!("/files/{id}/content"))
        .header("range", format!("bytes={}-", content.len() + 10))
        .send()
        .await
        .expect("send");
    problem(r, 416).await;

    // Share with bob for editing, seen from both sides.
    let share = api
        .ok(
            Method::PUT,
            &format!("/resources/{id}/shares/{bob_id}"),
            Some(json!({"can_write": true})),
        )
        .await;
    assert_eq!(share["can_write"], true);
    let on = api
        .ok(Method::GET, &format!("/resources/{id}/shares"), None)
        .await;
    assert_eq!(on["items"].as_array().expect("an array").len(), 1);
    let of = api
        .ok(Method::GET, &format!("/users/{bob_id}/shares"), None)
        .await;
    assert_eq!(of["items"][0]["resource_id"], id.as_str());

    // Open for bob, in the application's page.
    let opened = api
        .ok(
            Method::POST,
            &format!("/files/{id}/open"),
            Some(json!({
                "user_id": bob_id, "action": "edit", "origin": ORIGIN,
                "close_url": "https://app.example/docs",
                "edit_url": "https://app.example/docs/1/edit",
                "sharing_url": "https://app.example/docs/1/share",
            })),
        )
        .await;
    assert_eq!(opened["read_only"], false);
    assert_eq!(opened["action"], "edit");
    assert_eq!(opened["wopi_src"], s.state.wopi_src(&id));
    let action_url = opened["action_url"].as_str().expect("a string");
    assert!(action_url.starts_with("https://office.example.com/we/wordeditorframe.aspx"));
    assert!(action_url.contains("wopisrc="), "{action_url}");
    assert!(opened["access_token_ttl"].as_i64().expect("a number") > s.clock_now());
    assert!(
        opened["host_page_url"]
            .as_str()
            .expect("a string")
            .ends_with(&format!("/files/{id}/edit?editor=office"))
    );
    let token = opened["access_token"].as_str().expect("a string");

    // The token works for WOPI, and CheckFileInfo answers the application's origin and pages.
    let info = s.check_file_info(&id, token).await;
    assert_eq!(info["PostMessageOrigin"], ORIGIN);
    assert_eq!(info["CloseUrl"], "https://app.example/docs");
    assert_eq!(info["HostEditUrl"], "https://app.example/docs/1/edit");
    assert_eq!(info["FileSharingUrl"], "https://app.example/docs/1/share");
    assert!(info.get("HostViewUrl").is_none() && info.get("FileVersionUrl").is_none());
    assert_eq!(info["UserCanWrite"], true);
    assert_eq!(info["UserId"], bob_id);
    assert_eq!(s.lock(&id, token, "L1").await.status(), 200);
    // A locked file refuses the API's upload (the editor holds it).
    let r = api
        .req(Method::PUT, &format!("/files/{id}/content"))
        .body("x")
        .send()
        .await
        .expect("send");
    problem(r, 409).await;
    assert_eq!(
        s.put_file(&id, token, Some("L1"), b"saved by the editor")
            .await
            .status(),
        200
    );
    let versions = api
        .ok(Method::GET, &format!("/files/{id}/versions"), None)
        .await;
    let items = versions["items"].as_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["author_id"], bob_id);
    // wopid's own tokens still answer wopid's pages.
    let own = s.token("ann", &id, crate::harness::RW).await;
    assert_eq!(
        s.check_file_info(&id, &own).await["PostMessageOrigin"],
        s.state.origin()
    );

    // A read-only share opens read-only, whatever the action asked.
    api.ok(
        Method::PUT,
        &format!("/resources/{id}/shares/{bob_id}"),
        Some(json!({"can_write": false})),
    )
    .await;
    let opened = api
        .ok(
            Method::POST,
            &format!("/files/{id}/open"),
            Some(json!({"user_id": bob_id, "action": "edit", "origin": ORIGIN})),
        )
        .await;
    assert_eq!(opened["read_only"], true);
    assert_eq!(opened["action"], "view");
    let info = s
        .check_file_info(&id, opened["access_token"].as_str().expect("a string"))
        .await;
    assert_ne!(info["UserCanWrite"], true);
    assert!(info.get("CloseUrl").is_none());

    // Origins: on the key's allow-list only.
    let open = |origin: &str| {
        api.req(Method::POST, &format!("/files/{id}/open"))
            .json(&json!({"user_id": bob_id, "action": "view", "origin": origin}))
            .send()
    };
    problem(open("https://evil.example").await.expect("send"), 403).await;
    problem(open("https://app.example/path").await.expect("send"), 422).await;
    problem(open("not an origin").await.expect("send"), 422).await;
    // Removing the share ends bob's access.
    let r = api
        .req(Method::DELETE, &format!("/resources/{id}/shares/{bob_id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    problem(open(ORIGIN).await.expect("send"), 403).await;
    let r = s
        .http
        .get(s.file_url(&id, token))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401, "an unshared user's token is refused");
}

#[tokio::test]
async fn keys_have_scopes_and_a_revoked_key_is_refused_at_once() {
    let s = TestServer::start().await;
    let admin = Api {
        key: key(&s, "admin", &[]).await,
        s: &s,
    };
    let files = Api {
        key: key(&s, "files", &[]).await,
        s: &s,
    };
    // A files key manages users and files, not keys.
    files.ok(Method::GET, "/users", None).await;
    problem(
        files
            .req(Method::GET, "/api-keys")
            .send()
            .await
            .expect("send"),
        403,
    )
    .await;
    let r = files
        .req(Method::POST, "/api-keys")
        .json(&json!({"name": "more", "scope": "admin"}))
        .send()
        .await
        .expect("send");
    problem(r, 403).await;

    // An admin key makes a key, which works until it is revoked.
    let made = admin
        .ok(
            Method::POST,
            "/api-keys",
            Some(json!({"name": "lms", "origins": [ORIGIN]})),
        )
        .await;
    assert_eq!(made["scope"], "files");
    let fresh = Api {
        key: made["key"].as_str().expect("a string").to_owned(),
        s: &s,
    };
    fresh.ok(Method::GET, "/users", None).await;
    let listed = admin.ok(Method::GET, "/api-keys", None).await;
    assert_eq!(listed["items"].as_array().expect("an array").len(), 3);
    assert!(
        listed.to_string().find(&fresh.key).is_none(),
        "keys are never listed"
    );
    let r = admin
        .req(
            Method::DELETE,
            &format!("/api-keys/{}", made["id"].as_str().expect("a string")),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let r = fresh.req(Method::GET, "/users").send().await.expect("send");
    assert_eq!(
        header(&r, "www-authenticate").as_deref(),
        Some("Bearer realm=\"wopid\"")
    );
    problem(r, 401).await;
    assert!(
        admin
            .ok(
                Method::GET,
                &format!("/api-keys/{}", made["id"].as_str().expect("a string")),
                None
            )
            .await["revoked"]
            == true
    );

    // No key, a malformed key, a key with a wrong secret.
    let anon = s
        .http
        .get(format!("{}/api/v1/users", s.base))
        .send()
        .await
        .expect("send");
    problem(anon, 401).await;
    for bad in [
        "nonsense".to_owned(),
        format!("{}x", files.key),
        files.key.replace("wopid_", "wopid_X"),
    ] {
        let r = Api { key: bad, s: &s }
            .req(Method::GET, "/users")
            .send()
            .await
            .expect("send");
        problem(r, 401).await;
    }
}

#[tokio::test]
async fn a_files_key_cannot_make_or_take_over_administrators() {
    let s = TestServer::start().await;
    let admin = Api {
        key: key(&s, "admin", &[]).await,
        s: &s,
    };
    let files = Api {
        key: key(&s, "files", &[]).await,
        s: &s,
    };
    // The first user is an administrator.
    let root = files
        .ok(Method::POST, "/users", Some(json!({"login": "root"})))
        .await;
    assert_eq!(root["admin"], true);
    let root_id = root["id"].as_str().expect("a string");
    let plain = files
        .ok(Method::POST, "/users", Some(json!({"login": "plain"})))
        .await;
    let plain_id = plain["id"].as_str().expect("a string");

    let r = files
        .req(Method::POST, "/users")
        .json(&json!({"login": "boss", "admin": true}))
        .send()
        .await
        .expect("send");
    problem(r, 403).await;
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/users/{plain_id}"),
            Some(json!({"admin": true})),
        ),
        (
            Method::PATCH,
            format!("/users/{root_id}"),
            Some(json!({"password": "taken-over-now"})),
        ),
        (Method::POST, format!("/users/{root_id}/disable"), None),
        (Method::DELETE, format!("/users/{root_id}"), None),
        (
            Method::POST,
            format!("/users/{root_id}/tokens/revoke"),
            Some(json!({})),
        ),
    ] {
        let mut req = files.req(method.clone(), &path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        problem(req.send().await.expect("send"), 403).await;
    }
    // Ordinary users stay a files key's to manage; an admin key manages administrators.
    files
        .ok(
            Method::PATCH,
            &format!("/users/{plain_id}"),
            Some(json!({"display_name": "Plain P"})),
        )
        .await;
    let promoted = admin
        .ok(
            Method::PATCH,
            &format!("/users/{plain_id}"),
            Some(json!({"admin": true})),
        )
        .await;
    assert_eq!(promoted["admin"], true);
    admin
        .ok(
            Method::PATCH,
            &format!("/users/{root_id}"),
            Some(json!({"password": "a-new-password"})),
        )
        .await;
}

/// Posts the web sign-in form as a browser would; whether a session began (303 with a cookie).
async fn web_sign_in(s: &TestServer, login: &str, password: &str) -> bool {
    let form = crate::signin::LoginForm::open(s).await;
    let r = form.post(login, password, "/").send().await.expect("send");
    r.status() == 303 && crate::signin::has_session(&r)
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_on_the_web() {
    let s = TestServer::start().await;
    let api = Api {
        key: key(&s, "files", &[]).await,
        s: &s,
    };
    api.ok(Method::POST, "/users", Some(json!({"login": "root"})))
        .await;
    let dan = api
        .ok(
            Method::POST,
            "/users",
            Some(json!({"login": "dan", "password": "dan-password"})),
        )
        .await;
    assert!(web_sign_in(&s, "dan", "dan-password").await);
    api.ok(
        Method::POST,
        &format!("/users/{}/disable", dan["id"].as_str().expect("a string")),
        None,
    )
    .await;
    assert!(!web_sign_in(&s, "dan", "dan-password").await);
}

#[tokio::test]
async fn every_error_is_problem_json() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 1000).await;
    let api = Api {
        key: key(&s, "admin", &[]).await,
        s: &s,
    };
    let user = api
        .ok(Method::POST, "/users", Some(json!({"login": "ann"})))
        .await;
    let uid = user["id"].as_str().expect("a string");
    let root = api
        .ok(Method::GET, &format!("/users/{uid}/root"), None)
        .await;
    let root_id = root["id"].as_str().expect("a string");
    let post = |path: &str| api.req(Method::POST, path);

    // Bodies: not JSON, not declared JSON, the wrong shape, unknown fields, bad values.
    let r = post("/users")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    problem(r, 400).await;
    let r = post("/users").body("{}").send().await.expect("send");
    problem(r, 415).await;
    let r = post("/users")
        .json(&json!({"login": 5}))
        .send()
        .await
        .expect("send");
    problem(r, 422).await;
    let r = post("/users")
        .json(&json!({"login": "x", "shoe_size": 9}))
        .send()
        .await
        .expect("send");
    problem(r, 422).await;
    let r = post("/users")
        .json(&json!({"login": "x", "password": "short"}))
        .send()
        .await
        .expect("send");
    problem(r, 422).await;
    let r = post("/users")
        .json(&json!({"login": "x", "email": "no-at-sign"}))
        .send()
        .await
        .expect("send");
    problem(r, 422).await;
    // Taken names: 409.
    let r = post("/users")
        .json(&json!({"login": "ann"}))
        .send()
        .await
        .expect("send");
    problem(r, 409).await;
    let r = post(&format!("/containers/{root_id}/folders"))
        .json(&json!({"name": "Docs"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let r = post(&format!("/containers/{root_id}/folders"))
        .json(&json!({"name": "Docs"}))
        .send()
        .await
        .expect("send");
    problem(r, 409).await;
    let r = post(&format!("/containers/{root_id}/folders"))
        .json(&json!({"name": "a/b"}))
        .send()
        .await
        .expect("send");
    problem(r, 422).await;
    // Too large: 413, declared or streamed.
    let r = post(&format!("/containers/{root_id}/files?name=big.bin"))
        .body(vec![0u8; 2000])
        .send()
        .await
        .expect("send");
    problem(r, 413).await;
    let chunks = futures_util::stream::iter(
        (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 400]))),
    );
    let r = post(&format!("/containers/{root_id}/files?name=big.bin"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("send");
    problem(r, 413).await;
    let r = post(&format!("/containers/{root_id}/files"))
        .body("x")
        .send()
        .await
        .expect("send");
    problem(r, 400).await;
    // Missing things, unknown routes, wrong methods.
    for path in [
        "/users/nobody",
        "/files/nothing",
        "/containers/nothing/children",
    ] {
        let r = api.req(Method::GET, path).send().await.expect("send");
        problem(r, 404).await;
    }
    let r = api
        .req(Method::GET, "/no/such/route")
        .send()
        .await
        .expect("send");
    assert_eq!(problem(r, 404).await, wopid::api::problem::NO_ROUTE);
    let r = api.req(Method::PUT, "/users").send().await.expect("send");
    problem(r, 405).await;
    let r = api
        .req(Method::POST, "/files/x/versions/notanumber/restore")
        .send()
        .await
        .expect("send");
    problem(r, 400).await;
    // Pages: bad limits and cursors.
    for (q, status) in [
        ("limit=0", 422),
        ("limit=5000", 422),
        ("limit=x", 400),
        ("cursor=%%%", 400),
    ] {
        let r = api
            .req(Method::GET, &format!("/users?{q}"))
            .send()
            .await
            .expect("send");
        problem(r, status).await;
    }
    // A user with files cannot be deleted; the root folder cannot be deleted.
    let r = api
        .req(Method::DELETE, &format!("/containers/{root_id}"))
        .send()
        .await
        .expect("send");
    problem(r, 409).await;
    let r = api
        .req(Method::DELETE, &format!("/users/{uid}"))
        .send()
        .await
        .expect("send");
    problem(r, 409).await;
}

#[tokio::test]
async fn lists_are_paged_with_cursors() {
    let s = TestServer::start().await;
    let api = Api {
        key: key(&s, "admin", &[]).await,
        s: &s,
    };
    let mut made = BTreeSet::new();
    for i in 0..7 {
        let u = api
            .ok(
                Method::POST,
                "/users",
                Some(json!({"login": format!("user{i}")})),
            )
            .await;
        made.insert(u["login"].as_str().expect("a string").to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("/users?limit=3&cursor={c}"),
            None => "/users?limit=3".to_owned(),
        };
        let page = api.ok(Method::GET, &q, None).await;
        let items = page["items"].as_array().expect("an array");
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|u| u["login"].as_str().expect("a string").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "every user once: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), made);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
}

#[tokio::test]
async fn users_are_changed_disabled_and_deleted() {
    let s = TestServer::start_with_editors(vec![office()], |_| {}).await;
    let api = Api {
        key: key(&s, "files", &[ORIGIN]).await,
        s: &s,
    };
    // The first user is an administrator, which a files key leaves alone.
    api.ok(Method::POST, "/users", Some(json!({"login": "root"})))
        .await;
    let carl = api
        .ok(
            Method::POST,
            "/users",
            Some(json!({"login": "carl", "password": "carl-password"})),
        )
        .await;
    let id = carl["id"].as_str().expect("a string");
    let changed = api
        .ok(
            Method::PATCH,
            &format!("/users/{id}"),
            Some(json!({"display_name": "Carl C", "email": "carl@example.com"})),
        )
        .await;
    assert_eq!(changed["display_name"], "Carl C");
    assert_eq!(changed["email"], "carl@example.com");
    let root = api
        .ok(Method::GET, &format!("/users/{id}/root"), None)
        .await;
    let r = api
        .req(
            Method::POST,
            &format!(
                "/containers/{}/files?name=a.docx",
                root["id"].as_str().expect("a string")
            ),
        )
        .body("hello")
        .send()
        .await
        .expect("send");
    let f: Value = r.json().await.expect("json");
    let fid = f["id"].as_str().expect("a string");
    let open = || async {
        api.ok(
            Method::POST,
            &format!("/files/{fid}/open"),
            Some(json!({"user_id": id, "action": "edit", "origin": ORIGIN})),
        )
        .await["access_token"]
            .as_str()
            .expect("a string")
            .to_owned()
    };
    // Revoking the file's tokens ends the token at once.
    let token = open().await;
    s.check_file_info(fid, &token).await;
    let revoked = api
        .ok(
            Method::POST,
            &format!("/resources/{fid}/tokens/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked["revoked"], 1);
    let r = s
        .http
        .get(s.file_url(fid, &token))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    // So does revoking the user's.
    let token = open().await;
    let revoked = api
        .ok(
            Method::POST,
            &format!("/users/{id}/tokens/revoke"),
            Some(json!({})),
        )
        .await;
    assert!(revoked["revoked"].as_u64().expect("a number") >= 1);
    let r = s
        .http
        .get(s.file_url(fid, &token))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);

    // Disabling: the token stops working, sign-in is refused, no new token is opened.
    let token = open().await;
    assert!(
        wopid::auth::oauth::sign_in(&s.state, "carl", "carl-password", None)
            .await
            .expect("store")
            .is_ok()
    );
    let off = api
        .ok(Method::POST, &format!("/users/{id}/disable"), None)
        .await;
    assert_eq!(off["disabled"], true);
    let r = s
        .http
        .get(s.file_url(fid, &token))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    assert!(
        wopid::auth::oauth::sign_in(&s.state, "carl", "carl-password", None)
            .await
            .expect("store")
            .is_err()
    );
    let r = api
        .req(Method::POST, &format!("/files/{fid}/open"))
        .json(&json!({"user_id": id, "action": "edit", "origin": ORIGIN}))
        .send()
        .await
        .expect("send");
    problem(r, 403).await;

    // Rename and move through the use cases, then delete the file and the user.
    let docs = api
        .ok(
            Method::POST,
            &format!(
                "/containers/{}/folders",
                root["id"].as_str().expect("a string")
            ),
            Some(json!({"name": "Docs"})),
        )
        .await;
    let moved = api
        .ok(
            Method::PATCH,
            &format!("/files/{fid}"),
            Some(json!({"name": "b.docx", "container_id": docs["id"]})),
        )
        .await;
    assert_eq!(moved["name"], "b.docx");
    assert_eq!(moved["container_id"], docs["id"]);
    let children = api
        .ok(
            Method::GET,
            &format!(
                "/containers/{}/children",
                docs["id"].as_str().expect("a string")
            ),
            None,
        )
        .await;
    assert_eq!(children["items"][0]["name"], "b.docx");
    let r = api
        .req(Method::PUT, &format!("/files/{fid}/content"))
        .body("v2")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let restored = api
        .ok(
            Method::POST,
            &format!("/files/{fid}/versions/1/restore"),
            None,
        )
        .await;
    assert_eq!(restored["version"], 3);
    assert_eq!(restored["size"], 5);
    for path in [
        format!("/files/{fid}"),
        format!("/containers/{}", docs["id"].as_str().expect("a string")),
        format!("/users/{id}"),
    ] {
        let r = api.req(Method::DELETE, &path).send().await.expect("send");
        assert_eq!(r.status(), 204, "{path}");
    }
    let r = api
        .req(Method::GET, &format!("/users/{id}"))
        .send()
        .await
        .expect("send");
    problem(r, 404).await;
}

#[tokio::test]
async fn folders_are_renamed_and_moved_but_never_into_themselves() {
    let s = TestServer::start().await;
    let api = Api {
        key: key(&s, "files", &[]).await,
        s: &s,
    };
    let u = api
        .ok(Method::POST, "/users", Some(json!({"login": "ann"})))
        .await;
    let uid = u["id"].as_str().expect("a string");
    let root = api
        .ok(Method::GET, &format!("/users/{uid}/root"), None)
        .await;
    let root_id = root["id"].as_str().expect("a string");
    let mkdir = |parent: String, name: &'static str| {
        let api = &api;
        async move {
            api.ok(
                Method::POST,
                &format!("/containers/{parent}/folders"),
                Some(json!({ "name": name })),
            )
            .await["id"]
                .as_str()
                .expect("a string")
                .to_owned()
        }
    };
    let docs = mkdir(root_id.to_owned(), "Docs").await;
    let sub = mkdir(docs.clone(), "Sub").await;
    let patch = |id: &str, body: Value| {
        api.req(Method::PATCH, &format!("/containers/{id}"))
            .json(&body)
            .send()
    };
    problem(
        patch(&docs, json!({"parent_id": sub})).await.expect("send"),
        409,
    )
    .await;
    problem(
        patch(&docs, json!({"parent_id": docs}))
            .await
            .expect("send"),
        409,
    )
    .await;
    problem(
        patch(root_id, json!({"name": "x"})).await.expect("send"),
        422,
    )
    .await;
    let r = patch(&sub, json!({"parent_id": root_id, "name": "Top"}))
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let moved: Value = r.json().await.expect("json");
    assert_eq!(moved["parent_id"], root_id);
    assert_eq!(moved["name"], "Top");
    let children = api
        .ok(
            Method::GET,
            &format!("/containers/{root_id}/children"),
            None,
        )
        .await;
    let names: Vec<&str> = children["items"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|c| c["name"].as_str().expect("a string"))
        .collect();
    assert_eq!(names, ["Docs", "Top"]);
    problem(
        patch(&docs, json!({"name": "top"})).await.expect("send"),
        409,
    )
    .await;
}

/// The routes of the router and the paths of the OpenAPI document, both from the code.
fn documented() -> (BTreeSet<(String, String)>, Value) {
    let doc: Value =
        serde_json::from_str(&wopid::api::openapi().to_json().expect("json")).expect("parse");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    (out, doc)
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_answers() {
    let (documented, doc) = documented();
    let routed: BTreeSet<(String, String)> = wopid::api::table()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.to_owned()))
        .collect();
    assert_eq!(routed, documented);
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    // Every reference points at a schema the document holds.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a schema reference");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} is not in the document"
        );
    }

    // The document is served, and each of its operations answers (not a missing route).
    let s = TestServer::start().await;
    let api = Api {
        key: key(&s, "admin", &[ORIGIN]).await,
        s: &s,
    };
    let served = api.ok(Method::GET, "/openapi.json", None).await;
    assert_eq!(served, doc);
    let u = api
        .ok(Method::POST, "/users", Some(json!({"login": "ann"})))
        .await;
    let uid = u["id"].as_str().expect("a string").to_owned();
    let fid = s.add_file("ann", "a.txt", b"hello").await;
    let root = api
        .ok(Method::GET, &format!("/users/{uid}/root"), None)
        .await;
    let folder = api
        .ok(
            Method::POST,
            &format!(
                "/containers/{}/folders",
                root["id"].as_str().expect("a string")
            ),
            Some(json!({"name": "F"})),
        )
        .await;
    let cid = folder["id"].as_str().expect("a string").to_owned();
    let kid = api.ok(Method::GET, "/api-keys", None).await["items"][0]["id"]
        .as_str()
        .expect("a string")
        .to_owned();
    // Deletions last, so what they delete is there for the others.
    let mut routes: Vec<_> = documented.into_iter().collect();
    routes.sort_by_key(|(m, _)| m == "DELETE");
    for (method, path) in routes {
        let id = if path.starts_with("/api/v1/users") {
            &uid
        } else if path.starts_with("/api/v1/containers") {
            &cid
        } else if path.starts_with("/api/v1/api-keys") {
            &kid
        } else {
            &fid
        };
        let real = path
            .replace("{id}", id)
            .replace("{user_id}", &uid)
            .replace("{version}", "1")
            .replace("/api/v1", "");
        let r = api
            .req(
                Method::from_bytes(method.as_bytes()).expect("method"),
                &real,
            )
            .send()
            .await
            .expect("send");
        let status = r.status();
        let body = r.text().await.expect("body");
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !body.contains(wopid::api::problem::NO_ROUTE),
            "{method} {path}: {body}"
        );
        assert!(status.as_u16() < 500, "{method} {path}: {status} {body}");
    }
}

#[test]
fn docs_api_md_names_every_documented_path() {
    let (documented, _) = documented();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
        .expect("docs/api.md");
    for (method, path) in documented {
        let line = format!("{method} {}", path.trim_start_matches("/api/v1"));
        assert!(text.contains(&line), "docs/api.md does not name `{line}`");
    }
}
