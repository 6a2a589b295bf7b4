//! Creating files: free names, 409 with a free alternative, overwriting, and the answer that
//! names a new file. Shared by PutRelativeFile, CreateChildFile and the CLI and web uploads.

use wopid_proto::ProtoError;
use wopid_proto::body::NewFile as NewFileBody;
use wopid_proto::names::free_name_candidates;
use wopid_proto::utf7;
use wopid_store::{Cas, Content, FileRecord, FileUpdate, NewFile, ResourceKind};

use super::Step;
use crate::auth::Grant;
use crate::auth::issue::{Purpose, issue};
use crate::error::ApiError;
use crate::state::AppState;

/// The first name of `name`, `name (2)`, `name (3)`… that no file in the container has.
pub async fn free_name(
    state: &AppState,
    container_id: &str,
    name: &str,
) -> Result<String, ApiError> {
    for candidate in free_name_candidates(name) {
        if state
            .meta
            .file_by_name(container_id, &candidate)
            .await?
            .is_none()
        {
            return Ok(candidate);
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

/// 409 with the first free variant of a taken exact name (the valid relative target header).
pub async fn name_exists(state: &AppState, container_id: &str, name: &str) -> ApiError {
    match free_name(state, container_id, name).await {
        Ok(free) => ProtoError::NameExists {
            valid_target: Some(utf7::encode(&free)),
        }
        .into(),
        Err(e) => e,
    }
}

/// Creates a file under the first free variant of `name`; the blob is already stored.
pub async fn create_with_free_name(
    state: &AppState,
    container_id: &str,
    owner_id: &str,
    name: &str,
    content: Content,
) -> Result<FileRecord, ApiError> {
    for candidate in free_name_candidates(name) {
        let new = NewFile {
            id: wopid_store::new_id(),
            container_id: container_id.to_owned(),
            owner_id: owner_id.to_owned(),
            name: candidate,
            content: content.clone(),
        };
        match state.meta.create_file(new).await? {
            Cas::Applied(f) => return Ok(*f),
            Cas::NameTaken => continue,
            // The folder went away (to the trash) meanwhile.
            Cas::Stale => return Err(ProtoError::NotFound.into()),
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

/// Replaces an unlocked file's content (its history keeps the old one).
pub async fn overwrite(
    state: &AppState,
    existing: FileRecord,
    content: Content,
) -> Result<FileRecord, ApiError> {
    let done = super::update_from(state, existing, |f, now| {
        super::coauth::check_unlocked(f, now)?;
        let mut c = content.clone();
        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(FileUpdate::Content(c), ()))
    })
    .await?;
    done.map(|(f, ())| f).ok_or(ApiError::Busy)
}

/// Name and URLs of a new file: its WopiSrc with a traded token (the caller's expiry) and its
/// host pages.
pub async fn new_file_body(
    state: &AppState,
    grant: &Grant,
    id: &str,
    name: &str,
) -> Result<NewFileBody, ApiError> {
    let traded = Purpose::Traded {
        from: grant,
        kind: ResourceKind::File,
        id,
        perms: grant.perms,
    };
    let token = issue(state, &grant.user_id, traded).await?.token;
    Ok(NewFileBody {
        name: name.to_owned(),
        url: format!("{}?access_token={}", state.wopi_src(id), token.expose()),
        host_view_url: Some(state.host_page(id, "view")),
        host_edit_url: Some(state.host_page(id, "edit")),
    })
}
