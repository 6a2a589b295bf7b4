//! The request as the protocol sees it: which endpoint, which operation.
//!
//! `Endpoint::parse` reads the path after `/wopi/`; `Operation::parse` adds the method and the
//! selector headers. Anything not recognised becomes `Operation::Unknown`, answered 501.

use crate::ids::valid_id;
use crate::request::Headers;
use crate::wopi_header;

/// A WOPI endpoint and the id it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    File(String),
    FileContents(String),
    FileAncestry(String),
    FileEcosystem(String),
    Container(String),
    ContainerAncestry(String),
    ContainerChildren(String),
    ContainerEcosystem(String),
    Ecosystem,
    EcosystemRootContainer,
    Folder(String),
    FolderChildren(String),
}

impl Endpoint {
    /// Parses the path below `/wopi/` (for `/wopi/files/abc/contents`, `files/abc/contents`).
    pub fn parse(rest: &str) -> Option<Self> {
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let ep = match parts.as_slice() {
            ["files", id] => Self::File((*id).to_owned()),
            ["files", id, "contents"] => Self::FileContents((*id).to_owned()),
            ["files", id, "ancestry"] => Self::FileAncestry((*id).to_owned()),
            ["files", id, "ecosystem_pointer"] => Self::FileEcosystem((*id).to_owned()),
            ["containers", id] => Self::Container((*id).to_owned()),
            ["containers", id, "ancestry"] => Self::ContainerAncestry((*id).to_owned()),
            ["containers", id, "children"] => Self::ContainerChildren((*id).to_owned()),
            ["containers", id, "ecosystem_pointer"] => Self::ContainerEcosystem((*id).to_owned()),
            ["ecosystem"] => Self::Ecosystem,
            ["ecosystem", "root_container_pointer"] => Self::EcosystemRootContainer,
            ["folders", id] => Self::Folder((*id).to_owned()),
            ["folders", id, "children"] => Self::FolderChildren((*id).to_owned()),
            _ => return None,
        };
        match ep.id() {
            Some(id) if !valid_id(id) => None,
            _ => Some(ep),
        }
    }

    /// The file, container or folder id in the path.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::File(id)
            | Self::FileContents(id)
            | Self::FileAncestry(id)
            | Self::FileEcosystem(id)
            | Self::Container(id)
            | Self::ContainerAncestry(id)
            | Self::ContainerChildren(id)
            | Self::ContainerEcosystem(id)
            | Self::Folder(id)
            | Self::FolderChildren(id) => Some(id),
            Self::Ecosystem | Self::EcosystemRootContainer => None,
        }
    }
}

/// HTTP methods the protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Other,
}

/// Every operation wopid can be asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    CheckFileInfo,
    GetFile,
    PutFile,
    Lock,
    UnlockAndRelock,
    GetLock,
    RefreshLock,
    Unlock,
    PutRelativeFile,
    RenameFile,
    DeleteFile,
    GetShareUrl,
    PutUserInfo,
    AddActivities,
    EnumerateAncestors,
    GetEcosystem,
    CheckContainerInfo,
    CreateChildContainer,
    CreateChildFile,
    DeleteContainer,
    RenameContainer,
    GetContainerShareUrl,
    EnumerateContainerAncestors,
    EnumerateChildren,
    GetContainerEcosystem,
    CheckEcosystem,
    GetRootContainer,
    GetFileWopiSrc,
    CheckFolderInfo,
    EnumerateFolderChildren,
    /// A co-authoring operation (coauth locks, sequence numbers, chunked transfer).
    Coauth(crate::request::CoauthOperation),
    /// Method, path and override that name no operation wopid knows; the text names it.
    Unknown(String),
}

