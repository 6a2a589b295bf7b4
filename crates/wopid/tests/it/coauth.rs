//! Co-authoring over HTTP: coauth locks shared by several clients, their expiry with the test
//! clock, their interplay with the WOPI lock and every write, table versions, sequence numbers,
//! and CheckFileInfo with and without co-authoring configured.

use reqwest::Response;
use serde_json::Value;

use crate::harness::*;

const SERVICE: &str = "https://ocs.example.com/";
const CHANNEL: &str = "https://rtc.example.com/";

/// The CSPP Plus properties: all of them or none.
const PLUS: [&str; 9] = [
    "SupportsCoauth",
    "SupportsChunkedFileTransfer",
    "SequenceNumber",
    "AccessTokenExpiry",
    "ServerTime",
    "SharingStatus",
    "FileGeoLocationCode",
    "OfficeCollaborationServiceEndpointUrl",
    "RealTimeChannelEndpointUrl",
];

async fn coauth_server() -> TestServer {
    TestServer::start_with(|c| {
        c.coauth_collaboration_service_url = Some(SERVICE.into());
        c.coauth_real_time_channel_url = Some(CHANNEL.into());
        c.coauth_geo_location_code = Some("EUR".into());
    })
    .await
}

async fn get_coauth(
    s: &TestServer,
    id: &str,
    t: &str,
    lock: &str,
    kind: &str,
    timeout_s: u32,
) -> Response {
    s.op(id, t, "GET_COAUTH_LOCK")
        .header("X-WOPI-CoauthLockId", lock)
        .header("X-WOPI-CoauthLockType", kind)
        .header("X-WOPI-CoauthLockExpirationTimeout", timeout_s.to_string())
        .header("X-WOPI-CoauthLockMetadata", format!("meta of {lock}"))
        .send()
        .await
        .expect("send")
}

async fn coauth_op(s: &TestServer, id: &str, t: &str, op: &str, lock: &str) -> Response {
    let mut r = s.op(id, t, op).header("X-WOPI-CoauthLockId", lock);
    if op == "REFRESH_COAUTH_LOCK" {
        r = r.header("X-WOPI-CoauthLockExpirationTimeout", "120");
    }
    r.send().await.expect("send")
}

/// GetCoauthTable knowing `version`: (status, version header, ids in the body; `None`: no body).
async fn table(
    s: &TestServer,
    id: &str,
    t: &str,
    known: Option<&str>,
) -> (u16, String, Option<Vec<String>>) {
    let mut r = s.op(id, t, "GET_COAUTH_TABLE");
    if let Some(v) = known {
        r = r.header("X-WOPI-CoauthTableVersion", v);
    }
    let r = r.send().await.expect("send");
    let status = r.status().as_u16();
    let version = header(&r, "x-wopi-coauthtableversion").expect("table version");
    let body = r.bytes().await.expect("body");
    let ids = (!body.is_empty()).then(|| ids(&serde_json::from_slice(&body).expect("json")));
    (status, version, ids)
}

fn ids(v: &Value) -> Vec<String> {
    v["CoauthTable"]
        .as_array()
        .expect("CoauthTable")
        .iter()
        .map(|e| e["CoauthLockId"].as_str().expect("id").to_owned())
        .collect()
}

async fn sequence(s: &TestServer, id: &str, t: &str) -> u32 {
    let r = s
        .op(id, t, "GET_SEQUENCE_NUMBER")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    header(&r, "x-wopi-sequencenumber")
        .and_then(|v| v.parse().ok())
        .expect("X-WOPI-SequenceNumber")
}

fn conflict(r: &Response) -> (u16, Option<String>, Option<String>) {
    (
        r.status().as_u16(),
        header(r, "x-wopi-lock"),
        header(r, "x-wopi-conflictingmechanism"),
    )
}

#[tokio::test]
async fn without_configuration_check_file_info_is_plain_and_coauth_answers_501() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let info = s.check_file_info(&id, &t).await;
    for key in PLUS {
        assert!(info.get(key).is_none(), "{key} sent without co-authoring");
    }
    for op in [
        "GET_COAUTH_LOCK",
        "REFRESH_COAUTH_LOCK",
        "UNLOCK_COAUTH_LOCK",
        "GET_COAUTH_TABLE",
        "GET_SEQUENCE_NUMBER",
        "GET_CHUNKED_FILE",
    ] {
        let r = s.op(&id, &t, op).send().await.expect("send");
        assert_eq!(r.status(), 501, "{op}");
        let why = header(&r, "x-wopi-servererror").unwrap_or_default();
        assert!(
            why.contains("co-authoring is not configured"),
            "{op}: {why}"
        );
    }
    // Refused before the token is looked at, like an unknown operation.
    let r = s
        .op(&id, "wrong", "GET_COAUTH_TABLE")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 501);
}

