//! The trash, folder and sharing pages in a real headless Chromium (WebDriver helpers of
//! `browser.rs`): delete a file, find it in the trash and restore it; rename a folder; create a
//! public link, download through it, revoke it. Every page fits a 390 px wide window.
//!
//! Needs Debian's `chromium` and `chromium-driver`, as `browser.rs` does.

use crate::browser::{Session, find, start_browser};
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
    let (_driver, b, _profile) = start_browser(&chromium, &chromedriver).await;
    let http = b.http.clone();
    let result =
        futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(flow(&b, &s))).await;
    let _ = http.delete(b.url.clone()).send().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// With `WOPID_SCREENSHOTS=DIR`, saves a PNG of the page as `DIR/NAME.png` (to look at the
/// layout; nothing is compared).
async fn shot(b: &Session, name: &str) {
    use base64::Engine as _;
    let Some(dir) = std::env::var_os("WOPID_SCREENSHOTS") else {
        return;
    };
    let png = b.cmd(reqwest::Method::GET, "/screenshot", None).await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap_or_default())
        .expect("png");
    #[allow(clippy::disallowed_methods)]
    std::fs::write(
        std::path::Path::new(&dir).join(format!("{name}.png")),
        bytes,
    )
    .expect("screenshot");
}

/// The page has no horizontal scroll in the current (narrow) window.
async fn fits(b: &Session, page: &str) {
    shot(b, &page.replace(' ', "-")).await;
    let v = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    let widths = b
        .script("return [document.documentElement.scrollWidth, window.innerWidth].join('/')")
        .await;
    assert_eq!(
        v,
        serde_json::Value::Bool(true),
        "{page} scrolls sideways: {widths}"
    );
    let narrow = b.script("return window.innerWidth <= 400").await;
    assert_eq!(
        narrow,
        serde_json::Value::Bool(true),
        "the window is narrow: {widths}"
    );
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

async fn flow(b: &Session, s: &TestServer) {
    let id = s.add_file("alice", "notes.txt", b"from the trash").await;
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
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
    b.cmd(
        reqwest::Method::POST,
        "/window/rect",
        Some(serde_json::json!({ "width": 390, "height": 844 })),
    )
    .await;

    // Sign in through the form.
    b.goto(&format!("{}/login", s.base)).await;
    b.type_into("#username", "alice").await;
    b.type_into("#password", "alice-password").await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for(
        "the folder page",
        "return location.pathname.indexOf('/browse/') === 0",
    )
    .await;

    // Delete the file: it goes to the trash, and comes back from there.
    b.click(&format!("div[data-file='{id}'] summary")).await;
    b.click(&format!("form[action='/files/{id}/delete'] button"))
        .await;
    wait_notice(b, "Moved to the trash.").await;
    assert!(s.state.meta.file(&id).await.expect("db").is_none());
    b.click("header a[href='/trash']").await;
    b.wait_for(
        "the trash page",
        &format!("return !!document.querySelector(\"[data-trash='{id}']\")"),
    )
    .await;
    fits(b, "the trash page").await;
    b.click(&format!("form[action='/trash/file/{id}/restore'] button"))
        .await;
    wait_notice(b, "Restored “notes.txt” to its folder.").await;
    let back = s.state.meta.file(&id).await.expect("db").expect("restored");
    assert_eq!(back.container_id, root.id);

    // Rename the folder from its row.
    b.goto(&format!("{}/browse/{}", s.base, root.id)).await;
    b.click(&format!("div[data-folder='{}'] summary", folder.id))
        .await;
    let input = format!(
        "form[action='/folders/{}/rename'] input[name=name]",
        folder.id
    );
    b.script(&format!("document.querySelector(\"{input}\").value = ''"))
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

    // A public link: create it on the sharing page, download through it, revoke it.
    b.goto(&format!("{}/files/{id}/sharing", s.base)).await;
    fits(b, "the sharing page").await;
    b.click(&format!("form[action='/files/{id}/links'] button"))
        .await;
    b.wait_for(
        "the new link",
        "return !!document.getElementById('new-link-url')",
    )
    .await;
    fits(b, "the sharing page with a new link").await;
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
    b.goto(&format!("{}/folders/{}/sharing", s.base, folder.id))
        .await;
    fits(b, "the folder's sharing page").await;
}
