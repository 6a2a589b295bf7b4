//! Incremental file transfer, replayed on the validator's cases (named in each test).

use super::*;
use crate::chunking::{self, Chunk, ChunkId, ChunkingScheme};
use crate::frame::{Frame, encode};

fn full(text: &str) -> StoredStream {
    StoredStream {
        scheme: ChunkingScheme::FullFile,
        chunks: chunking::split_full_file(text.as_bytes()).chunks(text.as_bytes()),
    }
}

fn zip_fixture(dir: &str) -> (Vec<u8>, StoredStream) {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validator/ZipChunking")
        .join(dir)
        .join("FileStream");
    let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let split = chunking::split(&data);
    assert_eq!(split.scheme, ChunkingScheme::Zip);
    let s = StoredStream {
        scheme: split.scheme,
        chunks: split.chunks(&data),
    };
    (data, s)
}

/// The JSON the validator's client writes for a filter (keys in ordinal order, `/` escaped).
fn filter_json(stream: &str, scheme: &str, what: &str, known: &[ChunkId]) -> String {
    let known: Vec<String> = known
        .iter()
        .map(|k| format!("\"{}\"", k.to_base64().replace('/', "\\/")))
        .collect();
    format!(
        r#"{{"AlreadyKnownChunks":[{}],"ChunkingScheme":"{scheme}","ChunksToReturn":"{what}","StreamId":"{stream}"}}"#,
        known.join(",")
    )
}

fn get_request(filters: &[String], props: &[&str]) -> GetChunkedFileRequest {
    let props: Vec<String> = props.iter().map(|p| format!("\"{p}\"")).collect();
    let json = format!(
        r#"{{"ContentFilters":[{}],"ContentPropertiesToReturn":[{}]}}"#,
        filters.join(","),
        props.join(",")
    );
    let body = encode(&[Frame::MessageJson(json.into_bytes())]);
    GetChunkedFileRequest::from_body(&body).expect("GetChunkedFile body")
}

fn streams(list: &[(&str, &StoredStream)]) -> BTreeMap<String, StoredStream> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
        .collect()
}

fn plan(req: &GetChunkedFileRequest, s: &BTreeMap<String, StoredStream>) -> GetPlan {
    plan_get(req, |id| s.get(id), &[])
}

#[test]
fn full_file_upload_then_download() {
    // IncrementalFileTransfer.FullFile.UploadWithCoauthLock.Success (and …WithWopiLock,
    // …WithCoauthExclusiveLock: the same bodies)
    let v1 = full("SampleTextVersion-1");
    let alt = full("Alt_SampleTextVersion-1");
    let s = streams(&[(MAIN_CONTENT, &v1), ("Alternate", &alt)]);
    let req = get_request(
        &[
            filter_json("MainContent", "FullFile", "All", &[]),
            filter_json("Alternate", "FullFile", "All", &[]),
        ],
        &[],
    );
    let p = plan(&req, &s);
    assert_eq!(p.send, vec![v1.chunks[0], alt.chunks[0]]);
    assert_eq!(
        p.message.signatures[0].chunking_scheme,
        ChunkingScheme::FullFile
    );
    assert_eq!(p.message.signatures[0].chunk_signatures.len(), 1);
    assert_eq!(p.message.signatures[1].stream_id, "Alternate");
}

#[test]
fn missing_or_empty_stream_is_an_empty_zip_stream() {
    // IncrementalFileTransfer.FullFile.DownloadUnexistedStreamShouldReturnEmptyStream.Success and
    // ….Zip.DownloadUnexistedStreamShouldReturnEmptyStream.Success
    let s = streams(&[(MAIN_CONTENT, &full("WordSimpleDocument"))]);
    for scheme in ["FullFile", "Zip"] {
        let req = get_request(&[filter_json("Alternate", scheme, "All", &[])], &[]);
        let p = plan(&req, &s);
        assert!(p.send.is_empty());
        assert_eq!(
            p.message.signatures,
            vec![Signature {
                stream_id: "Alternate".into(),
                chunking_scheme: ChunkingScheme::Zip,
                chunk_signatures: vec![],
            }]
        );
    }
}

