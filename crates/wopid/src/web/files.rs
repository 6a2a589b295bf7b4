//! Changing a file: rename, move, delete.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::reach::{CsrfOnly, NameForm, back, file_to_change, refusal};
use super::session::SignedIn;
use crate::error::ApiError;
use crate::ops;
use crate::ops::files::Moved;
use crate::page::message;
use crate::state::AppState;

pub(crate) async fn rename(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, ApiError> {
    let (file, _) = match file_to_change(&state, &me, &f.csrf, &id).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    // The typed name must be valid as typed, and again with the extension it may gain.
    let typed = f.name.trim();
    let name = wopid_proto::names::keeping_ext(typed, &file.name);
    let invalid = wopid_proto::names::invalid_reason(typed);
    if let Some(why) = invalid.or_else(|| wopid_proto::names::invalid_reason(&name)) {
        return Ok(message(StatusCode::BAD_REQUEST, why));
    }
    let folder = file.container_id.clone();
    Ok(
        match ops::files::rename_exact(&state, Some(&me.user.id), file, &name).await {
            Ok(true) => back(&folder, "Renamed."),
            Ok(false) => message(StatusCode::CONFLICT, "That name is taken in this folder."),
            Err(e) => refusal(e),
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    container: String,
}

pub(crate) async fn move_file(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, ApiError> {
    let (file, _) = match file_to_change(&state, &me, &f.csrf, &id).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let folder = file.container_id.clone();
    let moved = ops::files::move_to(&state, &me.user.id, file, &f.container).await;
    Ok(match moved {
        Ok(Moved::Done) => back(&folder, "Moved."),
        Ok(Moved::SourceRefused) => message(
            StatusCode::FORBIDDEN,
            "You may not move files out of this folder.",
        ),
        Ok(Moved::NoTarget) => message(StatusCode::NOT_FOUND, "No such folder."),
        Ok(Moved::NameTaken) => message(
            StatusCode::CONFLICT,
            "A file of that name is already in the target folder.",
        ),
        Err(e) => refusal(e),
    })
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    let (file, grant) = match file_to_change(&state, &me, &f.csrf, &id).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let container_id = file.container_id.clone();
    Ok(match ops::relative::delete(&state, &grant, file).await {
        Ok(()) => back(&container_id, "Moved to the trash."),
        Err(e) => refusal(e),
    })
}
