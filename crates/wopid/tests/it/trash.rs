//! The web UI's trash, folders as first-class items, and the sharing pages with public links,
//! over HTTP.

use crate::harness::*;
use crate::web::{Browser, user};

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_owned()
}

/// The text of a redirect's `done` notice.
fn notice(r: &reqwest::Response) -> String {
    let loc = location(r);
    let q = loc.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn folder_of(s: &TestServer, id: &str) -> String {
    s.state
        .meta
        .file(id)
        .await
        .expect("db")
        .expect("file")
        .container_id
}

async fn add_in(s: &TestServer, login: &str, folder: &str, name: &str, body: &[u8]) -> String {
    let b = bytes::Bytes::copy_from_slice(body);
    let stream: wopid_store::BlobStream =
        Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(b)]));
    wopid::ops::files::add_file(&s.state, login, name, Some(folder), stream)
        .await
        .expect("add")
        .id
}

/// Makes a folder through the web UI and returns its id.
async fn mkdir(s: &TestServer, b: &Browser, csrf: &str, parent: &str, name: &str) -> String {
    let r = b
        .post(
            &format!("/browse/{parent}/mkdir"),
            &[("csrf", csrf), ("name", name)],
        )
        .await;
    assert_eq!(r.status(), 303, "mkdir {name}");
    s.state
        .meta
        .container_by_name(parent, name)
        .await
        .expect("db")
        .expect("made")
        .id
}

/// Creates a public link on a sharing page and returns its URL, shown once on the answer.
async fn new_link(b: &Browser, base: &str, csrf: &str, mode: &str, ttl: &str) -> String {
    let r = b
        .post(
            &format!("{base}/links"),
            &[("csrf", csrf), ("mode", mode), ("ttl", ttl)],
        )
        .await;
    assert_eq!(r.status(), 200, "the new link is shown at once");
    let html = r.text().await.expect("html");
    html.split("id=\"new-link-url\" class=\"wide\" readonly value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the new link")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
}

async fn status(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url).send().await.expect("send").status().as_u16()
}

