//! The Containers endpoint (and the legacy Folders endpoint mapped onto it).

use wopid_proto::body::{NewFile as NewFileBody, ShareUrlType};
use wopid_proto::containers::{
    CheckContainerInfo, CheckFolderInfo, ChildFile, ChildName, Children, ContainerPointer,
    ContainerWithInfo, FolderChild, FolderChildren, passes_filter,
};
use wopid_proto::names::{RelativeTarget, free_name_candidates};
use wopid_proto::request::Deferred;
use wopid_proto::{Millis, ProtoError};
use wopid_store::{Blobs, Cas, Container, Content, NewFile, ResourceKind};

use super::create::{create_with_free_name, name_exists, new_file_body};
use crate::auth::issue::{Purpose, issue};
use crate::auth::{Grant, Perms, access};
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

/// SHA-256 of no bytes: the content of every new child file.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A token for another resource, traded from the caller's (see `Purpose::Traded`).
pub async fn traded(
    state: &AppState,
    grant: &Grant,
    kind: ResourceKind,
    id: &str,
) -> Result<String, ApiError> {
    let t = issue(
        state,
        &grant.user_id,
        Purpose::Traded {
            from: grant,
            kind,
            id,
            perms: grant.perms,
        },
    )
    .await?;
    Ok(t.token.expose().to_owned())
}

pub fn container_url(state: &AppState, id: &str, token: &str) -> String {
    format!("{}/wopi/containers/{id}?access_token={token}", state.base)
}

pub async fn load(state: &AppState, id: &str) -> Result<Container, ApiError> {
    state
        .meta
        .container(id)
        .await?
        .ok_or_else(|| ProtoError::NotFound.into())
}

pub fn info(state: &AppState, c: &Container, grant: &Grant) -> CheckContainerInfo {
    let write = grant.perms.can_write();
    CheckContainerInfo {
        name: c.name.clone(),
        // One setting for the installation, so a child folder always says what its parent does.
        license_check_for_edit_is_enabled: state.config.license_check_for_edit,
        user_can_create_child_container: write,
        user_can_create_child_file: write,
        user_can_delete: write && c.parent_id.is_some(),
        user_can_rename: write,
        supported_share_url_types: crate::ops::info::SHARE_URL_TYPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        ..Default::default()
    }
}

/// A pointer to a container with a traded token, and its info.
pub async fn pointer(
    state: &AppState,
    grant: &Grant,
    c: &Container,
) -> Result<ContainerWithInfo, ApiError> {
    let token = traded(state, grant, ResourceKind::Container, &c.id).await?;
    Ok(ContainerWithInfo {
        container_pointer: ContainerPointer {
            name: c.name.clone(),
            url: container_url(state, &c.id, &token),
        },
        container_info: info(state, c, grant),
    })
}

fn require_write(grant: &Grant) -> Result<(), ApiError> {
    if grant.perms.can_write() {
        Ok(())
    } else {
        Err(ProtoError::Forbidden("the access token does not allow changes").into())
    }
}

