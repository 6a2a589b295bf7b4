//! The conformance suite every engine passes: CRUD, ranges, compare-and-swap, versions, accounts,
//! and a race where many tasks (and many processes) try to take one lock and exactly one wins.
//! SQLite + local disk run always; PostgreSQL and S3 when `WOPID_TEST_PG_URL` /
//! `WOPID_TEST_S3_URL` are set (see `engines/mod.rs`). Test names end in the engine's name.

mod engines;

use std::sync::Arc;

use bytes::Bytes;
use engines::{BlobsUnderTest, MetaUnderTest};
use futures_util::StreamExt as _;
use sha2::Digest as _;
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

fn content(key: &str, size: u64) -> Content {
    Content {
        blob_key: key.into(),
        size,
        sha256: "00".into(),
        author_id: "u".into(),
        modified_ms: 1,
    }
}

/// A user with a root container and one empty file `f` in it.
async fn one_file(meta: &Meta) -> (User, Container) {
    let u = meta.ensure_user("alice", "Alice", 1).await.expect("user");
    let root = meta.root_container(&u.id, 1).await.expect("root");
    let f = NewFile {
        id: "f".into(),
        container_id: root.id.clone(),
        owner_id: u.id.clone(),
        name: "a".into(),
        content: content("b", 0),
    };
    assert!(matches!(
        meta.create_file(f).await.expect("create"),
        Cas::Applied(_)
    ));
    (u, root)
}

blob_test!(
    blobs_round_trip_with_ranges_and_limits,
    |b: BlobsUnderTest| async move {
        let blobs = b.blobs;
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
        assert_eq!(
            read_all(blobs.get("key1", Some((0, 0))).await.expect("get")).await,
            b"h"
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
        // An empty blob.
        let empty = blobs.put("key4", stream(vec![]), 100).await.expect("put");
        assert_eq!(empty.size, 0);
        assert!(
            read_all(blobs.get("key4", None).await.expect("get"))
                .await
                .is_empty()
        );
        blobs.delete("key1").await.expect("delete");
        blobs.delete("key1").await.expect("deleting twice is fine");
        assert!(matches!(
            blobs.get("key1", None).await,
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(blobs.get("../etc", None).await.is_err());
        blobs.ping().await.expect("ping");
    }
);

/// A deterministic body of `len` bytes in chunks of `chunk` bytes.
fn big_body(len: usize, chunk: usize) -> (BlobStream, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (Box::pin(futures_util::stream::iter(chunks)), data)
}

blob_test!(
    large_blobs_stream_in_parts_and_fail_whole,
    |b: BlobsUnderTest| async move {
        let blobs = b.blobs;
        // Bigger than one S3 part (8 MiB), so it goes up as a multipart upload there.
        let len = 20 * 1024 * 1024 + 123;
        let (body, data) = big_body(len, 64 * 1024);
        let out = blobs.put("big", body, u64::MAX).await.expect("put");
        assert_eq!(out.size, len as u64);
        assert_eq!(out.sha256, hex(&sha2::Sha256::digest(&data)));
        assert!(read_all(blobs.get("big", None).await.expect("get")).await == data);
        // A range across the part boundary.
        let (s, e) = (8 * 1024 * 1024 - 10, 8 * 1024 * 1024 + 10);
        let got = read_all(
            blobs
                .get("big", Some((s as u64, e as u64)))
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(got, &data[s..=e]);
        // The limit is hit after several parts went up: the upload is abandoned, nothing stored.
        let (body, _) = big_body(len, 64 * 1024);
        assert!(matches!(
            blobs.put("big2", body, 17 * 1024 * 1024).await,
            Err(StoreError::TooLarge { .. })
        ));
        assert!(matches!(
            blobs.get("big2", None).await,
            Err(StoreError::BlobNotFound(_))
        ));
        // The body fails after several parts: nothing stored.
        let (body, _) = big_body(18 * 1024 * 1024, 64 * 1024);
        let failing: BlobStream = Box::pin(body.chain(futures_util::stream::iter(vec![Err(
            std::io::Error::other("client went away"),
        )])));
        assert!(blobs.put("big3", failing, u64::MAX).await.is_err());
        assert!(matches!(
            blobs.get("big3", None).await,
            Err(StoreError::BlobNotFound(_))
        ));
    }
);

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

meta_test!(
    files_versions_and_compare_and_swap,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
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
        assert_eq!((f.version, f.rev, f.size), (1, 1, 3));
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
        assert_eq!(
            meta.update_file("missing", 1, FileUpdate::Rename("x.docx".into()))
                .await
                .expect("missing"),
            Cas::Stale
        );
        let Cas::Applied(f) = meta
            .update_file(
                "f1",
                f.rev,
                FileUpdate::Lock {
                    id: Some("L".into()),
                    expires_ms: 9,
                    user: None,
                },
            )
            .await
            .expect("lock")
        else {
            panic!("not applied")
        };
        assert_eq!(
            (f.version, f.lock_id.as_deref(), f.lock_expires_ms),
            (2, Some("L"), 9),
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
        let Cas::Applied(f) = meta
            .update_file("f1", f.rev, FileUpdate::Rename("Ä.docx".into()))
            .await
            .expect("rename")
        else {
            panic!("not renamed")
        };
        assert_eq!(f.name, "Ä.docx");
        assert_eq!(
            meta.last_version("f1")
                .await
                .expect("last")
                .map(|v| (v.version, v.blob_key)),
            Some((2, "b2".to_owned()))
        );
        assert_eq!(meta.last_version("none").await.expect("last"), None);
        // Moving: to a container with that name taken, then to a free one.
        let other = meta
            .create_container("c9", &root.id, &u.id, "Other", 1)
            .await
            .expect("create")
            .expect("created");
        let Cas::Applied(_) = meta
            .create_file(NewFile {
                container_id: other.id.clone(),
                ..new("f9", "Ä.DOCX")
            })
            .await
            .expect("create")
        else {
            panic!("not created")
        };
        let to_other = FileUpdate::Move {
            container_id: other.id.clone(),
        };
        assert_eq!(
            meta.update_file("f1", f.rev, to_other.clone())
                .await
                .expect("move"),
            Cas::NameTaken
        );
        meta.delete_file("f9", 1)
            .await
            .expect("delete")
            .expect("deleted");
        let Cas::Applied(moved) = meta.update_file("f1", f.rev, to_other).await.expect("move")
        else {
            panic!("not moved")
        };
        assert_eq!(
            (moved.container_id.as_str(), moved.version),
            (other.id.as_str(), 2)
        );
        let back = FileUpdate::Move {
            container_id: root.id.clone(),
        };
        let Cas::Applied(f) = meta
            .update_file("f1", moved.rev, back)
            .await
            .expect("move back")
        else {
            panic!("not moved")
        };
        let versions = meta.versions("f1").await.expect("versions");
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.version, v.blob_key.as_str(), v.size))
                .collect::<Vec<_>>(),
            vec![(1, "b1", 3), (2, "b2", 5)]
        );
        assert_eq!(
            meta.file_by_name(&root.id, "b.DOCX")
                .await
                .expect("by name")
                .map(|f| f.id),
            Some("f3".into())
        );
        assert_eq!(
            meta.list_files(Some(&root.id))
                .await
                .expect("list")
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            vec!["b.docx", "Ä.docx"],
            "ordered by name, byte-wise"
        );
        assert_eq!(meta.list_files(None).await.expect("list").len(), 2);

        // Delete returns the blobs to remove, once.
        assert_eq!(meta.delete_file("f1", 1).await.expect("stale delete"), None);
        let mut keys = meta
            .delete_file("f1", f.rev)
            .await
            .expect("delete")
            .expect("deleted");
        keys.sort();
        assert_eq!(keys, vec!["b1".to_owned(), "b2".to_owned()]);
        assert!(meta.file("f1").await.expect("get").is_none());
        assert!(meta.versions("f1").await.expect("versions").is_empty());
        assert_eq!(meta.delete_file("f1", f.rev).await.expect("again"), None);
    }
);

meta_test!(
    editor_saves_coalesce_history_but_versions_grow,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        one_file(&meta).await;
        let save = |key: &str, replaces: Option<i64>, autosave: bool| FileUpdate::Save {
            content: content(key, 1),
            info: SaveInfo {
                editors: Some("alice,bob".into()),
                autosave,
                exit_save: false,
                modified_by_user: true,
                session: Some("S".into()),
            },
            replaces,
        };
        let Cas::Applied(f) = meta
            .update_file("f", 1, save("s2", None, true))
            .await
            .expect("save")
        else {
            panic!("not applied")
        };
        let Cas::Applied(f) = meta
            .update_file("f", f.rev, save("s3", Some(2), false))
            .await
            .expect("save")
        else {
            panic!("not applied")
        };
        assert_eq!(f.version, 3);
        let v = meta.versions("f").await.expect("versions");
        assert_eq!(
            v.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![1, 3],
            "version 2 was replaced by 3"
        );
        assert_eq!(v[1].info.editors.as_deref(), Some("alice,bob"));
        assert_eq!(v[1].info.session.as_deref(), Some("S"));
        assert!(!v[1].info.autosave && v[1].info.modified_by_user);
        assert_eq!(v[0].info, SaveInfo::default());
    }
);

/// Many tasks read the same revision and try to lock: exactly one wins each round.
async fn racing_tasks(meta: Meta, rounds: usize, tasks: usize) {
    let meta = Arc::new(meta);
    for round in 0..rounds {
        let start = meta.file("f").await.expect("get").expect("file");
        let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
        let mut handles = Vec::new();
        for i in 0..tasks {
            let meta = meta.clone();
            let barrier = barrier.clone();
            let rev = start.rev;
            handles.push(tokio::spawn(async move {
                let lock = FileUpdate::Lock {
                    id: Some(format!("{round}-{i}")),
                    expires_ms: 1,
                    user: None,
                };
                barrier.wait().await;
                matches!(
                    meta.update_file("f", rev, lock).await.expect("update"),
                    Cas::Applied(_)
                )
            }));
        }
        let mut wins = 0;
        for h in handles {
            wins += usize::from(h.await.expect("task"));
        }
        assert_eq!(wins, 1, "round {round}");
        let after = meta.file("f").await.expect("get").expect("file");
        assert_eq!(
            after.rev,
            start.rev + 1,
            "round {round}: one change applied"
        );
    }
}

