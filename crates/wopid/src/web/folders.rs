//! Changing a folder: rename, move, delete (into the trash).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wopid_proto::ProtoError;
use wopid_store::Container;

use super::reach::{CsrfOnly, NameForm, back, refusal};
use super::session::SignedIn;
use crate::auth::{Access, access};
use crate::error::ApiError;
use crate::ops;
use crate::ops::containers::FolderMove;
use crate::page::message;
use crate::state::AppState;

/// What every form that changes a folder checks first: the form's CSRF token, then the folder
/// and the signed-in user's write access to it (404 without any access).
pub(crate) async fn folder_to_change(
    state: &AppState,
    me: &SignedIn,
    csrf: &str,
    id: &str,
) -> Result<Container, Response> {
    me.check_csrf(csrf)?;
    folder_grant(state, me, id, true).await
}

/// The folder, if the signed-in user may reach it (and change it, when `write` is asked).
pub(crate) async fn folder_grant(
    state: &AppState,
    me: &SignedIn,
    id: &str,
    write: bool,
) -> Result<Container, Response> {
    let not_found = || message(StatusCode::NOT_FOUND, "No such folder.");
    let c = match ops::browse::folder(state, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(e.into_response()),
    };
    match access::access_to(state, &me.user.id, &c).await {
        Ok(Access::None) => Err(not_found()),
        Ok(Access::Read) if write => Err(message(
            StatusCode::FORBIDDEN,
            "You may only view this folder.",
        )),
        Ok(_) => Ok(c),
        Err(e) => Err(e.into_response()),
    }
}

/// Where to go back to after changing a folder: the folder it is in, else itself.
fn parent_of(c: &Container) -> String {
    c.parent_id.clone().unwrap_or_else(|| c.id.clone())
}

pub(crate) async fn rename(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, ApiError> {
    let c = match folder_to_change(&state, &me, &f.csrf, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let name = f.name.trim();
    Ok(
        match ops::containers::rename_folder(&state, &me.user.id, &c, name).await {
            Ok(true) => back(&parent_of(&c), "Folder renamed."),
            Ok(false) => message(StatusCode::CONFLICT, "That name is taken in this folder."),
            Err(ApiError::Proto(ProtoError::InvalidContainerName(why))) => {
                message(StatusCode::BAD_REQUEST, why)
            }
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

pub(crate) async fn move_folder(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, ApiError> {
    let c = match folder_to_change(&state, &me, &f.csrf, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let moved = ops::containers::move_folder(&state, &me.user.id, &c, &f.container).await?;
    Ok(match moved {
        FolderMove::Done => back(&parent_of(&c), "Folder moved."),
        FolderMove::SourceRefused => message(
            StatusCode::FORBIDDEN,
            "You may not move this folder out of the folder it is in.",
        ),
        FolderMove::NoTarget => message(StatusCode::NOT_FOUND, "No such folder."),
        FolderMove::NameTaken => message(
            StatusCode::CONFLICT,
            "A folder of that name is already in the target folder.",
        ),
        FolderMove::IntoItself => message(
            StatusCode::CONFLICT,
            "A folder cannot be moved into itself or into a folder inside it.",
        ),
    })
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    let c = match folder_to_change(&state, &me, &f.csrf, &id).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    Ok(
        match ops::trash::trash_folder(&state, &me.user.id, &c, false).await {
            Ok(()) => back(&parent_of(&c), "Folder moved to the trash."),
            Err(ApiError::Proto(ProtoError::Forbidden(_))) => message(
                StatusCode::FORBIDDEN,
                "You may not delete this folder from the folder it is in.",
            ),
            Err(ApiError::Proto(ProtoError::Conflict(why))) => message(StatusCode::CONFLICT, why),
            Err(e) => refusal(e),
        },
    )
}
