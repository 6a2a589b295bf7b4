//! Who may reach what over time: share links never grant more than they say, for longer than they
//! live, or more than their creator has; revocation and password changes end every credential of
//! the user; moving a file needs write access where it leaves and where it arrives.

use serde_json::Value;
use wopid::auth::tokens;
use wopid_store::{FileUpdate, ResourceKind, Share};

use crate::harness::*;
use crate::web::{Browser, user};

async fn user_id(s: &TestServer, login: &str) -> String {
    wopid::ops::files::ensure_user(&s.state, login)
        .await
        .expect("user")
        .id
}

async fn share(s: &TestServer, resource: &str, user_id: &str, can_write: bool) {
    let sh = Share {
        resource_id: resource.to_owned(),
        user_id: user_id.to_owned(),
        can_write,
    };
    s.state.meta.put_share(&sh).await.expect("share");
}

/// An ecosystem URL with a fresh token of the user.
async fn ecosystem(s: &TestServer, user_id: &str) -> String {
    let t = tokens::issue(
        &s.state,
        user_id,
        ResourceKind::Ecosystem,
        user_id,
        RW,
        s.clock_now() + 10 * HOUR,
    )
    .await
    .expect("token");
    format!("{}/wopi/ecosystem?access_token={}", s.base, t.expose())
}

async fn share_link(s: &TestServer, id: &str, token: &str, kind: &str) -> String {
    let r = s
        .op(id, token, "GET_SHARE_URL")
        .header("X-WOPI-UrlType", kind)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "GetShareUrl");
    r.json::<Value>().await.expect("json")["ShareUrl"]
        .as_str()
        .expect("ShareUrl")
        .to_owned()
}

/// GetFileWopiSrc: the status, and the WopiSrc with its token when there is one.
async fn redeem(s: &TestServer, eco: &str, ident: &str) -> (u16, Option<String>) {
    let r = s
        .http
        .post(eco)
        .header("X-WOPI-Override", "GET_WOPI_SRC_WITH_ACCESS_TOKEN")
        .header("X-WOPI-HostNativeFileName", ident)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let url = r.json::<Value>().await.expect("json")["Url"]
        .as_str()
        .map(str::to_owned);
    (status, url)
}

async fn get(s: &TestServer, url: &str) -> (u16, Value) {
    let r = s.http.get(url).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// True when a WopiSrc with a token opens for writing.
async fn writes(s: &TestServer, url: &str) -> bool {
    let (status, info) = get(s, url).await;
    assert_eq!(status, 200, "CheckFileInfo {url}");
    info["UserCanWrite"] == true
}

#[tokio::test]
async fn redeeming_a_share_link_never_raises_or_writes_a_share() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    // Bob could write when he asked for a ReadWrite link; then his share became read-only.
    let bob_rw = s.token("bob", &id, RW).await;
    let link = share_link(&s, &id, &bob_rw, "ReadWrite").await;
    let bob = user_id(&s, "bob").await;
    share(&s, &id, &bob, false).await;

    let (status, url) = redeem(&s, &ecosystem(&s, &bob).await, &link).await;
    assert_eq!(status, 200);
    let url = url.expect("url");
    assert!(
        !writes(&s, &url).await,
        "bob is back to write through his link"
    );
    let shares = s.state.meta.shares_of(&bob).await.expect("shares");
    assert_eq!(shares.len(), 1);
    assert!(!shares[0].can_write, "redeeming raised bob's share");

    // Anyone else holding the link gets no more than its creator has now: read.
    let carol = user_id(&s, "carol").await;
    let (status, url) = redeem(&s, &ecosystem(&s, &carol).await, &link).await;
    assert_eq!(status, 200);
    assert!(!writes(&s, &url.expect("url")).await);
    assert!(
        s.state
            .meta
            .shares_of(&carol)
            .await
            .expect("shares")
            .is_empty(),
        "redeeming created a share"
    );
}