impl Operation {
    /// Picks the operation from the method, the endpoint, `X-WOPI-Override` and whether
    /// `X-WOPI-OldLock` is present (which turns LOCK into UnlockAndRelock).
    pub fn parse(
        method: Method,
        endpoint: &Endpoint,
        overrider: Option<&[u8]>,
        has_old_lock: bool,
    ) -> Self {
        if let Some(c) = crate::request::CoauthOperation::parse(method, endpoint, overrider) {
            return Self::Coauth(c);
        }
        let ov = overrider.map(|o| String::from_utf8_lossy(o).trim().to_ascii_uppercase());
        let ov = ov.as_deref();
        use Endpoint as E;
        use Method::{Get, Post};
        match (method, endpoint, ov) {
            (Get, E::File(_), _) => Self::CheckFileInfo,
            (Get, E::FileContents(_), _) => Self::GetFile,
            (Post, E::FileContents(_), Some("PUT")) => Self::PutFile,
            (Post, E::File(_), Some("LOCK")) if has_old_lock => Self::UnlockAndRelock,
            (Post, E::File(_), Some("LOCK")) => Self::Lock,
            (Post, E::File(_), Some("GET_LOCK")) => Self::GetLock,
            (Post, E::File(_), Some("REFRESH_LOCK")) => Self::RefreshLock,
            (Post, E::File(_), Some("UNLOCK")) => Self::Unlock,
            (Post, E::File(_), Some("PUT_RELATIVE")) => Self::PutRelativeFile,
            (Post, E::File(_), Some("RENAME_FILE")) => Self::RenameFile,
            (Post, E::File(_), Some("DELETE")) => Self::DeleteFile,
            (Post, E::File(_), Some("GET_SHARE_URL")) => Self::GetShareUrl,
            (Post, E::File(_), Some("PUT_USER_INFO")) => Self::PutUserInfo,
            (Post, E::File(_), Some("ADD_ACTIVITIES")) => Self::AddActivities,
            (Get, E::FileAncestry(_), _) => Self::EnumerateAncestors,
            (Get, E::FileEcosystem(_), _) => Self::GetEcosystem,
            (Get, E::Container(_), _) => Self::CheckContainerInfo,
            (Post, E::Container(_), Some("CREATE_CHILD_CONTAINER")) => Self::CreateChildContainer,
            (Post, E::Container(_), Some("CREATE_CHILD_FILE")) => Self::CreateChildFile,
            (Post, E::Container(_), Some("DELETE_CONTAINER")) => Self::DeleteContainer,
            (Post, E::Container(_), Some("RENAME_CONTAINER")) => Self::RenameContainer,
            (Post, E::Container(_), Some("GET_SHARE_URL")) => Self::GetContainerShareUrl,
            (Get, E::ContainerAncestry(_), _) => Self::EnumerateContainerAncestors,
            (Get, E::ContainerChildren(_), _) => Self::EnumerateChildren,
            (Get, E::ContainerEcosystem(_), _) => Self::GetContainerEcosystem,
            (Get, E::Ecosystem, _) => Self::CheckEcosystem,
            (Get, E::EcosystemRootContainer, _) => Self::GetRootContainer,
            (Post, E::Ecosystem, Some("GET_WOPI_SRC_WITH_ACCESS_TOKEN")) => Self::GetFileWopiSrc,
            (Get, E::Folder(_), _) => Self::CheckFolderInfo,
            (Get, E::FolderChildren(_), _) => Self::EnumerateFolderChildren,
            (Post, _, Some(o)) => Self::Unknown(format!(
                "X-WOPI-Override: {}",
                o.chars().take(64).collect::<String>()
            )),
            (Post, _, None) => Self::Unknown("POST without X-WOPI-Override".to_owned()),
            (_, _, _) => Self::Unknown("method not supported on this endpoint".to_owned()),
        }
    }

    /// The operation of a request, for labels: a path that names no endpoint is `Unknown` too.
    /// Never an error; [`crate::Route::parse`] is what refuses.
    pub fn of_request(method: Method, rest: &str, headers: &(impl Headers + ?Sized)) -> Self {
        match Endpoint::parse(rest) {
            Some(ep) => Self::parse(
                method,
                &ep,
                headers.get(wopi_header::OVERRIDE),
                headers.get(wopi_header::OLD_LOCK).is_some(),
            ),
            None => Self::Unknown("no such endpoint".to_owned()),
        }
    }

    /// Whether the operation is decided by the file's lock (counted apart in the metrics).
    pub fn checks_lock(&self) -> bool {
        matches!(
            self,
            Self::Lock
                | Self::UnlockAndRelock
                | Self::RefreshLock
                | Self::Unlock
                | Self::PutFile
                | Self::RenameFile
                | Self::DeleteFile
                | Self::Coauth(
                    crate::request::CoauthOperation::GetCoauthLock
                        | crate::request::CoauthOperation::RefreshCoauthLock
                        | crate::request::CoauthOperation::UnlockCoauthLock
                )
        )
    }

    /// Whether the operation is one of co-authoring (served only when it is configured).
    pub fn is_coauth(&self) -> bool {
        matches!(self, Self::Coauth(_))
    }

