//! Table and property tests of the typed request.

use super::*;
use crate::body::ShareUrlType;
use crate::containers::ChildName;
use crate::headers::RangeSpec;
use crate::instant::Millis;
use crate::lock::LockId;
use crate::lock::LockRequest;
use crate::names::{RelativeTarget, TargetRequest};
use proptest::prelude::*;

type Hs<'a> = [(&'a str, &'a [u8])];

fn lock(s: &str) -> LockId {
    LockId::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn fid() -> FileId {
    FileId::parse("abc").unwrap_or_else(|| unreachable!())
}

fn cid() -> ContainerId {
    ContainerId::parse("c1").unwrap_or_else(|| unreachable!())
}

fn post(rest: &str, hs: &Hs<'_>) -> Result<WopiRequest, ProtoError> {
    WopiRequest::parse(Method::Post, rest, hs)
}

fn get(rest: &str, hs: &Hs<'_>) -> Result<WopiRequest, ProtoError> {
    WopiRequest::parse(Method::Get, rest, hs)
}

fn file(op: FileOp) -> Result<WopiRequest, ProtoError> {
    Ok(WopiRequest::File { id: fid(), op })
}

fn container(op: ContainerOp) -> Result<WopiRequest, ProtoError> {
    Ok(WopiRequest::Container { id: cid(), op })
}

#[test]
fn routes_refuse_unknown_endpoints_and_operations() {
    let none: &Hs<'_> = &[];
    assert_eq!(get("files/a.b", none), Err(ProtoError::NotFound));
    assert_eq!(get("nothing", none), Err(ProtoError::NotFound));
    assert_eq!(
        post("files/abc", none),
        Err(ProtoError::NotImplemented(
            "unsupported operation: POST without X-WOPI-Override".into()
        ))
    );
    assert_eq!(
        post("files/abc", &[("X-WOPI-Override", b"COBALT")]),
        Err(ProtoError::NotImplemented(
            "unsupported operation: X-WOPI-Override: COBALT".into()
        ))
    );
    assert_eq!(
        WopiRequest::parse(Method::Other, "files/abc", none),
        Err(ProtoError::NotImplemented(
            "unsupported operation: method not supported on this endpoint".into()
        ))
    );
    // The operation is known before the arguments: a bad lock does not hide a 404 or 501.
    assert_eq!(
        Route::parse(
            Method::Post,
            "files/abc",
            &[("x-wopi-override", &b"LOCK"[..]), ("x-wopi-lock", b"")][..]
        ),
        Ok(Route {
            target: Target::File(fid()),
            operation: Operation::Lock
        })
    );
    assert_eq!(
        Route::parse(Method::Get, "folders/c1/children", none),
        Ok(Route {
            target: Target::Container(cid()),
            operation: Operation::EnumerateFolderChildren
        })
    );
    assert_eq!(
        Route::parse(Method::Get, "ecosystem/root_container_pointer", none),
        Ok(Route {
            target: Target::Ecosystem,
            operation: Operation::GetRootContainer
        })
    );
}

#[test]
fn a_route_whose_operation_belongs_elsewhere_is_501() {
    let none: &Hs<'_> = &[];
    let r = |target, operation| Route { target, operation }.into_request(none);
    assert_eq!(
        r(Target::File(fid()), Operation::CheckContainerInfo),
        Err(ProtoError::NotImplemented(
            "CheckContainerInfo is not implemented".into()
        ))
    );
    assert_eq!(
        r(Target::Container(cid()), Operation::GetLock),
        Err(ProtoError::NotImplemented(
            "GetLock is not available on this endpoint".into()
        ))
    );
    assert_eq!(
        r(Target::Ecosystem, Operation::CheckFileInfo),
        Err(ProtoError::NotImplemented(
            "CheckFileInfo is not available on this endpoint".into()
        ))
    );
}

#[test]
fn file_operations_without_arguments() {
    let none: &Hs<'_> = &[];
    let ov = |o: &'static str| -> Vec<(&'static str, &'static [u8])> {
        vec![("x-wopi-override", o.as_bytes())]
    };
    assert_eq!(get("files/abc", none), file(FileOp::CheckFileInfo));
    assert_eq!(post("files/abc", &ov("GET_LOCK")), file(FileOp::GetLock));
    assert_eq!(post("files/abc", &ov("DELETE")), file(FileOp::DeleteFile));
    assert_eq!(
        post("files/abc", &ov("PUT_USER_INFO")),
        file(FileOp::PutUserInfo)
    );
    assert_eq!(
        post("files/abc", &ov("ADD_ACTIVITIES")),
        file(FileOp::AddActivities)
    );
    assert_eq!(
        get("files/abc/ancestry", none),
        file(FileOp::EnumerateAncestors)
    );
    assert_eq!(
        get("files/abc/ecosystem_pointer", none),
        file(FileOp::GetEcosystem)
    );
}

#[test]
fn get_file() {
    assert_eq!(
        get("files/abc/contents", &[]),
        file(FileOp::GetFile {
            max_expected: 2_147_483_647,
            range: None
        })
    );
    assert_eq!(
        get(
            "files/abc/contents",
            &[("X-WOPI-MaxExpectedSize", b" 10 "), ("Range", b"bytes=2-5")]
        ),
        file(FileOp::GetFile {
            max_expected: 10,
            range: Some(RangeSpec::From {
                start: 2,
                end: Some(5)
            })
        })
    );
    // A range we ignore is the whole file, not an error.
    assert_eq!(
        get("files/abc/contents", &[("range", b"bytes=5-2")]),
        file(FileOp::GetFile {
            max_expected: 2_147_483_647,
            range: None
        })
    );
    for bad in [&b"-1"[..], b"x", b"", b"\xff"] {
        assert_eq!(
            get("files/abc/contents", &[("x-wopi-maxexpectedsize", bad)]),
            Err(ProtoError::BadRequest(
                "X-WOPI-MaxExpectedSize is not a non-negative integer"
            )),
            "{bad:?}"
        );
    }
}

