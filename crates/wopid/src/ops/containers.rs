//! The Containers endpoint (and the legacy Folders endpoint mapped onto it).

use wopid_proto::ProtoError;
use wopid_proto::body::{NewFile as NewFileBody, ShareUrlType};
use wopid_proto::containers::{
    CheckContainerInfo, CheckFolderInfo, ChildFile, Children, ContainerPointer, ContainerWithInfo,
    FolderChild, FolderChildren, child_target, passes_filter,
};
use wopid_proto::names::numbered;
use wopid_store::{
    Blobs, Cas, Container, ContainerDeletion, Content, FileUpdate, NewFile, ResourceKind,
};

use super::Step;
use super::content::stored_lock;
use crate::auth::{Grant, Perms, access, tokens};
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::state::AppState;

/// SHA-256 of no bytes: the content of every new child file.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const NAME_ATTEMPTS: u32 = 1000;

/// A token for another resource, traded from the caller's: same user, never a longer life.
pub async fn traded(
    state: &AppState,
    grant: &Grant,
    kind: ResourceKind,
    id: &str,
    perms: Perms,
) -> Result<String, ApiError> {
    let t = tokens::trade(state, grant, kind, id, perms, grant.expires_ms).await?;
    Ok(t.expose().to_owned())
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

pub fn info(c: &Container, grant: &Grant) -> CheckContainerInfo {
    let write = grant.perms.can_write();
    CheckContainerInfo {
        name: c.name.clone(),
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

pub async fn check_container_info(
    state: &AppState,
    grant: &Grant,
    id: &str,
) -> Result<CheckContainerInfo, ApiError> {
    Ok(info(&load(state, id).await?, grant))
}

/// A pointer to a container with a traded token, and its info.
pub async fn pointer(
    state: &AppState,
    grant: &Grant,
    c: &Container,
) -> Result<ContainerWithInfo, ApiError> {
    let token = traded(state, grant, ResourceKind::Container, &c.id, grant.perms).await?;
    Ok(ContainerWithInfo {
        container_pointer: ContainerPointer {
            name: c.name.clone(),
            url: container_url(state, &c.id, &token),
        },
        container_info: info(c, grant),
    })
}

fn require_write(grant: &Grant) -> Result<(), ApiError> {
    if grant.perms.can_write() {
        Ok(())
    } else {
        Err(ProtoError::Forbidden("the access token does not allow changes").into())
    }
}

pub async fn create_child_container(
    state: &AppState,
    grant: &Grant,
    parent_id: &str,
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
) -> Result<ContainerWithInfo, ApiError> {
    require_write(grant)?;
    let parent = load(state, parent_id).await?;
    let (name, exact) = child_target(suggested, relative, "Folder", true)?;
    for n in 1..=NAME_ATTEMPTS {
        let candidate = if n == 1 {
            name.clone()
        } else {
            numbered(&name, n)
        };
        let id = wopid_store::new_id();
        match state
            .meta
            .create_container(&id, &parent.id, &grant.user_id, &candidate, state.now_ms())
            .await?
        {
            Some(c) => return pointer(state, grant, &c).await,
            None if exact => return Err(ProtoError::NameExists { valid_target: None }.into()),
            None => continue,
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

pub async fn create_child_file(
    state: &AppState,
    grant: &Grant,
    container_id: &str,
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
    overwrite: Option<&[u8]>,
) -> Result<NewFileBody, ApiError> {
    require_write(grant)?;
    let container = load(state, container_id).await?;
    let (name, exact) = child_target(suggested, relative, "Untitled", false)?;
    let overwrite = match overwrite {
        Some(v) if exact => wopid_proto::names::parse_bool(v).ok_or(ProtoError::BadRequest(
            "X-WOPI-OverwriteRelativeTarget is not a boolean",
        ))?,
        _ => false,
    };
    // The new file is empty; its blob is written like any other so every version has content.
    let empty: wopid_store::BlobStream = Box::pin(futures_util::stream::empty());
    let content = |key: String| Content {
        blob_key: key,
        size: 0,
        sha256: EMPTY_SHA256.to_owned(),
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    if exact && let Some(existing) = state.meta.file_by_name(&container.id, &name).await? {
        if !overwrite {
            let free = super::relative::free_name(state, &container.id, &name).await?;
            return Err(ProtoError::NameExists {
                valid_target: Some(wopid_proto::utf7::encode(&free)),
            }
            .into());
        }
        if access::file_access(state, &grant.user_id, &existing).await? < access::Access::Write {
            return Err(
                ProtoError::NotImplemented("the user may not overwrite this file".into()).into(),
            );
        }
        wopid_proto::lock::check_unlocked(stored_lock(&existing).as_ref(), state.now_ms())?;
        let key = Blobs::new_key();
        state.blobs.put(&key, empty, 0).await?;
        let c = content(key);
        let done = super::update(state, &existing.id, |f, now| {
            wopid_proto::lock::check_unlocked(stored_lock(f).as_ref(), now)?;
            let mut c = c.clone();
            c.modified_ms = now.max(f.modified_ms + 1);
            Ok(Step::Apply(FileUpdate::Content(c), ()))
        })
        .await?;
        let (f, ()) = done.ok_or(ApiError::Busy)?;
        return new_file_body(state, grant, &f.id, &f.name).await;
    }
    let key = Blobs::new_key();
    state.blobs.put(&key, empty, 0).await?;
    let f = if exact {
        let new = NewFile {
            id: wopid_store::new_id(),
            container_id: container.id.clone(),
            owner_id: grant.user_id.clone(),
            name: name.clone(),
            content: content(key.clone()),
        };
        match state.meta.create_file(new).await? {
            Cas::Applied(f) => *f,
            _ => {
                super::content::discard_blob(state, &key).await;
                let free = super::relative::free_name(state, &container.id, &name).await?;
                return Err(ProtoError::NameExists {
                    valid_target: Some(wopid_proto::utf7::encode(&free)),
                }
                .into());
            }
        }
    } else {
        super::relative::create_with_free_name(
            state,
            &container.id,
            &grant.user_id,
            &name,
            content(key),
        )
        .await?
    };
    new_file_body(state, grant, &f.id, &f.name).await
}

/// Name and URLs of a new file: its WopiSrc with a traded token (the caller's expiry) and its
/// host pages.
pub async fn new_file_body(
    state: &AppState,
    grant: &Grant,
    id: &str,
    name: &str,
) -> Result<NewFileBody, ApiError> {
    let token = traded(state, grant, ResourceKind::File, id, grant.perms).await?;
    Ok(NewFileBody {
        name: name.to_owned(),
        url: format!("{}?access_token={token}", state.wopi_src(id)),
        host_view_url: Some(state.host_page(id, "view")),
        host_edit_url: Some(state.host_page(id, "edit")),
    })
}

pub async fn delete_container(state: &AppState, grant: &Grant, id: &str) -> Result<(), ApiError> {
    require_write(grant)?;
    let c = load(state, id).await?;
    if c.parent_id.is_none() {
        return Err(ProtoError::Conflict("the root container cannot be deleted").into());
    }
    match state.meta.delete_container(id).await? {
        ContainerDeletion::Deleted => Ok(()),
        ContainerDeletion::NotEmpty => {
            Err(ProtoError::Conflict("the container is not empty").into())
        }
        ContainerDeletion::Missing => Err(ProtoError::NotFound.into()),
    }
}

pub async fn rename_container(
    state: &AppState,
    grant: &Grant,
    id: &str,
    requested: Option<&[u8]>,
) -> Result<String, ApiError> {
    require_write(grant)?;
    let c = load(state, id).await?;
    let raw = requested.ok_or(ProtoError::InvalidContainerName(
        "X-WOPI-RequestedName is missing",
    ))?;
    let name = wopid_proto::utf7::decode(raw)
        .map_err(|_| ProtoError::InvalidContainerName("X-WOPI-RequestedName is not valid UTF-7"))?;
    if let Some(why) = wopid_proto::names::invalid_reason(&name) {
        return Err(ProtoError::InvalidContainerName(why).into());
    }
    if name == c.name {
        return Ok(name);
    }
    if state.meta.rename_container(id, &name).await? {
        Ok(name)
    } else {
        Err(ProtoError::NameExists { valid_target: None }.into())
    }
}

pub async fn share_url(
    state: &AppState,
    grant: &Grant,
    id: &str,
    kind: ShareUrlType,
) -> Result<String, ApiError> {
    load(state, id).await?;
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
    let ttl = i64::try_from(state.config.share_url_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires = state.now_ms().saturating_add(ttl);
    let token = tokens::trade(
        state,
        grant,
        ResourceKind::ContainerShareLink,
        id,
        perms,
        expires,
    )
    .await?;
    Ok(format!("{}/share/{}", state.base, token.expose()))
}

/// EnumerateAncestors of a container: root first, the container itself excluded.
pub async fn ancestors(
    state: &AppState,
    grant: &Grant,
    id: &str,
) -> Result<Vec<ContainerPointer>, ApiError> {
    let mut chain = access::chain(state, id).await?;
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
        let token = traded(state, grant, ResourceKind::Container, &c.id, grant.perms).await?;
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
    id: &str,
    filter: Option<&[String]>,
) -> Result<Children, ApiError> {
    load(state, id).await?;
    let mut child_containers = Vec::new();
    for c in state.meta.child_containers(id).await? {
        let token = traded(state, grant, ResourceKind::Container, &c.id, grant.perms).await?;
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
        let token = traded(state, grant, ResourceKind::File, &f.id, grant.perms).await?;
        child_files.push(ChildFile {
            url: format!("{}?access_token={token}", state.wopi_src(&f.id)),
            name: f.name,
            size: f.size,
            version: f.version.to_string(),
            last_modified_time: iso8601(f.modified_ms),
        });
    }
    Ok(Children {
        child_containers,
        child_files,
    })
}

/// GetEcosystem for a file or container: the ecosystem URL with a traded ecosystem token.
pub async fn ecosystem_pointer(state: &AppState, grant: &Grant) -> Result<String, ApiError> {
    let token = traded(
        state,
        grant,
        ResourceKind::Ecosystem,
        &grant.user_id,
        grant.perms,
    )
    .await?;
    Ok(format!(
        "{}/wopi/ecosystem?access_token={token}",
        state.base
    ))
}

pub async fn check_folder_info(
    state: &AppState,
    grant: &Grant,
    id: &str,
) -> Result<CheckFolderInfo, ApiError> {
    let c = load(state, id).await?;
    Ok(CheckFolderInfo {
        folder_name: c.name,
        owner_id: c.owner_id,
        user_can_write: grant.perms.can_write(),
    })
}

pub async fn folder_children(
    state: &AppState,
    grant: &Grant,
    id: &str,
) -> Result<FolderChildren, ApiError> {
    let all = children(state, grant, id, None).await?;
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
