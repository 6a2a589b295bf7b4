//! The web UI in a real headless Chromium (WebDriver), as people use it: uploads by the file
//! picker and by drag and drop with their progress bars, downloads byte-identical, rename keeping
//! the extension, the replace / keep both / skip question, sort and filter, a zip of the
//! selection, sharing and the recipient's "Shared with me", and every page visited checked by
//! [`check_page`]: screenshots at 1280 px and 390 px, no horizontal scrolling at 390 px, and no
//! serious or critical axe-core violation.
//!
//! Screenshots go to `$WOPID_SCREENSHOTS`, else `target/screenshots/` of the workspace, as
//! `NAME-desktop.png` and `NAME-phone.png`. axe-core comes from `tests/browser` (`npm ci` there;
//! `.ci/run` does it) or `$WOPID_AXE` (the path of `axe.min.js`). Without Chromium, or without
//! axe-core, the test says so and passes locally, and fails when `CI` is set.
//!
//! Other browser tests reuse it: `crate::browser::start_browser` for a session, then
//! `sign_in(&b, &s, "alice", "alice-password")`, `b.goto(&url)` and `check_page(&b, "trash")` on
//! each page they visit (`script_async`, `fetched_sha256`, `listed` and `drop_file` help too).

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::browser::{Session, find, start_browser};
use crate::emulator::{Emulator, Kind};
use crate::harness::TestServer;
use crate::web::user;

/// Where [`check_page`] saves its screenshots.
pub(crate) fn screenshot_dir() -> PathBuf {
    std::env::var_os("WOPID_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
        })
}

/// axe-core's script, or why it is missing (which fails under CI).
fn axe_source() -> Option<String> {
    let path = std::env::var_os("WOPID_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/browser/node_modules/axe-core/axe.min.js")
        });
    #[allow(clippy::disallowed_methods)]
    let src = std::fs::read_to_string(&path).ok();
    if src.is_none() {
        let why = format!(
            "axe-core is not installed at {} (cd tests/browser && npm ci)",
            path.display()
        );
        assert!(std::env::var_os("CI").is_none(), "CI must run axe: {why}");
        eprintln!("SKIPPED the axe check: {why}");
    }
    src
}

/// A Chrome DevTools command through chromedriver.
async fn cdp(b: &Session, cmd: &str, params: Value) -> Value {
    b.cmd(
        reqwest::Method::POST,
        "/goog/cdp/execute",
        Some(json!({ "cmd": cmd, "params": params })),
    )
    .await
}

/// Runs `script` as an async WebDriver script: it calls `done(value)` (the last argument).
pub(crate) async fn script_async(b: &Session, script: &str) -> Value {
    let body = format!("var done = arguments[arguments.length - 1];\n{script}");
    b.cmd(
        reqwest::Method::POST,
        "/execute/async",
        Some(json!({ "script": body, "args": [] })),
    )
    .await
}

async fn viewport(b: &Session, width: u32, height: u32, mobile: bool) {
    cdp(
        b,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
    )
    .await;
    // Let layout settle at the new size.
    b.script("return document.body.offsetWidth").await;
}

async fn screenshot(b: &Session, file: &str) {
    let png = b.cmd(reqwest::Method::GET, "/screenshot", None).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().expect("base64 PNG"))
        .expect("PNG");
    let dir = screenshot_dir();
    #[allow(clippy::disallowed_methods)]
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    #[allow(clippy::disallowed_methods)]
    std::fs::write(dir.join(file), png).expect("screenshot");
}

/// The serious and critical axe-core violations of the current page, as text.
async fn axe_violations(b: &Session, axe: &str) -> Vec<String> {
    if b.script("return typeof window.axe").await != "object" {
        b.script(&format!("{axe}\nreturn true;")).await;
    }
    let out = script_async(
        b,
        "axe.run(document, { iframes: false, resultTypes: ['violations'] }).then(function (r) {\n\
           done(r.violations.map(function (v) {\n\
             return { id: v.id, impact: v.impact, help: v.help,\n\
                      nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' ') + ': ' + n.failureSummary; }) };\n\
           }));\n\
         }, function (e) { done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]); });",
    )
    .await;
    let mut found = Vec::new();
    for v in out.as_array().into_iter().flatten() {
        let impact = v["impact"].as_str().unwrap_or_default();
        let line = format!("{} ({impact}): {} {}", v["id"], v["help"], v["nodes"]);
        if impact == "serious" || impact == "critical" {
            found.push(line);
        } else {
            eprintln!("axe, {impact}: {line}");
        }
    }
    found
}

