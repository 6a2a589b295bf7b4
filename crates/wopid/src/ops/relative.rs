//! PutRelativeFile, RenameFile and DeleteFile: the operations that create, name and remove files.

use wopid_proto::body::NewFile as NewFileBody;
use wopid_proto::names::{RelativeTarget, TargetRequest, free_name_candidates, split_ext};
use wopid_proto::request::Deferred;
use wopid_proto::{LockId, ProtoError, lock, utf7};
use wopid_store::{BlobStream, Cas, Content, FileRecord, FileUpdate, NewFile};

use super::Step;
use super::content::{discard_blob, store_body, stored_lock};
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;

/// The first name of `name`, `name (2)`, `name (3)`… that no file in the container has.
pub async fn free_name(
    state: &AppState,
    container_id: &str,
    name: &str,
) -> Result<String, ApiError> {
    for candidate in free_name_candidates(name) {
        if state
            .meta
            .file_by_name(container_id, &candidate)
            .await?
            .is_none()
        {
            return Ok(candidate);
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

/// 409 with the first free variant of a taken exact name (the valid relative target header).
pub async fn name_exists(state: &AppState, container_id: &str, name: &str) -> ApiError {
    match free_name(state, container_id, name).await {
        Ok(free) => ProtoError::NameExists {
            valid_target: Some(utf7::encode(&free)),
        }
        .into(),
        Err(e) => e,
    }
}

/// Creates a file under the first free variant of `name`; the blob is already stored.
pub async fn create_with_free_name(
    state: &AppState,
    container_id: &str,
    owner_id: &str,
    name: &str,
    content: Content,
) -> Result<FileRecord, ApiError> {
    for candidate in free_name_candidates(name) {
        let new = NewFile {
            id: wopid_store::new_id(),
            container_id: container_id.to_owned(),
            owner_id: owner_id.to_owned(),
            name: candidate,
            content: content.clone(),
        };
        match state.meta.create_file(new).await? {
            Cas::Applied(f) => return Ok(*f),
            Cas::NameTaken | Cas::Stale => continue,
        }
    }
    Err(ProtoError::Conflict("no free name").into())
}

/// The response body of PutRelativeFile for a new or overwritten file.
async fn new_file_body(
    state: &AppState,
    grant: &Grant,
    file: &FileRecord,
) -> Result<NewFileBody, ApiError> {
    super::containers::new_file_body(state, grant, &file.id, &file.name).await
}

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
        Ok(f) => new_file_body(state, grant, &f).await,
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
    lock::check_unlocked(stored_lock(&existing).as_ref(), state.now_ms())?;
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
        (RelativeTarget::Exact { .. }, Some(existing)) => overwrite(state, existing, content).await,
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
                _ => Err(name_exists(state, container_id, &name).await),
            }
        }
    }
}

/// Replaces an unlocked file's content (its history keeps the old one).
pub async fn overwrite(
    state: &AppState,
    existing: FileRecord,
    content: Content,
) -> Result<FileRecord, ApiError> {
    let done = super::update_from(state, existing, |f, now| {
        lock::check_unlocked(stored_lock(f).as_ref(), now)?;
        let mut c = content.clone();
        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(FileUpdate::Content(c), ()))
    })
    .await?;
    done.map(|(f, ())| f).ok_or(ApiError::Busy)
}

/// RenameFile: returns the new name without its extension. A taken name becomes the first free
/// numbered variant.
pub async fn rename(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    lock_id: Option<LockId>,
    requested: Deferred<String>,
) -> Result<String, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow renaming").into());
    }
    lock::check_rename(
        lock_id.as_ref(),
        stored_lock(&file).as_ref(),
        state.now_ms(),
        state.lock_match(),
    )?;
    let wanted = wopid_proto::names::renamed(&requested?, &file.name)?;
    let id = file.id.clone();
    let mut read = Some(file);
    for candidate in free_name_candidates(&wanted) {
        let file = match read.take() {
            Some(f) => f,
            None => super::load(state, &id).await?,
        };
        let done = super::update_from(state, file, |f, now| {
            lock::check_rename(
                lock_id.as_ref(),
                stored_lock(f).as_ref(),
                now,
                state.lock_match(),
            )?;
            if f.name == candidate {
                return Ok(Step::Done(()));
            }
            Ok(Step::Apply(FileUpdate::Rename(candidate.clone()), ()))
        })
        .await?;
        if let Some((f, ())) = done {
            return Ok(split_ext(&f.name).0.to_owned());
        }
    }
    Err(ProtoError::InvalidFileName("no free variant of the requested name").into())
}

/// DeleteFile: refused while the file is locked; removes every version's content.
pub async fn delete(state: &AppState, grant: &Grant, file: FileRecord) -> Result<(), ApiError> {
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
        lock::check_unlocked(stored_lock(&f).as_ref(), state.now_ms())?;
        if let Some(keys) = state.meta.delete_file(&id, f.rev).await? {
            for k in keys {
                discard_blob(state, &k).await;
            }
            return Ok(());
        }
    }
    Err(ApiError::Busy)
}
