//! The conformance suite every engine passes: CRUD, ranges, compare-and-swap, versions, and a
//! race where many tasks try to take one lock and exactly one wins. SQLite + local disk run always.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use wopid_store::*;

fn stream(chunks: Vec<&'static [u8]>) -> BlobStream {
    Box::pin(futures_util::stream::iter(
        chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
    ))
}

async fn read_all(mut s: BlobStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.expect("chunk"));
    }
    out
}

async fn engines() -> (tempfile::TempDir, Meta, Blobs) {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = Meta::open(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .expect("meta");
    let blobs = Blobs::open(&format!("file://{}", dir.path().join("blobs").display()))
        .await
        .expect("blobs");
    (dir, meta, blobs)
}

fn content(key: &str, size: u64) -> Content {
    Content {
        blob_key: key.into(),
        size,
        sha256: "00".into(),
        author_id: "u".into(),
        modified_ms: 1,
    }
}

#[tokio::test]
async fn blobs_round_trip_with_ranges_and_limits() {
    let (_d, _m, blobs) = engines().await;
    let out = blobs
        .put("key1", stream(vec![b"hello ", b"world"]), 100)
        .await
        .expect("put");
    assert_eq!(out.size, 11);
    assert_eq!(
        out.sha256,
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    assert_eq!(
        read_all(blobs.get("key1", None).await.expect("get")).await,
        b"hello world"
    );
    assert_eq!(
        read_all(blobs.get("key1", Some((6, 10))).await.expect("get")).await,
        b"world"
    );
    // Over the limit: nothing stored.
    assert!(matches!(
        blobs
            .put("key2", stream(vec![b"0123456789", b"x"]), 10)
            .await,
        Err(StoreError::TooLarge { .. })
    ));
    assert!(matches!(
        blobs.get("key2", None).await,
        Err(StoreError::BlobNotFound(_))
    ));
    // A failing body: nothing stored.
    let failing: BlobStream = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"part")),
        Err(std::io::Error::other("client went away")),
    ]));
    assert!(blobs.put("key3", failing, 100).await.is_err());
    assert!(matches!(
        blobs.get("key3", None).await,
        Err(StoreError::BlobNotFound(_))
    ));
    blobs.delete("key1").await.expect("delete");
    blobs.delete("key1").await.expect("deleting twice is fine");
    assert!(blobs.get("../etc", None).await.is_err());
    blobs.ping().await.expect("ping");
}

#[tokio::test]
async fn files_versions_and_compare_and_swap() {
    let (_d, meta, _b) = engines().await;
    meta.ping().await.expect("ping");
    let u = meta.ensure_user("alice", "Alice", 1).await.expect("user");
    assert_eq!(
        meta.ensure_user("alice", "Other", 2)
            .await
            .expect("same user")
            .id,
        u.id
    );
    let root = meta.root_container(&u.id, 1).await.expect("root");
    assert_eq!(
        meta.root_container(&u.id, 2).await.expect("root").id,
        root.id
    );
    let new = |id: &str, name: &str| NewFile {
        id: id.into(),
        container_id: root.id.clone(),
        owner_id: u.id.clone(),
        name: name.into(),
        content: content("b1", 3),
    };
    let Cas::Applied(f) = meta.create_file(new("f1", "a.docx")).await.expect("create") else {
        panic!("not created")
    };
    assert_eq!((f.version, f.rev), (1, 1));
    assert_eq!(
        meta.create_file(new("f2", "A.DOCX")).await.expect("create"),
        Cas::NameTaken,
        "names are case-insensitive"
    );

    // CAS: applies once per revision.
    let Cas::Applied(f) = meta
        .update_file("f1", 1, FileUpdate::Content(content("b2", 5)))
        .await
        .expect("update")
    else {
        panic!("not applied")
    };
    assert_eq!((f.version, f.size, f.blob_key.as_str()), (2, 5, "b2"));
    assert_eq!(
        meta.update_file("f1", 1, FileUpdate::Rename("x.docx".into()))
            .await
            .expect("stale"),
        Cas::Stale
    );
    let Cas::Applied(f) = meta
        .update_file(
            "f1",
            f.rev,
            FileUpdate::Lock {
                id: Some("L".into()),
                expires_ms: 9,
            },
        )
        .await
        .expect("lock")
    else {
        panic!("not applied")
    };
    assert_eq!(
        (f.version, f.lock_id.as_deref()),
        (2, Some("L")),
        "locking keeps the version"
    );
    let Cas::Applied(_) = meta.create_file(new("f3", "b.docx")).await.expect("create") else {
        panic!("not created")
    };
    assert_eq!(
        meta.update_file("f1", f.rev, FileUpdate::Rename("B.docx".into()))
            .await
            .expect("rename"),
        Cas::NameTaken
    );
    let versions = meta.versions("f1").await.expect("versions");
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.blob_key.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "b1"), (2, "b2")]
    );
    assert_eq!(
        meta.file_by_name(&root.id, "A.docx")
            .await
            .expect("by name")
            .map(|f| f.id),
        Some("f1".into())
    );
    assert_eq!(
        meta.list_files(Some(&root.id)).await.expect("list").len(),
        2
    );

    // Delete returns the blobs to remove, once.
    assert_eq!(meta.delete_file("f1", 1).await.expect("stale delete"), None);
    let keys = meta
        .delete_file("f1", f.rev)
        .await
        .expect("delete")
        .expect("deleted");
    assert_eq!(keys.len(), 2);
    assert!(meta.file("f1").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_many_racing_lockers_wins() {
    let (_d, meta, _b) = engines().await;
    let u = meta.ensure_user("alice", "Alice", 1).await.expect("user");
    let root = meta.root_container(&u.id, 1).await.expect("root");
    let f = NewFile {
        id: "f".into(),
        container_id: root.id,
        owner_id: u.id,
        name: "a".into(),
        content: content("b", 0),
    };
    meta.create_file(f).await.expect("create");
    let meta = Arc::new(meta);
    for round in 0..10 {
        let start = meta.file("f").await.expect("get").expect("file");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let meta = meta.clone();
            let rev = start.rev;
            tasks.push(tokio::spawn(async move {
                let lock = FileUpdate::Lock {
                    id: Some(format!("{round}-{i}")),
                    expires_ms: 1,
                };
                matches!(
                    meta.update_file("f", rev, lock).await.expect("update"),
                    Cas::Applied(_)
                )
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.expect("task"));
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

#[tokio::test]
async fn tokens_and_settings() {
    let (_d, meta, _b) = engines().await;
    let t = TokenRecord {
        hash: vec![1, 2, 3],
        user_id: "u".into(),
        kind: ResourceKind::File,
        resource_id: "f".into(),
        perms: 1,
        expires_ms: 10,
        revoked: false,
        client: Some("editor".into()),
    };
    meta.insert_token(&t).await.expect("insert");
    assert_eq!(meta.token(&[1, 2, 3]).await.expect("get"), Some(t.clone()));
    assert_eq!(meta.token(&[9]).await.expect("get"), None);
    assert_eq!(
        meta.revoke_tokens("u", Some("other"))
            .await
            .expect("revoke"),
        0
    );
    assert_eq!(meta.revoke_tokens("u", Some("f")).await.expect("revoke"), 1);
    assert!(
        meta.token(&[1, 2, 3])
            .await
            .expect("get")
            .expect("token")
            .revoked
    );
    assert_eq!(meta.setting_or_init("k", "v1").await.expect("set"), "v1");
    assert_eq!(meta.setting_or_init("k", "v2").await.expect("get"), "v1");
}
