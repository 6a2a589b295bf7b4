//! Zip-based documents stored as chunks: versions share the parts that did not change, read back
//! byte-identical (whole and ranges), and leave nothing behind once deleted.

use std::io::Write as _;

use futures_util::StreamExt as _;
use wopid::auth::Perms;

use crate::harness::{HOUR, TestServer};

/// Bytes no compressor shrinks (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A docx-shaped archive: stored (incompressible) images and a deflated `word/document.xml`.
pub(crate) fn docx(images: &[Vec<u8>], text: &str) -> Vec<u8> {
    use zip::CompressionMethod::{Deflated, Stored};
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let xml = SimpleFileOptions::default().compression_method(Deflated);
    zip.start_file("[Content_Types].xml", xml).expect("entry");
    zip.write_all(b"<?xml version=\"1.0\"?><Types/>")
        .expect("write");
    zip.start_file("word/document.xml", xml).expect("entry");
    write!(
        zip,
        "<?xml version=\"1.0\"?><w:document><w:body><w:p>{text}</w:p></w:body></w:document>"
    )
    .expect("write");
    for (i, img) in images.iter().enumerate() {
        let stored = SimpleFileOptions::default().compression_method(Stored);
        zip.start_file(format!("word/media/image{i}.png"), stored)
            .expect("entry");
        zip.write_all(img).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// Bytes of every file under `dir`.
fn folder_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_bytes(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

async fn read(s: &TestServer, key: &str, range: Option<(u64, u64)>) -> Vec<u8> {
    let mut body = wopid::ops::chunks::read_content(&s.state, key, range)
        .await
        .expect("read");
    let mut out = Vec::new();
    while let Some(piece) = body.next().await {
        out.extend_from_slice(&piece.expect("piece"));
    }
    out
}

#[tokio::test]
async fn docx_versions_share_their_unchanged_parts_and_go_with_the_file() {
    let s = TestServer::start().await;
    let images: Vec<Vec<u8>> = (0..3).map(|i| noise(1_700_000, 7 + i)).collect();
    let first = docx(&images, "version 0");
    let size = first.len() as u64;
    assert!(size > 5_000_000, "{size}");
    let id = s.add_file("alice", "report.docx", &first).await;
    let token = s.token("alice", &id, Perms::READ_WRITE).await;
    let mut sent = vec![first];
    assert_eq!(s.lock(&id, &token, "L").await.status(), 200);
    for n in 1..=20 {
        let body = docx(&images, &format!("version {n}: {}", "words ".repeat(n)));
        // A user save each time: a version of its own (autosaves of a session coalesce).
        let r = s
            .http
            .post(s.contents_url(&id, &token))
            .header("X-WOPI-Override", "PUT")
            .header("X-WOPI-Lock", "L")
            .header("X-COOL-WOPI-IsAutosave", "false")
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "save {n}");
        assert_eq!(
            s.get_file(&id, &token).await,
            body,
            "GetFile after save {n}"
        );
        sent.push(body);
    }

    let versions = s.state.meta.versions(&id).await.expect("versions");
    assert_eq!(versions.len(), 21);
    for (v, body) in versions.iter().zip(&sent) {
        assert!(
            wopid_store::content_id(&v.blob_key).is_some(),
            "version {} is stored as chunks",
            v.version
        );
        assert_eq!(
            &read(&s, &v.blob_key, None).await,
            body,
            "version {}",
            v.version
        );
        // A range across chunk boundaries: from inside the first entry into an image.
        let (a, b) = (100u64, 3_000_000u64);
        assert_eq!(
            read(&s, &v.blob_key, Some((a, b))).await,
            body[a as usize..=b as usize],
            "range of version {}",
            v.version
        );
    }
    // A Range GetFile over HTTP, inside the last image and across its end.
    let last = sent.last().expect("last");
    let (a, b) = (last.len() as u64 - 2_000_000, last.len() as u64 - 1);
    let r = s
        .http
        .get(s.contents_url(&id, &token))
        .header("Range", format!("bytes={a}-{b}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.bytes().await.expect("body").as_ref(),
        &last[a as usize..=b as usize]
    );

    // Only disk blob storage has a folder to measure.
    let blob_dir = s.state.config.data.join("blobs");
    if s.state.config.blobs.is_none() {
        let stored = folder_bytes(&blob_dir);
        println!(
            "a {size}-byte docx saved 21 times: {stored} bytes of blobs ({:.2} x its size)",
            stored as f64 / size as f64
        );
        assert!(
            stored < 2 * size,
            "{stored} bytes stored for 21 versions of {size}"
        );
    }
    assert!(s.state.meta.chunk_count().await.expect("count") > 0);

    assert_eq!(
        s.op(&id, &token, "UNLOCK")
            .header("X-WOPI-Lock", "L")
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    // Restoring version 3 makes its chunks the current content again (a version of its own).
    let restored = wopid::ops::files::restore(&s.state, None, &id, 3)
        .await
        .expect("restore");
    assert_eq!(restored.version, 22);
    assert_eq!(s.get_file(&id, &token).await, sent[2]);
    // Collecting now frees nothing a version references.
    s.clock.advance_ms(2 * HOUR);
    wopid::auth::purge::once(&s.state).await.expect("purge");
    for (v, body) in versions.iter().zip(&sent) {
        assert_eq!(
            &read(&s, &v.blob_key, None).await,
            body,
            "version {} after collecting",
            v.version
        );
    }
    // Deleting the file and emptying the trash leaves no chunk once the grace period passed.
    assert_eq!(
        s.op(&id, &token, "DELETE")
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    let alice = s
        .state
        .meta
        .user_by_login("alice")
        .await
        .expect("db")
        .expect("alice");
    assert_eq!(
        wopid::ops::trash::empty(&s.state, &alice.id)
            .await
            .expect("empty"),
        1
    );
    s.clock.advance_ms(2 * HOUR);
    wopid::auth::purge::once(&s.state).await.expect("purge");
    assert_eq!(s.state.meta.chunk_count().await.expect("count"), 0);
    assert!(s.state.meta.dead_blobs(10).await.expect("dead").is_empty());
    if s.state.config.blobs.is_none() {
        assert_eq!(folder_bytes(&blob_dir), 0, "no blob is left");
    }
}
