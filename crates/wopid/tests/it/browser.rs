//! A real headless Chromium, driven over WebDriver (chromedriver on a loopback port): sign in,
//! upload a file, open it in an editor (the Collabora emulator), see the editor frame load; and
//! a postMessage from a foreign origin is ignored by the host page.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes locally, and fails when `CI` is set.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::emulator::{Emulator, Kind};
use crate::harness::TestServer;
use crate::web::user;

/// Every wait in this test ends within this.
pub(crate) const WAIT: Duration = Duration::from_secs(30);
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub(crate) fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver, killed when the test ends.
pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session (W3C JSON protocol).
pub(crate) struct Session {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
}

impl Session {
    pub(crate) async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("webdriver");
        let status = r.status();
        let v: Value = r.json().await.expect("webdriver json");
        assert!(status.is_success(), "webdriver {path}: {v}");
        v["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT].as_str().expect("element id").to_owned()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub(crate) async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub(crate) async fn script(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub(crate) async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Polls `script` until it returns true, within [`WAIT`].
    pub(crate) async fn wait_for(&self, what: &str, script: &str) {
        let start = Instant::now();
        loop {
            if self.script(script).await == Value::Bool(true) {
                return;
            }
            assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A page on a second origin that opens the host page in a new window and keeps posting it
/// messages the host page must ignore (it is not the editor).
async fn foreign_origin() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let page = r#"<!doctype html><html><head><title>sent 0</title></head><body><script>
var target = new URLSearchParams(location.search).get("target");
var w = window.open(target, "hostwin");
var n = 0;
setInterval(function () {
  try {
    w.postMessage(JSON.stringify({MessageId: "UI_Close", SendTime: Date.now(), Values: {}}), "*");
    w.postMessage(JSON.stringify({MessageId: "File_Rename", SendTime: Date.now(), Values: {NewName: "pwned"}}), "*");
    w.postMessage(JSON.stringify({MessageId: "App_LoadingStatus", SendTime: Date.now(), Values: {}}), "*");
    n += 1;
    document.title = "sent " + n;
  } catch (e) {}
}, 100);
</script></body></html>"#;
    let app = axum::Router::new().fallback(move || async move { axum::response::Html(page) });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    origin
}

#[tokio::test]
async fn sign_in_upload_and_open_in_an_editor_in_chromium() {
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

    // The editor and wopid.
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emulator::start(Kind::Collabora, "collabora", dir.path()).await;
    let s = TestServer::start_with_editors(vec![emu.config()], |_| {}).await;
    emu.attach(&s);
    user(&s, "alice", "alice-password").await;
    let upload = dir.path().join("Quarterly report.odt");
    #[allow(clippy::disallowed_methods)]
    std::fs::write(&upload, b"PK\x03\x04 uploaded from chromium").expect("upload file");

    let (_driver, b, _profile) = start_browser(&chromium, &chromedriver).await;
    let http = b.http.clone();
    // End the browser session (and so Chromium) whatever happens, then report.
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(flow(
        &b, &s, &emu, &upload,
    )))
    .await;
    let _ = http.delete(b.url.clone()).send().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn flow(b: &Session, s: &TestServer, emu: &Emulator, upload: &std::path::Path) {
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

    // Upload with the file picker (the page's script sends it as soon as it is chosen).
    b.type_into("input[type=file][name=file]", &upload.display().to_string())
        .await;
    b.wait_for(
        "the uploaded file",
        "return !!document.querySelector('#listing tr[data-name=\"Quarterly report.odt\"]')",
    )
    .await;
    let files = s.state.meta.list_files(None).await.expect("files");
    let file = files
        .iter()
        .find(|f| f.name == "Quarterly report.odt")
        .expect("uploaded");
    assert_eq!(file.size, b"PK\x03\x04 uploaded from chromium".len() as u64);

    // "Open in collabora": the host page frames the editor, which loads and says so.
    b.click(&format!(
        "a[href='/files/{}/edit?editor=collabora']",
        file.id
    ))
    .await;
    b.wait_for(
        "the editor frame to load",
        "return document.body.getAttribute('data-editor-loaded') === 'true'",
    )
    .await;
    let received = b.script("return window.wopidHost.received.join(',')").await;
    assert_eq!(received, "App_LoadingStatus");
    assert!(
        emu.log()
            .iter()
            .any(|(op, st)| op == "CheckFileInfo" && *st == 200),
        "the editor's backend loaded the file: {:?}",
        emu.log()
    );
    let host_page = b.current_url().await;
    let sessions = emu.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].wopi_src, s.state.wopi_src(&file.id));

    // A second origin opens the host page and posts UI_Close, File_Rename, App_LoadingStatus:
    // all ignored (the editor from that page still loads, and nothing else happens).
    let foreign = foreign_origin().await;
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("target", &host_page)
        .finish();
    b.goto(&format!("{foreign}/evil?{q}")).await;
    let opener = b
        .cmd(reqwest::Method::GET, "/window", None)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let start = Instant::now();
    let popup = loop {
        let handles = b.cmd(reqwest::Method::GET, "/window/handles", None).await;
        if let Some(h) = handles
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|h| *h != opener)
        {
            break h.to_owned();
        }
        assert!(start.elapsed() < WAIT, "the foreign page opened no window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    b.cmd(
        reqwest::Method::POST,
        "/window",
        Some(json!({ "handle": popup })),
    )
    .await;
    b.wait_for(
        "the editor frame to load in the opened window",
        "return document.body.getAttribute('data-editor-loaded') === 'true'",
    )
    .await;
    // Let the foreign page post a good number of messages after the host page loaded.
    b.cmd(
        reqwest::Method::POST,
        "/window",
        Some(json!({ "handle": opener })),
    )
    .await;
    let sent_before: i64 = b
        .script("return parseInt(document.title.split(' ')[1], 10)")
        .await
        .as_i64()
        .unwrap_or_default();
    b.wait_for(
        "the foreign page to post more messages",
        &format!(
            "return parseInt(document.title.split(' ')[1], 10) >= {}",
            sent_before + 10
        ),
    )
    .await;
    b.cmd(
        reqwest::Method::POST,
        "/window",
        Some(json!({ "handle": popup })),
    )
    .await;
    assert_eq!(b.current_url().await, host_page, "UI_Close was ignored");
    assert_eq!(
        b.script("return document.title").await,
        "Quarterly report.odt",
        "File_Rename was ignored"
    );
    assert_eq!(
        b.script("return window.wopidHost.received.join(',')").await,
        "App_LoadingStatus",
        "only the editor's own message was handled"
    );
}

/// chromedriver on a free loopback port and a headless Chromium session of it (with its profile
/// folder); all of them end when dropped or deleted.
pub(crate) async fn start_browser(
    chromium: &std::path::Path,
    chromedriver: &std::path::Path,
) -> (Driver, Session, tempfile::TempDir) {
    // chromedriver on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let driver_process = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let http = reqwest::Client::builder()
        .timeout(WAIT * 2)
        .build()
        .expect("client");
    let driver = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let ready = http
            .get(format!("{driver}/status"))
            .send()
            .await
            .ok()
            .map(|r| r.json::<Value>());
        if let Some(v) = ready
            && v.await.is_ok_and(|v| v["value"]["ready"] == true)
        {
            break;
        }
        assert!(start.elapsed() < WAIT, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "pageLoad": 30000, "script": 30000, "implicit": 5000 },
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    }}});
    let r = http
        .post(format!("{driver}/session"))
        .json(&caps)
        .send()
        .await
        .expect("new session");
    let v: Value = r.json().await.expect("json");
    let id = v["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
        .to_owned();
    let b = Session {
        http: http.clone(),
        url: format!("{driver}/session/{id}"),
    };
    (driver_process, b, profile)
}
