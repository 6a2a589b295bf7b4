//! Acting on several selected files and folders at once: delete, move, and download as a zip.
//! The form posts `csrf`, `action=delete|move|zip`, `container` (the move's target) and one
//! `item` per selected entry (`f:FILE_ID` or `d:FOLDER_ID`). Every change goes through `ops`.

use std::collections::HashSet;
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use wopid_store::{Container, FileRecord};

use super::reach::{back, file_grant};
use super::session::SignedIn;
use crate::auth::{Access, access};
use crate::error::ApiError;
use crate::ops;
use crate::ops::containers::FolderMove;
use crate::ops::files::Moved;
use crate::page::message;
use crate::state::AppState;

/// How many entries one zip holds at most.
const ZIP_MAX_ENTRIES: usize = 10_000;
/// How many items one bulk action takes at most.
const MAX_ITEMS: usize = 1_000;

struct BulkForm {
    csrf: String,
    action: String,
    container: String,
    files: Vec<String>,
    folders: Vec<String>,
}

fn parse(body: &[u8]) -> BulkForm {
    let mut f = BulkForm {
        csrf: String::new(),
        action: String::new(),
        container: String::new(),
        files: Vec::new(),
        folders: Vec::new(),
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "csrf" => f.csrf = v.into_owned(),
            "action" => f.action = v.into_owned(),
            "container" => f.container = v.into_owned(),
            "item" => {
                if let Some(id) = v.strip_prefix("f:") {
                    f.files.push(id.to_owned());
                } else if let Some(id) = v.strip_prefix("d:") {
                    f.folders.push(id.to_owned());
                }
            }
            _ => {}
        }
    }
    f
}

pub(crate) async fn bulk(
    State(state): State<AppState>,
    me: SignedIn,
    Path(folder): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let f = parse(&body);
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    if access::container_access(&state, &me.user.id, &folder).await? == Access::None {
        return Ok(message(StatusCode::NOT_FOUND, "No such folder."));
    }
    if f.files.is_empty() && f.folders.is_empty() {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Select at least one file or folder first.",
        ));
    }
    if f.files.len() + f.folders.len() > MAX_ITEMS {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Too many items at once; select fewer.",
        ));
    }
    match f.action.as_str() {
        "delete" => delete(&state, &me, &folder, &f).await,
        "move" => move_to(&state, &me, &folder, &f).await,
        "zip" => zip(&state, &me, &folder, &f).await,
        _ => Ok(message(StatusCode::BAD_REQUEST, "Unknown action.")),
    }
}

/// "Deleted 2 items." and, when some were refused, how many and why.
fn summary(done_verb: &str, done: usize, refused: &[String]) -> String {
    let items = |n: usize| if n == 1 { "item" } else { "items" };
    let mut out = format!("{done_verb} {done} {}.", items(done));
    if !refused.is_empty() {
        out.push_str(&format!(" {} not: {}", refused.len(), refused.join("; ")));
    }
    out
}

/// A folder the signed-in user may change, or `None`.
async fn writable_folder(
    state: &AppState,
    me: &SignedIn,
    id: &str,
) -> Result<Option<Container>, ApiError> {
    if access::container_access(state, &me.user.id, id).await? != Access::Write {
        return Ok(None);
    }
    Ok(ops::containers::load(state, id).await.ok())
}

/// A failure of the server itself (storage down, …), answered as such rather than listed.
fn server_side(e: &ApiError) -> bool {
    match e {
        ApiError::Proto(p) => p.status() >= 500,
        ApiError::ChangedInStorage => false,
        _ => true,
    }
}

fn why(e: &ApiError) -> String {
    match e {
        ApiError::Proto(wopid_proto::ProtoError::LockConflict(_)) => "open in an editor".into(),
        ApiError::Proto(p) if p.status() < 500 => p.to_string(),
        _ => "failed".into(),
    }
}

async fn delete(
    state: &AppState,
    me: &SignedIn,
    folder: &str,
    f: &BulkForm,
) -> Result<Response, ApiError> {
    let (mut done, mut refused) = (0, Vec::new());
    for id in &f.files {
        let Ok((file, grant)) = file_grant(state, me, id, true).await else {
            refused.push("a file you may not change".to_owned());
            continue;
        };
        let name = file.name.clone();
        match ops::relative::delete(state, &grant, file).await {
            Ok(()) => done += 1,
            Err(e) if server_side(&e) => return Err(e),
            Err(e) => refused.push(format!("{name} ({})", why(&e))),
        }
    }
    for id in &f.folders {
        let Some(c) = writable_folder(state, me, id).await? else {
            refused.push("a folder you may not change".to_owned());
            continue;
        };
        // A folder goes to the trash with everything in it, as from its own menu.
        match ops::trash::trash_folder(state, &me.user.id, &c, false).await {
            Ok(()) => done += 1,
            Err(e) if server_side(&e) => return Err(e),
            Err(e) => refused.push(format!("{} ({})", c.name, why(&e))),
        }
    }
    Ok(back(folder, &summary("Deleted", done, &refused)))
}

