//! File administration used by the CLI: add, list, versions, restore, read.

use wopid_proto::ProtoError;
use wopid_store::{BlobStream, Content, FileRecord, FileUpdate, User, VersionRecord};

use super::Step;
use super::relative::create_with_free_name;
use crate::error::ApiError;
use crate::state::AppState;

/// The user with this sign-in name, created on first use with the name as display name.
pub async fn ensure_user(state: &AppState, login: &str) -> Result<User, ApiError> {
    if let Some(why) = wopid_proto::names::invalid_user_name_reason(login) {
        return Err(ProtoError::BadRequest(why).into());
    }
    Ok(state.meta.ensure_user(login, login, state.now_ms()).await?)
}

/// Stores a new file in the user's root container (or `container_id`), named `name` or, when
/// taken, its first free numbered variant.
pub async fn add_file(
    state: &AppState,
    login: &str,
    name: &str,
    container_id: Option<&str>,
    body: BlobStream,
) -> Result<FileRecord, ApiError> {
    if let Some(why) = wopid_proto::names::invalid_reason(name) {
        return Err(ProtoError::InvalidFileName(why).into());
    }
    let user = ensure_user(state, login).await?;
    let container = match container_id {
        Some(id) => {
            state
                .meta
                .container(id)
                .await?
                .ok_or(ProtoError::NotFound)?
                .id
        }
        None => {
            state
                .meta
                .root_container(&user.id, state.now_ms())
                .await?
                .id
        }
    };
    let (key, out) = super::content::store_body(state, body, None).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: user.id.clone(),
        modified_ms: state.now_ms(),
    };
    match create_with_free_name(state, &container, &user.id, name, content).await {
        Ok(f) => Ok(f),
        Err(e) => {
            super::content::discard_blob(state, &key).await;
            Err(e)
        }
    }
}

pub async fn versions(state: &AppState, file_id: &str) -> Result<Vec<VersionRecord>, ApiError> {
    super::load(state, file_id).await?;
    Ok(state.meta.versions(file_id).await?)
}

/// Makes an earlier version's content current again, as a new version (versions never repeat).
pub async fn restore(
    state: &AppState,
    file_id: &str,
    version: i64,
) -> Result<FileRecord, ApiError> {
    let versions = versions(state, file_id).await?;
    let v = versions
        .into_iter()
        .find(|v| v.version == version)
        .ok_or(ProtoError::NotFound)?;
    let content = Content {
        blob_key: v.blob_key,
        size: v.size,
        sha256: v.sha256,
        author_id: v.author_id,
        modified_ms: 0,
    };
    // An editor holding the lock would overwrite the restored content on its next save.
    let done = super::update(state, file_id, |f, now| {
        wopid_proto::lock::check_unlocked(super::content::stored_lock(f).as_ref(), now)?;
        let mut c = content.clone();

        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(FileUpdate::Content(c), ()))
    })
    .await?;
    done.map(|(f, ())| f).ok_or(ApiError::Busy)
}
