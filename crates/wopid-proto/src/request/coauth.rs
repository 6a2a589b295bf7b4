//! The co-authoring operations of the Files endpoint and their arguments.
//!
//! [`CoauthOperation::parse`] recognises one from the method, the endpoint and `X-WOPI-Override`
//! (`Operation::parse` calls it first: [`crate::op::Operation::Coauth`]), and [`CoauthOp::parse`]
//! reads its headers (`FileOp::Coauth`), with the same 400s wherever they are parsed. [`Presented::parse`] reads the lock a
//! write or rename presents (`X-WOPI-Lock` or `X-WOPI-CoauthLockId`).

use super::Headers;
use crate::coauth::{
    self, CoauthLockId, CoauthLockType, CoauthRequest, Presented, parse_metadata,
    parse_sequence_number, parse_timeout,
};
use crate::error::ProtoError;
use crate::lock::LockId;
use crate::op::{Endpoint, Method};
use crate::wopi_header as h;

/// The co-authoring operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoauthOperation {
    /// `POST /wopi/files/ID`, `X-WOPI-Override: GET_COAUTH_LOCK`.
    GetCoauthLock,
    /// `POST /wopi/files/ID`, `X-WOPI-Override: REFRESH_COAUTH_LOCK`.
    RefreshCoauthLock,
    /// `POST /wopi/files/ID`, `X-WOPI-Override: UNLOCK_COAUTH_LOCK`.
    UnlockCoauthLock,
    /// `POST /wopi/files/ID`, `X-WOPI-Override: GET_COAUTH_TABLE`.
    GetCoauthTable,
    /// `POST /wopi/files/ID`, `X-WOPI-Override: GET_SEQUENCE_NUMBER`.
    GetSequenceNumber,
    /// `POST /wopi/files/ID`, `X-WOPI-Override: GET_CHUNKED_FILE`.
    GetChunkedFile,
    /// `POST /wopi/files/ID/contents`, `X-WOPI-Override: PUT_CHUNKED_FILE`.
    PutChunkedFile,
}

impl CoauthOperation {
    /// The operation named by a request, if it is a co-authoring one. The override is matched
    /// case-insensitively, as [`crate::op::Operation::parse`] does.
    pub fn parse(method: Method, endpoint: &Endpoint, overrider: Option<&[u8]>) -> Option<Self> {
        let ov = overrider.map(|o| String::from_utf8_lossy(o).trim().to_ascii_uppercase())?;
        Some(match (method, endpoint, ov.as_str()) {
            (Method::Post, Endpoint::File(_), "GET_COAUTH_LOCK") => Self::GetCoauthLock,
            (Method::Post, Endpoint::File(_), "REFRESH_COAUTH_LOCK") => Self::RefreshCoauthLock,
            (Method::Post, Endpoint::File(_), "UNLOCK_COAUTH_LOCK") => Self::UnlockCoauthLock,
            (Method::Post, Endpoint::File(_), "GET_COAUTH_TABLE") => Self::GetCoauthTable,
            (Method::Post, Endpoint::File(_), "GET_SEQUENCE_NUMBER") => Self::GetSequenceNumber,
            (Method::Post, Endpoint::File(_), "GET_CHUNKED_FILE") => Self::GetChunkedFile,
            (Method::Post, Endpoint::FileContents(_), "PUT_CHUNKED_FILE") => Self::PutChunkedFile,
            _ => return None,
        })
    }

    /// A stable name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetCoauthLock => "GetCoauthLock",
            Self::RefreshCoauthLock => "RefreshCoauthLock",
            Self::UnlockCoauthLock => "UnlockCoauthLock",
            Self::GetCoauthTable => "GetCoauthTable",
            Self::GetSequenceNumber => "GetSequenceNumber",
            Self::GetChunkedFile => "GetChunkedFile",
            Self::PutChunkedFile => "PutChunkedFile",
        }
    }

    /// Whether the operation changes the file (needs a token that may write).
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Self::GetCoauthTable | Self::GetSequenceNumber | Self::GetChunkedFile
        )
    }
}