async fn blob_exists(s: &TestServer, key: &str) -> bool {
    use futures_util::StreamExt as _;
    match s.state.blobs.get(key, None).await {
        Ok(mut stream) => !matches!(stream.next().await, Some(Err(_))),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_deleted_file_waits_in_the_trash_and_comes_back_with_its_versions_and_access() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let bob_id = user(&s, "bob", "bob-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let (folder, csrf) = b.home().await;
    let (_, bob_csrf) = bob.home().await;
    let id = s.add_file("alice", "plan.txt", b"first").await;
    let token = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &token, "L").await.status(), 200);
    assert_eq!(
        s.put_file(&id, &token, Some("L"), b"second").await.status(),
        200
    );
    let unlock = s.op(&id, &token, "UNLOCK").header("X-WOPI-Lock", "L");
    assert_eq!(unlock.send().await.expect("send").status(), 200);
    let r = b
        .post(
            &format!("/files/{id}/share"),
            &[("csrf", &csrf), ("user", "bob"), ("mode", "read")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let link = new_link(&b, &format!("/files/{id}"), &csrf, "read", "1d").await;
    let http = reqwest::Client::new();
    assert_eq!(status(&http, &link).await, 200);
    let bob_token = s.token("bob", &id, RO).await;

    // A locked file stays where it is.
    assert_eq!(s.lock(&id, &token, "L2").await.status(), 200);
    let r = b
        .post(&format!("/files/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 409);
    assert!(s.state.meta.file(&id).await.expect("db").is_some());
    let unlock = s.op(&id, &token, "UNLOCK").header("X-WOPI-Lock", "L2");
    assert_eq!(unlock.send().await.expect("send").status(), 200);

    let r = b
        .post(&format!("/files/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Moved to the trash.");
    // Gone from everything: the folder, WOPI, the share, the link, downloads.
    let page = b.get(&folder).await.text().await.expect("html");
    assert!(!page.contains("plan.txt"), "listed after delete");
    let info = reqwest::get(s.file_url(&id, &token)).await.expect("send");
    assert_eq!(info.status(), 404, "CheckFileInfo of a trashed file");
    let info = reqwest::get(s.file_url(&id, &bob_token))
        .await
        .expect("send");
    assert_eq!(info.status(), 404, "the share's token");
    assert_eq!(status(&http, &link).await, 404, "the share link");
    assert_eq!(b.get(&format!("/files/{id}/download")).await.status(), 404);
    let bob_home = bob
        .get(&bob.home().await.0)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        !bob_home.contains("plan.txt"),
        "shared with me after delete"
    );
    // Nobody else can restore it.
    let r = bob
        .post(&format!("/trash/file/{id}/restore"), &[("csrf", &bob_csrf)])
        .await;
    assert_eq!(r.status(), 404);
    assert!(
        !bob.get("/trash")
            .await
            .text()
            .await
            .expect("html")
            .contains("plan.txt"),
        "in another user's trash"
    );

    // The trash lists it with its folder; restoring brings it back where it was.
    let trash = b.get("/trash").await;
    assert_eq!(trash.status(), 200);
    let html = trash.text().await.expect("html");
    assert!(html.contains(&format!("data-trash=\"{id}\"")), "{html}");
    assert!(html.contains("plan.txt") && html.contains("deleted 2026-"));
    assert!(!html.contains("csrf="), "no CSRF token in a URL");
    let r = b
        .post(&format!("/trash/file/{id}/restore"), &[("csrf", "forged")])
        .await;
    assert_eq!(r.status(), 403, "CSRF");
    let r = b
        .post(&format!("/trash/file/{id}/restore"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/trash?"));
    assert_eq!(notice(&r), "Restored “plan.txt” to its folder.");
    assert_eq!(format!("/browse/{}", folder_of(&s, &id).await), folder);
    assert_eq!(s.state.meta.versions(&id).await.expect("versions").len(), 2);
    assert_eq!(s.check_file_info(&id, &token).await["Version"], "2");
    assert_eq!(s.get_file(&id, &bob_token).await, b"second");
    assert_eq!(status(&http, &link).await, 200, "the link works again");
    assert!(
        s.state
            .meta
            .shares(&bob_id, std::slice::from_ref(&id))
            .await
            .expect("db")
            .len()
            == 1
    );
    let r = b
        .post(&format!("/trash/file/{id}/restore"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 404, "restored already");
}

#[tokio::test]
async fn wopi_delete_file_sends_the_file_to_the_trash_and_answers_404_after() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "w.txt", b"x").await;
    let token = s.token("alice", &id, RW).await;
    let r = s.op(&id, &token, "DELETE").send().await.expect("send");
    assert_eq!(r.status(), 200);
    let r = reqwest::get(s.file_url(&id, &token)).await.expect("send");
    assert_eq!(r.status(), 404);
    let r = s.op(&id, &token, "DELETE").send().await.expect("send");
    assert_eq!(r.status(), 404, "deleted already");
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    let trash = s.state.meta.trash_entries(&alice.id).await.expect("trash");
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].id, id);
}

#[tokio::test]
async fn emptying_the_trash_destroys_the_items_and_frees_their_content() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let root = folder.trim_start_matches("/browse/").to_owned();
    let keep = s.add_file("alice", "keep.txt", b"keep").await;
    let id = s.add_file("alice", "gone.txt", b"gone").await;
    let dir = mkdir(&s, &b, &csrf, &root, "Old").await;
    let inner = add_in(&s, "alice", &dir, "inner.txt", b"inner").await;
    let mut keys = Vec::new();
    for f in [&id, &inner, &keep] {
        keys.push(
            s.state.meta.versions(f).await.expect("versions")[0]
                .blob_key
                .clone(),
        );
    }
    for k in &keys {
        assert!(blob_exists(&s, k).await);
    }
    let r = b
        .post(&format!("/files/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let r = b
        .post(&format!("/folders/{dir}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        blob_exists(&s, &keys[0]).await,
        "the trash keeps the content"
    );

    // Without the confirmation, nothing happens.
    let r = b.post("/trash/empty", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 400);
    assert!(blob_exists(&s, &keys[0]).await);
    let page = b.get("/trash").await.text().await.expect("html");
    assert!(page.contains("name=\"confirm\"") && page.contains("Empty trash"));
    let r = b
        .post("/trash/empty", &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Trash emptied: 2 items deleted for good.");
    assert!(
        !blob_exists(&s, &keys[0]).await,
        "the file's content is freed"
    );
    assert!(
        !blob_exists(&s, &keys[1]).await,
        "the folder's content is freed"
    );
    assert!(
        blob_exists(&s, &keys[2]).await,
        "what was not deleted stays"
    );
    assert!(s.state.meta.versions(&id).await.expect("db").is_empty());
    assert!(
        b.get("/trash")
            .await
            .text()
            .await
            .expect("html")
            .contains("The trash is empty.")
    );
    let r = b
        .post(&format!("/trash/file/{id}/restore"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn trash_entries_older_than_the_retention_are_purged() {
    let s = TestServer::start_with(|c| {
        c.trash_retention = std::time::Duration::from_secs(24 * 3600);
    })
    .await;
    let old = s.add_file("alice", "old.txt", b"old").await;
    let new = s.add_file("alice", "new.txt", b"new").await;
    let key = s.state.meta.versions(&old).await.expect("db")[0]
        .blob_key
        .clone();
    let token = s.token("alice", &old, RW).await;
    assert_eq!(
        s.op(&old, &token, "DELETE")
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    s.clock.advance_ms(20 * HOUR);
    let token = s.token("alice", &new, RW).await;
    assert_eq!(
        s.op(&new, &token, "DELETE")
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    wopid::auth::purge::once(&s.state).await.expect("purge");
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    assert_eq!(
        s.state
            .meta
            .trash_entries(&alice.id)
            .await
            .expect("db")
            .len(),
        2
    );
    s.clock.advance_ms(5 * HOUR);
    wopid::auth::purge::once(&s.state).await.expect("purge");
    let left = s.state.meta.trash_entries(&alice.id).await.expect("db");
    assert_eq!(
        left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec![new.as_str()],
        "the entry past a day went, the younger one stays"
    );
    assert!(!blob_exists(&s, &key).await, "its content is freed");
}

#[tokio::test]
async fn folders_are_renamed_moved_deleted_restored_and_shared() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let (folder, csrf) = b.home().await;
    let (_, bob_csrf) = bob.home().await;
    let root = folder.trim_start_matches("/browse/").to_owned();
    let a = mkdir(&s, &b, &csrf, &root, "A").await;
    let inner = mkdir(&s, &b, &csrf, &a, "B").await;
    let doc = add_in(&s, "alice", &inner, "doc.txt", b"deep").await;
    let page = b.get(&folder).await.text().await.expect("html");
    assert!(
        page.contains(&format!("action=\"/folders/{a}/rename\"")),
        "folder actions"
    );

    // Rename.
    let r = b
        .post(
            &format!("/folders/{a}/rename"),
            &[("csrf", &csrf), ("name", "Alpha")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Folder renamed.");
    let c = s.state.meta.container(&a).await.expect("db").expect("a");
    assert_eq!(c.name, "Alpha");
    let r = b
        .post(
            &format!("/folders/{a}/rename"),
            &[("csrf", &csrf), ("name", "a/b")],
        )
        .await;
    assert_eq!(r.status(), 400, "an invalid name");

    // Move: never into itself or below itself.
    for to in [&a, &inner] {
        let r = b
            .post(
                &format!("/folders/{a}/move"),
                &[("csrf", &csrf), ("container", to)],
            )
            .await;
        assert_eq!(r.status(), 409);
    }
    let r = b
        .post(
            &format!("/folders/{inner}/move"),
            &[("csrf", &csrf), ("container", &root)],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Folder moved.");
    let c = s
        .state
        .meta
        .container(&inner)
        .await
        .expect("db")
        .expect("b");
    assert_eq!(c.parent_id.as_deref(), Some(root.as_str()));
    let r = b
        .post(
            &format!("/folders/{inner}/move"),
            &[("csrf", &csrf), ("container", &a)],
        )
        .await;
    assert_eq!(r.status(), 303);

    // Another user can neither rename, move nor delete it.
    for (path, form) in [
        ("rename", vec![("name", "Mine")]),
        ("move", vec![("container", root.as_str())]),
        ("delete", vec![]),
    ] {
        let mut f = vec![("csrf", bob_csrf.as_str())];
        f.extend(form);
        let r = bob.post(&format!("/folders/{a}/{path}"), &f).await;
        assert_eq!(r.status(), 404, "bob's {path}");
    }
    assert!(s.state.meta.container(&a).await.expect("db").is_some());

    // Share it: Bob reaches what is inside; the file's sharing page shows the inherited share.
    let r = b
        .post(
            &format!("/folders/{a}/share"),
            &[
                ("csrf", &csrf),
                ("user", "bob"),
                ("mode", "read"),
                ("back", "sharing"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with(&format!("/folders/{a}/sharing?")));
    assert_eq!(
        bob.get(&format!("/files/{doc}/download")).await.status(),
        200
    );
    let page = b.get(&format!("/folders/{a}/sharing")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("BOB (bob)") && html.contains("can view"),
        "{html}"
    );
    let html = b
        .get(&format!("/files/{doc}/sharing"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("can view, inherited from the folder Alpha"),
        "{html}"
    );

    // A container token and a folder link, to see them stop while the folder is in the trash.
    let alice_id = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice")
        .id;
    let container_token = wopid::auth::tokens::issue(
        &s.state,
        &alice_id,
        wopid_store::ResourceKind::Container,
        &a,
        RW,
        s.clock_now() + HOUR,
    )
    .await
    .expect("token");
    let container_url = format!(
        "{}/wopi/containers/{a}?access_token={}",
        s.base,
        container_token.expose()
    );
    assert_eq!(
        reqwest::get(&container_url).await.expect("send").status(),
        200
    );
    let folder_link = new_link(&b, &format!("/folders/{a}"), &csrf, "read", "7d").await;
    assert_eq!(
        reqwest::get(&folder_link).await.expect("send").status(),
        200
    );

    // Delete with its content, then restore.
    let r = b
        .post(&format!("/folders/{a}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Folder moved to the trash.");
    let status = |url: String| async move { reqwest::get(url).await.expect("send").status() };
    assert_eq!(
        status(container_url.clone()).await,
        404,
        "CheckContainerInfo"
    );
    assert_eq!(
        status(folder_link.clone()).await,
        404,
        "a trashed folder's link"
    );
    assert!(s.state.meta.container(&a).await.expect("db").is_none());
    assert!(s.state.meta.file(&doc).await.expect("db").is_none());
    assert_eq!(
        bob.get(&format!("/files/{doc}/download")).await.status(),
        404
    );
    assert_eq!(bob.get(&format!("/browse/{a}")).await.status(), 404);
    let html = b.get("/trash").await.text().await.expect("html");
    assert!(
        html.contains(&format!("/trash/folder/{a}/restore")),
        "{html}"
    );
    assert!(!html.contains(&doc), "only the folder is an entry");
    let r = bob
        .post(
            &format!("/trash/folder/{a}/restore"),
            &[("csrf", bob_csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), 404, "bob restoring alice's folder");
    assert!(s.state.meta.container(&a).await.expect("db").is_none());
    // A new folder takes the name meanwhile: the restored one gets a free name in the root.
    let taken = mkdir(&s, &b, &csrf, &root, "Alpha").await;
    let r = b
        .post(&format!("/trash/folder/{a}/restore"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        notice(&r).contains("“Alpha (2)” in your root folder"),
        "{}",
        notice(&r)
    );
    let c = s.state.meta.container(&a).await.expect("db").expect("back");
    assert_eq!(c.name, "Alpha (2)");
    assert_eq!(b.get(&format!("/files/{doc}/download")).await.status(), 200);
    assert_eq!(
        bob.get(&format!("/files/{doc}/download")).await.status(),
        200
    );
    assert!(s.state.meta.container(&taken).await.expect("db").is_some());
    assert_eq!(status(container_url.clone()).await, 200);
    assert_eq!(status(folder_link.clone()).await, 200);

    // A file whose folder went to the trash after it comes back into the root.
    let r = b
        .post(&format!("/files/{doc}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let r = b
        .post(&format!("/folders/{inner}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let r = b
        .post(&format!("/trash/file/{doc}/restore"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    assert!(notice(&r).contains("its folder is gone"), "{}", notice(&r));
    assert_eq!(folder_of(&s, &doc).await, root);

    // A folder holding a file open in an editor (locked) stays where it is.
    let held = add_in(&s, "alice", &a, "held.txt", b"held").await;
    let token = s.token("alice", &held, RW).await;
    assert_eq!(s.lock(&held, &token, "L").await.status(), 200);
    let r = b
        .post(&format!("/folders/{a}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 409);
    assert!(s.state.meta.container(&a).await.expect("db").is_some());

    // A root is not deleted.
    let r = b
        .post(&format!("/folders/{root}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn the_sharing_page_changes_and_removes_shares_and_only_the_owner_may() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let bob_id = user(&s, "bob", "bob-password").await;
    let carol_id = user(&s, "carol", "carol-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let carol = Browser::sign_in(&s, "carol", "carol-password").await;
    let (_, csrf) = b.home().await;
    let (_, bob_csrf) = bob.home().await;
    let (_, carol_csrf) = carol.home().await;
    let id = s.add_file("alice", "team.txt", b"team").await;
    let base = format!("/files/{id}");
    for (who, mode) in [("bob", "write"), ("carol", "read")] {
        let r = b
            .post(
                &format!("{base}/share"),
                &[
                    ("csrf", &csrf),
                    ("user", who),
                    ("mode", mode),
                    ("back", "sharing"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(notice(&r), format!("Shared with {who}."));
    }
    let page = b.get(&format!("{base}/sharing")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("ALICE (alice)") && html.contains("owner"));
    assert!(html.contains(&format!("data-holder=\"{bob_id}\"")));
    assert!(html.contains("aria-label=\"Remove access for BOB (bob)\""));
    assert!(!html.contains("csrf="), "no CSRF token in a URL");
    let bob_token = s.token("bob", &id, RW).await;
    assert_eq!(
        s.check_file_info(&id, &bob_token).await["UserCanWrite"],
        true
    );

    // Bob may edit and open the page, but changing shares is the owner's.
    let r = bob
        .post(
            &format!("{base}/shares/remove"),
            &[("csrf", bob_csrf.as_str()), ("user", carol_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = carol
        .post(
            &format!("{base}/shares/update"),
            &[
                ("csrf", carol_csrf.as_str()),
                ("user", carol_id.as_str()),
                ("mode", "write"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403, "a reader cannot reach the forms");
    assert_eq!(s.state.meta.shares_on(&id).await.expect("db").len(), 2);

    // The owner narrows Bob's share, then removes it: Bob loses access at once.
    let r = b
        .post(
            &format!("{base}/shares/update"),
            &[
                ("csrf", csrf.as_str()),
                ("user", bob_id.as_str()),
                ("mode", "read"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Permission changed.");
    assert!(
        s.check_file_info(&id, &bob_token)
            .await
            .get("UserCanWrite")
            .is_none()
    );
    let r = b
        .post(
            &format!("{base}/shares/remove"),
            &[("csrf", csrf.as_str()), ("user", bob_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Share removed.");
    let info = reqwest::get(s.file_url(&id, &bob_token))
        .await
        .expect("send");
    assert_eq!(info.status(), 401, "the removed share");
    assert_eq!(bob.get(&format!("{base}/download")).await.status(), 404);
    let r = b
        .post(
            &format!("{base}/shares/remove"),
            &[("csrf", csrf.as_str()), ("user", bob_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 404, "no such share");
    let r = b
        .post(
            &format!("{base}/shares/remove"),
            &[("csrf", "forged"), ("user", carol_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 403, "CSRF");
    assert_eq!(s.state.meta.shares_on(&id).await.expect("db").len(), 1);
}

#[tokio::test]
async fn public_links_download_until_they_expire_or_are_revoked() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let root = folder.trim_start_matches("/browse/").to_owned();
    let id = s.add_file("alice", "pub.txt", b"public").await;
    let base = format!("/files/{id}");
    let http = reqwest::Client::new();

    let day = new_link(&b, &base, &csrf, "read", "1d").await;
    let forever = new_link(&b, &base, &csrf, "write", "never").await;
    assert!(day.starts_with(&format!("{}/share/", s.base)), "{day}");
    let r = http.get(&day).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.expect("body").as_ref(), b"public");
    let html = b
        .get(&format!("{base}/sharing"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Anyone with the link can view") && html.contains("expires 2026-01-02"));
    assert!(html.contains("Anyone with the link can edit") && html.contains("never expires"));
    assert!(
        !html.contains(day.rsplit('/').next().expect("secret")),
        "the secret is shown once"
    );
    let r = b
        .post(
            &format!("{base}/links"),
            &[("csrf", csrf.as_str()), ("ttl", "1y")],
        )
        .await;
    assert_eq!(r.status(), 400, "an expiry not offered");

    // Past its day the first link stops; the other goes on until revoked.
    s.clock.advance_ms(25 * HOUR);
    assert_eq!(status(&http, &day).await, 401);
    assert_eq!(status(&http, &forever).await, 200);
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (_, csrf) = b.home().await;
    let html = b
        .get(&format!("{base}/sharing"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        !html.contains("Anyone with the link can view"),
        "the expired link is not listed"
    );
    let link_id = html
        .split("name=\"link\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a link to revoke")
        .to_owned();
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let (_, bob_csrf) = bob.home().await;
    let r = bob
        .post(
            &format!("{base}/links/revoke"),
            &[("csrf", bob_csrf.as_str()), ("link", link_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 404, "another user cannot reach the file");
    let r = b
        .post(
            &format!("{base}/links/revoke"),
            &[("csrf", csrf.as_str()), ("link", "bm90LWEtbGluaw")],
        )
        .await;
    assert_eq!(r.status(), 404, "no such link");
    let r = b
        .post(
            &format!("{base}/links/revoke"),
            &[("csrf", csrf.as_str()), ("link", link_id.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(notice(&r), "Link revoked.");
    assert_eq!(status(&http, &forever).await, 401, "the revoked link");

    // A folder's link lists and downloads its files.
    let dir = mkdir(&s, &b, &csrf, &root, "Pub").await;
    let f = add_in(&s, "alice", &dir, "in.txt", b"inside").await;
    let link = new_link(&b, &format!("/folders/{dir}"), &csrf, "read", "7d").await;
    let listing = http.get(&link).send().await.expect("send");
    assert_eq!(listing.status(), 200);
    assert!(listing.text().await.expect("html").contains("in.txt"));
    assert_eq!(status(&http, &format!("{link}/{f}")).await, 200);
}
