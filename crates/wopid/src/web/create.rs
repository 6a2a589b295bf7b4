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
    Ok(match state.editors.default_for(&f.kind) {
        Some(editor) => see_other(&format!("/files/{}/edit?editor={editor}", file.id)),
        None => back(&parent.id, "Document created."),
    })
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    #[serde(default)]
    csrf: String,
}

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
    while let Ok(Some(mut field)) = form.next_field().await {
        let Some(raw_name) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let name =
            wopid_proto::names::sanitize(raw_name.rsplit(['/', '\\']).next().unwrap_or("upload"));
        // Streamed: the part goes to the blob store chunk by chunk through a small channel,
        // never whole in memory.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
        let body: wopid_store::BlobStream =
            Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            }));
        let pump = async move {
            loop {
                let item = match field.chunk().await {
                    Ok(Some(chunk)) => Ok(chunk),
                    Ok(None) => break,
                    Err(e) => Err(std::io::Error::other(e)),
                };
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        };
        let (stored_file, ()) = tokio::join!(
            ops::files::add_file(&state, &me.user.login, &name, Some(&parent.id), body),
            pump
        );
        stored_file?;
        stored += 1;
    }

    Ok(if stored == 0 {
        message(StatusCode::BAD_REQUEST, "No file was sent.")
    } else {
        back(&parent.id, "Uploaded.")
    })
}