meta_test!(
    exactly_one_of_many_racing_tasks_wins_a_lock,
    |m: MetaUnderTest| async move {
        one_file(&m.meta).await;
        racing_tasks(m.meta, 10, 16).await;
    }
);

/// Name of the helper the process race spawns: the test binary itself, told by environment
/// variables to make one attempt and report it.
const CHILD: &str = "lock_race_child";

/// One process of the race: opens the engine at `WOPID_RACE_URL`, waits until the agreed start
/// time, tries to lock file `f` at revision `WOPID_RACE_REV`, prints `WON` or `LOST`.
#[tokio::test]
#[ignore = "run by exactly_one_of_many_racing_processes_wins_a_lock"]
async fn lock_race_child() {
    let (Ok(url), Ok(rev), Ok(at), Ok(me)) = (
        std::env::var("WOPID_RACE_URL"),
        std::env::var("WOPID_RACE_REV"),
        std::env::var("WOPID_RACE_AT_MS"),
        std::env::var("WOPID_RACE_ME"),
    ) else {
        return;
    };
    let meta = Meta::open(&url).await.expect("open");
    let at: u128 = at.parse().expect("start time");
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .expect("clock")
        .as_millis();
    if at > now {
        tokio::time::sleep(std::time::Duration::from_millis((at - now) as u64)).await;
    }
    let lock = FileUpdate::Lock {
        id: Some(me),
        expires_ms: 1,
        user: None,
    };
    let won = matches!(
        meta.update_file("f", rev.parse().expect("rev"), lock)
            .await
            .expect("update"),
        Cas::Applied(_)
    );
    println!("{}", if won { "RACE-WON" } else { "RACE-LOST" });
}

