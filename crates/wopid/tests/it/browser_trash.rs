//! The trash, folder and sharing pages in a real headless Chromium (WebDriver helpers of
//! `browser.rs`): delete a file from its row's menu, find it in the trash and restore it; rename a
//! folder from its row's menu; share a file and a folder and create public links for them, download
//! through the file's link and revoke it. The trash and both sharing pages (with a share and a link
//! listed) go through `check_page` of `browser_ui.rs`: screenshots at 1280 px and 390 px, no
//! sideways scrolling at 390 px, no serious or critical axe-core violation.
//!
//! Needs Debian's `chromium` and `chromium-driver`, as `browser.rs` does.

use std::time::Instant;

use crate::browser::{Session, WAIT, find, start_browser};
use crate::browser_ui::{
    answer, check_page, drop_file, fetched_sha256, sha256_hex, sign_in, uploads_settled,
    wait_listing,
};
use crate::harness::TestServer;
use crate::web::user;

#[tokio::test]
async fn trash_restore_folder_rename_and_public_links_in_chromium() {
    let chromium = find(
        "WOPID_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find("WOPID_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let why = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: {why}"
        );
        eprintln!("SKIPPED browser test: {why}");
        return;
    };
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let (_driver, b, _profile) = start_browser(&chromium, &chromedriver).await;
    let http = b.http.clone();
    let result =
        futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(flow(&b, &s))).await;
    let _ = http.delete(b.url.clone()).send().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Accepts the page's `confirm()` question, which must contain `text`.
