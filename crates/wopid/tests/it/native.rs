//! The native-app sign-in over HTTP: bootstrapper challenge, sign-in page, code, PKCE token
//! exchange, Bootstrap and its shortcuts; and every way it must refuse.

use crate::harness::*;
use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;

const REDIRECT: &str = "https://localhost/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-longer-than-43";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

struct Native {
    s: TestServer,
    client_id: String,
    no_redirect: reqwest::Client,
}

impl Native {
    async fn start() -> Self {
        let s = TestServer::start_with(|c| c.oauth_provider_id = Some("tpwopid".into())).await;
        let client = wopid_store::OAuthClient {
            id: "office".into(),
            name: "Office".into(),
            redirect_uri: REDIRECT.into(),
        };
        s.state
            .meta
            .add_oauth_client(&client)
            .await
            .expect("client");
        let user = wopid_store::NewUser {
            id: "u-alice".into(),
            login: "alice@example.com".into(),
            display_name: "Alice".into(),
            email: None,
            password_hash: Some(wopid::auth::password::hash("correct horse").expect("hash")),
        };
        assert!(s.state.meta.create_user(&user, 0).await.expect("user"));
        let no_redirect = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            s,
            client_id: "office".into(),
            no_redirect,
        }
    }

    fn authorize_url(&self, authorize: &str, redirect: &str) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", "st4te")
            .append_pair("code_challenge", &challenge(VERIFIER))
            .append_pair("code_challenge_method", "S256")
            .append_pair("rs", "en-US")
            .finish();
        format!("{authorize}?{q}")
    }

    /// Loads the sign-in page: (csrf cookie, csrf field).
    async fn sign_in_page(&self, url: &str) -> (String, String) {
        let r = self.no_redirect.get(url).send().await.expect("send");
        assert_eq!(r.status(), 200);
        let cookie = header(&r, "set-cookie").expect("csrf cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let cookie = cookie.split(';').next().expect("pair").to_owned();
        let html = r.text().await.expect("html");
        assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
        let field = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("csrf field")
            .to_owned();
        (cookie, field)
    }

    async fn submit(&self, cookie: Option<&str>, csrf: &str, password: &str) -> reqwest::Response {
        let form = [
            ("csrf", csrf),
            ("username", "alice@example.com"),
            ("password", password),
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "st4te"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ];
        let mut r = self
            .no_redirect
            .post(format!("{}/oauth2/authorize", self.s.base))
            .form(&form);
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send().await.expect("send")
    }

    /// Signs in and returns the authorization code.
    async fn code(&self) -> String {
        let url = self.authorize_url(&format!("{}/oauth2/authorize", self.s.base), REDIRECT);
        let (cookie, csrf) = self.sign_in_page(&url).await;
        let r = self.submit(Some(&cookie), &csrf, "correct horse").await;
        assert_eq!(r.status(), 303);
        let location = header(&r, "location").expect("redirect");
        assert!(
            location.starts_with(&format!("{REDIRECT}?code=")),
            "{location}"
        );
        assert!(location.ends_with("&state=st4te"));
        location
            .split("code=")
            .nth(1)
            .and_then(|r| r.split('&').next())
            .expect("code")
            .to_owned()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .s
            .http
            .post(format!("{}/oauth2/token", self.s.base))
            .form(form)
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", &self.client_id),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn bootstrap(
        &self,
        auth: &str,
        op: Option<&str>,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let url = format!("{}/wopibootstrapper", self.s.base);
        let mut r = match op {
            None => self.s.http.get(url),
            Some(o) => self.s.http.post(url).header("X-WOPI-EcosystemOperation", o),
        };
        r = r.header("Authorization", auth);
        for (k, v) in extra {
            r = r.header(*k, *v);
        }
        r.send().await.expect("send")
    }
}

