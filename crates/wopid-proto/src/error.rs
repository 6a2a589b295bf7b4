//! `ProtoError`: every refusal the protocol defines, with its status code and `X-WOPI-*` headers.

use crate::coauth::CoauthConflict;
use crate::lock::Conflict;
use crate::wopi_header;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// A header is missing, empty or malformed.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// A file name cannot be used (`X-WOPI-InvalidFileNameError`).
    #[error("invalid file name: {0}")]
    InvalidFileName(&'static str),
    /// A container name cannot be used (`X-WOPI-InvalidContainerNameError`).
    #[error("invalid container name: {0}")]
    InvalidContainerName(&'static str),
    /// The access token is missing, unknown, expired, revoked or issued for another resource.
    #[error("invalid access token")]
    Unauthorized,
    /// No such resource, or the token's user may not reach it.
    #[error("not found")]
    NotFound,
    /// The token is valid but does not grant this operation.
    #[error("not permitted: {0}")]
    Forbidden(&'static str),
    /// A lock mismatch: `X-WOPI-Lock` carries the current lock, empty when unlocked.
    #[error("lock conflict: {}", .0.reason)]
    LockConflict(Conflict),
    /// A refusal involving coauth locks: `X-WOPI-Lock` carries the WOPI lock (empty when there is
    /// none), with `X-WOPI-ConflictingMechanism` and `X-WOPI-ConflictingLockUsername` when known.
    #[error("lock conflict: {}", .0.reason)]
    CoauthConflict(CoauthConflict),
    /// PutChunkedFile's `X-WOPI-SequenceNumber` is not the file's; the response carries the
    /// current one.
    #[error("sequence number is not the file's ({current})")]
    SequenceNumberMismatch { current: u32 },
    /// The target name exists; `X-WOPI-ValidRelativeTarget` suggests a free one (UTF-7).
    #[error("target name exists")]
    NameExists { valid_target: Option<String> },
    /// A container is not empty, or another non-lock conflict.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The file is larger than `X-WOPI-MaxExpectedSize`.
    #[error("file is larger than X-WOPI-MaxExpectedSize")]
    PreconditionFailed,
    /// The range cannot be satisfied.
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    /// The body is larger than the host accepts.
    #[error("body larger than the configured limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// An operation wopid does not implement (or not for this token).
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

impl ProtoError {
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::InvalidFileName(_) | Self::InvalidContainerName(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 401,
            Self::NotFound => 404,
            Self::LockConflict(_)
            | Self::CoauthConflict(_)
            | Self::NameExists { .. }
            | Self::Conflict(_) => 409,
            Self::PreconditionFailed | Self::SequenceNumberMismatch { .. } => 412,
            Self::TooLarge { .. } => 413,
            Self::RangeNotSatisfiable { .. } => 416,
            Self::NotImplemented(_) => 501,
        }
    }

    /// The headers the response carries besides `X-WOPI-ServerError`, names in lower case.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::InvalidFileName(why) => {
                vec![(wopi_header::INVALID_FILE_NAME_ERROR, (*why).to_owned())]
            }
            Self::InvalidContainerName(why) => {
                vec![(wopi_header::INVALID_CONTAINER_NAME_ERROR, (*why).to_owned())]
            }
            Self::LockConflict(c) => {
                vec![
                    (wopi_header::LOCK, c.current.clone()),
                    (wopi_header::LOCK_FAILURE_REASON, c.reason.to_owned()),
                ]
            }
            Self::CoauthConflict(c) => {
                let mut h = vec![
                    (wopi_header::LOCK, c.lock.clone()),
                    (wopi_header::LOCK_FAILURE_REASON, c.reason.to_owned()),
                ];
                if let Some(m) = c.mechanism {
                    h.push((wopi_header::CONFLICTING_MECHANISM, m.as_str().to_owned()));
                }
                if let Some(u) = &c.lock_user {
                    h.push((wopi_header::CONFLICTING_LOCK_USERNAME, u.clone()));
                }
                h
            }
            Self::SequenceNumberMismatch { current } => {
                vec![(wopi_header::SEQUENCE_NUMBER, current.to_string())]
            }
            Self::NameExists {
                valid_target: Some(t),
            } => vec![(wopi_header::VALID_RELATIVE_TARGET, t.clone())],
            Self::RangeNotSatisfiable { size } => {
                vec![("Content-Range", format!("bytes */{size}"))]
            }
            _ => Vec::new(),
        }
    }
}

impl From<Conflict> for ProtoError {
    fn from(c: Conflict) -> Self {
        Self::LockConflict(c)
    }
}