#[test]
fn the_stream_keeps_its_scheme() {
    // IncrementalFileTransfer.Zip.DownloadWithZipAndHostReturnsFullFileDueToNonZipArchive.Success
    let s = streams(&[(MAIN_CONTENT, &full("SampleTextVersion-1"))]);
    let req = get_request(&[filter_json("MainContent", "Zip", "All", &[])], &[]);
    assert_eq!(
        plan(&req, &s).message.signatures[0].chunking_scheme,
        ChunkingScheme::FullFile
    );
    // ….Zip.DownloadFullFileAndHostReturnsZipDueToContentEligibleForZip.Success
    let (_, z) = zip_fixture("NonZeroByteExcel/Version1/MainContent");
    let s = streams(&[(MAIN_CONTENT, &z)]);
    let req = get_request(&[filter_json("MainContent", "FullFile", "All", &[])], &[]);
    let p = plan(&req, &s);
    assert_eq!(p.message.signatures[0].chunking_scheme, ChunkingScheme::Zip);
    assert_eq!(p.send.len(), 21);
}

#[test]
fn chunks_to_return() {
    let (_, main) = zip_fixture("NonZeroByteExcel/Version1/MainContent");
    let (_, alt) = zip_fixture("NonZeroByteExcel/Version1/AltContent");
    let s = streams(&[(MAIN_CONTENT, &main), ("Alternate", &alt)]);
    // IncrementalFileTransfer.Zip.DownloadWithNoneChunksToReturn.Success: 0 blobs
    let req = get_request(
        &[
            filter_json("MainContent", "Zip", "None", &[]),
            filter_json("Alternate", "Zip", "None", &[]),
        ],
        &[],
    );
    let p = plan(&req, &s);
    assert!(p.send.is_empty());
    assert_eq!(p.message.signatures[0].chunk_signatures.len(), 21);
    // ….Zip.DownloadWithLastZipChunk.Success: 2 blobs, the last of each stream
    let req = get_request(
        &[
            filter_json("MainContent", "Zip", "LastZipChunk", &[]),
            filter_json("Alternate", "Zip", "LastZipChunk", &[]),
        ],
        &[],
    );
    let p = plan(&req, &s);
    assert_eq!(p.send, vec![main.chunks[20], alt.chunks[20]]);
    // ….FullFile.DownloadWithLastZipChunk.Success: a FullFile stream sends nothing
    let f = streams(&[(MAIN_CONTENT, &full("SampleTextVersion-1"))]);
    let req = get_request(
        &[filter_json("MainContent", "Zip", "LastZipChunk", &[])],
        &[],
    );
    let p = plan(&req, &f);
    assert!(p.send.is_empty());
    assert_eq!(
        p.message.signatures[0].chunking_scheme,
        ChunkingScheme::FullFile
    );
}

#[test]
fn known_chunks_are_not_sent() {
    let (_, main1) = zip_fixture("NonZeroByteExcel/Version1/MainContent");
    let (_, alt1) = zip_fixture("NonZeroByteExcel/Version1/AltContent");
    let (_, main2) = zip_fixture("NonZeroByteExcel/Version2/MainContent");
    let (_, alt2) = zip_fixture("NonZeroByteExcel/Version2/AltContent");
    let s = streams(&[(MAIN_CONTENT, &main2), ("Alternate", &alt2)]);
    let ids = |s: &StoredStream| s.chunks.iter().map(|c| c.id).collect::<Vec<_>>();
    // IncrementalFileTransfer.Zip.DeltaUploadsAndDeltaDownloadNonZeroBlobs.Success: 18 blobs
    let req = get_request(
        &[
            filter_json("MainContent", "Zip", "All", &ids(&main1)),
            filter_json("Alternate", "Zip", "All", &ids(&alt1)),
        ],
        &[],
    );
    assert_eq!(plan(&req, &s).send.len(), 18);
    // ….Zip.DeltaUploadsAndDeltaDownloadZeroBlobs.Success: 0 blobs
    let req = get_request(
        &[
            filter_json("MainContent", "Zip", "All", &ids(&main2)),
            filter_json("Alternate", "Zip", "All", &ids(&alt2)),
        ],
        &[],
    );
    assert!(plan(&req, &s).send.is_empty());
    // A chunk shared by two streams is sent once.
    let same = full("x");
    let s = streams(&[(MAIN_CONTENT, &same), ("Alternate", &same)]);
    let req = get_request(
        &[
            filter_json("MainContent", "FullFile", "All", &[]),
            filter_json("Alternate", "FullFile", "All", &[]),
        ],
        &[],
    );
    assert_eq!(plan(&req, &s).send.len(), 1);
}

