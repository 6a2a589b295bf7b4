//! Bodies and rules of the Containers, Ecosystem, Bootstrapper and legacy Folders endpoints.

use serde::Serialize;

use crate::error::ProtoError;
use crate::names::{RelativeTarget, invalid_reason, parse_bool, sanitize};
use crate::utf7;

fn is_false(b: &bool) -> bool {
    !*b
}

/// The response of CheckContainerInfo. `IsEduUser` and `LicenseCheckForEditIsEnabled` are always
/// sent, since native clients compare them between a file and its container.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CheckContainerInfo {
    pub name: String,
    pub is_edu_user: bool,
    pub license_check_for_edit_is_enabled: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_anonymous_user: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_create_child_container: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_create_child_file: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_delete: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_rename: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_share_url_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_url: Option<String>,
}

/// A container's name and URL (with an access token).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerPointer {
    pub name: String,
    pub url: String,
}

/// CreateChildContainer and GetRootContainer answer a pointer and, to save a round trip, the
/// container's CheckContainerInfo.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerWithInfo {
    pub container_pointer: ContainerPointer,
    pub container_info: CheckContainerInfo,
}

/// A file in EnumerateChildren; Name, Size and Version equal its CheckFileInfo values.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ChildFile {
    pub name: String,
    pub url: String,
    pub size: u64,
    pub version: String,
    pub last_modified_time: String,
}

/// The response of EnumerateChildren: both arrays always present.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Children {
    pub child_containers: Vec<ContainerPointer>,
    pub child_files: Vec<ChildFile>,
}

/// The response of EnumerateAncestors of a container.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Ancestors {
    pub ancestors_with_root_first: Vec<ContainerPointer>,
}

/// The response of CheckEcosystem.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CheckEcosystem {
    pub supports_containers: bool,
}

/// A URL with an access token: GetEcosystem, GetFileWopiSrc.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct UrlBody {
    pub url: String,
}

/// The `Bootstrap` object of every bootstrapper response.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Bootstrap {
    pub ecosystem_url: String,
    pub user_id: String,
    pub sign_in_name: String,
    pub user_friendly_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AccessTokenInfo {
    pub access_token: String,
    pub access_token_expiry: i64,
}

/// A bootstrapper response: Bootstrap plus the shortcut's own object.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct BootstrapResponse {
    pub bootstrap: Bootstrap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_info: Option<AccessTokenInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_container_info: Option<ContainerWithInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wopi_src_info: Option<UrlBody>,
}

/// The legacy CheckFolderInfo response.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CheckFolderInfo {
    pub folder_name: String,
    pub owner_id: String,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_write: bool,
}

/// One child of the legacy folder EnumerateChildren.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct FolderChild {
    pub name: String,
    pub url: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct FolderChildren {
    pub children: Vec<FolderChild>,
}

/// The name of a new child (container or file) from `X-WOPI-SuggestedTarget` or
/// `X-WOPI-RelativeTarget`: `(name, exact)`. Both headers is 501 as the spec says; neither is 400.
/// An extension-only suggestion gets `default_stem`.
pub fn child_target(
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
    default_stem: &str,
    container: bool,
) -> Result<(String, bool), ProtoError> {
    let invalid = |why| {
        if container {
            ProtoError::InvalidContainerName(why)
        } else {
            ProtoError::InvalidFileName(why)
        }
    };
    match (suggested, relative) {
        (Some(_), Some(_)) => Err(ProtoError::NotImplemented(
            "both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget".into(),
        )),
        (None, None) => Err(ProtoError::BadRequest(
            "neither X-WOPI-SuggestedTarget nor X-WOPI-RelativeTarget",
        )),
        (Some(s), None) => {
            let s = utf7::decode(s)
                .map_err(|_| invalid("X-WOPI-SuggestedTarget is not valid UTF-7"))?;
            let name = if s.starts_with('.') && !container {
                format!("{default_stem}{s}")
            } else {
                s
            };
            Ok((sanitize(&name), false))
        }
        (None, Some(r)) => {
            let name =
                utf7::decode(r).map_err(|_| invalid("X-WOPI-RelativeTarget is not valid UTF-7"))?;
            match invalid_reason(&name) {
                Some(why) => Err(invalid(why)),
                None => Ok((name, true)),
            }
        }
    }
}

