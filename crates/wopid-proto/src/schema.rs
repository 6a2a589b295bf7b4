//! Tests: the co-authoring bodies checked against the validator's JSON schemas
//! (`tests/fixtures/validator/JsonSchemas`), with a checker of the draft-04 subset they use.

use serde_json::Value;

fn load(name: &str) -> Value {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validator/JsonSchemas")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let text = text.trim_start_matches('\u{feff}');
    // The schemas carry `//` comments after values; none is inside a string.
    let stripped: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains("\"http") && !l[..i].ends_with(':') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&stripped).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        _ => false,
    }
}

/// The violations of `schema` by `v`, as paths.
fn check(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let mut err = |what: &str| errors.push(format!("{path}: {what}"));
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => err(&format!("not {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)) => {
            err("none of the types")
        }
        _ => {}
    }
    if let Some(Value::Array(e)) = schema.get("enum")
        && !e.contains(v)
    {
        err("not in enum");
    }
    let len = v.as_str().map(|s| s.chars().count() as u64);
    if let (Some(min), Some(n)) = (schema.get("minLength").and_then(Value::as_u64), len)
        && n < min
    {
        err("too short");
    }
    if let (Some(max), Some(n)) = (schema.get("maxLength").and_then(Value::as_u64), len)
        && n > max
    {
        err("too long");
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        err("below minimum");
    }
    if schema.get("format").and_then(Value::as_str) == Some("uri")
        && let Some(s) = v.as_str()
        && !(s.starts_with("https://") || s.starts_with("http://"))
    {
        err("not an absolute URI");
    }
    if let Some(not) = schema.get("not") {
        let mut e = Vec::new();
        check(not, v, path, &mut e);
        if e.is_empty() {
            err("matches what `not` forbids");
        }
    }
    if let Some(Value::Array(alts)) = schema.get("oneOf") {
        let n = alts
            .iter()
            .filter(|a| {
                let mut e = Vec::new();
                check(a, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if n != 1 {
            err("not exactly one of oneOf");
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (a.len() as u64) < min
        {
            err("too few items");
        }
        if let Some(items) = schema.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(items, x, &format!("{path}[{i}]"), errors);
            }
        }
    }
    if let Some(o) = v.as_object() {
        if let Some(Value::Array(req)) = schema.get("required") {
            for r in req {
                if !o.contains_key(r.as_str().unwrap_or("")) {
                    errors.push(format!("{path}: missing {r}"));
                }
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, x, &format!("{path}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: {k} is not allowed"))
                }
                None => {}
            }
        }
    }
}

fn violations(schema: &str, v: &Value) -> Vec<String> {
    let mut e = Vec::new();
    check(&load(schema), v, "$", &mut e);
    e
}

fn assert_valid(schema: &str, v: &Value) {
    let e = violations(schema, v);
    assert!(e.is_empty(), "{schema}: {e:?}\n{v}");
}

#[test]
fn the_checker_refuses() {
    // The checker is not a yes-machine: each of these breaks one rule of a schema.
    for (schema, bad) in [
        ("CoauthTableSchema", serde_json::json!({})),
        (
            "CoauthTableSchema",
            serde_json::json!({"CoauthTable": [{}]}),
        ),
        (
            "CoauthTableSchema",
            serde_json::json!({"CoauthTable": [], "Other": 1}),
        ),
        (
            "GetChunkedFileResponseSchema",
            serde_json::json!({"ContentProperties": [], "Signatures": []}),
        ),
        (
            "GetChunkedFileResponseSchema",
            serde_json::json!({"ContentProperties": [], "Signatures": [
                {"StreamId": "s", "ChunkingScheme": "Other", "ChunkSignatures": []}]}),
        ),
        (
            "CsppPlusCheckFileInfoSchema",
            serde_json::json!({"BaseFileName": "a", "OwnerId": "o", "Size": 0, "UserId": "u",
                "Version": "1"}),
        ),
    ] {
        assert!(!violations(schema, &bad).is_empty(), "{schema} took {bad}");
    }
}