async fn racing_processes(m: MetaUnderTest, rounds: usize, procs: usize) {
    one_file(&m.meta).await;
    let exe = std::env::current_exe().expect("test binary");
    for round in 0..rounds {
        let start = m.meta.file("f").await.expect("get").expect("file");
        // Every process opens its engine first, then all try at once.
        let at = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .expect("clock")
            .as_millis()
            + 1500;
        let mut children = Vec::new();
        for i in 0..procs {
            let child = tokio::process::Command::new(&exe)
                .args([
                    CHILD,
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("WOPID_RACE_URL", &m.url)
                .env("WOPID_RACE_REV", start.rev.to_string())
                .env("WOPID_RACE_AT_MS", at.to_string())
                .env("WOPID_RACE_ME", format!("p{round}-{i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("spawn");
            children.push(child);
        }
        let (mut won, mut lost) = (0, 0);
        for c in children {
            let out =
                tokio::time::timeout(std::time::Duration::from_secs(60), c.wait_with_output())
                    .await
                    .expect("child finished in time")
                    .expect("child output");
            let text = String::from_utf8_lossy(&out.stdout);
            won += text.matches("RACE-WON").count();
            lost += text.matches("RACE-LOST").count();
        }
        assert_eq!(
            (won, lost),
            (1, procs - 1),
            "round {round}: exactly one process wins"
        );
        let after = m.meta.file("f").await.expect("get").expect("file");
        assert_eq!(after.rev, start.rev + 1);
        assert!(
            after
                .lock_id
                .is_some_and(|l| l.starts_with(&format!("p{round}-")))
        );
    }
}

meta_test!(
    exactly_one_of_many_racing_processes_wins_a_lock,
    |m: MetaUnderTest| async move {
        racing_processes(m, 2, 6).await;
    }
);

meta_test!(users_and_containers, |m: MetaUnderTest| async move {
    let meta = m.meta;
    let nu = |id: &str, login: &str| NewUser {
        id: id.into(),
        login: login.into(),
        display_name: login.to_uppercase(),
        email: Some(format!("{login}@example.com")),
        password_hash: Some("$argon2$x".into()),
    };
    assert!(meta.create_user(&nu("u1", "bob"), 1).await.expect("create"));
    assert!(!meta.create_user(&nu("u2", "bob"), 1).await.expect("taken"));
    assert!(meta.create_user(&nu("u3", "Bob"), 1).await.expect("create"));
    assert_eq!(
        meta.list_users()
            .await
            .expect("users")
            .iter()
            .map(|u| u.login.as_str())
            .collect::<Vec<_>>(),
        vec!["Bob", "bob"]
    );
    assert_eq!(
        meta.user("u1").await.expect("user").map(|u| u.display_name),
        Some("BOB".into())
    );
    assert_eq!(meta.user("nobody").await.expect("user"), None);
    meta.set_user_info("u1", "{\"theme\":1}")
        .await
        .expect("info");
    assert_eq!(
        meta.user_by_login("bob")
            .await
            .expect("user")
            .and_then(|u| u.user_info),
        Some("{\"theme\":1}".into())
    );
    assert_eq!(
        meta.password_hash("u1").await.expect("hash").as_deref(),
        Some("$argon2$x")
    );
    meta.set_password_hash("u1", "$argon2$y")
        .await
        .expect("set");
    assert_eq!(
        meta.password_hash("u1").await.expect("hash").as_deref(),
        Some("$argon2$y")
    );
    assert_eq!(meta.password_hash("nobody").await.expect("hash"), None);

    let root = meta.root_container("u1", 1).await.expect("root");
    assert_eq!(
        (root.parent_id.as_deref(), root.name.as_str()),
        (None, "bob")
    );
    let docs = meta
        .create_container("c1", &root.id, "u1", "Docs", 1)
        .await
        .expect("create")
        .expect("created");
    assert_eq!(docs.parent_id.as_deref(), Some(root.id.as_str()));
    assert_eq!(
        meta.create_container("c2", &root.id, "u1", "DOCS", 1)
            .await
            .expect("create"),
        None,
        "container names are case-insensitive"
    );
    meta.create_container("c3", &root.id, "u1", "Archive", 1)
        .await
        .expect("create")
        .expect("created");
    meta.create_container("c4", "c1", "u1", "Inner", 1)
        .await
        .expect("create")
        .expect("created");
    assert_eq!(
        meta.child_containers(&root.id)
            .await
            .expect("children")
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Archive", "Docs"]
    );
    assert_eq!(
        meta.container_by_name(&root.id, "docs")
            .await
            .expect("by name")
            .map(|c| c.id),
        Some("c1".into())
    );
    assert!(!meta.rename_container("c3", "docs").await.expect("rename"));
    assert!(meta.rename_container("c3", "Old").await.expect("rename"));
    assert!(
        meta.rename_container(&root.id, "Home")
            .await
            .expect("rename"),
        "a root container can be renamed (its name is only displayed)"
    );
    assert_eq!(
        meta.container("c3").await.expect("get").map(|c| c.name),
        Some("Old".into())
    );
    assert_eq!(
        meta.delete_container("c1").await.expect("delete"),
        ContainerDeletion::NotEmpty,
        "it has a child"
    );
    let f = NewFile {
        id: "f".into(),
        container_id: "c4".into(),
        owner_id: "u1".into(),
        name: "x.txt".into(),
        content: content("k", 1),
    };
    meta.create_file(f).await.expect("create");
    assert_eq!(
        meta.delete_container("c4").await.expect("delete"),
        ContainerDeletion::NotEmpty,
        "it has a file"
    );
    meta.delete_file("f", 1)
        .await
        .expect("delete")
        .expect("deleted");
    meta.put_share(&Share {
        resource_id: "c4".into(),
        user_id: "u3".into(),
        can_write: true,
    })
    .await
    .expect("share");
    assert_eq!(
        meta.delete_container("c4").await.expect("delete"),
        ContainerDeletion::Deleted
    );
    assert!(
        meta.shares("u3", &["c4".into()])
            .await
            .expect("shares")
            .is_empty(),
        "its shares went with it"
    );
    assert_eq!(
        meta.delete_container("c4").await.expect("delete"),
        ContainerDeletion::Missing
    );
    assert_eq!(
        meta.delete_container(&root.id).await.expect("delete"),
        ContainerDeletion::NotEmpty,
        "a root container stays"
    );
});

meta_test!(
    tokens_shares_settings_and_sessions,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let t = TokenRecord {
            hash: vec![1, 2, 3],
            user_id: "u".into(),
            kind: ResourceKind::File,
            resource_id: "f".into(),
            perms: 1,
            expires_ms: 10,
            revoked: false,
            client: Some("editor".into()),
            epoch: 2,
            link: Some(vec![9; 32]),
        };
        meta.insert_token(&t).await.expect("insert");
        let t2 = TokenRecord {
            hash: vec![4],
            kind: ResourceKind::Refresh,
            resource_id: "client".into(),
            client: None,
            link: None,
            ..t.clone()
        };
        meta.insert_token(&t2).await.expect("insert");
        assert_eq!(meta.token(&[1, 2, 3]).await.expect("get"), Some(t.clone()));
        assert_eq!(meta.token(&[4]).await.expect("get"), Some(t2.clone()));
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
        meta.revoke_token(&[4]).await.expect("revoke one");
        assert!(meta.token(&[4]).await.expect("get").expect("token").revoked);
        meta.insert_token(&TokenRecord {
            hash: vec![5],
            ..t.clone()
        })
        .await
        .expect("insert");
        assert_eq!(meta.revoke_tokens("u", None).await.expect("revoke"), 3);

        assert_eq!(meta.setting_or_init("k", "v1").await.expect("set"), "v1");
        assert_eq!(meta.setting_or_init("k", "v2").await.expect("get"), "v1");
        assert_eq!(meta.setting("none").await.expect("get"), None);
        meta.put_setting("k", "v3").await.expect("put");
        assert_eq!(meta.setting("k").await.expect("get").as_deref(), Some("v3"));

        // Shares (the user must exist).
        meta.create_user(
            &NewUser {
                id: "u".into(),
                login: "u".into(),
                display_name: "U".into(),
                email: None,
                password_hash: None,
            },
            1,
        )
        .await
        .expect("user");
        let sh = |r: &str, w: bool| Share {
            resource_id: r.into(),
            user_id: "u".into(),
            can_write: w,
        };
        meta.put_share(&sh("a", false)).await.expect("share");
        meta.put_share(&sh("b", false)).await.expect("share");
        meta.put_share(&sh("a", true)).await.expect("change");
        let mut got = meta
            .shares("u", &["a".into(), "b".into(), "c".into()])
            .await
            .expect("shares");
        got.sort_by(|x, y| x.resource_id.cmp(&y.resource_id));
        assert_eq!(got, vec![sh("a", true), sh("b", false)]);
        assert!(meta.shares("u", &[]).await.expect("none").is_empty());
        assert_eq!(
            meta.shares_of("u").await.expect("all"),
            vec![sh("a", true), sh("b", false)]
        );
        assert!(meta.shares_of("nobody").await.expect("none").is_empty());

        // Sessions.
        let s = SessionRecord {
            hash: vec![7; 32],
            user_id: "u".into(),
            csrf: "c".into(),
            expires_ms: 99,
            epoch: 3,
        };
        meta.insert_session(&s).await.expect("session");
        assert_eq!(meta.session(&s.hash).await.expect("get"), Some(s.clone()));
        meta.delete_session(&s.hash).await.expect("delete");
        assert_eq!(meta.session(&s.hash).await.expect("get"), None);
    }
);

meta_test!(oauth_codes_are_taken_once, |m: MetaUnderTest| async move {
    let meta = Arc::new(m.meta);
    let c = OAuthClient {
        id: "cl".into(),
        name: "Client".into(),
        redirect_uri: "https://c/cb".into(),
        require_pkce: false,
    };
    meta.add_oauth_client(&c).await.expect("client");
    assert_eq!(meta.oauth_client("cl").await.expect("get"), Some(c));
    assert_eq!(meta.oauth_client("x").await.expect("get"), None);
    let code = AuthCode {
        hash: vec![8; 32],
        client_id: "cl".into(),
        user_id: "u".into(),
        redirect_uri: "https://c/cb".into(),
        code_challenge: Some("ch".into()),
        expires_ms: 5,
        epoch: 4,
    };
    meta.insert_auth_code(&code).await.expect("code");
    // Many redeem at once: one gets it.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let meta = meta.clone();
        let h = code.hash.clone();
        handles.push(tokio::spawn(async move {
            meta.take_auth_code(&h).await.expect("take")
        }));
    }
    let mut got = Vec::new();
    for h in handles {
        got.extend(h.await.expect("task"));
    }
    assert_eq!(got, vec![code]);
});

meta_test!(
    sign_in_reservations_hold_under_parallel_attempts,
    |m: MetaUnderTest| async move {
        let meta = Arc::new(m.meta);
        // 40 attempts at once on one name (limit 5) from one address (limit 100): five get through.
        let mut handles = Vec::new();
        for _ in 0..40 {
            let meta = meta.clone();
            handles.push(tokio::spawn(async move {
                meta.reserve_sign_in(&[("name:a", 5), ("addr:x", 100)], 100, 0)
                    .await
                    .expect("reserve")
            }));
        }
        let mut through = 0;
        for h in handles {
            through += usize::from(h.await.expect("task"));
        }
        assert_eq!(through, 5);
        // A refused attempt recorded nothing under the other key either.
        assert!(
            meta.reserve_sign_in(&[("addr:x", 6)], 100, 0)
                .await
                .expect("reserve")
        );
        assert!(
            !meta
                .reserve_sign_in(&[("addr:x", 6)], 100, 0)
                .await
                .expect("reserve")
        );
        // A released reservation (the sign-in succeeded) no longer counts.
        meta.release_sign_in(&["name:a"], 100)
            .await
            .expect("release");
        assert!(
            meta.reserve_sign_in(&[("name:a", 5)], 101, 0)
                .await
                .expect("reserve")
        );
        assert!(
            !meta
                .reserve_sign_in(&[("name:a", 5)], 102, 0)
                .await
                .expect("reserve")
        );
        // Once the window has moved past them, the old failures are gone.
        assert!(
            meta.reserve_sign_in(&[("name:a", 1)], 500, 200)
                .await
                .expect("reserve")
        );
        assert!(
            !meta
                .reserve_sign_in(&[("name:a", 1)], 501, 200)
                .await
                .expect("reserve")
        );
    }
);

fn refresh_token(hash: u8, expires_ms: i64) -> TokenRecord {
    TokenRecord {
        hash: vec![hash; 32],
        user_id: "u".into(),
        kind: ResourceKind::Refresh,
        resource_id: "cl".into(),
        perms: 1,
        expires_ms,
        revoked: false,
        client: None,
        epoch: 0,
        link: None,
    }
}

meta_test!(
    family_tokens_keep_their_credential_generation,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        // Tokens issued from a code, and by a rotation, carry the generation of the sign-in
        // they descend from: stored as 0, they would be void once the user's floor rose.
        let mut first = refresh_token(1, 1_000);
        first.epoch = 7;
        assert!(
            meta.insert_family_tokens(&[5u8; 32], std::slice::from_ref(&first))
                .await
                .expect("issue")
        );
        assert_eq!(
            meta.token(&[1; 32]).await.expect("get").map(|t| t.epoch),
            Some(7)
        );
        let mut next = refresh_token(2, 1_000);
        next.epoch = 7;
        assert_eq!(
            meta.rotate_refresh_token(&[1; 32], 10, std::slice::from_ref(&next))
                .await
                .expect("rotate"),
            Rotation::Rotated
        );
        assert_eq!(
            meta.token(&[2; 32]).await.expect("get").map(|t| t.epoch),
            Some(7)
        );
    }
);

meta_test!(
    refresh_rotation_is_atomic_and_reuse_revokes_the_family,
    |m: MetaUnderTest| async move {
        let meta = Arc::new(m.meta);
        let family = vec![42u8; 32];
        let first = refresh_token(1, 1_000);
        assert!(
            meta.insert_family_tokens(&family, std::slice::from_ref(&first))
                .await
                .expect("issue")
        );
        // Six rotations of one token at once: one wins, the others are reuse.
        let mut handles = Vec::new();
        for i in 0..6u8 {
            let meta = meta.clone();
            handles.push(tokio::spawn(async move {
                meta.rotate_refresh_token(&[1; 32], 10, &[refresh_token(10 + i, 1_000)])
                    .await
                    .expect("rotate")
            }));
        }
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(h.await.expect("task"));
        }
        assert_eq!(
            outcomes.iter().filter(|o| **o == Rotation::Rotated).count(),
            1,
            "{outcomes:?}"
        );
        // The first loser revokes the family; later ones may find it revoked already.
        assert!(outcomes.contains(&Rotation::Reused), "{outcomes:?}");
        // Reuse revoked the family: the winner's token too, and nothing more is issued in it.
        for i in 0..6u8 {
            if let Some(t) = meta.token(&[10 + i; 32]).await.expect("get") {
                assert!(t.revoked, "token {i} of a revoked family");
            }
        }
        assert!(
            !meta
                .insert_family_tokens(&family, &[refresh_token(30, 1_000)])
                .await
                .expect("issue")
        );
        assert_eq!(meta.token(&[30; 32]).await.expect("get"), None);

        // One rotation alone; then expired and unknown tokens change nothing.
        let other = vec![43u8; 32];
        assert!(
            meta.insert_family_tokens(&other, &[refresh_token(2, 1_000)])
                .await
                .expect("issue")
        );
        assert_eq!(
            meta.rotate_refresh_token(&[2; 32], 10, &[refresh_token(3, 1_000)])
                .await
                .expect("rotate"),
            Rotation::Rotated
        );
        assert_eq!(
            meta.rotate_refresh_token(&[3; 32], 1_000, &[refresh_token(4, 2_000)])
                .await
                .expect("rotate"),
            Rotation::Invalid,
            "expired"
        );
        assert_eq!(
            meta.rotate_refresh_token(&[99; 32], 10, &[refresh_token(5, 2_000)])
                .await
                .expect("rotate"),
            Rotation::Invalid
        );
        assert!(!meta.token(&[3; 32]).await.expect("get").expect("t").revoked);
        assert_eq!(meta.token(&[4; 32]).await.expect("get"), None);
        // A refresh token from before families existed is a family of its own.
        meta.insert_token(&refresh_token(6, 1_000))
            .await
            .expect("insert");
        assert_eq!(
            meta.rotate_refresh_token(&[6; 32], 10, &[refresh_token(7, 1_000)])
                .await
                .expect("rotate"),
            Rotation::Rotated
        );
        assert_eq!(
            meta.rotate_refresh_token(&[6; 32], 10, &[refresh_token(8, 1_000)])
                .await
                .expect("rotate"),
            Rotation::Reused
        );
        assert!(meta.token(&[7; 32]).await.expect("get").expect("t").revoked);
        assert!(!meta.token(&[3; 32]).await.expect("get").expect("t").revoked);
    }
);

