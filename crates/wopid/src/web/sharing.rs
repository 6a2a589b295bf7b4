//! The sharing pages of files and folders (the file's is the one editors open, `FileSharingUrl`):
//! who has access and how, sharing with another user, changing or removing a share, and public
//! links with an expiry.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use wopid_store::ResourceKind;

use super::browse::Notice;
use super::folders::folder_grant;
use super::reach::{back, file_grant, see_other};
use super::session::SignedIn;
use crate::auth::{Grant, Perms};
use crate::error::ApiError;
use crate::ops;
use crate::ops::sharing::{Change, How, LINK_TTLS, Resource};
use crate::page::{html, message};
use crate::state::AppState;

/// Which kind of item a sharing route is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Folder,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::File => "files",
            Self::Folder => "folders",
        }
    }
}

/// The item, and a grant for the signed-in user on it (which must allow changes).
async fn reach(
    state: &AppState,
    me: &SignedIn,
    kind: Kind,
    id: &str,
) -> Result<(Resource, Grant), Response> {
    match kind {
        Kind::File => {
            let (f, g) = file_grant(state, me, id, true).await?;
            Ok((Resource::File(f), g))
        }
        Kind::Folder => {
            let c = folder_grant(state, me, id, true).await?;
            let grant = Grant {
                user_id: me.user.id.clone(),
                kind: ResourceKind::Container,
                resource_id: c.id.clone(),
                perms: Perms::READ_WRITE,
                expires_ms: crate::auth::issue::fresh_expiry(state),
                client: None,
                epoch: me.epoch,
                link: None,
                token_ref: String::new(),
            };
            Ok((Resource::Folder(c), grant))
        }
    }
}

/// Back to the sharing page with a notice.
fn back_to_page(kind: Kind, id: &str, done: &str) -> Response {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", done)
        .finish();
    see_other(&format!("/{}/{id}/sharing?{q}", kind.prefix()))
}

fn refused(c: Change, missing: &str) -> Response {
    match c {
        Change::NotOwner => message(
            StatusCode::FORBIDDEN,
            "Only the owner may change or remove shares and other people's links.",
        ),
        _ => message(StatusCode::NOT_FOUND, missing),
    }
}

struct HolderRow {
    user_id: String,
    name: String,
    how: String,
    /// A share of the item itself, which the page may change or remove.
    direct: bool,
    can_write: bool,
}

struct LinkRow {
    id: String,
    what: &'static str,
    expires: String,
    creator: String,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct Sharing<'a> {
    user: &'a str,
    csrf: &'a str,
    root: &'a str,
    name: &'a str,
    /// `/files/ID` or `/folders/ID`.
    base: String,
    is_folder: bool,
    /// Back to the folder: (path, name).
    folder: Option<(String, String)>,
    holders: Vec<HolderRow>,
    manages: bool,
    links: Vec<LinkRow>,
    ttls: Vec<(&'static str, &'static str)>,
    /// A link just made, shown once.
    new_link: Option<String>,
    notice: Option<&'a str>,
}

async fn page(
    state: &AppState,
    me: &SignedIn,
    kind: Kind,
    r: &Resource,
    new_link: Option<String>,
    notice: Option<&str>,
) -> Result<Response, ApiError> {
    let manages = ops::sharing::manages(state, &me.user.id, r).await?;
    let holders = ops::sharing::holders(state, r)
        .await?
        .into_iter()
        .map(|h| {
            let perm = |w: bool| if w { "can edit" } else { "can view" };
            let (how, direct, can_write) = match &h.how {
                How::Owner => ("owner".to_owned(), false, true),
                How::FolderOwner { folder } => {
                    (format!("owner of the folder {folder}"), false, true)
                }
                How::Shared { can_write } => (perm(*can_write).to_owned(), true, *can_write),
                How::Inherited { can_write, folder } => (
                    format!("{}, inherited from the folder {folder}", perm(*can_write)),
                    false,
                    *can_write,
                ),
            };
            let name = if h.login.is_empty() || h.login == h.display_name {
                h.display_name
            } else {
                format!("{} ({})", h.display_name, h.login)
            };
            HolderRow {
                user_id: h.user_id,
                name,
                how,
                direct,
                can_write,
            }
        })
        .collect();
    let links = ops::sharing::links(state, r)
        .await?
        .into_iter()
        .map(|l| LinkRow {
            revocable: manages || l.creator_id == me.user.id,
            what: if l.can_write {
                "Anyone with the link can edit"
            } else {
                "Anyone with the link can view"
            },
            expires: l.expires_ms.map_or_else(
                || "never expires".to_owned(),
                |e| format!("expires {}", super::reach::when(e)),
            ),
            creator: l.creator,
            id: l.id,
        })
        .collect();
    let folder_id = match r {
        Resource::File(f) => Some(f.container_id.clone()),
        Resource::Folder(c) => c.parent_id.clone(),
    };
    let root = ops::browse::root(state, &me.user.id).await?;
    let folder = match folder_id.filter(|id| *id != root.id) {
        Some(id) => {
            let path = super::reach::back_path(state, me, &id).await?;
            let name = match ops::browse::folder(state, &id).await? {
                Some(c) if path != "/" => c.name,
                _ => "My files".to_owned(),
            };
            Some((path, name))
        }
        None => None,
    };
    let p = Sharing {
        user: &me.user.display_name,
        csrf: &me.csrf,
        root: &root.id,
        name: r.name(),
        base: format!("/{}/{}", kind.prefix(), r.id()),
        is_folder: kind == Kind::Folder,
        folder,
        holders,
        manages,
        links,
        ttls: LINK_TTLS.iter().map(|(v, l, _)| (*v, *l)).collect(),
        new_link,
        notice,
    };
    Ok(html(StatusCode::OK, p.render()))
}

