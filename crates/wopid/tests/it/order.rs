//! Which refusal comes first when a request has several faults: the order the typed request and
//! the use cases keep (the operation, then the token, then access, then the operation's own
//! checks, then the arguments those checks come before).

use wopid::auth::tokens;
use wopid_store::ResourceKind;

use crate::harness::{HOUR, RO, RW, TestServer};

#[tokio::test]
async fn an_unknown_operation_is_501_before_the_token_is_looked_at() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let r = s.op(&id, "", "FROBNICATE").send().await.expect("send");
    assert_eq!(r.status(), 501);
    // A path that names no endpoint is 404 whatever the override says.
    let r = s
        .http
        .post(format!("{}/wopi/files/bad.id", s.base))
        .header("X-WOPI-Override", "FROBNICATE")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn put_relative_refuses_a_read_only_token_before_reading_its_targets() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let token = s.token("alice", &id, RO).await;
    let r = s
        .op(&id, &token, "PUT_RELATIVE")
        .header("X-WOPI-SuggestedTarget", ".pdf")
        .header("X-WOPI-RelativeTarget", "b.pdf")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 501);
}

#[tokio::test]
async fn rename_checks_the_lock_before_the_requested_name() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let token = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &token, "theirs").await.status(), 200);
    let r = s
        .op(&id, &token, "RENAME_FILE")
        .header("X-WOPI-Lock", "mine")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn get_file_refuses_a_too_large_file_before_its_range() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"0123456789").await;
    let token = s.token("alice", &id, RW).await;
    let r = s
        .http
        .get(s.contents_url(&id, &token))
        .header("X-WOPI-MaxExpectedSize", "1")
        .header("Range", "bytes=999-")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 412);
    let r = s
        .http
        .get(s.contents_url(&id, &token))
        .header("Range", "bytes=999-")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 416);
}

#[tokio::test]
async fn a_missing_container_is_404_before_its_requested_name() {
    let s = TestServer::start().await;
    let user = wopid::ops::files::ensure_user(&s.state, "alice")
        .await
        .expect("user");
    let t = tokens::issue(
        &s.state,
        &user.id,
        ResourceKind::Container,
        "nosuchcontainer",
        RW,
        s.clock_now() + HOUR,
    )
    .await
    .expect("token");
    let r = s
        .http
        .post(format!(
            "{}/wopi/containers/nosuchcontainer?access_token={}",
            s.base,
            t.expose()
        ))
        .header("X-WOPI-Override", "RENAME_CONTAINER")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
}
