//! The coauth lock rules, replayed on the validator's WopiCoauth cases (named in each test).

use super::*;
use crate::lock::{LockMatch, StoredLock};

const T0: i64 = 1_700_000_000_000;

/// A file's lock state and a clock, driven like the validator drives a host.
struct Host {
    table: Vec<CoauthLock>,
    wopi: Option<StoredLock>,
    visible_user: Option<String>,
    now: i64,
    size: u64,
}

/// Status code and, for 200, the table version.
type Answer = Result<String, ProtoError>;

fn id(s: &str) -> CoauthLockId {
    CoauthLockId::parse(s.as_bytes()).expect("coauth lock id")
}

fn wid(s: &str) -> crate::lock::LockId {
    crate::lock::LockId::parse(s.as_bytes()).expect("lock id")
}

fn status(a: &Answer) -> u16 {
    match a {
        Ok(_) => 200,
        Err(e) => e.status(),
    }
}

fn header(e: &ProtoError, name: &str) -> Option<String> {
    e.headers()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

impl Host {
    fn new() -> Self {
        Self {
            table: Vec::new(),
            wopi: None,
            visible_user: None,
            now: T0,
            size: 0,
        }
    }

    fn apply(&mut self, req: CoauthRequest) -> Answer {
        let wopi = WopiLock {
            lock: self.wopi.as_ref(),
            visible_user: self.visible_user.as_deref(),
        };
        let t = decide(&req, &self.table, wopi, "Validator User", self.now)?;
        self.table = t;
        Ok(table_version(&self.table, self.now))
    }

    fn get(&mut self, lock: &str, kind: CoauthLockType, meta: Option<&str>) -> Answer {
        self.get_for(lock, kind, 120, meta)
    }

    fn get_for(&mut self, lock: &str, kind: CoauthLockType, t: u32, meta: Option<&str>) -> Answer {
        self.apply(CoauthRequest::Get {
            id: id(lock),
            kind,
            timeout_s: t,
            metadata: meta.map(str::to_owned),
        })
    }

    fn refresh(&mut self, lock: &str, t: u32, meta: Option<&str>) -> Answer {
        self.apply(CoauthRequest::Refresh {
            id: id(lock),
            timeout_s: t,
            metadata: meta.map(str::to_owned),
        })
    }

    fn unlock(&mut self, lock: &str) -> Answer {
        self.apply(CoauthRequest::Unlock { id: id(lock) })
    }

    fn rows(&self) -> Vec<(String, String, CoauthLockType)> {
        CoauthTable::of(&self.table, self.now)
            .coauth_table
            .into_iter()
            .map(|e| (e.coauth_lock_id, e.coauth_lock_metadata, e.coauth_lock_type))
            .collect()
    }

    fn version(&self) -> String {
        table_version(&self.table, self.now)
    }

    fn write(&self, presented: &Presented) -> u16 {
        match check_write(
            presented,
            self.wopi.as_ref(),
            &self.table,
            self.size,
            self.now,
            LockMatch::Exact,
        ) {
            Ok(()) => 200,
            Err(e) => e.status(),
        }
    }

    fn write_err(&self, presented: &Presented) -> ProtoError {
        check_write(
            presented,
            self.wopi.as_ref(),
            &self.table,
            self.size,
            self.now,
            LockMatch::Exact,
        )
        .expect_err("refused")
    }

    fn rename(&self, presented: &Presented) -> u16 {
        match check_rename(
            presented,
            self.wopi.as_ref(),
            &self.table,
            self.now,
            LockMatch::Exact,
        ) {
            Ok(()) => 200,
            Err(e) => e.status(),
        }
    }

    fn lock(&mut self, l: &str) {
        self.wopi = Some(StoredLock {
            id: l.into(),
            expires_at_ms: self.now + crate::lock::LOCK_TTL_MS,
        });
    }
}

use CoauthLockType::{Coauth, CoauthExclusive};

fn row(i: &str, m: &str, k: CoauthLockType) -> (String, String, CoauthLockType) {
    (i.into(), m.into(), k)
}

#[test]
fn single_lock_and_same_version() {
    // CoauthLock.SingleLockInCoauthTable, ….GetCoauthTableWithSameVersionAsHost
    let mut h = Host::new();
    let v = h.get("Client1", Coauth, Some("Single")).expect("200");
    assert_eq!(h.rows(), vec![row("Client1", "Single", Coauth)]);
    let (v2, body) = table_response(&h.table, Some(&v), h.now);
    assert_eq!((v2.as_str(), body), (v.as_str(), None));
    let (_, body) = table_response(&h.table, None, h.now);
    assert_eq!(body.map(|b| b.coauth_table.len()), Some(1));
    let (_, body) = table_response(&h.table, Some(""), h.now);
    assert!(
        body.is_some(),
        "an empty X-WOPI-CoauthTableVersion knows nothing"
    );
    assert_eq!(status(&h.unlock("Client1")), 200);
}

#[test]
fn same_id_refreshes_and_switches_type() {
    // CoauthLock.CoauthLockRequestOnSameCoauthLockExpirationRefresh
    let mut h = Host::new();
    h.get("Client1", Coauth, Some("m")).expect("200");
    h.now += 100_000;
    h.get("Client1", Coauth, Some("m")).expect("200");
    h.now += 100_000; // 200 s after the first: alive only thanks to the second request
    assert_eq!(h.rows(), vec![row("Client1", "m", Coauth)]);
    // CoauthLock.CoauthExclusiveLockRequestOnExistingCoauthLock: the version changes.
    let v1 = h.version();
    let v2 = h.get("Client1", CoauthExclusive, Some("m")).expect("200");
    assert_ne!(v1, v2);
    assert_eq!(h.rows(), vec![row("Client1", "m", CoauthExclusive)]);
    // CoauthLock.CoauthLockRequestOnExistingCoauthExclusiveLockOfSameCoauthLockId
    let v3 = h.get("Client1", Coauth, Some("m")).expect("200");
    assert_ne!(v2, v3);
    assert_eq!(h.rows(), vec![row("Client1", "m", Coauth)]);
}

#[test]
fn unlock() {
    // CoauthLock.UnlockCoauthLockValidation, GetCoauthTableWithoutLocks
    let mut h = Host::new();
    let empty = h.version();
    assert!(!empty.is_empty());
    h.get("Client1", Coauth, Some("u")).expect("200");
    h.unlock("Client1").expect("200");
    assert!(h.rows().is_empty());
    assert_eq!(h.version(), empty);
    // CoauthLock.UnlockCoauthLockWithNoLocks, RefreshCoauthLockWithNoLocks
    assert_eq!(status(&h.unlock("Client1")), 409);
    assert_eq!(status(&h.refresh("Client1", 120, Some("x"))), 409);
}

#[test]
fn several_clients() {
    // CoauthLock.MultipleLocksInCoauthTable (+ the two version variants)
    let mut h = Host::new();
    let v1 = h.get("Client1", Coauth, Some("M1")).expect("200");
    let v2 = h.get("Client2", Coauth, Some("M2")).expect("200");
    assert_ne!(v1, v2);
    assert_eq!(
        h.rows(),
        vec![row("Client1", "M1", Coauth), row("Client2", "M2", Coauth)]
    );
    assert!(table_response(&h.table, Some(&v1), h.now).1.is_some());
    assert!(table_response(&h.table, Some(&v2), h.now).1.is_none());
    // CoauthLock.UnlockCoauthLockWithMultipleLocksInCoauthTable
    h.unlock("Client1").expect("200");
    assert_eq!(h.rows(), vec![row("Client2", "M2", Coauth)]);
}

#[test]
fn exclusive_coexists_with_coauth_but_not_with_another_exclusive() {
    // CoauthLock.MultipleTypesOfLocksInCoauthTable
    let mut h = Host::new();
    h.get("Client1", Coauth, Some("T1")).expect("200");
    h.get("Client2", CoauthExclusive, Some("T2")).expect("200");
    assert_eq!(h.rows().len(), 2);
    // CoauthLock.CoauthLockTypeSwitchingOnExistingCoauthExclusiveLock
    let e = h
        .get("Client1", CoauthExclusive, Some("T1"))
        .expect_err("409");
    assert_eq!(e.status(), 409);
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_MECHANISM).as_deref(),
        Some("WOPI-CoauthExclusiveLock")
    );
    // Unchanged by the refusal.
    assert_eq!(
        h.rows(),
        vec![
            row("Client1", "T1", Coauth),
            row("Client2", "T2", CoauthExclusive)
        ]
    );

    // CoauthLock.CoauthExclusiveLockRequestOnExistingCoauthExclusiveLock
    let mut h = Host::new();
    h.get("Client1", CoauthExclusive, Some("E1")).expect("200");
    assert_eq!(status(&h.get("Client2", CoauthExclusive, Some("E2"))), 409);
    // CoauthLock.CoauthLockRequestOnExistingCoauthExclusiveLockOfDifferentCoauthLockId
    h.get("Client2", Coauth, Some("E2")).expect("200");
    assert_eq!(
        h.rows(),
        vec![
            row("Client1", "E1", CoauthExclusive),
            row("Client2", "E2", Coauth)
        ]
    );
}

