//! The typed request: a `/wopi/...` request parsed once into the operation it asks for, each
//! variant carrying its arguments already read from the headers.
//!
//! Parsing happens in two steps so that every refusal comes at the point the protocol (and
//! wopid's behaviour) puts it:
//!
//! 1. [`Route::parse`] — before the access token is looked at: a path that names no endpoint is
//!    404, a method/override that names no operation is 501.
//! 2. [`Route::into_request`] — after the token, proof and access checks: the arguments. Header
//!    errors that the protocol decides before touching the resource (a malformed lock id, an
//!    `X-WOPI-MaxExpectedSize` that is not a number, an unknown `X-WOPI-UrlType`…) are returned
//!    here.
//!
//! Some arguments are refused only after the operation's own checks (write permission, the
//! resource existing, its lock): the target names of PutRelativeFile, CreateChildContainer,
//! CreateChildFile, the requested names of RenameFile and RenameContainer, and the bootstrapper's
//! shortcuts. They are parsed here too, but carried as a [`Deferred`] value that the use case
//! unwraps with `?` at the point the refusal belongs.
//!
//! [`WopiRequest::parse`] does both steps, for callers that do not care about that order.

use crate::body::ShareUrlType;
use crate::containers::{
    ChildName, child_container_target, child_file_target, extension_filter, host_native_file_name,
    requested_container_name,
};
use crate::error::ProtoError;
use crate::headers::{RangeSpec, max_expected_size};
use crate::ids::{ContainerId, FileId};
use crate::instant::Millis;
use crate::lock::{LockId, LockRequest};
use crate::names::{RelativeTarget, TargetRequest, parse_bool, requested_stem};
use crate::op::{Endpoint, Method, Operation};
use crate::wopi_header as h;

/// The headers of a request, looked up by lower-case name (the first value when repeated).
/// wopid implements it for its HTTP header map; tests use a slice of pairs.
pub trait Headers {
    fn get(&self, name: &str) -> Option<&[u8]>;
}

impl<H: Headers + ?Sized> Headers for &H {
    fn get(&self, name: &str) -> Option<&[u8]> {
        (**self).get(name)
    }
}

/// Name/value pairs; names compare case-insensitively, as HTTP's do.
impl Headers for [(&str, &[u8])] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Name/value pairs; names compare case-insensitively, as HTTP's do.
impl Headers for [(String, Vec<u8>)] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// An argument whose refusal the use case surfaces itself, after its permission, existence and
/// lock checks (see the module documentation).
pub type Deferred<T> = Result<T, ProtoError>;

/// The resource family a request addresses; each has its own token kind and access check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/wopi/files/ID[/contents|/ancestry|/ecosystem_pointer]`.
    File(FileId),
    /// `/wopi/containers/ID[/…]` and the legacy `/wopi/folders/ID[/children]`.
    Container(ContainerId),
    /// `/wopi/ecosystem[/root_container_pointer]`.
    Ecosystem,
}

/// Step 1: the resource and the operation, known before the access token is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub target: Target,
    /// Never `Operation::Unknown`: that is refused by [`Route::parse`].
    pub operation: Operation,
}

impl Route {
    /// Reads the path below `/wopi/` (as the router decoded it), the method and the selector
    /// headers (`X-WOPI-Override`, `X-WOPI-OldLock`). No endpoint is 404; no operation is 501.
    pub fn parse(
        method: Method,
        rest: &str,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Self, ProtoError> {
        let endpoint = Endpoint::parse(rest).ok_or(ProtoError::NotFound)?;
        let operation = Operation::parse(
            method,
            &endpoint,
            headers.get(h::OVERRIDE),
            headers.get(h::OLD_LOCK).is_some(),
        );
        if let Operation::Unknown(what) = &operation {
            return Err(ProtoError::NotImplemented(format!(
                "unsupported operation: {what}"
            )));
        }
        let target = match &endpoint {
            Endpoint::File(id)
            | Endpoint::FileContents(id)
            | Endpoint::FileAncestry(id)
            | Endpoint::FileEcosystem(id) => {
                Target::File(FileId::parse(id).ok_or(ProtoError::NotFound)?)
            }
            Endpoint::Container(id)
            | Endpoint::ContainerAncestry(id)
            | Endpoint::ContainerChildren(id)
            | Endpoint::ContainerEcosystem(id)
            | Endpoint::Folder(id)
            | Endpoint::FolderChildren(id) => {
                Target::Container(ContainerId::parse(id).ok_or(ProtoError::NotFound)?)
            }
            Endpoint::Ecosystem | Endpoint::EcosystemRootContainer => Target::Ecosystem,
        };
        Ok(Self { target, operation })
    }

    /// Step 2: the operation's arguments. Errors here are the ones decided before the resource
    /// is touched; later ones are carried as [`Deferred`].
    pub fn into_request(
        self,
        headers: &(impl Headers + ?Sized),
    ) -> Result<WopiRequest, ProtoError> {
        let op = self.operation;
        Ok(match self.target {
            Target::File(id) => WopiRequest::File {
                op: FileOp::parse(&op, headers)?.ok_or_else(|| {
                    ProtoError::NotImplemented(format!("{} is not implemented", op.name()))
                })?,
                id,
            },
            Target::Container(id) => WopiRequest::Container {
                op: ContainerOp::parse(&op, headers)?.ok_or_else(|| not_here(&op))?,
                id,
            },
            Target::Ecosystem => WopiRequest::Ecosystem(
                EcosystemOp::parse(&op, headers)?.ok_or_else(|| not_here(&op))?,
            ),
        })
    }
}

fn not_here(op: &Operation) -> ProtoError {
    ProtoError::NotImplemented(format!("{} is not available on this endpoint", op.name()))
}

/// A `/wopi/...` request with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WopiRequest {
    File { id: FileId, op: FileOp },
    Container { id: ContainerId, op: ContainerOp },
    Ecosystem(EcosystemOp),
}