#[test]
fn put_file() {
    let put = |hs: &Hs<'_>| {
        let mut all: Vec<(&str, &[u8])> = vec![("x-wopi-override", b"PUT")];
        all.extend_from_slice(hs);
        post("files/abc/contents", &all)
    };
    let defaults = SaveFlags {
        editors: None,
        autosave: true,
        exit_save: false,
        modified_by_user: true,
    };
    assert_eq!(
        put(&[]),
        file(FileOp::PutFile(PutFile {
            lock: None,
            coauth_lock: None,
            save: defaults.clone(),
            seen_modified: None
        }))
    );
    // An empty lock header is no lock.
    assert_eq!(
        put(&[("x-wopi-lock", b"")]),
        file(FileOp::PutFile(PutFile {
            lock: None,
            coauth_lock: None,
            save: defaults.clone(),
            seen_modified: None
        }))
    );
    assert_eq!(
        put(&[
            ("x-wopi-lock", b"L1"),
            ("x-wopi-editors", b"alice,bob"),
            ("X-COOL-WOPI-IsAutosave", b"False"),
            ("x-lool-wopi-isexitsave", b"true"),
            ("x-cool-wopi-ismodifiedbyuser", b"FALSE"),
            ("x-cool-wopi-timestamp", b"2009-06-15T13:45:30.1230000Z"),
        ]),
        file(FileOp::PutFile(PutFile {
            lock: Some(lock("L1")),
            coauth_lock: None,
            save: SaveFlags {
                editors: Some("alice,bob".into()),
                autosave: false,
                exit_save: true,
                modified_by_user: false,
            },
            seen_modified: Some(SeenModified::At(Millis::from_ms(1_245_073_530_123)))
        }))
    );
    // The COOL spelling wins even when unreadable; an unreadable flag is its default.
    assert_eq!(
        put(&[
            ("x-cool-wopi-isautosave", b"perhaps"),
            ("x-lool-wopi-isautosave", b"false"),
            ("x-lool-wopi-timestamp", b"yesterday"),
        ]),
        file(FileOp::PutFile(PutFile {
            lock: None,
            coauth_lock: None,
            save: defaults.clone(),
            seen_modified: Some(SeenModified::Unreadable)
        }))
    );
    // Editors: lossy, at most 1024 characters.
    let long = vec![b'e'; 2000];
    let Ok(WopiRequest::File {
        op: FileOp::PutFile(p),
        ..
    }) = put(&[("x-wopi-editors", &long)])
    else {
        panic!("PutFile expected")
    };
    assert_eq!(p.save.editors.map(|e| e.chars().count()), Some(1024));
    assert_eq!(
        put(&[("x-wopi-lock", b"\x01")]),
        Err(ProtoError::BadRequest("lock id is not printable ASCII"))
    );
}

#[test]
fn stale_views() {
    let t = Millis::from_ms(1_000);
    assert!(SeenModified::At(Millis::from_ms(999)).is_stale(t));
    assert!(!SeenModified::At(t).is_stale(t));
    assert!(!SeenModified::At(Millis::from_ms(1_001)).is_stale(t));
    assert!(SeenModified::Unreadable.is_stale(t));
}

#[test]
fn lock_operations() {
    let ov = |o: &'static [u8], l: &'static [u8]| -> Vec<(&'static str, &'static [u8])> {
        vec![("x-wopi-override", o), ("x-wopi-lock", l)]
    };
    assert_eq!(
        post("files/abc", &ov(b"LOCK", b"L1")),
        file(FileOp::Lock { lock: lock("L1") })
    );
    assert_eq!(
        post("files/abc", &ov(b"refresh_lock", b"L1")),
        file(FileOp::RefreshLock { lock: lock("L1") })
    );
    assert_eq!(
        post("files/abc", &ov(b"UNLOCK", b"L1")),
        file(FileOp::Unlock { lock: lock("L1") })
    );
    let mut relock = ov(b"LOCK", b"L2");
    relock.push(("x-wopi-oldlock", b"L1"));
    let parsed = post("files/abc", &relock);
    assert_eq!(
        parsed,
        file(FileOp::UnlockAndRelock {
            lock: lock("L2"),
            old_lock: lock("L1")
        })
    );
    assert_eq!(
        parsed.ok().and_then(|r| match r {
            WopiRequest::File { op, .. } => op.lock_request(),
            _ => None,
        }),
        Some(LockRequest::UnlockAndRelock {
            old: lock("L1"),
            new: lock("L2")
        })
    );
    // A required lock that is missing or empty, and the new lock judged before the old one.
    for o in [&b"LOCK"[..], b"REFRESH_LOCK", b"UNLOCK"] {
        assert_eq!(
            post("files/abc", &[("x-wopi-override", o)]),
            Err(ProtoError::BadRequest("lock id is empty"))
        );
        assert_eq!(
            post("files/abc", &ov(o, b"")),
            Err(ProtoError::BadRequest("lock id is empty"))
        );
    }
    let long = vec![b'x'; 1025];
    assert_eq!(
        post(
            "files/abc",
            &[
                ("x-wopi-override", b"LOCK"),
                ("x-wopi-lock", &long),
                ("x-wopi-oldlock", b"\x00")
            ]
        ),
        Err(ProtoError::BadRequest(
            "lock id is longer than 1024 characters"
        ))
    );
    // X-WOPI-OldLock present but empty still selects UnlockAndRelock, and is refused.
    assert_eq!(
        post(
            "files/abc",
            &[
                ("x-wopi-override", b"LOCK"),
                ("x-wopi-lock", b"L2"),
                ("x-wopi-oldlock", b"")
            ]
        ),
        Err(ProtoError::BadRequest("lock id is empty"))
    );
}

