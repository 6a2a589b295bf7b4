//! File administration used by the CLI: add, list, versions, restore, read.

use wopid_proto::ProtoError;
use wopid_store::{BlobStream, Content, FileRecord, FileUpdate, User, VersionRecord};

use super::Step;
use super::create::create_with_free_name;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event, Shared};

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
    add_file_for(state, &user.id, name, container_id, body, None).await
}

/// [`add_file`] for an existing user, by id; `declared` is the body's announced length, refused
/// at once above `max_upload_bytes`.
pub async fn add_file_for(
    state: &AppState,
    user_id: &str,
    name: &str,
    container_id: Option<&str>,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<FileRecord, ApiError> {
    if let Some(why) = wopid_proto::names::invalid_reason(name) {
        return Err(ProtoError::InvalidFileName(why).into());
    }
    let container = match container_id {
        Some(id) => {
            state
                .meta
                .container(id)
                .await?
                .ok_or(ProtoError::NotFound)?
                .id
        }
        None => state.meta.root_container(user_id, state.now_ms()).await?.id,
    };
    let (key, out) = super::content::store_body(state, body, declared).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: user_id.to_owned(),
        modified_ms: state.now_ms(),
    };
    match create_with_free_name(state, &container, user_id, name, content).await {
        Ok(f) => {
            let ev = Event::file(webhooks::FILE_CREATED, Some(user_id), &f);
            webhooks::emit(state, ev).await;
            Ok(f)
        }
        Err(e) => {
            super::content::discard_blob(state, &key).await;
            Err(e)
        }
    }
}

/// New content for an unlocked file, streamed and bounded by `max_upload_bytes`: a new version
/// written by `author_id` (the history keeps the old one).
pub async fn replace_content(
    state: &AppState,
    file: FileRecord,
    author_id: &str,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<FileRecord, ApiError> {
    // Refused before the upload while another editor holds the lock, and again at the commit.
    super::coauth::check_unlocked(&file, state.now_ms())?;
    let (key, out) = super::content::store_body(state, body, declared).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: author_id.to_owned(),
        modified_ms: state.now_ms(),
    };
    match super::create::overwrite(state, file, content).await {
        Ok(f) => {
            let ev = Event::file(webhooks::FILE_SAVED, Some(author_id), &f);
            webhooks::emit(state, ev).await;
            Ok(f)
        }
        Err(e) => {
            super::content::discard_blob(state, &key).await;
            Err(e)
        }
    }
}

/// Deletes a file for its owner (DeleteFile's rules: refused while locked).
pub async fn delete(state: &AppState, file: FileRecord) -> Result<(), ApiError> {
    let grant = owner_grant(
        state,
        &file.owner_id,
        wopid_store::ResourceKind::File,
        &file.id,
    );
    super::relative::delete(state, &grant, file).await
}

/// What a resource's owner may do with it, as a grant for the use cases that take one (the
/// CLI's and the management API's, which act for the owner).
pub fn owner_grant(
    state: &AppState,
    owner_id: &str,
    kind: wopid_store::ResourceKind,
    id: &str,
) -> crate::auth::Grant {
    crate::auth::Grant {
        user_id: owner_id.to_owned(),
        kind,
        resource_id: id.to_owned(),
        perms: crate::auth::Perms::READ_WRITE,
        expires_ms: crate::auth::issue::fresh_expiry(state),
        client: None,
        epoch: 0,
        link: None,
        token_ref: String::new(),
    }
}

pub async fn versions(state: &AppState, file_id: &str) -> Result<Vec<VersionRecord>, ApiError> {
    super::load(state, file_id).await?;
    Ok(state.meta.versions(file_id).await?)
}

/// Makes an earlier version's content current again, as a new version (versions never repeat).
/// `actor` is the user asking (`None` for the administration commands).
pub async fn restore(
    state: &AppState,
    actor: Option<&str>,
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
        super::coauth::check_unlocked(f, now)?;
        let mut c = content.clone();

        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(FileUpdate::Content(c), ()))
    })
    .await?;
    let f = done.map(|(f, ())| f).ok_or(ApiError::Busy)?;
    let ev = Event::file(webhooks::FILE_SAVED, actor, &f).with("restored_version", version);
    webhooks::emit(state, ev).await;
    Ok(f)
}

