//! GetFile and PutFile.

use wopid_proto::chunked::Retention;
use wopid_proto::headers::{ByteRange, RangeSpec};
use wopid_proto::request::{PutFile, SeenModified};
use wopid_proto::{Millis, ProtoError};
use wopid_store::{BlobStream, Blobs, Content, FileRecord, FileUpdate, SaveInfo, VersionRecord};

use super::Step;
use crate::auth::Grant;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{self, Event};

/// A file's content on its way out.
pub struct Download {
    pub body: BlobStream,
    pub size: u64,
    pub range: Option<ByteRange>,
    pub version: i64,
}

/// GetFile: the current content, whole or a range, refused with 412 above `max_expected` (before
/// the range is looked at: 416).
pub async fn get_file(
    state: &AppState,
    file: &FileRecord,
    max_expected: u64,
    range: Option<RangeSpec>,
) -> Result<Download, ApiError> {
    if file.size > max_expected {
        return Err(ProtoError::PreconditionFailed.into());
    }
    let range = range.map(|r| r.resolve(file.size)).transpose()?;
    let body =
        super::chunks::read_content(state, &file.blob_key, range.map(|r| (r.start, r.end))).await?;
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

/// Streams a body into a new durable blob, refusing more than the configured cap; a zip-based
/// document is then cut into chunks (`chunks::cut_stored`), so the key returned may name a
/// content of chunks. Every whole-content write stores its body here.
pub async fn store_body(
    state: &AppState,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<(String, wopid_store::PutOutcome), ApiError> {
    store_body_with(state, body, declared, Vec::new()).await
}

/// [`store_body`] with the content properties the new content keeps (a PutFile keeps the
/// `KeepOnContentChange` ones of the content it replaces).
pub async fn store_body_with(
    state: &AppState,
    body: BlobStream,
    declared: Option<u64>,
    properties: Vec<wopid_store::ContentProp>,
) -> Result<(String, wopid_store::PutOutcome), ApiError> {
    let limit = state.config.max_upload_bytes;
    if declared.is_some_and(|n| n > limit) {
        return Err(ProtoError::TooLarge { limit }.into());
    }
    // The first bytes say whether the body may be a zip archive worth cutting (every OOXML and
    // ODF document starts with a local file header); anything else is not read back.
    let head = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(4)));
    let seen = head.clone();
    let body: BlobStream = Box::pin(futures_util::StreamExt::inspect(body, move |piece| {
        if let Ok(b) = piece {
            let mut h = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if h.len() < 4 {
                let take = (4 - h.len()).min(b.len());
                h.extend_from_slice(&b[..take]);
            }
        }
    }));
    let key = Blobs::new_key();
    let out = state.blobs.put(&key, body, limit).await?;
    let zip_like = head
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .starts_with(b"PK\x03\x04");
    let key = super::chunks::cut_stored(state, key, &out, properties, zip_like).await?;
    Ok((key, out))
}

/// Removes a blob that no record points to (a save that was refused after its upload). A content
/// of chunks is left to the collector, which frees it once nothing references it.
pub async fn discard_blob(state: &AppState, key: &str) {
    if wopid_store::content_id(key).is_some() {
        return;
    }
    if let Err(e) = state.blobs.delete(key).await {
        tracing::warn!(error = %e, "could not remove an unused blob");
    }
}

/// The editor's view of the file is stale (Collabora's "document changed in storage").
fn stale_view(seen: Option<SeenModified>, f: &FileRecord) -> bool {
    seen.is_some_and(|s| s.is_stale(Millis::from_ms(f.modified_ms)))
}

/// How the save came about, as the history records it; the lock id names the editing session.
fn save_info(req: &PutFile) -> SaveInfo {
    SaveInfo {
        editors: req.save.editors.clone(),
        autosave: req.save.autosave,
        exit_save: req.save.exit_save,
        modified_by_user: req.save.modified_by_user,
        session: req.lock.as_ref().map(|l| l.as_str().to_owned()),
    }
}

/// PutFile: the lock rules decide before the body is read and again, atomically, when the new
/// content is committed.
pub async fn put_file(
    state: &AppState,
    grant: &Grant,
    file: FileRecord,
    req: PutFile,
    body: BlobStream,
    declared: Option<u64>,
) -> Result<Saved, ApiError> {
    if !grant.perms.can_write() {
        return Err(ProtoError::Forbidden("the access token does not allow writing").into());
    }
    let mode = state.lock_match();
    super::coauth::check_write(&req.presented(), &file, state.now_ms(), mode)?;
    if stale_view(req.seen_modified, &file) {
        return Err(ApiError::ChangedInStorage);
    }
    // The content properties a content change keeps (`KeepOnContentChange`) go with the new one.
    let kept = kept_properties(state, &file).await?;
    let (key, out) = store_body_with(state, body, declared, kept).await?;
    let content = Content {
        blob_key: key.clone(),
        size: out.size,
        sha256: out.sha256,
        author_id: grant.user_id.clone(),
        modified_ms: state.now_ms(),
    };
    let result = commit(state, file, &req, content).await;
    let saved = settle(state, result, &key).await?;
    crate::webhooks::emit(
        state,
        Event::file(webhooks::FILE_SAVED, Some(&grant.user_id), &saved),
    )
    .await;
    Ok(Saved {
        version: saved.version,
        modified_ms: saved.modified_ms,
    })
}

/// The content properties of a file's content that outlive a content change.
async fn kept_properties(
    state: &AppState,
    file: &FileRecord,
) -> Result<Vec<wopid_store::ContentProp>, ApiError> {
    let Some(id) = wopid_store::content_id(&file.blob_key) else {
        return Ok(Vec::new());
    };
    Ok(state
        .meta
        .content_properties(id)
        .await?
        .into_iter()
        .filter(|p| p.retention == Retention::KeepOnContentChange.as_str())
        .collect())
}