#[test]
fn put_relative_file() {
    let pr = |hs: &Hs<'_>| {
        let mut all: Vec<(&str, &[u8])> = vec![("x-wopi-override", b"PUT_RELATIVE")];
        all.extend_from_slice(hs);
        post("files/abc", &all)
    };
    assert_eq!(
        pr(&[("x-wopi-suggestedtarget", b".pdf"), ("x-wopi-size", b"12")]),
        file(FileOp::PutRelativeFile {
            target: Ok(TargetRequest::Suggested(".pdf".into())),
            size: Some(12)
        })
    );
    assert_eq!(
        pr(&[
            ("x-wopi-relativetarget", b"a+AF8-b.docx"),
            ("x-wopi-overwriterelativetarget", b"True"),
            ("x-wopi-size", b"many"),
        ]),
        file(FileOp::PutRelativeFile {
            target: Ok(TargetRequest::Exact {
                name: "a_b.docx".into(),
                overwrite: true
            }),
            size: None
        })
    );
    // Target errors are carried, not returned: the permission check comes first.
    for (hs, err) in [
        (
            vec![],
            ProtoError::BadRequest("neither X-WOPI-SuggestedTarget nor X-WOPI-RelativeTarget"),
        ),
        (
            vec![
                ("x-wopi-suggestedtarget", &b"a"[..]),
                ("x-wopi-relativetarget", b"b"),
            ],
            ProtoError::BadRequest("both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget"),
        ),
        (
            vec![("x-wopi-relativetarget", &b"a/b"[..])],
            ProtoError::InvalidFileName("name contains one of \\ / : * ? \" < > | # { } ^ [ ] ` %"),
        ),
        (
            vec![
                ("x-wopi-relativetarget", &b"a.docx"[..]),
                ("x-wopi-overwriterelativetarget", b"1"),
            ],
            ProtoError::BadRequest("X-WOPI-OverwriteRelativeTarget is not a boolean"),
        ),
    ] {
        assert_eq!(
            pr(&hs),
            file(FileOp::PutRelativeFile {
                target: Err(err),
                size: None
            })
        );
    }
}

#[test]
fn rename_file() {
    let rn = |hs: &Hs<'_>| {
        let mut all: Vec<(&str, &[u8])> = vec![("x-wopi-override", b"RENAME_FILE")];
        all.extend_from_slice(hs);
        post("files/abc", &all)
    };
    assert_eq!(
        rn(&[
            ("x-wopi-requestedname", b"new+AF8-name"),
            ("x-wopi-lock", b"L")
        ]),
        file(FileOp::RenameFile {
            lock: Some(lock("L")),
            coauth_lock: None,
            requested: Ok("new_name".into())
        })
    );
    assert_eq!(
        rn(&[]),
        file(FileOp::RenameFile {
            lock: None,
            coauth_lock: None,
            requested: Err(ProtoError::InvalidFileName(
                "X-WOPI-RequestedName is missing"
            ))
        })
    );
    assert_eq!(
        rn(&[("x-wopi-requestedname", b"+AGEA-")]),
        file(FileOp::RenameFile {
            lock: None,
            coauth_lock: None,
            requested: Err(ProtoError::InvalidFileName(
                "X-WOPI-RequestedName is not valid UTF-7"
            ))
        })
    );
    // A malformed lock is refused at once (before the permission check, as today).
    assert_eq!(
        rn(&[("x-wopi-lock", b"\x7f"), ("x-wopi-requestedname", b"n")]),
        Err(ProtoError::BadRequest("lock id is not printable ASCII"))
    );
}

#[test]
fn share_urls() {
    let su = |rest: &str, t: &'static [u8]| {
        post(
            rest,
            &[("x-wopi-override", b"GET_SHARE_URL"), ("x-wopi-urltype", t)],
        )
    };
    assert_eq!(
        su("files/abc", b"ReadOnly"),
        file(FileOp::GetShareUrl {
            url_type: ShareUrlType::ReadOnly
        })
    );
    assert_eq!(
        su("containers/c1", b"ReadWrite"),
        container(ContainerOp::GetShareUrl {
            url_type: ShareUrlType::ReadWrite
        })
    );
    let refused = Err(ProtoError::NotImplemented(
        "X-WOPI-UrlType is missing or not ReadOnly/ReadWrite".into(),
    ));
    for t in [&b"readonly"[..], b"Edit", b""] {
        assert_eq!(su("files/abc", t), refused);
        assert_eq!(su("containers/c1", t), refused);
    }
    assert_eq!(
        post("files/abc", &[("x-wopi-override", b"GET_SHARE_URL")]),
        refused
    );
}

#[test]
fn container_operations() {
    let ov = |o: &'static [u8], more: &Hs<'static>| {
        let mut all: Vec<(&str, &[u8])> = vec![("x-wopi-override", o)];
        all.extend_from_slice(more);
        post("containers/c1", &all)
    };
    assert_eq!(
        get("containers/c1", &[]),
        container(ContainerOp::CheckContainerInfo)
    );
    assert_eq!(
        get("containers/c1/ancestry", &[]),
        container(ContainerOp::EnumerateAncestors)
    );
    assert_eq!(
        get("containers/c1/ecosystem_pointer", &[]),
        container(ContainerOp::GetEcosystem)
    );
    assert_eq!(
        get("folders/c1", &[]),
        container(ContainerOp::CheckFolderInfo)
    );
    assert_eq!(
        get("folders/c1/children", &[]),
        container(ContainerOp::EnumerateFolderChildren)
    );
    assert_eq!(
        get("containers/c1/children", &[]),
        container(ContainerOp::EnumerateChildren { filter: None })
    );
    assert_eq!(
        get(
            "containers/c1/children",
            &[("x-wopi-fileextensionfilterlist", b".DOCX, xlsx,,")]
        ),
        container(ContainerOp::EnumerateChildren {
            filter: Some(vec![".docx".into(), "xlsx".into()])
        })
    );
    assert_eq!(
        ov(b"DELETE_CONTAINER", &[]),
        container(ContainerOp::DeleteContainer)
    );
    assert_eq!(
        ov(
            b"CREATE_CHILD_CONTAINER",
            &[("x-wopi-suggestedtarget", b"New")]
        ),
        container(ContainerOp::CreateChildContainer {
            target: Ok(ChildName {
                name: "New".into(),
                exact: false
            })
        })
    );
    assert_eq!(
        ov(
            b"CREATE_CHILD_CONTAINER",
            &[("x-wopi-relativetarget", b"a/b")]
        ),
        container(ContainerOp::CreateChildContainer {
            target: Err(ProtoError::InvalidContainerName(
                "name contains one of \\ / : * ? \" < > | # { } ^ [ ] ` %"
            ))
        })
    );
    assert_eq!(
        ov(
            b"CREATE_CHILD_FILE",
            &[
                ("x-wopi-relativetarget", b"n.docx"),
                ("x-wopi-overwriterelativetarget", b"false")
            ]
        ),
        container(ContainerOp::CreateChildFile {
            target: Ok(RelativeTarget::Exact {
                name: "n.docx".into(),
                overwrite: false
            })
        })
    );
    assert_eq!(
        ov(
            b"CREATE_CHILD_FILE",
            &[
                ("x-wopi-suggestedtarget", b"a"),
                ("x-wopi-relativetarget", b"b")
            ]
        ),
        container(ContainerOp::CreateChildFile {
            target: Err(ProtoError::NotImplemented(
                "both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget".into()
            ))
        })
    );
    assert_eq!(
        ov(b"CREATE_CHILD_FILE", &[]),
        container(ContainerOp::CreateChildFile {
            target: Err(ProtoError::BadRequest(
                "neither X-WOPI-SuggestedTarget nor X-WOPI-RelativeTarget"
            ))
        })
    );
    assert_eq!(
        ov(b"RENAME_CONTAINER", &[("x-wopi-requestedname", b"Q+AF8-1")]),
        container(ContainerOp::RenameContainer {
            name: Ok("Q_1".into())
        })
    );
    assert_eq!(
        ov(b"RENAME_CONTAINER", &[]),
        container(ContainerOp::RenameContainer {
            name: Err(ProtoError::InvalidContainerName(
                "X-WOPI-RequestedName is missing"
            ))
        })
    );
}