/// The page's visible controls (links, buttons, fields, menus; not those of a closed menu) that lie partly outside the
/// screen's width even when focused (a skip link shows itself on focus), as text; while a modal
/// dialog is open, only its own (the rest of the page is inert).
/// `WIDTH` in it stands for the screen's width.
const UNREACHABLE: &str = "var w = WIDTH, out = [], scope = document.querySelector('dialog:modal') || document;\n\
    var off = function (e) { var r = e.getBoundingClientRect(); return r.left < -0.5 || r.right > w + 0.5; };\n\
    Array.prototype.forEach.call(scope.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary'), function (e) {\n\
      var r = e.getBoundingClientRect();\n\
      if (r.width < 2 || r.height < 2 || !e.checkVisibility({ visibilityProperty: true }) || !off(e)) return;\n\
      var had = document.activeElement; e.focus({ preventScroll: true }); var still = off(e); r = e.getBoundingClientRect();\n\
      if (had && had !== document.body && had.focus) { had.focus({ preventScroll: true }); } else { e.blur(); }\n\
      if (still) out.push(e.tagName + ' ' + (e.id || e.className || e.textContent.trim().slice(0, 30)) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));\n\
    });\n\
    return out.slice(0, 8);";

/// The page's visible controls on the screen that something else covers (an open menu drawn
/// under the next rows' buttons): at the middle and near each corner of the control, the
/// element on top must be the control, inside it, one of its labels, or an open menu drawn over
/// it. As text.
const COVERED: &str = "var out = [], scope = document.querySelector('dialog:modal') || document;\n\
    Array.prototype.forEach.call(scope.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary'), function (e) {\n\
      var rs = e.getClientRects(); if (!rs.length || !e.checkVisibility({ visibilityProperty: true })) return;\n\
      var r = rs[0]; if (r.width < 8 || r.height < 8) return;\n\
      var pts = [[(r.left + r.right) / 2, (r.top + r.bottom) / 2], [r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3]];\n\
      for (var i = 0; i < pts.length; i++) {\n\
        var x = pts[i][0], y = pts[i][1];\n\
        if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) continue;\n\
        var h = document.elementFromPoint(x, y);\n\
        if (!h || h === e || e.contains(h) || h.contains(e) || Array.prototype.indexOf.call(e.labels || [], h) >= 0) continue;\n\
        var menu = h.closest('details[open] > .menu-body'); if (menu && !menu.parentNode.contains(e)) continue;\n\
        out.push(e.tagName + ' ' + (e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30)) + ' under ' + h.tagName + ' ' + (h.id || h.getAttribute('aria-label') || h.className || h.textContent.trim().slice(0, 30)) + ' at ' + Math.round(x) + ',' + Math.round(y));\n\
        break;\n\
      }\n\
    });\n\
    return out.slice(0, 8);";

