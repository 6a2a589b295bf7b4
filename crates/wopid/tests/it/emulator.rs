//! Editor emulators: a stand-in for Collabora Online, ONLYOFFICE Docs or Office for the web,
//! served by the test itself on 127.0.0.1:0. Each has its discovery document (written to a file
//! wopid reads, with the proof key of its fixture key pair), an editor page that receives the
//! access token the host page POSTs (and, like a real editor, then calls CheckFileInfo and tells
//! the host page it loaded), and a backend that talks WOPI to wopid the way the real editor does
//! (`shared/reference/editors.md`), signing every request with its proof keys.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest as _, Sha256};
use wopid::Clock as _;

use crate::harness::TestServer;
use crate::web::Browser;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Which editor is emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Collabora,
    OnlyOffice,
    Office,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Collabora => "collabora",
            Kind::OnlyOffice => "onlyoffice",
            Kind::Office => "office",
        }
    }
}

/// A fixture key pair (`tests/it/fixtures/NAME.pem`).
pub fn fixture_key(name: &str) -> RsaPrivateKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures")
        .join(format!("{name}.pem"));
    let pem = std::fs::read_to_string(&path).expect("fixture key");
    RsaPrivateKey::from_pkcs1_pem(&pem).expect("PKCS#1 PEM")
}

/// What the host page posted to the editor page.
#[derive(Debug, Clone)]
pub struct Session {
    /// The action URL's path and query, as the editor received it.
    pub action: String,
    pub wopi_src: String,
    pub token: String,
    pub ttl: i64,
}

/// How a request is signed (the proof-key headers).
#[derive(Clone)]
pub enum Signing {
    /// As the editor does: `X-WOPI-Proof` with its current key, `X-WOPI-ProofOld` with its old one.
    Normal,
    /// No proof headers at all.
    Unsigned,
    /// Random bytes where the signatures go.
    Forged,
    /// Properly signed, `age_ms` ago.
    Aged(i64),
    /// Properly signed, but over another URL.
    ForUrl(String),
    /// Both signatures made with another key.
    WithKey(Box<RsaPrivateKey>),
}

struct Keys {
    /// The key `X-WOPI-Proof` is signed with.
    current: RsaPrivateKey,
    /// The key `X-WOPI-ProofOld` is signed with (the current one when there is none).
    old: Option<RsaPrivateKey>,
    /// Sign `X-WOPI-ProofOld` with the current key too (older ONLYOFFICE builds).
    both_with_current: bool,
}

pub struct Emulator {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    /// Where wopid reads the discovery document.
    pub discovery_path: PathBuf,
    /// The keys discovery publishes (current, old).
    published: Mutex<(RsaPrivateKey, Option<RsaPrivateKey>)>,
    signing: Mutex<Keys>,
    sessions: Mutex<Vec<Session>>,
    /// Every WOPI call the backend made: (operation, status).
    pub log: Mutex<Vec<(String, u16)>>,
    /// wopid's (manual) clock, which the editor's clock agrees with; set by [`Emulator::attach`].
    clock: Mutex<Option<wopid::ManualClock>>,
    http: reqwest::Client,
    /// Discovery publishes no proof key (some editors are deployed without one).
    no_proof_key: std::sync::atomic::AtomicBool,
}

impl Emulator {
    /// Starts the emulator's web server; its discovery (signed by `key`) is written into `dir`.
    pub async fn start(kind: Kind, key: &str, dir: &Path) -> Arc<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let current = fixture_key(key);
        let emu = Arc::new(Self {
            kind,
            origin,
            discovery_path: dir.join(format!("{}-discovery.xml", kind.name())),
            published: Mutex::new((current.clone(), None)),
            signing: Mutex::new(Keys {
                current,
                old: None,
                both_with_current: false,
            }),
            sessions: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            clock: Mutex::new(None),
            no_proof_key: std::sync::atomic::AtomicBool::new(false),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        });
        emu.write_discovery();
        let app = axum::Router::new()
            .fallback(editor_page)
            .with_state(emu.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        emu
    }

    /// Shares the clock of the wopid it talks to.
    pub fn attach(&self, s: &TestServer) {
        *self.clock.lock().expect("clock") = Some(s.clock.clone());
    }

