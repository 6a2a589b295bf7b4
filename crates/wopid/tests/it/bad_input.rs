//! Bad input gets the spec's status, never a 500, and changes nothing.

use crate::harness::*;

/// An override, its headers, and the status it must get.
type Case = (&'static str, Vec<(&'static str, String)>, u16);

#[tokio::test]
async fn bad_requests_get_the_right_status() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"content").await;
    let t = s.token("alice", &id, RW).await;
    let other = s.add_file("alice", "b.docx", b"x").await;
    let t_other = s.token("alice", &other, RW).await;
    // (override, headers, expected status)
    let table: Vec<Case> = vec![
        ("LOCK", vec![("X-WOPI-Lock", "x".repeat(1025))], 400),
        ("LOCK", vec![("X-WOPI-Lock", "tab\there".into())], 200),
        ("UNLOCK", vec![("X-WOPI-Lock", "tab\there".into())], 200),
        (
            "LOCK",
            vec![
                ("X-WOPI-Lock", "a".into()),
                ("X-WOPI-OldLock", String::new()),
            ],
            400,
        ),
        ("REFRESH_LOCK", vec![("X-WOPI-Lock", String::new())], 400),
        (
            "PUT_RELATIVE",
            vec![("X-WOPI-RelativeTarget", "+AGF-x.docx".into())],
            400,
        ),
        (
            "PUT_RELATIVE",
            vec![("X-WOPI-SuggestedTarget", "+AGF-x.docx".into())],
            400,
        ),
        (
            "PUT_RELATIVE",
            vec![("X-WOPI-RelativeTarget", "../../etc/passwd".into())],
            400,
        ),
        (
            "PUT_RELATIVE",
            vec![
                ("X-WOPI-RelativeTarget", "x.docx".into()),
                ("X-WOPI-OverwriteRelativeTarget", "yes".into()),
            ],
            400,
        ),
        (
            "RENAME_FILE",
            vec![("X-WOPI-RequestedName", "n".repeat(10_000))],
            400,
        ),
        (
            "RENAME_FILE",
            vec![("X-WOPI-RequestedName", "..".into())],
            400,
        ),
        (
            "RENAME_FILE",
            vec![("X-WOPI-RequestedName", "a\\b".into())],
            400,
        ),
        ("RENAME_FILE", vec![], 400),
        (
            "GET_SHARE_URL",
            vec![("X-WOPI-UrlType", "Anonymous".into())],
            501,
        ),
        ("COBALT", vec![], 501),
        ("READ_SECURE_STORE", vec![], 501),
        ("GET_COAUTH_LOCK", vec![], 501),
        ("NOT_AN_OPERATION", vec![], 501),
    ];
    for (ov, headers, want) in table {
        let mut r = s.op(&id, &t, ov);
        for (k, v) in &headers {
            r = r.header(*k, v.as_str());
        }
        let resp = r.send().await.expect("send");
        assert_eq!(resp.status().as_u16(), want, "{ov} {headers:?}");
        if want == 501 {
            let why = header(&resp, "x-wopi-servererror").unwrap_or_default();
            assert!(
                why.contains(ov) || why.contains("UrlType"),
                "501 names the operation: {why}"
            );
        }
    }
    // Nothing above changed the file.
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info["BaseFileName"], "a.docx");
    assert_eq!(info["Version"], "1");
    assert_eq!(s.get_file(&id, &t).await, b"content");

    // Wrong token, token of another file, unknown file, unknown endpoint, unimplemented endpoints.
    let get = |url: String| {
        let http = s.http.clone();
        async move { http.get(url).send().await.expect("send").status().as_u16() }
    };
    assert_eq!(get(s.file_url(&id, &t_other)).await, 401);
    assert_eq!(get(s.file_url("doesnotexist", &t)).await, 401);
    assert_eq!(
        get(format!("{}/wopi/files/a.b?access_token={t}", s.base)).await,
        404
    );
    assert_eq!(
        get(format!(
            "{}/wopi/files/{id}/nothing?access_token={t}",
            s.base
        ))
        .await,
        404
    );
    // A file token is not a container or ecosystem token.
    assert_eq!(
        get(format!("{}/wopi/containers/x?access_token={t}", s.base)).await,
        401
    );
    assert_eq!(
        get(format!("{}/wopi/ecosystem?access_token={t}", s.base)).await,
        401
    );

    assert_eq!(get(format!("{}/elsewhere", s.base)).await, 404);
    let r = s.http.post(s.file_url(&id, &t)).send().await.expect("send");
    assert_eq!(r.status(), 501, "POST without X-WOPI-Override");
    let r = s.http.put(s.file_url(&id, &t)).send().await.expect("send");
    assert_eq!(r.status(), 501);
    let r = s
        .http
        .post(s.contents_url(&id, &t))
        .header("X-WOPI-Override", "LOCK")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 501);
}

#[tokio::test]
async fn a_deleted_file_is_404_and_its_token_stays_bound() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(
        s.op(&id, &t, "DELETE").send().await.expect("send").status(),
        200
    );
    for ov in [
        "LOCK",
        "UNLOCK",
        "GET_LOCK",
        "RENAME_FILE",
        "DELETE",
        "PUT_USER_INFO",
    ] {
        let r = s
            .op(&id, &t, ov)
            .header("X-WOPI-Lock", "l")
            .header("X-WOPI-RequestedName", "n")
            .send()
            .await
            .expect("send");
        assert!(
            matches!(r.status().as_u16(), 404 | 200),
            "{ov}: {}",
            r.status()
        );
    }
    assert_eq!(s.put_file(&id, &t, None, b"y").await.status(), 404);
    assert_eq!(
        s.http
            .get(s.contents_url(&id, &t))
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
}