meta_test!(
    a_redeemed_code_names_a_family_that_can_be_revoked,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let code = AuthCode {
            hash: vec![9; 32],
            client_id: "cl".into(),
            user_id: "u".into(),
            redirect_uri: String::new(),
            code_challenge: None,
            expires_ms: 5,
            epoch: 0,
        };
        meta.insert_auth_code(&code).await.expect("code");
        assert_eq!(
            meta.revoke_token_family(&code.hash).await.expect("revoke"),
            0
        );
        assert!(
            meta.take_auth_code(&code.hash)
                .await
                .expect("take")
                .is_some()
        );
        assert!(
            meta.insert_family_tokens(&code.hash, &[refresh_token(1, 9), refresh_token(2, 9)])
                .await
                .expect("issue")
        );
        assert_eq!(
            meta.revoke_token_family(&code.hash).await.expect("revoke"),
            2
        );
        assert!(meta.token(&[1; 32]).await.expect("get").expect("t").revoked);
        assert!(meta.token(&[2; 32]).await.expect("get").expect("t").revoked);
        assert!(
            !meta
                .insert_family_tokens(&code.hash, &[refresh_token(3, 9)])
                .await
                .expect("issue")
        );
        // A code never redeemed names no family: nothing is created by revoking it.
        assert_eq!(meta.revoke_token_family(&[7; 32]).await.expect("revoke"), 0);
        assert!(
            meta.insert_family_tokens(&[7; 32], &[refresh_token(4, 9)])
                .await
                .expect("issue")
        );
    }
);

meta_test!(activities_keep_their_order, |m: MetaUnderTest| async move {
    let meta = m.meta;
    for (i, id) in ["z", "a", "m"].iter().enumerate() {
        meta.add_activity(&ActivityRecord {
            file_id: "f".into(),
            activity_id: (*id).into(),
            kind: "comment".into(),
            user_id: "u".into(),
            body: "{}".into(),
            received_ms: i as i64,
        })
        .await
        .expect("add");
    }
    assert_eq!(
        meta.activities("f")
            .await
            .expect("list")
            .iter()
            .map(|a| a.activity_id.as_str())
            .collect::<Vec<_>>(),
        vec!["z", "a", "m"]
    );
    assert!(meta.activities("g").await.expect("list").is_empty());
});

meta_test!(
    every_table_copies_whole_to_another_engine,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        // The copy list knows every table of the engine's schema.
        let mut known: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        known.sort_unstable();
        assert_eq!(meta.table_names().await.expect("tables"), known);

        // Some of everything, with a nested container.
        let (u, root) = one_file(&meta).await;
        let c1 = meta
            .create_container("c1", &root.id, &u.id, "A", 1)
            .await
            .expect("c1")
            .expect("created");
        meta.create_container("c2", &c1.id, &u.id, "B", 1)
            .await
            .expect("c2")
            .expect("created");
        meta.update_file("f", 1, FileUpdate::Content(content("b2", 2)))
            .await
            .expect("save");
        // The co-authoring columns: the lock holder's name, coauth locks, the sequence number.
        let lock = FileUpdate::Lock {
            id: Some("L".into()),
            expires_ms: 9,
            user: Some("Alice".into()),
        };
        meta.update_file("f", 2, lock).await.expect("lock");
        let coauth = FileUpdate::Coauth(vec![coauth_lock("C1", "Coauth", 9)]);
        meta.update_file("f", 3, coauth).await.expect("coauth");
        meta.insert_token(&TokenRecord {
            hash: vec![1, 2],
            user_id: u.id.clone(),
            kind: ResourceKind::File,
            resource_id: "f".into(),
            perms: 3,
            expires_ms: 9,
            revoked: false,
            client: None,
            epoch: 0,
            link: Some(vec![7; 32]),
        })
        .await
        .expect("token");
        meta.revoke_tokens(&u.id, Some("f")).await.expect("revoke");
        meta.put_share(&Share {
            resource_id: "c1".into(),
            user_id: u.id.clone(),
            can_write: true,
        })
        .await
        .expect("share");
        meta.put_setting("k", "v").await.expect("setting");
        for id in ["z", "a"] {
            meta.add_activity(&ActivityRecord {
                file_id: "f".into(),
                activity_id: id.into(),
                kind: "comment".into(),
                user_id: u.id.clone(),
                body: "{}".into(),
                received_ms: 1,
            })
            .await
            .expect("activity");
        }
        meta.insert_session(&SessionRecord {
            hash: vec![3],
            user_id: u.id.clone(),
            csrf: "x".into(),
            expires_ms: 5,
            epoch: 1,
        })
        .await
        .expect("session");
        assert!(
            meta.reserve_sign_in(&[("name:alice", 5)], 5, 0)
                .await
                .expect("failure")
        );
        for (sub, login) in [("s1", "sso1"), ("s2", "sso2"), ("s3", "sso3")] {
            let linked = meta
                .create_oidc_user(
                    "https://idp.example",
                    sub,
                    &NewUser {
                        id: format!("id-{login}"),
                        login: login.into(),
                        display_name: login.into(),
                        email: None,
                        password_hash: None,
                    },
                    1,
                )
                .await
                .expect("oidc user");
            assert!(linked);
        }

        meta.enqueue_deliveries(&[delivery("d1", "file.saved", 3)])
            .await
            .expect("delivery");
        let claimed = meta.claim_deliveries(3, 10, 1, "n").await.expect("claim");
        meta.retry_delivery("d1", "n", 20, "HTTP 500")
            .await
            .expect("retry");
        assert_eq!(claimed.len(), 1);

        // Copied in small pages into an empty SQLite, twice (the second adds nothing).
        let target = engines::sqlite().await;
        for pass in 0..2 {
            for t in TABLES.iter() {
                if !t.keyed {
                    target.meta.clear_rows(t).await.expect("clear");
                }
                let mut offset = 0;
                loop {
                    let rows = meta.export_rows(t, offset, 2).await.expect("export");
                    if rows.is_empty() {
                        break;
                    }
                    let new = target.meta.import_rows(t, &rows).await.expect("import");
                    if pass == 1 && t.keyed {
                        assert_eq!(new, 0, "{}: nothing new on the second pass", t.name);
                    }
                    offset += 2;
                }
            }
        }
        for t in TABLES.iter() {
            let n = meta.count_rows(t).await.expect("count");
            let a = meta.export_rows(t, 0, 1000).await.expect("export");
            let b = target.meta.export_rows(t, 0, 1000).await.expect("export");
            assert_eq!(a, b, "{}", t.name);
            assert_eq!(a.len() as u64, n, "{}", t.name);
        }
        let copy = &target.meta;
        let copied = copy.file("f").await.expect("file").expect("f");
        assert_eq!(copied, meta.file("f").await.expect("file").expect("f"));
        assert_eq!(
            (
                copied.sequence,
                copied.coauth_locks.len(),
                copied.lock_user.as_deref()
            ),
            (2, 1, Some("Alice"))
        );
        assert_eq!(
            copy.versions("f").await.expect("versions"),
            meta.versions("f").await.expect("versions")
        );
        assert_eq!(
            copy.activities("f")
                .await
                .expect("activities")
                .iter()
                .map(|a| a.activity_id.as_str())
                .collect::<Vec<_>>(),
            vec!["z", "a"]
        );
    }
);

meta_test!(
    revocation_raises_the_credential_floor,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let nu = NewUser {
            id: "u".into(),
            login: "u".into(),
            display_name: "U".into(),
            email: None,
            password_hash: None,
        };
        assert!(meta.create_user(&nu, 1).await.expect("user"));
        let u = meta.user("u").await.expect("get").expect("user");
        assert_eq!((u.epoch, u.revoked_below), (0, 0));
        assert_eq!(meta.token_floor("u", "f").await.expect("floor"), 0);
        assert_eq!(meta.token_floor("nobody", "f").await.expect("floor"), 0);

        // One resource: its floor rises past every credential issued so far; others stay.
        meta.revoke_tokens("u", Some("f")).await.expect("revoke");
        let u = meta.user("u").await.expect("get").expect("user");
        assert_eq!((u.epoch, u.revoked_below), (1, 0));
        assert_eq!(meta.token_floor("u", "f").await.expect("floor"), 1);
        assert_eq!(meta.token_floor("u", "g").await.expect("floor"), 0);

        // Everything: sessions and codes of the user go too.
        let session = SessionRecord {
            hash: vec![1; 32],
            user_id: "u".into(),
            csrf: "c".into(),
            expires_ms: i64::MAX,
            epoch: 1,
        };
        meta.insert_session(&session).await.expect("session");
        let code = AuthCode {
            hash: vec![2; 32],
            client_id: "cl".into(),
            user_id: "u".into(),
            redirect_uri: "https://c/cb".into(),
            code_challenge: None,
            expires_ms: i64::MAX,
            epoch: 1,
        };
        meta.insert_auth_code(&code).await.expect("code");
        meta.revoke_tokens("u", None).await.expect("revoke");
        let u = meta.user("u").await.expect("get").expect("user");
        assert_eq!((u.epoch, u.revoked_below), (2, 2));
        assert_eq!(meta.token_floor("u", "f").await.expect("floor"), 2);
        assert_eq!(meta.token_floor("u", "g").await.expect("floor"), 2);
        assert_eq!(meta.session(&session.hash).await.expect("get"), None);
        assert_eq!(meta.take_auth_code(&code.hash).await.expect("take"), None);

        // A new password does the same, in the same step.
        meta.insert_session(&SessionRecord {
            epoch: 2,
            ..session.clone()
        })
        .await
        .expect("session");
        meta.set_password_hash("u", "$argon2id$new")
            .await
            .expect("passwd");
        let u = meta.user("u").await.expect("get").expect("user");
        assert_eq!((u.epoch, u.revoked_below), (3, 3));
        assert_eq!(
            meta.password_hash("u").await.expect("hash").as_deref(),
            Some("$argon2id$new")
        );
        assert_eq!(meta.session(&session.hash).await.expect("get"), None);
        assert_eq!(meta.token_floor("u", "f").await.expect("floor"), 3);
    }
);

