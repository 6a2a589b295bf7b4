//! Co-authoring: coauth locks (GetCoauthLock, RefreshCoauthLock, UnlockCoauthLock,
//! GetCoauthTable), sequence numbers (GetSequenceNumber) and the lock rules every other write
//! goes through (`check_write`, `check_rename`, `check_unlocked`), which see both lock kinds.
//!
//! The coauth locks live on the file's row, so a coauth lock change and a WOPI lock change are
//! the same compare-and-swap on its revision: two nodes racing GetCoauthLock against Lock cannot
//! both win.

use wopid_proto::coauth::{self, CoauthLock, CoauthLockType, CoauthRequest, Presented, WopiLock};
use wopid_proto::cspp::{CsppPlus, SharingStatus};
use wopid_proto::{LockMatch, ProtoError};
use wopid_store::{CoauthLockRecord, FileRecord, FileUpdate};

use super::Step;
use super::content::stored_lock;
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether co-authoring is configured; the operations answer 501 otherwise.
pub fn enabled(state: &AppState) -> bool {
    state.config.coauth().is_some()
}

/// The coauth locks of a file in the protocol's terms (a row of an unknown type is no lock).
pub fn locks(f: &FileRecord) -> Vec<CoauthLock> {
    f.coauth_locks
        .iter()
        .filter_map(|l| {
            Some(CoauthLock {
                id: l.id.clone(),
                kind: CoauthLockType::parse(l.kind.as_bytes()).ok()?,
                metadata: l.metadata.clone(),
                user_friendly_name: l.user_name.clone(),
                locked_at_ms: l.locked_ms,
                expires_at_ms: l.expires_ms,
            })
        })
        .collect()
}

fn records(table: &[CoauthLock]) -> Vec<CoauthLockRecord> {
    table
        .iter()
        .map(|l| CoauthLockRecord {
            id: l.id.clone(),
            kind: l.kind.as_str().to_owned(),
            metadata: l.metadata.clone(),
            user_name: l.user_friendly_name.clone(),
            locked_ms: l.locked_at_ms,
            expires_ms: l.expires_at_ms,
        })
        .collect()
}

/// The file's sequence number as the protocol sends it (1 to 2³¹−1).
pub fn sequence(f: &FileRecord) -> u32 {
    u32::try_from(f.sequence.clamp(1, i64::from(coauth::MAX_SEQUENCE_NUMBER))).unwrap_or(1)
}

/// PutFile's rule: the WOPI lock, else the coauth locks, else only an empty file.
pub fn check_write(
    presented: &Presented,
    f: &FileRecord,
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), ProtoError> {
    coauth::check_write(
        presented,
        stored_lock(f).as_ref(),
        &locks(f),
        f.size,
        now_ms,
        mode,
    )
}

/// RenameFile's rule: as [`check_write`], but an unlocked file is renamed whatever it presents.
pub fn check_rename(
    presented: &Presented,
    f: &FileRecord,
    now_ms: i64,
    mode: LockMatch,
) -> Result<(), ProtoError> {
    coauth::check_rename(presented, stored_lock(f).as_ref(), &locks(f), now_ms, mode)
}

/// DeleteFile, overwrites, restores, moves: refused while a lock of either kind is held.
pub fn check_unlocked(f: &FileRecord, now_ms: i64) -> Result<(), ProtoError> {
    coauth::check_unlocked(stored_lock(f).as_ref(), &locks(f), now_ms)
}

/// Lock and UnlockAndRelock: the WOPI lock cannot be taken while coauth locks are held.
pub fn check_exclusive_lock(f: &FileRecord, now_ms: i64) -> Result<(), ProtoError> {
    coauth::check_exclusive_lock(&locks(f), now_ms)
}

/// What a coauth lock operation answers: the table after it (or, refused, as it stands).
pub struct TableAnswer {
    /// The coauth table version (`wopi_header::COAUTH_TABLE_VERSION`).
    pub version: String,
    /// The body, `None` when the client already holds this version (GetCoauthTable).
    pub table: Option<coauth::CoauthTable>,
}

/// A refused coauth lock operation, with the version of the table it saw.
pub struct Refused {
    pub error: ApiError,
    pub version: String,
}

/// GetCoauthLock, RefreshCoauthLock, UnlockCoauthLock for the token's user (`user_name` is
/// shown to the other co-authors), stored by compare-and-swap.
pub async fn lock_op(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    user_name: &str,
    req: &CoauthRequest,
) -> Result<TableAnswer, Refused> {
    let seen_version = coauth::table_version(&locks(&file), state.now_ms());
    let refuse = |error: ApiError, version: String| Refused { error, version };
    if !grant.perms.can_write() {
        return Err(refuse(
            ProtoError::Forbidden("the access token does not allow editing").into(),
            seen_version,
        ));
    }
    // The version of the table the last decision saw, for a refusal.
    let mut version = seen_version;
    let done = super::update_from(state, file, |f, now| {
        let table = locks(f);
        version = coauth::table_version(&table, now);
        let wopi = stored_lock(f);
        let visible_user = f.lock_user.as_deref();
        let new = coauth::decide(
            req,
            &table,
            WopiLock {
                lock: wopi.as_ref(),
                visible_user,
            },
            user_name,
            now,
        )?;
        Ok(Step::Apply(FileUpdate::Coauth(records(&new)), now))
    })
    .await;
    match done {
        Ok(Some((f, now))) => {
            let table = locks(&f);
            Ok(TableAnswer {
                version: coauth::table_version(&table, now),
                table: Some(coauth::CoauthTable::of(&table, now)),
            })
        }
        Ok(None) => Err(refuse(ApiError::Busy, version)),
        Err(e) => Err(refuse(e, version)),
    }
}

/// GetCoauthTable: the version, and the table unless the client's version is current.
pub fn table(state: &AppState, f: &FileRecord, known_version: Option<&str>) -> TableAnswer {
    let (version, table) = coauth::table_response(&locks(f), known_version, state.now_ms());
    TableAnswer { version, table }
}

/// CheckFileInfo's co-authoring properties, when co-authoring is configured. `SharingStatus` is
/// `Shared` when the token's user is not the owner, or the file or its folder is shared with
/// somebody or has a live share link.
pub async fn cspp_plus(
    state: &AppState,
    grant: &Grant,
    f: &FileRecord,
) -> Result<Option<CsppPlus>, ApiError> {
    let Some(ends) = state.config.coauth() else {
        return Ok(None);
    };
    let now = state.now_ms();
    let shared = grant.user_id != f.owner_id
        || !state.meta.shares_on(&f.id).await?.is_empty()
        || !state.meta.shares_on(&f.container_id).await?.is_empty()
        || !state.meta.links_on(&f.id, now).await?.is_empty();
    Ok(Some(CsppPlus {
        supports_coauth: true,
        supports_chunked_file_transfer: true,
        sequence_number: sequence(f),
        access_token_expiry: grant.expires_ms.max(0),
        server_time: now.max(0),
        sharing_status: if shared {
            SharingStatus::Shared
        } else {
            SharingStatus::Private
        },
        file_geo_location_code: ends.geo_location_code.to_owned(),
        office_collaboration_service_endpoint_url: ends.service.to_owned(),
        real_time_channel_endpoint_url: ends.channel.to_owned(),
    }))
}
