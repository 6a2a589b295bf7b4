//! Browsing: the home redirect, a folder's page, and downloads.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use wopid_store::FileRecord;

use super::reach::{file_grant, see_other};
use super::session::SignedIn;
use crate::auth::{Access, access};
use crate::error::ApiError;
use crate::ops;
use crate::ops::browse::Shared;
use crate::page::{html, message};
use crate::state::AppState;

pub(crate) async fn home(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Response, ApiError> {
    let root = ops::browse::root(&state, &me.user.id).await?;
    Ok(see_other(&format!("/browse/{}", root.id)))
}

pub(crate) struct FileRow {
    id: String,
    name: String,
    size: u64,
    version: i64,
    modified: String,
    /// (editor, action) pairs: "Open in <editor>".
    editors: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "browse.html")]
struct Browse<'a> {
    user: &'a str,
    csrf: &'a str,
    folder: &'a str,
    folder_id: &'a str,
    crumbs: Vec<(String, String)>,
    folders: Vec<(String, String)>,
    files: Vec<FileRow>,
    targets: Vec<(String, String)>,
    writable: bool,
    kinds: &'static [&'static str],
    /// Folders shared with the user: (link, name).
    shared: Vec<(String, String)>,
    /// Files shared with the user: download always, "Open in" only where an editor can.
    shared_files: Vec<FileRow>,
    notice: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    done: String,
}

impl Notice {
    /// The confirmation an action redirected with, if any.
    pub(crate) fn notice(&self) -> Option<&str> {
        (!self.done.is_empty()).then_some(self.done.as_str())
    }
}

pub(crate) async fn browse(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, ApiError> {
    let Ok(container) = ops::containers::load(&state, &id).await else {
        return Ok(message(StatusCode::NOT_FOUND, "No such folder."));
    };
    let acc = access::container_access(&state, &me.user.id, &id).await?;
    if acc == Access::None {
        return Ok(message(StatusCode::NOT_FOUND, "No such folder."));
    }
    let mut chain = access::chain(&state, &id).await?;
    chain.remove(0);
    chain.reverse();
    let crumbs = chain.into_iter().map(|c| (c.id, c.name)).collect();
    let (folders, files) = ops::browse::listing(&state, &id).await?;
    let folders = folders.into_iter().map(|c| (c.id, c.name)).collect();
    let files = files
        .into_iter()
        .map(|f| file_row(&state, f, acc))
        .collect();
    let root = ops::browse::root(&state, &me.user.id).await?;
    let targets = ops::browse::tree(&state, &root).await?;
    let (shared, shared_files) =
        if container.parent_id.is_none() && container.owner_id == me.user.id {
            shared_with(&state, &me.user.id).await?
        } else {
            (Vec::new(), Vec::new())
        };
    let notice = (!n.done.is_empty()).then_some(n.done.as_str());
    let page = Browse {
        user: &me.user.display_name,
        csrf: &me.csrf,
        folder: &container.name,
        folder_id: &container.id,
        crumbs,
        folders,
        files,
        targets,
        writable: acc == Access::Write,
        kinds: &super::newdoc::NEW_DOCUMENT_EXTENSIONS,
        shared,
        shared_files,
        notice,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// What is shared with the user, for "Shared with me": folders, and files as rows of their own
/// with the editors that can open them (for editing only where the share allows it).
async fn shared_with(
    state: &AppState,
    user_id: &str,
) -> Result<(Vec<(String, String)>, Vec<FileRow>), ApiError> {
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for s in ops::browse::shared_with(state, user_id).await? {
        match s {
            Shared::File(f) => {
                let acc = access::file_access(state, user_id, &f).await?;
                files.push(file_row(state, f, acc));
            }
            Shared::Container(c) => {
                folders.push((format!("/browse/{}", c.id), format!("{}/", c.name)));
            }
        }
    }
    Ok((folders, files))
}

fn file_row(state: &AppState, f: FileRecord, acc: Access) -> FileRow {
    let ext = wopid_proto::names::split_ext(&f.name)
        .1
        .trim_start_matches('.')
        .to_lowercase();
    let editors = state.editors.open_actions(&ext, acc == Access::Write);
    FileRow {
        id: f.id,
        name: f.name,
        size: f.size,
        version: f.version,
        modified: wopid_proto::Millis::from_ms(f.modified_ms).to_iso8601(),
        editors,
    }
}

pub(crate) async fn download(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (file, _) = match file_grant(&state, &me, &id, false).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    crate::respond::send_file(&state, &file).await
}