    /// The `[[editors]]` entry for wopid: discovery from the file, proofs required.
    pub fn config(&self) -> wopid::config::EditorConfig {
        wopid::config::EditorConfig {
            name: self.kind.name().to_owned(),
            discovery: self.discovery_path.display().to_string(),
            proof: wopid::config::ProofMode::Required,
            default_for: Vec::new(),
        }
    }

    /// Rotates the keys: discovery publishes `new` as current and the previous current key as
    /// old, and the editor signs `X-WOPI-Proof` with `new`, `X-WOPI-ProofOld` with the old one.
    pub fn rotate(&self, new: &str) {
        let new = fixture_key(new);
        let previous = self.published.lock().expect("keys").0.clone();
        *self.published.lock().expect("keys") = (new.clone(), Some(previous.clone()));
        *self.signing.lock().expect("keys") = Keys {
            current: new,
            old: Some(previous),
            both_with_current: false,
        };
        self.write_discovery();
    }

    /// From now on, discovery publishes no proof key.
    pub fn drop_proof_key(&self) {
        self.no_proof_key
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.write_discovery();
    }

    /// Signs the way an editor machine that has not rotated yet does: with the (now) old key.
    pub fn sign_as_lagging_machine(&self) {
        let (cur, old) = self.published.lock().expect("keys").clone();
        *self.signing.lock().expect("keys") = Keys {
            current: old.clone().unwrap_or_else(|| cur.clone()),
            old: None,
            both_with_current: false,
        };
    }

    /// Signs both proofs with the current key (older ONLYOFFICE builds).
    pub fn sign_both_with_current(&self) {
        self.signing.lock().expect("keys").both_with_current = true;
    }

    pub fn published_current(&self) -> rsa::RsaPublicKey {
        self.published.lock().expect("keys").0.to_public_key()
    }

    /// Where the host page should post to: the emulator's URL templates.
    fn urlsrc(&self, ext_app: &str, action: &str) -> String {
        let o = &self.origin;
        match self.kind {
            // Collabora's templates carry no placeholders; hosts append WOPISrc.
            Kind::Collabora => format!("{o}/browser/e2e/cool.html?"),
            Kind::OnlyOffice => format!(
                "{o}/hosting/wopi/{ext_app}/{action}?&amp;&lt;rs=DC_LLCC&amp;&gt;&lt;dchat=DISABLE_CHAT&amp;&gt;\
                 &lt;embed=EMBEDDED&amp;&gt;&lt;fs=FULLSCREEN&amp;&gt;&lt;hid=HOST_SESSION_ID&amp;&gt;\
                 &lt;lang=UI_LLCC&amp;&gt;&lt;rec=RECORDING&amp;&gt;&lt;sc=SESSION_CONTEXT&amp;&gt;\
                 &lt;thm=THEME_ID&amp;&gt;&lt;ui=UI_LLCC&amp;&gt;&lt;wopisrc=WOPI_SOURCE&amp;&gt;&amp;"
            ),
            Kind::Office => {
                let page = match (ext_app, action) {
                    ("word", "edit") => "we/wordeditorframe.aspx",
                    ("word", _) => "wv/wordviewerframe.aspx",
                    (_, _) => "x/_layouts/xlviewerinternal.aspx",
                };
                format!(
                    "{o}/{page}?&lt;ui=UI_LLCC&amp;&gt;&lt;rs=DC_LLCC&amp;&gt;&lt;dchat=DISABLE_CHAT&amp;&gt;\
                     &lt;hid=HOST_SESSION_ID&amp;&gt;&lt;sc=SESSION_CONTEXT&amp;&gt;&lt;wopisrc=WOPI_SOURCE&amp;&gt;\
                     &lt;showpagestats=PERFSTATS&amp;&gt;&lt;IsLicensedUser=BUSINESS_USER&amp;&gt;"
                )
            }
        }
    }