#[tokio::test]
async fn a_redeemed_share_link_lives_no_longer_than_the_link() {
    let s =
        TestServer::start_with(|c| c.share_url_ttl = std::time::Duration::from_secs(3600)).await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let alice = s.token("alice", &id, RW).await;
    let link = share_link(&s, &id, &alice, "ReadWrite").await;
    let carol = user_id(&s, "carol").await;
    let eco = ecosystem(&s, &carol).await;
    let (status, url) = redeem(&s, &eco, &link).await;
    assert_eq!(status, 200);
    let url = url.expect("url");
    assert!(writes(&s, &url).await, "a ReadWrite link lets carol write");
    // The link reaches the file only: no folders, no files beside it.
    let (_, info) = get(&s, &url).await;
    assert_eq!(info["BreadcrumbFolderName"], Value::Null);
    assert_eq!(info["UserCanNotWriteRelative"], true);
    let (status, anc) = get(
        &s,
        &url.replacen("?access_token", "/ancestry?access_token", 1),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(anc["AncestorsWithRootFirst"], serde_json::json!([]));
    assert!(
        url.contains(&format!("access_token_ttl={}", T0 + HOUR)),
        "{url}"
    );

    // Past the link's expiry the token it gave is dead, and so is the link.
    s.clock.advance_ms(2 * HOUR);
    assert_eq!(
        get(&s, &url).await.0,
        401,
        "the redeemed token outlived its link"
    );
    assert_eq!(redeem(&s, &eco, &link).await.0, 404);
    assert!(
        s.state
            .meta
            .shares_of(&carol)
            .await
            .expect("shares")
            .is_empty()
    );

    // Revoking the link (token revoke of its creator on the file) ends what it gave.
    let alice = s.token("alice", &id, RW).await;
    let link = share_link(&s, &id, &alice, "ReadOnly").await;
    let (status, url) = redeem(&s, &eco, &link).await;
    assert_eq!(status, 200);
    let url = url.expect("url");
    assert_eq!(get(&s, &url).await.0, 200);
    let alice_id = user_id(&s, "alice").await;
    s.state
        .meta
        .revoke_tokens(&alice_id, Some(&id))
        .await
        .expect("revoke");
    assert_eq!(
        get(&s, &url).await.0,
        401,
        "the redeemed token survived revocation"
    );
    let r = s.http.get(&link).send().await.expect("send");
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_share_link_follows_its_creators_access() {
    let s = TestServer::start().await;
    let alice = user_id(&s, "alice").await;
    let root = s.state.meta.root_container(&alice, T0).await.expect("root");
    let folder = s
        .state
        .meta
        .create_container("teamfolder", &root.id, &alice, "Team", T0)
        .await
        .expect("db")
        .expect("folder");
    let body = bytes::Bytes::from_static(b"team bytes");
    let stream: wopid_store::BlobStream =
        Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(body)]));
    let file =
        wopid::ops::files::add_file(&s.state, "alice", "plan.docx", Some(&folder.id), stream)
            .await
            .expect("add");
    // Bob may write everything in the folder, and hands out a ReadWrite link to the file.
    let bob = user_id(&s, "bob").await;
    share(&s, &folder.id, &bob, true).await;
    let bob_token = tokens::issue(
        &s.state,
        &bob,
        ResourceKind::File,
        &file.id,
        RW,
        T0 + 10 * HOUR,
    )
    .await
    .expect("token");
    let link = share_link(&s, &file.id, bob_token.expose(), "ReadWrite").await;
    let carol = user_id(&s, "carol").await;
    let (status, url) = redeem(&s, &ecosystem(&s, &carol).await, &link).await;
    assert_eq!(status, 200);
    let url = url.expect("url");
    assert!(writes(&s, &url).await);
    assert_eq!(s.http.get(&link).send().await.expect("send").status(), 200);

    // Bob's share of the folder becomes read-only: the link gives read only.
    share(&s, &folder.id, &bob, false).await;
    assert!(
        !writes(&s, &url).await,
        "the link grants more than its creator has"
    );

    // The file leaves bob's reach: neither the link nor what it gave opens it.
    let f = s
        .state
        .meta
        .file(&file.id)
        .await
        .expect("db")
        .expect("file");
    s.state
        .meta
        .update_file(
            &file.id,
            f.rev,
            FileUpdate::Move {
                container_id: root.id.clone(),
            },
        )
        .await
        .expect("move");
    assert_eq!(
        get(&s, &url).await.0,
        401,
        "the link outlived its creator's access"
    );
    let r = s.http.get(&link).send().await.expect("send");
    assert_eq!(
        r.status(),
        401,
        "/share/ download without the creator's access"
    );
}

#[tokio::test]
async fn revoking_a_user_ends_signed_download_urls() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"secret").await;
    let t = s.token("alice", &id, RW).await;
    let info = s.check_file_info(&id, &t).await;
    let urls: Vec<String> = ["FileUrl", "DownloadUrl"]
        .iter()
        .map(|k| info[*k].as_str().expect("url").to_owned())
        .collect();
    for u in &urls {
        assert_eq!(s.http.get(u).send().await.expect("send").status(), 200);
    }
    let alice = user_id(&s, "alice").await;
    s.state
        .meta
        .revoke_tokens(&alice, None)
        .await
        .expect("revoke");
    for u in &urls {
        assert_eq!(
            s.http.get(u).send().await.expect("send").status(),
            401,
            "{u} works after token revoke --user"
        );
    }
}