meta_test!(
    expired_credentials_are_purged,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        for (h, expires_ms) in [(1u8, 100), (2, 200), (3, 300)] {
            meta.insert_token(&TokenRecord {
                hash: vec![h; 32],
                user_id: "u".into(),
                kind: ResourceKind::File,
                resource_id: "f".into(),
                perms: 1,
                expires_ms,
                revoked: false,
                client: None,
                epoch: 0,
                link: None,
            })
            .await
            .expect("token");
            meta.insert_session(&SessionRecord {
                hash: vec![h; 32],
                user_id: "u".into(),
                csrf: "c".into(),
                expires_ms,
                epoch: 0,
            })
            .await
            .expect("session");
            meta.insert_auth_code(&AuthCode {
                hash: vec![h; 32],
                client_id: "cl".into(),
                user_id: "u".into(),
                redirect_uri: "https://c/cb".into(),
                code_challenge: None,
                expires_ms,
                epoch: 0,
            })
            .await
            .expect("code");
        }
        // Expired before 250: the first two of each kind; nothing else, and again nothing.
        assert_eq!(meta.purge_expired(250).await.expect("purge"), 6);
        assert_eq!(meta.purge_expired(250).await.expect("purge"), 0);
        for h in [1u8, 2] {
            assert_eq!(meta.token(&[h; 32]).await.expect("get"), None);
            assert_eq!(meta.session(&[h; 32]).await.expect("get"), None);
        }
        assert!(meta.token(&[3; 32]).await.expect("get").is_some());
        assert!(meta.session(&[3; 32]).await.expect("get").is_some());
        assert!(meta.take_auth_code(&[3; 32]).await.expect("take").is_some());
        assert_eq!(meta.take_auth_code(&[1; 32]).await.expect("take"), None);
    }
);

meta_test!(oidc_links, |m: MetaUnderTest| async move {
    let meta = m.meta;
    let iss = "https://idp.example/realms/a";
    let new = |id: &str, login: &str| NewUser {
        id: id.into(),
        login: login.into(),
        display_name: "Alice Example".into(),
        email: Some("alice@example.org".into()),
        password_hash: None,
    };
    assert_eq!(meta.oidc_user(iss, "sub-1").await.expect("get"), None);
    assert!(
        meta.create_oidc_user(iss, "sub-1", &new("u-a", "alice"), 1)
            .await
            .expect("create")
    );
    assert_eq!(
        meta.oidc_user(iss, "sub-1").await.expect("get").as_deref(),
        Some("u-a")
    );
    let u = meta.user("u-a").await.expect("user").expect("created");
    assert_eq!(
        (u.login.as_str(), u.display_name.as_str()),
        ("alice", "Alice Example")
    );
    assert_eq!(meta.password_hash("u-a").await.expect("hash"), None);
    // The same sub of another issuer is another identity.
    assert_eq!(
        meta.oidc_user("https://other.example", "sub-1")
            .await
            .expect("get"),
        None
    );
    // A taken name creates nothing and links nothing.
    assert!(
        !meta
            .create_oidc_user(iss, "sub-2", &new("u-b", "alice"), 1)
            .await
            .expect("create")
    );
    assert_eq!(meta.oidc_user(iss, "sub-2").await.expect("get"), None);
    assert_eq!(meta.user("u-b").await.expect("user"), None);
    // An identity already linked creates no second user (the user insert is rolled back).
    assert!(
        !meta
            .create_oidc_user(iss, "sub-1", &new("u-c", "alice2"), 1)
            .await
            .expect("create")
    );
    assert_eq!(meta.user("u-c").await.expect("user"), None);
    assert_eq!(meta.user_by_login("alice2").await.expect("user"), None);
    assert_eq!(
        meta.oidc_user(iss, "sub-1").await.expect("get").as_deref(),
        Some("u-a")
    );
});

fn delivery(id: &str, event: &str, at: i64) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        url: "http://receiver.example/hook".into(),
        event: event.into(),
        payload: format!("{{\"id\":\"{id}\"}}"),
        created_ms: at,
    }
}

meta_test!(
    webhook_deliveries_are_claimed_leased_retried_and_finished,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        assert_eq!(meta.next_delivery_due().await.expect("due"), None);
        assert!(
            meta.claim_deliveries(100, 10, 10, "a")
                .await
                .expect("claim")
                .is_empty()
        );
        meta.enqueue_deliveries(&[
            delivery("d1", "file.created", 100),
            delivery("d2", "file.saved", 100),
        ])
        .await
        .expect("enqueue");
        meta.enqueue_deliveries(&[delivery("d3", "file.deleted", 50)])
            .await
            .expect("enqueue");
        meta.enqueue_deliveries(&[]).await.expect("nothing");
        assert_eq!(meta.next_delivery_due().await.expect("due"), Some(50));
        let pending = meta.pending_deliveries(10).await.expect("pending");
        let ids: Vec<_> = pending.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2", "d3"], "queuing order, whatever the times");
        assert_eq!(pending[1].payload, "{\"id\":\"d2\"}");
        assert_eq!(pending[1].event, "file.saved");
        assert_eq!(
            (pending[1].attempts, pending[1].claim.as_deref()),
            (0, None)
        );

        // Not yet due: nothing. Due: oldest first, up to the limit, under the claim.
        assert!(
            meta.claim_deliveries(49, 10, 10, "a")
                .await
                .expect("claim")
                .is_empty()
        );
        let a = meta.claim_deliveries(100, 30, 2, "a").await.expect("claim");
        let ids: Vec<_> = a.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2"]);
        assert!(
            a.iter()
                .all(|d| d.claim.as_deref() == Some("a") && d.next_attempt_ms == 130)
        );
        // While the lease runs, another claimant gets only what is left.
        let b = meta
            .claim_deliveries(100, 30, 10, "b")
            .await
            .expect("claim");
        assert_eq!(b.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d3"]);
        assert!(
            meta.claim_deliveries(129, 30, 10, "c")
                .await
                .expect("claim")
                .is_empty()
        );

        // A failed attempt is recorded only by the holder of the claim.
        assert!(
            !meta
                .retry_delivery("d1", "b", 500, "no")
                .await
                .expect("retry")
        );
        assert!(
            meta.retry_delivery("d1", "a", 500, "HTTP 500")
                .await
                .expect("retry")
        );
        assert!(
            !meta
                .retry_delivery("d1", "a", 600, "again")
                .await
                .expect("retry"),
            "claim spent"
        );
        let d1 = meta
            .pending_deliveries(10)
            .await
            .expect("pending")
            .remove(0);
        assert_eq!(d1.id, "d1");
        assert_eq!((d1.attempts, d1.next_attempt_ms), (1, 500));
        assert_eq!(
            (d1.claim, d1.last_error.as_deref()),
            (None, Some("HTTP 500"))
        );

        // A lease that ran out (its node died) makes the delivery due again, for anyone.
        let again = meta
            .claim_deliveries(130, 30, 10, "c")
            .await
            .expect("claim");
        let ids: Vec<_> = again.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d2", "d3"]);
        assert!(
            !meta
                .retry_delivery("d2", "a", 900, "late")
                .await
                .expect("retry"),
            "lease lost"
        );

        // Delivered: gone, once.
        assert!(meta.finish_delivery("d2").await.expect("finish"));
        assert!(!meta.finish_delivery("d2").await.expect("finish"));
        assert!(meta.finish_delivery("d3").await.expect("finish"));
        let left = meta.pending_deliveries(10).await.expect("pending");
        assert_eq!(
            left.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
            ["d1"]
        );
        assert_eq!(meta.next_delivery_due().await.expect("due"), Some(500));
        let d1 = meta
            .claim_deliveries(500, 30, 10, "d")
            .await
            .expect("claim");
        assert_eq!(d1.len(), 1);
        assert_eq!(d1[0].attempts, 1);
    }
);

meta_test!(
    parallel_webhook_claims_hand_out_each_delivery_once,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let all: Vec<_> = (0..40)
            .map(|i| delivery(&format!("d{i:02}"), "file.saved", 1))
            .collect();
        meta.enqueue_deliveries(&all).await.expect("enqueue");
        let mut tasks = Vec::new();
        for t in 0..8 {
            let meta = meta.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = meta
                        .claim_deliveries(10, 1_000, 3, &format!("node{t}"))
                        .await
                        .expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|d| d.id));
                }
            }));
        }
        let mut seen = Vec::new();
        for t in tasks {
            seen.extend(t.await.expect("task"));
        }
        seen.sort();
        let want: Vec<_> = all.iter().map(|d| d.id.clone()).collect();
        assert_eq!(seen, want, "every delivery claimed exactly once");
    }
);