    fn discovery_xml(&self) -> String {
        let (cur, old) = self.published.lock().expect("keys").clone();
        let be = |n: &rsa::BigUint| B64.encode(n.to_bytes_be());
        let mut proof = format!(
            r#"<proof-key modulus="{}" exponent="{}""#,
            be(cur.n()),
            be(cur.e())
        );
        if let Some(old) = &old {
            proof.push_str(&format!(
                r#" oldmodulus="{}" oldexponent="{}""#,
                be(old.n()),
                be(old.e())
            ));
        }
        proof.push_str("/>");
        if self.no_proof_key.load(std::sync::atomic::Ordering::SeqCst) {
            proof.clear();
        }
        // (app name, URL kind, extensions)
        type Apps = &'static [(&'static str, &'static str, &'static [&'static str])];
        let (zone, apps): (&str, Apps) = match self.kind {
            Kind::Collabora => (
                "external-http",
                &[
                    ("writer", "word", &["odt", "docx", "txt"]),
                    ("calc", "cell", &["ods", "xlsx"]),
                ],
            ),
            Kind::OnlyOffice => (
                "external-http",
                &[
                    ("Word", "word", &["docx", "odt", "txt"]),
                    ("Excel", "cell", &["xlsx"]),
                ],
            ),
            Kind::Office => (
                "external-http",
                &[("Word", "word", &["docx"]), ("Excel", "excel", &["xlsx"])],
            ),
        };
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<wopi-discovery>\n<net-zone name=\"{zone}\">\n"
        );
        for (app, key, exts) in apps {
            xml.push_str(&format!(
                "<app name=\"{app}\" favIconUrl=\"{}/favicon.ico\">\n",
                self.origin
            ));
            for ext in *exts {
                // ONLYOFFICE, like Office for the web, also offers `editnew` for its OOXML types.
                let editnew = self.kind == Kind::OnlyOffice && matches!(*ext, "docx" | "xlsx");
                let actions: &[&str] = if editnew {
                    &["view", "edit", "editnew"]
                } else {
                    &["view", "edit"]
                };
                for &action in actions {
                    let requires = if action.starts_with("edit") {
                        " requires=\"locks,update\""
                    } else {
                        ""
                    };
                    xml.push_str(&format!(
                        "<action name=\"{action}\" ext=\"{ext}\"{requires} urlsrc=\"{}\"/>\n",
                        self.urlsrc(key, action)
                    ));
                }
            }
            xml.push_str("</app>\n");
        }
        xml.push_str(&format!("</net-zone>\n{proof}\n</wopi-discovery>\n"));
        xml
    }

    fn write_discovery(&self) {
        let tmp = self.discovery_path.with_extension("tmp");
        #[allow(clippy::disallowed_methods)]
        std::fs::write(&tmp, self.discovery_xml()).expect("write discovery");
        #[allow(clippy::disallowed_methods)]
        std::fs::rename(&tmp, &self.discovery_path).expect("install discovery");
    }

    /// The sessions host pages posted, oldest first.
    pub fn sessions(&self) -> Vec<Session> {
        self.sessions.lock().expect("sessions").clone()
    }

    pub fn log(&self) -> Vec<(String, u16)> {
        self.log.lock().expect("log").clone()
    }

    /// A WOPI call of the backend: `suffix` after the WopiSrc ("" or "/contents").
    pub fn call<'a>(&'a self, s: &'a Session, method: reqwest::Method, suffix: &str) -> Call<'a> {
        Call {
            emu: self,
            session: s,
            method,
            suffix: suffix.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            signing: Signing::Normal,
            bearer_only: false,
            op: String::new(),
        }
    }

    pub fn get<'a>(&'a self, s: &'a Session, suffix: &str) -> Call<'a> {
        let op = if suffix.is_empty() {
            "CheckFileInfo"
        } else {
            "GetFile"
        };
        let mut c = self.call(s, reqwest::Method::GET, suffix);
        c.op = op.to_owned();
        c
    }

    /// `POST` with `X-WOPI-Override`.
    pub fn post<'a>(&'a self, s: &'a Session, suffix: &str, override_: &str) -> Call<'a> {
        let mut c = self
            .call(s, reqwest::Method::POST, suffix)
            .header("X-WOPI-Override", override_);
        c.op = override_.to_owned();
        c
    }

