//! Single sign-on through a real, certified OpenID provider in headless Chromium: the npm
//! package `oidc-provider` (`tests/oidc/provider.js`, run by Node.js on a loopback port, with its
//! development sign-in pages). The web UI's sign-in, the bootstrapper's sign-in of a native
//! client ending in a Bootstrap response, a user outside the allowed groups, and a provider
//! configured under the wrong issuer; with password sign-in switched off.
//!
//! Needs Node.js with `npm ci` run in `tests/oidc`, Chromium and chromedriver (`.ci/run` sets
//! them up). Without them the test says so and passes locally, and fails when `CI` is set.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Session, WAIT, find, start_browser};
use crate::harness::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-longer-than-43";

/// The provider's process, killed when the test ends.
struct Op {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    issuer: String,
}

impl Drop for Op {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Op {
    fn start(node: &Path, dir: &Path) -> Self {
        let mut child = Command::new(node)
            .arg("provider.js")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut op = Self {
            child,
            stdin,
            lines,
            issuer: String::new(),
        };
        let line = op.expect_line("ISSUER ");
        op.issuer = line.trim_start_matches("ISSUER ").to_owned();
        op
    }

    /// The next line starting with `prefix`, within [`WAIT`].
    fn expect_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!("the provider did not say {prefix:?}: {e}"),
            }
        }
    }

    /// Registers wopid as the provider's client and waits until it serves.
    fn register(&mut self, client: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{client}").expect("write client");
        stdin.flush().expect("flush");
        self.expect_line("READY");
    }
}