#[test]
fn metadata_rules() {
    // CoauthLock.CoauthLockMetadataValidation, EmptyCoauthLockMetadata, OmittedCoauthLockMetadata
    let mut h = Host::new();
    h.get("A", Coauth, Some("")).expect("200");
    h.get("B", Coauth, None).expect("200");
    assert_eq!(h.rows(), vec![row("A", "", Coauth), row("B", "", Coauth)]);
    // CoauthLock.RefreshCoauthLockWithMetadata: replaced, version changes.
    let mut h = Host::new();
    let v = h.get("Client1", Coauth, Some("R1")).expect("200");
    let v2 = h.refresh("Client1", 120, Some("R2")).expect("200");
    assert_ne!(v, v2);
    assert_eq!(h.rows(), vec![row("Client1", "R2", Coauth)]);
    // CoauthLock.RefreshCoauthLockWithoutMetadata: kept, same version.
    let v3 = h.refresh("Client1", 120, None).expect("200");
    assert_eq!(v2, v3);
    // CoauthLock.CoauthLockMetadataSentAsBodySetToEmptyRefreshCoauthLock: an empty body value
    // keeps the metadata on refresh.
    h.refresh("Client1", 120, Some("")).expect("200");
    assert_eq!(h.rows(), vec![row("Client1", "R2", Coauth)]);
}