    /// CheckFileInfo, which must succeed.
    pub async fn check_file_info(&self, s: &Session) -> serde_json::Value {
        let r = self.get(s, "").send().await;
        assert_eq!(
            r.status(),
            200,
            "{} CheckFileInfo: {:?}",
            self.kind.name(),
            r.headers().get("x-wopi-servererror")
        );
        r.json().await.expect("CheckFileInfo JSON")
    }

    fn sign(&self, token: &str, url: &str, signing: &Signing) -> Vec<(&'static str, String)> {
        let now = self
            .clock
            .lock()
            .expect("clock")
            .as_ref()
            .expect("attached to a wopid")
            .now_ms();
        let (at, url) = match signing {
            Signing::Unsigned => return Vec::new(),
            Signing::Aged(age) => (now - age, url.to_owned()),
            Signing::ForUrl(other) => (now, other.clone()),
            _ => (now, url.to_owned()),
        };
        let ticks = wopid_proto::proof::unix_ms_to_ticks(at);
        let digest = Sha256::digest(wopid_proto::proof::signed_bytes(token, &url, ticks));
        let sign_with = |k: &RsaPrivateKey| {
            B64.encode(
                k.sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
                    .expect("sign"),
            )
        };
        let (proof, old) = match signing {
            Signing::Forged => {
                let junk: Vec<u8> = (0..256u32).map(|i| (i * 7 + 3) as u8).collect();
                (B64.encode(&junk), B64.encode(&junk))
            }
            Signing::WithKey(k) => (sign_with(k), sign_with(k)),
            _ => {
                let keys = self.signing.lock().expect("keys");
                let old = match (&keys.old, keys.both_with_current) {
                    (Some(o), false) => sign_with(o),
                    _ => sign_with(&keys.current),
                };
                (sign_with(&keys.current), old)
            }
        };
        vec![
            ("X-WOPI-Proof", proof),
            ("X-WOPI-ProofOld", old),
            ("X-WOPI-TimeStamp", ticks.to_string()),
        ]
    }
}

/// One WOPI request of an emulator's backend.
pub struct Call<'a> {
    emu: &'a Emulator,
    session: &'a Session,
    method: reqwest::Method,
    suffix: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    signing: Signing,
    bearer_only: bool,
    op: String,
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn signing(mut self, signing: Signing) -> Self {
        self.signing = signing;
        self
    }

    /// The token only in `Authorization: Bearer`, not in the query.
    pub fn bearer_only(mut self) -> Self {
        self.bearer_only = true;
        self
    }

    /// The URL as the editor builds it from WopiSrc and the token.
    pub fn url(&self) -> String {
        let base = format!("{}{}", self.session.wopi_src, self.suffix);
        if self.bearer_only {
            return base;
        }
        match self.emu.kind {
            // Collabora appends the token's lifetime as well.
            Kind::Collabora => format!(
                "{base}?access_token={}&access_token_ttl={}",
                self.session.token, self.session.ttl
            ),
            _ => format!("{base}?access_token={}", self.session.token),
        }
    }

    pub async fn send(self) -> reqwest::Response {
        let url = self.url();
        let mut req = self
            .emu
            .http
            .request(self.method.clone(), &url)
            .body(self.body.clone());
        for (k, v) in self.emu.sign(&self.session.token, &url, &self.signing) {
            req = req.header(k, v);
        }
        req = match self.emu.kind {
            Kind::Collabora => req
                .header("User-Agent", "COOLWSD HTTP Agent 24.04.9.2")
                .header("Authorization", format!("Bearer {}", self.session.token))
                .header("X-COOL-WOPI-ServerId", "e2e0c0de"),
            Kind::OnlyOffice => req
                .header("Authorization", format!("Bearer {}", self.session.token))
                .header("X-WOPI-ClientVersion", "8.2.0.143"),
            Kind::Office => {
                let r = req
                    .header(
                        "X-WOPI-CorrelationId",
                        "3b2c9a61-6f2e-4bde-9b59-1e51c2a7b0d4",
                    )
                    .header("X-WOPI-SessionId", "9f8e7d6c-0000-4000-8000-5e5510000001")
                    .header("X-WOPI-RequestingApplication", "Word");
                if self.bearer_only {
                    r.header("Authorization", format!("Bearer {}", self.session.token))
                } else {
                    r
                }
            }
        };
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let r = req.send().await.expect("WOPI request");
        self.emu
            .log
            .lock()
            .expect("log")
            .push((self.op.clone(), r.status().as_u16()));
        r
    }
}

