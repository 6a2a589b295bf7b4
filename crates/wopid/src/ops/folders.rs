//! Moving folders for the management API, through the rules the web UI's folder move uses.

use wopid_proto::ProtoError;
use wopid_store::Container;

use super::containers::{FolderMove, move_folder};
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
    if c.parent_id.is_none() {
        return Err(ProtoError::Conflict("a root folder stays where it is").into());
    }
    match move_folder(state, user_id, c, to).await? {
        FolderMove::Done => Ok(Container {
            parent_id: Some(to.to_owned()),
            ..c.clone()
        }),
        FolderMove::SourceRefused => Err(ApiError::Refused(
            "the folder's owner may not change the folder it is in",
        )),
        FolderMove::NoTarget => Err(ProtoError::NotFound.into()),
        FolderMove::IntoItself => {
            Err(ProtoError::Conflict("a folder cannot move into itself").into())
        }
        FolderMove::NameTaken => {
            Err(ProtoError::Conflict("a folder of this name is in the target").into())
        }
    }
}