#[test]
fn metadata_from_header_and_body() {
    // CoauthLock.CoauthLockMetadataSentAsBody…: the body wins, even when empty.
    let body = |b: &str| metadata_from_body(b.as_bytes());
    assert_eq!(body(""), Ok(None));
    assert_eq!(body("  "), Ok(None));
    assert_eq!(body("{}"), Ok(None));
    assert_eq!(body(r#"{"CoauthLockMetadata":null}"#), Ok(None));
    assert_eq!(
        body(r#"{"CoauthLockMetadata":"AsBody"}"#),
        Ok(Some("AsBody".into()))
    );
    assert_eq!(
        body(r#"{"CoauthLockMetadata":""}"#),
        Ok(Some(String::new()))
    );
    for bad in ["x", "[]", r#"{"CoauthLockMetadata":1}"#, "\"s\""] {
        assert_eq!(body(bad).map_err(|e| e.status()), Err(400), "{bad}");
    }
    let long = format!(r#"{{"CoauthLockMetadata":"{}"}}"#, "x".repeat(4097));
    assert_eq!(body(&long).map_err(|e| e.status()), Err(400));
    assert_eq!(
        metadata(Some("Header".into()), Some("Body".into())),
        Some("Body".into())
    );
    assert_eq!(
        metadata(Some("Header".into()), Some(String::new())),
        Some(String::new())
    );
    assert_eq!(metadata(Some("Header".into()), None), Some("Header".into()));
    assert_eq!(parse_metadata(b"BIG FILE HERE"), Ok("BIG FILE HERE".into()));
    assert_eq!(parse_metadata(&[b'x'; 4096]).map(|m| m.len()), Ok(4096));
    assert!(parse_metadata(&[b'x'; 4097]).is_err());
    assert!(parse_metadata(&[0xff]).is_err());
}

#[test]
fn header_values() {
    // CoauthLock.InvalidCoauthLockType, EmptyCoauthLockType
    assert_eq!(CoauthLockType::parse(b"Coauth"), Ok(Coauth));
    assert_eq!(
        CoauthLockType::parse(b"CoauthExclusive"),
        Ok(CoauthExclusive)
    );
    for bad in [&b"None"[..], b"", b"Exclusive", b"Coauth2"] {
        assert!(CoauthLockType::parse(bad).is_err(), "{bad:?}");
    }
    // CoauthLock.InvalidGetCoauthLockExpirationTimeout, InvalidRefreshCoauthLockExpirationTimeout
    for (raw, ok) in [
        (&b"60"[..], true),
        (b"3600", true),
        (b"120", true),
        (b"59", false),
        (b"3601", false),
        (b"", false),
        (b"-1", false),
        (b"1.5", false),
    ] {
        assert_eq!(parse_timeout(Some(raw)).is_ok(), ok, "{raw:?}");
    }
    assert!(parse_timeout(None).is_err());
    // CoauthLock.CoauthLockIdLengthValidationFor…: the validator's id has 1025 characters.
    assert!(CoauthLockId::parse(&[b'a'; 1025]).is_err());
    assert!(CoauthLockId::parse(&[b'a'; 1024]).is_ok());
    assert!(CoauthLockId::parse(b"").is_err());
    assert!(CoauthLockId::parse(b"a\nb").is_err());
}

#[test]
fn expiry() {
    // CoauthLock.GetCoauthTableAfterLockExpiration: 60 s, then 60 s later it is gone.
    let mut h = Host::new();
    let v = h.get_for("Client1", Coauth, 60, Some("E1")).expect("200");
    h.now += 60_000;
    assert_ne!(h.version(), v, "an expiry changes the version");
    h.get("Client2", Coauth, Some("E2")).expect("200");
    assert_eq!(h.rows(), vec![row("Client2", "E2", Coauth)]);
    assert_eq!(h.table.len(), 1, "the expired lock is not stored again");
    // CoauthLock.CoauthLockExpirationTimeoutValidation, UnlockCoauthLockOnExpiredCoauthLock,
    // RefreshCoauthLockOnExpiredCoauthLock
    let mut h = Host::new();
    h.get_for("Client1", Coauth, 60, Some("x")).expect("200");
    h.now += 59_999;
    assert_eq!(h.rows().len(), 1);
    h.now += 1;
    assert!(h.rows().is_empty());
    assert_eq!(status(&h.unlock("Client1")), 409);
    assert_eq!(status(&h.refresh("Client1", 120, None)), 409);
    // CoauthLock.RefreshCoauthLockValidation: 60 s, refreshed at 30 s for 240 s, alive at 60 s.
    let mut h = Host::new();
    h.get_for("Client1", Coauth, 60, Some("r")).expect("200");
    h.now += 30_000;
    h.refresh("Client1", 240, Some("r")).expect("200");
    h.now += 30_000;
    assert_eq!(h.rows(), vec![row("Client1", "r", Coauth)]);
}

#[test]
fn wopi_lock_refuses_coauth_locks() {
    // CoauthLock.CoauthLockRequestOnExistingWopiLockWithLockUserVisibleTrue
    let mut h = Host::new();
    h.lock("Client1");
    h.visible_user = Some("Alice".into());
    let e = h.get("Client1", Coauth, Some("x")).expect_err("409");
    assert_eq!(e.status(), 409);
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_LOCK_USERNAME).as_deref(),
        Some("Alice")
    );
    assert_eq!(
        header(&e, crate::wopi_header::LOCK).as_deref(),
        Some("Client1")
    );
    // Without LockUserVisible, no name.
    h.visible_user = None;
    let e = h.get("Client1", Coauth, Some("x")).expect_err("409");
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_LOCK_USERNAME),
        None
    );
    // An expired WOPI lock is no lock.
    h.now += crate::lock::LOCK_TTL_MS;
    h.get("Client1", Coauth, Some("x")).expect("200");
    // And coauth locks refuse the WOPI lock.
    let e = check_exclusive_lock(&h.table, h.now).expect_err("409");
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_MECHANISM).as_deref(),
        Some("WOPI-CoauthLock")
    );
    assert_eq!(header(&e, crate::wopi_header::LOCK).as_deref(), Some(""));
    h.unlock("Client1").expect("200");
    assert_eq!(check_exclusive_lock(&h.table, h.now), Ok(()));
}