async fn accept_confirm(b: &Session, text: &str) {
    let start = Instant::now();
    loop {
        let r = b
            .http
            .get(format!("{}/alert/text", b.url))
            .send()
            .await
            .expect("webdriver");
        if r.status().is_success() {
            let v: serde_json::Value = r.json().await.expect("json");
            let asked = v["value"].as_str().unwrap_or_default().to_owned();
            assert!(asked.contains(text), "asked {asked:?}, not {text:?}");
            b.cmd(
                reqwest::Method::POST,
                "/alert/accept",
                Some(serde_json::json!({})),
            )
            .await;
            return;
        }
        assert!(start.elapsed() < WAIT, "no question {text:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn wait_notice(b: &Session, text: &str) {
    b.wait_for(
        text,
        &format!(
            "var n = document.querySelector('.notice'); return !!n && n.textContent.indexOf({}) >= 0",
            serde_json::Value::String(text.to_owned())
        ),
    )
    .await;
}

/// Opens the `⋯` menu of a row of the folder table (`tr[data-file=…]` or `tr[data-folder=…]`).
async fn open_menu(b: &Session, row: &str) {
    b.click(&format!("#listing {row} td.act details.menu summary"))
        .await;
    b.wait_for(
        "the row's menu",
        &format!(
            "var d = document.querySelector({}); return !!d && d.open",
            serde_json::Value::String(format!("#listing {row} td.act details.menu"))
        ),
    )
    .await;
}

/// Shares the sharing page's file or folder with `login` and makes a public link that expires
/// after one day; the page then lists both, the link with its expiry.
async fn share_and_link(b: &Session, s: &TestServer, base: &str, login: &str, user_id: &str) {
    b.type_into("#share-user", login).await;
    b.click("#share-mode option[value=write]").await;
    b.click(&format!("form[action='{base}/share'] button"))
        .await;
    wait_notice(b, &format!("Shared with {login}.")).await;
    assert_eq!(
        b.script(&format!(
            "var r = document.querySelector('[data-holder=\"{user_id}\"]'); return !!r && r.textContent.indexOf('can edit') >= 0"
        ))
        .await,
        true,
        "{login} is listed as an editor"
    );
    b.click("#link-ttl option[value='1d']").await;
    b.click(&format!("form[action='{base}/links'] button"))
        .await;
    b.wait_for(
        "the new link",
        "return !!document.getElementById('new-link-url') && !!document.querySelector('[data-link]')",
    )
    .await;
    // The list tells when the link stops: one day from now (the test clock's).
    let iso = wopid_proto::Millis::from_ms(s.clock_now() + 86_400_000).to_iso8601();
    let expires = format!("expires {} {} UTC", &iso[..10], &iso[11..16]);
    let listed = b
        .script("return Array.prototype.map.call(document.querySelectorAll('[data-link] .meta'), function (m) { return m.textContent; })")
        .await;
    assert!(
        listed
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m.as_str().is_some_and(|m| m.starts_with(&expires))),
        "{listed} lists a link that {expires}"
    );
}

async fn flow(b: &Session, s: &TestServer) {
    let id = s.add_file("alice", "notes.txt", b"from the trash").await;
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    let bob = s
        .state
        .meta
        .user_by_login("bob")
        .await
        .expect("db")
        .expect("bob");
    let root = s
        .state
        .meta
        .root_container(&alice.id, 0)
        .await
        .expect("root");
    let folder = s
        .state
        .meta
        .create_container("projfolder", &root.id, &alice.id, "Projects", 0)
        .await
        .expect("db")
        .expect("folder");
    let inbox = s
        .state
        .meta
        .create_container("inboxfolder", &root.id, &alice.id, "Inbox", 0)
        .await
        .expect("db")
        .expect("folder");
    let plan = b"inside the folder".to_vec();
    let stream: wopid_store::BlobStream =
        Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from(plan.clone()),
        )]));
    let plan_id =
        wopid::ops::files::add_file(&s.state, "alice", "plan.txt", Some(&folder.id), stream)
            .await
            .expect("file in the folder")
            .id;

    sign_in(b, s, "alice", "alice-password").await;

    // A second version of the file, uploaded over it ("Replace").
    drop_file(b, "notes.txt", 3000, 9).await;
    answer(b, "replace").await;
    let ups = uploads_settled(b, 1).await;
    assert_eq!(ups[0]["status"], "done", "{ups:?}");
    assert_eq!(s.state.meta.versions(&id).await.expect("db").len(), 2);

    // Delete the file from its row's menu: it goes to the trash, and comes back from there.
    open_menu(b, &format!("tr[data-file='{id}']")).await;
    b.click(&format!("form[action='/files/{id}/delete'] button"))
        .await;
    accept_confirm(b, "Delete notes.txt?").await;
    wait_notice(b, "Moved to the trash.").await;
    assert!(s.state.meta.file(&id).await.expect("db").is_none());
    b.click("header a[href='/trash']").await;
    b.wait_for(
        "the trash page",
        &format!("return !!document.querySelector(\"[data-trash='{id}']\")"),
    )
    .await;
    check_page(b, "trash").await;
    b.click(&format!("form[action='/trash/file/{id}/restore'] button"))
        .await;
    wait_notice(b, "Restored “notes.txt” to its folder.").await;
    let back = s.state.meta.file(&id).await.expect("db").expect("restored");
    assert_eq!(back.container_id, root.id);

    // It came back with its versions: its menu leads to them, and the first one is restored.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    open_menu(b, &format!("tr[data-file='{id}']")).await;
    b.click(&format!(
        "tr[data-file='{id}'] a[href='/files/{id}/versions']"
    ))
    .await;
    let rows = "return document.querySelectorAll('table.versions tbody tr').length";
    b.wait_for("the versions page", &format!("{rows} === 2"))
        .await;
    check_page(b, "versions-restored").await;
    b.click(&format!(
        "form[action='/files/{id}/restore'] button[aria-label='Restore version 1']"
    ))
    .await;
    b.wait_for("a third version", &format!("{rows} === 3"))
        .await;
    assert_eq!(
        fetched_sha256(b, &format!("/files/{id}/download")).await,
        sha256_hex(b"from the trash")
    );

    // Rename the folder from its row's menu.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    open_menu(b, &format!("tr[data-folder='{}']", folder.id)).await;
    let input = format!("#rn-{}", folder.id);
    b.script(&format!("document.querySelector('{input}').value = ''"))
        .await;
    b.type_into(&input, "Archive").await;
    b.click(&format!(
        "form[action='/folders/{}/rename'] button",
        folder.id
    ))
    .await;
    wait_notice(b, "Folder renamed.").await;
    let renamed = s
        .state
        .meta
        .container(&folder.id)
        .await
        .expect("db")
        .expect("folder");
    assert_eq!(renamed.name, "Archive");

    // The file's sharing page: share with Bob, create a public link, download through it, revoke.
    b.goto(&format!("{}/files/{id}/sharing", s.base)).await;
    share_and_link(b, s, &format!("/files/{id}"), "bob", &bob.id).await;
    check_page(b, "sharing-file").await;
    let link = b
        .script("return document.getElementById('new-link-url').value")
        .await
        .as_str()
        .expect("link")
        .to_owned();
    let got = reqwest::get(&link).await.expect("send");
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"from the trash");
    b.click(&format!("form[action='/files/{id}/links/revoke'] button"))
        .await;
    wait_notice(b, "Link revoked.").await;
    assert_eq!(reqwest::get(&link).await.expect("send").status(), 401);

    // The folder's sharing page, reached from the folder's menu, with a share and a link.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    open_menu(b, &format!("tr[data-folder='{}']", folder.id)).await;
    b.click(&format!(
        "tr[data-folder='{}'] a[href='/folders/{}/sharing']",
        folder.id, folder.id
    ))
    .await;
    b.wait_for(
        "the folder's sharing page",
        "return !!document.getElementById('share-user')",
    )
    .await;
    share_and_link(b, s, &format!("/folders/{}", folder.id), "bob", &bob.id).await;
    check_page(b, "sharing-folder").await;
    let folder_link = b
        .script("return document.getElementById('new-link-url').value")
        .await
        .as_str()
        .expect("link")
        .to_owned();
    assert_eq!(
        reqwest::get(&folder_link).await.expect("send").status(),
        200
    );

    // The toolbar's New menu (document, folder) at both widths.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    b.click("details.new summary").await;
    b.wait_for(
        "the New menu",
        "return document.querySelector('details.new').open",
    )
    .await;
    check_page(b, "folder-new-menu").await;

    // Move the folder into another one from its row's menu.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    open_menu(b, &format!("tr[data-folder='{}']", folder.id)).await;
    check_page(b, "folder-row-menu").await;
    b.click(&format!("#mv-{} option[value='{}']", folder.id, inbox.id))
        .await;
    b.click(&format!(
        "form[action='/folders/{}/move'] button",
        folder.id
    ))
    .await;
    wait_notice(b, "Folder moved.").await;
    let moved = s
        .state
        .meta
        .container(&folder.id)
        .await
        .expect("db")
        .expect("folder");
    assert_eq!(moved.parent_id.as_deref(), Some(inbox.id.as_str()));
    assert_eq!(
        b.script(&format!(
            "return !!document.querySelector(\"#listing tr[data-folder='{}']\")",
            folder.id
        ))
        .await,
        false,
        "the moved folder left the listing"
    );

    // Delete it, with what it holds, from its new place; the trash lists it and restores it.
    b.click(&format!("#listing tr[data-folder='{}'] a.open", inbox.id))
        .await;
    wait_listing(b, "Archive").await;
    open_menu(b, &format!("tr[data-folder='{}']", folder.id)).await;
    b.click(&format!(
        "form[action='/folders/{}/delete'] button",
        folder.id
    ))
    .await;
    accept_confirm(b, "Move Archive and everything in it to the trash?").await;
    wait_notice(b, "Folder moved to the trash.").await;
    assert!(
        s.state
            .meta
            .container(&folder.id)
            .await
            .expect("db")
            .is_none()
    );
    b.click("header a[href='/trash']").await;
    b.wait_for(
        "the folder in the trash",
        &format!(
            "var r = document.querySelector(\"[data-trash='{}']\"); return !!r && r.textContent.indexOf('Archive/') >= 0",
            folder.id
        ),
    )
    .await;
    b.click(&format!(
        "form[action='/trash/folder/{}/restore'] button",
        folder.id
    ))
    .await;
    wait_notice(b, "Restored “Archive” to its folder.").await;
    let back = s
        .state
        .meta
        .container(&folder.id)
        .await
        .expect("db")
        .expect("restored");
    assert_eq!(back.parent_id.as_deref(), Some(inbox.id.as_str()));
    b.goto(&format!("{}/browse/{}", s.base, folder.id)).await;
    wait_listing(b, "plan.txt").await;
    let href = b
        .script(&format!(
            "return document.querySelector(\"#listing tr[data-file='{plan_id}'] a[download]\").getAttribute('href')"
        ))
        .await;
    assert_eq!(
        fetched_sha256(b, href.as_str().expect("link")).await,
        sha256_hex(&plan)
    );

    // alice, the first user, administers wopid: the folder page links to the admin page.
    b.goto(&format!("{}/", s.base)).await;
    b.click("a.admin-link").await;
    b.wait_for(
        "the administrators' page",
        "return !!document.getElementById('users-h')",
    )
    .await;
    check_page(b, "admin").await;

    // Past its day, the folder's link stops.
    s.clock.advance_ms(25 * 3_600_000);
    assert_eq!(
        reqwest::get(&folder_link).await.expect("send").status(),
        401
    );
}
