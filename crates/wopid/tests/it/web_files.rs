//! The web UI's file handling over HTTP: large streamed uploads and the upload size limit.

use crate::harness::*;
use crate::web::{Browser, user};

async fn upload(
    b: &Browser,
    folder: &str,
    csrf: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    b.http
        .post(format!("{}{folder}/upload?csrf={csrf}", b.base))
        .header("Cookie", &b.cookie)
        .multipart(form)
        .send()
        .await
        .expect("send")
}

async fn file_id(s: &TestServer, folder: &str, name: &str) -> Option<String> {
    let folder_id = folder.trim_start_matches("/browse/");
    s.state
        .meta
        .list_files(Some(folder_id))
        .await
        .expect("list")
        .into_iter()
        .find(|f| f.name == name)
        .map(|f| f.id)
}

#[tokio::test]
async fn uploads_larger_than_a_few_mebibytes_arrive_whole() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let r = upload(&b, &folder, &csrf, "big.bin", bytes.clone()).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let id = file_id(&s, &folder, "big.bin").await.expect("uploaded");
    let got = b.get(&format!("/files/{id}/download")).await;
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.expect("body").as_ref() == bytes.as_slice());
}

#[tokio::test]
async fn an_upload_over_the_limit_gets_a_413_page_and_stores_nothing() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 256 * 1024).await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let r = upload(&b, &folder, &csrf, "fits.bin", vec![7; 256 * 1024]).await;
    assert_eq!(r.status(), 303);
    let r = upload(&b, &folder, &csrf, "big.bin", vec![7; 300 * 1024]).await;
    assert_eq!(r.status(), 413);
    assert!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    );
    assert!(r.text().await.expect("html").contains("too large"));
    assert!(file_id(&s, &folder, "big.bin").await.is_none());
    assert!(file_id(&s, &folder, "fits.bin").await.is_some());
}

#[tokio::test]
async fn renaming_without_the_extension_keeps_it() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let r = upload(&b, &folder, &csrf, "Q3.docx", b"quarter".to_vec()).await;
    assert_eq!(r.status(), 303);
    let id = file_id(&s, &folder, "Q3.docx").await.expect("uploaded");
    let rename = |name: &'static str| {
        let (b, id, csrf) = (&b, &id, &csrf);
        async move {
            b.post(
                &format!("/files/{id}/rename"),
                &[("csrf", csrf.as_str()), ("name", name)],
            )
            .await
            .status()
        }
    };
    assert_eq!(rename("Q3 final").await, 303);
    assert_eq!(
        file_id(&s, &folder, "Q3 final.docx").await.as_deref(),
        Some(id.as_str())
    );
    // The same extension, in any case, is kept as typed.
    assert_eq!(rename("Q3 final.DOCX").await, 303);
    assert_eq!(
        file_id(&s, &folder, "Q3 final.DOCX").await.as_deref(),
        Some(id.as_str())
    );
    // Another extension cannot change the type: the file's own is added.
    assert_eq!(rename("Q3.txt").await, 303);
    assert_eq!(
        file_id(&s, &folder, "Q3.txt.DOCX").await.as_deref(),
        Some(id.as_str())
    );
    // An empty name is still refused, not turned into ".docx".
    assert_eq!(rename("  ").await, 400);
}

#[tokio::test]
async fn a_file_shared_with_me_can_be_downloaded_without_an_editor() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let alice = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = alice.home().await;
    let r = upload(&alice, &folder, &csrf, "plan.docx", b"the plan".to_vec()).await;
    assert_eq!(r.status(), 303);
    let id = file_id(&s, &folder, "plan.docx").await.expect("uploaded");
    let r = alice
        .post(
            &format!("/files/{id}/share"),
            &[("csrf", csrf.as_str()), ("user", "bob"), ("mode", "read")],
        )
        .await;
    assert_eq!(r.status(), 303);

    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let (home, _) = bob.home().await;
    let page = bob.get(&home).await.text().await.expect("html");
    let shared = page.split("Shared with me").nth(1).expect("shared list");
    assert!(shared.contains("plan.docx"), "{shared}");
    assert!(
        shared.contains(&format!("/files/{id}/download")),
        "{shared}"
    );
    // No editor is configured: no link to a host page that could only say so.
    assert!(!shared.contains(&format!("/files/{id}/view")), "{shared}");
    let got = bob.get(&format!("/files/{id}/download")).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"the plan");
}

#[tokio::test]
async fn a_recipient_goes_back_to_shared_with_me_not_into_the_owners_folder() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let alice = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = alice.home().await;
    let r = upload(&alice, &folder, &csrf, "plan.docx", b"the plan".to_vec()).await;
    assert_eq!(r.status(), 303);
    let id = file_id(&s, &folder, "plan.docx").await.expect("uploaded");
    // The owner goes back to the folder.
    let page = alice.get(&format!("/files/{id}/versions")).await;
    assert!(
        page.text()
            .await
            .expect("html")
            .contains(&format!("href=\"{folder}\""))
    );
    let info = s
        .check_file_info(&id, &s.token("alice", &id, RW).await)
        .await;
    assert_eq!(info["CloseUrl"], format!("{}{folder}", s.base));

    // Bob, who has the file but not its folder, goes to his home page ("Shared with me").
    let bob_token = s.token("bob", &id, RO).await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let page = bob.get(&format!("/files/{id}/versions")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(!html.contains(&folder), "{html}");
    assert!(html.contains("href=\"/\""), "{html}");
    let info = s.check_file_info(&id, &bob_token).await;
    assert_eq!(info["CloseUrl"], format!("{}/", s.base));
    assert!(bob.get(&folder).await.status() == 404);
}

#[tokio::test]
async fn a_form_over_the_body_limit_gets_a_413_page() {
    let s = TestServer::start_with(|c| c.max_upload_bytes = 64 * 1024).await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    // Each part fits the per-file limit; together they outgrow the limit plus the framing room.
    let mut form = reqwest::multipart::Form::new();
    for i in 0..20 {
        let part =
            reqwest::multipart::Part::bytes(vec![1; 60 * 1024]).file_name(format!("{i}.bin"));
        form = form.part("file", part);
    }
    let r = b
        .http
        .post(format!("{}{folder}/upload?csrf={csrf}", b.base))
        .header("Cookie", &b.cookie)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    assert!(r.text().await.expect("html").contains("too large"));
    assert!(file_id(&s, &folder, "19.bin").await.is_none());
}
