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
use crate::browser_ui::{check_page, sign_in};
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

/// Shares the sharing page's file or folder with `login` and makes a public link; the page then
/// lists both.
async fn share_and_link(b: &Session, base: &str, login: &str, user_id: &str) {
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
    b.click(&format!("form[action='{base}/links'] button"))
        .await;
    b.wait_for(
        "the new link",
        "return !!document.getElementById('new-link-url') && !!document.querySelector('[data-link]')",
    )
    .await;
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

    sign_in(b, s, "alice", "alice-password").await;

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
    share_and_link(b, &format!("/files/{id}"), "bob", &bob.id).await;
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
    share_and_link(b, &format!("/folders/{}", folder.id), "bob", &bob.id).await;
    check_page(b, "sharing-folder").await;

    // alice, the first user, administers wopid: the folder page links to the admin page.
    b.goto(&format!("{}/", s.base)).await;
    b.click("a.admin-link").await;
    b.wait_for(
        "the administrators' page",
        "return !!document.getElementById('users-h')",
    )
    .await;
    check_page(b, "admin").await;
}
