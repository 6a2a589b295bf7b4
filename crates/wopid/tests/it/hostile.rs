//! Hostile input over HTTP: random and malformed requests get a 4xx (or the spec's 501, or a 200
//! for a request that happens to be valid), never another 5xx, never a panic, and a refused request
//! writes nothing; tampered, expired, revoked and misdirected tokens get 401; clients that trickle
//! headers or bodies are cut off without holding up others; no token ever reaches the logs.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::TestRunner;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::harness::*;

/// A lock id the generated requests cannot guess: the file stays locked by someone else.
const HOLDER: &str = "held-by-someone-else-0b5e";
const CAP: u64 = 64 * 1024;

/// Sends raw bytes (then half-closes the connection, if asked) and returns the status of the
/// response: None when the server closed without one, which hyper does when a client half-closes
/// in the middle of a request.
async fn raw(addr: &str, request: &[u8], half_close: bool) -> Option<u16> {
    let sock = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = sock.into_split();
    // Read while writing, as a client does: the server may answer (and stop reading) before all
    // of a large body is sent.
    let sent = request.to_vec();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&sent).await;
        if half_close {
            let _ = wr.shutdown().await;
        }
        wr
    });
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut out)).await;
    drop(writer.await);
    assert!(
        read.is_ok(),
        "no answer within 20s to {:?}",
        preview(request)
    );
    let line = out.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned()
}

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Everything a request could have written: files with their state, versions and blob files.
async fn snapshot(s: &TestServer) -> (Vec<String>, usize) {
    let mut rows = Vec::new();
    for f in s.state.meta.list_files(None).await.expect("list") {
        let versions = s.state.meta.versions(&f.id).await.expect("versions");
        rows.push(format!(
            "{} {} v{} rev{} {:?} {} versions={}",
            f.id,
            f.name,
            f.version,
            f.rev,
            f.lock_id,
            f.sha256,
            versions.len()
        ));
    }
    let blobs = s.state.config.data.join("blobs");
    (rows, count_files(&blobs))
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count_files(&e.path()),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Header values that have broken parsers: traversal, separators, NUL and control bytes, bytes
/// that are not UTF-8, broken UTF-7, huge lengths, numbers out of range.
fn nasty_value() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&[u8]> = vec![
        b"..",
        b"../../etc/passwd",
        b"/",
        b"\\",
        b"a/b.docx",
        b"..\\..\\x.docx",
        b"x\0y.docx",
        b"\0",
        b"+AGF-x.docx",
        b"+/v8-",
        b"+ZeVnLIqe-",
        b"+",
        b"\xff\xfe.docx",
        b"\xc3\x28",
        b"\xed\xa0\x80",
        b"CON.docx",
        b".docx",
        b"",
        b" ",
        b"-1",
        b"-9223372036854775809",
        b"18446744073709551616",
        b"99999999999999999999999999999",
        b"0x10",
        b"1e9",
        b"bytes=0-",
        b"bytes=-0",
        b"bytes=5-2",
        b"bytes=18446744073709551615-18446744073709551616",
        b"true",
        b"TRUE",
        b"ReadWrite",
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
        2 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => (1usize..12_000, any::<u8>()).prop_map(|(n, b)| vec![b'a'.max(b % 128); n]),
        1 => (1usize..4, any::<u8>()).prop_map(|(n, b)| {
            let mut v = b"n".repeat(10_000);
            v.extend(std::iter::repeat_n(b, n));
            v
        }),
        1 => (-10_i128..10, any::<i128>()).prop_map(|(a, b)| (a.wrapping_mul(b)).to_string().into_bytes()),
    ]
}

const HEADERS: &[&str] = &[
    "X-WOPI-Lock",
    "X-WOPI-OldLock",
    "X-WOPI-SuggestedTarget",
    "X-WOPI-RelativeTarget",
    "X-WOPI-OverwriteRelativeTarget",
    "X-WOPI-RequestedName",
    "X-WOPI-Size",
    "X-WOPI-MaxExpectedSize",
    "X-WOPI-UrlType",
    "X-WOPI-CorrelationId",
    "Range",
    "Content-Length",
    "Authorization",
];

const OVERRIDES: &[&str] = &[
    "LOCK",
    "UNLOCK",
    "REFRESH_LOCK",
    "GET_LOCK",
    "PUT",
    "PUT_RELATIVE",
    "RENAME_FILE",
    "GET_SHARE_URL",
    "PUT_USER_INFO",
    "ADD_ACTIVITIES",
    "COBALT",
    "lock",
    "",
];

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    suffix: &'static str,
    override_: Vec<u8>,
    headers: Vec<(&'static str, Vec<u8>)>,
    body_len: usize,
    declared: Option<i64>,
}

