//! Sharing a file with another user, and the sharing page editors open (`FileSharingUrl`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::reach::{back, file_grant, file_to_change};
use super::session::SignedIn;
use crate::error::ApiError;
use crate::ops;
use crate::page::{html, message};
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct ShareForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    mode: String,
}

pub(crate) async fn share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareForm>,
) -> Result<Response, ApiError> {
    let (file, _) = match file_to_change(&state, &me, &f.csrf, &id).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let can_write = f.mode == "write";
    if !ops::files::share_with(&state, &file, f.user.trim(), can_write).await? {
        return Ok(message(StatusCode::NOT_FOUND, "No such user."));
    }
    Ok(back(&file.container_id, "Shared."))
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct Sharing<'a> {
    user: &'a str,
    name: &'a str,
    file_id: &'a str,
    csrf: &'a str,
}

/// The sharing page editors open (`FileSharingUrl`).
pub(crate) async fn sharing(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (file, _) = match file_grant(&state, &me, &id, true).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    Ok(html(
        StatusCode::OK,
        Sharing {
            user: &me.user.display_name,
            name: &file.name,
            file_id: &file.id,
            csrf: &me.csrf,
        }
        .render(),
    ))
}
