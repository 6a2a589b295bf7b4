//! `wopid check`, `wopid migrate-db` and `wopid migrate`, through the binary: an embedded install
//! is copied into other engines (PostgreSQL + S3 when their URLs are set, else another SQLite and
//! folder), every version's content included; a second run refuses, a resumed one completes.

use std::process::Command;

use wopid_store::Meta;

use crate::services;

fn wopid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wopid"))
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run wopid");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(cmd: &mut Command) -> String {
    let (success, stdout, stderr) = run(cmd);
    assert!(success, "{stderr}");
    stdout
}

#[test]
fn check_fails_when_a_store_is_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = ok(wopid().arg("check").arg("--data").arg(&data));
    assert!(
        out.contains("metadata: ok") && out.contains("blobs: ok"),
        "{out}"
    );
    ok(wopid().arg("migrate-db").arg("--data").arg(&data));
    // Nothing listens on port 1 of loopback.
    let (success, out, _) = run(wopid()
        .args([
            "check",
            "--meta",
            "postgres://wopid:secret@127.0.0.1:1/db?acquire_timeout_ms=2000",
        ])
        .arg("--data")
        .arg(&data));
    assert!(!success, "check must exit non-zero");
    assert!(out.contains("metadata: FAILED"), "{out}");
    assert!(
        !out.contains("secret"),
        "the password is never printed: {out}"
    );
    let (success, out, _) = run(wopid()
        .args(["check", "--blobs", "s3://b?endpoint=http://127.0.0.1:1"])
        .arg("--data")
        .arg(&data));
    assert!(!success && out.contains("blobs: FAILED"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_an_install_into_other_engines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let src = dir.path().join("in.txt");
    std::fs::File::create(&src)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"first content"))
        .expect("write input");
    let id = ok(wopid()
        .args([
            "files", "add", "--name", "a.docx", "--user", "alice", "--data",
        ])
        .arg(&data)
        .arg(&src));
    let id = id.trim().to_owned();
    ok(wopid()
        .args([
            "files", "add", "--name", "b.docx", "--user", "bob", "--data",
        ])
        .arg(&data));
    ok(wopid()
        .args(["token", "issue", "--file", &id, "--user", "alice", "--data"])
        .arg(&data));
    // A zip-based document is stored as chunks: its chunk blobs are copied too.
    let zipped = crate::chunks::docx(&[vec![7u8; 50_000], vec![9u8; 40_000]], "chunked");
    let zsrc = dir.path().join("in.docx");
    std::fs::File::create(&zsrc)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &zipped))
        .expect("write input");
    let zid = ok(wopid()
        .args([
            "files", "add", "--name", "c.docx", "--user", "alice", "--data",
        ])
        .arg(&data)
        .arg(&zsrc));
    let zid = zid.trim().to_owned();

    let (to_meta, to_blobs) = match (
        std::env::var(services::PG_VAR)
            .ok()
            .filter(|v| !v.is_empty()),
        std::env::var(services::S3_VAR)
            .ok()
            .filter(|v| !v.is_empty()),
    ) {
        (Some(pg), Some(s3)) => (services::fresh_meta(&pg), services::fresh_blobs(&s3)),
        _ => (
            format!("sqlite://{}", dir.path().join("to/wopid.db").display()),
            format!("file://{}", dir.path().join("to/blobs").display()),
        ),
    };
    let from_meta = format!("sqlite://{}", data.join("wopid.db").display());
    let from_blobs = format!("file://{}", data.join("blobs").display());
    let migrate = |to_meta: &str| {
        let mut c = wopid();
        c.args([
            "migrate",
            "--from-meta",
            &from_meta,
            "--from-blobs",
            &from_blobs,
        ])
        .args(["--to-meta", to_meta, "--to-blobs", &to_blobs]);
        c
    };
    let (success, _, err) = run(&mut migrate(&to_meta));
    assert!(success, "{err}");
    assert!(err.contains("migration done"), "{err}");

    // The copy serves the same files, versions and content.
    let on = |args: &[&str], meta: &str, blobs: &str| {
        let mut c = wopid();
        c.args(args).args(["--meta", meta, "--blobs", blobs]);
        c
    };
    let ls = |m: &str, b: &str| ok(&mut on(&["files", "ls"], m, b));
    let from_ls = ok(wopid().args(["files", "ls", "--data"]).arg(&data));
    assert_eq!(ls(&to_meta, &to_blobs), from_ls);
    let vs = ok(&mut on(&["files", "versions", &id], &to_meta, &to_blobs));
    assert_eq!(
        vs,
        ok(wopid()
            .args(["files", "versions", &id, "--data"])
            .arg(&data))
    );
    let out = dir.path().join("out.txt");
    let mut get = on(&["files", "get", &id], &to_meta, &to_blobs);
    ok(get.arg(&out));
    assert_eq!(std::fs::read(&out).expect("read"), b"first content");
    let mut get = on(&["files", "get", &zid], &to_meta, &to_blobs);
    ok(get.arg(&out));
    assert_eq!(std::fs::read(&out).expect("read"), zipped);

    // Again: refused, the target holds a finished copy.
    let (success, _, err) = run(&mut migrate(&to_meta));
    assert!(!success && err.contains("finished copy"), "{err}");
    // Into a target that holds another install: refused.
    let other = format!("sqlite://{}", dir.path().join("other.db").display());
    ok(&mut on(&["users", "ls"], &other, &to_blobs));
    let target = Meta::open(&other).await.expect("open");
    target.ensure_user("carol", "Carol", 1).await.expect("user");
    let (success, _, err) = run(&mut migrate(&other));
    assert!(!success && err.contains("not empty"), "{err}");

    // An interrupted copy is resumed: everything already there is verified and kept.
    let copy = Meta::open(&to_meta).await.expect("open");
    copy.put_setting("migration_state", "copying")
        .await
        .expect("set");
    drop(copy);
    let (success, _, err) = run(&mut migrate(&to_meta));
    assert!(success, "{err}");
    assert!(
        err.contains("resuming") && err.contains("0 copied"),
        "{err}"
    );
    assert_eq!(ls(&to_meta, &to_blobs), from_ls);
}
