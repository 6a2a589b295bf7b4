//! The folder page over HTTP: uploads that meet an existing name (`on_conflict`), sorting and
//! filtering on the server, bulk delete, move and zip download, and the pages' error answers.

use std::io::Read as _;

use serde_json::Value;

use crate::harness::*;
use crate::web::{Browser, user};

/// Uploads `files` to `folder` with these text fields first; `json` asks for the script's answer.
async fn upload(
    b: &Browser,
    folder: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
    json: bool,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, body) in files {
        let part = reqwest::multipart::Part::bytes(body.to_vec()).file_name(name.to_string());
        form = form.part("file", part);
    }
    let mut r = b
        .http
        .post(format!("{}{folder}/upload", b.base))
        .header("Cookie", &b.cookie)
        .multipart(form);
    if json {
        r = r.header("Accept", "application/json");
    }
    r.send().await.expect("send")
}

async fn rig() -> (TestServer, Browser, String, String) {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    (s, b, folder, csrf)
}

#[tokio::test]
async fn an_upload_over_an_existing_name_asks_replaces_keeps_both_or_skips() {
    let (s, b, folder, csrf) = rig().await;
    let csrf = csrf.as_str();
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf)],
        &[("report.docx", b"one")],
        false,
    )
    .await;
    assert_eq!(r.status(), 303, "a plain form, as before");
    let file = |name: &'static str| {
        let s = &s;
        async move {
            s.state
                .meta
                .list_files(None)
                .await
                .expect("files")
                .into_iter()
                .find(|f| f.name == name)
        }
    };
    let first = file("report.docx").await.expect("stored");

    // ask: 409 with a clear message, nothing stored.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "ask")],
        &[("report.docx", b"two")],
        true,
    )
    .await;
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["exists"], true);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("report.docx"),
        "{v}"
    );
    // The form's page says so too.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "ask")],
        &[("report.docx", b"two")],
        false,
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.expect("html").contains("already exists"));
    assert_eq!(s.state.meta.list_files(None).await.expect("files").len(), 1);

    // keep: a free name.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "keep")],
        &[("report.docx", b"kept")],
        true,
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["stored"][0]["name"], "report (2).docx");
    assert_eq!(v["stored"][0]["replaced"], false);

    // replace: a new version of the same file.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "replace")],
        &[("report.docx", b"replaced")],
        true,
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["stored"][0]["id"], first.id.as_str());
    assert_eq!(v["stored"][0]["replaced"], true);
    let now = file("report.docx").await.expect("still there");
    assert_eq!(now.id, first.id);
    assert!(now.version > first.version);
    assert_eq!(
        s.get_file(&now.id, &s.token("alice", &now.id, RW).await)
            .await,
        b"replaced"
    );
    assert_eq!(
        s.state
            .meta
            .versions(&now.id)
            .await
            .expect("versions")
            .len(),
        2
    );

    // skip: nothing changes.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "skip")],
        &[("report.docx", b"skipped")],
        true,
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["skipped"][0], "report.docx");
    assert_eq!(
        file("report.docx").await.expect("file").version,
        now.version
    );

    // Bad policy, no token, a token after the file, a forged token: refused, nothing stored.
    let r = upload(
        &b,
        &folder,
        &[("csrf", csrf), ("on_conflict", "sometimes")],
        &[("x.txt", b"x")],
        false,
    )
    .await;
    assert_eq!(r.status(), 400);
    let r = upload(&b, &folder, &[], &[("x.txt", b"x")], true).await;
    assert_eq!(r.status(), 403);
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
    );
    form = form.text("csrf", csrf.to_owned());
    let r = b
        .http
        .post(format!("{}{folder}/upload", b.base))
        .header("Cookie", &b.cookie)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403, "the token must come before the files");
    let r = upload(
        &b,
        &folder,
        &[("csrf", "forged")],
        &[("x.txt", b"x")],
        false,
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(file("x.txt").await.is_none());
}

