//! The use cases, free of HTTP types so that the CLI calls them too.
//!
//! Each one reads the file's state, asks a `wopid_proto` rule what to do at `now`, and applies the
//! answer with a compare-and-swap, reading and deciding again (a bounded number of times) when
//! another request changed the file in between.

pub mod browse;
pub mod chunked;
pub mod chunks;
pub mod coauth;
pub mod containers;
pub mod content;
pub mod create;
pub mod ecosystem;
pub mod files;
pub mod folders;
pub mod info;
pub mod locks;
pub mod misc;
pub mod open;
pub mod relative;
pub mod shares;
pub mod sharing;
pub mod trash;
pub mod users;

use wopid_proto::ProtoError;
use wopid_store::{Cas, FileRecord, FileUpdate};

use crate::error::ApiError;
use crate::state::AppState;

/// How often a compare-and-swap is retried before the request fails.
const CAS_ATTEMPTS: usize = 64;

/// The file, or 404.
pub async fn load(state: &AppState, id: &str) -> Result<FileRecord, ApiError> {
    state
        .meta
        .file(id)
        .await?
        .ok_or_else(|| ProtoError::NotFound.into())
}

/// What `update` decided for the file as it stood.
pub enum Step<T> {
    /// Apply this change; `T` is handed back with the updated file.
    Apply(FileUpdate, T),
    /// Nothing to change.
    Done(T),
}

/// Reads the file, lets `decide` choose a change, and applies it with compare-and-swap; on a
/// stale read it reads and decides again. `Ok(None)` means the change would take a name that
/// exists.
pub async fn update<T>(
    state: &AppState,
    id: &str,
    decide: impl FnMut(&FileRecord, i64) -> Result<Step<T>, ApiError>,
) -> Result<Option<(FileRecord, T)>, ApiError> {
    let file = load(state, id).await?;
    update_from(state, file, decide).await
}

/// [`update`] starting from the file as this request already read it; it is read again only
/// when another request changed it in between.
pub async fn update_from<T>(
    state: &AppState,
    file: FileRecord,
    mut decide: impl FnMut(&FileRecord, i64) -> Result<Step<T>, ApiError>,
) -> Result<Option<(FileRecord, T)>, ApiError> {
    let id = file.id.clone();
    let mut read = Some(file);
    for _ in 0..CAS_ATTEMPTS {
        let file = match read.take() {
            Some(f) => f,
            None => load(state, &id).await?,
        };
        let (change, out) = match decide(&file, state.now_ms())? {
            Step::Done(out) => return Ok(Some((file, out))),
            Step::Apply(change, out) => (change, out),
        };
        match state.meta.update_file(&id, file.rev, change).await? {
            Cas::Applied(f) => return Ok(Some((*f, out))),
            Cas::NameTaken => return Ok(None),
            Cas::Stale => continue,
        }
    }
    Err(ApiError::Busy)
}
