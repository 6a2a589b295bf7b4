//! The arguments of the Containers, Ecosystem and Bootstrapper operations.

use super::{Deferred, Headers};
use crate::body::ShareUrlType;
use crate::containers::{
    ChildName, child_container_target, child_file_target, extension_filter, host_native_file_name,
    requested_container_name,
};
use crate::error::ProtoError;
use crate::names::RelativeTarget;
use crate::op::Operation;
use crate::wopi_header as h;

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
    pub(super) fn parse(
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
    pub(super) fn parse(
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
