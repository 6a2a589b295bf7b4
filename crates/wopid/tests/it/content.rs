//! CheckFileInfo, GetFile and PutFile, with tokens.

use crate::harness::*;
use wopid::auth::Perms;

#[tokio::test]
async fn check_file_info_tells_the_truth() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"hello").await;
    let t = s.token("alice", &id, RW).await;
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["BaseFileName"], "report.docx");
    assert_eq!(info["Size"], 5);
    assert_eq!(info["Version"], "1");
    assert_eq!(info["FileExtension"], ".docx");
    assert_eq!(info["UserFriendlyName"], "alice");
    assert_eq!(info["UserCanWrite"], true);
    assert_eq!(info["SupportsLocks"], true);
    assert_eq!(info["SupportsUpdate"], true);
    assert_eq!(info["SupportsExtendedLockLength"], true);
    assert_eq!(info["OwnerId"], info["UserId"]);
    // SHA-256 of "hello", Base64.
    assert_eq!(
        info["SHA256"],
        "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
    );
    assert!(
        info["LastModifiedTime"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 28)
    );
    // No null anywhere, and no partial CSPP Plus property.
    for (k, v) in info.as_object().expect("object") {
        assert!(!v.is_null(), "{k} is null");
    }
    for k in [
        "SupportsCoauth",
        "SequenceNumber",
        "SharingStatus",
        "ServerTime",
        "AccessTokenExpiry",
    ] {
        assert!(info.get(k).is_none(), "{k} must not be sent");
    }
    assert!(info.get("UserCanNotWriteRelative").is_none());

    let ro = s.token("bob", &id, RO).await;
    let info = s.check_file_info(&id, &ro).await;
    assert!(info.get("UserCanWrite").is_none());
    assert_eq!(info["ReadOnly"], true);
    assert_eq!(info["UserCanNotWriteRelative"], true);
    assert_eq!(info["UserFriendlyName"], "bob");
    assert_ne!(info["OwnerId"], info["UserId"]);

    let nwr = s.token("alice", &id, Perms::new(true, false)).await;
    let info = s.check_file_info(&id, &nwr).await;
    assert_eq!(info["UserCanWrite"], true);
    assert_eq!(info["UserCanNotWriteRelative"], true);
}

#[tokio::test]
async fn tokens_are_bound_to_their_file_and_expire() {
    let s = TestServer::start().await;
    let a = s.add_file("alice", "a.docx", b"a").await;
    let b = s.add_file("alice", "b.docx", b"b").await;
    let ta = s.token("alice", &a, RW).await;
    let status = |url: String| {
        let http = s.http.clone();
        async move { http.get(url).send().await.expect("send").status().as_u16() }
    };
    assert_eq!(status(s.file_url(&a, &ta)).await, 200);
    assert_eq!(
        status(s.file_url(&b, &ta)).await,
        401,
        "token for A used on B"
    );
    assert_eq!(status(s.contents_url(&b, &ta)).await, 401);
    assert_eq!(status(s.file_url(&a, "INVALID")).await, 401);
    assert_eq!(
        status(format!("{}/wopi/files/{a}", s.base)).await,
        401,
        "no token"
    );
    let mut flipped = ta.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        status(s.file_url(&a, &String::from_utf8(flipped).expect("ascii"))).await,
        401
    );

    // Authorization: Bearer works without the query parameter.
    let r = s
        .http
        .get(format!("{}/wopi/files/{a}", s.base))
        .bearer_auth(&ta)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);

    // Expiry is an absolute instant.
    s.clock.advance_ms(10 * HOUR - 1);
    assert_eq!(status(s.file_url(&a, &ta)).await, 200);
    s.clock.advance_ms(1);
    assert_eq!(status(s.file_url(&a, &ta)).await, 401);

    // Revocation.
    let t2 = s.token("alice", &a, RW).await;
    assert_eq!(status(s.file_url(&a, &t2)).await, 200);
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    s.state
        .meta
        .revoke_tokens(&alice.id, Some(&a))
        .await
        .expect("revoke");
    assert_eq!(status(s.file_url(&a, &t2)).await, 401);
}