#[test]
fn ecosystem_operations() {
    assert_eq!(
        get("ecosystem", &[]),
        Ok(WopiRequest::Ecosystem(EcosystemOp::CheckEcosystem))
    );
    assert_eq!(
        get("ecosystem/root_container_pointer", &[]),
        Ok(WopiRequest::Ecosystem(EcosystemOp::GetRootContainer))
    );
    let src = |more: &Hs<'static>| {
        let mut all: Vec<(&str, &[u8])> =
            vec![("x-wopi-override", b"GET_WOPI_SRC_WITH_ACCESS_TOKEN")];
        all.extend_from_slice(more);
        post("ecosystem", &all)
    };
    assert_eq!(
        src(&[("x-wopi-hostnativefilename", b"/docs/a.docx")]),
        Ok(WopiRequest::Ecosystem(EcosystemOp::GetFileWopiSrc {
            host_native_file_name: "/docs/a.docx".into()
        }))
    );
    assert_eq!(
        src(&[]),
        Err(ProtoError::BadRequest(
            "X-WOPI-HostNativeFileName is missing"
        ))
    );
    assert_eq!(
        src(&[("x-wopi-hostnativefilename", b"\xc3")]),
        Err(ProtoError::BadRequest(
            "X-WOPI-HostNativeFileName is not UTF-8"
        ))
    );
}

#[test]
fn bootstrapper() {
    let b = |hs: &Hs<'_>| BootstrapOp::parse(hs);
    assert_eq!(b(&[]), BootstrapOp::Bootstrap);
    assert_eq!(b(&[]).label(), "Bootstrap");
    let t = b(&[
        ("x-wopi-ecosystemoperation", b" get_new_access_token "),
        ("x-wopi-wopisrc", b"https://h/wopi/files/a"),
    ]);
    assert_eq!(
        t,
        BootstrapOp::GetNewAccessToken {
            wopi_src: Ok("https://h/wopi/files/a".into())
        }
    );
    assert_eq!(t.label(), "GET_NEW_ACCESS_TOKEN");
    for src in [None, Some(&b"\xff"[..])] {
        let mut hs: Vec<(&str, &[u8])> =
            vec![("x-wopi-ecosystemoperation", b"GET_NEW_ACCESS_TOKEN")];
        hs.extend(src.map(|v| ("x-wopi-wopisrc", v)));
        assert_eq!(
            b(&hs),
            BootstrapOp::GetNewAccessToken {
                wopi_src: Err(ProtoError::BadRequest("X-WOPI-WopiSrc is missing"))
            }
        );
    }
    assert_eq!(
        b(&[("x-wopi-ecosystemoperation", b"GET_ROOT_CONTAINER")]),
        BootstrapOp::GetRootContainer
    );
    assert_eq!(
        b(&[(
            "x-wopi-ecosystemoperation",
            b"GET_WOPI_SRC_WITH_ACCESS_TOKEN"
        )]),
        BootstrapOp::GetFileWopiSrc {
            host_native_file_name: Err(ProtoError::BadRequest(
                "X-WOPI-HostNativeFileName is missing"
            ))
        }
    );
    let other = b(&[("x-wopi-ecosystemoperation", b"Frobnicate")]);
    assert_eq!(other, BootstrapOp::Other("FROBNICATE".into()));
    assert_eq!(other.label(), "FROBNICATE");
}