meta_test!(
    trash_hides_restores_and_purges,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let (u, root) = one_file(&meta).await;
        let f = meta.file("f").await.expect("file").expect("f");
        let dir = meta
            .create_container("d", &root.id, &u.id, "D", 1)
            .await
            .expect("mkdir")
            .expect("d");
        let sub = meta
            .create_container("s", &dir.id, &u.id, "S", 1)
            .await
            .expect("mkdir")
            .expect("s");
        let inner = NewFile {
            id: "g".into(),
            container_id: sub.id.clone(),
            owner_id: u.id.clone(),
            name: "g".into(),
            content: content("gb", 1),
        };
        assert!(matches!(
            meta.create_file(inner).await.expect("create"),
            Cas::Applied(_)
        ));
        meta.put_share(&Share {
            resource_id: "d".into(),
            user_id: u.id.clone(),
            can_write: false,
        })
        .await
        .expect("share");

        // A stale revision trashes nothing; the right one hides the file everywhere.
        assert!(!meta.trash_file("f", f.rev + 1, 5).await.expect("stale"));
        assert!(meta.trash_file("f", f.rev, 5).await.expect("trash"));
        assert_eq!(meta.file("f").await.expect("file"), None);
        assert_eq!(
            meta.file_by_name(&root.id, "a").await.expect("by name"),
            None
        );
        assert!(
            meta.list_files(None)
                .await
                .expect("all")
                .iter()
                .all(|x| x.id != "f")
        );
        // Its name is free again in the folder.
        let again = NewFile {
            id: "f2".into(),
            container_id: root.id.clone(),
            owner_id: u.id.clone(),
            name: "A".into(),
            content: content("b2", 0),
        };
        assert!(matches!(
            meta.create_file(again).await.expect("create"),
            Cas::Applied(_)
        ));

        // A locked file inside keeps a folder out of the trash; an empty-only request refuses.
        let g = meta.file("g").await.expect("file").expect("g");
        let lock = FileUpdate::Lock {
            id: Some("L".into()),
            expires_ms: 100,
            user: None,
        };
        assert!(matches!(
            meta.update_file("g", g.rev, lock).await.expect("lock"),
            Cas::Applied(_)
        ));
        assert_eq!(
            meta.trash_container("d", 6, false).await.expect("locked"),
            Trashing::Locked
        );
        assert_eq!(
            meta.trash_container("d", 6, true).await.expect("not empty"),
            Trashing::NotEmpty
        );
        assert_eq!(
            meta.trash_container(&root.id, 6, false)
                .await
                .expect("root"),
            Trashing::Missing
        );
        // Once the lock has expired, the folder goes with everything in it.
        assert_eq!(
            meta.trash_container("d", 200, false).await.expect("trash"),
            Trashing::Trashed
        );
        assert_eq!(meta.container("d").await.expect("d"), None);
        assert_eq!(meta.container("s").await.expect("s"), None);
        // Nothing new lands in a trashed folder (an upload that ends after the delete).
        let late = NewFile {
            id: "late".into(),
            container_id: sub.id.clone(),
            owner_id: u.id.clone(),
            name: "late".into(),
            content: content("lb", 0),
        };
        assert_eq!(meta.create_file(late).await.expect("create"), Cas::Stale);
        let late_dir = meta.create_container("ld", &sub.id, &u.id, "LD", 7).await;
        assert_eq!(late_dir.expect("create"), None);
        assert_eq!(meta.file("g").await.expect("g"), None);
        assert!(
            meta.child_containers(&root.id)
                .await
                .expect("children")
                .is_empty()
        );
        assert_eq!(
            meta.trash_container("d", 201, false).await.expect("again"),
            Trashing::Missing
        );

        let entries = meta.trash_entries(&u.id).await.expect("entries");
        let seen: Vec<_> = entries
            .iter()
            .map(|e| {
                (
                    e.kind,
                    e.id.as_str(),
                    e.name.as_str(),
                    e.parent_id.as_str(),
                    e.trashed_ms,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (TrashKind::Container, "d", "D", root.id.as_str(), 200),
                (TrashKind::File, "f", "a", root.id.as_str(), 5),
            ]
        );
        assert_eq!(
            meta.trash_entry(TrashKind::File, "g").await.expect("inner"),
            None
        );
        assert_eq!(
            meta.trashed_before(100).await.expect("old").len(),
            1,
            "only the file was deleted before 100"
        );

        // Restoring under a taken name is refused, into a trashed folder too; a free name works.
        assert_eq!(
            meta.restore_trashed(TrashKind::File, "f", &root.id, "a")
                .await
                .expect("taken"),
            Restoring::NameTaken
        );
        assert_eq!(
            meta.restore_trashed(TrashKind::File, "f", "d", "a")
                .await
                .expect("trashed target"),
            Restoring::Missing
        );
        assert_eq!(
            meta.restore_trashed(TrashKind::File, "f", &root.id, "a (2)")
                .await
                .expect("restore"),
            Restoring::Restored
        );
        let back = meta.file("f").await.expect("file").expect("back");
        assert_eq!(back.name, "a (2)");
        assert_eq!(meta.versions("f").await.expect("versions").len(), 1);

        // The folder comes back with what it held.
        assert_eq!(
            meta.restore_trashed(TrashKind::Container, "d", &root.id, "D")
                .await
                .expect("restore"),
            Restoring::Restored
        );
        assert_eq!(
            meta.container("s").await.expect("s").map(|c| c.name),
            Some("S".into())
        );
        assert!(meta.file("g").await.expect("g").is_some());
        assert!(meta.trash_entries(&u.id).await.expect("entries").is_empty());

        // Purging destroys the whole subtree and hands back its blobs.
        assert_eq!(
            meta.trash_container("d", 300, false).await.expect("trash"),
            Trashing::Trashed
        );
        assert_eq!(
            meta.purge_trashed(TrashKind::Container, "s")
                .await
                .expect("not an entry"),
            None
        );
        let keys = meta
            .purge_trashed(TrashKind::Container, "d")
            .await
            .expect("purge")
            .expect("purged");
        assert_eq!(keys, vec!["gb".to_owned()]);
        assert!(meta.versions("g").await.expect("versions").is_empty());
        assert!(meta.shares_on("d").await.expect("shares").is_empty());
        assert!(meta.trash_entries(&u.id).await.expect("entries").is_empty());
        assert_eq!(
            meta.delete_container("s").await.expect("gone"),
            ContainerDeletion::Missing
        );
        let f = meta.file("f").await.expect("file").expect("f");
        assert!(meta.trash_file("f", f.rev, 400).await.expect("trash"));
        assert_eq!(
            meta.purge_trashed(TrashKind::File, "f")
                .await
                .expect("purge"),
            Some(vec!["b".to_owned()])
        );
        assert_eq!(
            meta.purge_trashed(TrashKind::File, "f")
                .await
                .expect("again"),
            None
        );
    }
);

meta_test!(
    containers_move_but_never_into_themselves,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let u = meta.ensure_user("alice", "Alice", 1).await.expect("user");
        let root = meta.root_container(&u.id, 1).await.expect("root");
        let mk = |id: &'static str, parent: String, name: &'static str| {
            let meta = meta.clone();
            let owner = u.id.clone();
            async move {
                meta.create_container(id, &parent, &owner, name, 1)
                    .await
                    .expect("mkdir")
                    .expect("created")
            }
        };
        mk("a", root.id.clone(), "A").await;
        mk("b", "a".into(), "B").await;
        mk("c", root.id.clone(), "C").await;
        mk("b2", "c".into(), "b").await;
        assert_eq!(
            meta.move_container("a", "a").await.expect("self"),
            ContainerMove::IntoItself
        );
        assert_eq!(
            meta.move_container("a", "b").await.expect("below"),
            ContainerMove::IntoItself
        );
        assert_eq!(
            meta.move_container("b", "c").await.expect("taken"),
            ContainerMove::NameTaken
        );
        assert_eq!(
            meta.move_container(&root.id, "c").await.expect("root"),
            ContainerMove::Missing
        );
        assert_eq!(
            meta.move_container("a", "nowhere").await.expect("none"),
            ContainerMove::Missing
        );
        assert_eq!(
            meta.move_container("a", "c").await.expect("move"),
            ContainerMove::Moved
        );
        assert_eq!(
            meta.container("a")
                .await
                .expect("a")
                .and_then(|c| c.parent_id),
            Some("c".into())
        );
        assert_eq!(
            meta.move_container("c", "b").await.expect("cycle"),
            ContainerMove::IntoItself
        );
    }
);

meta_test!(
    shares_and_links_of_a_resource,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let (u, _) = one_file(&meta).await;
        let v = meta.ensure_user("bob", "Bob", 1).await.expect("user");
        for (who, w) in [(&u.id, true), (&v.id, false)] {
            meta.put_share(&Share {
                resource_id: "f".into(),
                user_id: who.clone(),
                can_write: w,
            })
            .await
            .expect("share");
        }
        let mut on = meta.shares_on("f").await.expect("shares");
        on.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        assert_eq!(on.len(), 2);
        assert!(meta.remove_share("f", &v.id).await.expect("remove"));
        assert!(!meta.remove_share("f", &v.id).await.expect("again"));
        assert_eq!(meta.shares_on("f").await.expect("shares").len(), 1);
        assert!(
            meta.shares(&v.id, &["f".into()])
                .await
                .expect("of bob")
                .is_empty()
        );

        let link = |hash: u8, kind, expires_ms| TokenRecord {
            hash: vec![hash; 32],
            user_id: u.id.clone(),
            kind,
            resource_id: "f".into(),
            perms: 1,
            expires_ms,
            revoked: false,
            client: None,
            epoch: 0,
            link: None,
        };
        meta.insert_token(&link(1, ResourceKind::ShareLink, 50))
            .await
            .expect("link");
        meta.insert_token(&link(2, ResourceKind::ShareLink, 10))
            .await
            .expect("link");
        meta.insert_token(&link(3, ResourceKind::File, 50))
            .await
            .expect("token");
        meta.insert_token(&link(4, ResourceKind::ShareLink, 5))
            .await
            .expect("expired");
        meta.insert_token(&link(5, ResourceKind::ShareLink, 60))
            .await
            .expect("revoked");
        meta.revoke_token(&[5; 32]).await.expect("revoke");
        let links = meta.links_on("f", 8).await.expect("links");
        assert_eq!(
            links.iter().map(|t| t.hash[0]).collect::<Vec<_>>(),
            vec![2, 1]
        );
    }
);

