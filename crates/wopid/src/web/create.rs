//! Adding to a folder: a new folder, a new document, uploads.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::reach::{NameForm, back, see_other, writable_container};
use super::session::SignedIn;
use crate::error::ApiError;
use crate::ops;
use crate::page::message;
use crate::state::AppState;

pub(crate) async fn mkdir(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let parent = match writable_container(&state, &me, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let name = f.name.trim();
    if let Some(why) = wopid_proto::names::invalid_reason(name) {
        return Ok(message(StatusCode::BAD_REQUEST, why));
    }
    Ok(
        match ops::containers::create_named(&state, &me.user.id, &parent, name).await? {
            Some(_) => back(&parent.id, "Folder created."),
            None => message(StatusCode::CONFLICT, "That name is taken in this folder."),
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct NewDocForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub(crate) async fn new_document(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NewDocForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let parent = match writable_container(&state, &me, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let Some(bytes) = super::newdoc::NEW_DOCUMENT_EXTENSIONS
        .contains(&f.kind.as_str())
        .then(|| super::newdoc::empty_document(&f.kind))
        .flatten()
    else {
        return Ok(message(StatusCode::BAD_REQUEST, "Unknown document type."));
    };
    // An editor that offers `editnew` for the type fills an empty file with its own template
    // (the host page opens a zero-byte file with `editnew`); the others get wopid's blank one.
    let editor = state.editors.default_for(&f.kind);
    let editnew = editor
        .as_deref()
        .and_then(|name| state.editors.get(name))
        .and_then(|e| e.loaded())
        .is_some_and(|l| l.discovery.action(&f.kind, "editnew").is_some());
    let bytes = if editnew { Vec::new() } else { bytes };
    let stem = if f.name.trim().is_empty() {
        "Untitled"
    } else {
        f.name.trim()
    };
    let name = wopid_proto::names::sanitize(&format!("{stem}.{}", f.kind));
    let body: wopid_store::BlobStream =
        Box::pin(futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from(bytes),
        )]));
    let file = ops::files::add_file(&state, &me.user.login, &name, Some(&parent.id), body).await?;
    // Open it in the default editor for its type, when there is one.
    Ok(match editor {
        Some(editor) => see_other(&format!("/files/{}/edit?editor={editor}", file.id)),
        None => back(&parent.id, "Document created."),
    })
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    /// Older forms sent the token in the URL; the form now sends it as its first field.
    #[serde(default)]
    csrf: String,
}

/// Room for multipart boundaries and part headers on top of `max_upload_bytes`.
pub(crate) const MULTIPART_OVERHEAD: u64 = 1 << 20;

/// What a refused upload is told.
const TOO_LARGE: &str = "The upload is too large for this server.";

/// What an upload does when a file of its name is in the folder (`on_conflict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict {
    /// Refuse with 409, so the page can ask.
    Ask,
    /// A new version of the existing file.
    Replace,
    /// Store under a free name (`report (2).docx`): the default.
    Keep,
    /// Leave the existing file alone.
    Skip,
}

impl OnConflict {
    fn parse(v: &str) -> Option<Self> {
        match v.trim() {
            "ask" => Some(Self::Ask),
            "replace" => Some(Self::Replace),
            "keep" | "" => Some(Self::Keep),
            "skip" => Some(Self::Skip),
            _ => None,
        }
    }
}

/// One stored part: its file, and whether it replaced an existing one.
struct Stored {
    id: String,
    name: String,
    replaced: bool,
}

/// The answer to the page's script (`Accept: application/json`), or the page for a form.
struct Reply {
    json: bool,
}

impl Reply {
    fn refuse(&self, status: StatusCode, text: &str, exists: bool) -> Response {
        if self.json {
            let body = serde_json::json!({ "error": text, "exists": exists });
            (status, axum::Json(body)).into_response()
        } else {
            message(status, text)
        }
    }
}

/// Uploads: a multipart form of `csrf` (first; or the `X-CSRF-Token` header), `on_conflict`
/// (`ask|replace|keep|skip`, before the files; default `keep`) and any number of `file` parts,
/// each streamed to the blob store.
pub(crate) async fn upload(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let reply = Reply {
        json: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json")),
    };
    let presented = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&q.csrf)
        .to_owned();
    let mut csrf_ok = !presented.is_empty() && me.check_csrf(&presented).is_ok();
    let parent = match writable_container(&state, &me, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let mut on_conflict = OnConflict::Keep;
    let mut stored = Vec::new();
    let mut skipped = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Ok(refused_part(&reply, &e)),
        };
        let Some(raw_name) = field.file_name().map(str::to_owned) else {
            // A text field: the token or the conflict policy.
            let key = field.name().unwrap_or_default().to_owned();
            let value = match field.text().await {
                Ok(v) => v,
                Err(e) => return Ok(refused_part(&reply, &e)),
            };
            match key.as_str() {
                "csrf" if !csrf_ok => {
                    if let Err(r) = me.check_csrf(&value) {
                        return Ok(if reply.json {
                            reply.refuse(StatusCode::FORBIDDEN, crate::page::FORM_EXPIRED, false)
                        } else {
                            r
                        });
                    }
                    csrf_ok = true;
                }
                "on_conflict" => match OnConflict::parse(&value) {
                    Some(c) => on_conflict = c,
                    None => {
                        return Ok(reply.refuse(
                            StatusCode::BAD_REQUEST,
                            "on_conflict must be ask, replace, keep or skip.",
                            false,
                        ));
                    }
                },
                _ => {}
            }
            continue;
        };
        if !csrf_ok {
            return Ok(reply.refuse(StatusCode::FORBIDDEN, crate::page::FORM_EXPIRED, false));
        }
        let name =
            wopid_proto::names::sanitize(raw_name.rsplit(['/', '\\']).next().unwrap_or("upload"));
        let existing = ops::browse::file_named(&state, &parent.id, &name).await?;
        let outcome = match (existing, on_conflict) {
            (Some(_), OnConflict::Ask) => {
                drain(field).await;
                let text = format!(
                    "\u{201c}{name}\u{201d} already exists in this folder: replace it, keep both or skip."
                );
                return Ok(reply.refuse(StatusCode::CONFLICT, &text, true));
            }
            (Some(_), OnConflict::Skip) => {
                drain(field).await;
                skipped.push(name);
                continue;
            }
            (Some(file), OnConflict::Replace) => replace_part(&state, &me, file, field).await?,
            (_, _) => store_part(&state, &me, &parent.id, &name, field).await?,
        };
        match outcome {
            Ok(s) => stored.push(s),
            Err((status, text)) => return Ok(reply.refuse(status, &text, false)),
        }
    }
    if !csrf_ok {
        return Ok(reply.refuse(StatusCode::FORBIDDEN, crate::page::FORM_EXPIRED, false));
    }
    if stored.is_empty() && skipped.is_empty() {
        return Ok(reply.refuse(StatusCode::BAD_REQUEST, "No file was sent.", false));
    }
    if reply.json {
        let stored: Vec<_> = stored
            .iter()
            .map(|s| serde_json::json!({ "id": s.id, "name": s.name, "replaced": s.replaced }))
            .collect();
        let body = serde_json::json!({ "stored": stored, "skipped": skipped });
        return Ok((StatusCode::OK, axum::Json(body)).into_response());
    }
    let done = match (stored.len(), skipped.len()) {
        (1, 0) => "Uploaded.".to_owned(),
        (n, 0) => format!("Uploaded {n} files."),
        (0, k) => format!("Skipped {k} existing file(s)."),
        (n, k) => format!("Uploaded {n} file(s), skipped {k} existing."),
    };
    Ok(back(&parent.id, &done))
}

