//! Browsing: the home redirect, a folder's page, and downloads.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use wopid_store::FileRecord;

use super::format;
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
    /// The sprite symbol of its type.
    icon: &'static str,
    size: String,
    version: i64,
    ago: String,
    exact: String,
    datetime: String,
    /// Where the row leads: the default editor when one opens this type, else the download.
    href: String,
    /// (editor, action) pairs: "Open in <editor>".
    editors: Vec<(String, &'static str)>,
    /// "Open in desktop app" (Office URI scheme), for Word, Excel and PowerPoint files.
    desktop: Option<String>,
}

pub(crate) struct FolderRow {
    id: String,
    name: String,
}

/// A sortable column's header: its link and what it says to assistive technology.
pub(crate) struct Column {
    key: &'static str,
    label: &'static str,
    href: String,
    /// `aria-sort`: ascending, descending or none.
    aria: &'static str,
    arrow: &'static str,
}

#[derive(Template)]
#[template(path = "browse.html")]
struct Browse<'a> {
    user: &'a str,
    /// An administrator: the header links to `/admin`.
    admin: bool,
    csrf: &'a str,
    folder: &'a str,
    folder_id: &'a str,
    crumbs: Vec<(String, String)>,
    folders: Vec<FolderRow>,
    files: Vec<FileRow>,
    targets: Vec<(String, String)>,
    writable: bool,
    kinds: &'static [&'static str],
    /// Folders shared with the user.
    shared: Vec<FolderRow>,
    /// Files shared with the user: download always, "Open in" only where an editor can.
    shared_files: Vec<FileRow>,
    notice: Option<&'a str>,
    columns: Vec<Column>,
    /// The name filter.
    q: &'a str,
    sort: &'a str,
    dir: &'a str,
    max_upload: u64,
}

/// `?sort=name|size|modified&dir=asc|desc&q=FILTER&done=NOTICE`.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(flatten)]
    done: Notice,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    q: String,
}

/// The sort key and direction of a query (name, ascending by default).
fn sort_of(q: &ListQuery) -> (&'static str, &'static str) {
    let key = match q.sort.as_str() {
        "size" => "size",
        "modified" => "modified",
        _ => "name",
    };
    let dir = if q.dir == "desc" { "desc" } else { "asc" };
    (key, dir)
}

fn columns(sort: &str, dir: &str, filter: &str) -> Vec<Column> {
    [("name", "Name"), ("size", "Size"), ("modified", "Modified")]
        .into_iter()
        .map(|(key, label)| {
            let current = key == sort;
            let next = if current && dir == "asc" {
                "desc"
            } else {
                "asc"
            };
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("sort", key).append_pair("dir", next);
            if !filter.is_empty() {
                q.append_pair("q", filter);
            }
            let (aria, arrow) = match (current, dir) {
                (false, _) => ("none", ""),
                (true, "desc") => ("descending", "\u{25BE}"),
                (true, _) => ("ascending", "\u{25B4}"),
            };
            Column {
                key,
                label,
                href: format!("?{}", q.finish()),
                aria,
                arrow,
            }
        })
        .collect()
}

/// Case-insensitive name order, then the exact name, so the order is stable.
fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
}

/// `?done=NOTICE`: the confirmation of the pages other than the folder's.
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
    Query(n): Query<ListQuery>,
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
    let (sort, dir) = sort_of(&n);
    let filter = n.q.trim();
    let wanted =
        |name: &str| filter.is_empty() || name.to_lowercase().contains(&filter.to_lowercase());
    let (mut folders, mut files) = ops::browse::listing(&state, &id).await?;
    folders.retain(|c| wanted(&c.name));
    files.retain(|f| wanted(&f.name));
    // Folders first, by name; files by the chosen column (then by name).
    folders.sort_by(|a, b| by_name(&a.name, &b.name));
    if sort == "name" && dir == "desc" {
        folders.reverse();
    }
    files.sort_by(|a, b| {
        let order = match sort {
            "size" => a.size.cmp(&b.size),
            "modified" => a.modified_ms.cmp(&b.modified_ms),
            _ => std::cmp::Ordering::Equal,
        };
        let order = order.then_with(|| by_name(&a.name, &b.name));
        if dir == "desc" {
            order.reverse()
        } else {
            order
        }
    });
    let folders = folders
        .into_iter()
        .map(|c| FolderRow {
            id: c.id,
            name: c.name,
        })
        .collect();
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
    let notice = n.done.notice();
    let page = Browse {
        user: &me.user.display_name,
        admin: me.user.admin,
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
        columns: columns(sort, dir, filter),
        q: filter,
        sort,
        dir,
        max_upload: state.config.max_upload_bytes,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// What is shared with the user, for "Shared with me": folders, and files as rows of their own
/// with the editors that can open them (for editing only where the share allows it).
async fn shared_with(
    state: &AppState,
    user_id: &str,
) -> Result<(Vec<FolderRow>, Vec<FileRow>), ApiError> {
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for s in ops::browse::shared_with(state, user_id).await? {
        match s {
            Shared::File(f) => {
                let acc = access::file_access(state, user_id, &f).await?;
                files.push(file_row(state, f, acc));
            }
            Shared::Container(c) => {
                folders.push(FolderRow {
                    id: c.id,
                    name: c.name,
                });
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
    let writable = acc == Access::Write;
    let editors = state.editors.open_actions(&ext, writable);
    // The row opens in the default editor for the type when it can open the file, else it
    // downloads.
    let href = state
        .editors
        .default_for(&ext)
        .and_then(|d| editors.iter().find(|(e, _)| *e == d))
        .map(|(e, action)| format!("/files/{}/{action}?editor={e}", f.id))
        .unwrap_or_else(|| format!("/files/{}/download", f.id));
    let desktop = format::office_scheme(&ext)
        .map(|scheme| format::office_uri(scheme, &state.wopi_src(&f.id), writable));
    let now = state.now_ms();
    FileRow {
        icon: format::icon(&ext),
        size: format::size(f.size),
        version: f.version,
        ago: format::ago(f.modified_ms, now),
        exact: format::exact(f.modified_ms),
        datetime: format::datetime(f.modified_ms),
        href,
        editors,
        desktop,
        id: f.id,
        name: f.name,
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
