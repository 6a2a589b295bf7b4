//! Containers, Ecosystem and GetFileWopiSrc through the Ecosystem endpoint, legacy Folders.

use crate::harness::*;
use serde_json::Value;

async fn get_json(s: &TestServer, url: &str) -> (u16, Value) {
    let r = s.http.get(url).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn with_path(url: &str, suffix: &str) -> String {
    let (path, query) = url.split_once('?').expect("query");
    format!("{path}{suffix}?{query}")
}

/// The URL of the container that holds file `id`, with a container token.
async fn parent_url(s: &TestServer, id: &str, t: &str) -> String {
    let (status, v) = get_json(
        s,
        &format!("{}/wopi/files/{id}/ancestry?access_token={t}", s.base),
    )
    .await;
    assert_eq!(status, 200);
    v["AncestorsWithRootFirst"]
        .as_array()
        .and_then(|a| a.last())
        .expect("a parent")["Url"]
        .as_str()
        .expect("url")
        .to_owned()
}

async fn post(s: &TestServer, url: &str, ov: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = s.http.post(url).header("X-WOPI-Override", ov);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.expect("send")
}

#[tokio::test]
async fn container_operations() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let root = parent_url(&s, &id, &t).await;
    let (status, info) = get_json(&s, &root).await;
    assert_eq!(status, 200);
    assert_eq!(info["Name"], "alice");
    assert_eq!(info["UserCanCreateChildContainer"], true);
    assert_eq!(info["IsEduUser"], false);
    assert_eq!(info["LicenseCheckForEditIsEnabled"], false);
    assert!(
        info.get("UserCanDelete").is_none(),
        "the root cannot be deleted"
    );

    // Suggested names never conflict; exact names do.
    let a = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-SuggestedTarget", "Reports")],
    )
    .await;
    assert_eq!(a.status(), 200);
    let a: Value = a.json().await.expect("json");
    assert_eq!(a["ContainerPointer"]["Name"], "Reports");
    assert_eq!(a["ContainerInfo"]["Name"], "Reports");
    let b: Value = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-SuggestedTarget", "Reports")],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(b["ContainerPointer"]["Name"], "Reports (2)");
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-RelativeTarget", "Reports")],
    )
    .await;
    assert_eq!(r.status(), 409);
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-RelativeTarget", "a/b")],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(header(&r, "x-wopi-invalidcontainernameerror").is_some());
    let r = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[
            ("X-WOPI-RelativeTarget", "x"),
            ("X-WOPI-SuggestedTarget", "y"),
        ],
    )
    .await;
    assert_eq!(r.status(), 501);
    let reports = a["ContainerPointer"]["Url"]
        .as_str()
        .expect("url")
        .to_owned();

    // Rename: UTF-7, conflicts.
    let r = post(
        &s,
        &reports,
        "RENAME_CONTAINER",
        &[("X-WOPI-RequestedName", "Q1+AF8-reports")],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["Name"], "Q1_reports");
    let r = post(
        &s,
        &reports,
        "RENAME_CONTAINER",
        &[("X-WOPI-RequestedName", "Reports (2)")],
    )
    .await;
    assert_eq!(r.status(), 409);

    // Child files: all modes.
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-SuggestedTarget", "plan.docx")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let plan: Value = r.json().await.expect("json");
    assert_eq!(plan["Name"], "plan.docx");
    let plan_url = plan["Url"].as_str().expect("url").to_owned();
    let (status, plan_info) = get_json(&s, &plan_url).await;
    assert_eq!((status, plan_info["Size"].as_u64()), (200, Some(0)));
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-SuggestedTarget", "plan.docx")],
    )
    .await;
    assert_eq!(
        r.json::<Value>().await.expect("json")["Name"],
        "plan (2).docx"
    );
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-RelativeTarget", "plan.docx")],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        header(&r, "x-wopi-validrelativetarget").as_deref(),
        Some("plan (3).docx")
    );
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[
            ("X-WOPI-RelativeTarget", "plan.docx"),
            ("X-WOPI-OverwriteRelativeTarget", "true"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // Overwrite of a locked file: 409 with its lock.
    let lock = s
        .http
        .post(&plan_url)
        .header("X-WOPI-Override", "LOCK")
        .header("X-WOPI-Lock", "PL")
        .send()
        .await
        .expect("send");
    assert_eq!(lock.status(), 200);
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[
            ("X-WOPI-RelativeTarget", "plan.docx"),
            ("X-WOPI-OverwriteRelativeTarget", "true"),
        ],
    )
    .await;
    assert_eq!(
        (r.status().as_u16(), header(&r, "x-wopi-lock")),
        (409, Some("PL".into()))
    );
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[
            ("X-WOPI-RelativeTarget", "a.docx"),
            ("X-WOPI-SuggestedTarget", "b.docx"),
        ],
    )
    .await;
    assert_eq!(r.status(), 501);
    let r = post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[(
            "X-WOPI-RelativeTarget",
            &format!("{}.docx", "n".repeat(600)),
        )],
    )
    .await;
    assert_eq!(r.status(), 400);
    post(
        &s,
        &reports,
        "CREATE_CHILD_FILE",
        &[("X-WOPI-SuggestedTarget", "sheet.XLSX")],
    )
    .await;

    // Children, with the extension filter (case-insensitive, files only).
    let (status, kids) = get_json(&s, &with_path(&reports, "/children")).await;
    assert_eq!(status, 200);
    let names = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["Name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(
        names(&kids, "ChildFiles"),
        vec!["plan (2).docx", "plan.docx", "sheet.XLSX"]
    );
    assert_eq!(names(&kids, "ChildContainers"), Vec::<String>::new());
    assert_eq!(kids["ChildFiles"][1]["Version"], "2");
    let filtered = s
        .http
        .get(with_path(&reports, "/children"))
        .header("X-WOPI-FileExtensionFilterList", ".xlsx,.pdf")
        .send()
        .await
        .expect("send");
    let filtered: Value = filtered.json().await.expect("json");
    assert_eq!(names(&filtered, "ChildFiles"), vec!["sheet.XLSX"]);
    let (_, root_kids) = get_json(&s, &with_path(&root, "/children")).await;
    assert_eq!(
        names(&root_kids, "ChildContainers"),
        vec!["Q1_reports", "Reports (2)"]
    );

    // Ancestors of a container: root first, itself excluded.
    let (_, anc) = get_json(&s, &with_path(&reports, "/ancestry")).await;
    assert_eq!(names(&anc, "AncestorsWithRootFirst"), vec!["alice"]);
    let (_, anc) = get_json(&s, &with_path(&root, "/ancestry")).await;
    assert_eq!(anc["AncestorsWithRootFirst"], serde_json::json!([]));

    // Delete: not while it has children; never the root.
    assert_eq!(
        post(&s, &reports, "DELETE_CONTAINER", &[]).await.status(),
        409
    );
    assert_eq!(post(&s, &root, "DELETE_CONTAINER", &[]).await.status(), 409);
    let empty = b["ContainerPointer"]["Url"].as_str().expect("url");
    assert_eq!(post(&s, empty, "DELETE_CONTAINER", &[]).await.status(), 200);
    assert_eq!(post(&s, empty, "DELETE_CONTAINER", &[]).await.status(), 404);

    // Share URL of a container lists its files.
    let r = post(
        &s,
        &reports,
        "GET_SHARE_URL",
        &[("X-WOPI-UrlType", "ReadOnly")],
    )
    .await;
    let share = r.json::<Value>().await.expect("json")["ShareUrl"]
        .as_str()
        .expect("url")
        .to_owned();
    let page = s
        .http
        .get(&share)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(page.contains("plan.docx") && page.contains("sheet.XLSX"));
    assert_eq!(
        post(&s, &reports, "GET_SHARE_URL", &[("X-WOPI-UrlType", "Nope")])
            .await
            .status(),
        501
    );

    // Legacy folders map onto containers.
    let folder = reports.replacen("/wopi/containers/", "/wopi/folders/", 1);
    let (status, f) = get_json(&s, &folder).await;
    assert_eq!(
        (status, f["FolderName"].as_str()),
        (200, Some("Q1_reports"))
    );
    let (status, f) = get_json(&s, &with_path(&folder, "/children")).await;
    assert_eq!(
        (status, f["Children"].as_array().map(Vec::len)),
        (200, Some(3))
    );
}

