//! CheckFileInfo.

use std::borrow::Cow;

use base64::Engine as _;
use wopid_proto::body::CheckFileInfo;
use wopid_proto::names::split_ext;

use wopid_store::{Container, FileRecord, User};

use crate::auth::Grant;
use crate::state::AppState;

/// The share URL types GetShareUrl answers.
pub const SHARE_URL_TYPES: [&str; 2] = ["ReadOnly", "ReadWrite"];

/// Lower-case hex to the Base64 that `SHA256` wants.
pub fn sha256_base64(digest: &str) -> Option<String> {
    let bytes = hex::decode(digest).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The pages of an application that opened a file through the management API: the origin of
/// the page that embeds the editor (`PostMessageOrigin`) and its own URLs, which CheckFileInfo
/// gives instead of wopid's. Kept with the token (as JSON) it was handed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenHost {
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions_url: Option<String>,
}

impl TokenHost {
    /// The stored form; one that cannot be read is ignored (wopid's own pages are given).
    pub fn parse(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// CheckFileInfo of `file` for the token's `user`, with the file's container `folder`, all read
/// with the token; `host`: the pages of the application that opened the file, if one did.
pub fn check_file_info<'a>(
    state: &'a AppState,
    grant: &'a Grant,
    file: &'a FileRecord,
    user: Option<&'a User>,
    folder: Option<&'a Container>,
    host: Option<&'a TokenHost>,
) -> CheckFileInfo<'a> {
    let is_admin = user.is_some_and(|u| state.config.admins.contains(&u.login));
    // A token redeemed from a share link is told nothing about the folders around the file.
    let folder = folder.filter(|_| grant.link.is_none());
    let ext = split_ext(&file.name).1;
    let write = grant.perms.can_write();
    let info = CheckFileInfo {
        base_file_name: &file.name,
        owner_id: &file.owner_id,
        size: file.size,
        user_id: &grant.user_id,
        version: file.version.to_string(),
        file_extension: (!ext.is_empty()).then_some(ext),
        file_name_max_length: Some(
            u32::try_from(wopid_proto::names::MAX_NAME_CHARS - ext.chars().count()).unwrap_or(0),
        ),
        last_modified_time: Some(wopid_proto::Millis::from_ms(file.modified_ms).to_iso8601()),
        sha256: sha256_base64(&file.sha256),
        user_friendly_name: user.map(|u| u.display_name.as_str()),
        user_info: user.and_then(|u| u.user_info.as_deref()),
        is_anonymous_user: false,
        read_only: !write,
        user_can_write: write,
        user_can_rename: write,
        user_can_not_write_relative: !grant.perms.can_write_relative(),
        is_admin_user: is_admin,
        enable_owner_termination: file.owner_id == grant.user_id,
        ..host_capabilities(state)
    };
    let info = with_urls(state, grant, file, folder, info);
    match host {
        Some(h) => with_host(h, info),
        None => info,
    }
}

/// The application's origin and pages in place of wopid's; a page it did not give is not
/// offered (wopid's own would not be where the user is).
fn with_host<'a>(h: &'a TokenHost, info: CheckFileInfo<'a>) -> CheckFileInfo<'a> {
    let page = |url: &'a Option<String>| url.as_deref().map(Cow::Borrowed);
    CheckFileInfo {
        post_message_origin: Some(&h.origin),
        close_url: page(&h.close_url),
        host_view_url: page(&h.view_url),
        host_edit_url: page(&h.edit_url),
        file_sharing_url: page(&h.sharing_url),
        file_version_url: page(&h.versions_url),
        ..info
    }
}

/// What wopid supports, the same for every file, and the configured UI restrictions.
fn host_capabilities(state: &AppState) -> CheckFileInfo<'_> {
    let ui = &state.config.ui;
    CheckFileInfo {
        supports_update: true,
        supports_locks: true,
        supports_get_lock: true,
        supports_extended_lock_length: true,
        supports_rename: true,
        supports_delete_file: true,
        supports_user_info: true,
        supports_add_activities: true,
        supports_containers: state.config.containers,
        supports_ecosystem: true,
        supports_get_file_wopi_src: true,
        supports_folders: state.config.containers,
        license_check_for_edit_is_enabled: state.config.license_check_for_edit,
        supported_share_url_types: &SHARE_URL_TYPES,
        breadcrumb_brand_name: Some("wopid"),
        breadcrumb_brand_url: Some([state.base.as_str(), "/"].concat()),
        watermark_text: state.config.watermark_text.as_deref(),
        disable_print: ui.disable_print,
        disable_export: ui.disable_export,
        disable_copy: ui.disable_copy,
        hide_print_option: ui.hide_print_option,
        hide_save_option: ui.hide_save_option,
        hide_export_option: ui.hide_export_option,
        ..Default::default()
    }
}

/// The file's URLs: its signed download URL (for this user and token), its host pages and its
/// folder (when the caller may know it). Each is one `concat` (its length summed first, one
/// allocation), not a `format!`: CheckFileInfo makes about ten of them.
fn with_urls<'a>(
    state: &'a AppState,
    grant: &Grant,
    file: &FileRecord,
    folder: Option<&'a Container>,
    info: CheckFileInfo<'a>,
) -> CheckFileInfo<'a> {
    let signature = crate::auth::signed::sign(
        &state.url_key,
        &file.id,
        &grant.user_id,
        grant.expires_ms,
        &grant.token_ref,
    );
    let download = [state.base.as_str(), "/download/", &file.id, "?", &signature].concat();
    let avatar = crate::auth::signed::avatar_url(state, &grant.user_id);
    let folder_url = folder.map(|c| [state.base.as_str(), "/browse/", &c.id].concat());
    let page = |action| Some(Cow::Owned(state.host_page(&file.id, action)));
    CheckFileInfo {
        breadcrumb_folder_name: folder.map(|c| c.name.as_str()),
        // The folder, or (for a share's recipient) the home page that lists what is shared.
        close_url: Some(Cow::Owned(match &folder_url {
            Some(url) => url.clone(),
            None => [state.base.as_str(), "/"].concat(),
        })),
        breadcrumb_folder_url: folder_url,
        file_url: Some(download.clone()),
        download_url: Some(download),
        host_view_url: page("view"),
        host_edit_url: page("edit"),
        file_version_url: page("versions"),
        file_sharing_url: page("sharing"),
        post_message_origin: Some(state.origin()),
        user_extra_info: Some(serde_json::json!({ "avatar": avatar })),
        ..info
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha_base64() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            super::sha256_base64(hex).as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
    }
}