impl WopiRequest {
    /// Both steps at once: [`Route::parse`] then [`Route::into_request`].
    pub fn parse(
        method: Method,
        rest: &str,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Self, ProtoError> {
        Route::parse(method, rest, headers)?.into_request(headers)
    }

    /// The operation's tag, for logs and metrics.
    pub fn operation(&self) -> Operation {
        match self {
            Self::File { op, .. } => op.operation(),
            Self::Container { op, .. } => op.operation(),
            Self::Ecosystem(op) => op.operation(),
        }
    }

    pub fn target(&self) -> Target {
        match self {
            Self::File { id, .. } => Target::File(id.clone()),
            Self::Container { id, .. } => Target::Container(id.clone()),
            Self::Ecosystem(_) => Target::Ecosystem,
        }
    }
}

/// What a PutFile says besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutFile {
    /// `X-WOPI-Lock`; absent or empty means none.
    pub lock: Option<LockId>,
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
}

/// The `Range` header (not a WOPI header).
const RANGE: &str = "range";

/// An optional lock header: absent or empty means no lock id.
fn opt_lock(headers: &(impl Headers + ?Sized), name: &str) -> Result<Option<LockId>, ProtoError> {
    match headers.get(name) {
        None | Some(b"") => Ok(None),
        Some(v) => LockId::parse(v).map(Some),
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
    /// Reads the PutFile headers; only a malformed `X-WOPI-Lock` is refused (400).
    pub fn parse(headers: &(impl Headers + ?Sized)) -> Result<Self, ProtoError> {
        let flag = |cool, lool| editor_header(headers, cool, lool).and_then(parse_bool);
        let lock = opt_lock(headers, h::LOCK)?;
        Ok(Self {
            lock,
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
    fn parse(
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
            O::RenameFile => Self::RenameFile {
                lock: opt_lock(headers, h::LOCK)?,
                requested: requested_stem(get(h::REQUESTED_NAME)),
            },
            O::DeleteFile => Self::DeleteFile,
            O::GetShareUrl => Self::GetShareUrl {
                url_type: ShareUrlType::require(get(h::URL_TYPE))?,
            },
            O::PutUserInfo => Self::PutUserInfo,
            O::AddActivities => Self::AddActivities,
            O::EnumerateAncestors => Self::EnumerateAncestors,
            O::GetEcosystem => Self::GetEcosystem,
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

/// The operations of `/wopi/containers/ID…` and the legacy `/wopi/folders/ID…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerOp {
    CheckContainerInfo,
    CreateChildContainer {
        /// Refused (400/501) after the write check and the container lookup.
        target: Deferred<ChildName>,
    },
    CreateChildFile {
        /// Refused (400/501) after the write check and the container lookup.
        target: Deferred<RelativeTarget>,
    },
    DeleteContainer,
    RenameContainer {
        /// Refused (400, `X-WOPI-InvalidContainerNameError`) after the write check and lookup.
        name: Deferred<String>,
    },
    GetShareUrl {
        url_type: ShareUrlType,
    },
    EnumerateAncestors,
    EnumerateChildren {
        /// `X-WOPI-FileExtensionFilterList`: lower-case extensions; `None` keeps every file.
        filter: Option<Vec<String>>,
    },
    GetEcosystem,
    CheckFolderInfo,
    EnumerateFolderChildren,
}

impl ContainerOp {
    /// The arguments of a container operation; `None` if `op` is not one.
    fn parse(
        op: &Operation,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Option<Self>, ProtoError> {
        use Operation as O;
        let get = |name| headers.get(name);
        Ok(Some(match op {
            O::CheckContainerInfo => Self::CheckContainerInfo,
            O::CreateChildContainer => Self::CreateChildContainer {
                target: child_container_target(get(h::SUGGESTED_TARGET), get(h::RELATIVE_TARGET)),
            },
            O::CreateChildFile => Self::CreateChildFile {
                target: child_file_target(
                    get(h::SUGGESTED_TARGET),
                    get(h::RELATIVE_TARGET),
                    get(h::OVERWRITE_RELATIVE_TARGET),
                ),
            },
            O::DeleteContainer => Self::DeleteContainer,
            O::RenameContainer => Self::RenameContainer {
                name: requested_container_name(get(h::REQUESTED_NAME)),
            },
            O::GetContainerShareUrl => Self::GetShareUrl {
                url_type: ShareUrlType::require(get(h::URL_TYPE))?,
            },
            O::EnumerateContainerAncestors => Self::EnumerateAncestors,
            O::EnumerateChildren => Self::EnumerateChildren {
                filter: extension_filter(get(h::FILE_EXTENSION_FILTER_LIST)),
            },
            O::GetContainerEcosystem => Self::GetEcosystem,
            O::CheckFolderInfo => Self::CheckFolderInfo,
            O::EnumerateFolderChildren => Self::EnumerateFolderChildren,
            _ => return Ok(None),
        }))
    }

    pub fn operation(&self) -> Operation {
        match self {
            Self::CheckContainerInfo => Operation::CheckContainerInfo,
            Self::CreateChildContainer { .. } => Operation::CreateChildContainer,
            Self::CreateChildFile { .. } => Operation::CreateChildFile,
            Self::DeleteContainer => Operation::DeleteContainer,
            Self::RenameContainer { .. } => Operation::RenameContainer,
            Self::GetShareUrl { .. } => Operation::GetContainerShareUrl,
            Self::EnumerateAncestors => Operation::EnumerateContainerAncestors,
            Self::EnumerateChildren { .. } => Operation::EnumerateChildren,
            Self::GetEcosystem => Operation::GetContainerEcosystem,
            Self::CheckFolderInfo => Operation::CheckFolderInfo,
            Self::EnumerateFolderChildren => Operation::EnumerateFolderChildren,
        }
    }
}

/// The operations of `/wopi/ecosystem…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcosystemOp {
    CheckEcosystem,
    GetRootContainer,
    GetFileWopiSrc {
        /// `X-WOPI-HostNativeFileName`: present and UTF-8, else 400.
        host_native_file_name: String,
    },
}

impl EcosystemOp {
    /// The arguments of an ecosystem operation; `None` if `op` is not one.
    fn parse(
        op: &Operation,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Option<Self>, ProtoError> {
        Ok(Some(match op {
            Operation::CheckEcosystem => Self::CheckEcosystem,
            Operation::GetRootContainer => Self::GetRootContainer,
            Operation::GetFileWopiSrc => Self::GetFileWopiSrc {
                host_native_file_name: host_native_file_name(
                    headers.get(h::HOST_NATIVE_FILE_NAME),
                )?,
            },
            _ => return Ok(None),
        }))
    }

    pub fn operation(&self) -> Operation {
        match self {
            Self::CheckEcosystem => Operation::CheckEcosystem,
            Self::GetRootContainer => Operation::GetRootContainer,
            Self::GetFileWopiSrc { .. } => Operation::GetFileWopiSrc,
        }
    }
}

/// A `/wopibootstrapper` request, by `X-WOPI-EcosystemOperation`. Every one answers the
/// Bootstrap object; the shortcuts add theirs. Their header errors come after the Bootstrap
/// object is made, so they are [`Deferred`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOp {
    /// No `X-WOPI-EcosystemOperation`.
    Bootstrap,
    GetNewAccessToken {
        /// `X-WOPI-WopiSrc`: missing or not UTF-8 is 400.
        wopi_src: Deferred<String>,
    },
    GetRootContainer,
    GetFileWopiSrc {
        /// `X-WOPI-HostNativeFileName`: missing or not UTF-8 is 400.
        host_native_file_name: Deferred<String>,
    },
    /// An operation wopid does not know (upper-cased, trimmed): answered as Bootstrap.
    Other(String),
}

impl BootstrapOp {
    pub fn parse(headers: &(impl Headers + ?Sized)) -> Self {
        let Some(raw) = headers.get(h::ECOSYSTEM_OPERATION) else {
            return Self::Bootstrap;
        };
        let op = String::from_utf8_lossy(raw).trim().to_ascii_uppercase();
        match op.as_str() {
            "GET_NEW_ACCESS_TOKEN" => Self::GetNewAccessToken {
                wopi_src: headers
                    .get(h::WOPI_SRC)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .map(str::to_owned)
                    .ok_or(ProtoError::BadRequest("X-WOPI-WopiSrc is missing")),
            },
            "GET_ROOT_CONTAINER" => Self::GetRootContainer,
            "GET_WOPI_SRC_WITH_ACCESS_TOKEN" => Self::GetFileWopiSrc {
                host_native_file_name: host_native_file_name(headers.get(h::HOST_NATIVE_FILE_NAME)),
            },
            _ => Self::Other(op),
        }
    }

    /// The label of logs: `Bootstrap`, or the operation as sent (upper-cased).
    pub fn label(&self) -> &str {
        match self {
            Self::Bootstrap => "Bootstrap",
            Self::GetNewAccessToken { .. } => "GET_NEW_ACCESS_TOKEN",
            Self::GetRootContainer => "GET_ROOT_CONTAINER",
            Self::GetFileWopiSrc { .. } => "GET_WOPI_SRC_WITH_ACCESS_TOKEN",
            Self::Other(op) => op,
        }
    }
}
