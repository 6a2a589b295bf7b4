//! Adding to a folder: a new folder, a new document, uploads.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
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
    #[serde(default)]
    csrf: String,
}

/// Room for multipart boundaries and part headers on top of `max_upload_bytes`.
pub(crate) const MULTIPART_OVERHEAD: u64 = 1 << 20;

/// What a refused upload is told.
const TOO_LARGE: &str = "The upload is too large for this server.";

pub(crate) async fn upload(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&q.csrf) {
        return Ok(r);
    }
    let parent = match writable_container(&state, &me, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let mut stored = 0;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Ok(refused_part(&e)),
        };
        let Some(raw_name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let name =
            wopid_proto::names::sanitize(raw_name.rsplit(['/', '\\']).next().unwrap_or("upload"));
        if let Err(r) = store_part(&state, &me, &parent.id, &name, field).await? {
            return Ok(r);
        }
        stored += 1;
    }

    Ok(if stored == 0 {
        message(StatusCode::BAD_REQUEST, "No file was sent.")
    } else {
        back(&parent.id, "Uploaded.")
    })
}

/// The page for a multipart body that could not be read: 413 when it outgrew the limit.
fn refused_part(e: &axum::extract::multipart::MultipartError) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        message(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE)
    } else {
        message(StatusCode::BAD_REQUEST, "The upload could not be read.")
    }
}

/// Stores one file part. Streamed: the part goes to the blob store chunk by chunk through a
/// small channel, never whole in memory. A part or body over the limit gets a 413 page.
async fn store_part(
    state: &AppState,
    me: &SignedIn,
    parent: &str,
    name: &str,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Result<(), Response>, ApiError> {
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
    let (stored, failure) = tokio::join!(
        ops::files::add_file(state, &me.user.login, name, Some(parent), body),
        pump
    );
    match (stored, failure) {
        (Ok(_), _) => Ok(Ok(())),
        (Err(_), Some(e)) => Ok(Err(refused_part(&e))),
        (
            Err(
                ApiError::Store(wopid_store::StoreError::TooLarge { .. })
                | ApiError::Proto(wopid_proto::ProtoError::TooLarge { .. }),
            ),
            None,
        ) => Ok(Err(message(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE))),
        (Err(e), None) => Err(e),
    }
}