async fn show(
    state: AppState,
    me: SignedIn,
    kind: Kind,
    id: String,
    n: Notice,
) -> Result<Response, ApiError> {
    let (r, _) = match reach(&state, &me, kind, &id).await {
        Ok(g) => g,
        Err(resp) => return Ok(resp),
    };
    page(&state, &me, kind, &r, None, n.notice()).await
}

/// The file's sharing page (`FileSharingUrl`).
pub(crate) async fn sharing(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, ApiError> {
    show(state, me, Kind::File, id, n).await
}

pub(crate) async fn folder_sharing(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, ApiError> {
    show(state, me, Kind::Folder, id, n).await
}

#[derive(Deserialize)]
pub(crate) struct ShareForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    mode: String,
    /// `sharing`: back to the sharing page rather than the folder.
    #[serde(default)]
    back: String,
}

async fn add_share(
    state: AppState,
    me: SignedIn,
    kind: Kind,
    id: String,
    f: ShareForm,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (r, _) = match reach(&state, &me, kind, &id).await {
        Ok(g) => g,
        Err(resp) => return Ok(resp),
    };
    let can_write = f.mode == "write";
    let login = f.user.trim();
    if ops::sharing::share(&state, Some(&me.user.id), &r, login, can_write).await? != Change::Done {
        return Ok(message(StatusCode::NOT_FOUND, "No such user."));
    }
    if f.back == "sharing" {
        return Ok(back_to_page(kind, r.id(), &format!("Shared with {login}.")));
    }
    let folder = match &r {
        Resource::File(f) => f.container_id.clone(),
        Resource::Folder(c) => c.parent_id.clone().unwrap_or_else(|| c.id.clone()),
    };
    Ok(back(&folder, "Shared."))
}

pub(crate) async fn share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareForm>,
) -> Result<Response, ApiError> {
    add_share(state, me, Kind::File, id, f).await
}

pub(crate) async fn folder_share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareForm>,
) -> Result<Response, ApiError> {
    add_share(state, me, Kind::Folder, id, f).await
}

#[derive(Deserialize)]
pub(crate) struct ShareChange {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    mode: String,
}

async fn change_share(
    state: AppState,
    me: SignedIn,
    kind: Kind,
    id: String,
    f: ShareChange,
    remove: bool,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (r, _) = match reach(&state, &me, kind, &id).await {
        Ok(g) => g,
        Err(resp) => return Ok(resp),
    };
    let (done, text) = if remove {
        let c = ops::sharing::remove_share(&state, &me.user.id, &r, &f.user).await?;
        (c, "Share removed.")
    } else {
        let w = f.mode == "write";
        let c = ops::sharing::set_share(&state, &me.user.id, &r, &f.user, w).await?;
        (c, "Permission changed.")
    };
    Ok(match done {
        Change::Done => back_to_page(kind, r.id(), text),
        other => refused(other, "No such share."),
    })
}

pub(crate) async fn update_share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareChange>,
) -> Result<Response, ApiError> {
    change_share(state, me, Kind::File, id, f, false).await
}

pub(crate) async fn remove_share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareChange>,
) -> Result<Response, ApiError> {
    change_share(state, me, Kind::File, id, f, true).await
}

pub(crate) async fn folder_update_share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareChange>,
) -> Result<Response, ApiError> {
    change_share(state, me, Kind::Folder, id, f, false).await
}

pub(crate) async fn folder_remove_share(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ShareChange>,
) -> Result<Response, ApiError> {
    change_share(state, me, Kind::Folder, id, f, true).await
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    ttl: String,
    /// The link to revoke.
    #[serde(default)]
    link: String,
}

async fn new_link(
    state: AppState,
    me: SignedIn,
    kind: Kind,
    id: String,
    f: LinkForm,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (r, grant) = match reach(&state, &me, kind, &id).await {
        Ok(g) => g,
        Err(resp) => return Ok(resp),
    };
    let Some((_, _, ttl)) = LINK_TTLS.iter().find(|(v, _, _)| *v == f.ttl) else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Choose when the link expires.",
        ));
    };
    let (url, _) = ops::sharing::create_link(&state, &grant, &r, f.mode == "write", *ttl).await?;
    // The link is shown once, in this answer: only its hash is stored, and it never goes into
    // a redirect's URL.
    page(&state, &me, kind, &r, Some(url), Some("Link created.")).await
}

pub(crate) async fn create_link(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, ApiError> {
    new_link(state, me, Kind::File, id, f).await
}

pub(crate) async fn folder_create_link(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, ApiError> {
    new_link(state, me, Kind::Folder, id, f).await
}

async fn drop_link(
    state: AppState,
    me: SignedIn,
    kind: Kind,
    id: String,
    f: LinkForm,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (r, _) = match reach(&state, &me, kind, &id).await {
        Ok(g) => g,
        Err(resp) => return Ok(resp),
    };
    Ok(
        match ops::sharing::revoke_link(&state, &me.user.id, &r, &f.link).await? {
            Change::Done => back_to_page(kind, r.id(), "Link revoked."),
            other => refused(other, "No such link."),
        },
    )
}

pub(crate) async fn revoke_link(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, ApiError> {
    drop_link(state, me, Kind::File, id, f).await
}

pub(crate) async fn folder_revoke_link(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, ApiError> {
    drop_link(state, me, Kind::Folder, id, f).await
}