/// Renames a file to exactly `name` (the web UI's rename: no numbered variant), refused while
/// another editor holds its lock. `Ok(false)`: the name is taken in its folder.
pub async fn rename_exact(
    state: &AppState,
    actor: Option<&str>,
    file: FileRecord,
    name: &str,
) -> Result<bool, ApiError> {
    let done = super::update_from(state, file, |cur, now| {
        super::coauth::check_rename(
            &wopid_proto::coauth::Presented::None,
            cur,
            now,
            state.lock_match(),
        )?;
        if cur.name == name {
            return Ok(Step::Done(None));
        }
        Ok(Step::Apply(
            FileUpdate::Rename(name.to_owned()),
            Some(cur.name.clone()),
        ))
    })
    .await?;
    if let Some((f, Some(previous))) = &done {
        let ev =
            Event::file(webhooks::FILE_RENAMED, actor, f).with("previous_name", previous.as_str());
        webhooks::emit(state, ev).await;
    }
    Ok(done.is_some())
}

/// What became of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    Done,
    /// The user may not take files out of the file's folder (a share of the file alone is not
    /// enough: moving changes the folder).
    SourceRefused,
    /// No folder the user may write to.
    NoTarget,
    /// A file of that name is already in the target folder.
    NameTaken,
}

/// Moves an unlocked file into the container `to`, for `user_id`.
pub async fn move_to(
    state: &AppState,
    user_id: &str,
    file: FileRecord,
    to: &str,
) -> Result<Moved, ApiError> {
    use crate::auth::{Access, access};
    if file.owner_id != user_id
        && access::container_access(state, user_id, &file.container_id).await? != Access::Write
    {
        return Ok(Moved::SourceRefused);
    }
    if access::container_access(state, user_id, to).await? != Access::Write {
        return Ok(Moved::NoTarget);
    }
    let done = super::update_from(state, file, |cur, now| {
        super::coauth::check_unlocked(cur, now)?;
        if cur.container_id == to {
            return Ok(Step::Done(None));
        }
        Ok(Step::Apply(
            FileUpdate::Move {
                container_id: to.to_owned(),
            },
            Some(cur.container_id.clone()),
        ))
    })
    .await?;
    Ok(match done {
        Some((f, from)) => {
            if let Some(from) = from {
                let ev = Event::file(webhooks::FILE_MOVED, Some(user_id), &f)
                    .with("previous_parent", from);
                webhooks::emit(state, ev).await;
            }
            Moved::Done
        }
        None => Moved::NameTaken,
    })
}

/// Grants `user_id` a share of `on` (or changes its permission), and tells the webhooks when
/// that changed anything: `share.created` for a new share, `share.changed` for another
/// permission. Granting the same share again changes nothing and tells nobody.
pub async fn share(
    state: &AppState,
    actor: Option<&str>,
    on: Shared<'_>,
    user_id: &str,
    can_write: bool,
) -> Result<(), ApiError> {
    let resource_id = match on {
        Shared::File(f) => f.id.clone(),
        Shared::Container(c) => c.id.clone(),
    };
    // Read before the write: two administrators sharing the same resource with the same user at
    // the same moment may both report `share.created`.
    let before = state
        .meta
        .shares(user_id, std::slice::from_ref(&resource_id))
        .await?
        .into_iter()
        .find(|s| s.resource_id == resource_id);
    let share = wopid_store::Share {
        resource_id,
        user_id: user_id.to_owned(),
        can_write,
    };
    state.meta.put_share(&share).await?;
    let kind = match before {
        None => webhooks::SHARE_CREATED,
        Some(b) if b.can_write != can_write => webhooks::SHARE_CHANGED,
        Some(_) => return Ok(()),
    };
    let ev = Event::share(kind, actor, on, user_id, Some(can_write));
    webhooks::emit(state, ev).await;
    Ok(())
}

/// Removes `user_id`'s share of `on`, and tells the webhooks (`share.removed`). `Ok(false)`:
/// there was none.
pub async fn unshare(
    state: &AppState,
    actor: Option<&str>,
    on: Shared<'_>,
    user_id: &str,
) -> Result<bool, ApiError> {
    let resource_id = match on {
        Shared::File(f) => f.id.as_str(),
        Shared::Container(c) => c.id.as_str(),
    };
    if !state.meta.remove_share(resource_id, user_id).await? {
        return Ok(false);
    }
    let ev = Event::share(webhooks::SHARE_REMOVED, actor, on, user_id, None);
    webhooks::emit(state, ev).await;
    Ok(true)
}
