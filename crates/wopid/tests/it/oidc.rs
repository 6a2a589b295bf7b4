//! Sign-in through an OpenID Connect provider, against a small provider served by the test on
//! 127.0.0.1:0 (discovery, JWKS, token endpoint) that signs the ID token each test asks for:
//! the cases a real provider cannot be made to produce (expired ID token, a signature by another
//! key, a token of another issuer, a replayed nonce). `oidc_provider.rs` signs in through a
//! real certified provider in Chromium.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine as _;
use rsa::RsaPrivateKey;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use wopid::Clock as _;

use crate::emulator::{Emulator, Kind, fixture_key, open};
use crate::harness::*;
use crate::web::{Browser, user};

const CLIENT: &str = "wopid-test";
const REDIRECT: &str = "https://localhost/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-longer-than-43";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The test's provider.
struct Idp {
    issuer: String,
    key: RsaPrivateKey,
    /// The ID token the token endpoint hands out next.
    id_token: Mutex<Option<String>>,
    /// The forms the token endpoint received.
    requests: Mutex<Vec<HashMap<String, String>>>,
    /// wopid's (manual) clock.
    clock: Mutex<Option<wopid::ManualClock>>,
}

impl Idp {
    async fn start() -> Arc<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        let idp = Arc::new(Self {
            issuer,
            key: fixture_key("office"),
            id_token: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            clock: Mutex::new(None),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(idp.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        idp
    }

    /// An RS256 JWT of these claims, signed with `key` under the published key id.
    fn sign(&self, claims: &Value, key: &RsaPrivateKey) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
        let sig = signer.sign(input.as_bytes()).to_vec();
        format!("{input}.{}", b64(&sig))
    }

    /// The claims of a good ID token for this sign-in.
    fn claims(&self, sub: &str, name: &str, nonce: &str) -> Value {
        let now = self.now();
        json!({
            "iss": self.issuer,
            "sub": sub,
            "aud": CLIENT,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "preferred_username": name,
            "name": format!("{name} Example"),
            "email": format!("{name}@example.org"),
            "groups": ["office", "staff"],
        })
    }

    /// wopid's clock, which judges the tokens' lifetimes, in seconds.
    fn now(&self) -> i64 {
        self.clock
            .lock()
            .expect("lock")
            .as_ref()
            .map_or(0, |c| c.now_ms() / 1000)
    }

    fn next(&self, claims: &Value) {
        let t = self.sign(claims, &self.key);
        *self.id_token.lock().expect("lock") = Some(t);
    }

    fn next_raw(&self, token: String) {
        *self.id_token.lock().expect("lock") = Some(token);
    }
}

async fn discovery(State(idp): State<Arc<Idp>>) -> axum::Json<Value> {
    let i = &idp.issuer;
    axum::Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(idp): State<Arc<Idp>>) -> axum::Json<Value> {
    let public = idp.key.to_public_key();
    axum::Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
        "n": b64(&public.n().to_bytes_be()),
        "e": b64(&public.e().to_bytes_be()),
    }]}))
}

