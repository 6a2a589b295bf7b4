//! Sign-in under pressure: the lockout against parallel guesses, the per-address throttle, the
//! `next` redirect after sign-in, and password hashing kept off the request workers.

use crate::harness::*;
use wopid::auth::Perms;

/// A sign-in form of the web UI, ready to be posted many times.
struct LoginForm {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl LoginForm {
    async fn open(s: &TestServer) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .expect("client");
        let page = http
            .get(format!("{}/login", s.base))
            .send()
            .await
            .expect("send");
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("wopid_login_csrf="))
            .and_then(|v| v.split(';').next())
            .expect("csrf cookie")
            .to_owned();
        let html = page.text().await.expect("html");
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("csrf")
            .to_owned();
        Self {
            http,
            base: s.base.clone(),
            cookie,
            csrf,
        }
    }

    fn post(&self, login: &str, password: &str, next: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/login", self.base))
            .header("Cookie", &self.cookie)
            .form(&[
                ("csrf", self.csrf.as_str()),
                ("username", login),
                ("password", password),
                ("next", next),
            ])
    }
}

fn has_session(r: &reqwest::Response) -> bool {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("wopid_session="))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_cannot_beat_the_lockout() {
    let s = TestServer::start_with(|c| c.sign_in_max_failures_per_address = 1000).await;
    crate::web::user(&s, "alice", "alice-password").await;
    let form = std::sync::Arc::new(LoginForm::open(&s).await);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let form = form.clone();
        tasks.push(tokio::spawn(async move {
            let r = form
                .post("alice", &format!("wrong-{i}"), "/")
                .send()
                .await
                .expect("send");
            (r.status().as_u16(), has_session(&r))
        }));
    }
    let mut unauthorized = 0;
    for t in tasks {
        let (status, session) = t.await.expect("task");
        assert!(!session);
        match status {
            401 => unauthorized += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        unauthorized, 5,
        "only five wrong passwords are ever checked"
    );
    let r = form
        .post("alice", "alice-password", "/")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    assert!(!has_session(&r), "no session while locked out");
    // Once the window has passed, the right password works again.
    s.clock.advance_ms(16 * 60_000);
    let r = form
        .post("alice", "alice-password", "/")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    assert!(has_session(&r));
}

#[tokio::test]
async fn one_address_cannot_guess_across_many_names() {
    let s = TestServer::start_with(|c| c.sign_in_max_failures_per_address = 8).await;
    crate::web::user(&s, "bob", "bob-password").await;
    let form = LoginForm::open(&s).await;
    for i in 0..8 {
        let r = form
            .post(&format!("nobody-{i}"), "guess", "/")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    // A name never tried before, even with its right password: this address is throttled.
    let r = form
        .post("bob", "bob-password", "/")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    assert!(!has_session(&r));
    s.clock.advance_ms(16 * 60_000);
    let r = form
        .post("bob", "bob-password", "/")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn next_is_only_ever_a_path_of_this_site() {
    let s = TestServer::start().await;
    crate::web::user(&s, "carol", "carol-password").await;
    let form = LoginForm::open(&s).await;
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=y",
        "/ /evil.example",
        "/\u{7f}/evil.example",
        "/\u{a0}/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
    ] {
        let r = form
            .post("carol", "carol-password", next)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 303, "next {next:?}");
        assert_eq!(
            header(&r, "location").as_deref(),
            Some("/"),
            "next {next:?}"
        );
        assert!(has_session(&r));
    }
    // The sign-in page does not carry such a `next` into its form either.
    let r = form
        .http
        .get(format!("{}/login?next=/%09/evil.example", s.base))
        .send()
        .await
        .expect("send");
    let html = r.text().await.expect("html");
    assert!(!html.contains("evil.example"), "{html}");
    // A path of this site is kept.
    let r = form
        .post("carol", "carol-password", "/browse/x?y=1")
        .send()
        .await
        .expect("send");
    assert_eq!(header(&r, "location").as_deref(), Some("/browse/x?y=1"));
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_does_not_stall_wopi() {
    // The test runtime has one thread: hashing on it would stop everything else.
    let s = std::sync::Arc::new(
        TestServer::start_with(|c| {
            c.sign_in_max_failures_per_address = 1_000_000;
            // One core hashes; the other is left to everything else.
            c.password_hash_concurrency = 1;
        })
        .await,
    );
    crate::web::user(&s, "dave", "dave-password").await;
    let id = s.add_file("erin", "a.docx", b"x").await;
    let token = s.token("erin", &id, Perms::READ_WRITE).await;
    // What one hash costs here.
    let hash = wopid::auth::password::hash("p").expect("hash");
    let t = std::time::Instant::now();
    assert!(!wopid::auth::password::verify("q", &hash));
    let one_hash = t.elapsed();

    let form = std::sync::Arc::new(LoginForm::open(&s).await);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for c in 0..16 {
        let form = form.clone();
        let stop = stop.clone();
        flood.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 10_000 {
                // A new name every time, so the per-name lockout never short-cuts the hash.
                let _ = form.post(&format!("f{c}-{i}"), "wrong", "/").send().await;
                i += 1;
            }
        }));
    }
    // Let the flood get going.
    tokio::task::yield_now().await;
    let mut times = Vec::new();
    for _ in 0..15 {
        let t = std::time::Instant::now();
        let r = s
            .http
            .get(s.file_url(&id, &token))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        times.push(t.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        f.await.expect("flood task");
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(
        median < one_hash,
        "CheckFileInfo median {median:?} while one hash takes {one_hash:?}"
    );
}