#[test]
fn writes() {
    let c = |s: &str| Presented::Coauth(id(s));
    let w = |s: &str| Presented::Wopi(wid(s));
    // IncrementalFileTransfer.FileNotLockedAndFileSizeNotZero.FailWithConflict409
    let mut h = Host::new();
    h.size = 10;
    assert_eq!(h.write(&Presented::None), 409);
    // ….FullFile.FileNotLockedAndFileSizeZero.Success
    h.size = 0;
    assert_eq!(h.write(&Presented::None), 200);
    // ….ClientCoauthLockMismatchWithHostCoauthLock.FailWithConflict409
    h.size = 10;
    h.get("Client_1_CoauthLock", Coauth, None).expect("200");
    assert_eq!(h.write(&c("Client_2_CoauthLock")), 409);
    // ….FullFile.UploadWithCoauthLock.Success
    assert_eq!(h.write(&c("Client_1_CoauthLock")), 200);
    // ….ClientWopiLockMismatchWithHostCoauthLock.FailWithConflict409
    assert_eq!(h.write(&w("Client_1_Lock")), 409);
    assert_eq!(h.write(&Presented::None), 409);
    // ….ClientCoauthLockMismatchWithHostCoauthExclusiveLock.FailWithConflict409
    let mut h = Host::new();
    h.size = 10;
    h.get("Client_1_CoauthExclusiveLock", CoauthExclusive, None)
        .expect("200");
    h.get("Client_2_CoauthLock", Coauth, None).expect("200");
    let e = h.write_err(&c("Client_2_CoauthLock"));
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_MECHANISM).as_deref(),
        Some("WOPI-CoauthExclusiveLock")
    );
    // ….FullFile.UploadWithCoauthExclusiveLock.Success
    assert_eq!(h.write(&c("Client_1_CoauthExclusiveLock")), 200);
    // ….ClientWopiLockMismatchWithHostCoauthExclusiveLock.FailWithConflict409
    let e = h.write_err(&w("Client_1_Lock"));
    assert_eq!(e.status(), 409);
    assert_eq!(
        header(&e, crate::wopi_header::CONFLICTING_MECHANISM).as_deref(),
        Some("WOPI-CoauthExclusiveLock")
    );
    // ….ClientWopiLockMismatchWithHostWopiLock.FailWithConflict409 and
    // ….ClientCoauthLockMismatchWithHostWopiLock.FailWithConflict409
    let mut h = Host::new();
    h.size = 10;
    h.lock("Client_1_Lock");
    for p in [w("Client_2_Lock"), c("Client_1_Lock"), Presented::None] {
        let e = h.write_err(&p);
        assert_eq!(e.status(), 409);
        assert_eq!(
            header(&e, crate::wopi_header::CONFLICTING_MECHANISM).as_deref(),
            Some("WOPI-Lock")
        );
        assert_eq!(
            header(&e, crate::wopi_header::LOCK).as_deref(),
            Some("Client_1_Lock")
        );
    }
    // ….FullFile.UploadWithWopiLock.Success
    assert_eq!(h.write(&w("Client_1_Lock")), 200);
}

