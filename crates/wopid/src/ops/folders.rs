//! Moving folders (the management API's; the web UI moves files only).

use wopid_proto::ProtoError;
use wopid_store::{Container, ContainerMove};

use crate::auth::{Access, access};
use crate::error::ApiError;
use crate::state::AppState;

/// Moves the folder `c` into the folder `to` for `user_id`, who must be able to write in both
/// the folder's parent and the target. Refused: a root folder, a target inside the folder (409),
/// a name taken in the target (409).
pub async fn move_to(
    state: &AppState,
    user_id: &str,
    c: &Container,
    to: &str,
) -> Result<Container, ApiError> {
    let Some(parent) = c.parent_id.as_deref() else {
        return Err(ProtoError::Conflict("a root folder stays where it is").into());
    };
    if parent == to {
        return Ok(c.clone());
    }
    if access::container_access(state, user_id, parent).await? != Access::Write
        || access::container_access(state, user_id, to).await? != Access::Write
    {
        return Err(ApiError::Refused("the folder's owner may not write there"));
    }
    match state.meta.move_container(&c.id, to).await? {
        ContainerMove::Moved => Ok(Container {
            parent_id: Some(to.to_owned()),
            ..c.clone()
        }),
        ContainerMove::Missing => Err(ProtoError::NotFound.into()),
        ContainerMove::Root => Err(ProtoError::Conflict("a root folder stays where it is").into()),
        ContainerMove::Cycle => {
            Err(ProtoError::Conflict("a folder cannot move into itself").into())
        }
        ContainerMove::NameTaken => {
            Err(ProtoError::Conflict("a folder of this name is in the target").into())
        }
    }
}
