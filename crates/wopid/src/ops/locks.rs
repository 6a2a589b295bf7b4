//! Lock, UnlockAndRelock, RefreshLock, Unlock and GetLock.

use wopid_proto::{LockOutcome, LockRequest, ProtoError, StoredLock, lock};
use wopid_store::{FileRecord, FileUpdate};

use super::Step;
use super::content::stored_lock;
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;

/// Applies a lock operation; returns the file's version (unchanged by locking).
pub async fn lock_op(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    req: &LockRequest,
) -> Result<i64, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow editing").into());
    }
    let done = super::update_from(state, file, |f, now| {
        match lock::decide(req, stored_lock(f).as_ref(), now, state.lock_match()) {
            LockOutcome::Set(l) => Ok(Step::Apply(
                FileUpdate::Lock {
                    id: Some(l.id),
                    expires_ms: l.expires_at_ms,
                },
                (),
            )),
            LockOutcome::Clear => Ok(Step::Apply(
                FileUpdate::Lock {
                    id: None,
                    expires_ms: 0,
                },
                (),
            )),
            LockOutcome::Conflict(c) => Err(ProtoError::LockConflict(c).into()),
        }
    })
    .await?;
    let (f, ()) = done.ok_or(ApiError::Busy)?;
    Ok(f.version)
}

/// GetLock: the current lock id, empty when unlocked or expired.
pub fn get_lock(state: &AppState, f: &FileRecord) -> (String, i64) {
    let stored = stored_lock(f);
    let current = StoredLock::live(stored.as_ref(), state.now_ms())
        .map(|l| l.id.clone())
        .unwrap_or_default();
    (current, f.version)
}