meta_test!(
    api_keys_and_account_changes,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let nu = |id: &str, login: &str| NewUser {
            id: id.into(),
            login: login.into(),
            display_name: login.into(),
            email: None,
            password_hash: None,
        };
        // The first user created administers wopid; later ones do not.
        assert!(meta.create_user(&nu("u1", "ann"), 1).await.expect("create"));
        assert!(meta.create_user(&nu("u2", "ben"), 1).await.expect("create"));
        let ann = meta.user("u1").await.expect("get").expect("ann");
        assert!(ann.admin && !ann.disabled && ann.email.is_none());
        assert!(!meta.user("u2").await.expect("get").expect("ben").admin);

        // Keys: stored by hash, listed oldest first, revoked in place.
        let key = |id: &str, at: i64| ApiKey {
            id: id.into(),
            name: format!("app {id}"),
            hash: vec![at as u8; 32],
            scope: "files".into(),
            origins: vec!["https://a.example".into(), "https://b.example".into()],
            created_ms: at,
            revoked: false,
        };
        meta.insert_api_key(&key("k2", 2)).await.expect("insert");
        meta.insert_api_key(&key("k1", 1)).await.expect("insert");
        assert_eq!(meta.api_key("k2").await.expect("get"), Some(key("k2", 2)));
        assert_eq!(meta.api_key("nope").await.expect("get"), None);
        let ids: Vec<String> = meta
            .api_keys()
            .await
            .expect("list")
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, vec!["k1", "k2"]);
        assert!(meta.revoke_api_key("k1").await.expect("revoke"));
        assert!(!meta.revoke_api_key("nope").await.expect("revoke"));
        assert!(meta.api_key("k1").await.expect("get").expect("k1").revoked);
        assert!(!meta.api_key("k2").await.expect("get").expect("k2").revoked);

        // Account changes: only the fields given.
        let changed = meta
            .change_user(
                "u2",
                &UserChange {
                    display_name: Some("Ben B".into()),
                    email: Some(Some("ben@example.com".into())),
                    ..Default::default()
                },
            )
            .await
            .expect("change")
            .expect("ben");
        assert_eq!(
            (changed.display_name.as_str(), changed.email.as_deref()),
            ("Ben B", Some("ben@example.com"))
        );
        let same = meta
            .change_user("u2", &UserChange::default())
            .await
            .expect("change")
            .expect("ben");
        assert_eq!(same, changed);
        let cleared = meta
            .change_user(
                "u2",
                &UserChange {
                    email: Some(None),
                    admin: Some(true),
                    ..Default::default()
                },
            )
            .await
            .expect("change")
            .expect("ben");
        assert!(cleared.email.is_none() && cleared.admin && cleared.display_name == "Ben B");
        assert_eq!(
            meta.change_user("nobody", &UserChange::default())
                .await
                .expect("change"),
            None
        );

        // Disabling voids every credential: tokens, sessions, and the generation floor rises.
        meta.insert_token(&TokenRecord {
            hash: vec![7; 32],
            user_id: "u2".into(),
            kind: ResourceKind::File,
            resource_id: "f".into(),
            perms: 1,
            expires_ms: i64::MAX,
            revoked: false,
            client: None,
            epoch: cleared.epoch,
            link: None,
        })
        .await
        .expect("token");
        meta.insert_session(&SessionRecord {
            hash: vec![8; 32],
            user_id: "u2".into(),
            csrf: "c".into(),
            expires_ms: i64::MAX,
            epoch: cleared.epoch,
        })
        .await
        .expect("session");
        let off = meta
            .change_user(
                "u2",
                &UserChange {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .await
            .expect("disable")
            .expect("ben");
        assert!(off.disabled);
        assert!(off.revoked_below > cleared.epoch);
        assert!(
            meta.token(&[7; 32])
                .await
                .expect("token")
                .expect("t")
                .revoked
        );
        assert_eq!(meta.session(&[8; 32]).await.expect("session"), None);

        // Host pages go with the token that names them.
        meta.put_token_host(&[7; 32], "{\"origin\":\"https://a.example\"}", i64::MAX)
            .await
            .expect("host");
        let read = meta
            .token_file(&[7; 32], "f")
            .await
            .expect("read")
            .expect("token");
        assert_eq!(
            read.host.as_deref(),
            Some("{\"origin\":\"https://a.example\"}")
        );
        assert_eq!(read.user.map(|u| u.disabled), Some(true));

        // Revoking a resource's tokens reaches every user who holds one, and only that resource.
        for (h, user, res) in [(20u8, "u1", "r9"), (21, "u2", "r9"), (22, "u1", "r8")] {
            meta.insert_token(&TokenRecord {
                hash: vec![h; 32],
                user_id: user.into(),
                kind: ResourceKind::File,
                resource_id: res.into(),
                perms: 1,
                expires_ms: i64::MAX,
                revoked: false,
                client: None,
                epoch: 0,
                link: None,
            })
            .await
            .expect("token");
        }
        assert_eq!(meta.revoke_resource_tokens("r9").await.expect("revoke"), 2);
        assert!(meta.token(&[20; 32]).await.expect("t").expect("t").revoked);
        assert!(meta.token(&[21; 32]).await.expect("t").expect("t").revoked);
        assert!(!meta.token(&[22; 32]).await.expect("t").expect("t").revoked);
        let u1 = meta.user("u1").await.expect("get").expect("u1");
        assert_eq!(meta.token_floor("u1", "r9").await.expect("floor"), u1.epoch);
        assert_eq!(
            meta.token_floor("u1", "r8").await.expect("floor"),
            u1.revoked_below
        );

        // Shares seen from their resource, and removed.
        for user in ["u1", "u2"] {
            meta.put_share(&Share {
                resource_id: "r".into(),
                user_id: user.into(),
                can_write: user == "u1",
            })
            .await
            .expect("share");
        }
        let on: Vec<(String, bool)> = meta
            .shares_on("r")
            .await
            .expect("shares")
            .into_iter()
            .map(|s| (s.user_id, s.can_write))
            .collect();
        assert_eq!(on, vec![("u1".into(), true), ("u2".into(), false)]);
        assert!(meta.remove_share("r", "u1").await.expect("delete"));
        assert!(!meta.remove_share("r", "u1").await.expect("delete"));
        assert_eq!(meta.shares_on("r").await.expect("shares").len(), 1);

        // A user is deleted only while owning nothing but an empty root.
        let root = meta.root_container("u1", 1).await.expect("root");
        meta.create_container("c1", &root.id, "u1", "Docs", 1)
            .await
            .expect("mkdir")
            .expect("made");
        assert_eq!(
            meta.delete_user("u1").await.expect("delete"),
            ContainerDeletion::NotEmpty
        );
        assert_eq!(
            meta.delete_container("c1").await.expect("rmdir"),
            ContainerDeletion::Deleted
        );
        assert_eq!(
            meta.delete_user("u2").await.expect("delete"),
            ContainerDeletion::Deleted
        );
        assert_eq!(meta.user("u2").await.expect("get"), None);
        assert!(meta.shares_on("r").await.expect("shares").is_empty());
        assert_eq!(
            meta.delete_user("u1").await.expect("delete"),
            ContainerDeletion::Deleted
        );
        assert_eq!(meta.container(&root.id).await.expect("get"), None);
        assert_eq!(
            meta.delete_user("u1").await.expect("delete"),
            ContainerDeletion::Missing
        );
    }
);

meta_test!(
    storage_totals_count_what_is_held,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        assert_eq!(
            meta.storage_totals().await.expect("totals"),
            StorageTotals::default()
        );
        let (u, root) = one_file(&meta).await;
        let bob = meta.ensure_user("bob", "Bob", 1).await.expect("user");
        meta.change_user(
            &bob.id,
            &UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("disable");
        meta.create_container("c1", &root.id, &u.id, "Docs", 1)
            .await
            .expect("mkdir")
            .expect("made");
        let f = NewFile {
            id: "g".into(),
            container_id: "c1".into(),
            owner_id: u.id.clone(),
            name: "g".into(),
            content: content("k", 7),
        };
        assert!(matches!(
            meta.create_file(f).await.expect("create"),
            Cas::Applied(_)
        ));
        let t = meta.storage_totals().await.expect("totals");
        assert_eq!(
            (
                t.users,
                t.disabled_users,
                t.folders,
                t.files,
                t.current_bytes
            ),
            (2, 1, 2, 2, 7),
            "{t:?}"
        );
        assert_eq!((t.versions, t.version_bytes), (2, 7), "{t:?}");
    }
);

fn coauth_lock(id: &str, kind: &str, expires_ms: i64) -> CoauthLockRecord {
    CoauthLockRecord {
        id: id.into(),
        kind: kind.into(),
        metadata: format!("meta \"{id}\" ünïcode\n{{}}"),
        user_name: "Ann O'Neil".into(),
        locked_ms: 5,
        expires_ms,
    }
}