    /// Whether the operation addresses the folder hierarchy (the Containers endpoint, the file's
    /// and the ecosystem's ways into it, and the legacy Folders endpoint): what a host that
    /// offers a flat file space does not implement.
    pub fn needs_containers(&self) -> bool {
        matches!(
            self,
            Self::EnumerateAncestors
                | Self::CheckContainerInfo
                | Self::CreateChildContainer
                | Self::CreateChildFile
                | Self::DeleteContainer
                | Self::RenameContainer
                | Self::GetContainerShareUrl
                | Self::EnumerateContainerAncestors
                | Self::EnumerateChildren
                | Self::GetContainerEcosystem
                | Self::GetRootContainer
                | Self::CheckFolderInfo
                | Self::EnumerateFolderChildren
        )
    }

    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CheckFileInfo => "CheckFileInfo",
            Self::GetFile => "GetFile",
            Self::PutFile => "PutFile",
            Self::Lock => "Lock",
            Self::UnlockAndRelock => "UnlockAndRelock",
            Self::GetLock => "GetLock",
            Self::RefreshLock => "RefreshLock",
            Self::Unlock => "Unlock",
            Self::PutRelativeFile => "PutRelativeFile",
            Self::RenameFile => "RenameFile",
            Self::DeleteFile => "DeleteFile",
            Self::GetShareUrl => "GetShareUrl",
            Self::PutUserInfo => "PutUserInfo",
            Self::AddActivities => "AddActivities",
            Self::EnumerateAncestors => "EnumerateAncestors",
            Self::GetEcosystem => "GetEcosystem",
            Self::CheckContainerInfo => "CheckContainerInfo",
            Self::CreateChildContainer => "CreateChildContainer",
            Self::CreateChildFile => "CreateChildFile",
            Self::DeleteContainer => "DeleteContainer",
            Self::RenameContainer => "RenameContainer",
            Self::GetContainerShareUrl => "GetShareUrl(container)",
            Self::EnumerateContainerAncestors => "EnumerateAncestors(container)",
            Self::EnumerateChildren => "EnumerateChildren",
            Self::GetContainerEcosystem => "GetEcosystem(container)",
            Self::CheckEcosystem => "CheckEcosystem",
            Self::GetRootContainer => "GetRootContainer",
            Self::GetFileWopiSrc => "GetFileWopiSrc",
            Self::CheckFolderInfo => "CheckFolderInfo",
            Self::EnumerateFolderChildren => "EnumerateChildren(folder)",
            Self::Coauth(c) => c.name(),
            Self::Unknown(_) => "Unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn routes() {
        let f = || Endpoint::File("abc".into());
        let table: Vec<(Method, Endpoint, Option<&str>, bool, Operation)> = vec![
            (Method::Get, f(), None, false, Operation::CheckFileInfo),
            (
                Method::Get,
                Endpoint::FileContents("abc".into()),
                None,
                false,
                Operation::GetFile,
            ),
            (
                Method::Post,
                Endpoint::FileContents("abc".into()),
                Some("PUT"),
                false,
                Operation::PutFile,
            ),
            (Method::Post, f(), Some("LOCK"), false, Operation::Lock),
            (
                Method::Post,
                f(),
                Some("LOCK"),
                true,
                Operation::UnlockAndRelock,
            ),
            (Method::Post, f(), Some("lock"), false, Operation::Lock),
            (
                Method::Post,
                f(),
                Some("GET_LOCK"),
                false,
                Operation::GetLock,
            ),
            (
                Method::Post,
                f(),
                Some("REFRESH_LOCK"),
                false,
                Operation::RefreshLock,
            ),
            (Method::Post, f(), Some("UNLOCK"), true, Operation::Unlock),
            (
                Method::Post,
                f(),
                Some("PUT_RELATIVE"),
                false,
                Operation::PutRelativeFile,
            ),
            (
                Method::Post,
                f(),
                Some("RENAME_FILE"),
                false,
                Operation::RenameFile,
            ),
            (
                Method::Post,
                f(),
                Some("DELETE"),
                false,
                Operation::DeleteFile,
            ),
            (
                Method::Post,
                f(),
                Some("GET_SHARE_URL"),
                false,
                Operation::GetShareUrl,
            ),
            (
                Method::Post,
                f(),
                Some("PUT_USER_INFO"),
                false,
                Operation::PutUserInfo,
            ),
            (
                Method::Post,
                f(),
                Some("ADD_ACTIVITIES"),
                false,
                Operation::AddActivities,
            ),
            (
                Method::Post,
                f(),
                Some("COBALT"),
                false,
                Operation::Unknown("X-WOPI-Override: COBALT".into()),
            ),
            (
                Method::Post,
                f(),
                Some("PUT"),
                false,
                Operation::Unknown("X-WOPI-Override: PUT".into()),
            ),
        ];
        for (m, ep, ov, old, want) in table {
            assert_eq!(
                Operation::parse(m, &ep, ov.map(str::as_bytes), old),
                want,
                "{m:?} {ep:?} {ov:?}"
            );
        }
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("files/abc"),
            Some(Endpoint::File("abc".into()))
        );
        assert_eq!(
            Endpoint::parse("files/abc/contents"),
            Some(Endpoint::FileContents("abc".into()))
        );
        assert_eq!(Endpoint::parse("files/ids/abc"), None);
        assert_eq!(Endpoint::parse("files/a.b"), None);
        assert_eq!(Endpoint::parse("files/"), None);
        assert_eq!(Endpoint::parse("ecosystem"), Some(Endpoint::Ecosystem));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(path in "\\PC{0,80}", ov in proptest::collection::vec(any::<u8>(), 0..40), old: bool) {
            if let Some(ep) = Endpoint::parse(&path) {
                let _ = Operation::parse(Method::Post, &ep, Some(&ov), old);
                let _ = Operation::parse(Method::Get, &ep, None, old);
            }
        }
    }
}
