//! Names with invisible formatting characters (a right-to-left override makes
//! `invoice\u{202E}fdp.exe` display as `invoiceexe.pdf`) are refused wherever wopid takes a name
//! exactly, and cleaned where it may choose the name itself.

use serde_json::Value;

use crate::harness::*;

/// U+202E RIGHT-TO-LEFT OVERRIDE, in the UTF-7 of WOPI headers.
const RLO: &str = "+IC4-";

async fn post(s: &TestServer, url: &str, ov: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = s.http.post(url).header("X-WOPI-Override", ov);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.expect("send")
}

/// The URL (with a container token) of the container holding file `id`.
async fn parent_url(s: &TestServer, id: &str, t: &str) -> String {
    let v: Value = s
        .http
        .get(format!(
            "{}/wopi/files/{id}/ancestry?access_token={t}",
            s.base
        ))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    v["AncestorsWithRootFirst"]
        .as_array()
        .and_then(|a| a.last())
        .expect("a parent")["Url"]
        .as_str()
        .expect("url")
        .to_owned()
}

async fn names_in(s: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = s
        .state
        .meta
        .list_files(None)
        .await
        .expect("list")
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn wopi_refuses_or_cleans_names_with_invisible_formatting() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "report.docx", b"src").await;
    let t = s.token("alice", &id, RW).await;

    // RenameFile: 400 with X-WOPI-InvalidFileNameError.
    let r = s
        .op(&id, &t, "RENAME_FILE")
        .header("X-WOPI-RequestedName", format!("invoice{RLO}fdp"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidfilenameerror").is_some());

    // PutRelativeFile with an exact target: the same.
    let r = s
        .op(&id, &t, "PUT_RELATIVE")
        .header("X-WOPI-RelativeTarget", format!("a{RLO}xcod.exe"))
        .body(b"x".to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidfilenameerror").is_some());

    // With a suggested target the name is cleaned instead.
    let r = s
        .op(&id, &t, "PUT_RELATIVE")
        .header("X-WOPI-SuggestedTarget", format!("b{RLO}xcod.exe"))
        .body(b"x".to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["Name"], "bxcod.exe");

    // Containers: CreateChildContainer, RenameContainer, CreateChildFile.
    let root = parent_url(&s, &id, &t).await;
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-RelativeTarget", &format!("Q1{RLO}"))],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidcontainernameerror").is_some());
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-SuggestedTarget", &format!("Q2{RLO}x"))],
    )
    .await;
    assert_eq!(r.status(), 200);
    let q2: Value = r.json().await.expect("json");
    assert_eq!(q2["ContainerPointer"]["Name"], "Q2x");
    let q2_url = q2["ContainerPointer"]["Url"].as_str().expect("url");
    let r = post(
        &s,
        q2_url,
        "RENAME_CONTAINER",
        &[("X-WOPI-RequestedName", &format!("Q3{RLO}"))],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidcontainernameerror").is_some());
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-RelativeTarget", &format!("c{RLO}xcod.exe"))],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidfilenameerror").is_some());
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-SuggestedTarget", &format!("d{RLO}xcod.exe"))],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["Name"], "dxcod.exe");

    for name in names_in(&s).await {
        assert!(!name.contains('\u{202E}'), "stored {name:?}");
    }
}

#[tokio::test]
async fn web_forms_and_user_names_refuse_invisible_formatting() {
    let s = TestServer::start().await;
    crate::web::user(&s, "alice", "alice-password").await;
    let b = crate::web::Browser::sign_in(&s, "alice", "alice-password").await;
    let (folder, csrf) = b.home().await;
    let id = s.add_file("alice", "report.docx", b"x").await;

    let r = b
        .post(
            &format!("/files/{id}/rename"),
            &[("csrf", &csrf), ("name", "invoice\u{202E}fdp.exe")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = b
        .post(
            &format!("{folder}/mkdir"),
            &[("csrf", &csrf), ("name", "a\u{2066}b")],
        )
        .await;
    assert_eq!(r.status(), 400);
    // An upload's name is wopid's to choose: cleaned.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"up".to_vec()).file_name("up\u{202E}txt.exe"),
    );
    let r = b
        .http
        .post(format!("{}{folder}/upload?csrf={csrf}", s.base))
        .header("Cookie", &b.cookie)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(names_in(&s).await, ["report.docx", "uptxt.exe"]);

    // Users created on first use (by the CLI's `files add --user`, say).
    for login in ["adm\u{202E}nimda", "\u{200B}alice", "bob\u{FEFF}"] {
        let e = wopid::ops::files::ensure_user(&s.state, login).await;
        assert!(e.is_err(), "{login:?} was accepted");
    }
}

#[test]
fn users_add_refuses_invisible_formatting_in_logins_and_display_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let add = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wopid"))
            .args(["users", "add"])
            .args(args)
            .arg("--data")
            .arg(&data)
            .output()
            .expect("run wopid")
    };
    let out = add(&["adm\u{202E}nimda"]);
    assert!(!out.status.success(), "a login with an override was added");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invisible"));
    let out = add(&["carol", "--display-name", "Carol\u{2067}"]);
    assert!(
        !out.status.success(),
        "a display name with an isolate was added"
    );
    let out = add(&["carol", "--display-name", "Carol Danvers"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // OAuth clients are named to the user on the sign-in page.
    let client = |name: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wopid"))
            .args([
                "oauth-clients",
                "add",
                name,
                "--redirect-uri",
                "ms-app://x/cb",
            ])
            .arg("--data")
            .arg(&data)
            .output()
            .expect("run wopid")
    };
    assert!(!client("Office\u{202E}evil").status.success());
    assert!(client("Office").status.success());
}
