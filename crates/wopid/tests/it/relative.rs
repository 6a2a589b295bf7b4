//! PutRelativeFile, RenameFile and DeleteFile.

use crate::harness::*;
use wopid::auth::Perms;

async fn put_relative(
    s: &TestServer,
    id: &str,
    t: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    let mut r = s.op(id, t, "PUT_RELATIVE").body(body.to_vec());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.expect("send")
}

fn token_of(url: &str) -> String {
    url.split("access_token=")
        .nth(1)
        .expect("Url carries a token")
        .to_owned()
}

fn id_of(url: &str) -> String {
    url.split("/wopi/files/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .expect("file id")
        .to_owned()
}

#[tokio::test]
async fn suggested_targets_never_fail() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"src").await;
    let t = s.token("alice", &id, RW).await;
    // An extension: source name + extension.
    let r = put_relative(&s, &id, &t, &[("X-WOPI-SuggestedTarget", ".pdf")], b"pdf").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["Name"], "report.pdf");
    let url = body["Url"].as_str().expect("Url");
    // The Url is a WopiSrc with a token for the new file only.
    let (new_id, new_t) = (id_of(url), token_of(url));
    assert_eq!(s.http.get(url).send().await.expect("send").status(), 200);
    assert_eq!(s.get_file(&new_id, &new_t).await, b"pdf");
    assert_eq!(
        s.http
            .get(s.file_url(&id, &new_t))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    // A taken name gets a free variant; UTF-7 is decoded.
    let r = put_relative(
        &s,
        &id,
        &t,
        &[("X-WOPI-SuggestedTarget", "report.pdf")],
        b"2",
    )
    .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["Name"],
        "report (2).pdf"
    );
    let r = put_relative(
        &s,
        &id,
        &t,
        &[("X-WOPI-SuggestedTarget", "my+AF8-file.docx")],
        b"3",
    )
    .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["Name"],
        "my_file.docx"
    );
    // Illegal characters are replaced, not refused.
    let r = put_relative(
        &s,
        &id,
        &t,
        &[("X-WOPI-SuggestedTarget", "a/b:c.docx")],
        b"4",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["Name"],
        "a-b-c.docx"
    );
    // The source may be locked by someone else: PutRelativeFile ignores the source lock.
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
    let r = put_relative(&s, &id, &t, &[("X-WOPI-SuggestedTarget", ".odt")], b"5").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn relative_targets_are_exact() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"src").await;
    let t = s.token("alice", &id, RW).await;
    let r = put_relative(
        &s,
        &id,
        &t,
        &[("X-WOPI-RelativeTarget", "copy.docx")],
        b"one",
    )
    .await;
    assert_eq!(r.status(), 200);
    let first: serde_json::Value = r.json().await.expect("json");
    assert_eq!(first["Name"], "copy.docx");
    // Exists: 409 with a valid alternative in UTF-7.
    let r = put_relative(
        &s,
        &id,
        &t,
        &[("X-WOPI-RelativeTarget", "copy.docx")],
        b"two",
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        header(&r, "x-wopi-validrelativetarget").as_deref(),
        Some("copy (2).docx")
    );
    let r = put_relative(
        &s,
        &id,
        &t,
        &[
            ("X-WOPI-RelativeTarget", "copy.docx"),
            ("X-WOPI-OverwriteRelativeTarget", "False"),
        ],
        b"two",
    )
    .await;
    assert_eq!(r.status(), 409);
    // Overwrite: same file, new content.
    let r = put_relative(
        &s,
        &id,
        &t,
        &[
            ("X-WOPI-RelativeTarget", "copy.docx"),
            ("X-WOPI-OverwriteRelativeTarget", "True"),
        ],
        b"two",
    )
    .await;
    assert_eq!(r.status(), 200);
    let second: serde_json::Value = r.json().await.expect("json");
    let target = id_of(second["Url"].as_str().expect("url"));
    assert_eq!(target, id_of(first["Url"].as_str().expect("url")));
    assert_eq!(
        s.get_file(&target, &token_of(second["Url"].as_str().expect("url")))
            .await,
        b"two"
    );
    // Overwriting a locked target: 409 with that file's lock.
    let tt = s.token("alice", &target, RW).await;
    assert_eq!(s.lock(&target, &tt, "TL").await.status(), 200);
    let r = put_relative(
        &s,
        &id,
        &t,
        &[
            ("X-WOPI-RelativeTarget", "copy.docx"),
            ("X-WOPI-OverwriteRelativeTarget", "true"),
        ],
        b"3",
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("TL"));
    assert_eq!(s.get_file(&target, &tt).await, b"two");
    // Illegal exact names: 400.
    for bad in ["a/b.docx", ".docx", "a+AGF-.docx"] {
        let r = put_relative(&s, &id, &t, &[("X-WOPI-RelativeTarget", bad)], b"x").await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let long = format!("{}.docx", "n".repeat(600));
    assert_eq!(
        put_relative(&s, &id, &t, &[("X-WOPI-RelativeTarget", &long)], b"x")
            .await
            .status(),
        400
    );
    // Both or neither header.
    let r = put_relative(
        &s,
        &id,
        &t,
        &[
            ("X-WOPI-RelativeTarget", "x.docx"),
            ("X-WOPI-SuggestedTarget", ".docx"),
        ],
        b"x",
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(put_relative(&s, &id, &t, &[], b"x").await.status(), 400);
}

#[tokio::test]
async fn put_relative_needs_the_permission_and_trades_token_lifetimes() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"src").await;
    let nwr = s.token("alice", &id, Perms::new(true, false)).await;
    let r = put_relative(&s, &id, &nwr, &[("X-WOPI-SuggestedTarget", ".pdf")], b"x").await;
    assert_eq!(r.status(), 501);
    let ro = s.token("bob", &id, RO).await;
    assert_eq!(
        put_relative(&s, &id, &ro, &[("X-WOPI-SuggestedTarget", ".pdf")], b"x")
            .await
            .status(),
        501
    );

    let t = s.token("alice", &id, RW).await;
    let r = put_relative(&s, &id, &t, &[("X-WOPI-SuggestedTarget", ".pdf")], b"x").await;
    let url = r.json::<serde_json::Value>().await.expect("json")["Url"]
        .as_str()
        .expect("url")
        .to_owned();
    // The new token dies with the caller's (ten hours after issue), never later.
    s.clock.advance_ms(10 * HOUR);
    assert_eq!(s.http.get(&url).send().await.expect("send").status(), 401);
}