async fn token(
    State(idp): State<Arc<Idp>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> axum::Json<Value> {
    idp.requests.lock().expect("lock").push(form);
    let id_token = idp.id_token.lock().expect("lock").clone();
    axum::Json(json!({
        "access_token": "provider-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}

struct Rig {
    s: TestServer,
    idp: Arc<Idp>,
    http: reqwest::Client,
}

/// What the provider's authorization URL carried, and the cookie of the sign-in in progress.
struct Started {
    cookie: String,
    state: String,
    nonce: String,
    query: HashMap<String, String>,
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

impl Rig {
    async fn start(tweak: impl FnOnce(&mut wopid::Config)) -> Self {
        Self::start_with_editors(Vec::new(), tweak).await
    }

    async fn start_with_editors(
        editors: Vec<wopid::config::EditorConfig>,
        tweak: impl FnOnce(&mut wopid::Config),
    ) -> Self {
        let idp = Idp::start().await;
        let provider = wopid::config::OidcConfig {
            name: "corp".into(),
            label: Some("Company account".into()),
            issuer: idp.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: Some(wopid::config::Secret::new("s3cret")),
            client_secret_file: None,
            scopes: vec!["profile".into(), "email".into()],
            username_claim: "preferred_username".into(),
            groups_claim: "groups".into(),
            allowed_groups: Vec::new(),
        };
        let s = TestServer::start_with_editors(editors, |c| {
            c.oidc = vec![provider];
            tweak(c);
        })
        .await;
        *idp.clock.lock().expect("lock") = Some(s.clock.clone());
        s.state
            .meta
            .add_oauth_client(&wopid_store::OAuthClient {
                id: "office".into(),
                name: "Office".into(),
                redirect_uri: REDIRECT.into(),
                require_pkce: true,
            })
            .await
            .expect("client");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { s, idp, http }
    }

    /// Follows a start URL of wopid to the provider's authorization URL.
    async fn begin(&self, path: &str) -> Started {
        let r = self
            .http
            .get(format!("{}{path}", self.s.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 303, "{path}");
        let cookie = cookie_of(&r, "wopid_oidc").expect("pending cookie");
        let location = header(&r, "location").expect("location");
        let raw = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("wopid_oidc="))
            .unwrap_or_default()
            .to_owned();
        assert!(
            raw.contains("HttpOnly") && raw.contains("SameSite=Lax") && raw.contains("Path=/oidc"),
            "{raw}"
        );
        let (endpoint, q) = location.split_once('?').expect("query");
        assert_eq!(endpoint, format!("{}/authorize", self.idp.issuer));
        let query: HashMap<String, String> =
            form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], CLIENT);
        assert_eq!(
            query["redirect_uri"],
            format!("{}/oidc/corp/callback", self.s.base)
        );
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(query["scope"].split(' ').any(|s| s == "openid"));
        Started {
            cookie,
            state: query["state"].clone(),
            nonce: query["nonce"].clone(),
            query,
        }
    }

    async fn callback(&self, cookie: Option<&str>, state: &str, code: &str) -> reqwest::Response {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .append_pair("state", state)
            .finish();
        let mut r = self
            .http
            .get(format!("{}/oidc/corp/callback?{q}", self.s.base));
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send().await.expect("send")
    }

    /// A whole web sign-in in which the provider hands out `claims` (with this sign-in's nonce
    /// when they name none).
    async fn web_sign_in(&self, claims: impl FnOnce(&str) -> Value) -> reqwest::Response {
        let st = self.begin("/oidc/corp/start?next=/").await;
        self.idp.next(&claims(&st.nonce));
        self.callback(Some(&st.cookie), &st.state, "provider-code")
            .await
    }

    fn browser(&self, r: &reqwest::Response) -> Browser {
        Browser {
            http: self.http.clone(),
            base: self.s.base.clone(),
            cookie: cookie_of(r, "wopid_session").expect("session cookie"),
        }
    }

    async fn user_count(&self) -> usize {
        self.s.state.meta.list_users().await.expect("users").len()
    }
}

#[tokio::test]
async fn web_sign_in_creates_the_user_once_and_finds_it_by_sub() {
    let r = Rig::start(|_| {}).await;
    // A local account already holds the name the provider will give: it is not joined by name.
    user(&r.s, "alice", "alice-password").await;

    let page = r
        .http
        .get(format!("{}/login?next=/x", r.s.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("href=\"/oidc/corp/start?next=%2Fx\"") && page.contains("Company account"),
        "{page}"
    );
    assert!(
        page.contains("name=\"password\""),
        "passwords stay available"
    );

    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-alice", "alice", nonce))
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(header(&resp, "location").as_deref(), Some("/"));
    let clear = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("wopid_oidc=;") && v.contains("Max-Age=0"));
    assert!(clear, "the sign-in in progress is cleared");
    // The provider got the PKCE verifier and the client's credentials.
    let form = r.idp.requests.lock().expect("lock")[0].clone();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "provider-code");
    assert!(form["code_verifier"].len() >= 43);

    let b = r.browser(&resp);
    let (folder, _) = b.home().await;
    assert!(folder.starts_with("/browse/"));
    let uid =
        r.s.state
            .meta
            .oidc_user(&r.idp.issuer, "sub-alice")
            .await
            .expect("link")
            .expect("linked");
    let u =
        r.s.state
            .meta
            .user(&uid)
            .await
            .expect("user")
            .expect("user");
    assert!(u.login.starts_with("alice-"), "{}", u.login);
    assert_eq!(u.display_name, "alice Example");
    assert_eq!(r.s.state.meta.password_hash(&uid).await.expect("h"), None);
    let users = r.user_count().await;

    // Signing in again, under another name at the provider: the same user, nobody new.
    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-alice", "alice.renamed", nonce))
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(r.user_count().await, users);
    let b2 = r.browser(&resp);
    assert_eq!(b2.home().await.0, folder);

    // Its sessions are credentials like any other: revoking the user's ends them.
    r.s.state
        .meta
        .revoke_tokens(&uid, None)
        .await
        .expect("revoke");
    let after = b2.get("/").await;
    assert_eq!(after.status(), 303);
    assert!(header(&after, "location").is_some_and(|l| l.starts_with("/login")));
}

#[tokio::test]
async fn an_oidc_user_is_shared_with_and_opens_an_editor_like_any_other() {
    let dir = tempfile::tempdir().expect("dir");
    let emu = Emulator::start(Kind::Collabora, "collabora", dir.path()).await;
    let r = Rig::start_with_editors(vec![emu.config()], |_| {}).await;
    emu.attach(&r.s);
    user(&r.s, "bob", "bob-password").await;
    let bob = Browser::sign_in(&r.s, "bob", "bob-password").await;
    let id = r.s.add_file("bob", "plan.odt", b"PK\x03\x04 plan").await;

    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-carol", "carol", nonce))
        .await;
    assert_eq!(resp.status(), 303);
    let carol = r.browser(&resp);
    let (_, carol_csrf) = carol.home().await;
    assert_eq!(
        carol.get(&format!("/files/{id}/download")).await.status(),
        404
    );

    let (_, bob_csrf) = bob.home().await;
    let shared = bob
        .post(
            &format!("/files/{id}/share"),
            &[
                ("csrf", bob_csrf.as_str()),
                ("user", "carol"),
                ("mode", "write"),
            ],
        )
        .await;
    assert_eq!(shared.status(), 303);
    assert_eq!(
        carol.get(&format!("/files/{id}/download")).await.status(),
        200
    );
    // Carol opens it in the editor, which reads and writes it over WOPI as Carol.
    let sess = open(&r.s, &carol, &emu, &id, "edit").await;
    let info = emu.check_file_info(&sess).await;
    assert_eq!(info["UserFriendlyName"], "carol Example");
    assert_eq!(info["UserCanWrite"], true);
    let _ = carol_csrf;

    // An application opens the file for Carol through the management API, like for any user:
    // she is found by her sign-in name, and the token it gets works over WOPI as Carol.
    let origin = "https://intranet.example";
    let (_, key) = wopid::auth::api_key::create(
        &r.s.state,
        "intranet",
        wopid::auth::api_key::Scope::parse("files").expect("scope"),
        vec![origin.to_owned()],
    )
    .await
    .expect("store")
    .expect("key");
    let api = |method: reqwest::Method, path: &str| {
        r.s.http
            .request(method, format!("{}/api/v1{path}", r.s.base))
            .bearer_auth(key.expose())
    };
    let users: serde_json::Value = api(reqwest::Method::GET, "/users?limit=1000")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let carol_id = users["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["login"] == "carol")
        .and_then(|u| u["id"].as_str())
        .expect("carol, created by single sign-on, is listed")
        .to_owned();
    let opened = api(reqwest::Method::POST, &format!("/files/{id}/open"))
        .json(&serde_json::json!({
            "user_id": carol_id, "action": "edit", "origin": origin,
        }))
        .send()
        .await
        .expect("send");
    assert_eq!(opened.status(), 200);
    let opened: serde_json::Value = opened.json().await.expect("json");
    assert_eq!(opened["read_only"], false);
    // The editor (signing with its proof keys, as the token is bound to it) reads the file.
    let api_sess = crate::emulator::Session {
        action: String::new(),
        wopi_src: opened["wopi_src"].as_str().expect("wopi_src").to_owned(),
        token: opened["access_token"].as_str().expect("token").to_owned(),
        ttl: opened["access_token_ttl"].as_i64().expect("ttl"),
    };
    let info = emu.check_file_info(&api_sess).await;
    assert_eq!(info["UserId"], carol_id.as_str());
    assert_eq!(info["UserCanWrite"], true);
    assert_eq!(info["PostMessageOrigin"], origin);
}

#[tokio::test]
async fn the_native_sign_in_goes_through_the_provider_and_ends_in_bootstrap() {
    let r = Rig::start(|c| c.oauth_provider_id = Some("tpwopid".into())).await;
    let challenge = b64(&<sha2::Sha256 as sha2::Digest>::digest(VERIFIER.as_bytes()));
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "office")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st4te")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let page = r
        .http
        .get(format!("{}/oauth2/authorize?{q}", r.s.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("html");
    let href = page
        .split("href=\"")
        .nth(1)
        .and_then(|h| h.split('"').next())
        .expect("provider link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.starts_with(&format!("{}/oidc/corp/authorize?", r.s.base)),
        "{href}"
    );
    let st = r.begin(href.trim_start_matches(&r.s.base)).await;
    assert_ne!(
        st.query["state"], "st4te",
        "the provider gets a state of its own"
    );
    r.idp.next(&r.idp.claims("sub-dave", "dave", &st.nonce));
    let resp = r.callback(Some(&st.cookie), &st.state, "c0de").await;
    assert_eq!(resp.status(), 303);
    let location = header(&resp, "location").expect("location");
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=st4te"), "{location}");
    let code: String = form_urlencoded::parse(location.split_once('?').expect("q").1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    // wopid's own code and tokens, as with a password.
    let tok: Value = r
        .http
        .post(format!("{}/oauth2/token", r.s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
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
    let boot = r
        .http
        .get(format!("{}/wopibootstrapper", r.s.base))
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .expect("send");
    assert_eq!(boot.status(), 200);
    let v: Value = boot.json().await.expect("json");
    assert_eq!(v["Bootstrap"]["SignInName"], "dave");
    assert_eq!(v["Bootstrap"]["UserFriendlyName"], "dave Example");

    // When the provider refuses (the user cancelled), the client is told so.
    let st = r.begin(href.trim_start_matches(&r.s.base)).await;
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("state", &st.state)
        .finish();
    let resp = r
        .http
        .get(format!("{}/oidc/corp/callback?{q}", r.s.base))
        .header("Cookie", &st.cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 303);
    assert_eq!(
        header(&resp, "location").as_deref(),
        Some(format!("{REDIRECT}?error=access_denied&state=st4te").as_str())
    );
    // The same refusal in a web sign-in is a page.
    let st = r.begin("/oidc/corp/start").await;
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("state", &st.state)
        .finish();
    let resp = r
        .http
        .get(format!("{}/oidc/corp/callback?{q}", r.s.base))
        .header("Cookie", &st.cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);

    // An unknown client cannot start a provider sign-in at all.
    let bad = r
        .http
        .get(format!(
            "{}/oidc/corp/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F",
            r.s.base
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
}

/// A callback that must be refused: no session, no user, no code.
async fn refused(r: &Rig, resp: reqwest::Response, status: u16, users: usize) {
    assert_eq!(resp.status(), status);
    assert!(cookie_of(&resp, "wopid_session").is_none());
    assert!(header(&resp, "location").is_none());
    assert_eq!(r.user_count().await, users);
}

#[tokio::test]
async fn refuses_wrong_issuer_expired_token_bad_signature_and_replayed_nonce() {
    let r = Rig::start(|_| {}).await;
    let users = r.user_count().await;

    // Another issuer's token.
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-e", "eve", nonce);
            c["iss"] = json!("http://127.0.0.1:1/other");
            c
        })
        .await;
    refused(&r, resp, 403, users).await;

    // Expired: by the time it arrives, and already when issued.
    let st = r.begin("/oidc/corp/start").await;
    r.idp.next(&r.idp.claims("sub-e", "eve", &st.nonce));
    r.s.clock.advance_ms(301_000);
    let resp = r.callback(Some(&st.cookie), &st.state, "c").await;
    refused(&r, resp, 403, users).await;
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-e", "eve", nonce);
            c["iat"] = json!(r.idp.now() - 3600);
            c["exp"] = json!(r.idp.now() - 1800);
            c
        })
        .await;
    refused(&r, resp, 403, users).await;

    // Signed by another key under the published key id.
    let st = r.begin("/oidc/corp/start").await;
    let other = fixture_key("onlyoffice");
    r.idp
        .next_raw(r.idp.sign(&r.idp.claims("sub-e", "eve", &st.nonce), &other));
    let resp = r.callback(Some(&st.cookie), &st.state, "c").await;
    refused(&r, resp, 403, users).await;

    // For another audience.
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-e", "eve", nonce);
            c["aud"] = json!("someone-else");
            c
        })
        .await;
    refused(&r, resp, 403, users).await;

    // A good token of an earlier sign-in, replayed into a new one: its nonce is not this one's.
    let first = r.begin("/oidc/corp/start").await;
    let earlier = r.idp.claims("sub-e", "eve", &first.nonce);
    let second = r.begin("/oidc/corp/start").await;
    r.idp.next(&earlier);
    let resp = r.callback(Some(&second.cookie), &second.state, "c").await;
    refused(&r, resp, 403, users).await;
    // A token without a nonce is refused too.
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-e", "eve", nonce);
            c.as_object_mut().expect("object").remove("nonce");
            c
        })
        .await;
    refused(&r, resp, 403, users).await;

    // The callback of one sign-in with another's cookie, without a cookie, or a forged one.
    let a = r.begin("/oidc/corp/start").await;
    let b = r.begin("/oidc/corp/start").await;
    r.idp.next(&r.idp.claims("sub-e", "eve", &a.nonce));
    let resp = r.callback(Some(&b.cookie), &a.state, "c").await;
    refused(&r, resp, 400, users).await;
    let resp = r.callback(None, &a.state, "c").await;
    refused(&r, resp, 400, users).await;
    let forged = a.cookie.replace('.', ".x");
    let resp = r.callback(Some(&forged), &a.state, "c").await;
    refused(&r, resp, 400, users).await;
    // The sign-in in progress expires.
    r.s.clock.advance_ms(11 * 60_000);
    let resp = r.callback(Some(&a.cookie), &a.state, "c").await;
    refused(&r, resp, 400, users).await;

    // After all that, the same provider still signs a good token in.
    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-e", "eve", nonce))
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(r.user_count().await, users + 1);
}

#[tokio::test]
async fn only_members_of_the_allowed_groups_get_in() {
    let r = Rig::start(|c| c.oidc[0].allowed_groups = vec!["office".into()]).await;
    let users = r.user_count().await;
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-m", "mallory", nonce);
            c["groups"] = json!(["staff", "contractors"]);
            c
        })
        .await;
    refused(&r, resp, 403, users).await;
    let resp = r
        .web_sign_in(|nonce| {
            let mut c = r.idp.claims("sub-m", "mallory", nonce);
            c.as_object_mut().expect("object").remove("groups");
            c
        })
        .await;
    refused(&r, resp, 403, users).await;
    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-o", "oscar", nonce))
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn without_passwords_only_the_provider_signs_in() {
    let r = Rig::start(|c| c.password_sign_in = false).await;
    user(&r.s, "alice", "alice-password").await;
    let page = r
        .http
        .get(format!("{}/login", r.s.base))
        .send()
        .await
        .expect("send");
    let csrf_cookie = cookie_of(&page, "wopid_login_csrf").expect("cookie");
    let html = page.text().await.expect("html");
    assert!(!html.contains("name=\"password\""), "{html}");
    assert!(html.contains("/oidc/corp/start"));
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let resp = r
        .http
        .post(format!("{}/login", r.s.base))
        .header("Cookie", &csrf_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", "alice-password"),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);
    assert!(cookie_of(&resp, "wopid_session").is_none());

    // The bootstrapper's sign-in page neither shows nor takes a password.
    let q = "response_type=code&client_id=office&redirect_uri=https%3A%2F%2Flocalhost%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let html = r
        .http
        .get(format!("{}/oauth2/authorize?{q}", r.s.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("name=\"password\"") && html.contains("/oidc/corp/authorize?"));
    let resp = r
        .http
        .post(format!("{}/oauth2/authorize", r.s.base))
        .form(&[
            ("response_type", "code"),
            ("client_id", "office"),
            ("redirect_uri", REDIRECT),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
            ("username", "alice"),
            ("password", "alice-password"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 403);

    // The provider still signs people in.
    let resp = r
        .web_sign_in(|nonce| r.idp.claims("sub-p", "peggy", nonce))
        .await;
    assert_eq!(resp.status(), 303);
    r.browser(&resp).home().await;
}