/// Checks the page the browser shows: screenshots at 1280 px and 390 px (saved as
/// `NAME-desktop.png` and `NAME-phone.png` under [`screenshot_dir`]), nothing wider than the
/// screen at 390 px, every visible control within the screen's width at 390 px (reachable
/// without sideways scrolling) and, at both widths, not covered by something else, and no serious or critical axe-core violation at either width. Leaves the
/// browser at 1280 px. Call it on every page a browser test visits.
pub(crate) async fn check_page(b: &Session, name: &str) {
    let axe = axe_source();
    let mut problems = Vec::new();
    for (label, width, height, mobile) in [("desktop", 1280, 800, false), ("phone", 390, 844, true)]
    {
        viewport(b, width, height, mobile).await;
        screenshot(b, &format!("{name}-{label}.png")).await;
        let sizes = b
            .script("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        let (scroll, inner) = (
            sizes[0].as_i64().unwrap_or(0),
            sizes[1].as_i64().unwrap_or(0),
        );
        if label == "phone" {
            // A page wider than a phone's screen scrolls sideways, or (as phones do, and the
            // mobile emulation with them) widens the layout viewport so it is zoomed out.
            if scroll > inner || inner > i64::from(width) {
                let wide = b
                    .script(
                        "return Array.prototype.slice.call(document.querySelectorAll('body *'))\n\
                         .filter(function (e) { return e.getBoundingClientRect().right > 390.5; })\n\
                         .slice(0, 8).map(function (e) { return e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right); })",
                    )
                    .await;
                problems.push(format!(
                    "{name}: {} px wide at {width} px (wider: {wide})",
                    scroll.max(inner)
                ));
            }
            let cut = b
                .script(&UNREACHABLE.replace("WIDTH", &width.to_string()))
                .await;
            if cut.as_array().is_some_and(|a| !a.is_empty()) {
                problems.push(format!("{name}: controls off the {width} px screen: {cut}"));
            }
        }
        let covered = b.script(COVERED).await;
        if covered.as_array().is_some_and(|a| !a.is_empty()) {
            problems.push(format!("{name} at {width} px: controls covered: {covered}"));
        }
        if let Some(axe) = &axe {
            for v in axe_violations(b, axe).await {
                problems.push(format!("{name} at {width} px: {v}"));
            }
        }
    }
    viewport(b, 1280, 800, false).await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The bytes of a test file: a pattern no two offsets of a short period share.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + usize::from(seed)) % 251) as u8)
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Drops a file of `len` pattern bytes named `name` on the page, as a drag from the desktop does.
pub(crate) async fn drop_file(b: &Session, name: &str, len: usize, seed: u8) {
    b.script(&format!(
        "var n = {len}, data = new Uint8Array(n);\n\
         for (var i = 0; i < n; i++) {{ data[i] = (i * 7 + {seed}) % 251; }}\n\
         var dt = new DataTransfer();\n\
         dt.items.add(new File([data], {name}, {{ type: 'application/octet-stream' }}));\n\
         var zone = document.getElementById('upload');\n\
         zone.dispatchEvent(new DragEvent('dragenter', {{ dataTransfer: dt, bubbles: true, cancelable: true }}));\n\
         zone.dispatchEvent(new DragEvent('dragover', {{ dataTransfer: dt, bubbles: true, cancelable: true }}));\n\
         zone.dispatchEvent(new DragEvent('drop', {{ dataTransfer: dt, bubbles: true, cancelable: true }}));\n\
         return true;",
        name = json!(name)
    ))
    .await;
}

/// The SHA-256 of what the page fetches from `url` with its session.
pub(crate) async fn fetched_sha256(b: &Session, url: &str) -> String {
    let v = script_async(
        b,
        &format!(
            "fetch({url}, {{ credentials: 'same-origin' }})\n\
             .then(function (r) {{ if (!r.ok) throw new Error('status ' + r.status); return r.arrayBuffer(); }})\n\
             .then(function (buf) {{ return crypto.subtle.digest('SHA-256', buf); }})\n\
             .then(function (d) {{ done(Array.prototype.map.call(new Uint8Array(d), function (x) {{ return ('0' + x.toString(16)).slice(-2); }}).join('')); }},\n\
                   function (e) {{ done('error: ' + e); }});",
            url = json!(url)
        ),
    )
    .await;
    v.as_str().unwrap_or_default().to_owned()
}