#[tokio::test]
async fn check_file_info_adds_cspp_plus_when_configured() {
    let s = coauth_server().await;
    let plain = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["SupportsCoauth"], true);
    assert_eq!(info["SupportsChunkedFileTransfer"], true);
    assert_eq!(info["SequenceNumber"], 1);
    assert_eq!(info["AccessTokenExpiry"], T0 + 10 * HOUR);
    assert_eq!(info["ServerTime"], T0);
    assert_eq!(info["SharingStatus"], "Private");
    assert_eq!(info["FileGeoLocationCode"], "EUR");
    assert_eq!(info["OfficeCollaborationServiceEndpointUrl"], SERVICE);
    assert_eq!(info["RealTimeChannelEndpointUrl"], CHANNEL);
    // Everything else is what a host without co-authoring sends: the same properties.
    let pid = plain.add_file("alice", "a.docx", b"").await;
    let pt = plain.token("alice", &pid, RW).await;
    let keys = |v: &Value| {
        v.as_object()
            .expect("object")
            .keys()
            .filter(|k| !PLUS.contains(&k.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&info), keys(&plain.check_file_info(&pid, &pt).await));
    assert_eq!(info["Size"], 0);

    // A content change raises the sequence number; a share makes the file Shared.
    assert_eq!(s.put_file(&id, &t, None, b"new").await.status(), 200);
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["SequenceNumber"], 2);
    let bob = s.token("bob", &id, RW).await;
    assert_eq!(
        s.check_file_info(&id, &bob).await["SharingStatus"],
        "Shared"
    );
    assert_eq!(s.check_file_info(&id, &t).await["SharingStatus"], "Shared");
}