#[test]
fn renames() {
    let c = |s: &str| Presented::Coauth(id(s));
    let w = |s: &str| Presented::Wopi(wid(s));
    // RenameFile.ClientPresentsCoauthLockWithHostNoLock.Success, ClientPresentsNoLockWithHostNoLock
    let mut h = Host::new();
    h.size = 10;
    assert_eq!(h.rename(&c("Client_1_CoauthLock")), 200);
    assert_eq!(h.rename(&Presented::None), 200);
    // RenameFile.ClientPresentsCoauthLockWithHostCoauthLock.Success
    h.get("Client_1_CoauthLock", Coauth, None).expect("200");
    assert_eq!(h.rename(&c("Client_1_CoauthLock")), 200);
    // ….ClientPresentsNoLockWithHostCoauthLock, ClientPresentsWopiLockWithHostCoauthLock,
    // ClientPresentsWrongCoauthLockWithHostCoauthLock: 409
    assert_eq!(h.rename(&Presented::None), 409);
    assert_eq!(h.rename(&w("WrongLock")), 409);
    assert_eq!(h.rename(&c("WrongLockId")), 409);
    // RenameFile.ClientPresentsCoauthLockWithHostWopiLock.FailWithConflict409
    let mut h = Host::new();
    h.lock("WopiLock");
    assert_eq!(h.rename(&c("WrongLockId")), 409);
    assert_eq!(h.rename(&w("WopiLock")), 200);
}

#[test]
fn unlocked_only() {
    let mut h = Host::new();
    assert_eq!(check_unlocked(None, &h.table, h.now), Ok(()));
    h.get("A", Coauth, None).expect("200");
    assert_eq!(
        check_unlocked(None, &h.table, h.now).map_err(|e| e.status()),
        Err(409)
    );
    h.now += 120_000;
    assert_eq!(check_unlocked(None, &h.table, h.now), Ok(()));
    h.lock("L");
    let e = check_unlocked(h.wopi.as_ref(), &h.table, h.now).expect_err("409");
    assert_eq!(header(&e, crate::wopi_header::LOCK).as_deref(), Some("L"));
}