/// Serves the native client's redirect URI, so that the browser lands on a page (and its URL
/// with the code) rather than on an error.
async fn native_redirect() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/native", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(|| async {
        axum::response::Html("<!doctype html><title>native client</title><p>signed in</p>")
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// Goes through the provider's pages (sign-in with `login`, then consent) until the browser is
/// at a URL starting with `until`.
async fn through_provider(b: &Session, op: &str, login: &str, until: &str) -> String {
    let start = Instant::now();
    loop {
        let url = b.current_url().await;
        if url.starts_with(until) {
            return url;
        }
        if url.starts_with(&format!("{op}/")) {
            let has_login = b
                .script("return document.querySelector(\"input[name='login']\") !== null")
                .await
                == Value::Bool(true);
            let has_button = b
                .script("return document.querySelector(\"button[type='submit']\") !== null")
                .await
                == Value::Bool(true);
            if has_login {
                b.type_into("input[name='login']", login).await;
                b.type_into("input[name='password']", "any password").await;
                b.click("button[type='submit']").await;
            } else if has_button {
                b.click("button[type='submit']").await;
            }
        }
        if start.elapsed() > WAIT {
            let text = b.script("return document.body.innerText").await;
            panic!("stuck at {url} on the way to {until}: {text}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn single_sign_on_through_oidc_provider_in_chromium() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc");
    let node = find("WOPID_NODE", &["node", "nodejs"]);
    let chromium = find(
        "WOPID_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find("WOPID_CHROMEDRIVER", &["chromedriver"]);
    let installed = dir.join("node_modules/oidc-provider").is_dir();
    let (Some(node), Some(chromium), Some(chromedriver), true) =
        (node, chromium, chromedriver, installed)
    else {
        let why = "needs node with `npm ci` run in tests/oidc, chromium and chromedriver";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the single sign-on test: {why}"
        );
        eprintln!("SKIPPED single sign-on browser test: {why}");
        return;
    };

    let mut op = Op::start(&node, &dir);
    let issuer = op.issuer.clone();
    let provider = |name: &str, issuer: &str| wopid::config::OidcConfig {
        name: name.into(),
        label: Some(format!("Sign in with {name}")),
        issuer: issuer.into(),
        client_id: "wopid".into(),
        client_secret: Some(wopid::config::Secret::new("wopid-test-secret")),
        client_secret_file: None,
        scopes: vec!["profile".into(), "email".into(), "groups".into()],
        username_claim: "preferred_username".into(),
        groups_claim: "groups".into(),
        allowed_groups: vec!["office".into()],
    };
    let (good, wrong) = (
        provider("op", &issuer),
        // The provider's own issuer is without the trailing slash.
        provider("wrong", &format!("{issuer}/")),
    );
    let s = TestServer::start_with(|c| {
        c.oidc = vec![good, wrong];
        c.password_sign_in = false;
        c.oauth_provider_id = Some("tpwopid".into());
    })
    .await;
    let native = native_redirect().await;
    s.state
        .meta
        .add_oauth_client(&wopid_store::OAuthClient {
            id: "office".into(),
            name: "Office".into(),
            redirect_uri: native.clone(),
            require_pkce: true,
        })
        .await
        .expect("client");
    op.register(&json!({
        "client_id": "wopid",
        "client_secret": "wopid-test-secret",
        "redirect_uris": [
            format!("{}/oidc/op/callback", s.base),
            format!("{}/oidc/wrong/callback", s.base),
        ],
    }));

    // A provider configured under another issuer than the one it states is refused before the
    // browser is sent anywhere.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = plain
        .get(format!("{}/oidc/wrong/start", s.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 502);
    assert!(header(&r, "location").is_none());

    let (_driver, b, _profile) = start_browser(&chromium, &chromedriver).await;
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(flow(
        &b, &s, &issuer, &native,
    )))
    .await;
    let _ = b.http.delete(b.url.clone()).send().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn flow(b: &Session, s: &TestServer, issuer: &str, native: &str) {
    // 1. The web UI: the sign-in page offers the provider (and no password form).
    b.goto(&format!("{}/login", s.base)).await;
    assert_eq!(
        b.script("return document.querySelector(\"input[name='password']\") === null")
            .await,
        Value::Bool(true)
    );
    b.click("a#oidc-1").await;
    let url = through_provider(b, issuer, "id-alice", &format!("{}/browse/", s.base)).await;
    assert!(url.starts_with(&format!("{}/browse/", s.base)), "{url}");
    let uid = s
        .state
        .meta
        .oidc_user(issuer, "id-alice")
        .await
        .expect("link")
        .expect("alice is linked by her sub");
    let alice = s.state.meta.user(&uid).await.expect("user").expect("user");
    assert_eq!(alice.login, "alice");
    assert_eq!(alice.display_name, "alice Example");
    b.wait_for(
        "the signed-in user's folder",
        "return document.body.innerText.includes('alice')",
    )
    .await;

    // 2. A user outside the allowed groups is turned away, and not created.
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    b.goto(&format!("{}/login", s.base)).await;
    b.click("a#oidc-1").await;
    through_provider(
        b,
        issuer,
        "id-outsider",
        &format!("{}/oidc/op/callback", s.base),
    )
    .await;
    b.wait_for(
        "the refusal",
        "return document.body.innerText.includes('not in a group allowed')",
    )
    .await;
    assert_eq!(
        s.state
            .meta
            .oidc_user(issuer, "id-outsider")
            .await
            .expect("link"),
        None
    );
    assert_eq!(
        s.state.meta.user_by_login("outsider").await.expect("u"),
        None
    );

    // 3. A native client: the bootstrapper's sign-in page offers the provider, which signs Bob
    //    in; the client gets wopid's code, exchanges it and bootstraps as Bob.
    b.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    let challenge = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
    };
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "office")
        .append_pair("redirect_uri", native)
        .append_pair("state", "native-state")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    b.goto(&format!("{}/oauth2/authorize?{q}", s.base)).await;
    b.click("a#oidc-1").await;
    let url = through_provider(b, issuer, "id-bob", native).await;
    let params: Vec<(String, String)> =
        form_urlencoded::parse(url.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("state"), "native-state");
    let code = get("code");
    assert!(!code.is_empty(), "{url}");
    let tok: Value = s
        .http
        .post(format!("{}/oauth2/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", native),
            ("client_id", "office"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let access = tok["access_token"].as_str().expect("access token");
    let boot = s
        .http
        .get(format!("{}/wopibootstrapper", s.base))
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .expect("send");
    assert_eq!(boot.status(), 200);
    let v: Value = boot.json().await.expect("json");
    assert_eq!(v["Bootstrap"]["SignInName"], "bob");
    assert_eq!(v["Bootstrap"]["UserFriendlyName"], "bob Example");
    let bob = s
        .state
        .meta
        .oidc_user(issuer, "id-bob")
        .await
        .expect("link")
        .expect("bob is linked");
    assert_eq!(v["Bootstrap"]["UserId"], bob);
}
