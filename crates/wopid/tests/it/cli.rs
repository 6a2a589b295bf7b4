//! The `wopid` binary: serve prints one line and shuts down on SIGTERM; files and token commands
//! work on the same data folder while it serves.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wopid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wopid"))
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run wopid");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn serve_files_and_tokens_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let src = dir.path().join("in.txt");
    std::fs::File::create(&src)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"from disk"))
        .expect("write input");

    let mut child = wopid()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("read");
    let url = first
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));

    let id = output(
        wopid()
            .args([
                "files", "add", "--name", "doc.txt", "--user", "alice", "--data",
            ])
            .arg(&data)
            .arg(&src),
    );
    let id = id.trim().to_owned();
    let json = output(
        wopid()
            .args([
                "token",
                "issue",
                "--file",
                &id,
                "--user",
                "alice",
                "--public-url",
                &url,
                "--data",
            ])
            .arg(&data),
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(v["file_id"], id.as_str());
    assert_eq!(v["wopi_src"], format!("{url}/wopi/files/{id}"));
    let ttl = v["access_token_ttl"].as_i64().expect("ttl");
    assert!(ttl > 1_700_000_000_000, "an absolute instant in epoch ms");

    let client = reqwest::Client::new();
    let token = v["access_token"].as_str().expect("token");
    let got = client
        .get(format!(
            "{url}/wopi/files/{id}/contents?access_token={token}"
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"from disk");

    let ls = output(wopid().args(["files", "ls", "--data"]).arg(&data));
    assert!(ls.contains(&id) && ls.contains("doc.txt"));
    let versions = output(
        wopid()
            .args(["files", "versions", &id, "--data"])
            .arg(&data),
    );
    assert_eq!(versions.lines().count(), 1);
    let out = dir.path().join("out.txt");
    output(
        wopid()
            .args(["files", "get", &id])
            .arg(&out)
            .arg("--data")
            .arg(&data),
    );
    assert_eq!(std::fs::read(&out).expect("read back"), b"from disk");

    // SIGTERM: graceful shutdown, bounded wait.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "wopid did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(lines.next().is_none(), "exactly one stdout line");
}

#[test]
fn config_example_is_complete() {
    let text = output(wopid().args(["config", "example"]));
    for key in [
        "listen",
        "data",
        "public_url",
        "meta",
        "blobs",
        "max_upload_bytes",
        "access_token_ttl",
        "share_url_ttl",
        "trash_retention",
    ] {
        assert!(
            text.contains(&format!("{key} =")),
            "{key} missing from the example"
        );
    }
}

#[test]
fn users_shares_and_oauth_clients_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let with_data = |args: &[&str]| {
        let mut c = wopid();
        c.args(args).arg("--data").arg(&data);
        c
    };
    let mut add = with_data(&[
        "users",
        "add",
        "carol",
        "--email",
        "c@example.com",
        "--display-name",
        "Carol",
        "--password-stdin",
    ]);
    add.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = add.spawn().expect("spawn");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b"s3cret-password\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["login"], "carol");
    assert!(
        !with_data(&["users", "add", "carol"])
            .output()
            .expect("run")
            .status
            .success(),
        "duplicate user"
    );
    assert!(output(&mut with_data(&["users", "ls"])).contains("carol\tCarol"));

    let id = output(&mut with_data(&[
        "files", "add", "--name", "x.docx", "--user", "dave",
    ]))
    .trim()
    .to_owned();
    // Carol has no access yet: no token.
    let denied = with_data(&["token", "issue", "--file", &id, "--user", "carol"])
        .output()
        .expect("run");
    assert!(!denied.status.success());
    output(&mut with_data(&[
        "share",
        &id,
        "--user",
        "carol",
        "--read-only",
    ]));
    let json = output(&mut with_data(&[
        "token", "issue", "--file", &id, "--user", "carol",
    ]));
    assert!(json.contains("access_token"));

    let client = output(&mut with_data(&[
        "oauth-clients",
        "add",
        "Office",
        "--redirect-uri",
        "https://localhost/cb",
    ]));
    let v: serde_json::Value = serde_json::from_str(&client).expect("json");
    assert!(v["client_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(v["require_pkce"], true);
    let legacy = output(&mut with_data(&[
        "oauth-clients",
        "add",
        "Old app",
        "--redirect-uri",
        "https://localhost/old",
        "--pkce-optional",
    ]));
    let v: serde_json::Value = serde_json::from_str(&legacy).expect("json");
    assert_eq!(v["require_pkce"], false);
    assert!(
        !with_data(&["oauth-clients", "add", "Bad", "--redirect-uri", "not a uri"])
            .output()
            .expect("run")
            .status
            .success()
    );
}

/// A `wopid serve` on `data`, and its URL; killed by the caller.
fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let mut child = wopid()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("read");
    let url = first
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    (child, url)
}

/// Nothing the server reads per request is cached: a token revoked and a share narrowed by a CLI
/// command (another process, writing the same database) take effect on the very next request.
#[tokio::test]
async fn revocations_and_share_changes_by_the_cli_apply_to_the_next_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let src = dir.path().join("in.txt");
    std::fs::File::create(&src)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"shared"))
        .expect("write input");
    let (mut child, url) = serve(&data);
    let cli = |args: &[&str]| output(wopid().args(args).arg("--data").arg(&data));
    let src = src.to_str().expect("utf-8 path");
    let id = cli(&["files", "add", "--name", "doc.txt", "--user", "alice", src])
        .trim()
        .to_owned();
    cli(&["users", "add", "bob"]);
    cli(&["share", &id, "--user", "bob", "--write"]);
    let token = |user: &str| {
        let json = cli(&["token", "issue", "--file", &id, "--user", user]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        v["access_token"].as_str().expect("token").to_owned()
    };
    let (alice, bob) = (token("alice"), token("bob"));
    let http = reqwest::Client::new();
    let info = |t: String| {
        let http = http.clone();
        let url = format!("{url}/wopi/files/{id}?access_token={t}");
        async move {
            let r = http.get(url).send().await.expect("send");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.ok())
        }
    };

    // Bob may write; the share is narrowed to reading by the CLI; his next request sees it.
    let (st, v) = info(bob.clone()).await;
    assert_eq!(st, 200);
    // A false flag is left out of CheckFileInfo.
    let can_write = |v: Option<serde_json::Value>| v.expect("json")["UserCanWrite"] == true;
    assert!(can_write(v));
    cli(&["share", &id, "--user", "bob", "--read-only"]);
    let (st, v) = info(bob.clone()).await;
    assert_eq!(st, 200);
    assert!(!can_write(v), "the narrowed share");

    // The share is removed by the CLI: Bob's next request is refused, and removing it again
    // fails.
    let out = cli(&["share", &id, "--user", "bob", "--remove"]);
    assert!(out.contains("removed"), "{out}");
    assert_eq!(info(bob.clone()).await.0, 401, "the removed share");
    let again = wopid()
        .args(["share", &id, "--user", "bob", "--remove", "--data"])
        .arg(&data)
        .output()
        .expect("run");
    assert!(!again.status.success(), "no share left to remove");
    cli(&["share", &id, "--user", "bob", "--read-only"]);

    // Alice's tokens are revoked by the CLI; her next request is refused.
    assert_eq!(info(alice.clone()).await.0, 200);
    let out = cli(&["token", "revoke", "--user", "alice", "--file", &id]);
    assert!(out.contains("revoked 1"), "{out}");
    assert_eq!(info(alice).await.0, 401, "the revoked token");
    assert_eq!(info(bob).await.0, 200, "another user's token stands");

    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn api_keys_and_users_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let run = |args: &[&str]| output(wopid().args(args).arg("--data").arg(&data));
    // The first user is an administrator; --admin makes another one.
    let first: serde_json::Value =
        serde_json::from_str(&run(&["users", "add", "ann"])).expect("json");
    assert_eq!(first["admin"], true);
    let second: serde_json::Value =
        serde_json::from_str(&run(&["users", "add", "bob"])).expect("json");
    assert_eq!(second["admin"], false);
    let third: serde_json::Value =
        serde_json::from_str(&run(&["users", "add", "cat", "--admin"])).expect("json");
    assert_eq!(third["admin"], true);
    assert!(run(&["users", "disable", "bob"]).contains("disabled"));
    let refused = wopid()
        .args(["users", "disable", "nobody", "--data"])
        .arg(&data)
        .output()
        .expect("run");
    assert!(!refused.status.success());

    // A key is printed once; the listing names it without the key; revoking marks it.
    let made: serde_json::Value = serde_json::from_str(&run(&[
        "api-keys",
        "add",
        "intranet",
        "--scope",
        "admin",
        "--origin",
        "https://intranet.example",
    ]))
    .expect("json");
    let key = made["key"].as_str().expect("key");
    let id = made["id"].as_str().expect("id");
    assert!(key.starts_with(&format!("wopid_{id}_")));
    let listed = run(&["api-keys", "list"]);
    assert!(listed.contains(id) && listed.contains("admin") && listed.contains("active"));
    assert!(!listed.contains(key));
    assert!(run(&["api-keys", "revoke", id]).contains("revoked"));
    assert!(run(&["api-keys", "list"]).contains("revoked"));
    for bad in [
        vec!["api-keys", "add", "x", "--origin", "intranet.example"],
        vec!["api-keys", "add", "x", "--scope", "root"],
        vec!["api-keys", "revoke", "nope"],
    ] {
        let out = wopid()
            .args(&bad)
            .arg("--data")
            .arg(&data)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{bad:?}");
    }
}