#[test]
fn sequence_numbers() {
    // IncrementalFileTransfer.ClientSequenceNumberMismatchWithHost.PreconditionFail412
    let e = check_sequence(0, 3).expect_err("412");
    assert_eq!(e.status(), 412);
    assert_eq!(
        header(&e, crate::wopi_header::SEQUENCE_NUMBER).as_deref(),
        Some("3")
    );
    assert_eq!(check_sequence(3, 3), Ok(()));
    assert_eq!(parse_sequence_number(Some(b"42")), Ok(42));
    for bad in [&b""[..], b"-1", b"x", b"2147483648"] {
        assert!(parse_sequence_number(Some(bad)).is_err(), "{bad:?}");
    }
    assert!(parse_sequence_number(None).is_err());
    assert_eq!(next_sequence(1), 2);
    assert_eq!(next_sequence(MAX_SEQUENCE_NUMBER), MAX_SEQUENCE_NUMBER);
}

#[test]
fn too_many_locks() {
    let mut h = Host::new();
    for i in 0..MAX_LOCKS {
        h.get(&format!("c{i}"), Coauth, None).expect("200");
    }
    assert_eq!(status(&h.get("one more", Coauth, None)), 409);
    // An existing holder still refreshes.
    h.get("c0", Coauth, Some("m")).expect("200");
}

#[test]
fn table_body_matches_the_schema_shape() {
    let mut h = Host::new();
    h.get("Client1", Coauth, Some("m")).expect("200");
    let v = serde_json::to_value(CoauthTable::of(&h.table, h.now)).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"CoauthTable": [{
            "CoauthLockId": "Client1",
            "CoauthLockMetadata": "m",
            "CoauthLockType": "Coauth",
            "UserFriendlyName": "Validator User",
            "CoauthLockTime": T0,
        }]})
    );
    let mut h = Host::new();
    let t = decide(
        &CoauthRequest::Get {
            id: id("x"),
            kind: Coauth,
            timeout_s: 60,
            metadata: None,
        },
        &h.table,
        WopiLock::default(),
        " ",
        h.now,
    )
    .expect("200");
    h.table = t;
    assert_eq!(
        CoauthTable::of(&h.table, h.now).coauth_table[0].user_friendly_name,
        UNNAMED_USER
    );
}

mod without_coauth_locks {
    use super::*;
    use proptest::prelude::*;

    /// The lock header and current lock as `X-WOPI-Lock` of a refusal.
    fn outcome(r: Result<(), ProtoError>) -> Option<String> {
        r.err()
            .map(|e| header(&e, crate::wopi_header::LOCK).unwrap_or_default())
    }

    proptest! {
        /// With no coauth lock, the write and rename rules are the WOPI lock rules of
        /// `lock::check_put` and `lock::check_rename`: same verdict, same `X-WOPI-Lock`.
        #[test]
        fn same_as_the_wopi_rules(
            stored in proptest::option::of(("[ab]", 0i64..3)),
            presented in proptest::option::of("[ab]"),
            size in 0u64..2,
            now in 0i64..3,
        ) {
            let stored = stored.map(|(id, exp)| StoredLock { id, expires_at_ms: exp });
            let header = presented.as_deref().map(wid);
            let p = header.clone().map_or(Presented::None, Presented::Wopi);
            let put = crate::lock::check_put(header.as_ref(), stored.as_ref(), size, now, LockMatch::Exact);
            prop_assert_eq!(
                outcome(check_write(&p, stored.as_ref(), &[], size, now, LockMatch::Exact)),
                put.err().map(|c| c.current)
            );
            let rename = crate::lock::check_rename(header.as_ref(), stored.as_ref(), now, LockMatch::Exact);
            prop_assert_eq!(
                outcome(check_rename(&p, stored.as_ref(), &[], now, LockMatch::Exact)),
                rename.err().map(|c| c.current)
            );
            let unlocked = crate::lock::check_unlocked(stored.as_ref(), now);
            prop_assert_eq!(
                outcome(check_unlocked(stored.as_ref(), &[], now)),
                unlocked.err().map(|c| c.current)
            );
        }
    }
}
