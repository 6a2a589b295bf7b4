//! GetChunkedFile and PutChunkedFile over HTTP (served when co-authoring is configured): frames in
//! and out, delta uploads, the 400 / 409 / 412 rules, streams kept and removed, content
//! properties and their retention.

use std::collections::HashSet;

use serde_json::{Value, json};
use wopid::auth::Perms;
use wopid_proto::chunking::{self, ChunkId};
use wopid_proto::frame::{self, Frame};

use crate::chunks::docx;
use crate::harness::{TestServer, header};

const LOCK: &str = "chunk-lock";

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.coauth_collaboration_service_url = Some("https://ocs.example.com/".into());
        c.coauth_real_time_channel_url = Some("https://rtc.example.com/".into());
    })
    .await
}

/// A chunk of `data` cut as the host would: (id, bytes).
fn cut(data: &[u8]) -> Vec<(ChunkId, Vec<u8>)> {
    let split = chunking::split(data);
    split
        .ranges
        .iter()
        .map(|r| (ChunkId::of(&data[r.clone()]), data[r.clone()].to_vec()))
        .collect()
}

fn signature(stream: &str, scheme: &str, chunks: &[(ChunkId, Vec<u8>)]) -> Value {
    json!({
        "StreamId": stream,
        "ChunkingScheme": scheme,
        "ChunkSignatures": chunks.iter().map(|(id, d)| json!({"ChunkId": id.to_base64(), "Length": d.len()})).collect::<Vec<_>>(),
    })
}

fn put_body(
    signatures: Vec<Value>,
    properties: Vec<Value>,
    upload: &[&(ChunkId, Vec<u8>)],
) -> Vec<u8> {
    let msg = json!({
        "ContentProperties": properties,
        "Signatures": signatures,
        "UploadSessionTokenToCommit": null,
    });
    let mut frames = vec![Frame::MessageJson(serde_json::to_vec(&msg).expect("json"))];
    for (id, data) in upload {
        frames.push(Frame::Chunk {
            id: *id,
            data: data.clone(),
        });
    }
    frame::encode(&frames)
}

fn get_body(filters: Vec<Value>, properties: &[&str]) -> Vec<u8> {
    let msg = json!({"ContentFilters": filters, "ContentPropertiesToReturn": properties});
    frame::encode(&[Frame::MessageJson(serde_json::to_vec(&msg).expect("json"))])
}

fn filter(stream: &str, known: &[ChunkId]) -> Value {
    json!({
        "StreamId": stream,
        "ChunkingScheme": "Zip",
        "ChunksToReturn": "All",
        "AlreadyKnownChunks": known.iter().map(|c| c.to_base64()).collect::<Vec<_>>(),
    })
}

struct Got {
    sequence: u32,
    message: Value,
    chunks: Vec<(ChunkId, Vec<u8>)>,
}