#[tokio::test]
async fn clients_share_coauth_locks_and_one_may_hold_it_exclusively() {
    let s = coauth_server().await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let (status, empty_version, rows) = table(&s, &id, &t, None).await;
    assert_eq!((status, rows), (200, Some(Vec::new())));
    assert_eq!(empty_version.len(), 32);

    let r = get_coauth(&s, &id, &t, "Client1", "Coauth", 120).await;
    assert_eq!(r.status(), 200);
    let v1 = header(&r, "x-wopi-coauthtableversion").expect("version");
    let body: Value = r.json().await.expect("json");
    assert_eq!(ids(&body), ["Client1"]);
    let row = &body["CoauthTable"][0];
    assert_eq!(row["CoauthLockType"], "Coauth");
    assert_eq!(row["CoauthLockMetadata"], "meta of Client1");
    assert_eq!(row["CoauthLockTime"], T0);
    assert!(!row["UserFriendlyName"].as_str().expect("name").is_empty());
    assert_ne!(v1, empty_version);

    let r = get_coauth(&s, &id, &t, "Client2", "Coauth", 120).await;
    assert_eq!(r.status(), 200);
    let v2 = header(&r, "x-wopi-coauthtableversion").expect("version");
    assert_ne!(v2, v1);
    // The client that knows the current version gets no body; another gets the table.
    assert_eq!(table(&s, &id, &t, Some(&v2)).await, (200, v2.clone(), None));
    assert_eq!(
        table(&s, &id, &t, Some(&v1)).await,
        (
            200,
            v2.clone(),
            Some(vec!["Client1".into(), "Client2".into()])
        )
    );
    // A refresh that changes nothing else keeps the version.
    let r = coauth_op(&s, &id, &t, "REFRESH_COAUTH_LOCK", "Client1").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-wopi-coauthtableversion"), Some(v2.clone()));

    // Client2 takes it exclusively; Client1 then cannot.
    let r = get_coauth(&s, &id, &t, "Client2", "CoauthExclusive", 120).await;
    assert_eq!(r.status(), 200);
    let v3 = header(&r, "x-wopi-coauthtableversion").expect("version");
    assert_ne!(v3, v2);
    let r = get_coauth(&s, &id, &t, "Client1", "CoauthExclusive", 120).await;
    assert_eq!(
        conflict(&r),
        (
            409,
            Some(String::new()),
            Some("WOPI-CoauthExclusiveLock".into())
        )
    );
    assert_eq!(header(&r, "x-wopi-coauthtableversion"), Some(v3.clone()));

    // Writes: only the exclusive holder; both lock kinds at once is 400.
    let put = |lock: &'static str, body: &'static [u8]| {
        s.http
            .post(s.contents_url(&id, &t))
            .header("X-WOPI-Override", "PUT")
            .header("X-WOPI-CoauthLockId", lock)
            .body(body)
            .send()
    };
    assert_eq!(sequence(&s, &id, &t).await, 1);
    let r = put("Client1", b"one").await.expect("send");
    assert_eq!(
        conflict(&r),
        (
            409,
            Some(String::new()),
            Some("WOPI-CoauthExclusiveLock".into())
        )
    );
    assert_eq!(put("Client2", b"two").await.expect("send").status(), 200);
    assert_eq!(s.get_file(&id, &t).await, b"two");
    assert_eq!(sequence(&s, &id, &t).await, 2);
    let r = s
        .http
        .post(s.contents_url(&id, &t))
        .header("X-WOPI-Override", "PUT")
        .header("X-WOPI-Lock", "L")
        .header("X-WOPI-CoauthLockId", "Client2")
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = s.put_file(&id, &t, None, b"three").await;
    assert_eq!(conflict(&r).2.as_deref(), Some("WOPI-CoauthExclusiveLock"));

    // The WOPI lock, deletion and renames respect the coauth locks.
    let r = s.lock(&id, &t, "L").await;
    assert_eq!(
        conflict(&r),
        (
            409,
            Some(String::new()),
            Some("WOPI-CoauthExclusiveLock".into())
        )
    );
    let r = s.op(&id, &t, "DELETE").send().await.expect("send");
    assert_eq!(r.status(), 409);
    let rename = |lock: Option<&'static str>| {
        let mut r = s
            .op(&id, &t, "RENAME_FILE")
            .header("X-WOPI-RequestedName", "renamed");
        if let Some(l) = lock {
            r = r.header("X-WOPI-CoauthLockId", l);
        }
        r.send()
    };
    assert_eq!(rename(None).await.expect("send").status(), 409);
    assert_eq!(rename(Some("Client1")).await.expect("send").status(), 409);
    assert_eq!(rename(Some("Client2")).await.expect("send").status(), 200);

    // Back to a shared lock: every holder may write.
    let r = get_coauth(&s, &id, &t, "Client2", "Coauth", 120).await;
    assert_eq!(r.status(), 200);
    assert_eq!(put("Client1", b"four").await.expect("send").status(), 200);
    let r = put("Stranger", b"five").await.expect("send");
    assert_eq!(conflict(&r).2.as_deref(), Some("WOPI-CoauthLock"));
    assert_eq!(sequence(&s, &id, &t).await, 3);

    // Unlocking: each id once; then the WOPI lock can be taken.
    for c in ["Client1", "Client2"] {
        let r = coauth_op(&s, &id, &t, "UNLOCK_COAUTH_LOCK", c).await;
        assert_eq!(r.status(), 200, "{c}");
        let r = coauth_op(&s, &id, &t, "UNLOCK_COAUTH_LOCK", c).await;
        assert_eq!(r.status(), 409, "{c} again");
        assert!(header(&r, "x-wopi-coauthtableversion").is_some());
    }
    let (_, version, rows) = table(&s, &id, &t, None).await;
    assert_eq!((version, rows), (empty_version, Some(Vec::new())));
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
}

#[tokio::test]
async fn coauth_locks_expire() {
    let s = coauth_server().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(
        get_coauth(&s, &id, &t, "C", "CoauthExclusive", 60)
            .await
            .status(),
        200
    );
    let (_, held, rows) = table(&s, &id, &t, None).await;
    assert_eq!(rows, Some(vec!["C".to_owned()]));
    s.clock.advance_ms(59_999);
    assert_eq!(table(&s, &id, &t, None).await.2, Some(vec!["C".to_owned()]));
    assert_eq!(s.lock(&id, &t, "L").await.status(), 409);
    s.clock.advance_ms(1);
    // Gone for every purpose: the table, a refresh, an unlock, the WOPI lock.
    let (_, version, rows) = table(&s, &id, &t, None).await;
    assert_eq!(rows, Some(Vec::new()));
    assert_ne!(version, held);
    let r = coauth_op(&s, &id, &t, "REFRESH_COAUTH_LOCK", "C").await;
    assert_eq!(r.status(), 409);
    let r = coauth_op(&s, &id, &t, "UNLOCK_COAUTH_LOCK", "C").await;
    assert_eq!(r.status(), 409);
    assert_eq!(s.lock(&id, &t, "L").await.status(), 200);
}

