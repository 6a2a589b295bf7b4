//! The arguments of the Files endpoint's operations.

use super::{Deferred, Headers};
use crate::body::ShareUrlType;
use crate::coauth::{CoauthLockId, Presented};
use crate::error::ProtoError;
use crate::headers::{RangeSpec, max_expected_size};
use crate::instant::Millis;
use crate::lock::{LockId, LockRequest};
use crate::names::{TargetRequest, parse_bool, requested_stem};
use crate::op::Operation;
use crate::wopi_header as h;

/// What a PutFile says besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutFile {
    /// `X-WOPI-Lock`; absent or empty means none.
    pub lock: Option<LockId>,
    /// `X-WOPI-CoauthLockId`; absent or empty means none (never with `lock`: that is 400).
    pub coauth_lock: Option<CoauthLockId>,
    pub save: SaveFlags,
    /// `X-COOL-WOPI-Timestamp` (or `X-LOOL-`): the modification time the editor last saw.
    pub seen_modified: Option<SeenModified>,
}

/// How a save came about: the editors' flags and `X-WOPI-Editors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveFlags {
    /// `X-WOPI-Editors`, lossily decoded, at most 1024 characters.
    pub editors: Option<String>,
    /// `X-COOL-WOPI-IsAutosave`; without it (Office for the web) every save of a lock session is
    /// automatic, and the session ends with its lock.
    pub autosave: bool,
    /// `X-COOL-WOPI-IsExitSave`; false without it.
    pub exit_save: bool,
    /// `X-COOL-WOPI-IsModifiedByUser`; true without it.
    pub modified_by_user: bool,
}

/// The modification time an editor says it last saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenModified {
    At(Millis),
    /// Sent, but not an ISO 8601 time: treated as stale, so the editor reloads.
    Unreadable,
}

impl SeenModified {
    /// Whether the editor's view is older than the stored content (Collabora's "document changed
    /// in storage").
    pub fn is_stale(self, modified: Millis) -> bool {
        match self {
            Self::At(seen) => seen < modified,
            Self::Unreadable => true,
        }
    }
}

/// The operations of `/wopi/files/ID…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    CheckFileInfo,
    GetFile {
        /// `X-WOPI-MaxExpectedSize`; the 32-bit signed maximum without it.
        max_expected: u64,
        /// `Range`; resolved against the size with [`RangeSpec::resolve`] (416).
        range: Option<RangeSpec>,
    },
    PutFile(PutFile),
    Lock {
        lock: LockId,
    },
    UnlockAndRelock {
        lock: LockId,
        old_lock: LockId,
    },
    GetLock,
    RefreshLock {
        lock: LockId,
    },
    Unlock {
        lock: LockId,
    },
    PutRelativeFile {
        /// Refused (400) after the permission check; an extension-only suggestion is resolved
        /// against the source name with [`TargetRequest::resolve`].
        target: Deferred<TargetRequest>,
        /// `X-WOPI-Size`, informational; `None` when absent or not a number.
        size: Option<u64>,
    },
    RenameFile {
        /// `X-WOPI-Lock`; absent or empty means none.
        lock: Option<LockId>,
        /// `X-WOPI-CoauthLockId`; absent or empty means none (never with `lock`: that is 400).
        coauth_lock: Option<CoauthLockId>,
        /// The requested stem, refused (400) after the lock check; the extension is added with
        /// [`crate::names::renamed`].
        requested: Deferred<String>,
    },
    DeleteFile,
    GetShareUrl {
        url_type: ShareUrlType,
    },
    PutUserInfo,
    AddActivities,
    EnumerateAncestors,
    GetEcosystem,
    /// A co-authoring operation with its header arguments.
    Coauth(super::CoauthOp),
}

/// The `Range` header (not a WOPI header).
const RANGE: &str = "range";

/// `X-WOPI-Lock` or `X-WOPI-CoauthLockId` (absent or empty means none); both is 400.
fn presented(
    headers: &(impl Headers + ?Sized),
) -> Result<(Option<LockId>, Option<CoauthLockId>), ProtoError> {
    Ok(match Presented::parse(headers)? {
        Presented::None => (None, None),
        Presented::Wopi(l) => (Some(l), None),
        Presented::Coauth(c) => (None, Some(c)),
    })
}

/// Whether a Lock asks that its holder's name be shown to those it refuses
/// (`X-WOPI-LockUserVisible: true`).
pub fn lock_user_visible(headers: &(impl Headers + ?Sized)) -> bool {
    headers
        .get(h::LOCK_USER_VISIBLE)
        .and_then(parse_bool)
        .unwrap_or(false)
}

/// The lock a write or rename presents, in the terms of the coauth rules.
pub fn presented_lock(lock: Option<&LockId>, coauth_lock: Option<&CoauthLockId>) -> Presented {
    match (lock, coauth_lock) {
        (Some(l), _) => Presented::Wopi(l.clone()),
        (None, Some(c)) => Presented::Coauth(c.clone()),
        (None, None) => Presented::None,
    }
}

/// A required lock header: absent or empty is 400.
fn req_lock(headers: &(impl Headers + ?Sized), name: &str) -> Result<LockId, ProtoError> {
    LockId::parse(headers.get(name).unwrap_or_default())
}

/// Free text from a header: lossy UTF-8, at most 1024 characters.
fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).chars().take(1024).collect()
}

/// An editor's save header: the `X-COOL-` spelling, else the older `X-LOOL-` one.
fn editor_header<'a>(
    headers: &'a (impl Headers + ?Sized),
    cool: &str,
    lool: &str,
) -> Option<&'a [u8]> {
    headers.get(cool).or_else(|| headers.get(lool))
}