async fn move_to(
    state: &AppState,
    me: &SignedIn,
    folder: &str,
    f: &BulkForm,
) -> Result<Response, ApiError> {
    let (mut done, mut refused) = (0, Vec::new());
    for id in &f.files {
        let Ok((file, _)) = file_grant(state, me, id, true).await else {
            refused.push("a file you may not change".to_owned());
            continue;
        };
        let name = file.name.clone();
        match ops::files::move_to(state, &me.user.id, file, &f.container).await {
            Ok(Moved::Done) => done += 1,
            Ok(Moved::SourceRefused) => refused.push(format!("{name} (not yours to move)")),
            Ok(Moved::NoTarget) => {
                return Ok(message(StatusCode::NOT_FOUND, "No such target folder."));
            }
            Ok(Moved::NameTaken) => refused.push(format!("{name} (name taken there)")),
            Err(e) if server_side(&e) => return Err(e),
            Err(e) => refused.push(format!("{name} ({})", why(&e))),
        }
    }
    for id in &f.folders {
        let Some(c) = writable_folder(state, me, id).await? else {
            refused.push("a folder you may not change".to_owned());
            continue;
        };
        let name = c.name.clone();
        match ops::containers::move_folder(state, &me.user.id, &c, &f.container).await {
            Ok(FolderMove::Done) => done += 1,
            Ok(FolderMove::SourceRefused) => refused.push(format!("{name} (not yours to move)")),
            Ok(FolderMove::NoTarget) => {
                return Ok(message(StatusCode::NOT_FOUND, "No such target folder."));
            }
            Ok(FolderMove::NameTaken) => refused.push(format!("{name} (name taken there)")),
            Ok(FolderMove::IntoItself) => refused.push(format!("{name} (into itself)")),
            Err(e) if server_side(&e) => return Err(e),
            Err(e) => refused.push(format!("{name} ({})", why(&e))),
        }
    }
    Ok(back(folder, &summary("Moved", done, &refused)))
}

/// The files of a selection with their paths in the zip: the selected files, and every file
/// under the selected folders (the folder's name as the path's first part).
async fn entries(
    state: &AppState,
    me: &SignedIn,
    f: &BulkForm,
) -> Result<Result<Vec<(String, FileRecord)>, Response>, ApiError> {
    let mut out = Vec::new();
    let mut used = HashSet::new();
    let mut add = |path: String, file: FileRecord, out: &mut Vec<(String, FileRecord)>| {
        let free = wopid_proto::names::free_name_candidates(&path).find(|p| !used.contains(p));
        let path = free.unwrap_or(path);
        used.insert(path.clone());
        out.push((path, file));
    };
    for id in &f.files {
        match file_grant(state, me, id, false).await {
            Ok((file, _)) => add(file.name.clone(), file, &mut out),
            Err(r) => return Ok(Err(r)),
        }
    }
    for id in &f.folders {
        if access::container_access(state, &me.user.id, id).await? == Access::None {
            return Ok(Err(message(StatusCode::NOT_FOUND, "No such folder.")));
        }
        let Ok(top) = ops::containers::load(state, id).await else {
            return Ok(Err(message(StatusCode::NOT_FOUND, "No such folder.")));
        };
        let mut stack = vec![(top.id.clone(), top.name.clone())];
        while let Some((cid, prefix)) = stack.pop() {
            let (folders, files) = ops::browse::listing(state, &cid).await?;
            for file in files {
                add(format!("{prefix}/{}", file.name), file, &mut out);
            }
            for c in folders {
                stack.push((c.id, format!("{prefix}/{}", c.name)));
            }
            if out.len() > ZIP_MAX_ENTRIES {
                return Ok(Err(message(
                    StatusCode::BAD_REQUEST,
                    "Too many files for one zip; select fewer.",
                )));
            }
        }
    }
    Ok(Ok(out))
}

/// Bytes written by the zip writer, sent on in chunks through a bounded channel: the blocking
/// thread waits while the client is slow, so memory stays flat.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

fn zip_time(ms: i64) -> zip::DateTime {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .unwrap_or_default()
}

/// Writes the zip on the blocking pool, reading each blob as a stream.
fn write_zip(
    state: &AppState,
    handle: &tokio::runtime::Handle,
    files: Vec<(String, FileRecord)>,
    out: ChannelWriter,
) -> Result<(), String> {
    let mut zip = zip::ZipWriter::new_stream(out);
    for (path, file) in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip_time(file.modified_ms))
            .large_file(file.size >= u64::from(u32::MAX) - CHUNK as u64);
        zip.start_file(path, options).map_err(|e| e.to_string())?;
        let mut body = handle
            .block_on(ops::content::get_file(state, &file, u64::MAX, None))
            .map_err(|e| e.to_string())?
            .body;
        while let Some(chunk) = handle.block_on(body.next()) {
            let chunk = chunk.map_err(|e| e.to_string())?;
            zip.write_all(&chunk).map_err(|e| e.to_string())?;
        }
    }
    let mut inner = zip.finish().map_err(|e| e.to_string())?.into_inner();
    inner.flush().map_err(|e| e.to_string())
}

async fn zip(
    state: &AppState,
    me: &SignedIn,
    folder: &str,
    f: &BulkForm,
) -> Result<Response, ApiError> {
    let files = match entries(state, me, f).await? {
        Ok(files) => files,
        Err(r) => return Ok(r),
    };
    let name = match (f.files.len(), f.folders.len()) {
        (0, 1) => ops::containers::load(state, &f.folders[0])
            .await
            .map(|c| format!("{}.zip", c.name))
            .unwrap_or_else(|_| "files.zip".into()),
        _ => ops::containers::load(state, folder)
            .await
            .map(|c| format!("{}.zip", c.name))
            .unwrap_or_else(|_| "files.zip".into()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let handle = tokio::runtime::Handle::current();
    let st = state.clone();
    let failed = tx.clone();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_zip(&st, &handle, files, out) {
            tracing::warn!(error = %e, "zip download stopped");
            // The client sees a broken download rather than a zip that looks whole.
            let _ = failed.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::respond::percent(&name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