/// The name CreateChildContainer asked for: exact (`X-WOPI-RelativeTarget`) or adjustable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildName {
    pub name: String,
    /// A taken exact name is refused; an adjustable one becomes its first free variant.
    pub exact: bool,
}

/// The target headers of CreateChildContainer (an extension-only suggestion stays as it is).
pub fn child_container_target(
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
) -> Result<ChildName, ProtoError> {
    child_target(suggested, relative, "Folder", true).map(|(name, exact)| ChildName { name, exact })
}

/// The target headers of CreateChildFile: an extension-only suggestion becomes `Untitled.ext`;
/// `X-WOPI-OverwriteRelativeTarget` counts for an exact name only (and must then be a boolean).
pub fn child_file_target(
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
    overwrite: Option<&[u8]>,
) -> Result<RelativeTarget, ProtoError> {
    let (name, exact) = child_target(suggested, relative, "Untitled", false)?;
    if !exact {
        return Ok(RelativeTarget::Suggested(name));
    }
    let overwrite = match overwrite {
        Some(v) => parse_bool(v).ok_or(ProtoError::BadRequest(
            "X-WOPI-OverwriteRelativeTarget is not a boolean",
        ))?,
        None => false,
    };
    Ok(RelativeTarget::Exact { name, overwrite })
}

/// `X-WOPI-RequestedName` of RenameContainer: present, UTF-7, and a valid name.
pub fn requested_container_name(requested: Option<&[u8]>) -> Result<String, ProtoError> {
    let raw = requested.ok_or(ProtoError::InvalidContainerName(
        "X-WOPI-RequestedName is missing",
    ))?;
    let name = utf7::decode(raw)
        .map_err(|_| ProtoError::InvalidContainerName("X-WOPI-RequestedName is not valid UTF-7"))?;
    match invalid_reason(&name) {
        Some(why) => Err(ProtoError::InvalidContainerName(why)),
        None => Ok(name),
    }
}

/// `X-WOPI-HostNativeFileName` of GetFileWopiSrc: present and UTF-8, else 400.
pub fn host_native_file_name(raw: Option<&[u8]>) -> Result<String, ProtoError> {
    let raw = raw.ok_or(ProtoError::BadRequest(
        "X-WOPI-HostNativeFileName is missing",
    ))?;
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| ProtoError::BadRequest("X-WOPI-HostNativeFileName is not UTF-8"))
}