/// Reads and drops the rest of a part (a skipped file), so the answer reaches the browser.
async fn drain(mut field: axum::extract::multipart::Field<'_>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

/// The page for a multipart body that could not be read: 413 when it outgrew the limit.
fn refused_part(reply: &Reply, e: &axum::extract::multipart::MultipartError) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        reply.refuse(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, false)
    } else {
        reply.refuse(
            StatusCode::BAD_REQUEST,
            "The upload could not be read.",
            false,
        )
    }
}

/// A part's bytes as a blob stream, pumped chunk by chunk through a small channel (never whole
/// in memory). The pump returns the multipart error that ended it, if any.
fn part_stream(
    mut field: axum::extract::multipart::Field<'_>,
) -> (
    wopid_store::BlobStream,
    impl std::future::Future<Output = Option<axum::extract::multipart::MultipartError>> + '_,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    let body: wopid_store::BlobStream =
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }));
    let pump = async move {
        loop {
            let (item, failure) = match field.chunk().await {
                Ok(Some(chunk)) => (Ok(chunk), None),
                Ok(None) => return None,
                Err(e) => (
                    Err(std::io::Error::other("the upload could not be read")),
                    Some(e),
                ),
            };
            if tx.send(item).await.is_err() || failure.is_some() {
                return failure;
            }
        }
    };
    (body, pump)
}