fn case() -> impl Strategy<Value = Case> {
    let override_ = prop_oneof![
        3 => proptest::sample::select(OVERRIDES).prop_map(|s| s.as_bytes().to_vec()),
        1 => nasty_value(),
    ];
    (
        proptest::sample::select(vec!["GET", "POST", "POST", "PUT", "DELETE", "HEAD"]),
        proptest::sample::select(vec!["", "", "/contents", "/ancestry", "/../x", "/%2e%2e"]),
        override_,
        proptest::collection::vec((proptest::sample::select(HEADERS), nasty_value()), 0..4),
        prop_oneof![3 => 0usize..100, 1 => Just(CAP as usize + 1), 1 => 0usize..200_000],
        prop_oneof![2 => Just(None), 1 => (-5_i64..5).prop_map(Some), 1 => any::<i64>().prop_map(Some)],
    )
        .prop_map(|(method, suffix, override_, headers, body_len, declared)| Case {
            method,
            suffix,
            override_,
            headers,
            body_len,
            declared,
        })
}

fn build(case: &Case, id: &str, token: &str) -> Vec<u8> {
    let mut r = format!(
        "{} /wopi/files/{id}{}?access_token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
        case.method, case.suffix
    )
    .into_bytes();
    let mut line = |name: &str, value: &[u8]| {
        // CR and LF would end the header: they are the request framing, not its content.
        let value: Vec<u8> = value
            .iter()
            .copied()
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        r.extend_from_slice(name.as_bytes());
        r.extend_from_slice(b": ");
        r.extend_from_slice(&value);
        r.extend_from_slice(b"\r\n");
    };
    line("X-WOPI-Override", &case.override_);
    for (name, value) in &case.headers {
        line(name, value);
    }
    let declared = case
        .declared
        .map_or(case.body_len.to_string(), |d| d.to_string());
    line("Content-Length", declared.as_bytes());
    r.extend_from_slice(b"\r\n");
    // A body that tells who wrote it, so a partial save would show.
    r.extend(b"hostile!".iter().cycle().take(case.body_len));
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_never_5xx_and_refusals_write_nothing() {
    let s = TestServer::start_with(|c| {
        c.max_upload_bytes = CAP;
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let id = s
        .add_file("alice", "target.docx", b"original content")
        .await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, HOLDER).await.status(), 200);
    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..160 {
        let case = strategy
            .new_tree(&mut runner)
            .expect("generate a case")
            .current();
        let before = snapshot(&s).await;
        // A body shorter than declared would wait for the body timeout: half-close instead.
        let short = case.declared.is_some_and(|d| d > case.body_len as i64);
        let status = raw(&addr(&s), &build(&case, &id, &t), short).await;
        *statuses.entry(status).or_insert(0) += 1;
        let Some(status) = status else {
            assert!(short, "closed without an answer: {case:?}");
            assert_eq!(
                snapshot(&s).await,
                before,
                "closed without answer, wrote: {case:?}"
            );
            continue;
        };
        assert!(
            (200..300).contains(&status) || (400..500).contains(&status) || status == 501,
            "status {status} for {case:?}"
        );
        if !(200..300).contains(&status) {
            assert_eq!(snapshot(&s).await, before, "{status} but wrote: {case:?}");
        }
        assert_eq!(
            s.http
                .get(format!("{}/healthz", s.base))
                .send()
                .await
                .expect("server alive")
                .status(),
            200
        );
    }
    // The file itself was never changed: it stayed locked by a lock id no case sent.
    let f = s.state.meta.file(&id).await.expect("read").expect("file");
    assert_eq!(f.version, 1);
    assert_eq!(f.lock_id.as_deref(), Some(HOLDER));
    assert_eq!(s.get_file(&id, &t).await, b"original content");
    assert!(
        statuses.len() > 3,
        "the cases reached several outcomes: {statuses:?}"
    );
}

#[tokio::test]
async fn oversized_headers_and_bodies_get_4xx_and_write_nothing() {
    let s = TestServer::start_with(|c| {
        c.max_upload_bytes = CAP;
        c.body_read_timeout = Duration::from_millis(500);
    })
    .await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let a = addr(&s);
    let before = snapshot(&s).await;
    let head = |extra: &str| {
        format!(
            "POST /wopi/files/{id}/contents?access_token={t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-WOPI-Override: PUT\r\n{extra}"
        )
    };
    // One huge header, and very many headers.
    for req in [
        format!("{}X-WOPI-Lock: {}\r\n\r\n", head(""), "l".repeat(1 << 20)),
        format!(
            "{}{}\r\n",
            head(""),
            (0..2000)
                .map(|i| format!("X-Junk-{i}: v\r\n"))
                .collect::<String>()
        ),
        format!(
            "GET /wopi/files/{id}?access_token={} HTTP/1.1\r\nHost: x\r\n\r\n",
            "t".repeat(1 << 20)
        ),
    ] {
        let st = raw(&a, req.as_bytes(), false).await;
        assert!(
            st.is_some_and(|st| (400..500).contains(&st)),
            "huge header: {st:?}"
        );
    }
    // Bodies over the cap: declared, undeclared (chunked), and larger than declared.
    let body = vec![b'x'; CAP as usize + 1];
    let mut declared = head(&format!("Content-Length: {}\r\n\r\n", body.len())).into_bytes();
    declared.extend_from_slice(&body);
    assert_eq!(raw(&a, &declared, false).await, Some(413));
    let mut chunked = head("Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    for piece in body.chunks(10_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(&a, &chunked, false).await, Some(413));
    let mut shorter = head("Content-Length: 100\r\n\r\n").into_bytes();
    shorter.extend_from_slice(b"only ten b");
    assert_eq!(
        raw(&a, &shorter, false).await,
        Some(408),
        "body never completed"
    );
    let st = raw(&a, &shorter, true).await;
    assert!(st.is_none_or(|st| (400..500).contains(&st)), "{st:?}");
    let mut longer = head("Content-Length: 10\r\n\r\n").into_bytes();
    longer.extend_from_slice(&body);
    let st = raw(&a, &longer, false).await;
    // The first 10 bytes are a valid PutFile of the empty file; the rest is not a request.
    assert!(matches!(st, Some(200 | 400)), "{st:?}");
    // Only the one valid 10-byte save may have happened.
    let after = snapshot(&s).await;
    let f = s.state.meta.file(&id).await.expect("read").expect("file");
    if f.version == 1 {
        assert_eq!(after, before);
    } else {
        assert_eq!(f.version, 2);
        assert_eq!(s.get_file(&id, &t).await, b"xxxxxxxxxx");
    }
    let stray = count_files(&s.state.config.data.join("blobs").join("tmp"));
    assert_eq!(stray, 0, "refused uploads leave no temp files");
}

#[tokio::test]
async fn tampered_expired_revoked_and_misdirected_tokens_get_401() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"alice's").await;
    let other = s.add_file("bob", "b.docx", b"bob's").await;
    let t = s.token("alice", &id, RW).await;
    let lock = |tok: String, file: String| {
        let req = s.op(&file, &tok, "LOCK").header("X-WOPI-Lock", "intruder");
        async move { req.send().await.expect("send").status().as_u16() }
    };
    let before = snapshot(&s).await;
    // Every position changed to another token character, and to a byte outside the alphabet.
    for i in 0..t.len() {
        let mut b = t.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(b).expect("ascii");
        assert_eq!(lock(tampered, id.clone()).await, 401, "byte {i} changed");
        let mut b = t.clone().into_bytes();
        b[i] ^= 0x80;
        let q: String = form_urlencoded::byte_serialize(&b).collect();
        assert_eq!(lock(q, id.clone()).await, 401, "byte {i} flipped");
    }
    for wrong in [
        String::new(),
        t[..t.len() - 1].to_owned(),
        format!("{t}A"),
        t.to_uppercase(),
        "A".repeat(5_000),
    ] {
        assert_eq!(lock(wrong, id.clone()).await, 401);
    }
    // Another user's token for another file, and alice's token on bob's file.
    let tb = s.token("bob", &other, RW).await;
    assert_eq!(lock(tb.clone(), id.clone()).await, 401);
    assert_eq!(lock(t.clone(), other.clone()).await, 401);
    // Expired: the clock passes the token's expiry.
    let short = {
        let u = wopid::ops::files::ensure_user(&s.state, "alice")
            .await
            .expect("user");
        wopid::auth::tokens::issue(
            &s.state,
            &u.id,
            wopid_store::ResourceKind::File,
            &id,
            RW,
            s.clock_now() + 1000,
        )
        .await
        .expect("token")
        .expose()
        .to_owned()
    };
    assert_eq!(
        s.http
            .get(s.file_url(&id, &short))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    s.clock.advance_ms(1000);
    assert_eq!(lock(short, id.clone()).await, 401, "expired");
    // Revoked.
    let bob = s
        .state
        .meta
        .user_by_login("bob")
        .await
        .expect("read")
        .expect("bob");
    s.state
        .meta
        .revoke_tokens(&bob.id, None)
        .await
        .expect("revoke");
    assert_eq!(lock(tb, other.clone()).await, 401, "revoked");
    assert_eq!(
        snapshot(&s).await,
        before,
        "no refused token wrote anything"
    );
    // The real token still works.
    assert_eq!(lock(t, id).await, 200);
}

/// Sends `prefix` one byte at a time every `gap`; returns how long until the server hung up and
/// what it answered.
async fn trickle(
    addr: String,
    prefix: Vec<u8>,
    gap: Duration,
    limit: Duration,
) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let mut sock = TcpStream::connect(&addr).await.expect("connect");
    let mut out = Vec::new();
    let mut bytes = prefix.into_iter().chain(std::iter::repeat(b'a'));
    loop {
        assert!(start.elapsed() < limit, "still connected after {limit:?}");
        let b = bytes.next().unwrap_or(b'a');
        if sock.write_all(&[b]).await.is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(gap, sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (start.elapsed(), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_without_blocking_others() {
    let timeout = Duration::from_millis(600);
    let s = TestServer::start_with(|c| {
        c.header_read_timeout = timeout;
        c.body_read_timeout = timeout;
    })
    .await;
    let id = s.add_file("alice", "a.docx", b"before").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
    let before = snapshot(&s).await;
    let a = addr(&s);
    // Twenty clients trickle their headers, a byte every 100 ms.
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(tokio::spawn(trickle(
            a.clone(),
            b"GET /healthz HTTP/1.1\r\nX-Slow: ".to_vec(),
            Duration::from_millis(100),
            Duration::from_secs(10),
        )));
    }
    // Five trickle a PutFile body after sending its headers at once.
    let put_head = format!(
        "POST /wopi/files/{id}/contents?access_token={t} HTTP/1.1\r\nHost: x\r\nX-WOPI-Override: PUT\r\nX-WOPI-Lock: L\r\nContent-Length: 100000\r\n\r\n"
    );
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let a = a.clone();
        let head = put_head.clone();
        stalled.push(tokio::spawn(async move {
            let mut sock = TcpStream::connect(&a).await.expect("connect");
            sock.write_all(head.as_bytes()).await.expect("send head");
            sock.write_all(b"partial").await.expect("send some body");
            let start = Instant::now();
            let mut out = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out)).await;
            assert!(read.is_ok(), "a stalled upload was never answered");
            (start.elapsed(), out)
        }));
    }
    // Five connect and send nothing at all.
    let mut silent = Vec::new();
    for _ in 0..5 {
        let a = a.clone();
        silent.push(tokio::spawn(async move {
            let mut sock = TcpStream::connect(&a).await.expect("connect");
            let start = Instant::now();
            let mut out = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut out)).await;
            assert!(read.is_ok(), "a silent connection was never closed");
            start.elapsed()
        }));
    }
    // Meanwhile other clients are served at once.
    for _ in 0..20 {
        let start = Instant::now();
        let info = s.check_file_info(&id, &t).await;
        assert_eq!(info["Version"], "1");
        assert!(start.elapsed() < Duration::from_millis(500), "served late");
    }
    for h in slow {
        let (took, answer) = h.await.expect("trickler");
        assert!(
            took < timeout * 4,
            "a trickling client held on for {took:?}"
        );
        assert!(
            !String::from_utf8_lossy(&answer).contains("200 OK"),
            "a trickled request was served"
        );
    }
    for h in silent {
        let took = h.await.expect("silent");
        assert!(
            took < timeout * 4,
            "a silent connection stayed for {took:?}"
        );
    }
    for h in stalled {
        let (took, answer) = h.await.expect("staller");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "stalled upload got {answer}"
        );
        assert!(took < timeout * 4, "a stalled upload held on for {took:?}");
    }
    assert_eq!(snapshot(&s).await, before, "no stalled upload was stored");
    let stray = count_files(&s.state.config.data.join("blobs").join("tmp"));
    assert_eq!(stray, 0, "stalled uploads leave no temp files");
}

