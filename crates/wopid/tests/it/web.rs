//! The web UI over HTTP: sign-in, browsing, upload, download, new documents, folders, rename,
//! move, delete, versions, sharing, host pages; and CSRF and session checks.

use crate::harness::*;

/// A browser without a cookie jar: cookies are carried by hand so tests can swap them.
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookie: String,
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub(crate) fn field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("form field")
        .to_owned()
}

impl Browser {
    pub(crate) async fn sign_in(s: &TestServer, login: &str, password: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = http
            .get(format!("{}/login", s.base))
            .send()
            .await
            .expect("send");
        assert_eq!(page.status(), 200);
        let csrf_cookie = set_cookie(&page, "wopid_login_csrf").expect("login csrf cookie");
        let csrf = field(&page.text().await.expect("html"), "csrf");
        let r = http
            .post(format!("{}/login", s.base))
            .header("Cookie", &csrf_cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", login),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 303, "sign-in");
        let cookie = set_cookie(&r, "wopid_session").expect("session cookie");
        let raw = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
            "{raw}"
        );
        Self {
            http,
            base: s.base.clone(),
            cookie,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .expect("send")
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .expect("send")
    }

    /// The folder page the root redirects to, and the session's CSRF token.
    pub(crate) async fn home(&self) -> (String, String) {
        let r = self.get("/").await;
        assert_eq!(r.status(), 303);
        let folder = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("location")
            .to_owned();
        let html = self.get(&folder).await.text().await.expect("html");
        (folder, field(&html, "csrf"))
    }
}

pub(crate) async fn user(s: &TestServer, login: &str, password: &str) -> String {
    let u = wopid_store::NewUser {
        id: wopid_store::new_id(),
        login: login.into(),
        display_name: login.to_uppercase(),
        email: None,
        password_hash: Some(wopid::auth::password::hash(password).expect("hash")),
    };
    assert!(s.state.meta.create_user(&u, 0).await.expect("create"));
    s.state.meta.root_container(&u.id, 0).await.expect("root");
    u.id
}

#[tokio::test]
async fn sign_in_browse_upload_and_manage_files() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    // Unauthenticated pages send the browser to the sign-in page.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = anon.get(format!("{}/", s.base)).send().await.expect("send");
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login?next="))
    );

    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let folder_id = folder.trim_start_matches("/browse/").to_owned();

    // Upload (multipart, streamed).
    let part = reqwest::multipart::Part::bytes(b"uploaded bytes".to_vec()).file_name("notes.txt");
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = b
        .http
        .post(format!("{}{folder}/upload?csrf={csrf}", s.base))
        .header("Cookie", &b.cookie)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    let page = b.get(&folder).await.text().await.expect("html");
    assert!(page.contains("notes.txt"));
    let file_id = page
        .split("data-file=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("file row")
        .to_owned();
    assert_eq!(
        b.get(&format!("/files/{file_id}/download"))
            .await
            .bytes()
            .await
            .expect("body")
            .as_ref(),
        b"uploaded bytes"
    );

    // New documents are real, valid packages.
    for kind in ["docx", "xlsx", "pptx", "odt", "ods", "odp"] {
        let r = b
            .post(
                &format!("{folder}/new"),
                &[
                    ("csrf", &csrf),
                    ("name", &format!("New {kind}")),
                    ("kind", kind),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{kind}");
    }
    let files = s
        .state
        .meta
        .list_files(Some(&folder_id))
        .await
        .expect("list");
    let docx = files
        .iter()
        .find(|f| f.name == "New docx.docx")
        .expect("docx created");
    let bytes = s
        .get_file(&docx.id, &s.token("alice", &docx.id, RW).await)
        .await;
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip package");

    // Folders, rename, move, versions, delete.
    assert_eq!(
        b.post(
            &format!("{folder}/mkdir"),
            &[("csrf", &csrf), ("name", "Archive")]
        )
        .await
        .status(),
        303
    );
    let archive = s
        .state
        .meta
        .container_by_name(&folder_id, "Archive")
        .await
        .expect("db")
        .expect("folder");
    assert_eq!(
        b.post(
            &format!("/files/{file_id}/rename"),
            &[("csrf", &csrf), ("name", "renamed.txt")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        s.state
            .meta
            .file(&file_id)
            .await
            .expect("db")
            .expect("file")
            .name,
        "renamed.txt"
    );
    assert_eq!(
        b.post(
            &format!("/files/{file_id}/move"),
            &[("csrf", &csrf), ("container", &archive.id)]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        s.state
            .meta
            .file(&file_id)
            .await
            .expect("db")
            .expect("file")
            .container_id,
        archive.id
    );
    let versions = b.get(&format!("/files/{file_id}/versions")).await;
    assert_eq!(versions.status(), 200);
    assert!(versions.text().await.expect("html").contains("<td>1</td>"));
    assert_eq!(
        b.post(&format!("/files/{file_id}/delete"), &[("csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert!(s.state.meta.file(&file_id).await.expect("db").is_none());

    // Sign out: the session is gone.
    assert_eq!(b.post("/logout", &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(
        b.get(&folder).await.status(),
        303,
        "back to the sign-in page"
    );
}

#[tokio::test]
async fn forms_need_the_session_csrf_token_and_sessions_are_per_user() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    user(&s, "bob", "bob-password").await;
    let id = s.add_file("alice", "a.docx", b"alice's").await;
    let alice = Browser::sign_in(&s, "alice", "alice-password").await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;
    let (_, alice_csrf) = alice.home().await;
    let (_, bob_csrf) = bob.home().await;
    // Without a token, or with another session's token: refused, nothing changed.
    assert_eq!(
        alice
            .post(&format!("/files/{id}/rename"), &[("name", "x.docx")])
            .await
            .status(),
        403
    );
    assert_eq!(
        alice
            .post(
                &format!("/files/{id}/rename"),
                &[("csrf", &bob_csrf), ("name", "x.docx")]
            )
            .await
            .status(),
        403
    );
    assert_eq!(
        alice
            .post(&format!("/files/{id}/delete"), &[("csrf", "forged")])
            .await
            .status(),
        403
    );
    assert_eq!(
        s.state
            .meta
            .file(&id)
            .await
            .expect("db")
            .expect("file")
            .name,
        "a.docx"
    );
    // Bob's session reaches none of Alice's files.
    assert_eq!(
        bob.get(&format!("/files/{id}/download")).await.status(),
        404
    );
    assert_eq!(
        bob.get(&format!("/files/{id}/versions")).await.status(),
        404
    );
    assert_eq!(
        bob.post(&format!("/files/{id}/delete"), &[("csrf", &bob_csrf)])
            .await
            .status(),
        404
    );
    // Once shared read-only, Bob may view but not change.
    assert_eq!(
        alice
            .post(
                &format!("/files/{id}/share"),
                &[("csrf", &alice_csrf), ("user", "bob"), ("mode", "read")]
            )
            .await
            .status(),
        303
    );
    assert_eq!(
        bob.get(&format!("/files/{id}/download")).await.status(),
        200
    );
    assert_eq!(
        bob.post(
            &format!("/files/{id}/rename"),
            &[("csrf", &bob_csrf), ("name", "b.docx")]
        )
        .await
        .status(),
        403
    );
    let page = bob
        .get(&bob.home().await.0)
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("Shared with me") && page.contains("a.docx"));
    // A forged session cookie is no session.
    let forged = Browser {
        cookie: "wopid_session=forged".into(),
        ..bob
    };
    assert_eq!(
        forged.get(&format!("/files/{id}/download")).await.status(),
        303
    );
}

#[tokio::test]
async fn wrong_passwords_and_open_redirects() {
    let s = TestServer::start().await;
    user(&s, "alice", "alice-password").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http
        .get(format!("{}/login", s.base))
        .send()
        .await
        .expect("send");
    let cookie = set_cookie(&page, "wopid_login_csrf").expect("cookie");
    let csrf = field(&page.text().await.expect("html"), "csrf");
    let login = |password: &'static str, next: &'static str| {
        let req = http
            .post(format!("{}/login", s.base))
            .header("Cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "alice"),
                ("password", password),
                ("next", next),
            ]);
        async move { req.send().await.expect("send") }
    };
    assert_eq!(login("wrong", "/").await.status(), 401);
    let r = login("alice-password", "https://evil.example/").await;
    assert_eq!(
        r.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/")
    );
    let r = login("alice-password", "//evil.example/").await;
    assert_eq!(
        r.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/")
    );
    // The login form itself is CSRF-protected.
    let r = http
        .post(format!("{}/login", s.base))
        .form(&[
            ("csrf", "x"),
            ("username", "alice"),
            ("password", "alice-password"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
}