#[test]
fn get_request_refusals() {
    let ok = filter_json("MainContent", "FullFile", "All", &[]);
    let bad_json = |j: &str| GetChunkedFileRequest::from_json(j.as_bytes()).is_err();
    assert!(bad_json(
        r#"{"ContentFilters":[],"ContentPropertiesToReturn":[]}"#
    ));
    assert!(bad_json(&format!(r#"{{"ContentFilters":[{ok}]}}"#)));
    assert!(bad_json(&format!(
        r#"{{"ContentFilters":[{ok},{ok}],"ContentPropertiesToReturn":[]}}"#
    )));
    assert!(bad_json(&format!(
        r#"{{"ContentFilters":[{}],"ContentPropertiesToReturn":[]}}"#,
        filter_json("", "FullFile", "All", &[])
    )));
    assert!(bad_json(&format!(
        r#"{{"ContentFilters":[{}],"ContentPropertiesToReturn":[]}}"#,
        filter_json("MainContent", "Other", "All", &[])
    )));
    assert!(bad_json(&format!(
        r#"{{"ContentFilters":[{}],"ContentPropertiesToReturn":[]}}"#,
        filter_json("MainContent", "Zip", "Some", &[])
    )));
    assert!(bad_json(
        r#"{"ContentFilters":[{"AlreadyKnownChunks":["AAAA"],"ChunkingScheme":"Zip","ChunksToReturn":"All","StreamId":"s"}],"ContentPropertiesToReturn":[]}"#
    ));
    assert!(bad_json("not json"));
    // A body with a chunk frame besides the message.
    let json = format!(r#"{{"ContentFilters":[{ok}],"ContentPropertiesToReturn":[]}}"#);
    let body = encode(&[
        Frame::MessageJson(json.into_bytes()),
        Frame::Chunk {
            id: ChunkId::of(b"x"),
            data: b"x".to_vec(),
        },
    ]);
    assert!(GetChunkedFileRequest::from_body(&body).is_err());
}

/// The body the validator's client builds for PutChunkedFile: the message, then the chunks of
/// the new content that the last known host content does not have.
/// A stream of an upload: id, scheme, new content, its chunks, the last content the host had.
type PutStream<'a> = (&'a str, &'a str, &'a [u8], &'a [Chunk], &'a [u8]);

fn put_body(streams: &[PutStream<'_>]) -> Vec<u8> {
    let mut sigs = Vec::new();
    let mut frames = Vec::new();
    let mut sent = HashSet::new();
    for (id, scheme, data, chunks, old) in streams {
        let old_ids: HashSet<ChunkId> = chunking::split(old)
            .chunks(old)
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut at = 0usize;
        let mut cs = Vec::new();
        for c in *chunks {
            let len = usize::try_from(c.len).expect("small");
            cs.push(format!(r#"{{"ChunkId":"{}","Length":{}}}"#, c.id, c.len));
            if !old_ids.contains(&c.id) && sent.insert(c.id) {
                frames.push(Frame::Chunk {
                    id: c.id,
                    data: data[at..at + len].to_vec(),
                });
            }
            at += len;
        }
        sigs.push(format!(
            r#"{{"ChunkSignatures":[{}],"ChunkingScheme":"{scheme}","StreamId":"{id}"}}"#,
            cs.join(",")
        ));
    }
    let json = format!(
        r#"{{"ContentProperties":[{{"Name":"name1","Retention":"KeepOnContentChange","Value":"value1"}}],"Signatures":[{}],"UploadSessionTokenToCommit":null}}"#,
        sigs.join(",")
    );
    let mut all = vec![Frame::MessageJson(json.into_bytes())];
    all.extend(frames);
    encode(&all)
}

#[test]
fn delta_upload() {
    // IncrementalFileTransfer.Zip.DeltaUploadsAndFullDownload.Success: version 2 is sent as the
    // chunks version 1 does not have; the others are already stored.
    let (d1, z1) = zip_fixture("NonZeroByteExcel/Version1/MainContent");
    let (d2, z2) = zip_fixture("NonZeroByteExcel/Version2/MainContent");
    let body = put_body(&[("MainContent", "Zip", &d2, &z2.chunks, &d1)]);
    let frames = crate::frame::decode(&body, 1 << 20).expect("frames");
    let (req, uploaded) = PutChunkedFileRequest::from_frames(&frames).expect("message");
    assert_eq!(req.upload_session_token_to_commit, None);
    assert!(uploaded.len() < z2.chunks.len());
    let stored: HashMap<ChunkId, u64> = z1.chunks.iter().map(|c| (c.id, c.len)).collect();
    let p = plan_put(&req, &uploaded, |id| stored.get(id).copied(), 1 << 20).expect("plan");
    assert_eq!(p.streams, vec![(MAIN_CONTENT.to_owned(), z2.clone())]);
    assert!(p.sources.values().any(|s| *s == Source::Stored));
    assert_eq!(
        p.sources
            .values()
            .filter(|s| **s == Source::Uploaded)
            .count(),
        uploaded.len()
    );
    // Without version 1 stored, the same upload lacks chunks: 400.
    let e = plan_put(&req, &uploaded, |_| None, 1 << 20).expect_err("400");
    assert_eq!(e.status(), 400);
    // A stored chunk of another length: 400.
    let e =
        plan_put(&req, &uploaded, |id| stored.get(id).map(|l| l + 1), 1 << 20).expect_err("400");
    assert_eq!(e.status(), 400);
    // Larger than the limit: 413.
    let e = plan_put(&req, &uploaded, |id| stored.get(id).copied(), 100).expect_err("413");
    assert_eq!(e.status(), 413);
}

#[test]
fn put_request_refusals() {
    let sig = r#"{"ChunkSignatures":[],"ChunkingScheme":"FullFile","StreamId":"MainContent"}"#;
    let bad = |j: &str| PutChunkedFileRequest::from_json(j.as_bytes()).is_err();
    assert!(!bad(&format!(
        r#"{{"ContentProperties":[],"Signatures":[{sig}],"UploadSessionTokenToCommit":null}}"#
    )));
    assert!(!bad(&format!(
        r#"{{"ContentProperties":[],"Signatures":[{sig}]}}"#
    )));
    assert!(bad(r#"{"ContentProperties":[],"Signatures":[]}"#));
    assert!(bad(&format!(r#"{{"Signatures":[{sig}]}}"#)));
    assert!(bad(&format!(
        r#"{{"ContentProperties":[],"Signatures":[{sig},{sig}]}}"#
    )));
    let prop = r#"{"Name":"n","Retention":"KeepOnContentChange","Value":"v"}"#;
    assert!(bad(&format!(
        r#"{{"ContentProperties":[{prop},{prop}],"Signatures":[{sig}]}}"#
    )));
    assert!(bad(&format!(
        r#"{{"ContentProperties":[{{"Name":"n","Retention":"Forever","Value":"v"}}],"Signatures":[{sig}]}}"#
    )));
    // A ChunkRange frame, a second message.
    let msg = format!(r#"{{"ContentProperties":[],"Signatures":[{sig}]}}"#).into_bytes();
    for extra in [
        Frame::ChunkRange {
            extended: vec![],
            data: vec![],
        },
        Frame::MessageJson(msg.clone()),
    ] {
        let frames = vec![Frame::MessageJson(msg.clone()), extra];
        assert!(PutChunkedFileRequest::from_frames(&frames).is_err());
    }
}

#[test]
fn streams_of_the_new_version() {
    // IncrementalFileTransfer.FullFile.UploadSubsetOfFileStreams.Success: a stream not named is
    // kept.
    let main = full("SampleTextVersion-1");
    let alt = full("Alt_SampleTextVersion-1");
    let after_main = streams_after_put(&BTreeMap::new(), &[(MAIN_CONTENT.into(), main.clone())]);
    let after_alt = streams_after_put(&after_main, &[("Alternate".into(), alt.clone())]);
    assert_eq!(
        after_alt,
        streams(&[(MAIN_CONTENT, &main), ("Alternate", &alt)])
    );
    // An empty stream is removed.
    let empty = StoredStream {
        scheme: ChunkingScheme::Zip,
        chunks: vec![],
    };
    assert_eq!(
        streams_after_put(&after_alt, &[("Alternate".into(), empty.clone())]),
        after_main
    );
    // …DownloadUnexistedStreamShouldReturnEmptyStream: a PutFile leaves MainContent only.
    assert_eq!(
        streams_after_put_file(full("WordSimpleDocument")),
        streams(&[(MAIN_CONTENT, &full("WordSimpleDocument"))])
    );
    assert!(streams_after_put_file(empty).is_empty());
}

#[test]
fn content_properties() {
    // IncrementalFileTransfer.FullFile.PutChunkedFileWithContentPropertiesAndPutFile.
    // SuccessWithContentPropertyCleanedUp (and the Zip one)
    let p = |n: &str, v: &str, r| ContentProperty {
        retention: r,
        name: n.into(),
        value: v.into(),
    };
    use Retention::*;
    let set = [
        p("name1", "value1", KeepOnContentChange),
        p("name2", "value2", DeleteOnContentChange),
    ];
    let after_put = properties_after_put(&[], &set).expect("props");
    assert_eq!(after_put, set.to_vec());
    let s = streams(&[(MAIN_CONTENT, &full("x"))]);
    let req = get_request(
        &[filter_json("MainContent", "FullFile", "All", &[])],
        &["name1", "name2", "name3"],
    );
    assert_eq!(
        plan_get(&req, |id| s.get(id), &after_put)
            .message
            .content_properties,
        set.to_vec()
    );
    let after_put_file = properties_after_content_change(&after_put);
    assert_eq!(after_put_file, vec![set[0].clone()]);
    // Properties not asked for are not returned.
    let req = get_request(&[filter_json("MainContent", "FullFile", "All", &[])], &[]);
    assert!(
        plan_get(&req, |id| s.get(id), &after_put)
            .message
            .content_properties
            .is_empty()
    );
    // Setting again replaces by name.
    let again = properties_after_put(&after_put, &[p("name1", "v2", DeleteOnContentChange)])
        .expect("props");
    assert_eq!(again, vec![p("name1", "v2", DeleteOnContentChange)]);
    // At most 64.
    let many: Vec<ContentProperty> = (0..MAX_PROPERTIES)
        .map(|i| p(&format!("n{i}"), "v", KeepOnContentChange))
        .collect();
    assert!(properties_after_put(&many, &[p("one more", "v", KeepOnContentChange)]).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn stream() -> impl Strategy<Value = StoredStream> {
        (any::<bool>(), proptest::collection::vec(0u8..12, 0..10)).prop_map(|(zip, parts)| {
            StoredStream {
                scheme: if zip {
                    ChunkingScheme::Zip
                } else {
                    ChunkingScheme::FullFile
                },
                chunks: parts.into_iter().map(|p| Chunk::of(&[p; 3])).collect(),
            }
        })
    }

    fn what() -> impl Strategy<Value = ChunksToReturn> {
        prop_oneof![
            Just(ChunksToReturn::None),
            Just(ChunksToReturn::All),
            Just(ChunksToReturn::LastZipChunk),
        ]
    }

    proptest! {
        /// Whatever is stored and asked: one complete signature per filter, and each chunk sent
        /// once, belonging to an asked stream, and unknown to the client.
        #[test]
        fn plan_get_invariants(
            a in stream(),
            b in stream(),
            wa in what(),
            wb in what(),
            known in proptest::collection::vec(0u8..12, 0..6),
        ) {
            let known: Vec<ChunkId> = known.iter().map(|k| ChunkId::of(&[*k; 3])).collect();
            let s = streams(&[("A", &a), ("B", &b)]);
            let req = GetChunkedFileRequest {
                content_properties_to_return: vec![],
                content_filters: vec![
                    ContentFilter {
                        stream_id: "A".into(),
                        chunking_scheme: ChunkingScheme::Zip,
                        chunks_to_return: wa,
                        already_known_chunks: known.clone(),
                    },
                    ContentFilter {
                        stream_id: "B".into(),
                        chunking_scheme: ChunkingScheme::FullFile,
                        chunks_to_return: wb,
                        already_known_chunks: vec![],
                    },
                ],
            };
            let p = plan(&req, &s);
            prop_assert_eq!(p.message.signatures.len(), 2);
            for (sig, st) in p.message.signatures.iter().zip([&a, &b]) {
                prop_assert_eq!(sig.chunk_signatures.len(), st.chunks.len());
            }
            let mut seen = HashSet::new();
            for c in &p.send {
                prop_assert!(seen.insert(c.id));
                let in_a = a.chunks.contains(c) && !known.contains(&c.id) && wa != ChunksToReturn::None;
                let in_b = b.chunks.contains(c) && wb != ChunksToReturn::None;
                prop_assert!(in_a || in_b);
            }
            if wa == ChunksToReturn::All && wb == ChunksToReturn::None {
                let want: HashSet<ChunkId> =
                    a.chunks.iter().map(|c| c.id).filter(|id| !known.contains(id)).collect();
                prop_assert_eq!(seen, want);
            }
        }
    }
}