#[tokio::test]
async fn rename_file() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"x").await;
    let other = s.add_file("alice", "taken.docx", b"y").await;
    let t = s.token("alice", &id, RW).await;
    let rename = |name: &'static str, lock: Option<&'static str>| {
        let mut r = s
            .op(&id, &t, "RENAME_FILE")
            .header("X-WOPI-RequestedName", name);
        if let Some(l) = lock {
            r = r.header("X-WOPI-Lock", l);
        }
        async move { r.send().await.expect("send") }
    };
    let r = rename("madeup+AF8-renamed", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["Name"],
        "madeup_renamed"
    );
    assert_eq!(
        s.check_file_info(&id, &t).await["BaseFileName"],
        "madeup_renamed.docx"
    );
    // A taken name: the first free variant.
    let r = rename("taken", None).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["Name"],
        "taken (2)"
    );
    assert_eq!(
        s.check_file_info(&other, &s.token("alice", &other, RO).await)
            .await["BaseFileName"],
        "taken.docx"
    );
    // Invalid: 400 with the reason.
    let r = rename("a/b", None).await;
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidfilenameerror").is_some());
    assert_eq!(rename("+2D0-", None).await.status(), 400);
    // Lock rules.
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
    let r = rename("new", Some("X")).await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-wopi-lock")),
        (409, Some("L".into()))
    );
    assert_eq!(rename("new", None).await.status(), 409);
    assert_eq!(rename("new", Some("L")).await.status(), 200);
    // The file id never changes.
    assert_eq!(s.check_file_info(&id, &t).await["BaseFileName"], "new.docx");
}

#[tokio::test]
async fn delete_file() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
    let r = s.op(&id, &t, "DELETE").send().await.expect("send");
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-wopi-lock")),
        (409, Some("L".into()))
    );
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", "L")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let ro = s.token("bob", &id, RO).await;
    assert_eq!(
        s.op(&id, &ro, "DELETE")
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        s.op(&id, &t, "DELETE").send().await.expect("send").status(),
        200
    );
    assert_eq!(
        s.http
            .get(s.file_url(&id, &t))
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
    assert_eq!(
        s.op(&id, &t, "RENAME_FILE")
            .header("X-WOPI-RequestedName", "x")
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
}