type PartOutcome = Result<Stored, (StatusCode, String)>;

/// What a failed part is told: 413 over the limit, 400 for a body that broke off, a conflict
/// page for what the file's state refuses; anything else is the server's error.
fn part_failure(
    e: ApiError,
    failure: Option<axum::extract::multipart::MultipartError>,
) -> Result<PartOutcome, ApiError> {
    if let Some(f) = failure {
        return Ok(Err(if f.status() == StatusCode::PAYLOAD_TOO_LARGE {
            (StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE.to_owned())
        } else {
            (
                StatusCode::BAD_REQUEST,
                "The upload could not be read.".to_owned(),
            )
        }));
    }
    match e {
        ApiError::Store(wopid_store::StoreError::TooLarge { .. })
        | ApiError::Proto(wopid_proto::ProtoError::TooLarge { .. }) => {
            Ok(Err((StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE.to_owned())))
        }
        ApiError::Proto(wopid_proto::ProtoError::LockConflict(_)) => Ok(Err((
            StatusCode::CONFLICT,
            "The file is open in an editor (locked); try again when it is closed.".to_owned(),
        ))),
        ApiError::Proto(p) if p.status() < 500 => Ok(Err((
            StatusCode::from_u16(p.status()).unwrap_or(StatusCode::BAD_REQUEST),
            p.to_string(),
        ))),
        e => Err(e),
    }
}

/// Stores one file part as a new file (a free name when the name is taken). Streamed.
async fn store_part(
    state: &AppState,
    me: &SignedIn,
    parent: &str,
    name: &str,
    field: axum::extract::multipart::Field<'_>,
) -> Result<PartOutcome, ApiError> {
    let (body, pump) = part_stream(field);
    let (stored, failure) = tokio::join!(
        ops::files::add_file(state, &me.user.login, name, Some(parent), body),
        pump
    );
    match stored {
        Ok(f) => Ok(Ok(Stored {
            id: f.id,
            name: f.name,
            replaced: false,
        })),
        Err(e) => part_failure(e, failure),
    }
}

/// Stores one file part as a new version of `file`, when the user may write it. Streamed.
async fn replace_part(
    state: &AppState,
    me: &SignedIn,
    file: wopid_store::FileRecord,
    field: axum::extract::multipart::Field<'_>,
) -> Result<PartOutcome, ApiError> {
    if let Err(r) = super::reach::file_grant(state, me, &file.id, true).await {
        drain(field).await;
        let status = r.status();
        return Ok(Err((status, "You may not replace this file.".to_owned())));
    }
    let (body, pump) = part_stream(field);
    let (saved, failure) = tokio::join!(
        ops::files::replace_content(state, file, &me.user.id, body, None),
        pump
    );
    match saved {
        Ok(f) => Ok(Ok(Stored {
            id: f.id,
            name: f.name,
            replaced: true,
        })),
        Err(e) => part_failure(e, failure),
    }
}