/// CreateChildContainer: an exact name must be free; an adjustable one takes its first free
/// variant.
pub async fn create_child_container(
    state: &AppState,
    grant: &Grant,
    parent: &Container,
    target: Deferred<ChildName>,
) -> Result<ContainerWithInfo, ApiError> {
    require_write(grant)?;
    let ChildName { name, exact } = target?;
    for candidate in free_name_candidates(&name) {
        let id = wopid_store::new_id();
        match state
            .meta
            .create_container(&id, &parent.id, &grant.user_id, &candidate, state.now_ms())
            .await?
        {
            Some(c) => {
                let ev = Event::container(webhooks::CONTAINER_CREATED, Some(&grant.user_id), &c);
                webhooks::emit(state, ev).await;
                return pointer(state, grant, &c).await;
            }
            None if exact => return Err(ProtoError::NameExists { valid_target: None }.into()),
            None => continue,
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

/// CreateChildFile: a new empty file, or an existing one emptied when overwriting was asked for.
pub async fn create_child_file(
    state: &AppState,
    grant: &Grant,
    container: &Container,
    target: Deferred<RelativeTarget>,
) -> Result<NewFileBody, ApiError> {
    require_write(grant)?;
    let target = target?;
    if let RelativeTarget::Exact { name, overwrite } = &target
        && let Some(existing) = state.meta.file_by_name(&container.id, name).await?
    {
        if !overwrite {
            return Err(name_exists(state, &container.id, name).await);
        }
        if access::file_access(state, &grant.user_id, &existing).await? < access::Access::Write {
            return Err(
                ProtoError::NotImplemented("the user may not overwrite this file".into()).into(),
            );
        }
        super::coauth::check_unlocked(&existing, state.now_ms())?;
        let content = empty_content(state, grant).await?;
        let f = super::create::overwrite(state, existing, content).await?;
        let ev = Event::file(webhooks::FILE_SAVED, Some(&grant.user_id), &f);
        webhooks::emit(state, ev).await;
        return new_file_body(state, grant, &f.id, &f.name).await;
    }
    let content = empty_content(state, grant).await?;
    let f = match target {
        RelativeTarget::Exact { name, .. } => {
            create_exact(state, grant, &container.id, &name, content).await?
        }
        RelativeTarget::Suggested(name) => {
            let owner = &grant.user_id;
            create_with_free_name(state, &container.id, owner, &name, content).await?
        }
    };
    let ev = Event::file(webhooks::FILE_CREATED, Some(&grant.user_id), &f);
    webhooks::emit(state, ev).await;
    new_file_body(state, grant, &f.id, &f.name).await
}

/// A stored empty blob: the content of a new child file (every version has a blob).
async fn empty_content(state: &AppState, grant: &Grant) -> Result<Content, ApiError> {
    let empty: wopid_store::BlobStream = Box::pin(futures_util::stream::empty());
    let key = Blobs::new_key();
    state.blobs.put(&key, empty, 0).await?;
    Ok(Content {
        blob_key: key,
        size: 0,
        sha256: EMPTY_SHA256.to_owned(),
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    })
}

/// A new file under exactly `name`; a taken name is 409 with its first free variant.
async fn create_exact(
    state: &AppState,
    grant: &Grant,
    container_id: &str,
    name: &str,
    content: Content,
) -> Result<wopid_store::FileRecord, ApiError> {
    let key = content.blob_key.clone();
    let new = NewFile {
        id: wopid_store::new_id(),
        container_id: container_id.to_owned(),
        owner_id: grant.user_id.clone(),
        name: name.to_owned(),
        content,
    };
    match state.meta.create_file(new).await? {
        Cas::Applied(f) => Ok(*f),
        Cas::Stale => {
            super::content::discard_blob(state, &key).await;
            Err(ProtoError::NotFound.into())
        }
        Cas::NameTaken => {
            super::content::discard_blob(state, &key).await;
            Err(name_exists(state, container_id, name).await)
        }
    }
}

/// DeleteContainer: an empty container (what is in the trash aside) goes to its owner's trash.
pub async fn delete_container(
    state: &AppState,
    grant: &Grant,
    c: &Container,
) -> Result<(), ApiError> {
    require_write(grant)?;
    super::trash::trash_container(state, &grant.user_id, c, true).await
}

pub async fn rename_container(
    state: &AppState,
    grant: &Grant,
    c: &Container,
    name: Deferred<String>,
) -> Result<String, ApiError> {
    require_write(grant)?;
    let name = name?;
    let id = c.id.as_str();
    if name == c.name {
        return Ok(name);
    }
    if state.meta.rename_container(id, &name).await? {
        let renamed = wopid_store::Container {
            name: name.clone(),
            ..c.clone()
        };
        let ev = Event::container(webhooks::CONTAINER_RENAMED, Some(&grant.user_id), &renamed)
            .with("previous_name", c.name.as_str());
        webhooks::emit(state, ev).await;
        Ok(name)
    } else {
        Err(ProtoError::NameExists { valid_target: None }.into())
    }
}

pub async fn share_url(
    state: &AppState,
    grant: &Grant,
    c: &Container,
    kind: ShareUrlType,
) -> Result<String, ApiError> {
    let id = c.id.as_str();
    let perms = match kind {
        ShareUrlType::ReadOnly => Perms::READ_ONLY,
        ShareUrlType::ReadWrite if grant.perms.can_write() => Perms::READ_WRITE,
        ShareUrlType::ReadWrite => {
            return Err(ProtoError::NotImplemented(
                "ReadWrite share URL for a read-only token".into(),
            )
            .into());
        }
    };
    let link = Purpose::ShareLink {
        from: grant,
        kind: ResourceKind::ContainerShareLink,
        id,
        perms,
    };
    let issued = issue(state, &grant.user_id, link).await?;
    Ok(format!("{}/share/{}", state.base, issued.token.expose()))
}

/// EnumerateAncestors of a container: root first, the container itself excluded.
pub async fn ancestors(
    state: &AppState,
    grant: &Grant,
    c: &Container,
) -> Result<Vec<ContainerPointer>, ApiError> {
    let mut chain = access::chain_of(state, c).await?;
    if chain.is_empty() {
        return Err(ProtoError::NotFound.into());
    }
    chain.remove(0);
    pointers_root_first(state, grant, chain).await
}

/// Pointers with traded tokens for a chain given leaf first, returned root first.
pub async fn pointers_root_first(
    state: &AppState,
    grant: &Grant,
    mut chain: Vec<Container>,
) -> Result<Vec<ContainerPointer>, ApiError> {
    chain.reverse();
    let mut out = Vec::with_capacity(chain.len());
    for c in chain {
        let token = traded(state, grant, ResourceKind::Container, &c.id).await?;
        out.push(ContainerPointer {
            name: c.name,
            url: container_url(state, &c.id, &token),
        });
    }
    Ok(out)
}

pub async fn children(
    state: &AppState,
    grant: &Grant,
    c: &Container,
    filter: Option<&[String]>,
) -> Result<Children, ApiError> {
    let id = c.id.as_str();
    let mut child_containers = Vec::new();
    for c in state.meta.child_containers(id).await? {
        let token = traded(state, grant, ResourceKind::Container, &c.id).await?;
        child_containers.push(ContainerPointer {
            name: c.name,
            url: container_url(state, &c.id, &token),
        });
    }
    let mut child_files = Vec::new();
    for f in state
        .meta
        .list_files(Some(id))
        .await?
        .into_iter()
        .filter(|f| passes_filter(&f.name, filter))
    {
        let token = traded(state, grant, ResourceKind::File, &f.id).await?;
        child_files.push(ChildFile {
            url: format!("{}?access_token={token}", state.wopi_src(&f.id)),
            name: f.name,
            size: f.size,
            version: f.version.to_string(),
            last_modified_time: Millis::from_ms(f.modified_ms).to_iso8601(),
        });
    }
    Ok(Children {
        child_containers,
        child_files,
    })
}

/// GetEcosystem for a file or container: the ecosystem URL with a traded ecosystem token.
pub async fn ecosystem_pointer(state: &AppState, grant: &Grant) -> Result<String, ApiError> {
    let token = traded(state, grant, ResourceKind::Ecosystem, &grant.user_id).await?;
    Ok(format!(
        "{}/wopi/ecosystem?access_token={token}",
        state.base
    ))
}

pub fn check_folder_info(grant: &Grant, c: &Container) -> CheckFolderInfo {
    CheckFolderInfo {
        folder_name: c.name.clone(),
        owner_id: c.owner_id.clone(),
        user_can_write: grant.perms.can_write(),
    }
}

pub async fn folder_children(
    state: &AppState,
    grant: &Grant,
    c: &Container,
) -> Result<FolderChildren, ApiError> {
    let all = children(state, grant, c, None).await?;
    let mut out: Vec<FolderChild> = Vec::new();
    for c in all.child_containers {
        let url = c.url.replacen("/wopi/containers/", "/wopi/folders/", 1);
        out.push(FolderChild {
            name: c.name,
            url,
            version: String::new(),
        });
    }
    out.extend(all.child_files.into_iter().map(|f| FolderChild {
        name: f.name,
        url: f.url,
        version: f.version,
    }));
    Ok(FolderChildren { children: out })
}

/// A new folder named exactly `name` in `parent`, owned by `user_id`; `None` when the name is
/// taken.
pub async fn create_named(
    state: &AppState,
    user_id: &str,
    parent: &Container,
    name: &str,
) -> Result<Option<Container>, ApiError> {
    let id = wopid_store::new_id();
    let created = state
        .meta
        .create_container(&id, &parent.id, user_id, name, state.now_ms())
        .await?;
    if let Some(c) = &created {
        let ev = Event::container(webhooks::CONTAINER_CREATED, Some(user_id), c);
        webhooks::emit(state, ev).await;
    }
    Ok(created)
}

/// What became of a folder's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderMove {
    Done,
    /// The user may not change the folder it is in (or it is a root).
    SourceRefused,
    /// No folder the user may write to.
    NoTarget,
    /// A folder of that name is already in the target folder.
    NameTaken,
    /// The target is the folder itself or a folder inside it.
    IntoItself,
}

/// Moves the folder `c` (with everything in it) into the folder `to`, for `user_id`, who must be
/// able to change both the folder it is in and the target.
pub async fn move_folder(
    state: &AppState,
    user_id: &str,
    c: &Container,
    to: &str,
) -> Result<FolderMove, ApiError> {
    let Some(parent) = c.parent_id.as_deref() else {
        return Ok(FolderMove::SourceRefused);
    };
    if access::container_access(state, user_id, parent).await? != access::Access::Write {
        return Ok(FolderMove::SourceRefused);
    }
    if access::container_access(state, user_id, to).await? != access::Access::Write {
        return Ok(FolderMove::NoTarget);
    }
    if parent == to {
        return Ok(FolderMove::Done);
    }
    Ok(match state.meta.move_container(&c.id, to).await? {
        wopid_store::ContainerMove::Moved => FolderMove::Done,
        wopid_store::ContainerMove::NameTaken => FolderMove::NameTaken,
        wopid_store::ContainerMove::IntoItself => FolderMove::IntoItself,
        wopid_store::ContainerMove::Missing => FolderMove::NoTarget,
    })
}

/// Renames the folder `c` to exactly `name`, for `user_id`, who must be able to change it.
/// `Ok(false)`: the name is taken in its parent.
pub async fn rename_folder(
    state: &AppState,
    user_id: &str,
    c: &Container,
    name: &str,
) -> Result<bool, ApiError> {
    if let Some(why) = wopid_proto::names::invalid_reason(name) {
        return Err(ProtoError::InvalidContainerName(why).into());
    }
    if access::container_access(state, user_id, &c.id).await? != access::Access::Write {
        return Err(ProtoError::NotFound.into());
    }
    if name == c.name {
        return Ok(true);
    }
    Ok(state.meta.rename_container(&c.id, name).await?)
}