#[tokio::test]
async fn revoking_a_file_ends_the_tokens_traded_from_it() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let r = s
        .http
        .get(format!(
            "{}/wopi/files/{id}/ecosystem_pointer?access_token={t}",
            s.base
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let eco = r.json::<Value>().await.expect("json")["Url"]
        .as_str()
        .expect("Url")
        .to_owned();
    let alice = user_id(&s, "alice").await;
    s.state
        .meta
        .revoke_tokens(&alice, Some(&id))
        .await
        .expect("revoke");
    assert_eq!(get(&s, &s.file_url(&id, &t)).await.0, 401);
    let (status, url) = redeem(&s, &eco, &id).await;
    if let Some(url) = url {
        assert_eq!(
            get(&s, &url).await.0,
            401,
            "a traded ecosystem token minted a working token after revocation"
        );
    }
    assert_eq!(
        status, 404,
        "a traded ecosystem token still mints for a revoked file"
    );
    // Other files are not concerned.
    let other = s.add_file("alice", "other.docx", b"y").await;
    let (status, url) = redeem(&s, &eco, &other).await;
    assert_eq!(status, 200);
    assert_eq!(get(&s, &url.expect("url")).await.0, 200);
}

#[tokio::test]
async fn password_changes_and_revocation_end_web_sessions() {
    let s = TestServer::start().await;
    let alice = user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    b.home().await;
    let hash = wopid::auth::password::hash("another password").expect("hash");
    s.state
        .meta
        .set_password_hash(&alice, &hash)
        .await
        .expect("passwd");
    let r = b.get("/").await;
    assert!(
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login")),
        "the session survived a password change"
    );

    let b = Browser::sign_in(&s, "alice", "another password").await;
    b.home().await;
    s.state
        .meta
        .revoke_tokens(&alice, None)
        .await
        .expect("revoke");
    let r = b.get("/").await;
    assert!(
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login")),
        "the session survived token revoke --user"
    );
}

#[tokio::test]
async fn a_write_share_on_a_file_does_not_move_it_out_of_its_folder() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let before = s.state.meta.file(&id).await.expect("db").expect("file");
    user(&s, "bob", "bob-password").await;
    let bob = user_id(&s, "bob").await;
    share(&s, &id, &bob, true).await;
    let b = Browser::sign_in(&s, "bob", "bob-password").await;
    let (folder, csrf) = b.home().await;
    let bob_root = folder.trim_start_matches("/browse/").to_owned();
    let r = b
        .post(
            &format!("/files/{id}/move"),
            &[("csrf", csrf.as_str()), ("container", bob_root.as_str())],
        )
        .await;
    assert_ne!(r.status(), 303, "moved");
    let after = s.state.meta.file(&id).await.expect("db").expect("file");
    assert_eq!(
        after.container_id, before.container_id,
        "bob moved alice's file"
    );
}

#[tokio::test]
async fn expired_tokens_from_enumerate_children_are_purged() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let alice = user_id(&s, "alice").await;
    let root = s.state.meta.root_container(&alice, T0).await.expect("root");
    let t = tokens::issue(
        &s.state,
        &alice,
        ResourceKind::Container,
        &root.id,
        RW,
        T0 + HOUR,
    )
    .await
    .expect("token");
    let url = format!(
        "{}/wopi/containers/{}/children?access_token={}",
        s.base,
        root.id,
        t.expose()
    );
    let (status, children) = get(&s, &url).await;
    assert_eq!(status, 200);
    let child = children["ChildFiles"][0]["Url"]
        .as_str()
        .expect("child url")
        .to_owned();
    let child_token = child.split("access_token=").nth(1).expect("token");
    let reference = |t: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tokens::reference(t))
            .expect("hash")
    };
    let hashes = [reference(t.expose()), reference(child_token)];
    for h in &hashes {
        assert!(s.state.meta.token(h).await.expect("db").is_some());
    }
    // Still valid: nothing goes.
    wopid::auth::purge::once(&s.state).await.expect("purge");
    for h in &hashes {
        assert!(s.state.meta.token(h).await.expect("db").is_some());
    }
    s.clock.advance_ms(2 * HOUR);
    assert!(wopid::auth::purge::once(&s.state).await.expect("purge") >= 2);
    for h in &hashes {
        assert_eq!(s.state.meta.token(h).await.expect("db"), None);
    }
    assert_eq!(get(&s, &s.file_url(&id, child_token)).await.0, 401);
}
