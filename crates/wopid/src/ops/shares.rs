//! Shares of files and folders with users: the management API's and the CLI's.

use wopid_proto::ProtoError;
use wopid_store::Share;

use crate::error::ApiError;
use crate::state::AppState;

/// What a share is on: the sharing pages' resource.
pub use super::sharing::Resource;

/// The file or container with this id, or 404.
pub async fn resource(state: &AppState, id: &str) -> Result<Resource, ApiError> {
    if let Some(f) = state.meta.file(id).await? {
        return Ok(Resource::File(f));
    }
    match state.meta.container(id).await? {
        Some(c) => Ok(Resource::Folder(c)),
        None => Err(ProtoError::NotFound.into()),
    }
}

/// Shares a file or folder with a user, or changes the share's permission. A resource is not
/// shared with its owner (422).
pub async fn put(
    state: &AppState,
    resource_id: &str,
    user_id: &str,
    can_write: bool,
) -> Result<Share, ApiError> {
    let r = resource(state, resource_id).await?;
    super::users::get(state, user_id).await?;
    if r.owner_id() == user_id {
        return Err(ApiError::Invalid("the user owns this resource"));
    }
    // The application acts for the resource's owner.
    super::files::share(state, Some(r.owner_id()), r.shared(), user_id, can_write).await?;
    Ok(Share {
        resource_id: resource_id.to_owned(),
        user_id: user_id.to_owned(),
        can_write,
    })
}

/// The shares of a file or folder.
pub async fn on(state: &AppState, resource_id: &str) -> Result<Vec<Share>, ApiError> {
    resource(state, resource_id).await?;
    Ok(state.meta.shares_on(resource_id).await?)
}

/// What is shared with a user.
pub async fn of(state: &AppState, user_id: &str) -> Result<Vec<Share>, ApiError> {
    super::users::get(state, user_id).await?;
    Ok(state.meta.shares_of(user_id).await?)
}

/// One share, or 404.
pub async fn get(state: &AppState, resource_id: &str, user_id: &str) -> Result<Share, ApiError> {
    let found = state
        .meta
        .shares(user_id, &[resource_id.to_owned()])
        .await?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| ProtoError::NotFound.into())
}

/// Removes a share (404 when there is none). The user's tokens for the resource keep working
/// only as far as the user's access still allows: every request checks access as it is now.
pub async fn remove(state: &AppState, resource_id: &str, user_id: &str) -> Result<(), ApiError> {
    let r = resource(state, resource_id).await?;
    if super::files::unshare(state, Some(r.owner_id()), r.shared(), user_id).await? {
        Ok(())
    } else {
        Err(ProtoError::NotFound.into())
    }
}
