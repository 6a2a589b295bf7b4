//! CheckFileInfo.

use base64::Engine as _;
use wopid_proto::body::CheckFileInfo;
use wopid_proto::names::split_ext;

use crate::auth::Grant;
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::state::AppState;

/// The share URL types GetShareUrl answers.
pub const SHARE_URL_TYPES: [&str; 2] = ["ReadOnly", "ReadWrite"];

/// Lower-case hex to the Base64 that `SHA256` wants.
pub fn sha256_base64(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes.map(|b| base64::engine::general_purpose::STANDARD.encode(b))
}

pub async fn check_file_info(
    state: &AppState,
    grant: &Grant,
    file_id: &str,
) -> Result<CheckFileInfo, ApiError> {
    let file = super::load(state, file_id).await?;
    let user = state.meta.user(&grant.user_id).await?;
    let (display_name, user_info) = user
        .map(|u| (Some(u.display_name), u.user_info))
        .unwrap_or_default();
    let ext = split_ext(&file.name).1;
    let write = grant.perms.can_write();
    let download = format!(
        "{}/download/{}?{}",
        state.base,
        file.id,
        crate::auth::signed::sign(&state.url_key, &file.id, &grant.user_id, grant.expires_ms)
    );

    Ok(CheckFileInfo {
        base_file_name: file.name.clone(),
        owner_id: file.owner_id.clone(),
        size: file.size,
        user_id: grant.user_id.clone(),
        version: file.version.to_string(),
        file_extension: (!ext.is_empty()).then(|| ext.to_owned()),
        file_name_max_length: Some(
            u32::try_from(wopid_proto::names::MAX_NAME_CHARS - ext.chars().count()).unwrap_or(0),
        ),
        last_modified_time: Some(iso8601(file.modified_ms)),
        sha256: sha256_base64(&file.sha256),
        user_friendly_name: display_name,
        user_info,
        is_anonymous_user: false,
        read_only: !write,
        user_can_write: write,
        user_can_rename: write,
        user_can_not_write_relative: !grant.perms.can_write_relative(),
        supports_update: true,
        supports_locks: true,
        supports_get_lock: true,
        supports_extended_lock_length: true,
        supports_rename: true,
        supports_delete_file: true,
        supports_user_info: true,
        supports_add_activities: true,
        supports_containers: true,
        supports_ecosystem: true,
        supports_get_file_wopi_src: true,
        supports_folders: true,
        supported_share_url_types: SHARE_URL_TYPES.iter().map(|s| (*s).to_owned()).collect(),
        breadcrumb_brand_name: Some("wopid".to_owned()),
        file_url: Some(download.clone()),
        download_url: Some(download),
        ..Default::default()
    })
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
