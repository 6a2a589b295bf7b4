//! Sign-in under pressure: the lockout against parallel guesses, the per-address throttle, the
//! `next` redirect after sign-in, and password hashing kept off the thread serving requests.

use crate::harness::*;

/// A sign-in form of the web UI, ready to be posted many times.
pub(crate) struct LoginForm {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl LoginForm {
    pub(crate) async fn open(s: &TestServer) -> Self {
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

    pub(crate) fn post(&self, login: &str, password: &str, next: &str) -> reqwest::RequestBuilder {
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

pub(crate) fn has_session(r: &reqwest::Response) -> bool {
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

// It measures how late a timer wakes, so the other tests of this binary running beside it on a
// two-core machine disturb it: `.ci/run` runs it alone, as a step of its own.
#[tokio::test]
#[ignore = "timing: run alone (`.ci/run` does)"]
async fn password_checks_never_stall_the_server() {
    // The server runs on this test's runtime, which has one thread. A probe on it wakes every
    // millisecond and notes how late it wakes: Argon2 run on that thread (rather than on the
    // blocking pool) would hold it for a whole hash at every sign-in.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let s = TestServer::start_with(|c| c.sign_in_max_failures_per_address = 1_000).await;
    crate::web::user(&s, "dave", "dave-password").await;
    // What one check costs here at best.
    let hash = wopid::auth::password::hash("p").expect("hash");
    let one_hash = (0..3)
        .map(|_| {
            let t = Instant::now();
            assert!(!wopid::auth::password::verify("q", &hash));
            t.elapsed()
        })
        .min()
        .expect("three");
    let form = LoginForm::open(&s).await;
    let stop = Arc::new(AtomicBool::new(false));
    // A wake-up later than nearly a whole hash: the thread was held by something of a hash's
    // size. A hash run inline holds it at least that long at every sign-in, while the scheduler
    // of a busy machine (other tests of this binary run beside this one) delays wake-ups by some
    // milliseconds, and rarely by a whole hash.
    let long = one_hash * 9 / 10;
    let probe = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut stalls = Vec::new();
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let now = Instant::now();
                if now - last > long {
                    stalls.push(now - last);
                }
                last = now;
            }
            stalls
        })
    };
    const SIGN_INS: u32 = 8;
    for i in 0..SIGN_INS {
        // Unknown names (the dummy hash) and a known one with a wrong password.
        let name = if i % 2 == 0 {
            format!("nobody-{i}")
        } else {
            "dave".into()
        };
        let r = form.post(&name, "wrong", "/").send().await.expect("send");
        assert_eq!(r.status(), 401);
    }
    stop.store(true, Ordering::Relaxed);
    let stalls = probe.await.expect("probe");
    eprintln!("one hash {one_hash:?}, stalls of the server's thread {stalls:?}");
    assert!(
        stalls.len() < SIGN_INS as usize / 2,
        "the server's thread was held {stalls:?} during {SIGN_INS} sign-ins ({one_hash:?} a hash)"
    );
}