/// A co-authoring operation with its header arguments. Bodies (the coauth lock metadata body,
/// the frames of the chunked operations) are read by the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoauthOp {
    GetCoauthLock {
        lock: CoauthLockId,
        kind: CoauthLockType,
        timeout_s: u32,
        /// `X-WOPI-CoauthLockMetadata`; a body's metadata takes precedence
        /// ([`coauth::metadata`]).
        metadata: Option<String>,
    },
    RefreshCoauthLock {
        lock: CoauthLockId,
        timeout_s: u32,
        metadata: Option<String>,
    },
    UnlockCoauthLock {
        lock: CoauthLockId,
    },
    GetCoauthTable {
        /// `X-WOPI-CoauthTableVersion`; absent or empty means none.
        known_version: Option<String>,
    },
    GetSequenceNumber,
    GetChunkedFile,
    PutChunkedFile {
        sequence_number: u32,
        lock: Presented,
        /// `X-WOPI-Editors`, lossily decoded, at most 1024 characters.
        editors: Option<String>,
    },
}

fn required<'a>(
    headers: &'a (impl Headers + ?Sized),
    name: &str,
    missing: &'static str,
) -> Result<&'a [u8], ProtoError> {
    headers.get(name).ok_or(ProtoError::BadRequest(missing))
}

fn coauth_id(headers: &(impl Headers + ?Sized)) -> Result<CoauthLockId, ProtoError> {
    CoauthLockId::parse(required(
        headers,
        h::COAUTH_LOCK_ID,
        "X-WOPI-CoauthLockId is missing",
    )?)
}

fn header_metadata(headers: &(impl Headers + ?Sized)) -> Result<Option<String>, ProtoError> {
    headers
        .get(h::COAUTH_LOCK_METADATA)
        .map(parse_metadata)
        .transpose()
}