/// A server process that is killed however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the real binary with every log level on and checks that no token it handed out, nor any
/// it was sent, shows up in what it logs.
#[tokio::test]
async fn no_token_ever_reaches_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_wopid");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .arg("--data")
            .arg(&data)
            .env("RUST_LOG", "trace")
            .output()
            .expect("run wopid");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).expect("utf-8"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (id, mut log) = run(&["files", "add", "--name", "secret.docx", "--user", "alice"]);
    let id = id.trim().to_owned();
    let (json, err) = run(&["token", "issue", "--file", &id, "--user", "alice"]);
    log.push_str(&err);
    let token = serde_json::from_str::<serde_json::Value>(&json).expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let url = lines
        .next()
        .expect("a line")
        .expect("read")
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    let mut stderr = child.0.stderr.take().expect("stderr");
    let collect = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let http = reqwest::Client::new();
    let src = format!("{url}/wopi/files/{id}");
    let mut secrets = vec![token.clone()];
    let q = |extra: &str| format!("{src}{extra}?access_token={token}");
    let ok = |r: &reqwest::Response| assert!(r.status().is_success(), "{}", r.status());
    ok(&http.get(q("")).send().await.expect("send"));
    let r = http
        .get(format!("{src}/contents"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("send");
    ok(&r);
    let r = http
        .post(q(""))
        .header("X-WOPI-Override", "PUT_RELATIVE")
        .header("X-WOPI-SuggestedTarget", ".docx")
        .body("relative")
        .send()
        .await
        .expect("send");
    ok(&r);
    let url2: String = r.json::<serde_json::Value>().await.expect("json")["Url"]
        .as_str()
        .expect("Url")
        .to_owned();
    secrets.push(
        url2.split("access_token=")
            .nth(1)
            .expect("token")
            .to_owned(),
    );
    let r = http
        .post(q(""))
        .header("X-WOPI-Override", "GET_SHARE_URL")
        .header("X-WOPI-UrlType", "ReadOnly")
        .send()
        .await
        .expect("send");
    ok(&r);
    let share: String = r.json::<serde_json::Value>().await.expect("json")["ShareUrl"]
        .as_str()
        .expect("ShareUrl")
        .to_owned();
    secrets.push(share.rsplit('/').next().expect("token").to_owned());
    ok(&http.get(&share).send().await.expect("send"));
    // Failures log too: a wrong token, a token on an unknown route, a refused lock.
    let wrong = format!("{}x", &token[..token.len() - 1]);
    secrets.push(wrong.clone());
    for req in [
        http.get(format!("{src}?access_token={wrong}")),
        http.get(format!("{src}/nothing?access_token={token}")),
        http.get(format!("{url}/share/{wrong}")),
        http.post(format!("{src}?access_token={wrong}"))
            .header("X-WOPI-Override", "LOCK")
            .header("X-WOPI-Lock", "l"),
        http.post(format!("{src}?access_token={token}"))
            .header("X-WOPI-Override", "UNLOCK")
            .header("X-WOPI-Lock", "not-locked")
            .header("Authorization", format!("Bearer {token}")),
    ] {
        assert!(req.send().await.expect("send").status().is_client_error());
    }

    // Stopping it ends its standard error, so the capture is complete.
    drop(child);
    log.push_str(&collect.join().expect("log reader"));
    // Drop colour codes, which split `field=value`.
    let mut plain = String::with_capacity(log.len());
    let mut rest = log.as_str();
    while let Some(at) = rest.find('\x1b') {
        plain.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find('m').map_or("", |m| &rest[m + 1..]);
    }
    plain.push_str(rest);
    let log = plain;
    assert!(
        log.contains("done") && log.contains("status=401"),
        "the capture holds the request log: {}",
        &log[..log.len().min(2000)]
    );
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !log.contains(secret.as_str()),
            "a token appears in the log: {}",
            log.lines()
                .find(|l| l.contains(secret.as_str()))
                .unwrap_or("")
        );
    }
}