#[derive(serde::Deserialize)]
struct Posted {
    access_token: String,
    access_token_ttl: i64,
}

/// The editor page: receives the host page's POST, loads the document's info from wopid (a
/// signed CheckFileInfo, as every editor does first) and tells the host page it has loaded.
async fn editor_page(
    State(emu): State<Arc<Emulator>>,
    uri: Uri,
    Form(posted): Form<Posted>,
) -> Response {
    let query = uri.query().unwrap_or_default();
    let Some(wopi_src) = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("wopisrc"))
        .map(|(_, v)| v.into_owned())
    else {
        return (StatusCode::BAD_REQUEST, "no WOPISrc").into_response();
    };
    let session = Session {
        action: uri.to_string(),
        wopi_src,
        token: posted.access_token,
        ttl: posted.access_token_ttl,
    };
    emu.sessions.lock().expect("sessions").push(session.clone());
    let r = emu.get(&session, "").send().await;
    if r.status() != 200 {
        return (
            StatusCode::BAD_GATEWAY,
            format!("CheckFileInfo: {}", r.status()),
        )
            .into_response();
    }
    let info: serde_json::Value = r.json().await.unwrap_or_default();
    let name = info["BaseFileName"].as_str().unwrap_or_default();
    let target = serde_json::to_string(info["PostMessageOrigin"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let escaped = name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(format!(
        "<!doctype html><html><head><title>{escaped}</title></head><body>\
         <p id=\"doc\">{escaped}</p><script>\
         window.parent.postMessage(JSON.stringify({{MessageId: \"App_LoadingStatus\", SendTime: Date.now(), \
         Values: {{DocumentLoadedTime: Date.now()}}}}), {target});\
         </script></body></html>"
    ))
    .into_response()
}

/// The host page's form: (action URL, access_token, access_token_ttl).
pub fn host_form(html: &str) -> (String, String, String) {
    let unescape = |s: &str| {
        s.replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#47;", "/")
            .replace("&#x2f;", "/")
            .replace("&#x2F;", "/")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
    };
    let attr = |after: &str, name: &str| -> String {
        let start = html.find(after).expect("form element");
        let rest = &html[start..];
        let v = rest
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("attribute");
        unescape(v)
    };
    let action = attr("<form id=\"office_form\"", "action");
    let input = |field: &str| {
        let marker = format!("name=\"{field}\" value=\"");
        unescape(
            html.split(&marker)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("hidden input"),
        )
    };
    (action, input("access_token"), input("access_token_ttl"))
}

/// Opens a file through wopid's host page, as a signed-in browser would, and delivers the form
/// to the emulator's editor page. Returns the session the editor received.
pub async fn open(
    s: &TestServer,
    b: &Browser,
    emu: &Emulator,
    file_id: &str,
    mode: &str,
) -> Session {
    let r = b
        .get(&format!(
            "/files/{file_id}/{mode}?editor={}",
            emu.kind.name()
        ))
        .await;
    assert_eq!(r.status(), 200, "host page");
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains(&format!("frame-src {}", emu.origin)),
        "the host page frames the editor: {csp}"
    );
    let html = r.text().await.expect("html");
    let (action, token, ttl) = host_form(&html);
    assert!(
        action.starts_with(&emu.origin),
        "{action} is the editor's page"
    );
    let before = emu.sessions().len();
    let page = reqwest::Client::new()
        .post(&action)
        .form(&[("access_token", &token), ("access_token_ttl", &ttl)])
        .send()
        .await
        .expect("post to the editor");
    assert_eq!(
        page.status(),
        200,
        "the editor page loaded: {action} {:?}",
        page.text().await
    );
    let sessions = emu.sessions();
    assert_eq!(sessions.len(), before + 1);
    let session = sessions.last().expect("session").clone();
    assert_eq!(session.wopi_src, s.state.wopi_src(file_id));
    assert_eq!(session.token, token);
    session
}
