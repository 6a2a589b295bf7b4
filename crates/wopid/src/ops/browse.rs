//! What the web UI shows: folders, their contents, the "Move to" tree, what is shared with a
//! user, a file's history. Reads only, except that a user's root container is made on first use.

use wopid_store::{Container, FileRecord, Share, User, VersionRecord};

use crate::error::ApiError;
use crate::state::AppState;

/// How many containers the "Move to" list shows at most.
const TREE_LIMIT: usize = 500;

/// The user's root container, made on first use.
pub async fn root(state: &AppState, user_id: &str) -> Result<Container, ApiError> {
    Ok(state.meta.root_container(user_id, state.now_ms()).await?)
}

/// The file, if it exists.
pub async fn file(state: &AppState, id: &str) -> Result<Option<FileRecord>, ApiError> {
    Ok(state.meta.file(id).await?)
}

/// A user, if it exists.
pub async fn user(state: &AppState, id: &str) -> Result<Option<User>, ApiError> {
    Ok(state.meta.user(id).await?)
}

/// The file named `name` directly in a container, if there is one.
pub async fn file_named(
    state: &AppState,
    container_id: &str,
    name: &str,
) -> Result<Option<FileRecord>, ApiError> {
    Ok(state.meta.file_by_name(container_id, name).await?)
}

/// The folders and files directly in a container.
pub async fn listing(
    state: &AppState,
    id: &str,
) -> Result<(Vec<Container>, Vec<FileRecord>), ApiError> {
    let folders = state.meta.child_containers(id).await?;
    let files = state.meta.list_files(Some(id)).await?;
    Ok((folders, files))
}

/// The containers of a tree, depth first, with their paths, for the "Move to" list.
pub async fn tree(state: &AppState, root: &Container) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.clone(), root.name.clone())];
    while let Some((c, path)) = stack.pop() {
        if out.len() >= TREE_LIMIT {
            break;
        }
        for child in state.meta.child_containers(&c.id).await?.into_iter().rev() {
            let p = format!("{path}/{}", child.name);
            stack.push((child, p));
        }
        out.push((c.id, path));
    }
    Ok(out)
}

/// Something shared with a user.
pub enum Shared {
    File(FileRecord),
    Container(Container),
}

/// What is shared with `user_id`, as it exists now.
pub async fn shared_with(state: &AppState, user_id: &str) -> Result<Vec<Shared>, ApiError> {
    let mut out = Vec::new();
    for Share { resource_id, .. } in state.meta.shares_of(user_id).await? {
        if let Some(f) = state.meta.file(&resource_id).await? {
            out.push(Shared::File(f));
        } else if let Some(c) = state.meta.container(&resource_id).await? {
            out.push(Shared::Container(c));
        }
    }
    Ok(out)
}

/// A file's versions, newest first, each with its author's display name (or id).
pub async fn history(
    state: &AppState,
    file_id: &str,
) -> Result<Vec<(VersionRecord, String)>, ApiError> {
    let mut out = Vec::new();
    for v in state.meta.versions(file_id).await?.into_iter().rev() {
        let author = state
            .meta
            .user(&v.author_id)
            .await?
            .map_or(v.author_id.clone(), |u| u.display_name);
        out.push((v, author));
    }
    Ok(out)
}
