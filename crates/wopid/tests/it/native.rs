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
            require_pkce: true,
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

/// The hidden fields of the sign-in form, as a browser would post them back.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|r| {
            let (name, rest) = r.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                value.replace("&#x2f;", "/").replace("&#47;", "/"),
            ))
        })
        .collect()
}

impl Native {
    /// Opens `query` at the authorization endpoint, posts the form back as a browser would and
    /// returns the redirect's location.
    async fn browser_sign_in(&self, query: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let r = self
            .no_redirect
            .get(format!("{}/oauth2/authorize?{q}", self.s.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let cookie = header(&r, "set-cookie")
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .expect("cookie");
        let mut form = hidden_fields(&r.text().await.expect("html"));
        form.push(("username".into(), "alice@example.com".into()));
        form.push(("password".into(), "correct horse".into()));
        let r = self
            .no_redirect
            .post(format!("{}/oauth2/authorize", self.s.base))
            .header("Cookie", cookie)
            .form(&form)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 303);
        header(&r, "location").expect("location")
    }

    async fn authorize_redirect(&self, query: &[(&str, &str)]) -> String {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let r = self
            .no_redirect
            .get(format!("{}/oauth2/authorize?{q}", self.s.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 303, "authorize {query:?}");
        header(&r, "location").expect("location")
    }

    async fn tokens(&self) -> (String, String) {
        let code = self.code().await;
        let (status, tok) = self.exchange(&code, VERIFIER).await;
        assert_eq!(status, 200, "{tok}");
        (
            tok["access_token"].as_str().expect("access").to_owned(),
            tok["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    async fn bootstrap_status(&self, access: &str) -> u16 {
        self.bootstrap(&format!("Bearer {access}"), None, &[])
            .await
            .status()
            .as_u16()
    }
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_refreshes_give_at_most_one_pair_and_revoke_the_family() {
    let n = std::sync::Arc::new(Native::start().await);
    let (access, refresh) = n.tokens().await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let n = n.clone();
        let refresh = refresh.clone();
        tasks.push(tokio::spawn(async move {
            n.token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", "office"),
            ])
            .await
        }));
    }
    let mut pairs = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        match status {
            200 => pairs.push(body),
            400 => assert_eq!(body["error"], "invalid_grant"),
            other => panic!("status {other}: {body}"),
        }
    }
    assert!(
        pairs.len() <= 1,
        "{} pairs from one refresh token",
        pairs.len()
    );
    // The refresh token was presented again: the whole family is revoked.
    assert_eq!(n.bootstrap_status(&access).await, 401);
    for p in &pairs {
        assert_eq!(
            n.bootstrap_status(p["access_token"].as_str().expect("a"))
                .await,
            401
        );
        let (status, body) = n
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", p["refresh_token"].as_str().expect("r")),
                ("client_id", "office"),
            ])
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_what_was_issued_from_it() {
    let n = Native::start().await;
    let (_, refresh) = n.tokens().await;
    let (status, second) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(status, 200);
    let access2 = second["access_token"].as_str().expect("a").to_owned();
    assert_eq!(n.bootstrap_status(&access2).await, 200);
    // The old refresh token again (stolen, say): refused, and the new pair dies with it.
    let (status, _) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(status, 400);
    assert_eq!(n.bootstrap_status(&access2).await, 401);
    let (status, _) = n
        .token(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                second["refresh_token"].as_str().expect("r"),
            ),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(status, 400);
    // Another sign-in is a family of its own and unaffected.
    let (access3, _) = n.tokens().await;
    assert_eq!(n.bootstrap_status(&access3).await, 200);
}

#[tokio::test]
async fn public_clients_may_authenticate_with_basic_and_an_empty_secret() {
    let n = Native::start().await;
    let code = n.code().await;
    let basic = |id: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    // requests-oauthlib: the client id as Basic user with an empty password, and in the body.
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .header("Authorization", basic("office", ""))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 200);
    let tok: Value = r.json().await.expect("json");
    // requests-oauthlib refreshes without naming the client: the refresh token names it.
    let (status, v) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tok["refresh_token"].as_str().expect("r")),
        ])
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
        ])
        .await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
    // An unknown client: 401 with a Basic challenge.
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .header("Authorization", basic("nobody", ""))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 401);
    assert!(
        header(&r, "www-authenticate").is_some_and(|c| c.starts_with("Basic ")),
        "{:?}",
        header(&r, "www-authenticate")
    );
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "invalid_client");
    // A secret for a client that has none, or two different client ids: refused.
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .header("Authorization", basic("office", "guess"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 401);
    assert!(header(&r, "www-authenticate").is_some());
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .header("Authorization", basic("office", ""))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", "other"),
            ])
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 400);
    // No client at all.
    let (status, v) = n
        .token(&[("grant_type", "authorization_code"), ("code", "x")])
        .await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
}