impl Got {
    /// A stream rebuilt from its signature and the chunks sent (or `known`).
    fn rebuild(&self, stream: &str, known: &[(ChunkId, Vec<u8>)]) -> Vec<u8> {
        let sig = self.message["Signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .find(|s| s["StreamId"] == stream)
            .expect("the stream's signature");
        let mut out = Vec::new();
        for c in sig["ChunkSignatures"].as_array().expect("chunks") {
            let id = ChunkId::parse(c["ChunkId"].as_str().expect("id")).expect("chunk id");
            let data = self
                .chunks
                .iter()
                .chain(known)
                .find(|(k, _)| *k == id)
                .map(|(_, d)| d.clone())
                .expect("every chunk sent or known");
            assert_eq!(data.len() as u64, c["Length"].as_u64().expect("length"));
            out.extend_from_slice(&data);
        }
        out
    }

    fn scheme(&self, stream: &str) -> String {
        self.message["Signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .find(|s| s["StreamId"] == stream)
            .map(|s| s["ChunkingScheme"].as_str().unwrap_or("").to_owned())
            .expect("signature")
    }
}

async fn get_chunked(s: &TestServer, id: &str, token: &str, body: Vec<u8>) -> Got {
    let r = s
        .op(id, token, "GET_CHUNKED_FILE")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "GetChunkedFile");
    assert!(header(&r, "x-wopi-itemversion").is_some());
    let sequence = header(&r, "x-wopi-sequencenumber")
        .expect("sequence number")
        .parse()
        .expect("number");
    let bytes = r.bytes().await.expect("body");
    let frames = frame::decode(&bytes, u64::MAX).expect("frames");
    let mut message = Value::Null;
    let mut chunks = Vec::new();
    for f in frames {
        match f {
            Frame::MessageJson(j) => message = serde_json::from_slice(&j).expect("json"),
            Frame::Chunk { id, data } => chunks.push((id, data)),
            Frame::ChunkRange { .. } => panic!("no ChunkRange"),
        }
    }
    Got {
        sequence,
        message,
        chunks,
    }
}

async fn put_chunked(
    s: &TestServer,
    id: &str,
    token: &str,
    sequence: u32,
    lock: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    s.http
        .post(s.contents_url(id, token))
        .header("X-WOPI-Override", "PUT_CHUNKED_FILE")
        .header("X-WOPI-SequenceNumber", sequence.to_string())
        .header("X-WOPI-Lock", lock)
        .body(body)
        .send()
        .await
        .expect("send")
}

async fn locked_docx(s: &TestServer, content: &[u8]) -> (String, String) {
    let id = s.add_file("alice", "doc.docx", content).await;
    let token = s.token("alice", &id, Perms::READ_WRITE).await;
    assert_eq!(s.lock(&id, &token, LOCK).await.status(), 200);
    (id, token)
}

#[tokio::test]
async fn delta_upload_sends_only_new_chunks_and_reads_back_whole() {
    let s = server().await;
    let images = vec![
        vec![1u8; 300_000],
        (0..200_000u32).map(|i| (i * 7) as u8).collect(),
    ];
    let v1 = docx(&images, "first");
    let (id, token) = locked_docx(&s, &v1).await;

    // Download everything: a Zip stream, every chunk sent, rebuilt byte for byte.
    let got = get_chunked(
        &s,
        &id,
        &token,
        get_body(vec![filter("MainContent", &[])], &[]),
    )
    .await;
    assert_eq!(got.scheme("MainContent"), "Zip");
    assert_eq!(got.rebuild("MainContent", &[]), v1);
    assert_eq!(got.chunks.len(), cut(&v1).len());
    let seq = got.sequence;
    assert!(seq >= 1);

    // Knowing version 1, nothing is sent again.
    let known: Vec<ChunkId> = cut(&v1).iter().map(|(id, _)| *id).collect();
    let again = get_chunked(
        &s,
        &id,
        &token,
        get_body(vec![filter("MainContent", &known)], &[]),
    )
    .await;
    assert!(again.chunks.is_empty());
    assert_eq!(again.rebuild("MainContent", &cut(&v1)), v1);

    // Version 2 changes document.xml: only the chunks version 1 lacks are uploaded.
    let v2 = docx(&images, "second, longer text");
    let v2_chunks = cut(&v2);
    let old: HashSet<ChunkId> = known.iter().copied().collect();
    let new: Vec<&(ChunkId, Vec<u8>)> = v2_chunks
        .iter()
        .filter(|(id, _)| !old.contains(id))
        .collect();
    assert!(
        new.len() < v2_chunks.len() / 2,
        "{} of {}",
        new.len(),
        v2_chunks.len()
    );
    let before = s.state.meta.chunk_count().await.expect("count");
    let body = put_body(
        vec![signature("MainContent", "Zip", &v2_chunks)],
        vec![],
        &new,
    );
    let r = put_chunked(&s, &id, &token, seq, LOCK, body).await;
    assert_eq!(r.status(), 200, "{:?}", header(&r, "x-wopi-servererror"));
    let next: u32 = header(&r, "x-wopi-sequencenumber")
        .expect("seq")
        .parse()
        .expect("n");
    assert!(next > seq);
    assert!(header(&r, "x-wopi-itemversion").is_some());
    assert_eq!(
        s.get_file(&id, &token).await,
        v2,
        "GetFile reads the new content"
    );
    let after = s.state.meta.chunk_count().await.expect("count");
    assert_eq!(
        after - before,
        new.len() as u64,
        "only the new chunks are stored"
    );
    let info = s.check_file_info(&id, &token).await;
    assert_eq!(info["Size"], v2.len());

    // A stale sequence number: 412 with the current one.
    let body = put_body(
        vec![signature("MainContent", "Zip", &v2_chunks)],
        vec![],
        &[],
    );
    let r = put_chunked(&s, &id, &token, seq, LOCK, body.clone()).await;
    assert_eq!(r.status(), 412);
    assert_eq!(header(&r, "x-wopi-sequencenumber"), Some(next.to_string()));
    assert_eq!(s.check_file_info(&id, &token).await["SequenceNumber"], next);
    // Another lock: 409 (before the sequence number is looked at).
    let r = put_chunked(&s, &id, &token, seq, "other-lock", body).await;
    assert_eq!(r.status(), 409);
    assert_eq!(header(&r, "x-wopi-lock").as_deref(), Some(LOCK));
}

#[tokio::test]
async fn a_chunk_neither_uploaded_nor_stored_for_this_file_is_refused() {
    let s = server().await;
    let secret = docx(&[vec![9u8; 50_000]], "someone else's");
    // Another user's file holds the chunks.
    let other = s.add_file("bob", "secret.docx", &secret).await;
    let (id, token) = locked_docx(&s, &docx(&[vec![3u8; 10_000]], "mine")).await;
    let seq = get_chunked(
        &s,
        &id,
        &token,
        get_body(vec![filter("MainContent", &[])], &[]),
    )
    .await
    .sequence;
    let theirs = cut(&secret);
    let body = put_body(vec![signature("MainContent", "Zip", &theirs)], vec![], &[]);
    let r = put_chunked(&s, &id, &token, seq, LOCK, body).await;
    assert_eq!(r.status(), 400, "chunks stored for another file only");
    let made_up = vec![(ChunkId([7; 16]), vec![0u8; 5])];
    let body = put_body(
        vec![signature("MainContent", "FullFile", &made_up)],
        vec![],
        &[],
    );
    assert_eq!(
        put_chunked(&s, &id, &token, seq, LOCK, body).await.status(),
        400
    );
    // A chunk whose id is not its hash.
    let lie = (ChunkId([1; 16]), b"hello".to_vec());
    let body = put_body(
        vec![signature(
            "MainContent",
            "FullFile",
            std::slice::from_ref(&lie),
        )],
        vec![],
        &[&lie],
    );
    assert_eq!(
        put_chunked(&s, &id, &token, seq, LOCK, body).await.status(),
        400
    );
    // A signature length that is not the chunk's.
    let real = (ChunkId::of(b"hello"), b"hello".to_vec());
    let mut sig = signature("MainContent", "FullFile", std::slice::from_ref(&real));
    sig["ChunkSignatures"][0]["Length"] = json!(4);
    let body = put_body(vec![sig], vec![], &[&real]);
    assert_eq!(
        put_chunked(&s, &id, &token, seq, LOCK, body).await.status(),
        400
    );
    // Truncated frames.
    let mut body = put_body(
        vec![signature(
            "MainContent",
            "FullFile",
            std::slice::from_ref(&real),
        )],
        vec![],
        &[&real],
    );
    body.truncate(body.len() - 3);
    assert_eq!(
        put_chunked(&s, &id, &token, seq, LOCK, body).await.status(),
        400
    );
    // Nothing changed, and the other file is intact.
    let t = s.token("bob", &other, Perms::READ_WRITE).await;
    assert_eq!(s.get_file(&other, &t).await, secret);
    let now = get_chunked(
        &s,
        &id,
        &token,
        get_body(vec![filter("MainContent", &[])], &[]),
    )
    .await;
    assert_eq!(now.sequence, seq);
}

#[tokio::test]
async fn streams_are_kept_or_removed_and_properties_follow_their_retention() {
    let s = server().await;
    let v1 = docx(&[vec![5u8; 20_000]], "one");
    let (id, token) = locked_docx(&s, &v1).await;
    let seq = get_chunked(
        &s,
        &id,
        &token,
        get_body(vec![filter("MainContent", &[])], &[]),
    )
    .await
    .sequence;

    // An Alternate stream (FullFile), uploaded with two properties; MainContent is not named.
    let alt = (ChunkId::of(b"alternate bytes"), b"alternate bytes".to_vec());
    let props = vec![
        json!({"Name": "keep", "Value": "k1", "Retention": "KeepOnContentChange"}),
        json!({"Name": "drop", "Value": "d1", "Retention": "DeleteOnContentChange"}),
    ];
    let body = put_body(
        vec![signature(
            "Alternate",
            "FullFile",
            std::slice::from_ref(&alt),
        )],
        props,
        &[&alt],
    );
    let r = put_chunked(&s, &id, &token, seq, LOCK, body).await;
    assert_eq!(r.status(), 200, "{:?}", header(&r, "x-wopi-servererror"));
    let seq: u32 = header(&r, "x-wopi-sequencenumber")
        .expect("seq")
        .parse()
        .expect("n");
    let both = get_body(
        vec![filter("MainContent", &[]), filter("Alternate", &[])],
        &["keep", "drop", "unknown"],
    );
    let got = get_chunked(&s, &id, &token, both.clone()).await;
    assert_eq!(got.rebuild("MainContent", &[]), v1, "MainContent is kept");
    assert_eq!(got.rebuild("Alternate", &[]), alt.1);
    assert_eq!(got.scheme("Alternate"), "FullFile");
    let names: Vec<&str> = got.message["ContentProperties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p["Name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["keep", "drop"]);
    assert_eq!(s.get_file(&id, &token).await, v1);

    // Naming Alternate with no chunks removes it; MainContent stays.
    let body = put_body(vec![signature("Alternate", "FullFile", &[])], vec![], &[]);
    let r = put_chunked(&s, &id, &token, seq, LOCK, body).await;
    assert_eq!(r.status(), 200);
    let got = get_chunked(&s, &id, &token, both.clone()).await;
    assert_eq!(got.rebuild("Alternate", &[]), b"");
    assert_eq!(got.rebuild("MainContent", &[]), v1);
    let names: Vec<&str> = got.message["ContentProperties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p["Name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        vec!["keep"],
        "a content change drops DeleteOnContentChange properties"
    );

    // A PutFile leaves MainContent only and keeps the KeepOnContentChange properties.
    let body = put_body(
        vec![signature(
            "Alternate",
            "FullFile",
            std::slice::from_ref(&alt),
        )],
        vec![json!({"Name": "drop", "Value": "d2", "Retention": "DeleteOnContentChange"})],
        &[&alt],
    );
    let r = put_chunked(&s, &id, &token, got.sequence, LOCK, body).await;
    assert_eq!(r.status(), 200);
    let plain = b"not a zip any more".to_vec();
    assert_eq!(
        s.put_file(&id, &token, Some(LOCK), &plain).await.status(),
        200
    );
    let got = get_chunked(&s, &id, &token, both).await;
    assert_eq!(got.rebuild("MainContent", &[]), plain);
    assert_eq!(got.scheme("MainContent"), "FullFile");
    assert_eq!(
        got.rebuild("Alternate", &[]),
        b"",
        "PutFile leaves MainContent only"
    );
    let props = got.message["ContentProperties"]
        .as_array()
        .expect("properties")
        .clone();
    assert_eq!(props.len(), 1);
    assert_eq!(props[0]["Name"], "keep");
    assert_eq!(props[0]["Value"], "k1");
    assert_eq!(s.get_file(&id, &token).await, plain);
}