fn names_in_order(html: &str) -> Vec<String> {
    let table = html.split("id=\"listing\"").nth(1).expect("listing");
    table
        .split("<tr class=\"row\" data-name=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_folder_sorts_by_each_column_and_filters_by_name() {
    let (s, b, folder, csrf) = rig().await;
    for (name, body) in [
        ("b-middle.txt", &b"12345"[..]),
        ("A-small.txt", &b"1"[..]),
        ("c-large.txt", &b"1234567890"[..]),
    ] {
        let r = upload(&b, &folder, &[("csrf", &csrf)], &[(name, body)], false).await;
        assert_eq!(r.status(), 303);
        s.clock.advance_ms(120_000);
    }
    let r = b
        .post(
            &format!("{folder}/mkdir"),
            &[("csrf", csrf.as_str()), ("name", "zeta")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let page = |q: &'static str| {
        let b = &b;
        let folder = &folder;
        async move {
            let r = b.get(&format!("{folder}{q}")).await;
            assert_eq!(r.status(), 200);
            names_in_order(&r.text().await.expect("html"))
        }
    };
    assert_eq!(
        page("").await,
        ["zeta", "A-small.txt", "b-middle.txt", "c-large.txt"],
        "folders first, then names, case-insensitive"
    );
    assert_eq!(
        page("?sort=name&dir=desc").await,
        ["zeta", "c-large.txt", "b-middle.txt", "A-small.txt"]
    );
    assert_eq!(
        page("?sort=size&dir=desc").await,
        ["zeta", "c-large.txt", "b-middle.txt", "A-small.txt"]
    );
    assert_eq!(
        page("?sort=modified&dir=asc").await,
        ["zeta", "b-middle.txt", "A-small.txt", "c-large.txt"]
    );
    assert_eq!(page("?q=MIDDLE").await, ["b-middle.txt"]);
    assert_eq!(page("?sort=bogus&dir=sideways&q=").await.len(), 4);
    let html = b
        .get(&format!("{folder}?q=nothing"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Nothing here matches"), "{html}");
    // The sorted column says so to assistive technology; sizes and times read as people write them.
    let html = b
        .get(&format!("{folder}?sort=size&dir=asc"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("class=\"size\" aria-sort=\"ascending\""),
        "{html}"
    );
    assert!(html.contains(">5 B<"), "{html}");
    assert!(html.contains("minutes ago"), "{html}");
}

#[tokio::test]
async fn bulk_zip_delete_and_move() {
    let (s, b, folder, csrf) = rig().await;
    let r = upload(
        &b,
        &folder,
        &[("csrf", &csrf)],
        &[
            ("one.txt", b"first file"),
            ("two.txt", b"second file"),
            ("three.txt", b"3"),
        ],
        false,
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = b
        .post(
            &format!("{folder}/mkdir"),
            &[("csrf", csrf.as_str()), ("name", "docs")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let files = s.state.meta.list_files(None).await.expect("files");
    let id = |n: &str| files.iter().find(|f| f.name == n).expect("file").id.clone();
    let folder_id = folder.trim_start_matches("/browse/").to_owned();
    let docs = s
        .state
        .meta
        .child_containers(&folder_id)
        .await
        .expect("folders")
        .into_iter()
        .find(|c| c.name == "docs")
        .expect("docs")
        .id;
    // A file inside the folder, for the zip.
    let r = upload(
        &b,
        &format!("/browse/{docs}"),
        &[("csrf", &csrf)],
        &[("inner.txt", b"inside docs")],
        false,
    )
    .await;
    assert_eq!(r.status(), 303);

    let bulk = |action: &str, items: Vec<String>, extra: Vec<(&str, String)>| {
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("action".into(), action.to_owned()),
        ];
        for i in items {
            form.push(("item".into(), i));
        }
        for (k, v) in extra {
            form.push((k.to_owned(), v));
        }
        let b = &b;
        let folder = &folder;
        async move {
            b.http
                .post(format!("{}{folder}/bulk", b.base))
                .header("Cookie", &b.cookie)
                .form(&form)
                .send()
                .await
                .expect("send")
        }
    };

    // Zip: two files and a folder, streamed, byte-identical inside.
    let r = bulk(
        "zip",
        vec![
            format!("f:{}", id("one.txt")),
            format!("f:{}", id("two.txt")),
            format!("d:{docs}"),
        ],
        vec![],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type").as_deref(),
        Some("application/zip")
    );
    assert!(
        header(&r, "content-disposition")
            .unwrap_or_default()
            .contains("attachment")
    );
    let bytes = r.bytes().await.expect("zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut seen = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("entry");
        let mut body = Vec::new();
        entry.read_to_end(&mut body).expect("read");
        seen.push((entry.name().expect("name").to_string(), body));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("docs/inner.txt".to_owned(), b"inside docs".to_vec()),
            ("one.txt".to_owned(), b"first file".to_vec()),
            ("two.txt".to_owned(), b"second file".to_vec()),
        ]
    );

    // Without a token, nothing happens; without a selection, the page says what to do.
    let r = b
        .http
        .post(format!("{}{folder}/bulk", b.base))
        .header("Cookie", &b.cookie)
        .form(&[
            ("action", "delete"),
            ("item", &format!("f:{}", id("one.txt"))),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    let r = bulk("delete", vec![], vec![]).await;
    assert_eq!(r.status(), 400);
    let r = bulk("explode", vec![format!("f:{}", id("one.txt"))], vec![]).await;
    assert_eq!(r.status(), 400);

    // Move two files into docs.
    let r = bulk(
        "move",
        vec![
            format!("f:{}", id("one.txt")),
            format!("f:{}", id("two.txt")),
        ],
        vec![("container", docs.clone())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = header(&r, "location").expect("location");
    assert!(to.contains("Moved+2+items"), "{to}");
    let moved = s.state.meta.list_files(Some(&docs)).await.expect("files");
    assert_eq!(moved.len(), 3);

    // Delete a file and the (non-empty) folder: the file goes, the folder is named as refused.
    let r = bulk(
        "delete",
        vec![format!("f:{}", id("three.txt")), format!("d:{docs}")],
        vec![],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = header(&r, "location").expect("location");
    assert!(to.contains("Deleted+1+item"), "{to}");
    assert!(to.contains("docs"), "{to}");
    let page = b.get(&to).await.text().await.expect("html");
    assert!(page.contains("Deleted 1 item."), "{page}");
    assert!(
        s.state
            .meta
            .file(&id("three.txt"))
            .await
            .expect("db")
            .is_none()
    );

    // Another user cannot zip these files.
    user(&s, "mallory", "mallory-password").await;
    let m = Browser::sign_in(&s, "mallory", "mallory-password").await;
    let (mfolder, mcsrf) = m.home().await;
    let r = m
        .http
        .post(format!("{}{mfolder}/bulk", m.base))
        .header("Cookie", &m.cookie)
        .form(&[
            ("csrf", mcsrf.as_str()),
            ("action", "zip"),
            ("item", &format!("f:{}", id("one.txt"))),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn error_pages_are_styled_with_a_way_back_and_the_favicon_is_served() {
    let (_s, b, _folder, _csrf) = rig().await;
    for path in ["/no/such/page", "/browse/nope", "/files/nope/versions"] {
        let r = b.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        let html = r.text().await.expect("html");
        assert!(html.contains("/assets/wopid.css"), "{path}: {html}");
        assert!(html.contains("<h1>Not found</h1>"), "{path}: {html}");
        assert!(html.contains("href=\"/\""), "{path}: a way back");
        assert!(
            html.contains("action=\"/logout\"") && html.contains("ALICE"),
            "{path}: the signed-in header: {html}"
        );
    }
    // Without a session, the same page has no one's name in it.
    let r = reqwest::get(format!("{}/no/such/page", b.base))
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    let html = r.text().await.expect("html");
    assert!(
        !html.contains("/logout") && html.contains("My files"),
        "{html}"
    );
    for path in ["/favicon.ico", "/assets/favicon.svg"] {
        let r = b.get(path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type").as_deref(), Some("image/svg+xml"));
    }
    let r = b.get("/assets/files.js").await;
    assert_eq!(r.status(), 200);
    // The folder page names the favicon and keeps no CSRF token in any URL.
    let (folder, csrf) = b.home().await;
    let html = b.get(&folder).await.text().await.expect("html");
    assert!(html.contains("rel=\"icon\""));
    assert!(!html.contains(&format!("csrf={csrf}")), "no token in a URL");
}