#[tokio::test]
async fn get_file_whole_ranges_and_size_limit() {
    let s = TestServer::start().await;
    let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let id = s.add_file("alice", "data.bin", &content).await;
    let t = s.token("alice", &id, RO).await;
    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-wopi-itemversion").as_deref(), Some("1"));
    assert_eq!(header(&r, "content-length").as_deref(), Some("10000"));
    assert_eq!(r.bytes().await.expect("body").as_ref(), &content[..]);

    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 206);
    assert_eq!(
        header(&r, "content-range").as_deref(),
        Some("bytes 100-199/10000")
    );
    assert_eq!(r.bytes().await.expect("body").as_ref(), &content[100..200]);

    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("Range", "bytes=-10")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.expect("body").as_ref(), &content[9990..]);

    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("Range", "bytes=20000-")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 416);

    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("X-WOPI-MaxExpectedSize", "9999")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 412);
    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("X-WOPI-MaxExpectedSize", "10000")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = s
        .http
        .get(s.contents_url(&id, &t))
        .header("X-WOPI-MaxExpectedSize", "lots")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn put_file_lock_rules_and_versions() {
    let s = TestServer::start().await;
    let empty = s.add_file("alice", "new.docx", b"").await;
    let full = s.add_file("alice", "old.docx", b"old").await;
    let te = s.token("alice", &empty, RW).await;
    let tf = s.token("alice", &full, RW).await;

    // Unlocked and empty: the create-new flow writes.
    let r = s.put_file(&empty, &te, None, b"template").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-wopi-itemversion").as_deref(), Some("2"));
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(body["LastModifiedTime"].is_string());
    assert_eq!(s.get_file(&empty, &te).await, b"template");

    // Unlocked and not empty: 409 with an empty X-WOPI-Lock.
    let r = s.put_file(&full, &tf, None, b"new").await;
    assert_eq!(r.status(), 409);
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some(""));
    assert_eq!(s.get_file(&full, &tf).await, b"old");

    // Locked: only the matching lock id writes; the 409 names the current lock.
    assert_eq!(s.lock(&full, &tf, "L1").await.status(), 200);
    let r = s.put_file(&full, &tf, Some("L2"), b"new").await;
    assert_eq!(r.status(), 409);
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("L1"));
    assert!(header(&r, "x-wopi-lockfailurereason").is_some());
    let r = s.put_file(&full, &tf, None, b"new").await;
    assert_eq!(r.status(), 409);
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some("L1"));

    let v1 = s.check_file_info(&full, &tf).await["Version"].clone();
    let r = s.put_file(&full, &tf, Some("L1"), b"new").await;
    assert_eq!(r.status(), 200);
    let v2 = header(&r, "x-wopi-itemversion").expect("version");
    assert_ne!(serde_json::Value::String(v2.clone()), v1);
    assert_eq!(s.check_file_info(&full, &tf).await["Version"], v2.as_str());
    // The same content again is still a new version: versions never repeat.
    let r = s.put_file(&full, &tf, Some("L1"), b"new").await;
    let v3 = header(&r, "x-wopi-itemversion").expect("version");
    assert_ne!(v2, v3);
    assert_eq!(s.get_file(&full, &tf).await, b"new");

    // A read-only token cannot write.
    let ro = s.token("bob", &full, RO).await;
    assert_eq!(s.put_file(&full, &ro, Some("L1"), b"x").await.status(), 401);

    // The history keeps every editing session: the two automatic saves of the lock session L1
    // are one entry (the later one), the content before the session another.
    let versions = wopid::ops::files::versions(&s.state, &full)
        .await
        .expect("versions");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 3]
    );

    // Not while an editor holds the lock; then as a new version.
    assert!(
        wopid::ops::files::restore(&s.state, None, &full, 1)
            .await
            .is_err()
    );
    let r = s
        .op(&full, &tf, "UNLOCK")
        .header("X-WOPI-Lock", "L1")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let restored = wopid::ops::files::restore(&s.state, None, &full, 1)
        .await
        .expect("restore");

    assert_eq!(restored.version, 4);
    assert_eq!(s.get_file(&full, &tf).await, b"old");
}

#[tokio::test]
async fn put_file_above_the_cap_is_413_and_changes_nothing() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 1000).await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let r = s.put_file(&id, &t, None, &[7u8; 1001]).await;
    assert_eq!(r.status(), 413);
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["Size"], 0);
    assert_eq!(info["Version"], "1");
    // A streamed body without Content-Length is cut off at the cap too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![1u8; 100])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = s
        .http
        .post(s.contents_url(&id, &t))
        .header("X-WOPI-Override", "PUT")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    assert_eq!(s.check_file_info(&id, &t).await["Version"], "1");
    assert_eq!(s.put_file(&id, &t, None, &[7u8; 1000]).await.status(), 200);
}

#[tokio::test]
async fn lock_and_unlock_do_not_change_the_version() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"abc").await;
    let t = s.token("alice", &id, RW).await;
    let r = s.lock(&id, &t, "L").await;
    assert_eq!(header(&r, "x-wopi-itemversion").as_deref(), Some("1"));
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", "L")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-wopi-itemversion").as_deref(), Some("1"));
    assert_eq!(s.check_file_info(&id, &t).await["Version"], "1");
}