impl CoauthOp {
    /// Reads the headers of `op`. Missing or malformed required headers are 400: the coauth lock
    /// id (1–1024 printable ASCII), the type (`Coauth`, `CoauthExclusive`), the timeout (60–3600
    /// seconds), the sequence number; so are over-long metadata and both lock headers at once.
    pub fn parse(
        op: CoauthOperation,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Self, ProtoError> {
        use CoauthOperation as O;
        Ok(match op {
            O::GetCoauthLock => {
                let lock = coauth_id(headers)?;
                let kind = CoauthLockType::parse(required(
                    headers,
                    h::COAUTH_LOCK_TYPE,
                    "X-WOPI-CoauthLockType is missing",
                )?)?;
                Self::GetCoauthLock {
                    lock,
                    kind,
                    timeout_s: parse_timeout(headers.get(h::COAUTH_LOCK_EXPIRATION_TIMEOUT))?,
                    metadata: header_metadata(headers)?,
                }
            }
            O::RefreshCoauthLock => {
                let lock = coauth_id(headers)?;
                Self::RefreshCoauthLock {
                    lock,
                    timeout_s: parse_timeout(headers.get(h::COAUTH_LOCK_EXPIRATION_TIMEOUT))?,
                    metadata: header_metadata(headers)?,
                }
            }
            O::UnlockCoauthLock => Self::UnlockCoauthLock {
                lock: coauth_id(headers)?,
            },
            O::GetCoauthTable => Self::GetCoauthTable {
                known_version: headers
                    .get(h::COAUTH_TABLE_VERSION)
                    .map(|v| String::from_utf8_lossy(v).trim().to_owned())
                    .filter(|v| !v.is_empty()),
            },
            O::GetSequenceNumber => Self::GetSequenceNumber,
            O::GetChunkedFile => Self::GetChunkedFile,
            O::PutChunkedFile => {
                let lock = Presented::parse(headers)?;
                Self::PutChunkedFile {
                    sequence_number: parse_sequence_number(headers.get(h::SEQUENCE_NUMBER))?,
                    lock,
                    editors: headers
                        .get(h::EDITORS)
                        .map(|v| String::from_utf8_lossy(v).chars().take(1024).collect()),
                }
            }
        })
    }

    pub fn operation(&self) -> CoauthOperation {
        match self {
            Self::GetCoauthLock { .. } => CoauthOperation::GetCoauthLock,
            Self::RefreshCoauthLock { .. } => CoauthOperation::RefreshCoauthLock,
            Self::UnlockCoauthLock { .. } => CoauthOperation::UnlockCoauthLock,
            Self::GetCoauthTable { .. } => CoauthOperation::GetCoauthTable,
            Self::GetSequenceNumber => CoauthOperation::GetSequenceNumber,
            Self::GetChunkedFile => CoauthOperation::GetChunkedFile,
            Self::PutChunkedFile { .. } => CoauthOperation::PutChunkedFile,
        }
    }

    /// The coauth lock operations in the terms of [`coauth::decide`], with the metadata of the
    /// request body (read with [`coauth::metadata_from_body`]) taking precedence over the
    /// header's.
    pub fn lock_request(&self, body_metadata: Option<String>) -> Option<CoauthRequest> {
        Some(match self {
            Self::GetCoauthLock {
                lock,
                kind,
                timeout_s,
                metadata,
            } => CoauthRequest::Get {
                id: lock.clone(),
                kind: *kind,
                timeout_s: *timeout_s,
                metadata: coauth::metadata(metadata.clone(), body_metadata),
            },
            Self::RefreshCoauthLock {
                lock,
                timeout_s,
                metadata,
            } => CoauthRequest::Refresh {
                id: lock.clone(),
                timeout_s: *timeout_s,
                metadata: coauth::metadata(metadata.clone(), body_metadata),
            },
            Self::UnlockCoauthLock { lock } => CoauthRequest::Unlock { id: lock.clone() },
            _ => return None,
        })
    }
}

impl Presented {
    /// `X-WOPI-Lock` or `X-WOPI-CoauthLockId` (absent or empty means not sent); both at once is
    /// 400, as is a malformed id. PutFile, PutChunkedFile and RenameFile read it.
    pub fn parse(headers: &(impl Headers + ?Sized)) -> Result<Self, ProtoError> {
        let wopi = headers.get(h::LOCK).filter(|v| !v.is_empty());
        let co = headers.get(h::COAUTH_LOCK_ID).filter(|v| !v.is_empty());
        match (wopi, co) {
            (Some(_), Some(_)) => Err(ProtoError::BadRequest(
                "X-WOPI-Lock and X-WOPI-CoauthLockId are both present",
            )),
            (Some(w), None) => LockId::parse(w).map(Self::Wopi),
            (None, Some(c)) => CoauthLockId::parse(c).map(Self::Coauth),
            (None, None) => Ok(Self::None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep() -> Endpoint {
        Endpoint::File("abc".into())
    }

    fn parse(op: CoauthOperation, hs: &[(&str, &[u8])]) -> Result<CoauthOp, ProtoError> {
        CoauthOp::parse(op, hs)
    }

    fn status(r: Result<CoauthOp, ProtoError>) -> u16 {
        r.map_or_else(|e| e.status(), |_| 200)
    }

    #[test]
    fn operations() {
        use CoauthOperation as O;
        for (ov, want) in [
            ("GET_COAUTH_LOCK", O::GetCoauthLock),
            ("refresh_coauth_lock", O::RefreshCoauthLock),
            ("UNLOCK_COAUTH_LOCK", O::UnlockCoauthLock),
            ("GET_COAUTH_TABLE", O::GetCoauthTable),
            ("GET_SEQUENCE_NUMBER", O::GetSequenceNumber),
            ("GET_CHUNKED_FILE", O::GetChunkedFile),
        ] {
            assert_eq!(
                CoauthOperation::parse(Method::Post, &ep(), Some(ov.as_bytes())),
                Some(want)
            );
            // Not on the contents endpoint, not with GET.
            let contents = Endpoint::FileContents("abc".into());
            assert_eq!(
                CoauthOperation::parse(Method::Post, &contents, Some(ov.as_bytes())),
                None
            );
            assert_eq!(
                CoauthOperation::parse(Method::Get, &ep(), Some(ov.as_bytes())),
                None
            );
        }
        let contents = Endpoint::FileContents("abc".into());
        assert_eq!(
            CoauthOperation::parse(Method::Post, &contents, Some(b"PUT_CHUNKED_FILE")),
            Some(O::PutChunkedFile)
        );
        assert_eq!(
            CoauthOperation::parse(Method::Post, &ep(), Some(b"PUT_CHUNKED_FILE")),
            None
        );
        assert_eq!(
            CoauthOperation::parse(Method::Post, &ep(), Some(b"LOCK")),
            None
        );
        assert_eq!(CoauthOperation::parse(Method::Post, &ep(), None), None);
        assert!(O::PutChunkedFile.writes() && !O::GetChunkedFile.writes());
        assert_eq!(O::GetCoauthTable.name(), "GetCoauthTable");
    }

    #[test]
    fn get_coauth_lock() {
        use CoauthOperation::GetCoauthLock as G;
        let full: &[(&str, &[u8])] = &[
            ("X-WOPI-CoauthLockId", b"Client1"),
            ("X-WOPI-CoauthLockType", b"Coauth"),
            ("X-WOPI-CoauthLockExpirationTimeout", b"120"),
            ("X-WOPI-CoauthLockMetadata", b"Meta"),
        ];
        assert_eq!(
            parse(G, full),
            Ok(CoauthOp::GetCoauthLock {
                lock: CoauthLockId::parse(b"Client1").expect("id"),
                kind: CoauthLockType::Coauth,
                timeout_s: 120,
                metadata: Some("Meta".into()),
            })
        );
        // CoauthLock.GetCoauthLockWithoutCoauthLockType, …WithoutCoauthLockId,
        // …WithoutCoauthLockExpirationTimeout: each missing header is 400; metadata is optional.
        for skip in 0..4 {
            let hs: Vec<(&str, &[u8])> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, p)| *p)
                .collect();
            assert_eq!(status(parse(G, &hs)), if skip == 3 { 200 } else { 400 });
        }
        // CoauthLock.EmptyCoauthLockMetadata: an empty header is empty metadata.
        let mut hs = full.to_vec();
        hs[3] = ("X-WOPI-CoauthLockMetadata", b"");
        let Ok(CoauthOp::GetCoauthLock { metadata, .. }) = parse(G, &hs) else {
            panic!("200");
        };
        assert_eq!(metadata, Some(String::new()));
        // InvalidCoauthLockType, EmptyCoauthLockType, InvalidGetCoauthLockExpirationTimeout,
        // CoauthLockIdLengthValidationForGetCoauthLock
        let long = vec![b'x'; 1025];
        for (i, v) in [
            (1, &b"None"[..]),
            (1, b""),
            (2, b"59"),
            (2, b"3601"),
            (0, &long[..]),
            (0, b""),
        ] {
            let mut hs = full.to_vec();
            hs[i].1 = v;
            assert_eq!(status(parse(G, &hs)), 400, "{i} {v:?}");
        }
        // The body's metadata wins.
        let op = parse(G, full).expect("200");
        let Some(CoauthRequest::Get { metadata, .. }) = op.lock_request(Some("Body".into())) else {
            panic!("a lock request");
        };
        assert_eq!(metadata, Some("Body".into()));
        let Some(CoauthRequest::Get { metadata, .. }) = op.lock_request(None) else {
            panic!("a lock request");
        };
        assert_eq!(metadata, Some("Meta".into()));
    }

    #[test]
    fn refresh_and_unlock() {
        use CoauthOperation::{RefreshCoauthLock as R, UnlockCoauthLock as U};
        let id: (&str, &[u8]) = ("X-WOPI-CoauthLockId", b"Client1");
        let t: (&str, &[u8]) = ("X-WOPI-CoauthLockExpirationTimeout", b"120");
        assert_eq!(status(parse(R, &[id, t])), 200);
        // RefreshCoauthLockWithoutCoauthLockId, …WithoutCoauthLockExpirationTimeout
        assert_eq!(status(parse(R, &[t])), 400);
        assert_eq!(status(parse(R, &[id])), 400);
        // InvalidRefreshCoauthLockExpirationTimeout
        assert_eq!(
            status(parse(
                R,
                &[id, ("X-WOPI-CoauthLockExpirationTimeout", b"59")]
            )),
            400
        );
        // UnlockCoauthLockWithoutCoauthLockId, CoauthLockIdLengthValidationForUnlockCoauthLock
        assert_eq!(status(parse(U, &[id])), 200);
        assert_eq!(status(parse(U, &[])), 400);
        let long = vec![b'x'; 1025];
        assert_eq!(status(parse(U, &[("X-WOPI-CoauthLockId", &long)])), 400);
        assert_eq!(
            parse(U, &[id]).expect("200").lock_request(None),
            Some(CoauthRequest::Unlock {
                id: CoauthLockId::parse(b"Client1").expect("id")
            })
        );
    }

    #[test]
    fn coauth_table_version() {
        use CoauthOperation::GetCoauthTable as T;
        let known = |hs: &[(&str, &[u8])]| match parse(T, hs) {
            Ok(CoauthOp::GetCoauthTable { known_version }) => known_version,
            other => panic!("{other:?}"),
        };
        assert_eq!(known(&[]), None);
        assert_eq!(known(&[("X-WOPI-CoauthTableVersion", b"")]), None);
        assert_eq!(
            known(&[("X-WOPI-CoauthTableVersion", b"abc")]),
            Some("abc".into())
        );
    }

    #[test]
    fn put_chunked_file() {
        use CoauthOperation::PutChunkedFile as P;
        // The validator sends every header, empty when it has no value.
        let hs = |seq: &'static [u8], lock: &'static [u8], co: &'static [u8]| {
            vec![
                ("X-WOPI-SequenceNumber", seq),
                ("X-WOPI-Lock", lock),
                ("X-WOPI-CoauthLockId", co),
                ("X-WOPI-Editors", &b""[..]),
            ]
        };
        assert_eq!(
            parse(P, &hs(b"3", b"", b"Client_1_CoauthLock")),
            Ok(CoauthOp::PutChunkedFile {
                sequence_number: 3,
                lock: Presented::Coauth(CoauthLockId::parse(b"Client_1_CoauthLock").expect("id")),
                editors: Some(String::new()),
            })
        );
        let Ok(CoauthOp::PutChunkedFile { lock, .. }) = parse(P, &hs(b"0", b"", b"")) else {
            panic!("200");
        };
        assert_eq!(lock, Presented::None);
        // ….ClientCoauthLockAndWopiLockSetTogether.FailWithBadRequest400
        assert_eq!(status(parse(P, &hs(b"3", b"Client_1_WopiLock", b"C"))), 400);
        assert_eq!(status(parse(P, &hs(b"", b"", b""))), 400);
        assert_eq!(status(parse(P, &hs(b"x", b"", b""))), 400);
        assert_eq!(status(parse(P, &[])), 400);
    }

    #[test]
    fn presented() {
        // RenameFile.ClientCoauthLockAndWopiLockSetTogether.FailWithBadRequest400
        let both: &[(&str, &[u8])] = &[("X-WOPI-Lock", b"WopiLock"), ("X-WOPI-CoauthLockId", b"C")];
        assert_eq!(Presented::parse(both).map_err(|e| e.status()), Err(400));
        assert_eq!(
            Presented::parse(&[("X-WOPI-Lock", &b"L"[..])][..]),
            Ok(Presented::Wopi(LockId::parse(b"L").expect("id")))
        );
        assert_eq!(
            Presented::parse(&[("X-WOPI-CoauthLockId", &b"C"[..])][..]),
            Ok(Presented::Coauth(CoauthLockId::parse(b"C").expect("id")))
        );
        let none: &[(&str, &[u8])] = &[];
        assert_eq!(Presented::parse(none), Ok(Presented::None));
        assert_eq!(
            Presented::parse(&[("X-WOPI-Lock", &b""[..]), ("X-WOPI-CoauthLockId", &b""[..])][..]),
            Ok(Presented::None)
        );
    }
}