#[tokio::test]
async fn a_wopi_lock_refuses_coauth_locks_naming_a_visible_holder() {
    let s = coauth_server().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let name = s.check_file_info(&id, &t).await["UserFriendlyName"]
        .as_str()
        .expect("name")
        .to_owned();
    // Hidden holder.
    assert_eq!(s.lock(&id, &t, "L1").await.status(), 200);
    let r = get_coauth(&s, &id, &t, "C", "Coauth", 60).await;
    assert_eq!(
        conflict(&r),
        (409, Some("L1".into()), Some("WOPI-Lock".into()))
    );
    assert_eq!(header(&r, "x-wopi-conflictinglockusername"), None);
    assert!(header(&r, "x-wopi-coauthtableversion").is_some());
    // Visible holder, kept by a refresh, gone with the lock.
    let r = s
        .op(&id, &t, "LOCK")
        .header("X-WOPI-Lock", "L2")
        .header("X-WOPI-OldLock", "L1")
        .header("X-WOPI-LockUserVisible", "true")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = s
        .op(&id, &t, "REFRESH_LOCK")
        .header("X-WOPI-Lock", "L2")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = get_coauth(&s, &id, &t, "C", "Coauth", 60).await;
    assert_eq!(conflict(&r).1.as_deref(), Some("L2"));
    assert_eq!(header(&r, "x-wopi-conflictinglockusername"), Some(name));
    // A coauth id does not write to a WOPI-locked file.
    let r = s
        .http
        .post(s.contents_url(&id, &t))
        .header("X-WOPI-Override", "PUT")
        .header("X-WOPI-CoauthLockId", "C")
        .body("y")
        .send()
        .await
        .expect("send");
    assert_eq!(
        conflict(&r),
        (409, Some("L2".into()), Some("WOPI-Lock".into()))
    );
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", "L2")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        get_coauth(&s, &id, &t, "C", "Coauth", 60).await.status(),
        200
    );
}

#[tokio::test]
async fn coauth_requests_are_checked() {
    let s = coauth_server().await;
    let id = s.add_file("alice", "a.docx", b"").await;
    let t = s.token("alice", &id, RW).await;
    let ro = s.token("bob", &id, RO).await;
    // Missing or malformed headers.
    let long = "x".repeat(1025);
    for (lock, kind, timeout) in [
        (None, Some("Coauth"), Some("60")),
        (Some("C"), None, Some("60")),
        (Some("C"), Some("None"), Some("60")),
        (Some("C"), Some(""), Some("60")),
        (Some("C"), Some("Coauth"), None),
        (Some("C"), Some("Coauth"), Some("59")),
        (Some("C"), Some("Coauth"), Some("3601")),
        (Some(long.as_str()), Some("Coauth"), Some("60")),
    ] {
        let mut r = s.op(&id, &t, "GET_COAUTH_LOCK");
        for (name, v) in [
            ("X-WOPI-CoauthLockId", lock),
            ("X-WOPI-CoauthLockType", kind),
            ("X-WOPI-CoauthLockExpirationTimeout", timeout),
        ] {
            if let Some(v) = v {
                r = r.header(name, v);
            }
        }
        let r = r.send().await.expect("send");
        assert_eq!(r.status(), 400, "{:?}", (lock.map(str::len), kind, timeout));
    }
    let r = s
        .op(&id, &t, "GET_COAUTH_LOCK")
        .header("X-WOPI-CoauthLockId", "C")
        .header("X-WOPI-CoauthLockType", "Coauth")
        .header("X-WOPI-CoauthLockExpirationTimeout", "60")
        .body("not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    // The body's metadata wins over the header's, even empty.
    let r = s
        .op(&id, &t, "GET_COAUTH_LOCK")
        .header("X-WOPI-CoauthLockId", "C")
        .header("X-WOPI-CoauthLockType", "Coauth")
        .header("X-WOPI-CoauthLockExpirationTimeout", "60")
        .header("X-WOPI-CoauthLockMetadata", "header")
        .body(r#"{"CoauthLockMetadata":""}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["CoauthTable"][0]["CoauthLockMetadata"], "");
    // A read-only token reads the table and the sequence number, and takes no lock.
    assert_eq!(table(&s, &id, &ro, None).await.0, 200);
    assert_eq!(sequence(&s, &id, &ro).await, 1);
    let r = get_coauth(&s, &id, &ro, "R", "Coauth", 60).await;
    assert_eq!(r.status(), 401);
    // GetChunkedFile without its frames is a bad request.
    let r = s
        .op(&id, &t, "GET_CHUNKED_FILE")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
}