#[tokio::test]
async fn the_whole_native_sign_in() {
    let n = Native::start().await;
    let file =
        n.s.add_file("alice@example.com", "notes.docx", b"native")
            .await;

    // 1. No token: 401 with exactly one Bearer challenge.
    let r =
        n.s.http
            .get(format!("{}/wopibootstrapper", n.s.base))
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 401);
    let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(challenges.len(), 1);
    let ch = challenges[0].to_str().expect("ascii");
    let want = format!(
        "Bearer authorization_uri=\"{b}/oauth2/authorize\",tokenIssuance_uri=\"{b}/oauth2/token\",providerId=\"tpwopid\"",
        b = n.s.base
    );
    assert_eq!(ch, want);
    let authorize = ch
        .split("authorization_uri=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("uri");

    // 2. Sign in, get a code, exchange it with the PKCE verifier.
    let url = n.authorize_url(authorize, REDIRECT);
    let (cookie, csrf) = n.sign_in_page(&url).await;
    let r = n.submit(Some(&cookie), &csrf, "correct horse").await;
    assert_eq!(r.status(), 303);
    let code = header(&r, "location")
        .and_then(|l| {
            l.split("code=")
                .nth(1)
                .map(|c| c.split('&').next().unwrap_or_default().to_owned())
        })
        .expect("code");
    let (status, tok) = n.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 36000);
    let access = tok["access_token"].as_str().expect("access").to_owned();
    let refresh = tok["refresh_token"].as_str().expect("refresh").to_owned();

    // 3. Bootstrap, in both Authorization forms.
    for auth in [format!("Bearer {access}"), format!("Bearer: {access}")] {
        let r = n.bootstrap(&auth, None, &[]).await;
        assert_eq!(r.status(), 200);
        assert!(header(&r, "content-type").is_some_and(|c| c.starts_with("application/json")));
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["Bootstrap"]["SignInName"], "alice@example.com");
        assert_eq!(v["Bootstrap"]["UserId"], "u-alice");
        assert_eq!(v["Bootstrap"]["UserFriendlyName"], "Alice");
        let eco = v["Bootstrap"]["EcosystemUrl"].as_str().expect("eco");
        assert_eq!(n.s.http.get(eco).send().await.expect("send").status(), 200);
    }

    // 4. The GetFileWopiSrc shortcut, then CheckFileInfo on what it returns.
    let r = n
        .bootstrap(
            &format!("Bearer {access}"),
            Some("GET_WOPI_SRC_WITH_ACCESS_TOKEN"),
            &[("X-WOPI-HostNativeFileName", &file)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert!(v["Bootstrap"]["EcosystemUrl"].is_string());
    let src = v["WopiSrcInfo"]["Url"].as_str().expect("Url");
    let info: Value =
        n.s.http
            .get(src)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
    assert_eq!(info["BaseFileName"], "notes.docx");
    assert_eq!(info["UserId"], "u-alice");

    // 4b. The same through the Ecosystem endpoint with the EcosystemUrl's token.
    let r = n.bootstrap(&format!("Bearer {access}"), None, &[]).await;
    let v: Value = r.json().await.expect("json");
    let eco = v["Bootstrap"]["EcosystemUrl"]
        .as_str()
        .expect("eco")
        .to_owned();
    let r =
        n.s.http
            .post(&eco)
            .header("X-WOPI-Override", "GET_WOPI_SRC_WITH_ACCESS_TOKEN")
            .header("X-WOPI-HostNativeFileName", n.s.state.wopi_src(&file))
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 200);
    let src = r.json::<Value>().await.expect("json")["Url"]
        .as_str()
        .expect("Url")
        .to_owned();
    let info: Value =
        n.s.http
            .get(&src)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
    assert_eq!(info["BaseFileName"], "notes.docx");
    assert_eq!(info["UserCanWrite"], true);
    // The ecosystem token opens no file by itself.
    let eco_token = eco.split("access_token=").nth(1).expect("token");
    assert_eq!(
        n.s.http
            .get(n.s.file_url(&file, eco_token))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );

    // 5. GetNewAccessToken and GetRootContainer shortcuts.

    let r = n
        .bootstrap(
            &format!("Bearer {access}"),
            Some("GET_NEW_ACCESS_TOKEN"),
            &[("X-WOPI-WopiSrc", &n.s.state.wopi_src(&file))],
        )
        .await;
    let v: Value = r.json().await.expect("json");
    let t = v["AccessTokenInfo"]["AccessToken"].as_str().expect("token");
    assert!(
        v["AccessTokenInfo"]["AccessTokenExpiry"]
            .as_i64()
            .is_some_and(|e| e > T0)
    );
    assert_eq!(n.s.get_file(&file, t).await, b"native");
    let r = n
        .bootstrap(&format!("Bearer {access}"), Some("GET_ROOT_CONTAINER"), &[])
        .await;
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["RootContainerInfo"]["ContainerPointer"]["Name"],
        "alice@example.com"
    );
    // Unknown shortcut: plain Bootstrap.
    let r = n
        .bootstrap(&format!("Bearer {access}"), Some("SOMETHING_ELSE"), &[])
        .await;
    assert_eq!(r.status(), 200);

    // 6. Refresh rotates: the old refresh token stops working.
    let (status, fresh) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(status, 200);
    assert!(fresh["access_token"].is_string());
    let (status, err) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // 7. Expired and invalid OAuth tokens: the challenge again.
    for auth in [
        "Bearer nope".to_owned(),
        "Bearer ".to_owned(),
        "Basic abc".to_owned(),
    ] {
        let r = n.bootstrap(&auth, None, &[]).await;
        assert_eq!(r.status(), 401);
        assert!(header(&r, "www-authenticate").is_some_and(|h| h.starts_with("Bearer ")));
    }
    n.s.clock.advance_ms(10 * HOUR);
    assert_eq!(
        n.bootstrap(&format!("Bearer {access}"), None, &[])
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_authorization_server_refuses() {
    let n = Native::start().await;
    // A wrong PKCE verifier; then the code is gone.
    let code = n.code().await;
    let (status, err) = n
        .exchange(&code, "wrong-verifier-wrong-verifier-wrong-verifier-x")
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, err) = n.exchange(&code, VERIFIER).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes are single-use"
    );
    // A reused code.
    let code = n.code().await;
    assert_eq!(n.exchange(&code, VERIFIER).await.0, 200);
    let (status, err) = n.exchange(&code, VERIFIER).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // An expired code.
    let code = n.code().await;
    n.s.clock.advance_ms(61_000);
    assert_eq!(
        n.exchange(&code, VERIFIER).await.1["error"],
        "invalid_grant"
    );
    // A foreign redirect URI: refused on the page, never redirected to.
    let url = n.authorize_url(
        &format!("{}/oauth2/authorize", n.s.base),
        "https://evil.example/cb",
    );
    let r = n.no_redirect.get(&url).send().await.expect("send");
    assert_eq!(r.status(), 400);
    assert!(header(&r, "location").is_none());
    // ... and at the token endpoint.
    let code = n.code().await;
    let (status, err) = n
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://evil.example/cb"),
            ("client_id", "office"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Unknown client, unsupported grant.
    assert_eq!(
        n.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "nobody")
        ])
        .await
        .1["error"],
        "invalid_client"
    );
    assert_eq!(
        n.token(&[("grant_type", "password"), ("client_id", "office")])
            .await
            .1["error"],
        "unsupported_grant_type"
    );
    // No CSRF cookie, or a mismatching one: refused.
    let url = n.authorize_url(&format!("{}/oauth2/authorize", n.s.base), REDIRECT);
    let (cookie, csrf) = n.sign_in_page(&url).await;
    assert_eq!(n.submit(None, &csrf, "correct horse").await.status(), 403);
    assert_eq!(
        n.submit(Some("wopid_csrf=forged"), &csrf, "correct horse")
            .await
            .status(),
        403
    );
    // Wrong passwords, then rate limiting even with the right one.
    for _ in 0..5 {
        assert_eq!(n.submit(Some(&cookie), &csrf, "wrong").await.status(), 401);
    }
    assert_eq!(
        n.submit(Some(&cookie), &csrf, "correct horse")
            .await
            .status(),
        429
    );
    n.s.clock.advance_ms(16 * 60_000);
    assert_eq!(
        n.submit(Some(&cookie), &csrf, "correct horse")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn one_user_cannot_reach_anothers_files() {
    let n = Native::start().await;
    let bobs = n.s.add_file("bob", "private.docx", b"bob").await;
    let code = n.code().await;
    let access = n.exchange(&code, VERIFIER).await.1["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let auth = format!("Bearer {access}");
    let r = n
        .bootstrap(
            &auth,
            Some("GET_WOPI_SRC_WITH_ACCESS_TOKEN"),
            &[("X-WOPI-HostNativeFileName", &bobs)],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = n
        .bootstrap(
            &auth,
            Some("GET_NEW_ACCESS_TOKEN"),
            &[("X-WOPI-WopiSrc", &n.s.state.wopi_src(&bobs))],
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = n
        .bootstrap(&auth, Some("GET_WOPI_SRC_WITH_ACCESS_TOKEN"), &[])
        .await;
    assert_eq!(r.status(), 400);
    // An OAuth token is no WOPI token.
    assert_eq!(
        n.s.http
            .get(n.s.file_url(&bobs, &access))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
}
