//! The administrators' page: only admins reach it; they create users, reset passwords, disable
//! and enable users, and see the editors' state and what the store holds.

use crate::emulator::{Emulator, Kind};
use crate::harness::*;
use crate::web::{Browser, field, user};

async fn admin_page(b: &Browser) -> (u16, String) {
    let r = b.get("/admin").await;
    let status = r.status().as_u16();
    (status, r.text().await.expect("html"))
}

/// A sign-in attempt's status, without asserting it works.
async fn sign_in_status(s: &TestServer, login: &str, password: &str) -> u16 {
    let form = crate::signin::LoginForm::open(s).await;
    let r = form.post(login, password, "/").send().await.expect("send");
    r.status().as_u16()
}

#[tokio::test]
async fn only_administrators_manage_users_from_the_admin_page() {
    let s = TestServer::start().await;
    // The first user is an administrator; later ones are not.
    user(&s, "alice", "alice-password").await;
    let bob_id = user(&s, "bob", "bob-password").await;
    s.add_file("alice", "report.docx", b"12345").await;
    let alice = Browser::sign_in(&s, "alice", "alice-password").await;
    let bob = Browser::sign_in(&s, "bob", "bob-password").await;

    let (status, _) = admin_page(&bob).await;
    assert_eq!(status, 403, "a user who is not an administrator");
    let (_, bob_csrf) = bob.home().await;
    let r = bob
        .post(
            "/admin/users",
            &[
                ("csrf", &bob_csrf),
                ("login", "mallory"),
                ("password", "mallory-pw"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(sign_in_status(&s, "mallory", "mallory-pw").await, 401);

    let (status, html) = admin_page(&alice).await;
    assert_eq!(status, 200);
    for text in [
        "alice",
        "bob",
        "administrator",
        "Storage",
        "No editor is configured",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    // One file of 5 bytes, two users, two roots.
    assert!(html.contains("<dt>Files</dt><dd>1</dd>"), "{html}");
    assert!(
        html.contains("<dt>Current contents</dt><dd>5 B</dd>"),
        "{html}"
    );
    let csrf = field(&html, "csrf");

    // Forms without the session's CSRF token change nothing.
    let r = alice
        .post(
            "/admin/users",
            &[("login", "carol"), ("password", "carol-password")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(sign_in_status(&s, "carol", "carol-password").await, 401);

    // Create a user, who can then sign in.
    let r = alice
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("login", "carol"),
                ("display_name", "Carol C."),
                ("email", "carol@example.com"),
                ("password", "carol-password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        header(&r, "location").as_deref(),
        Some("/admin?done=created")
    );
    let carol = Browser::sign_in(&s, "carol", "carol-password").await;
    let (_, html) = admin_page(&alice).await;
    assert!(html.contains("The user was created.") || html.contains("carol@example.com"));
    // The same name twice, or a short password: refused with a reason, nothing created.
    let r = alice
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("login", "carol"),
                ("password", "another-pw"),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = alice
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("login", "dave"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(sign_in_status(&s, "dave", "short").await, 401);

    // Reset bob's password: his session ends, the old password fails, the new one works.
    let r = alice
        .post(
            &format!("/admin/users/{bob_id}/password"),
            &[("csrf", csrf.as_str()), ("password", "bob-new-password")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(bob.get("/").await.status(), 303, "bob's session ended");
    assert!(
        header(&bob.get("/").await, "location").is_some_and(|l| l.starts_with("/login")),
        "to the sign-in page"
    );
    assert_eq!(sign_in_status(&s, "bob", "bob-password").await, 401);
    assert_eq!(sign_in_status(&s, "bob", "bob-new-password").await, 303);

    // Disable carol: her session ends and she cannot sign in; enable her again.
    let carol_id = s
        .state
        .meta
        .user_by_login("carol")
        .await
        .expect("get")
        .expect("carol")
        .id;
    let r = alice
        .post(
            &format!("/admin/users/{carol_id}/disable"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_ne!(carol.get("/").await.status(), 200);
    assert_ne!(sign_in_status(&s, "carol", "carol-password").await, 303);
    let (_, html) = admin_page(&alice).await;
    assert!(html.contains("disabled"), "{html}");
    let r = alice
        .post(
            &format!("/admin/users/{carol_id}/enable"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(sign_in_status(&s, "carol", "carol-password").await, 303);

    // An administrator cannot lock themselves out.
    let alice_id = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("get")
        .expect("alice")
        .id;
    let r = alice
        .post(
            &format!("/admin/users/{alice_id}/disable"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(admin_page(&alice).await.0, 200);
}

#[tokio::test]
async fn the_admin_page_warns_of_an_editor_that_cannot_prove() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emulator::start(Kind::Collabora, "collabora", dir.path()).await;
    let flag = format!("collabora={}", emu.discovery_path.display());
    let editors = wopid::config::EditorFlag::editors(&[
        wopid::config::EditorFlag::parse(&flag).expect("flag")
    ])
    .expect("editors");
    let s = TestServer::start_with_editors(editors, |_| {}).await;
    emu.attach(&s);
    user(&s, "alice", "alice-password").await;
    let alice = Browser::sign_in(&s, "alice", "alice-password").await;
    let (status, html) = admin_page(&alice).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("collabora") && html.contains("fetched"),
        "{html}"
    );
    assert!(!html.contains("cannot be used"), "keys present: {html}");

    emu.drop_proof_key();
    let e = s.state.editors.get("collabora").expect("editor");
    wopid::editors::refresh(&s.state, e).await;
    let (_, html) = admin_page(&alice).await;
    assert!(html.contains("no proof key"), "{html}");
    assert!(html.contains("proof=optional"), "{html}");
}
