//! Who may reach what: the owner of a file or container, and users it is shared with (a share of
//! a container covers everything below it). Checked on every request, so a revoked share takes
//! effect at once, whatever tokens are out.

use wopid_store::{Container, FileRecord};

use super::Perms;
use crate::error::ApiError;
use crate::state::AppState;

/// How deep a container tree may be walked.
const MAX_DEPTH: usize = 256;

/// A user's access to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    Write,
}

impl Access {
    /// What a token's permissions come to, given the user's access now; `None` without access.
    pub fn limit(self, perms: Perms) -> Option<Perms> {
        match self {
            Access::None => None,
            Access::Read => Some(Perms::READ_ONLY),
            Access::Write => Some(perms),
        }
    }

    /// The permissions to give a new token for a user with this access (no access: none).
    pub fn perms(self) -> Option<Perms> {
        self.limit(Perms::READ_WRITE)
    }
}

/// The containers from `id` up to the root: the container itself first.
pub async fn chain(state: &AppState, id: &str) -> Result<Vec<Container>, ApiError> {
    walk_up(state, Vec::new(), Some(id.to_owned())).await
}

/// The chain of an already loaded container: it first, then its ancestors.
pub async fn chain_of(state: &AppState, c: &Container) -> Result<Vec<Container>, ApiError> {
    walk_up(state, vec![c.clone()], c.parent_id.clone()).await
}

async fn walk_up(
    state: &AppState,
    mut out: Vec<Container>,
    mut next: Option<String>,
) -> Result<Vec<Container>, ApiError> {
    while let Some(id) = next.take() {
        if out.len() >= MAX_DEPTH {
            break;
        }
        let Some(c) = state.meta.container(&id).await? else {
            break;
        };
        next = c.parent_id.clone();
        out.push(c);
    }
    Ok(out)
}

async fn shared(state: &AppState, user_id: &str, ids: Vec<String>) -> Result<Access, ApiError> {
    let shares = state.meta.shares(user_id, &ids).await?;
    Ok(shares
        .iter()
        .map(|s| {
            if s.can_write {
                Access::Write
            } else {
                Access::Read
            }
        })
        .max()
        .unwrap_or(Access::None))
}

pub async fn file_access(
    state: &AppState,
    user_id: &str,
    file: &FileRecord,
) -> Result<Access, ApiError> {
    if file.owner_id == user_id {
        return Ok(Access::Write);
    }
    let chain = chain(state, &file.container_id).await?;
    if chain.iter().any(|c| c.owner_id == user_id) {
        return Ok(Access::Write);
    }
    let mut ids: Vec<String> = chain.into_iter().map(|c| c.id).collect();
    ids.push(file.id.clone());
    shared(state, user_id, ids).await
}

pub async fn container_access(
    state: &AppState,
    user_id: &str,
    container_id: &str,
) -> Result<Access, ApiError> {
    chain_access(state, user_id, chain(state, container_id).await?).await
}

/// [`container_access`] for an already loaded container.
pub async fn access_to(state: &AppState, user_id: &str, c: &Container) -> Result<Access, ApiError> {
    chain_access(state, user_id, chain_of(state, c).await?).await
}

async fn chain_access(
    state: &AppState,
    user_id: &str,
    chain: Vec<Container>,
) -> Result<Access, ApiError> {
    if chain.is_empty() {
        return Ok(Access::None);
    }
    if chain.iter().any(|c| c.owner_id == user_id) {
        return Ok(Access::Write);
    }
    shared(state, user_id, chain.into_iter().map(|c| c.id).collect()).await
}

/// What a verified token may do on `file` now: the user's access, or, for a token redeemed from
/// a share link, the least of the link's permissions and its creator's access now (and nothing
/// on any other file).
pub async fn grant_file_access(
    state: &AppState,
    grant: &super::Grant,
    file: &FileRecord,
) -> Result<Option<Perms>, ApiError> {
    match &grant.link {
        None => Ok(file_access(state, &grant.user_id, file)
            .await?
            .limit(grant.perms)),
        Some(_) if grant.resource_id != file.id => Ok(None),
        Some(link) => {
            let creator = file_access(state, &link.creator, file).await?;
            let by_link = if link.perms.can_write() {
                creator
            } else {
                creator.min(Access::Read)
            };
            Ok(by_link.limit(grant.perms))
        }
    }
}

/// What a verified token may do on a container now; a token redeemed from a share link of a
/// file reaches no container.
pub async fn grant_container_access(
    state: &AppState,
    grant: &super::Grant,
    container: &Container,
) -> Result<Option<Perms>, ApiError> {
    if grant.link.is_some() {
        return Ok(None);
    }
    Ok(access_to(state, &grant.user_id, container)
        .await?
        .limit(grant.perms))
}