/// Waits until every upload the page started has ended and the listing they changed is reloaded
/// (rows found before that would be replaced under the test), and returns their records.
pub(crate) async fn uploads_settled(b: &Session, count: usize) -> Vec<Value> {
    b.wait_for(
        "the uploads to end",
        &format!(
            "var u = window.wopidUploads || [];\n\
             return u.length >= {count} && u.every(function (x) {{ return ['done', 'failed', 'skipped', 'cancelled'].indexOf(x.status) >= 0; }})\n\
                 && !document.body.hasAttribute('data-listing-pending')"
        ),
    )
    .await;
    b.script("return window.wopidUploads")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The names of the listing's rows, top to bottom, that are not hidden.
pub(crate) async fn listed(b: &Session) -> Vec<String> {
    b.script(
        "return Array.prototype.slice.call(document.querySelectorAll('#listing tr.row'))\n\
         .filter(function (r) { return !r.hidden; }).map(function (r) { return r.getAttribute('data-name'); })",
    )
    .await
    .as_array()
    .into_iter()
    .flatten()
    .filter_map(|v| v.as_str().map(str::to_owned))
    .collect()
}

pub(crate) async fn wait_listing(b: &Session, name: &str) {
    b.wait_for(
        &format!("{name} in the listing"),
        &format!(
            "return !!document.querySelector('#listing tr[data-name=' + JSON.stringify({}) + ']')",
            json!(name)
        ),
    )
    .await;
}

pub(crate) async fn sign_in(b: &Session, s: &TestServer, login: &str, password: &str) {
    b.goto(&format!("{}/login", s.base)).await;
    b.type_into("#username", login).await;
    b.type_into("#password", password).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for(
        "the folder page",
        "return location.pathname.indexOf('/browse/') === 0",
    )
    .await;
}

/// Answers the page's "the name exists" question.
pub(crate) async fn answer(b: &Session, choice: &str) {
    b.wait_for(
        "the question",
        "var d = document.getElementById('conflict'); return !!d && d.open",
    )
    .await;
    b.click(&format!("#conflict button[value={choice}]")).await;
}

#[tokio::test]
async fn the_file_manager_in_chromium() {
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
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emulator::start(Kind::Collabora, "collabora", dir.path()).await;
    let s = TestServer::start_with_editors(vec![emu.config()], |_| {}).await;
    emu.attach(&s);
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;

    let (_driver, b, _profile) = start_browser(&chromium, &chromedriver).await;
    let http = b.http.clone();
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(flow(
        &b,
        &s,
        dir.path(),
    )))
    .await;
    let _ = http.delete(b.url.clone()).send().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn flow(b: &Session, s: &TestServer, dir: &std::path::Path) {
    const BIG: usize = 20 * 1024 * 1024;
    const SMALL: usize = 2 * 1024 * 1024;
    let big = pattern(BIG, 1);
    let big_path = dir.join("Big archive.bin");
    #[allow(clippy::disallowed_methods)]
    std::fs::write(&big_path, &big).expect("big file");
    s.add_file("alice", "Minutes.odt", b"PK\x03\x04 minutes")
        .await;

    // The checker itself finds a page that scrolls sideways on a phone and has an image
    // without text, an unlabelled field, a button cut off past the screen's edge and a button
    // covered by something else.
    b.goto("data:text/html,<!doctype html><html lang=en><meta name=viewport content='width=device-width, initial-scale=1'><title>bad</title><main><img src=x.png><input><div style='width:600px'>wide</div><div style='overflow:hidden'><button style='position:relative;left:420px'>far</button></div><div style='position:relative'><button>under</button><div style='position:absolute;inset:0;background:%23fff'></div></div></main>")
        .await;
    let bad = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(check_page(
        b,
        "self-test-bad-page",
    )))
    .await;
    let why = match bad {
        Ok(()) => panic!("check_page passed a bad page"),
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(why.contains("px wide at 390 px"), "{why}");
    assert!(why.contains("image-alt"), "{why}");
    assert!(why.contains("label"), "{why}");
    assert!(
        why.contains("controls off the 390 px screen: [\"BUTTON far"),
        "{why}"
    );
    assert!(
        why.contains("controls covered: [\"BUTTON under under DIV"),
        "{why}"
    );

    // Sign-in page, then the folder.
    b.goto(&format!("{}/login", s.base)).await;
    check_page(b, "login").await;
    sign_in(b, s, "alice", "alice-password").await;

    // 20 MB through the file picker, 2 MB dropped on the page: each bar reaches 100 %.
    b.type_into("#upload-files", &big_path.display().to_string())
        .await;
    drop_file(b, "report.docx", SMALL, 2).await;
    let ups = uploads_settled(b, 2).await;
    for u in &ups {
        assert_eq!(u["status"], "done", "{u}");
        assert_eq!(u["percent"], 100, "{u}");
    }
    let bars = b
        .script("return Array.prototype.map.call(document.querySelectorAll('#uploads progress'), function (p) { return p.value; })")
        .await;
    assert_eq!(bars, json!([100, 100]), "every progress bar shows 100 %");
    wait_listing(b, "report.docx").await;
    wait_listing(b, "Big archive.bin").await;
    check_page(b, "folder").await;

    // Downloads are byte-identical.
    let files = s.state.meta.list_files(None).await.expect("files");
    let id_of = |files: &[wopid_store::FileRecord], n: &str| {
        files
            .iter()
            .find(|f| f.name == n)
            .unwrap_or_else(|| panic!("{n} stored"))
            .id
            .clone()
    };
    let big_id = id_of(&files, "Big archive.bin");
    let report_id = id_of(&files, "report.docx");
    // Through the Download links of their rows' menus.
    let download = |id: &str| {
        format!(
            "return document.querySelector('#listing tr[data-file=\"{id}\"] a[download]').getAttribute('href')"
        )
    };
    let href = b.script(&download(&big_id)).await;
    assert_eq!(
        fetched_sha256(b, href.as_str().expect("link")).await,
        sha256_hex(&big)
    );
    let href = b.script(&download(&report_id)).await;
    assert_eq!(
        fetched_sha256(b, href.as_str().expect("link")).await,
        sha256_hex(&pattern(SMALL, 2))
    );

    // The same name again: replace (a new version), keep both, skip.
    drop_file(b, "report.docx", 1000, 3).await;
    b.wait_for(
        "the question",
        "var d = document.getElementById('conflict'); return !!d && d.open",
    )
    .await;
    check_page(b, "name-exists").await;
    answer(b, "replace").await;
    let ups = uploads_settled(b, 3).await;
    assert_eq!(ups[2]["status"], "done", "{:?}", ups[2]);
    let f = s
        .state
        .meta
        .file(&report_id)
        .await
        .expect("db")
        .expect("file");
    assert_eq!(f.size, 1000, "replaced in place");
    assert_eq!(s.state.meta.versions(&report_id).await.expect("v").len(), 2);
    drop_file(b, "report.docx", 500, 4).await;
    answer(b, "keep").await;
    uploads_settled(b, 4).await;
    wait_listing(b, "report (2).docx").await;
    drop_file(b, "report.docx", 10, 5).await;
    answer(b, "skip").await;
    let ups = uploads_settled(b, 5).await;
    assert_eq!(ups[4]["status"], "skipped");
    assert_eq!(
        s.state
            .meta
            .file(&report_id)
            .await
            .expect("db")
            .expect("file")
            .size,
        1000
    );

    // Cancel: an upload slowed to 1 MB/s is stopped halfway and nothing is stored.
    cdp(b, "Network.enable", json!({})).await;
    cdp(
        b,
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_000_000 }),
    )
    .await;
    drop_file(b, "slow.bin", 8 * 1024 * 1024, 6).await;
    b.wait_for(
        "the slow upload to start",
        "var u = window.wopidUploads; return u.length === 6 && u[5].percent > 0",
    )
    .await;
    b.click("#uploads li:last-child button").await;
    let ups = uploads_settled(b, 6).await;
    assert_eq!(ups[5]["status"], "cancelled", "{:?}", ups[5]);
    cdp(
        b,
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await;
    let stored = s.state.meta.list_files(None).await.expect("files");
    assert!(
        stored.iter().all(|f| f.name != "slow.bin"),
        "a cancelled upload is not stored"
    );

    // Rename without the extension keeps it.
    b.goto(&format!("{}/browse/{}", s.base, f.container_id))
        .await;
    b.click(&format!("tr[data-file='{report_id}'] td.act summary"))
        .await;
    check_page(b, "folder-menu").await;
    let input = format!("#rn-{report_id}");
    let e = b.find(&input).await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{e}/clear"),
        Some(json!({})),
    )
    .await;
    b.type_into(&input, "Quarterly").await;
    b.click(&format!("tr[data-file='{report_id}'] form.rename button"))
        .await;
    b.wait_for(
        "the renamed file",
        "return !!document.querySelector('#listing tr[data-name=\"Quarterly.docx\"]')",
    )
    .await;
    check_page(b, "folder-renamed").await;

    // Sort by size (largest first) and filter by name, on the server and as you type.
    b.click("th.size a").await;
    b.wait_for(
        "sorted by size",
        "return location.search.indexOf('sort=size') >= 0",
    )
    .await;
    b.click("th.size a").await;
    b.wait_for(
        "largest first",
        "return location.search.indexOf('dir=desc') >= 0",
    )
    .await;
    let order = listed(b).await;
    assert_eq!(order[0], "Big archive.bin", "{order:?}");
    let sizes: Vec<u64> = {
        let files = s.state.meta.list_files(None).await.expect("files");
        order
            .iter()
            .filter_map(|n| files.iter().find(|f| &f.name == n).map(|f| f.size))
            .collect()
    };
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "{order:?} {sizes:?}"
    );
    b.type_into("#q", "quarter").await;
    assert_eq!(listed(b).await, ["Quarterly.docx"]);
    b.click("form.filter button").await;
    b.wait_for(
        "the server's filter",
        "return location.search.indexOf('q=quarter') >= 0",
    )
    .await;
    assert_eq!(listed(b).await, ["Quarterly.docx"]);
    check_page(b, "folder-filtered").await;

    // Select two files and download them as a zip.
    b.goto(&format!("{}/browse/{}", s.base, f.container_id))
        .await;
    let files = s.state.meta.list_files(None).await.expect("files");
    let kept_id = id_of(&files, "report (2).docx");
    b.click(&format!("input[name=item][value='f:{report_id}']"))
        .await;
    b.click(&format!("input[name=item][value='f:{kept_id}']"))
        .await;
    assert_eq!(
        b.script("return document.getElementById('selected').textContent")
            .await,
        "2 selected"
    );
    check_page(b, "folder-selected").await;
    let zip = script_async(
        b,
        "var data = new FormData(document.getElementById('bulk'));\n\
         data.append('action', 'zip');\n\
         fetch(document.getElementById('bulk').getAttribute('action'), { method: 'POST', body: new URLSearchParams(data), credentials: 'same-origin' })\n\
         .then(function (r) { if (!r.ok) { return r.text().then(function (t) { throw new Error(r.status + ' ' + t); }); } return r.arrayBuffer(); })\n\
         .then(function (buf) { var s = ''; new Uint8Array(buf).forEach(function (x) { s += String.fromCharCode(x); }); done(btoa(s)); }, function (e) { done('error: ' + e); });",
    )
    .await;
    let zip = zip.as_str().expect("base64");
    assert!(!zip.starts_with("error"), "{zip}");
    let zip = base64::engine::general_purpose::STANDARD
        .decode(zip)
        .expect("zip bytes");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.expect("name").to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["Quarterly.docx", "report (2).docx"]);
    let mut kept = Vec::new();
    std::io::Read::read_to_end(
        &mut archive.by_name("report (2).docx").expect("entry"),
        &mut kept,
    )
    .expect("read");
    assert_eq!(kept, pattern(500, 4));

    // Versions, the sharing page, and sharing with Bob.
    b.goto(&format!("{}/files/{report_id}/versions", s.base))
        .await;
    check_page(b, "versions").await;
    b.goto(&format!("{}/files/{report_id}/sharing", s.base))
        .await;
    check_page(b, "sharing").await;
    b.type_into("#share-user", "bob").await;
    b.click("form[action$='/share'] button").await;
    b.wait_for(
        "shared",
        "var n = document.querySelector('.notice'); return !!n && n.textContent.indexOf('Shared with bob.') >= 0",
    )
    .await;
    let bob = s
        .state
        .meta
        .user_by_login("bob")
        .await
        .expect("db")
        .expect("bob");
    assert_eq!(
        b.script(&format!(
            "return !!document.querySelector('[data-holder=\"{}\"]')",
            bob.id
        ))
        .await,
        true,
        "Bob is listed among who has access"
    );

    // The editor's host page, from the row of a file its editor opens.
    b.goto(&format!("{}/browse/{}", s.base, f.container_id))
        .await;
    let odt = id_of(&files, "Minutes.odt");
    b.click(&format!("tr[data-file='{odt}'] a.open")).await;
    b.wait_for(
        "the editor frame to load",
        "return document.body.getAttribute('data-editor-loaded') === 'true'",
    )
    .await;
    check_page(b, "host").await;

    // A page that does not exist.
    b.goto(&format!("{}/browse/nope", s.base)).await;
    check_page(b, "not-found").await;

    // Bob: "Shared with me", and the download is the same bytes.
    b.goto(&format!("{}/", s.base)).await;
    b.click("header form[action='/logout'] button").await;
    b.wait_for("signed out", "return location.pathname === '/login'")
        .await;
    sign_in(b, s, "bob", "bob-password").await;
    b.wait_for(
        "Shared with me",
        &format!("return !!document.querySelector('tr[data-shared-file=\"{report_id}\"]')"),
    )
    .await;
    check_page(b, "shared-with-me").await;
    let link = b
        .script(&format!(
            "return document.querySelector('tr[data-shared-file=\"{report_id}\"] a[download]').getAttribute('href')"
        ))
        .await;
    assert_eq!(
        fetched_sha256(b, link.as_str().expect("link")).await,
        sha256_hex(&pattern(1000, 3))
    );
}
