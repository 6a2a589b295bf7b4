//! PutRelativeFile, RenameFile and DeleteFile: the operations that create, name and remove files.

use wopid_proto::ProtoError;
use wopid_proto::body::NewFile as NewFileBody;
use wopid_proto::coauth::Presented;
use wopid_proto::names::{RelativeTarget, TargetRequest, free_name_candidates, split_ext};
use wopid_proto::request::Deferred;
use wopid_store::{BlobStream, Cas, Content, FileRecord, FileUpdate, NewFile};

use super::Step;
use super::content::{discard_blob, store_body};
use super::create::{create_with_free_name, name_exists, new_file_body};
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

/// PutRelativeFile: a new file next to `source` (or over an existing one, when asked to).
pub async fn put_relative(
    state: &AppState,
    grant: &Grant,
    source: FileRecord,
    target: Deferred<TargetRequest>,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<NewFileBody, ApiError> {
    if !grant.perms.can_write_relative() {
        return Err(ProtoError::NotImplemented(
            "PutRelativeFile is not available to this user".into(),
        )
        .into());
    }
    let target = target?.resolve(&source.name);
    let existing = exact_precheck(state, grant, &source.container_id, &target).await?;
    let kind = if existing.is_some() {
        webhooks::FILE_SAVED
    } else {
        webhooks::FILE_CREATED
    };
    let (key, out) = store_body(state, body, declared).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    match create(
        state,
        grant,
        &source.container_id,
        target,
        existing,
        content,
    )
    .await
    {
        Ok(f) => {
            webhooks::emit(state, Event::file(kind, Some(&grant.user_id), &f)).await;
            new_file_body(state, grant, &f.id, &f.name).await
        }
        Err(e) => {
            discard_blob(state, &key).await;
            Err(e)
        }
    }
}

/// For an exact target that exists: refused unless overwriting was asked for, the user may
/// write it and it is unlocked. Returns the file to overwrite.
async fn exact_precheck(
    state: &AppState,
    grant: &Grant,
    container_id: &str,
    target: &RelativeTarget,
) -> Result<Option<FileRecord>, ApiError> {
    let RelativeTarget::Exact { name, overwrite } = target else {
        return Ok(None);
    };
    let Some(existing) = state.meta.file_by_name(container_id, name).await? else {
        return Ok(None);
    };
    if !overwrite {
        return Err(name_exists(state, container_id, name).await);
    }
    if crate::auth::access::file_access(state, &grant.user_id, &existing).await?
        < crate::auth::Access::Write
    {
        return Err(
            ProtoError::NotImplemented("the user may not overwrite this file".into()).into(),
        );
    }
    super::coauth::check_unlocked(&existing, state.now_ms())?;
    Ok(Some(existing))
}

/// Writes the new file: under a free variant of a suggested name, over `existing`, or under the
/// exact name.
async fn create(
    state: &AppState,
    grant: &Grant,
    container_id: &str,
    target: RelativeTarget,
    existing: Option<FileRecord>,
    content: Content,
) -> Result<FileRecord, ApiError> {
    match (target, existing) {
        (RelativeTarget::Suggested(name), _) => {
            create_with_free_name(state, container_id, &grant.user_id, &name, content).await
        }
        (RelativeTarget::Exact { .. }, Some(existing)) => {
            super::create::overwrite(state, existing, content).await
        }
        (RelativeTarget::Exact { name, .. }, None) => {
            let new = NewFile {
                id: wopid_store::new_id(),
                container_id: container_id.to_owned(),
                owner_id: grant.user_id.clone(),
                name: name.clone(),
                content,
            };
            match state.meta.create_file(new).await? {
                Cas::Applied(f) => Ok(*f),
                Cas::Stale => Err(ProtoError::NotFound.into()),
                Cas::NameTaken => Err(name_exists(state, container_id, &name).await),
            }
        }
    }
}

/// RenameFile: returns the new name without its extension. A taken name becomes the first free
/// numbered variant.
pub async fn rename(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    presented: Presented,
    requested: Deferred<String>,
) -> Result<String, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow renaming").into());
    }
    super::coauth::check_rename(&presented, &file, state.now_ms(), state.lock_match())?;
    let wanted = wopid_proto::names::renamed(&requested?, &file.name)?;
    let id = file.id.clone();
    let mut read = Some(file);
    for candidate in free_name_candidates(&wanted) {
        let file = match read.take() {
            Some(f) => f,
            None => super::load(state, &id).await?,
        };
        let done = super::update_from(state, file, |f, now| {
            super::coauth::check_rename(&presented, f, now, state.lock_match())?;
            if f.name == candidate {
                return Ok(Step::Done(None));
            }
            Ok(Step::Apply(
                FileUpdate::Rename(candidate.clone()),
                Some(f.name.clone()),
            ))
        })
        .await?;
        if let Some((f, previous)) = done {
            if let Some(previous) = previous {
                let ev = Event::file(webhooks::FILE_RENAMED, Some(&grant.user_id), &f)
                    .with("previous_name", previous);
                webhooks::emit(state, ev).await;
            }
            return Ok(split_ext(&f.name).0.to_owned());
        }
    }
    Err(ProtoError::InvalidFileName("no free variant of the requested name").into())
}

/// DeleteFile: refused while the file is locked; the file goes to its owner's trash, and every
/// request on it answers 404 from then on (unless it is restored).
pub async fn delete(state: &AppState, grant: &Grant, file: FileRecord) -> Result<(), ApiError> {
    super::trash::trash_file(state, grant, file).await
}