#[test]
fn operation_tags_agree_with_the_route() {
    let cases: &[(Method, &str, &[u8])] = &[
        (Method::Get, "files/abc", b""),
        (Method::Get, "files/abc/contents", b""),
        (Method::Post, "files/abc/contents", b"PUT"),
        (Method::Post, "files/abc", b"GET_LOCK"),
        (Method::Post, "files/abc", b"PUT_RELATIVE"),
        (Method::Post, "files/abc", b"RENAME_FILE"),
        (Method::Post, "files/abc", b"DELETE"),
        (Method::Post, "files/abc", b"PUT_USER_INFO"),
        (Method::Post, "files/abc", b"ADD_ACTIVITIES"),
        (Method::Get, "files/abc/ancestry", b""),
        (Method::Get, "files/abc/ecosystem_pointer", b""),
        (Method::Get, "containers/c1", b""),
        (Method::Post, "containers/c1", b"CREATE_CHILD_CONTAINER"),
        (Method::Post, "containers/c1", b"CREATE_CHILD_FILE"),
        (Method::Post, "containers/c1", b"DELETE_CONTAINER"),
        (Method::Post, "containers/c1", b"RENAME_CONTAINER"),
        (Method::Get, "containers/c1/ancestry", b""),
        (Method::Get, "containers/c1/children", b""),
        (Method::Get, "containers/c1/ecosystem_pointer", b""),
        (Method::Get, "folders/c1", b""),
        (Method::Get, "folders/c1/children", b""),
        (Method::Get, "ecosystem", b""),
        (Method::Get, "ecosystem/root_container_pointer", b""),
    ];
    let mut names = std::collections::HashSet::new();
    for (m, rest, ov) in cases {
        let hs: &Hs<'_> = &[("x-wopi-override", ov)];
        let route = Route::parse(*m, rest, hs).unwrap_or_else(|e| panic!("{rest}: {e}"));
        let req = route
            .clone()
            .into_request(hs)
            .unwrap_or_else(|e| panic!("{rest}: {e}"));
        assert_eq!(req.operation(), route.operation, "{rest}");
        assert_eq!(req.target(), route.target, "{rest}");
        assert_eq!(Operation::of_request(*m, rest, hs), route.operation);
        names.insert(route.operation.name());
    }
    assert_eq!(names.len(), cases.len(), "every case is another operation");
    assert_eq!(
        Operation::of_request(Method::Get, "files/a.b", &[] as &Hs<'_>).name(),
        "Unknown"
    );
}

#[test]
fn lock_checked_operations() {
    use Operation as O;
    for op in [
        O::Lock,
        O::UnlockAndRelock,
        O::RefreshLock,
        O::Unlock,
        O::PutFile,
        O::RenameFile,
        O::DeleteFile,
    ] {
        assert!(op.checks_lock(), "{op:?}");
    }
    for op in [O::GetLock, O::GetFile, O::PutRelativeFile, O::CheckFileInfo] {
        assert!(!op.checks_lock(), "{op:?}");
    }
}

const OVERRIDES: &[&str] = &[
    "LOCK",
    "UNLOCK",
    "REFRESH_LOCK",
    "GET_LOCK",
    "PUT",
    "PUT_RELATIVE",
    "RENAME_FILE",
    "DELETE",
    "GET_SHARE_URL",
    "PUT_USER_INFO",
    "ADD_ACTIVITIES",
    "CREATE_CHILD_CONTAINER",
    "CREATE_CHILD_FILE",
    "DELETE_CONTAINER",
    "RENAME_CONTAINER",
    "GET_WOPI_SRC_WITH_ACCESS_TOKEN",
];

const PATHS: &[&str] = &[
    "files/abc",
    "files/abc/contents",
    "files/abc/ancestry",
    "containers/c1",
    "containers/c1/children",
    "folders/c1",
    "ecosystem",
];

fn header_value() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..48))
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_header_bytes(
        path in proptest::sample::select(PATHS),
        ov in proptest::sample::select(OVERRIDES),
        post_method: bool,
        values in proptest::collection::vec(header_value(), crate::wopi_header::ALL.len()),
        range in header_value(),
    ) {
        let mut hs: Vec<(&str, &[u8])> = crate::wopi_header::ALL
            .iter()
            .zip(&values)
            .filter(|(n, _)| **n != crate::wopi_header::OVERRIDE)
            .filter_map(|(n, v)| v.as_deref().map(|v| (*n, v)))
            .collect();
        hs.push(("x-wopi-override", ov.as_bytes()));
        if let Some(r) = range.as_deref() {
            hs.push(("range", r));
        }
        let m = if post_method { Method::Post } else { Method::Get };
        match WopiRequest::parse(m, path, &hs[..]) {
            // Whatever is refused is a client error or 501, never a server failure.
            Err(e) => prop_assert!(matches!(e.status(), 400 | 404 | 409 | 501), "{e:?}"),
            Ok(req) => {
                let _ = req.operation().name();
            }
        }
        let _ = BootstrapOp::parse(&hs[..]);
    }

    #[test]
    fn formatted_arguments_round_trip(
        lock_id in "[!-~]{1,64}",
        old_id in "[!-~]{1,64}",
        max in any::<u32>(),
        start in 0u64..1_000_000,
        len in proptest::option::of(0u64..1_000),
        name in "[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9 _()+&-]{0,20}[A-Za-z0-9]\\.[a-z]{1,5}",
        overwrite: bool,
        autosave: bool,
        exit_save: bool,
        modified_ms in 0i64..253_402_300_799_999,
    ) {
        let max_s = max.to_string();
        let range = match len {
            Some(l) => format!("bytes={start}-{}", start + l),
            None => format!("bytes={start}-"),
        };
        let hs: &Hs<'_> = &[("x-wopi-maxexpectedsize", max_s.as_bytes()), ("range", range.as_bytes())];
        prop_assert_eq!(
            get("files/abc/contents", hs),
            file(FileOp::GetFile {
                max_expected: u64::from(max),
                range: Some(RangeSpec::From { start, end: len.map(|l| start + l) }),
            })
        );

        let relock: &Hs<'_> = &[
            ("x-wopi-override", b"LOCK"),
            ("x-wopi-lock", lock_id.as_bytes()),
            ("x-wopi-oldlock", old_id.as_bytes()),
        ];
        prop_assert_eq!(
            post("files/abc", relock),
            file(FileOp::UnlockAndRelock { lock: lock(&lock_id), old_lock: lock(&old_id) })
        );

        let encoded = crate::utf7::encode(&name);
        let flag = if overwrite { "True" } else { "false" };
        let target: &Hs<'_> = &[
            ("x-wopi-override", b"PUT_RELATIVE"),
            ("x-wopi-relativetarget", encoded.as_bytes()),
            ("x-wopi-overwriterelativetarget", flag.as_bytes()),
        ];
        prop_assert_eq!(
            post("files/abc", target),
            file(FileOp::PutRelativeFile {
                target: Ok(TargetRequest::Exact { name: name.clone(), overwrite }),
                size: None,
            })
        );

        let stamp = Millis::from_ms(modified_ms).to_iso8601();
        let (a, e) = (autosave.to_string(), exit_save.to_string());
        let put: &Hs<'_> = &[
            ("x-wopi-override", b"PUT"),
            ("x-wopi-lock", lock_id.as_bytes()),
            ("x-cool-wopi-isautosave", a.as_bytes()),
            ("x-cool-wopi-isexitsave", e.as_bytes()),
            ("x-cool-wopi-timestamp", stamp.as_bytes()),
        ];
        prop_assert_eq!(
            post("files/abc/contents", put),
            file(FileOp::PutFile(PutFile {
                lock: Some(lock(&lock_id)),
                coauth_lock: None,
                save: SaveFlags { editors: None, autosave, exit_save, modified_by_user: true },
                seen_modified: Some(SeenModified::At(Millis::from_ms(modified_ms))),
            }))
        );
    }
}