/// Commits the stored content if the lock rules still allow it; returns the saved file and the
/// history row it replaced (a coalesced autosave).
async fn commit(
    state: &AppState,
    file: FileRecord,
    req: &PutFile,
    content: Content,
) -> Result<Option<(FileRecord, Option<VersionRecord>)>, ApiError> {
    let mode = state.lock_match();
    let info = save_info(req);
    let last = state.meta.last_version(&file.id).await?;
    let window =
        i64::try_from(state.config.autosave_coalesce_window.as_millis()).unwrap_or(i64::MAX);
    super::update_from(state, file, |f, now| {
        super::coauth::check_write(&req.presented(), f, now, mode)?;
        if stale_view(req.seen_modified, f) {
            return Err(ApiError::ChangedInStorage);
        }
        let mut c = content.clone();
        // Modification times never go backwards, whatever the clocks of several nodes say.
        c.modified_ms = now.max(f.modified_ms + 1);
        let replaced = coalesce_with(last.as_ref(), f.version, &info, now, window).cloned();
        let replaces = replaced.as_ref().map(|v| v.version);
        Ok(Step::Apply(
            FileUpdate::Save {
                content: c,
                info: info.clone(),
                replaces,
            },
            replaced,
        ))
    })
    .await
}

/// The answer of a save: on success the replaced autosave's blob goes; on failure the new one.
async fn settle(
    state: &AppState,
    result: Result<Option<(FileRecord, Option<VersionRecord>)>, ApiError>,
    key: &str,
) -> Result<FileRecord, ApiError> {
    match result {
        Ok(Some((f, replaced))) => {
            if let Some(old) = replaced {
                // The coalesced autosave's content left the history. Only a PutFile writes an
                // autosave row, always with a blob of its own, so nothing else refers to it.
                if f.blob_key != old.blob_key {
                    discard_blob(state, &old.blob_key).await;
                    if wopid_store::content_id(&old.blob_key).is_some() {
                        super::chunks::collect_now(state).await;
                    }
                }
            }
            Ok(f)
        }
        Ok(None) => {
            discard_blob(state, key).await;
            Err(ApiError::Busy)
        }
        Err(e) => {
            discard_blob(state, key).await;
            Err(e)
        }
    }
}

/// The history row a save replaces: the latest one, when both are autosaves of the same editing
/// session within the window. A user save or an exit save is a version of its own and closes
/// the run: it never replaces the autosave before it, and no autosave replaces it.
fn coalesce_with<'a>(
    last: Option<&'a VersionRecord>,
    current: i64,
    info: &SaveInfo,
    now: i64,
    window: i64,
) -> Option<&'a VersionRecord> {
    let last = last?;
    let same_session = last.info.session.is_some() && last.info.session == info.session;
    let open = last.info.autosave && !last.info.exit_save;
    let autosave = info.autosave && !info.exit_save;
    (last.version == current
        && autosave
        && same_session
        && open
        && window > 0
        && now - last.modified_ms <= window)
        .then_some(last)
}

/// The file's lock in the protocol crate's terms.
pub fn stored_lock(f: &wopid_store::FileRecord) -> Option<wopid_proto::StoredLock> {
    f.lock_id.as_ref().map(|id| wopid_proto::StoredLock {
        id: id.clone(),
        expires_at_ms: f.lock_expires_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64, autosave: bool, exit_save: bool, at: i64) -> VersionRecord {
        VersionRecord {
            file_id: "f".into(),
            version,
            blob_key: format!("b{version}"),
            size: 1,
            sha256: String::new(),
            modified_ms: at,
            author_id: "u".into(),
            info: SaveInfo {
                autosave,
                exit_save,
                session: Some("lock".into()),
                ..SaveInfo::default()
            },
        }
    }

    fn save(autosave: bool, exit_save: bool) -> SaveInfo {
        SaveInfo {
            autosave,
            exit_save,
            session: Some("lock".into()),
            ..SaveInfo::default()
        }
    }

    #[test]
    fn only_consecutive_autosaves_of_a_session_coalesce() {
        let auto = row(2, true, false, 1_000);
        let w = 600_000;
        assert!(coalesce_with(Some(&auto), 2, &save(true, false), 2_000, w).is_some());
        // A user save or an exit save after autosaves is a version of its own.
        assert!(coalesce_with(Some(&auto), 2, &save(false, false), 2_000, w).is_none());
        assert!(coalesce_with(Some(&auto), 2, &save(false, true), 2_000, w).is_none());
        assert!(coalesce_with(Some(&auto), 2, &save(true, true), 2_000, w).is_none());
        // And nothing coalesces with them.
        let user = row(2, false, false, 1_000);
        assert!(coalesce_with(Some(&user), 2, &save(true, false), 2_000, w).is_none());
        let exit = row(2, true, true, 1_000);
        assert!(coalesce_with(Some(&exit), 2, &save(true, false), 2_000, w).is_none());
        // Another session, another version, a stale row, or outside the window: no.
        let other = SaveInfo {
            session: Some("other".into()),
            ..save(true, false)
        };
        assert!(coalesce_with(Some(&auto), 2, &other, 2_000, w).is_none());
        assert!(coalesce_with(Some(&auto), 3, &save(true, false), 2_000, w).is_none());
        assert!(coalesce_with(Some(&auto), 2, &save(true, false), 1_000 + w + 1, w).is_none());
        assert!(coalesce_with(Some(&auto), 2, &save(true, false), 2_000, 0).is_none());
    }
}