#[test]
fn coauth_table() {
    use crate::coauth::*;
    let table = decide(
        &CoauthRequest::Get {
            id: CoauthLockId::parse(b"Client1").expect("id"),
            kind: CoauthLockType::CoauthExclusive,
            timeout_s: 60,
            metadata: Some(String::new()),
        },
        &[],
        WopiLock::default(),
        "Ann",
        1_700_000_000_000,
    )
    .expect("200");
    assert_valid(
        "CoauthTableSchema",
        &serde_json::to_value(CoauthTable::of(&table, 1_700_000_000_000)).expect("json"),
    );
    assert_valid(
        "CoauthTableSchema",
        &serde_json::to_value(CoauthTable::of(&[], 0)).expect("json"),
    );
}

#[test]
fn cspp_plus_check_file_info() {
    use crate::cspp::*;
    let info = crate::body::CheckFileInfo {
        base_file_name: "test.wopitest",
        owner_id: "o",
        size: 3,
        user_id: "u",
        version: "v1".into(),
        supports_locks: true,
        supports_update: true,
        user_friendly_name: Some("Ann"),
        ..Default::default()
    };
    let plus = CsppPlus {
        supports_coauth: true,
        supports_chunked_file_transfer: true,
        sequence_number: 1,
        access_token_expiry: 1_700_000_600_000,
        server_time: 1_700_000_000_000,
        sharing_status: SharingStatus::Shared,
        file_geo_location_code: String::new(),
        office_collaboration_service_endpoint_url: "https://ocs.example.com/".into(),
        real_time_channel_endpoint_url: "https://rtc.example.com/x".into(),
    };
    let with = serde_json::to_value(WithCsppPlus {
        info: &info,
        plus: Some(&plus),
    })
    .expect("json");
    assert_valid("CsppPlusCheckFileInfoSchema", &with);
    // The plain body matches the plain schema and not the Plus one, and the other way round:
    // the validator's prerequisite wants one of them.
    let plain = serde_json::to_value(WithCsppPlus {
        info: &info,
        plus: None,
    })
    .expect("json");
    assert_valid("CsppCheckFileInfoSchema", &plain);
    assert!(!violations("CsppPlusCheckFileInfoSchema", &plain).is_empty());
    assert!(!violations("CsppCheckFileInfoSchema", &with).is_empty());
}

#[test]
fn chunked_file_bodies() {
    use crate::chunked::*;
    use crate::chunking::{Chunk, ChunkingScheme};
    let main = StoredStream {
        scheme: ChunkingScheme::FullFile,
        chunks: vec![Chunk::of(b"SampleTextVersion-1")],
    };
    let req = GetChunkedFileRequest::from_json(
        br#"{"ContentFilters":[{"AlreadyKnownChunks":[],"ChunkingScheme":"FullFile","ChunksToReturn":"All","StreamId":"MainContent"},{"AlreadyKnownChunks":[],"ChunkingScheme":"Zip","ChunksToReturn":"All","StreamId":"Alternate"}],"ContentPropertiesToReturn":["name1"]}"#,
    )
    .expect("request");
    let props = [ContentProperty {
        retention: Retention::KeepOnContentChange,
        name: "name1".into(),
        value: "value1".into(),
    }];
    let plan = plan_get(&req, |id| (id == MAIN_CONTENT).then_some(&main), &props);
    let v: Value = serde_json::from_slice(&plan.message_json()).expect("json");
    assert_valid("GetChunkedFileResponseSchema", &v);
    // The validator's requests match their schemas as this crate reads them.
    let put = br#"{"ContentProperties":[{"Name":"n","Retention":"KeepOnContentChange","Value":"v"}],"Signatures":[{"ChunkSignatures":[{"ChunkId":"OpSWhpt12BRkuGX4z7bQPg==","Length":19}],"ChunkingScheme":"FullFile","StreamId":"MainContent"}],"UploadSessionTokenToCommit":"t"}"#;
    assert_valid(
        "PutChunkedFileRequestSchema",
        &serde_json::from_slice(put).expect("json"),
    );
    assert!(PutChunkedFileRequest::from_json(put).is_ok());
    let get = br#"{"ContentFilters":[{"AlreadyKnownChunks":["OpSWhpt12BRkuGX4z7bQPg=="],"ChunkingScheme":"Zip","ChunksToReturn":"LastZipChunk","StreamId":"MainContent"}],"ContentPropertiesToReturn":[]}"#;
    assert_valid(
        "GetChunkedFileRequestSchema",
        &serde_json::from_slice(get).expect("json"),
    );
    assert!(GetChunkedFileRequest::from_json(get).is_ok());
}