/// A header of a slice of pairs (the slice's own `get` would take an index).
fn hv<'a>(hs: &'a Hs<'a>, name: &str) -> Option<&'a [u8]> {
    Headers::get(hs, name)
}

/// The header reading of wopid's HTTP layer and use cases before the typed request, copied here
/// (with the header map replaced by [`Headers`]) to check that the typed request decides every
/// request the same way: same values, same errors.
mod before {
    use super::*;
    use crate::containers::child_target;
    use crate::names::parse_bool;
    use crate::wopi_header as h;

    pub(super) fn opt_lock(hs: &Hs<'_>, name: &str) -> Result<Option<LockId>, ProtoError> {
        match hv(hs, name) {
            None | Some(b"") => Ok(None),
            Some(v) => LockId::parse(v).map(Some),
        }
    }

    pub(super) fn req_lock(hs: &Hs<'_>, name: &str) -> Result<LockId, ProtoError> {
        LockId::parse(hv(hs, name).unwrap_or_default())
    }

    fn editor_header<'a>(hs: &'a Hs<'a>, name: &str) -> Option<&'a [u8]> {
        hv(hs, &format!("x-cool-wopi-{name}")).or_else(|| hv(hs, &format!("x-lool-wopi-{name}")))
    }

    fn editor_flag(hs: &Hs<'_>, name: &str) -> Option<bool> {
        editor_header(hs, name).and_then(parse_bool)
    }

    /// `http/wopi.rs::save_request` and `ops/content.rs::stale_view`'s parse.
    pub(super) fn put_file(hs: &Hs<'_>) -> Result<PutFile, ProtoError> {
        let text = |v: &[u8]| {
            String::from_utf8_lossy(v)
                .chars()
                .take(1024)
                .collect::<String>()
        };
        let lock = opt_lock(hs, "x-wopi-lock")?;
        let seen: Option<String> = editor_header(hs, "timestamp").map(text);
        Ok(PutFile {
            lock,
            coauth_lock: None,
            save: SaveFlags {
                editors: hv(hs, "x-wopi-editors").map(text),
                autosave: editor_flag(hs, "isautosave").unwrap_or(true),
                exit_save: editor_flag(hs, "isexitsave").unwrap_or(false),
                modified_by_user: editor_flag(hs, "ismodifiedbyuser").unwrap_or(true),
            },
            seen_modified: seen.map(|s| {
                Millis::parse_iso8601(&s).map_or(SeenModified::Unreadable, SeenModified::At)
            }),
        })
    }

    /// `ops/containers.rs::create_child_file`'s parse.
    pub(super) fn child_file(hs: &Hs<'_>) -> Result<(String, bool, bool), ProtoError> {
        let (name, exact) = child_target(
            hv(hs, h::SUGGESTED_TARGET),
            hv(hs, h::RELATIVE_TARGET),
            "Untitled",
            false,
        )?;
        let overwrite = match hv(hs, h::OVERWRITE_RELATIVE_TARGET) {
            Some(v) if exact => parse_bool(v).ok_or(ProtoError::BadRequest(
                "X-WOPI-OverwriteRelativeTarget is not a boolean",
            ))?,
            _ => false,
        };
        Ok((name, exact, overwrite))
    }

    /// `ops/containers.rs::rename_container`'s parse.
    pub(super) fn container_name(hs: &Hs<'_>) -> Result<String, ProtoError> {
        let raw = hv(hs, h::REQUESTED_NAME).ok_or(ProtoError::InvalidContainerName(
            "X-WOPI-RequestedName is missing",
        ))?;
        let name = crate::utf7::decode(raw).map_err(|_| {
            ProtoError::InvalidContainerName("X-WOPI-RequestedName is not valid UTF-7")
        })?;
        if let Some(why) = crate::names::invalid_reason(&name) {
            return Err(ProtoError::InvalidContainerName(why));
        }
        Ok(name)
    }

    /// `http/containers.rs::ecosystem_op` and `http/bootstrap.rs`: GetFileWopiSrc's header.
    pub(super) fn host_name(hs: &Hs<'_>) -> Result<String, ProtoError> {
        let raw = hv(hs, h::HOST_NATIVE_FILE_NAME).ok_or(ProtoError::BadRequest(
            "X-WOPI-HostNativeFileName is missing",
        ))?;
        let ident = std::str::from_utf8(raw)
            .map_err(|_| ProtoError::BadRequest("X-WOPI-HostNativeFileName is not UTF-8"))?;
        Ok(ident.to_owned())
    }

    /// `http/bootstrap.rs::handle`: the operation label and GET_NEW_ACCESS_TOKEN's header.
    pub(super) fn bootstrap(hs: &Hs<'_>) -> (String, Result<String, ProtoError>) {
        let op = hv(hs, h::ECOSYSTEM_OPERATION)
            .map(|v| String::from_utf8_lossy(v).trim().to_ascii_uppercase());
        let src = hv(hs, h::WOPI_SRC)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_owned)
            .ok_or(ProtoError::BadRequest("X-WOPI-WopiSrc is missing"));
        (op.unwrap_or_else(|| "Bootstrap".to_owned()), src)
    }

    /// `http/wopi.rs::file_op` and `http/containers.rs::container_op`: GetShareUrl's header.
    pub(super) fn url_type(hs: &Hs<'_>) -> Result<ShareUrlType, ProtoError> {
        ShareUrlType::parse(hv(hs, h::URL_TYPE)).ok_or_else(|| {
            ProtoError::NotImplemented("X-WOPI-UrlType is missing or not ReadOnly/ReadWrite".into())
        })
    }
}

