//! A file's versions, and restoring one.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::reach::{file_grant, file_to_change, refusal, see_other};
use super::session::SignedIn;
use crate::error::ApiError;
use crate::ops;
use crate::page::html;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "versions.html")]
struct Versions<'a> {
    user: &'a str,
    name: &'a str,
    file_id: &'a str,
    /// "Back to the folder": the file's folder, or home for a recipient who cannot reach it.
    back: &'a str,
    csrf: &'a str,
    current: i64,
    writable: bool,
    versions: Vec<VersionRow>,
}

struct VersionRow {
    version: i64,
    ago: String,
    exact: String,
    datetime: String,
    size: String,
    author: String,
    kind: &'static str,
}

pub(crate) async fn versions(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (file, grant) = match file_grant(&state, &me, &id, false).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let now = state.now_ms();
    let mut rows = Vec::new();
    for (v, author) in ops::browse::history(&state, &id).await? {
        let kind = if v.info.exit_save {
            "closing save"
        } else if v.info.autosave {
            "autosave"
        } else {
            "save"
        };
        rows.push(VersionRow {
            version: v.version,
            ago: super::format::ago(v.modified_ms, now),
            exact: super::format::exact(v.modified_ms),
            datetime: super::format::datetime(v.modified_ms),
            size: super::format::size(v.size),
            author,
            kind,
        });
    }
    let page = Versions {
        user: &me.user.display_name,
        name: &file.name,
        file_id: &file.id,
        back: &super::reach::back_path(&state, &me, &file.container_id).await?,
        csrf: &me.csrf,
        current: file.version,
        writable: grant.perms.can_write(),
        versions: rows,
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Deserialize)]
pub(crate) struct RestoreForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: i64,
}

pub(crate) async fn restore(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RestoreForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = file_to_change(&state, &me, &f.csrf, &id).await {
        return Ok(r);
    }
    Ok(match ops::files::restore(&state, &id, f.version).await {
        Ok(_) => see_other(&format!("/files/{id}/versions")),
        Err(e) => refusal(e),
    })
}