impl PutFile {
    /// The lock the save presents.
    pub fn presented(&self) -> Presented {
        presented_lock(self.lock.as_ref(), self.coauth_lock.as_ref())
    }

    /// Reads the PutFile headers; only a malformed `X-WOPI-Lock` is refused (400).
    pub fn parse(headers: &(impl Headers + ?Sized)) -> Result<Self, ProtoError> {
        let flag = |cool, lool| editor_header(headers, cool, lool).and_then(parse_bool);
        let (lock, coauth_lock) = presented(headers)?;
        Ok(Self {
            lock,
            coauth_lock,
            save: SaveFlags {
                editors: headers.get(h::EDITORS).map(text),
                autosave: flag(h::COOL_IS_AUTOSAVE, h::LOOL_IS_AUTOSAVE).unwrap_or(true),
                exit_save: flag(h::COOL_IS_EXIT_SAVE, h::LOOL_IS_EXIT_SAVE).unwrap_or(false),
                modified_by_user: flag(h::COOL_IS_MODIFIED_BY_USER, h::LOOL_IS_MODIFIED_BY_USER)
                    .unwrap_or(true),
            },
            seen_modified: editor_header(headers, h::COOL_TIMESTAMP, h::LOOL_TIMESTAMP).map(|v| {
                Millis::parse_iso8601(&text(v)).map_or(SeenModified::Unreadable, SeenModified::At)
            }),
        })
    }
}

impl FileOp {
    /// The arguments of a file operation; `None` if `op` is not one.
    pub(super) fn parse(
        op: &Operation,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Option<Self>, ProtoError> {
        use Operation as O;
        let get = |name| headers.get(name);
        Ok(Some(match op {
            O::CheckFileInfo => Self::CheckFileInfo,
            O::GetFile => Self::GetFile {
                max_expected: max_expected_size(get(h::MAX_EXPECTED_SIZE))?,
                range: RangeSpec::parse(get(RANGE)),
            },
            O::PutFile => Self::PutFile(PutFile::parse(headers)?),
            O::Lock => Self::Lock {
                lock: req_lock(headers, h::LOCK)?,
            },
            O::UnlockAndRelock => {
                let lock = req_lock(headers, h::LOCK)?;
                Self::UnlockAndRelock {
                    lock,
                    old_lock: req_lock(headers, h::OLD_LOCK)?,
                }
            }
            O::RefreshLock => Self::RefreshLock {
                lock: req_lock(headers, h::LOCK)?,
            },
            O::Unlock => Self::Unlock {
                lock: req_lock(headers, h::LOCK)?,
            },
            O::GetLock => Self::GetLock,
            O::PutRelativeFile => Self::PutRelativeFile {
                target: TargetRequest::parse(
                    get(h::SUGGESTED_TARGET),
                    get(h::RELATIVE_TARGET),
                    get(h::OVERWRITE_RELATIVE_TARGET),
                ),
                size: get(h::SIZE)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|s| s.trim().parse().ok()),
            },
            O::RenameFile => {
                let (lock, coauth_lock) = presented(headers)?;
                Self::RenameFile {
                    lock,
                    coauth_lock,
                    requested: requested_stem(get(h::REQUESTED_NAME)),
                }
            }
            O::DeleteFile => Self::DeleteFile,
            O::GetShareUrl => Self::GetShareUrl {
                url_type: ShareUrlType::require(get(h::URL_TYPE))?,
            },
            O::PutUserInfo => Self::PutUserInfo,
            O::AddActivities => Self::AddActivities,
            O::EnumerateAncestors => Self::EnumerateAncestors,
            O::GetEcosystem => Self::GetEcosystem,
            O::Coauth(c) => Self::Coauth(super::CoauthOp::parse(*c, headers)?),
            _ => return Ok(None),
        }))
    }

    pub fn operation(&self) -> Operation {
        match self {
            Self::CheckFileInfo => Operation::CheckFileInfo,
            Self::GetFile { .. } => Operation::GetFile,
            Self::PutFile(_) => Operation::PutFile,
            Self::Lock { .. } => Operation::Lock,
            Self::UnlockAndRelock { .. } => Operation::UnlockAndRelock,
            Self::GetLock => Operation::GetLock,
            Self::RefreshLock { .. } => Operation::RefreshLock,
            Self::Unlock { .. } => Operation::Unlock,
            Self::PutRelativeFile { .. } => Operation::PutRelativeFile,
            Self::RenameFile { .. } => Operation::RenameFile,
            Self::DeleteFile => Operation::DeleteFile,
            Self::GetShareUrl { .. } => Operation::GetShareUrl,
            Self::PutUserInfo => Operation::PutUserInfo,
            Self::AddActivities => Operation::AddActivities,
            Self::EnumerateAncestors => Operation::EnumerateAncestors,
            Self::GetEcosystem => Operation::GetEcosystem,
            Self::Coauth(op) => Operation::Coauth(op.operation()),
        }
    }

    /// The lock operations in the terms of the lock decision table.
    pub fn lock_request(&self) -> Option<LockRequest> {
        match self {
            Self::Lock { lock } => Some(LockRequest::Lock(lock.clone())),
            Self::UnlockAndRelock { lock, old_lock } => Some(LockRequest::UnlockAndRelock {
                old: old_lock.clone(),
                new: lock.clone(),
            }),
            Self::RefreshLock { lock } => Some(LockRequest::Refresh(lock.clone())),
            Self::Unlock { lock } => Some(LockRequest::Unlock(lock.clone())),
            _ => None,
        }
    }
}