#[tokio::test]
async fn tokens_are_scoped_and_traded_lifetimes_never_grow() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let root = parent_url(&s, &id, &t).await;
    let token = root
        .split("access_token=")
        .nth(1)
        .expect("token")
        .to_owned();
    // A container token is no file token, and no ecosystem token.
    assert_eq!(
        s.http
            .get(s.file_url(&id, &token))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        s.http
            .get(format!("{}/wopi/ecosystem?access_token={token}", s.base))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    // Nor a token for another container.
    let bob_file = s.add_file("bob", "b.docx", b"y").await;
    let bt = s.token("bob", &bob_file, RW).await;
    let bob_root = parent_url(&s, &bob_file, &bt).await;
    let bob_root_id = bob_root
        .split("/wopi/containers/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .expect("id");
    let url = format!(
        "{}/wopi/containers/{bob_root_id}?access_token={token}",
        s.base
    );
    assert_eq!(s.http.get(url).send().await.expect("send").status(), 401);
    // Every URL handed out dies with the token that asked for it.
    let (_, kids) = get_json(&s, &with_path(&root, "/children")).await;
    let child = kids["ChildFiles"][0]["Url"]
        .as_str()
        .expect("url")
        .to_owned();
    let (_, eco) = get_json(&s, &with_path(&root, "/ecosystem_pointer")).await;
    let eco = eco["Url"].as_str().expect("url").to_owned();
    assert_eq!(s.http.get(&child).send().await.expect("send").status(), 200);
    s.clock.advance_ms(10 * HOUR);
    for url in [&root, &child, &eco] {
        assert_eq!(
            s.http
                .get(url.as_str())
                .send()
                .await
                .expect("send")
                .status(),
            401,
            "{url}"
        );
    }
}

#[tokio::test]
async fn ecosystem_and_get_file_wopi_src() {
    let s = TestServer::start().await;
    let id = s.add_file("alice", "doc.docx", b"alice's").await;
    let other = s.add_file("bob", "secret.docx", b"bob's").await;
    let t = s.token("alice", &id, RW).await;
    let (status, eco) = get_json(
        &s,
        &format!(
            "{}/wopi/files/{id}/ecosystem_pointer?access_token={t}",
            s.base
        ),
    )
    .await;
    assert_eq!(status, 200);
    let eco = eco["Url"].as_str().expect("url").to_owned();
    let (status, check) = get_json(&s, &eco).await;
    assert_eq!(
        (status, check["SupportsContainers"].as_bool()),
        (200, Some(true))
    );
    let (status, root) = get_json(&s, &with_path(&eco, "/root_container_pointer")).await;
    assert_eq!(status, 200);
    assert_eq!(root["ContainerPointer"]["Name"], "alice");
    // An ecosystem token is not a file token.
    let eco_token = eco.split("access_token=").nth(1).expect("token");
    assert_eq!(
        s.http
            .get(s.file_url(&id, eco_token))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );

    let wopi_src = |ident: String| {
        let req = s
            .http
            .post(&eco)
            .header("X-WOPI-Override", "GET_WOPI_SRC_WITH_ACCESS_TOKEN")
            .header("X-WOPI-HostNativeFileName", ident);
        async move { req.send().await.expect("send") }
    };
    let share = s
        .op(&id, &t, "GET_SHARE_URL")
        .header("X-WOPI-UrlType", "ReadOnly")
        .send()
        .await
        .expect("send");
    let share = share.json::<Value>().await.expect("json")["ShareUrl"]
        .as_str()
        .expect("url")
        .to_owned();
    for ident in [
        id.clone(),
        s.state.wopi_src(&id),
        format!("{}/files/{id}/view", s.base),
        format!("{}?access_token=x", s.state.wopi_src(&id)),
        share,
    ] {
        let r = wopi_src(ident.clone()).await;
        assert_eq!(r.status(), 200, "{ident}");
        let url = r.json::<Value>().await.expect("json")["Url"]
            .as_str()
            .expect("Url")
            .to_owned();
        assert!(
            url.starts_with(&format!("{}?access_token=", s.state.wopi_src(&id)))
                && url.contains("&access_token_ttl="),
            "{url}"
        );
        let (status, info) = get_json(&s, &url).await;
        assert_eq!(
            (status, info["BaseFileName"].as_str()),
            (200, Some("doc.docx"))
        );
    }
    // Bob's unshared file, garbage, foreign hosts: 404 alike.
    for ident in [
        other.clone(),
        s.state.wopi_src(&other),
        "garbage".into(),
        "../../etc/passwd".into(),
        "https://elsewhere.example/wopi/files/x".into(),
        "x".repeat(5000),
    ] {
        assert_eq!(wopi_src(ident.clone()).await.status(), 404, "{ident}");
    }
    let r = s
        .http
        .post(&eco)
        .header("X-WOPI-Override", "GET_WOPI_SRC_WITH_ACCESS_TOKEN")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let bad = format!("{}/wopi/ecosystem?access_token=INVALID", s.base);
    let r = s
        .http
        .post(bad)
        .header("X-WOPI-Override", "GET_WOPI_SRC_WITH_ACCESS_TOKEN")
        .header("X-WOPI-HostNativeFileName", id.as_str())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    // Once shared, bob's file resolves, read-only as shared.
    let bob = s
        .state
        .meta
        .user_by_login("bob")
        .await
        .expect("db")
        .expect("bob");
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    let sh = wopid_store::Share {
        resource_id: other.clone(),
        user_id: alice.id.clone(),
        can_write: false,
    };
    s.state.meta.put_share(&sh).await.expect("share");
    let r = wopi_src(other.clone()).await;
    let url = r.json::<Value>().await.expect("json")["Url"]
        .as_str()
        .expect("Url")
        .to_owned();
    let (_, info) = get_json(&s, &url).await;
    assert_eq!(info["ReadOnly"], true);
    assert_eq!(info["OwnerId"], bob.id.as_str());
}

/// `containers = false`: a flat file space. CheckFileInfo and CheckEcosystem stop advertising
/// containers and folders, and every operation on the hierarchy answers 501, before the token.
#[tokio::test]
async fn containers_switched_off_are_neither_advertised_nor_served() {
    let s = TestServer::start_with(|c| c.containers = false).await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    let info = s.check_file_info(&id, &t).await;
    assert_eq!(info.get("SupportsContainers"), None, "{info}");
    assert_eq!(info.get("SupportsFolders"), None, "{info}");
    assert_eq!(info["SupportsEcosystem"], true);

    let (status, _) = get_json(
        &s,
        &format!("{}/wopi/files/{id}/ancestry?access_token={t}", s.base),
    )
    .await;
    assert_eq!(status, 501);
    let (status, eco) = get_json(
        &s,
        &format!(
            "{}/wopi/files/{id}/ecosystem_pointer?access_token={t}",
            s.base
        ),
    )
    .await;
    assert_eq!(status, 200);
    let eco = eco["Url"].as_str().expect("url").to_owned();
    let (status, check) = get_json(&s, &eco).await;
    assert_eq!(
        (status, check["SupportsContainers"].as_bool()),
        (200, Some(false))
    );
    let (status, _) = get_json(&s, &with_path(&eco, "/root_container_pointer")).await;
    assert_eq!(status, 501);
    // Any container id, any token, a folder: 501, never a 401 or 404 that would suggest the
    // operation exists.
    for path in [
        "containers/anything",
        "containers/anything/children",
        "folders/anything",
    ] {
        let (status, _) =
            get_json(&s, &format!("{}/wopi/{path}?access_token=nonsense", s.base)).await;
        assert_eq!(status, 501, "{path}");
    }
    let r = post(
        &s,
        &format!("{}/wopi/containers/anything?access_token=nonsense", s.base),
        "CREATE_CHILD_FILE",
        &[("X-WOPI-SuggestedTarget", ".docx")],
    )
    .await;
    assert_eq!(r.status(), 501);
    // The file operations are untouched.
    assert_eq!(s.lock(&id, &t, "L1").await.status(), 200);
}

/// `license_check_for_edit = true`: every file and folder says so, children like parents.
#[tokio::test]
async fn business_users_are_told_to_editors_on_files_and_folders() {
    let s = TestServer::start_with(|c| c.license_check_for_edit = true).await;
    let id = s.add_file("alice", "doc.docx", b"x").await;
    let t = s.token("alice", &id, RW).await;
    assert_eq!(
        s.check_file_info(&id, &t).await["LicenseCheckForEditIsEnabled"],
        true
    );
    let root = parent_url(&s, &id, &t).await;
    let (_, info) = get_json(&s, &root).await;
    assert_eq!(info["LicenseCheckForEditIsEnabled"], true);
    let child: Value = post(
        &s,
        &root,
        "CREATE_CHILD_CONTAINER",
        &[("X-WOPI-SuggestedTarget", "Sub")],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(child["ContainerInfo"]["LicenseCheckForEditIsEnabled"], true);
}
