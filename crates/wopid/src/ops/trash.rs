//! The trash: deleting a file or a folder moves it (with everything it holds) to its owner's
//! trash, where it stays for `trash_retention`; restoring brings it back with all its versions,
//! and emptying (or the retention purge) destroys it and frees its content.

use wopid_proto::ProtoError;
use wopid_proto::names::free_name_candidates;
use wopid_store::{Container, FileRecord, Restoring, TrashEntry, TrashKind, Trashing};

use super::content::discard_blob;
use crate::auth::{Access, Grant, access};
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

/// Moves a file to the trash: refused while it is locked, and without write access.
pub async fn trash_file(state: &AppState, grant: &Grant, file: FileRecord) -> Result<(), ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow deleting").into());
    }
    let id = file.id.clone();
    let mut read = Some(file);
    for _ in 0..super::CAS_ATTEMPTS {
        let f = match read.take() {
            Some(f) => f,
            None => super::load(state, &id).await?,
        };
        super::coauth::check_unlocked(&f, state.now_ms())?;
        if state.meta.trash_file(&id, f.rev, state.now_ms()).await? {
            let ev = Event::file(webhooks::FILE_DELETED, Some(&grant.user_id), &f);
            webhooks::emit(state, ev).await;
            return Ok(());
        }
    }
    Err(ApiError::Busy)
}

/// Moves a folder and everything in it to the trash, for `user_id`, who must be able to change
/// the folder it is in. A root cannot go; a locked file inside keeps the folder where it is. With
/// `only_if_empty` (WOPI's DeleteContainer), a folder that holds anything stays.
pub async fn trash_folder(
    state: &AppState,
    user_id: &str,
    c: &Container,
    only_if_empty: bool,
) -> Result<(), ApiError> {
    let Some(parent) = c.parent_id.as_deref() else {
        return Err(ProtoError::Conflict("the root container cannot be deleted").into());
    };
    if access::container_access(state, user_id, parent).await? != Access::Write {
        return Err(ProtoError::Forbidden("the user may not change the folder it is in").into());
    }
    trash_container(state, user_id, c, only_if_empty).await
}

/// Moves a container (whose deletion `actor` was allowed) and its content to the trash.
pub async fn trash_container(
    state: &AppState,
    actor: &str,
    c: &Container,
    only_if_empty: bool,
) -> Result<(), ApiError> {
    if c.parent_id.is_none() {
        return Err(ProtoError::Conflict("the root container cannot be deleted").into());
    }
    match state
        .meta
        .trash_container(&c.id, state.now_ms(), only_if_empty)
        .await?
    {
        Trashing::Trashed => {
            let ev = Event::container(webhooks::CONTAINER_DELETED, Some(actor), c);
            webhooks::emit(state, ev).await;
            Ok(())
        }
        Trashing::NotEmpty => Err(ProtoError::Conflict("the container is not empty").into()),
        Trashing::Locked => {
            Err(ProtoError::Conflict("a file in the folder is open in an editor (locked)").into())
        }
        Trashing::Missing => Err(ProtoError::NotFound.into()),
    }
}

/// A trash entry as the trash page shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub entry: TrashEntry,
    /// The name of the folder it was deleted from, when that folder is still there.
    pub folder: Option<String>,
}

/// The user's trash, most recently deleted first.
pub async fn entries(state: &AppState, user_id: &str) -> Result<Vec<Entry>, ApiError> {
    let mut out = Vec::new();
    for entry in state.meta.trash_entries(user_id).await? {
        let folder = state
            .meta
            .container(&entry.parent_id)
            .await?
            .map(|c| c.name);
        out.push(Entry { entry, folder });
    }
    Ok(out)
}

/// The user's own trash entry, or 404 (another user's entry is not told apart from none).
async fn own_entry(
    state: &AppState,
    user_id: &str,
    kind: TrashKind,
    id: &str,
) -> Result<TrashEntry, ApiError> {
    match state.meta.trash_entry(kind, id).await? {
        Some(e) if e.owner_id == user_id => Ok(e),
        _ => Err(ProtoError::NotFound.into()),
    }
}

/// Where a restored item went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The folder it is in now.
    pub folder: String,
    pub name: String,
    /// `false`: its folder was gone (or no longer writable) or its name taken there, so it went
    /// to the root folder, under a free name.
    pub in_place: bool,
}

/// Takes one of the user's trash entries out of the trash: back into the folder it was deleted
/// from under its name, or else into the user's root folder under its first free name.
pub async fn restore(
    state: &AppState,
    user_id: &str,
    kind: TrashKind,
    id: &str,
) -> Result<Restored, ApiError> {
    let e = own_entry(state, user_id, kind, id).await?;
    if state.meta.container(&e.parent_id).await?.is_some()
        && access::container_access(state, user_id, &e.parent_id).await? == Access::Write
    {
        match state
            .meta
            .restore_trashed(kind, id, &e.parent_id, &e.name)
            .await?
        {
            Restoring::Restored => {
                return Ok(Restored {
                    folder: e.parent_id,
                    name: e.name,
                    in_place: true,
                });
            }
            Restoring::NameTaken | Restoring::Missing => {}
        }
    }
    let root = state.meta.root_container(user_id, state.now_ms()).await?;
    for name in free_name_candidates(&e.name) {
        match state
            .meta
            .restore_trashed(kind, id, &root.id, &name)
            .await?
        {
            Restoring::Restored => {
                return Ok(Restored {
                    folder: root.id,
                    name,
                    in_place: false,
                });
            }
            Restoring::NameTaken => continue,
            Restoring::Missing => return Err(ProtoError::NotFound.into()),
        }
    }
    Err(ProtoError::Conflict("no free name in the root folder").into())
}

/// Destroys one trash entry for good and frees its content; `false` when it was gone already.
async fn destroy(
    state: &AppState,
    kind: TrashKind,
    id: &str,
) -> Result<bool, wopid_store::StoreError> {
    let Some(keys) = state.meta.purge_trashed(kind, id).await? else {
        return Ok(false);
    };
    let chunked = keys.iter().any(|k| wopid_store::content_id(k).is_some());
    for k in keys {
        discard_blob(state, &k).await;
    }
    if chunked {
        super::chunks::collect_now(state).await;
    }
    Ok(true)
}

/// Empties the user's trash; how many entries went.
pub async fn empty(state: &AppState, user_id: &str) -> Result<u64, ApiError> {
    let mut n = 0;
    for e in state.meta.trash_entries(user_id).await? {
        if destroy(state, e.kind, &e.id).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Destroys every trash entry older than `trash_retention`; how many went.
pub async fn purge_expired(state: &AppState) -> Result<u64, wopid_store::StoreError> {
    let before = wopid_proto::Millis::from_ms(state.now_ms())
        .saturating_sub(state.config.trash_retention)
        .as_ms();
    let mut n = 0;
    for e in state.meta.trashed_before(before).await? {
        if destroy(state, e.kind, &e.id).await? {
            n += 1;
        }
    }
    Ok(n)
}
