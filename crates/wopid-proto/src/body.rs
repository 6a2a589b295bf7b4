//! JSON bodies of WOPI responses. Properties that are absent are omitted, never `null`; booleans
//! that are false are omitted too, since false is every boolean's default.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// The response of CheckFileInfo. It borrows what it can from the records it is made of (names,
/// ids, the configuration, an application's pages): it is built for one answer and serialised at
/// once, on every editor's CheckFileInfo.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CheckFileInfo<'a> {
    // Required.
    pub base_file_name: &'a str,
    pub owner_id: &'a str,
    pub size: u64,
    pub user_id: &'a str,
    pub version: String,

    // File properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_extension: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name_max_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_time: Option<String>,
    #[serde(rename = "SHA256", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,

    // User metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_friendly_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    pub is_anonymous_user: bool,
    /// Always sent: native clients compare it with the parent container's.
    pub is_edu_user: bool,
    /// Always sent: native clients compare it with the parent container's.
    pub license_check_for_edit_is_enabled: bool,

    // Permissions.
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_write: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_rename: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub user_can_not_write_relative: bool,

    // Host capabilities.
    #[serde(skip_serializing_if = "is_false")]
    pub supports_update: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_locks: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_get_lock: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_extended_lock_length: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_rename: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_delete_file: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_user_info: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_add_activities: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_containers: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_ecosystem: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_get_file_wopi_src: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub supports_folders: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub supported_share_url_types: &'a [&'a str],

    // Host URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_view_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_edit_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_version_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sharing_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_message_origin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breadcrumb_brand_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breadcrumb_brand_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breadcrumb_folder_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breadcrumb_folder_url: Option<String>,

    // Collabora Online's extensions (other clients ignore them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_extra_info: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "is_false")]
    pub is_admin_user: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub enable_owner_termination: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark_text: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_print: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_export: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_copy: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub hide_print_option: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub hide_save_option: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub hide_export_option: bool,
}

/// The response of PutRelativeFile (and CreateChildFile).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NewFile {
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_view_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_edit_url: Option<String>,
}

/// The response of RenameFile: the new name without extension.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Renamed {
    pub name: String,
}

/// The response of GetShareUrl.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ShareUrl {
    pub share_url: String,
}

/// One ancestor in EnumerateAncestors.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Pointer {
    pub name: String,
    pub url: String,
}

/// The response of EnumerateAncestors: root first, parent last.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Ancestors {
    pub ancestors_with_root_first: Vec<Pointer>,
}

/// The share URL types wopid offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareUrlType {
    ReadOnly,
    ReadWrite,
}

impl ShareUrlType {
    /// Reads `X-WOPI-UrlType`; unknown or missing types are `None` (the caller answers 501).
    pub fn parse(raw: Option<&[u8]>) -> Option<Self> {
        match raw? {
            b"ReadOnly" => Some(Self::ReadOnly),
            b"ReadWrite" => Some(Self::ReadWrite),
            _ => None,
        }
    }

    /// Reads `X-WOPI-UrlType` of GetShareUrl: a missing or unknown type is 501.
    pub fn require(raw: Option<&[u8]>) -> Result<Self, crate::ProtoError> {
        Self::parse(raw).ok_or_else(|| {
            crate::ProtoError::NotImplemented(
                "X-WOPI-UrlType is missing or not ReadOnly/ReadWrite".into(),
            )
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "ReadOnly",
            Self::ReadWrite => "ReadWrite",
        }
    }
}

/// One activity of an AddActivities request. Unknown properties are kept out of the way, not refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Activity {
    #[serde(rename = "Type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    #[serde(default)]
    pub people: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddActivitiesRequest {
    pub activities: Vec<Activity>,
}

/// Per-activity result codes of AddActivities.
pub const ACTIVITY_OK: u8 = 0;
pub const ACTIVITY_UNSUPPORTED: u8 = 3;

/// The activity types wopid records.
pub const KNOWN_ACTIVITY_TYPES: &[&str] = &["comment"];

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ActivityResponse {
    pub id: String,
    pub status: u8,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AddActivitiesResponse {
    pub activity_responses: Vec<ActivityResponse>,
}

impl AddActivitiesRequest {
    /// Parses the body; `None` when it is not the documented JSON shape.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_file_info_omits_defaults() {
        let info = CheckFileInfo {
            base_file_name: "a.docx",
            owner_id: "o",
            size: 3,
            user_id: "u",
            version: "1".into(),
            sha256: Some("x".into()),
            supports_locks: true,
            ..Default::default()
        };
        let v = serde_json::to_value(&info).ok();
        let want = serde_json::json!({"BaseFileName":"a.docx","OwnerId":"o","Size":3,"UserId":"u","Version":"1","SHA256":"x",
            "SupportsLocks":true,"IsEduUser":false,"LicenseCheckForEditIsEnabled":false});
        assert_eq!(v, Some(want));
    }

    #[test]
    fn activities_parse() {
        let body = br#"{"Activities":[{"Type":"comment","Id":"1","Data":{"X":1},"Bonus":true}]}"#;
        let req = AddActivitiesRequest::parse(body);
        assert_eq!(req.map(|r| r.activities.len()), Some(1));
        assert!(AddActivitiesRequest::parse(b"nope").is_none());
        assert!(AddActivitiesRequest::parse(br#"{"Activities":[{"Type":"comment"}]}"#).is_none());
    }

    #[test]
    fn share_types() {
        assert_eq!(
            ShareUrlType::parse(Some(b"ReadOnly")),
            Some(ShareUrlType::ReadOnly)
        );
        assert_eq!(ShareUrlType::parse(Some(b"Other")), None);
        assert_eq!(ShareUrlType::parse(None), None);
    }
}