/// `X-WOPI-FileExtensionFilterList`: `.doc,.docx` → lower-case extensions with their dot.
pub fn extension_filter(raw: Option<&[u8]>) -> Option<Vec<String>> {
    let s = std::str::from_utf8(raw?).ok()?;
    let list: Vec<String> = s
        .split(',')
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Whether a file name passes an extension filter (case-insensitive).
pub fn passes_filter(name: &str, filter: Option<&[String]>) -> bool {
    let Some(filter) = filter else { return true };
    let ext = crate::names::split_ext(name).1.to_lowercase();
    filter
        .iter()
        .any(|f| *f == ext || (!f.starts_with('.') && format!(".{f}") == ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn targets() {
        assert_eq!(
            child_target(Some(b"New"), None, "x", true),
            Ok(("New".into(), false))
        );
        assert_eq!(
            child_target(None, Some(b"New"), "x", true),
            Ok(("New".into(), true))
        );
        assert_eq!(
            child_target(Some(b".docx"), None, "Untitled", false),
            Ok(("Untitled.docx".into(), false))
        );
        assert!(matches!(
            child_target(Some(b"a"), Some(b"b"), "x", true),
            Err(ProtoError::NotImplemented(_))
        ));
        assert!(matches!(
            child_target(None, None, "x", true),
            Err(ProtoError::BadRequest(_))
        ));
        assert!(matches!(
            child_target(None, Some(b"a/b"), "x", true),
            Err(ProtoError::InvalidContainerName(_))
        ));
        assert!(matches!(
            child_target(None, Some(b"a/b"), "x", false),
            Err(ProtoError::InvalidFileName(_))
        ));
    }

    #[test]
    fn typed_child_targets() {
        assert_eq!(
            child_container_target(Some(b".docx"), None),
            Ok(ChildName {
                name: "docx".into(),
                exact: false
            })
        );
        assert_eq!(
            child_container_target(None, Some(b"Reports")),
            Ok(ChildName {
                name: "Reports".into(),
                exact: true
            })
        );
        assert_eq!(
            child_file_target(Some(b".docx"), None, Some(b"nonsense")),
            Ok(RelativeTarget::Suggested("Untitled.docx".into()))
        );
        assert_eq!(
            child_file_target(None, Some(b"a.docx"), Some(b"TRUE")),
            Ok(RelativeTarget::Exact {
                name: "a.docx".into(),
                overwrite: true
            })
        );
        assert_eq!(
            child_file_target(None, Some(b"a.docx"), None),
            Ok(RelativeTarget::Exact {
                name: "a.docx".into(),
                overwrite: false
            })
        );
        assert_eq!(
            child_file_target(None, Some(b"a.docx"), Some(b"yes")),
            Err(ProtoError::BadRequest(
                "X-WOPI-OverwriteRelativeTarget is not a boolean"
            ))
        );
        // The name is judged before the flag.
        assert_eq!(
            child_file_target(None, Some(b"a/b"), Some(b"yes")),
            Err(ProtoError::InvalidFileName(
                "name contains one of \\ / : * ? \" < > | # { } ^ [ ] ` %"
            ))
        );
        assert_eq!(
            child_file_target(Some(b"a"), Some(b"b"), None),
            Err(ProtoError::NotImplemented(
                "both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget".into()
            ))
        );
        assert_eq!(
            requested_container_name(Some(b"New+AF8-name")),
            Ok("New_name".into())
        );
        assert_eq!(
            requested_container_name(None),
            Err(ProtoError::InvalidContainerName(
                "X-WOPI-RequestedName is missing"
            ))
        );
        assert_eq!(
            requested_container_name(Some(b"+AGEA-")),
            Err(ProtoError::InvalidContainerName(
                "X-WOPI-RequestedName is not valid UTF-7"
            ))
        );
        assert_eq!(
            requested_container_name(Some(b"")),
            Err(ProtoError::InvalidContainerName("name is empty"))
        );
        assert_eq!(
            host_native_file_name(Some(b"a b.docx")),
            Ok("a b.docx".into())
        );
        assert_eq!(
            host_native_file_name(None),
            Err(ProtoError::BadRequest(
                "X-WOPI-HostNativeFileName is missing"
            ))
        );
        assert_eq!(
            host_native_file_name(Some(b"\xff")),
            Err(ProtoError::BadRequest(
                "X-WOPI-HostNativeFileName is not UTF-8"
            ))
        );
    }

    #[test]
    fn filters() {
        let f = extension_filter(Some(b".DOC,.docx"));
        assert_eq!(
            f.as_deref(),
            Some(&[".doc".to_owned(), ".docx".to_owned()][..])
        );
        assert!(passes_filter("A.Docx", f.as_deref()));
        assert!(!passes_filter("a.xlsx", f.as_deref()));
        assert!(passes_filter("a.xlsx", None));
        assert_eq!(extension_filter(Some(b"")), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(a in proptest::collection::vec(any::<u8>(), 0..64), b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = child_target(Some(&a), None, "x", false);
            let _ = child_target(None, Some(&b), "x", true);
            let f = extension_filter(Some(&a));
            let _ = passes_filter("x.docx", f.as_deref());
        }
    }
}