/// A header value: sometimes arbitrary bytes, mostly values that mean something to some parser.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..24),
        proptest::sample::select(vec![
            "",
            "True",
            "false",
            "FALSE",
            "yes",
            "L1",
            "L2",
            "\t",
            "a.docx",
            ".pdf",
            "a/b",
            "+AF8-",
            "+AGEA-",
            "New+AF8-name",
            " x ",
            "ReadOnly",
            "ReadWrite",
            "readonly",
            "2009-06-15T13:45:30.1230000Z",
            "2009-06-15T13:45:30Z",
            "yesterday",
            "10",
            "-1",
            "bytes=0-9",
            "GET_NEW_ACCESS_TOKEN",
            " get_root_container ",
            "GET_WOPI_SRC_WITH_ACCESS_TOKEN",
            "\u{e9}t\u{e9}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// Each WOPI header (and `range`) present or not, with a value. `X-WOPI-CoauthLockId`, which
/// PutFile and RenameFile read since co-authoring, is left out: the rules from before knew
/// nothing of it (`writes_and_renames_present_one_lock_kind` covers it).
fn header_set() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    let mut names: Vec<&'static str> = crate::wopi_header::ALL
        .iter()
        .copied()
        .filter(|n| *n != crate::wopi_header::OVERRIDE && *n != crate::wopi_header::COAUTH_LOCK_ID)
        .collect();
    names.push("range");
    let n = names.len();
    proptest::collection::vec(proptest::option::of(value()), n).prop_map(move |values| {
        names
            .iter()
            .zip(values)
            .filter_map(|(name, v)| v.map(|v| (*name, v)))
            .collect()
    })
}

fn with_override<'a>(ov: &'a str, set: &'a [(&'static str, Vec<u8>)]) -> Vec<(&'a str, &'a [u8])> {
    let mut hs: Vec<(&str, &[u8])> = vec![("x-wopi-override", ov.as_bytes())];
    hs.extend(set.iter().map(|(n, v)| (*n, v.as_slice())));
    hs
}

proptest! {
    #[test]
    fn file_operations_decide_as_before(set in header_set()) {
        // PutFile.
        let hs = with_override("PUT", &set);
        prop_assert_eq!(
            post("files/abc/contents", &hs),
            before::put_file(&hs).map(|p| WopiRequest::File { id: fid(), op: FileOp::PutFile(p) })
        );
        // The lock operations.
        for (ov, make) in [
            ("LOCK", (|lock| FileOp::Lock { lock }) as fn(LockId) -> FileOp),
            ("REFRESH_LOCK", |lock| FileOp::RefreshLock { lock }),
            ("UNLOCK", |lock| FileOp::Unlock { lock }),
        ] {
            let hs = with_override(ov, &set);
            if hv(&hs, "x-wopi-oldlock").is_some() && ov == "LOCK" {
                let want = before::req_lock(&hs, "x-wopi-lock").and_then(|lock| {
                    let old_lock = before::req_lock(&hs, "x-wopi-oldlock")?;
                    Ok(FileOp::UnlockAndRelock { lock, old_lock })
                });
                prop_assert_eq!(post("files/abc", &hs), want.map(|op| WopiRequest::File { id: fid(), op }));
            } else {
                let want = before::req_lock(&hs, "x-wopi-lock").map(make);
                prop_assert_eq!(post("files/abc", &hs), want.map(|op| WopiRequest::File { id: fid(), op }));
            }
        }
        // PutRelativeFile and RenameFile, resolved against a source name as the use cases do.
        let hs = with_override("PUT_RELATIVE", &set);
        let Ok(WopiRequest::File { op: FileOp::PutRelativeFile { target, .. }, .. }) = post("files/abc", &hs) else {
            return Err(TestCaseError::fail("PutRelativeFile never fails in step 2"));
        };
        prop_assert_eq!(
            target.map(|t| t.resolve("report.docx")),
            crate::names::relative_target(
                hv(&hs, "x-wopi-suggestedtarget"),
                hv(&hs, "x-wopi-relativetarget"),
                hv(&hs, "x-wopi-overwriterelativetarget"),
                "report.docx",
            )
        );
        let hs = with_override("RENAME_FILE", &set);
        match post("files/abc", &hs) {
            Ok(WopiRequest::File { op: FileOp::RenameFile { lock, requested, .. }, .. }) => {
                prop_assert_eq!(Ok(lock), before::opt_lock(&hs, "x-wopi-lock"));
                prop_assert_eq!(
                    requested.and_then(|stem| crate::names::renamed(&stem, "report.docx")),
                    crate::names::rename_target(hv(&hs, "x-wopi-requestedname"), "report.docx")
                );
            }
            other => prop_assert_eq!(other.map(|_| ()), before::opt_lock(&hs, "x-wopi-lock").map(|_| ())),
        }
        // GetShareUrl.
        let hs = with_override("GET_SHARE_URL", &set);
        prop_assert_eq!(
            post("files/abc", &hs),
            before::url_type(&hs).map(|url_type| WopiRequest::File { id: fid(), op: FileOp::GetShareUrl { url_type } })
        );
    }

    #[test]
    fn container_operations_decide_as_before(set in header_set()) {
        let hs = with_override("CREATE_CHILD_FILE", &set);
        let Ok(WopiRequest::Container { op: ContainerOp::CreateChildFile { target }, .. }) = post("containers/c1", &hs) else {
            return Err(TestCaseError::fail("CreateChildFile never fails in step 2"));
        };
        let typed = target.map(|t| match t {
            RelativeTarget::Suggested(name) => (name, false, false),
            RelativeTarget::Exact { name, overwrite } => (name, true, overwrite),
        });
        prop_assert_eq!(typed, before::child_file(&hs));

        let hs = with_override("CREATE_CHILD_CONTAINER", &set);
        let Ok(WopiRequest::Container { op: ContainerOp::CreateChildContainer { target }, .. }) = post("containers/c1", &hs) else {
            return Err(TestCaseError::fail("CreateChildContainer never fails in step 2"));
        };
        prop_assert_eq!(
            target.map(|c| (c.name, c.exact)),
            crate::containers::child_target(hv(&hs, "x-wopi-suggestedtarget"), hv(&hs, "x-wopi-relativetarget"), "Folder", true)
        );

        let hs = with_override("RENAME_CONTAINER", &set);
        prop_assert_eq!(
            post("containers/c1", &hs),
            container(ContainerOp::RenameContainer { name: before::container_name(&hs) })
        );

        let hs = with_override("GET_SHARE_URL", &set);
        prop_assert_eq!(
            post("containers/c1", &hs),
            before::url_type(&hs).map(|url_type| WopiRequest::Container { id: cid(), op: ContainerOp::GetShareUrl { url_type } })
        );

        let hs = with_override("GET_WOPI_SRC_WITH_ACCESS_TOKEN", &set);
        prop_assert_eq!(
            post("ecosystem", &hs),
            before::host_name(&hs).map(|host_native_file_name| WopiRequest::Ecosystem(EcosystemOp::GetFileWopiSrc { host_native_file_name }))
        );
    }

    #[test]
    fn bootstrapper_decides_as_before(set in header_set()) {
        let hs: Vec<(&str, &[u8])> = set.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        let op = BootstrapOp::parse(&hs[..]);
        let (label, src) = before::bootstrap(&hs);
        prop_assert_eq!(op.label(), label.as_str());
        // The shortcut is chosen exactly when the operation names it.
        let kind = match &op {
            BootstrapOp::GetNewAccessToken { .. } => "GET_NEW_ACCESS_TOKEN",
            BootstrapOp::GetRootContainer => "GET_ROOT_CONTAINER",
            BootstrapOp::GetFileWopiSrc { .. } => "GET_WOPI_SRC_WITH_ACCESS_TOKEN",
            BootstrapOp::Bootstrap | BootstrapOp::Other(_) => "",
        };
        let named = matches!(
            label.as_str(),
            "GET_NEW_ACCESS_TOKEN" | "GET_ROOT_CONTAINER" | "GET_WOPI_SRC_WITH_ACCESS_TOKEN"
        );
        prop_assert_eq!(kind, if named { label.as_str() } else { "" });
        match op {
            BootstrapOp::GetNewAccessToken { wopi_src } => prop_assert_eq!(wopi_src, src),
            BootstrapOp::GetFileWopiSrc { host_native_file_name } => {
                prop_assert_eq!(host_native_file_name, before::host_name(&hs));
            }
            BootstrapOp::Bootstrap | BootstrapOp::GetRootContainer | BootstrapOp::Other(_) => {}
        }
    }
}