/// Opens a connection, sends the head of a 100 kB PutFile and then one byte of its body every
/// `gap`, until the server answers or hangs up; returns what it answered and when.
async fn trickle_upload(addr: String, head: String, gap: Duration) -> (Duration, String) {
    let start = Instant::now();
    let mut sock = TcpStream::connect(&addr).await.expect("connect");
    let mut out = Vec::new();
    if sock.write_all(head.as_bytes()).await.is_ok() {
        while start.elapsed() < Duration::from_secs(30) {
            if sock.write_all(b"a").await.is_err() {
                break;
            }
            let mut buf = [0u8; 4096];
            match tokio::time::timeout(gap, sock.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
    }
    (start.elapsed(), String::from_utf8_lossy(&out).into_owned())
}

/// One request on a fresh connection: its status line's code, or None without an answer.
async fn fresh_request(addr: &str, request: &str) -> Option<u16> {
    let mut sock = TcpStream::connect(addr).await.ok()?;
    sock.write_all(request.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    let _ = sock.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// A request whose body keeps arriving, a byte at a time but never stalling, is still cut off
/// at the total request deadline with 408, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_meet_the_total_request_deadline() {
    let s = TestServer::start_with(|c| {
        c.body_read_timeout = Duration::from_secs(20);
        c.request_timeout = Duration::from_secs(2);
    })
    .await;
    let id = s.add_file("alice", "a.docx", b"before").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
    let before = snapshot(&s).await;
    let head = format!(
        "POST /wopi/files/{id}/contents?access_token={t} HTTP/1.1\r\nHost: x\r\nX-WOPI-Override: PUT\r\nX-WOPI-Lock: L\r\nContent-Length: 100000\r\n\r\n"
    );
    let (took, answer) = trickle_upload(addr(&s), head, Duration::from_millis(100)).await;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "got {answer:?} after {took:?}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "the connection is closed: {answer:?}"
    );
    assert!(took < Duration::from_secs(8), "held on for {took:?}");
    assert_eq!(snapshot(&s).await, before, "nothing was stored");
}

/// Connections beyond `max_connections` get a 503 at once instead of waiting (or failing to be
/// accepted), `/healthz` still answers on a fresh connection, and a slot that frees serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_get_503_and_healthz_still_answers() {
    let s = TestServer::start_with(|c| {
        c.max_connections = 4;
        c.body_read_timeout = Duration::from_secs(20);
        c.request_timeout = Duration::from_secs(60);
    })
    .await;
    let id = s.add_file("alice", "a.docx", b"before").await;
    let t = s.token("alice", &id, RW).await;
    let a = addr(&s);
    // On a connection of its own, so that no idle pooled connection takes a slot.
    let lock = format!(
        "POST /wopi/files/{id}?access_token={t} HTTP/1.1\r\nHost: x\r\nX-WOPI-Override: LOCK\r\nX-WOPI-Lock: L\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(fresh_request(&a, &lock).await, Some(200));
    let head = format!(
        "POST /wopi/files/{id}/contents?access_token={t} HTTP/1.1\r\nHost: x\r\nX-WOPI-Override: PUT\r\nX-WOPI-Lock: L\r\nContent-Length: 100000\r\n\r\n"
    );
    // Fill every slot with an upload that trickles in, a byte every 200 ms.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(tokio::spawn(trickle_upload(
            a.clone(),
            head.clone(),
            Duration::from_millis(200),
        )));
    }
    // Wait (bounded) until the server holds all four. A holder that raced a probe for the last
    // slot was refused: start it again.
    let info = format!(
        "GET /wopi/files/{id}?access_token={t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut refused = None;
    for _ in 0..100 {
        for h in &mut held {
            if h.is_finished() {
                *h = tokio::spawn(trickle_upload(
                    a.clone(),
                    head.clone(),
                    Duration::from_millis(200),
                ));
            }
        }
        let start = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(5), fresh_request(&a, &info))
            .await
            .expect("a request beyond the cap is answered at once");
        if status == Some(503) {
            refused = Some(start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = refused.expect("a request beyond the cap gets 503");
    assert!(took < Duration::from_secs(2), "the 503 took {took:?}");
    // Liveness probes still get through, on fresh connections, quickly.
    for _ in 0..5 {
        let start = Instant::now();
        let status = tokio::time::timeout(
            Duration::from_secs(5),
            fresh_request(
                &a,
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ),
        )
        .await
        .expect("healthz answers within 5 s");
        assert_eq!(status, Some(200));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "healthz took {:?}",
            start.elapsed()
        );
    }
    // Once a holder goes, its slot serves a new request.
    held.pop().expect("a holder").abort();
    let mut served = false;
    for _ in 0..100 {
        if fresh_request(&a, &info).await == Some(200) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a freed slot serves again");
    for h in held {
        h.abort();
    }
}
