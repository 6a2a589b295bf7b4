//! The lock state table over HTTP, expiry with a manual clock, and a lock race.

use crate::harness::*;

async fn get_lock(s: &TestServer, id: &str, t: &str) -> String {
    let r = s.op(id, t, "GET_LOCK").send().await.expect("send");
    assert_eq!(r.status(), 200);
    header(&r, "x-wopi-lock").expect("GetLock always sends X-WOPI-Lock")
}

#[tokio::test]
async fn lock_state_table() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let send = |ov: &'static str, lock: Option<&'static str>, old: Option<&'static str>| {
        let mut r = s.op(&id, &t, ov);
        if let Some(l) = lock {
            r = r.header("X-WOPI-Lock", l);
        }
        if let Some(o) = old {
            r = r.header("X-WOPI-OldLock", o);
        }
        async move {
            let resp = r.send().await.expect("send");
            (resp.status().as_u16(), header(&resp, "x-wopi-lock"))
        }
    };
    // Unlocked file.
    assert_eq!(get_lock(&s, &id, &t).await, "");
    assert_eq!(
        send("UNLOCK", Some("A"), None).await,
        (409, Some(String::new()))
    );
    assert_eq!(
        send("REFRESH_LOCK", Some("A"), None).await,
        (409, Some(String::new()))
    );
    assert_eq!(
        send("LOCK", Some("B"), Some("A")).await,
        (409, Some(String::new()))
    );
    // Missing or empty lock ids.
    assert_eq!(send("LOCK", None, None).await.0, 400);
    assert_eq!(send("LOCK", Some(""), None).await.0, 400);
    assert_eq!(send("UNLOCK", None, None).await.0, 400);
    assert_eq!(send("REFRESH_LOCK", None, None).await.0, 400);
    // Lock, same-id Lock refreshes, other id conflicts.
    assert_eq!(send("LOCK", Some("A"), None).await, (200, None));
    assert_eq!(send("LOCK", Some("A"), None).await, (200, None));
    assert_eq!(send("LOCK", Some("B"), None).await, (409, Some("A".into())));
    assert_eq!(get_lock(&s, &id, &t).await, "A");
    assert_eq!(
        send("REFRESH_LOCK", Some("B"), None).await,
        (409, Some("A".into()))
    );
    assert_eq!(send("REFRESH_LOCK", Some("A"), None).await, (200, None));
    assert_eq!(
        send("UNLOCK", Some("B"), None).await,
        (409, Some("A".into()))
    );
    // UnlockAndRelock swaps atomically; the old id then fails.
    assert_eq!(
        send("LOCK", Some("B"), Some("X")).await,
        (409, Some("A".into()))
    );
    assert_eq!(send("LOCK", Some("B"), Some("A")).await, (200, None));
    assert_eq!(get_lock(&s, &id, &t).await, "B");
    assert_eq!(
        send("UNLOCK", Some("A"), None).await,
        (409, Some("B".into()))
    );
    assert_eq!(send("UNLOCK", Some("B"), None).await, (200, None));
    assert_eq!(get_lock(&s, &id, &t).await, "");
}

#[tokio::test]
async fn locks_belong_to_the_file_not_the_user() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let ta = s.token("alice", &id, RW).await;
    let tb = s.token("bob", &id, RW).await;
    assert_eq!(s.lock(&id, &ta, "shared").await.status(), 200);
    assert_eq!(
        s.put_file(&id, &tb, Some("shared"), b"by bob")
            .await
            .status(),
        200
    );
    let r = s
        .op(&id, &tb, "UNLOCK")
        .header("X-WOPI-Lock", "shared")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // A read-only token may not lock.
    let ro = s.token("carol", &id, RO).await;
    assert_eq!(s.lock(&id, &ro, "x").await.status(), 401);
}

#[tokio::test]
async fn lock_ids_are_opaque_up_to_1024_characters() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let json_lock =
        r#"{"S":"0136ad16-5c5b-4ea5-9bd1-c8c5d3fbc6e9","E":2,"M":"DE997C5AC4E6","P":"6058AF1E"}"#;
    assert_eq!(s.lock(&id, &t, json_lock).await.status(), 200);
    assert_eq!(get_lock(&s, &id, &t).await, json_lock);
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", json_lock)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let long = "L".repeat(1024);
    assert_eq!(s.lock(&id, &t, &long).await.status(), 200);
    assert_eq!(get_lock(&s, &id, &t).await, long);
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", &long)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(s.lock(&id, &t, &"L".repeat(1025)).await.status(), 400);
    // Base64 lock ids as ONLYOFFICE sends them, compared byte for byte (no case folding).
    assert_eq!(s.lock(&id, &t, "q83vEjRWeJq8nt7w+/==").await.status(), 200);
    assert_eq!(s.lock(&id, &t, "Q83vEjRWeJq8nt7w+/==").await.status(), 409);
}

#[tokio::test]
async fn locks_expire_after_30_minutes_unless_refreshed() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(s.lock(&id, &t, "A").await.status(), 200);
    s.clock.advance_ms(29 * 60_000);
    assert_eq!(s.lock(&id, &t, "B").await.status(), 409);
    // Refresh: another 30 minutes from now.
    let r = s
        .op(&id, &t, "REFRESH_LOCK")
        .header("X-WOPI-Lock", "A")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    s.clock.advance_ms(29 * 60_000);
    assert_eq!(get_lock(&s, &id, &t).await, "A");
    s.clock.advance_ms(60_000);
    // Expired: no lock for any purpose.
    assert_eq!(get_lock(&s, &id, &t).await, "");
    let r = s
        .op(&id, &t, "UNLOCK")
        .header("X-WOPI-Lock", "A")
        .send()
        .await
        .expect("send");
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-wopi-lock")),
        (409, Some(String::new()))
    );
    let r = s.put_file(&id, &t, Some("A"), b"y").await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-wopi-lock")),
        (409, Some(String::new()))
    );
    assert_eq!(s.lock(&id, &t, "B").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_locks_have_exactly_one_winner() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    for round in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..32 {
            let req = s
                .op(&id, &t, "LOCK")
                .header("X-WOPI-Lock", format!("r{round}-{i}"));
            tasks.push(tokio::spawn(async move {
                let r = req.send().await.expect("send");
                (r.status().as_u16(), header(&r, "x-wopi-lock"))
            }));
        }
        let mut winners = Vec::new();
        let mut reported = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (status, lock) = task.await.expect("task");
            match status {
                200 => winners.push(format!("r{round}-{i}")),
                409 => reported.push(lock.expect("409 names the lock")),
                other => panic!("unexpected status {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert!(
            reported.iter().all(|l| *l == winners[0]),
            "every loser sees the winner's lock"
        );
        let r = s
            .op(&id, &t, "UNLOCK")
            .header("X-WOPI-Lock", &winners[0])
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
}