#[test]
fn coauth_operations_are_file_operations() {
    let hs: &Hs<'_> = &[
        ("x-wopi-override", b"get_coauth_lock"),
        ("x-wopi-coauthlockid", b"C1"),
        ("x-wopi-coauthlocktype", b"CoauthExclusive"),
        ("x-wopi-coauthlockexpirationtimeout", b"60"),
    ];
    let req = post("files/abc", hs).expect("parses");
    assert_eq!(
        req.operation(),
        Operation::Coauth(CoauthOperation::GetCoauthLock)
    );
    assert_eq!(req.operation().name(), "GetCoauthLock");
    assert!(req.operation().is_coauth() && req.operation().checks_lock());
    // Its header errors are the operation's 400s.
    let hs: &Hs<'_> = &[
        ("x-wopi-override", b"GET_COAUTH_LOCK"),
        ("x-wopi-coauthlockid", b"C1"),
    ];
    assert_eq!(
        post("files/abc", hs)
            .map(|_| ())
            .expect_err("refused")
            .status(),
        400
    );
    let hs: &Hs<'_> = &[("x-wopi-override", b"GET_SEQUENCE_NUMBER")];
    assert_eq!(
        post("files/abc", hs),
        file(FileOp::Coauth(CoauthOp::GetSequenceNumber))
    );
    // PUT_CHUNKED_FILE names the contents endpoint only.
    let hs: &Hs<'_> = &[("x-wopi-override", b"PUT_CHUNKED_FILE")];
    assert_eq!(post("files/abc", hs).expect_err("refused").status(), 501);
}

#[test]
fn writes_and_renames_present_one_lock_kind() {
    let put = |hs: &Hs<'_>| post("files/abc/contents", hs);
    let hs: &Hs<'_> = &[("x-wopi-override", b"PUT"), ("x-wopi-coauthlockid", b"C1")];
    match put(hs) {
        Ok(WopiRequest::File {
            op: FileOp::PutFile(p),
            ..
        }) => assert_eq!(
            p.presented(),
            Presented::Coauth(crate::coauth::CoauthLockId::parse(b"C1").expect("id"))
        ),
        other => panic!("{other:?}"),
    }
    // Both kinds at once: 400, for PutFile and RenameFile (even with an empty name).
    let both: &Hs<'_> = &[
        ("x-wopi-override", b"PUT"),
        ("x-wopi-lock", b"L"),
        ("x-wopi-coauthlockid", b"C1"),
    ];
    assert_eq!(put(both).expect_err("refused").status(), 400);
    let both: &Hs<'_> = &[
        ("x-wopi-override", b"RENAME_FILE"),
        ("x-wopi-lock", b"L"),
        ("x-wopi-coauthlockid", b"C1"),
    ];
    assert_eq!(post("files/abc", both).expect_err("refused").status(), 400);
    // Empty means absent.
    let empty: &Hs<'_> = &[
        ("x-wopi-override", b"PUT"),
        ("x-wopi-lock", b"L"),
        ("x-wopi-coauthlockid", b""),
    ];
    match put(empty) {
        Ok(WopiRequest::File {
            op: FileOp::PutFile(p),
            ..
        }) => assert_eq!(p.presented(), Presented::Wopi(lock("L"))),
        other => panic!("{other:?}"),
    }
    assert!(lock_user_visible(
        &[("x-wopi-lockuservisible", b"True" as &[u8])][..]
    ));
    assert!(!lock_user_visible(
        &[("x-wopi-lockuservisible", b"no" as &[u8])][..]
    ));
    assert!(!lock_user_visible(&[][..] as &Hs<'_>));
}
