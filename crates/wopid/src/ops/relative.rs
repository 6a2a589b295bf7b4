//! PutRelativeFile, RenameFile and DeleteFile: the operations that create, name and remove files.

use wopid_proto::body::NewFile as NewFileBody;
use wopid_proto::names::{RelativeTarget, numbered, split_ext};
use wopid_proto::{LockId, ProtoError, lock, utf7};
use wopid_store::{BlobStream, Cas, Content, FileRecord, FileUpdate, NewFile};

use super::Step;
use super::content::{discard_blob, store_body, stored_lock};
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;

/// How many numbered alternatives are tried for a taken name.
const NAME_ATTEMPTS: u32 = 1000;

/// The first name of `name`, `name (2)`, `name (3)`… that no file in the container has.
pub async fn free_name(
    state: &AppState,
    container_id: &str,
    name: &str,
) -> Result<String, ApiError> {
    for n in 1..=NAME_ATTEMPTS {
        let candidate = if n == 1 {
            name.to_owned()
        } else {
            numbered(name, n)
        };
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

/// Creates a file under the first free variant of `name`; the blob is already stored.
pub async fn create_with_free_name(
    state: &AppState,
    container_id: &str,
    owner_id: &str,
    name: &str,
    content: Content,
) -> Result<FileRecord, ApiError> {
    for n in 1..=NAME_ATTEMPTS {
        let candidate = if n == 1 {
            name.to_owned()
        } else {
            numbered(name, n)
        };
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

pub async fn put_relative(
    state: &AppState,
    grant: &Grant,
    file_id: &str,
    target: RelativeTarget,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<NewFileBody, ApiError> {
    let source = super::load(state, file_id).await?;
    let existing = match &target {
        RelativeTarget::Exact { name, .. } => {
            state.meta.file_by_name(&source.container_id, name).await?
        }
        RelativeTarget::Suggested(_) => None,
    };
    if let (RelativeTarget::Exact { name, overwrite }, Some(existing)) = (&target, &existing) {
        if !overwrite {
            let free = free_name(state, &source.container_id, name).await?;
            return Err(ProtoError::NameExists {
                valid_target: Some(utf7::encode(&free)),
            }
            .into());
        }
        if crate::auth::access::file_access(state, &grant.user_id, existing).await?
            < crate::auth::Access::Write
        {
            return Err(
                ProtoError::NotImplemented("the user may not overwrite this file".into()).into(),
            );
        }
        lock::check_unlocked(stored_lock(existing).as_ref(), state.now_ms())?;
    }
    let (key, out) = store_body(state, body, declared).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    let created = match (&target, existing) {
        (RelativeTarget::Suggested(name), _) => {
            create_with_free_name(state, &source.container_id, &grant.user_id, name, content).await
        }
        (RelativeTarget::Exact { .. }, Some(existing)) => {
            let done = super::update(state, &existing.id, |f, now| {
                lock::check_unlocked(stored_lock(f).as_ref(), now)?;
                let mut c = content.clone();
                c.modified_ms = now.max(f.modified_ms + 1);
                Ok(Step::Apply(FileUpdate::Content(c), ()))
            })
            .await;
            done.and_then(|d| d.map(|(f, ())| f).ok_or(ApiError::Busy))
        }
        (RelativeTarget::Exact { name, .. }, None) => {
            let new = NewFile {
                id: wopid_store::new_id(),
                container_id: source.container_id.clone(),
                owner_id: grant.user_id.clone(),
                name: name.clone(),
                content,
            };
            match state.meta.create_file(new).await {
                Ok(Cas::Applied(f)) => Ok(*f),
                Ok(_) => {
                    let free = free_name(state, &source.container_id, name).await?;
                    Err(ProtoError::NameExists {
                        valid_target: Some(utf7::encode(&free)),
                    }
                    .into())
                }
                Err(e) => Err(e.into()),
            }
        }
    };
    match created {
        Ok(f) => new_file_body(state, grant, &f).await,
        Err(e) => {
            discard_blob(state, &key).await;
            Err(e)
        }
    }
}

/// RenameFile: returns the new name without its extension. A taken name becomes the first free
/// numbered variant.
pub async fn rename(
    state: &AppState,
    grant: &Grant,
    file_id: &str,
    lock_id: Option<LockId>,
    requested: Option<&[u8]>,
) -> Result<String, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow renaming").into());
    }
    let file = super::load(state, file_id).await?;
    lock::check_rename(
        lock_id.as_ref(),
        stored_lock(&file).as_ref(),
        state.now_ms(),
        state.lock_match(),
    )?;

    let wanted = wopid_proto::names::rename_target(requested, &file.name)?;
    for n in 1..=NAME_ATTEMPTS {
        let candidate = if n == 1 {
            wanted.clone()
        } else {
            numbered(&wanted, n)
        };
        let done = super::update(state, file_id, |f, now| {
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
pub async fn delete(state: &AppState, grant: &Grant, file_id: &str) -> Result<(), ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow deleting").into());
    }
    for _ in 0..super::CAS_ATTEMPTS {
        let f = super::load(state, file_id).await?;
        lock::check_unlocked(stored_lock(&f).as_ref(), state.now_ms())?;
        if let Some(keys) = state.meta.delete_file(file_id, f.rev).await? {
            for k in keys {
                discard_blob(state, &k).await;
            }
            return Ok(());
        }
    }
    Err(ApiError::Busy)
}
