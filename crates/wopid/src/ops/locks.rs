//! Lock, UnlockAndRelock, RefreshLock, Unlock and GetLock.

use wopid_proto::{LockOutcome, LockRequest, ProtoError, StoredLock, lock};
use wopid_store::{FileRecord, FileUpdate};

use super::Step;
use super::content::stored_lock;
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

/// Applies a lock operation; returns the file's version (unchanged by locking). `visible_user`
/// is the holder's name a Lock or UnlockAndRelock asked to show to those it refuses
/// (`wopi_header::LOCK_USER_VISIBLE` true); a RefreshLock keeps the name the lock has.
pub async fn lock_op(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    req: &LockRequest,
    visible_user: Option<&str>,
) -> Result<i64, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow editing").into());
    }
    let done = super::update_from(state, file, |f, now| {
        // The WOPI lock and coauth locks exclude each other.
        if matches!(
            req,
            LockRequest::Lock(_) | LockRequest::UnlockAndRelock { .. }
        ) {
            super::coauth::check_exclusive_lock(f, now)?;
        }
        // The live lock before the change: a refresh (the same id again) is no event.
        let before = StoredLock::live(stored_lock(f).as_ref(), now).map(|l| l.id.clone());
        match lock::decide(req, stored_lock(f).as_ref(), now, state.lock_match()) {
            LockOutcome::Set(l) => {
                let event =
                    (before.as_deref() != Some(l.id.as_str())).then_some(webhooks::FILE_LOCKED);
                let user = match req {
                    LockRequest::Refresh(_) => f.lock_user.clone(),
                    _ => visible_user.map(str::to_owned),
                };
                Ok(Step::Apply(
                    FileUpdate::Lock {
                        id: Some(l.id),
                        expires_ms: l.expires_at_ms,
                        user,
                    },
                    event,
                ))
            }
            LockOutcome::Clear => Ok(Step::Apply(
                FileUpdate::Lock {
                    id: None,
                    expires_ms: 0,
                    user: None,
                },
                before.is_some().then_some(webhooks::FILE_UNLOCKED),
            )),
            LockOutcome::Conflict(c) => Err(ProtoError::LockConflict(c).into()),
        }
    })
    .await?;
    let (f, event) = done.ok_or(ApiError::Busy)?;
    if let Some(kind) = event {
        webhooks::emit(state, Event::file(kind, Some(&grant.user_id), &f)).await;
    }
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
