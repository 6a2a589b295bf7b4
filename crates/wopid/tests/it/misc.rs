//! PutUserInfo, GetShareUrl, AddActivities and EnumerateAncestors.

use crate::harness::*;

#[tokio::test]
async fn user_info_is_per_user_not_per_file() {
    let s = TestServer::start().await;
    let a = s.add_file("alice", "a.docx", b"x").await;
    let b = s.add_file("alice", "b.docx", b"x").await;
    let ta = s.token("alice", &a, RW).await;
    let tb = s.token("alice", &b, RO).await;
    let r = s
        .op(&a, &ta, "PUT_USER_INFO")
        .body("PutUserInfoTest")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.check_file_info(&a, &ta).await["UserInfo"],
        "PutUserInfoTest"
    );
    assert_eq!(
        s.check_file_info(&b, &tb).await["UserInfo"],
        "PutUserInfoTest"
    );
    let other = s.token("bob", &a, RO).await;
    assert!(
        s.check_file_info(&a, &other)
            .await
            .get("UserInfo")
            .is_none()
    );
    let r = s
        .op(&a, &ta, "PUT_USER_INFO")
        .body("x".repeat(1025))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn share_urls() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"shared bytes").await;
    let t = s.token("alice", &id, RW).await;
    for kind in ["ReadOnly", "ReadWrite"] {
        let r = s
            .op(&id, &t, "GET_SHARE_URL")
            .header("X-WOPI-UrlType", kind)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{kind}");
        let url = r.json::<serde_json::Value>().await.expect("json")["ShareUrl"]
            .as_str()
            .expect("ShareUrl")
            .to_owned();
        assert!(url.starts_with(&s.base));
        let got = s.http.get(&url).send().await.expect("send");
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.expect("body").as_ref(), b"shared bytes");
        // A share link is not an access token.
        let token = url.rsplit('/').next().expect("token");
        assert_eq!(
            s.http
                .get(s.file_url(&id, token))
                .send()
                .await
                .expect("send")
                .status(),
            401
        );
    }
    for bad in [Some("Edit"), None] {
        let mut r = s.op(&id, &t, "GET_SHARE_URL");
        if let Some(b) = bad {
            r = r.header("X-WOPI-UrlType", b);
        }
        assert_eq!(r.send().await.expect("send").status(), 501);
    }
    let ro = s.token("bob", &id, RO).await;
    let r = s
        .op(&id, &ro, "GET_SHARE_URL")
        .header("X-WOPI-UrlType", "ReadWrite")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 501);
    assert_eq!(
        s.http
            .get(format!("{}/share/nope", s.base))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
}

#[tokio::test]
async fn add_activities() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let body = r#"{"Activities":[
        {"Type":"comment","Id":"1","Data":{"ContentId":"c","ContentAction":"created"},"Bonus":1},
        {"Type":"unsupported","Id":"2","Data":{}}]}"#;
    let r = s
        .op(&id, &t, "ADD_ACTIVITIES")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        v,
        serde_json::json!({"ActivityResponses":[{"Id":"1","Status":0},{"Id":"2","Status":3}]})
    );
    let stored = s.state.meta.activities(&id).await.expect("db");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, "comment");
    let r = s
        .op(&id, &t, "ADD_ACTIVITIES")
        .body("not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn enumerate_ancestors_of_a_file() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "a.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let r = s
        .http
        .get(format!(
            "{}/wopi/files/{id}/ancestry?access_token={t}",
            s.base
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    let list = v["AncestorsWithRootFirst"].as_array().expect("array");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["Name"], "alice");
    assert!(
        list[0]["Url"]
            .as_str()
            .is_some_and(|u| u.contains("/wopi/containers/") && u.contains("access_token="))
    );
}
