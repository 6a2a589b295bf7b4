//! GetFile and PutFile.

use wopid_proto::headers::ByteRange;
use wopid_proto::{LockId, ProtoError, lock};
use wopid_store::{BlobStream, Blobs, Content, FileUpdate};

use super::Step;
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;

/// A file's content on its way out.
pub struct Download {
    pub body: BlobStream,
    pub size: u64,
    pub range: Option<ByteRange>,
    pub version: i64,
}

/// GetFile: the current content, whole or a range, refused with 412 above `max_expected`.
pub async fn get_file(
    state: &AppState,
    file_id: &str,
    max_expected: u64,
    range: Option<&[u8]>,
) -> Result<Download, ApiError> {
    let file = super::load(state, file_id).await?;
    if file.size > max_expected {
        return Err(ProtoError::PreconditionFailed.into());
    }
    let range = wopid_proto::headers::range(range, file.size)?;
    let body = state
        .blobs
        .get(&file.blob_key, range.map(|r| (r.start, r.end)))
        .await?;
    Ok(Download {
        body,
        size: file.size,
        range,
        version: file.version,
    })
}

/// What a successful save returns.
pub struct Saved {
    pub version: i64,
    pub modified_ms: i64,
}

/// Streams a body into a new durable blob, refusing more than the configured cap.
pub async fn store_body(
    state: &AppState,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<(String, wopid_store::PutOutcome), ApiError> {
    let limit = state.config.max_upload_bytes;
    if declared.is_some_and(|n| n > limit) {
        return Err(ProtoError::TooLarge { limit }.into());
    }
    let key = Blobs::new_key();
    let out = state.blobs.put(&key, body, limit).await?;
    Ok((key, out))
}

/// Removes a blob that no record points to (a save that was refused after its upload).
pub async fn discard_blob(state: &AppState, key: &str) {
    if let Err(e) = state.blobs.delete(key).await {
        tracing::warn!(error = %e, "could not remove an unused blob");
    }
}

/// PutFile: the lock rules decide before the body is read and again, atomically, when the new
/// content is committed.
pub async fn put_file(
    state: &AppState,
    grant: &Grant,
    file_id: &str,
    lock_id: Option<LockId>,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<Saved, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow writing").into());
    }
    let file = super::load(state, file_id).await?;
    lock::check_put(
        lock_id.as_ref(),
        stored_lock(&file).as_ref(),
        file.size,
        state.now_ms(),
    )?;
    let (key, out) = store_body(state, body, declared).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    let result = super::update(state, file_id, |f, now| {
        lock::check_put(lock_id.as_ref(), stored_lock(f).as_ref(), f.size, now)?;
        let mut c = content.clone();
        // Modification times never go backwards, whatever the clocks of several nodes say.
        c.modified_ms = now.max(f.modified_ms + 1);
        Ok(Step::Apply(FileUpdate::Content(c), ()))
    })
    .await;
    match result {
        Ok(Some((f, ()))) => Ok(Saved {
            version: f.version,
            modified_ms: f.modified_ms,
        }),
        Ok(None) => {
            discard_blob(state, &key).await;
            Err(ApiError::Busy)
        }
        Err(e) => {
            discard_blob(state, &key).await;
            Err(e)
        }
    }
}

/// The file's lock in the protocol crate's terms.
pub fn stored_lock(f: &wopid_store::FileRecord) -> Option<wopid_proto::StoredLock> {
    f.lock_id.as_ref().map(|id| wopid_proto::StoredLock {
        id: id.clone(),
        expires_at_ms: f.lock_expires_ms,
    })
}