meta_test!(
    coauth_locks_lock_holder_and_sequence_numbers,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        let (u, root) = one_file(&meta).await;
        let f = meta.file("f").await.expect("file").expect("f");
        assert_eq!(
            (f.sequence, f.coauth_locks.len(), f.lock_user.as_deref()),
            (1, 0, None),
            "a new file starts at sequence 1 without locks"
        );

        // The WOPI lock with its holder's visible name; the sequence number stays.
        let Cas::Applied(f) = meta
            .update_file(
                "f",
                f.rev,
                FileUpdate::Lock {
                    id: Some("L".into()),
                    expires_ms: 50,
                    user: Some("Ann".into()),
                },
            )
            .await
            .expect("lock")
        else {
            panic!("not locked")
        };
        assert_eq!(
            (f.lock_id.as_deref(), f.lock_user.as_deref(), f.sequence),
            (Some("L"), Some("Ann"), 1)
        );
        let Cas::Applied(f) = meta
            .update_file(
                "f",
                f.rev,
                FileUpdate::Lock {
                    id: None,
                    expires_ms: 0,
                    user: None,
                },
            )
            .await
            .expect("unlock")
        else {
            panic!("not unlocked")
        };
        assert_eq!((f.lock_id, f.lock_user), (None, None));

        // Coauth locks: stored and read back exactly, by compare-and-swap on `rev`.
        let locks = vec![
            coauth_lock("Client1", "Coauth", 100),
            coauth_lock("Client2", "CoauthExclusive", 80),
        ];
        let stale_rev = f.rev;
        let Cas::Applied(f) = meta
            .update_file("f", f.rev, FileUpdate::Coauth(locks.clone()))
            .await
            .expect("coauth")
        else {
            panic!("not applied")
        };
        assert_eq!(f.coauth_locks, locks);
        assert_eq!(f.rev, stale_rev + 1);
        assert_eq!(
            meta.update_file("f", stale_rev, FileUpdate::Coauth(Vec::new()))
                .await
                .expect("stale"),
            Cas::Stale,
            "a coauth change loses to any change since the read"
        );
        assert_eq!(meta.file("f").await.expect("file").expect("f"), *f);

        // The hot path's one-statement read carries the same columns.
        meta.insert_token(&TokenRecord {
            hash: vec![9, 9],
            user_id: u.id.clone(),
            kind: ResourceKind::File,
            resource_id: "f".into(),
            perms: 3,
            expires_ms: 1_000,
            revoked: false,
            client: None,
            epoch: 0,
            link: None,
        })
        .await
        .expect("token");
        let read = meta
            .token_file(&[9, 9], "f")
            .await
            .expect("token_file")
            .expect("token");
        assert_eq!(read.file.as_ref(), Some(&*f));

        // Content changes raise the sequence number, in the same update; the locks stay.
        let Cas::Applied(f) = meta
            .update_file("f", f.rev, FileUpdate::Content(content("b2", 2)))
            .await
            .expect("content")
        else {
            panic!("not saved")
        };
        assert_eq!((f.sequence, f.coauth_locks.len()), (2, 2));
        let Cas::Applied(f) = meta
            .update_file(
                "f",
                f.rev,
                FileUpdate::Save {
                    content: content("b3", 3),
                    info: SaveInfo::default(),
                    replaces: None,
                },
            )
            .await
            .expect("save")
        else {
            panic!("not saved")
        };
        assert_eq!(f.sequence, 3);
        let Cas::Applied(f) = meta
            .update_file("f", f.rev, FileUpdate::Rename("b".into()))
            .await
            .expect("rename")
        else {
            panic!("not renamed")
        };
        assert_eq!(f.sequence, 3, "a rename is no content change");
        let Cas::Applied(f) = meta
            .update_file(
                "f",
                f.rev,
                FileUpdate::Lock {
                    id: Some("L2".into()),
                    expires_ms: 1,
                    user: None,
                },
            )
            .await
            .expect("lock")
        else {
            panic!("not locked")
        };
        assert_eq!((f.sequence, f.coauth_locks, f.lock_user), (3, locks, None));

        // A live coauth lock keeps its folder out of the trash, as a WOPI lock does.
        let d = meta
            .create_container("cd", &root.id, &u.id, "D", 1)
            .await
            .expect("d")
            .expect("created");
        let Cas::Applied(g) = meta
            .create_file(NewFile {
                id: "g".into(),
                container_id: d.id.clone(),
                owner_id: u.id.clone(),
                name: "g".into(),
                content: content("bg", 0),
            })
            .await
            .expect("create")
        else {
            panic!("not created")
        };
        assert_eq!(g.sequence, 1);
        let Cas::Applied(_) = meta
            .update_file(
                "g",
                g.rev,
                FileUpdate::Coauth(vec![coauth_lock("C", "Coauth", 100)]),
            )
            .await
            .expect("coauth")
        else {
            panic!("not applied")
        };
        assert_eq!(
            meta.trash_container("cd", 99, false).await.expect("locked"),
            Trashing::Locked
        );
        assert_eq!(
            meta.trash_container("cd", 100, false).await.expect("trash"),
            Trashing::Trashed,
            "an expired coauth lock holds nothing"
        );
    }
);

fn chunk(n: u8, key: &str) -> ChunkRecord {
    ChunkRecord {
        sha256: format!("{n:064x}"),
        chunk_id: vec![n; 16],
        size: u64::from(n) * 10,
        blob_key: key.into(),
    }
}

fn main_stream(chunks: Vec<ChunkRecord>) -> Vec<StreamChunks> {
    vec![StreamChunks {
        stream: "MainContent".into(),
        scheme: "Zip".into(),
        chunks,
    }]
}

fn new_content(id: &str, chunks: Vec<ChunkRecord>, fresh: &[&str], now_ms: i64) -> NewContent {
    NewContent {
        id: id.into(),
        file_id: "f".into(),
        streams: main_stream(chunks),
        fresh: fresh.iter().map(|s| s.to_string()).collect(),
        properties: vec![],
        now_ms,
    }
}

async fn commit_content(meta: &Meta, id: &str, now_ms: i64) -> Result<Cas, StoreError> {
    let f = meta.file("f").await.expect("read").expect("file");
    let mut c = content(&content_key(id), 60);
    c.modified_ms = now_ms;
    meta.update_file("f", f.rev, FileUpdate::Content(c)).await
}

meta_test!(
    chunks_are_shared_and_swept_when_unreferenced,
    |m: MetaUnderTest| async move {
        let meta = m.meta;
        one_file(&meta).await;
        // A content of three fresh chunks, referenced by a version.
        let c1 = new_content(
            "c1",
            vec![chunk(1, "k1"), chunk(2, "k2"), chunk(3, "k3")],
            &["k1", "k2", "k3"],
            10,
        );
        let put = meta.put_content(&c1).await.expect("put");
        assert_eq!(put, PutContent::Stored { unused: vec![] });
        assert!(matches!(
            commit_content(&meta, "c1", 10).await.expect("commit"),
            Cas::Applied(_)
        ));
        let streams = meta.content_streams("c1").await.expect("read").expect("c1");
        assert_eq!(streams, c1.streams);
        assert_eq!(meta.content_streams("nope").await.expect("read"), None);
        let found = meta
            .find_chunks(&[chunk(2, "").sha256, chunk(9, "").sha256])
            .await
            .expect("find");
        assert_eq!(found, vec![chunk(2, "k2")]);
        let by_id = meta
            .file_chunks("f", &[vec![3; 16], vec![9; 16]])
            .await
            .expect("file chunks");
        assert_eq!(by_id, vec![chunk(3, "k3")]);
        assert!(
            meta.file_chunks("other", &[vec![3; 16]])
                .await
                .expect("file chunks")
                .is_empty(),
            "a chunk is known to the file whose content holds it only"
        );

        // Properties go with a content; a content with no file is claimed by its first commit.
        let mut c5 = new_content("c5", vec![chunk(1, "k1")], &[], 15);
        c5.file_id = String::new();
        c5.properties = vec![ContentProp {
            name: "p".into(),
            value: "v".into(),
            retention: "KeepOnContentChange".into(),
        }];
        meta.put_content(&c5).await.expect("put");
        assert_eq!(
            meta.content_properties("c5").await.expect("props"),
            c5.properties
        );
        assert!(
            meta.content_properties("c1")
                .await
                .expect("props")
                .is_empty()
        );
        assert!(matches!(
            commit_content(&meta, "c5", 15).await.expect("commit"),
            Cas::Applied(_)
        ));
        assert_eq!(
            meta.file_chunks("f", &[vec![1; 16]])
                .await
                .expect("file chunks"),
            vec![chunk(1, "k1")]
        );

        // A second content reuses two chunks; its fresh copy of chunk 3 lost to the stored one.
        let c2 = new_content(
            "c2",
            vec![chunk(1, "k1"), chunk(3, "k3b"), chunk(4, "k4")],
            &["k3b", "k4"],
            20,
        );
        assert_eq!(
            meta.put_content(&c2).await.expect("put"),
            PutContent::Stored {
                unused: vec!["k3b".into()]
            }
        );
        let read = meta.content_streams("c2").await.expect("read").expect("c2");
        assert_eq!(
            read[0].chunks,
            vec![chunk(1, "k1"), chunk(3, "k3"), chunk(4, "k4")]
        );
        assert!(matches!(
            commit_content(&meta, "c2", 20).await.expect("commit"),
            Cas::Applied(_)
        ));
        assert_eq!(meta.chunk_count().await.expect("count"), 4);

        // Referenced content is never swept, whatever its age.
        assert_eq!(meta.sweep_chunks(i64::MAX).await.expect("sweep"), 0);
        // A commit naming a content that is not there changes nothing.
        let before = meta.file("f").await.expect("read").expect("file");
        assert!(matches!(
            commit_content(&meta, "gone", 30).await,
            Err(StoreError::ContentGone)
        ));
        assert_eq!(meta.file("f").await.expect("read").expect("file"), before);

        // An unreferenced content is kept while recent (a save between its two steps), then swept.
        let c3 = new_content("c3", vec![chunk(5, "k5"), chunk(1, "k1")], &["k5"], 40);
        meta.put_content(&c3).await.expect("put");
        assert_eq!(meta.sweep_chunks(40).await.expect("sweep"), 0);
        assert!(meta.content_streams("c3").await.expect("read").is_some());
        assert_eq!(meta.sweep_chunks(41).await.expect("sweep"), 1);
        assert_eq!(meta.content_streams("c3").await.expect("read"), None);
        assert_eq!(
            meta.dead_blobs(10).await.expect("dead"),
            vec!["k5".to_owned()]
        );
        meta.forget_dead_blobs(&["k5".into()])
            .await
            .expect("forget");
        assert!(meta.dead_blobs(10).await.expect("dead").is_empty());

        // Reusing a chunk that was freed records nothing.
        let c4 = new_content("c4", vec![chunk(4, "k4"), chunk(5, "k5")], &[], 50);
        assert_eq!(
            meta.put_content(&c4).await.expect("put"),
            PutContent::ChunkGone
        );
        assert_eq!(meta.content_streams("c4").await.expect("read"), None);

        // Deleting the file leaves its chunks to the sweep, every one of them.
        let f = meta.file("f").await.expect("read").expect("file");
        let keys = meta
            .delete_file("f", f.rev)
            .await
            .expect("delete")
            .expect("deleted");
        assert!(keys.contains(&content_key("c1")));
        assert_eq!(meta.sweep_chunks(i64::MAX).await.expect("sweep"), 4);
        let mut dead = meta.dead_blobs(10).await.expect("dead");
        dead.sort();
        assert_eq!(dead, vec!["k1", "k2", "k3", "k4"]);
        meta.forget_dead_blobs(&dead).await.expect("forget");
        assert_eq!(meta.chunk_count().await.expect("count"), 0);
        assert_eq!(meta.content_streams("c1").await.expect("read"), None);
    }
);