#[tokio::test]
async fn redirect_uri_may_be_left_out_when_only_one_is_registered() {
    let n = Native::start().await;
    let ch = challenge(VERIFIER);
    let location = n
        .browser_sign_in(&[
            ("response_type", "code"),
            ("client_id", "office"),
            ("state", "s1"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    let code = query_param(&location, "code").expect("code");
    let (status, tok) = n
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "office"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(status, 200, "{tok}");
    // Sent at authorization, it must be sent again at the token endpoint.
    let location = n
        .browser_sign_in(&[
            ("response_type", "code"),
            ("client_id", "office"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let code = query_param(&location, "code").expect("code");
    let (status, tok) = n
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "office"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (status, tok["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn an_authorization_request_without_response_type_is_invalid() {
    let n = Native::start().await;
    let ch = challenge(VERIFIER);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut q: Vec<(&str, String)> = vec![
            ("client_id", "office".into()),
            ("redirect_uri", REDIRECT.into()),
        ];
        q.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        q
    };
    let redirect = |q: Vec<(&'static str, String)>| {
        let n = &n;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            n.authorize_redirect(&q).await
        }
    };
    // No response_type: invalid_request, and the state comes back.
    let mut q = base(&[("state", "s2")]);
    q.push(("code_challenge", ch.clone()));
    q.push(("code_challenge_method", "S256".into()));
    let loc = redirect(q).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s2"));
}

#[tokio::test]
async fn an_empty_state_is_not_echoed() {
    let n = Native::start().await;
    let ch = challenge(VERIFIER);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut q: Vec<(&str, String)> = vec![
            ("client_id", "office".into()),
            ("redirect_uri", REDIRECT.into()),
        ];
        q.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        q
    };
    let redirect = |q: Vec<(&'static str, String)>| {
        let n = &n;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            n.authorize_redirect(&q).await
        }
    };
    // An empty state is not echoed.
    let mut q = base(&[("response_type", "token"), ("state", "")]);
    q.push(("code_challenge", ch.clone()));
    let loc = redirect(q).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert!(!loc.contains("state="), "{loc}");
    // Nor after a successful sign-in with an empty state does not echo it.
    let loc = n
        .browser_sign_in(&[
            ("response_type", "code"),
            ("client_id", "office"),
            ("redirect_uri", REDIRECT),
            ("state", ""),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert!(query_param(&loc, "code").is_some());
    assert!(!loc.contains("state="), "{loc}");
}

#[tokio::test]
async fn authorization_requests_need_a_well_formed_pkce_challenge() {
    let n = Native::start().await;
    let ch = challenge(VERIFIER);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut q: Vec<(&str, String)> = vec![
            ("client_id", "office".into()),
            ("redirect_uri", REDIRECT.into()),
        ];
        q.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        q
    };
    let redirect = |q: Vec<(&'static str, String)>| {
        let n = &n;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            n.authorize_redirect(&q).await
        }
    };
    // No PKCE from a public client, or a malformed challenge: refused at authorization.
    let loc = redirect(base(&[("response_type", "code")])).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
    for bad in [
        "short",
        "has spaces in it and is long enough to pass the length",
        "x",
    ] {
        let mut q = base(&[("response_type", "code")]);
        q.push(("code_challenge", bad.into()));
        q.push(("code_challenge_method", "S256".into()));
        let loc = redirect(q).await;
        assert_eq!(
            query_param(&loc, "error").as_deref(),
            Some("invalid_request"),
            "{bad}"
        );
    }
    let mut q = base(&[("response_type", "code")]);
    q.push(("code_challenge", ch.clone()));
    q.push(("code_challenge_method", "plain".into()));
    let loc = redirect(q).await;
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn token_requests_are_checked_as_the_rfc_says() {
    let n = Native::start().await;
    // Token endpoint: no grant_type is invalid_request.
    let (status, v) = n.token(&[("client_id", "office")]).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A JSON body, or a parameter given twice: the RFC's JSON error.
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .json(&serde_json::json!({"grant_type": "authorization_code", "client_id": "office"}))
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 400);
    assert!(header(&r, "content-type").is_some_and(|c| c.starts_with("application/json")));
    let v: Value = r.json().await.expect("json error");
    assert_eq!(v["error"], "invalid_request");
    let r =
        n.s.http
            .post(format!("{}/oauth2/token", n.s.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=authorization_code&client_id=office&code=a&code=b")
            .send()
            .await
            .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json error");
    assert_eq!(v["error"], "invalid_request");
}

#[tokio::test]
async fn a_code_used_twice_revokes_the_tokens_issued_from_it() {
    let n = Native::start().await;
    // A code used twice: the tokens issued from it are revoked.
    let code = n.code().await;
    let (status, tok) = n.exchange(&code, VERIFIER).await;
    assert_eq!(status, 200);
    let access = tok["access_token"].as_str().expect("a").to_owned();
    assert_eq!(n.bootstrap_status(&access).await, 200);
    assert_eq!(n.exchange(&code, VERIFIER).await.0, 400);
    assert_eq!(n.bootstrap_status(&access).await, 401);
    let (status, _) = n
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tok["refresh_token"].as_str().expect("r")),
            ("client_id", "office"),
        ])
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_bootstrappers_401_is_a_wopi_error() {
    let n = Native::start().await;
    // The bootstrapper's 401 is a WOPI error like the others.
    let r = n.bootstrap("Bearer nonsense", None, &[]).await;
    assert_eq!(r.status(), 401);
    assert!(header(&r, "x-wopi-servererror").is_some());
    assert!(header(&r, "www-authenticate").is_some());
}

#[tokio::test]
async fn a_client_registered_with_optional_pkce_may_leave_it_out() {
    let n = Native::start().await;
    let legacy = wopid_store::OAuthClient {
        id: "legacy".into(),
        name: "Old app".into(),
        redirect_uri: REDIRECT.into(),
        require_pkce: false,
    };
    n.s.state
        .meta
        .add_oauth_client(&legacy)
        .await
        .expect("client");
    let location = n
        .browser_sign_in(&[
            ("response_type", "code"),
            ("client_id", "legacy"),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
        ])
        .await;
    let code = query_param(&location, "code").expect("code");
    let (status, tok) = n
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "legacy"),
        ])
        .await;
    assert_eq!(status, 200, "{tok}");
    // A challenge it does send is still checked.
    let ch = challenge(VERIFIER);
    let location = n
        .browser_sign_in(&[
            ("response_type", "code"),
            ("client_id", "legacy"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ])
        .await;
    let code = query_param(&location, "code").expect("code");
    let (status, _) = n
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "legacy"),
        ])
        .await;
    assert_eq!(status, 400);
}

/// The folder page's "Open in desktop app" link (`ms-word:ofe|u|URL`) carries a URL that the
/// bootstrapper's GetFileWopiSrc resolves to the file, as Office does after signing in.
#[tokio::test]
async fn the_desktop_app_link_resolves_through_get_file_wopi_src() {
    let n = Native::start().await;
    let id =
        n.s.add_file("alice@example.com", "plan.docx", b"desktop")
            .await;
    let b = crate::web::Browser::sign_in(&n.s, "alice@example.com", "correct horse").await;
    let (home, _) = b.home().await;
    let html = b.get(&home).await.text().await.expect("html");
    let href = html
        .split("href=\"ms-word:")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("an Open in desktop app link");
    let href = href
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&amp;", "&");
    let url = href.strip_prefix("ofe|u|").expect("ofe|u|URL");
    assert_eq!(url, n.s.state.wopi_src(&id));

    let (access, _) = n.tokens().await;
    let r = n
        .bootstrap(
            &format!("Bearer {access}"),
            Some("GET_WOPI_SRC_WITH_ACCESS_TOKEN"),
            &[("X-WOPI-HostNativeFileName", url)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
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
    assert_eq!(info["BaseFileName"], "plan.docx");
}
