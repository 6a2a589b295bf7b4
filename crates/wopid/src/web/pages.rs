//! The web UI: sign-in, folders, upload, download, new documents and folders, rename, move,
//! delete, versions and restore, sharing. Server-rendered with autoescaping templates; every
//! form carries the session's CSRF token.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use wopid_proto::ProtoError;
use wopid_store::{Container, FileRecord, FileUpdate, ResourceKind, Share};

use super::session::{self, SignedIn};
use crate::auth::{Access, Grant, access, oauth};
use crate::clock::iso8601;
use crate::error::ApiError;
use crate::ops;
use crate::state::AppState;

/// A small page with one message.
#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    text: &'a str,
}

pub fn message(status: StatusCode, text: &str) -> Response {
    html(status, Message { text }.render())
}

/// Renders a page with the headers every page of the UI carries.
pub fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    let Ok(body) = rendered else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered",
        )
            .into_response();
    };
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    );
    resp
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- sign-in ----

const LOGIN_CSRF: &str = "wopid_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    error: Option<&'a str>,
    csrf: &'a str,
    next: &'a str,
    password: bool,
    providers: Vec<super::oidc::ProviderLink>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

/// Only a path of this site: never an absolute or protocol-relative URL (no open redirect).
/// Browsers drop tabs and newlines from URLs and read `\\` as `/`, so `/<TAB>/evil.example` is
/// `//evil.example` to them: a `next` must be printable ASCII without spaces or backslashes,
/// start with one `/` and not a second one. Anything else means the home page.
pub(crate) fn safe_next(next: &str) -> &str {
    let printable = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if printable && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

fn login_page(state: &AppState, status: StatusCode, error: Option<&str>, next: &str) -> Response {
    let csrf = crate::auth::tokens::random_token();
    let mut resp = html(
        status,
        Login {
            error,
            csrf: &csrf,
            next: safe_next(next),
            password: state.config.password_sign_in,
            providers: super::oidc::web_links(state, safe_next(next)),
        }
        .render(),
    );
    let secure = if state.base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF}={csrf}; Path=/login; HttpOnly; SameSite=Strict{secure}"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

pub(crate) async fn login_form(State(state): State<AppState>, Query(q): Query<Next>) -> Response {
    login_page(&state, StatusCode::OK, None, &q.next)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    crate::http::ClientAddr(addr): crate::http::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let cookie = session::cookie_value(&headers, LOGIN_CSRF).unwrap_or_default();
    if cookie.is_empty() || !crate::auth::tokens::same(&cookie, &f.csrf) {
        return Ok(message(
            StatusCode::FORBIDDEN,
            "The form expired or did not come from this site. Go back and try again.",
        ));
    }
    if !state.config.password_sign_in {
        return Ok(message(
            StatusCode::FORBIDDEN,
            "Sign-in with a password is switched off here.",
        ));
    }
    // Where to go is settled before anything is created: the redirect cannot fail afterwards.
    let next = safe_next(&f.next);
    let user = match oauth::sign_in(&state, &f.username, &f.password, addr).await? {
        Ok(u) => u,
        Err(oauth::SignInError::Invalid) => {
            return Ok(login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("Wrong user name or password."),
                &f.next,
            ));
        }
        Err(oauth::SignInError::RateLimited) => {
            return Ok(login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                Some("Too many failed attempts; try again later."),
                &f.next,
            ));
        }
    };
    let cookie = session::start(&state, &user).await?;
    let mut resp = see_other(next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    me: SignedIn,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let cookie = session::end(&state, &headers).await?;
    let mut resp = see_other("/login");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

// ---- browsing ----

pub(crate) async fn home(
    State(state): State<AppState>,
    me: SignedIn,
) -> Result<Response, ApiError> {
    let root = state
        .meta
        .root_container(&me.user.id, state.now_ms())
        .await?;
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
    shared: Vec<(String, String)>,
    notice: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    done: String,
}

/// The containers of a tree, depth first, with their paths, for the "Move to" list.
async fn tree(state: &AppState, root: &Container) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.clone(), root.name.clone())];
    while let Some((c, path)) = stack.pop() {
        if out.len() >= 500 {
            break;
        }
        for child in state.meta.child_containers(&c.id).await?.into_iter().rev() {
            let p = format!("{path}/{}", child.name);
            stack.push((child, p));
        }
        out.push((c.id, path));
    }
    Ok(out)
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
    let folders = state
        .meta
        .child_containers(&id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let files = state
        .meta
        .list_files(Some(&id))
        .await?
        .into_iter()
        .map(|f| file_row(&state, f, acc))
        .collect();
    let root = state
        .meta
        .root_container(&me.user.id, state.now_ms())
        .await?;
    let targets = tree(&state, &root).await?;
    let mut shared = Vec::new();
    if container.parent_id.is_none() && container.owner_id == me.user.id {
        for Share { resource_id, .. } in state.meta.shares_of(&me.user.id).await? {
            if let Some(f) = state.meta.file(&resource_id).await? {
                shared.push((format!("/files/{}/view", f.id), f.name));
            } else if let Some(c) = state.meta.container(&resource_id).await? {
                shared.push((format!("/browse/{}", c.id), format!("{}/", c.name)));
            }
        }
    }
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
        notice,
    };
    Ok(html(StatusCode::OK, page.render()))
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
        modified: iso8601(f.modified_ms),
        editors,
    }
}

/// The signed-in user's grant on a file: 404 without access, and without write access when
/// `write` is asked.
async fn file_grant(
    state: &AppState,
    me: &SignedIn,
    id: &str,
    write: bool,
) -> Result<(FileRecord, Grant), Response> {
    let not_found = || message(StatusCode::NOT_FOUND, "No such file.");
    let file = match state.meta.file(id).await {
        Ok(Some(f)) => f,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let acc = match access::file_access(state, &me.user.id, &file).await {
        Ok(a) => a,
        Err(e) => return Err(e.into_response()),
    };
    let Some(perms) = acc.perms() else {
        return Err(not_found());
    };
    if write && !perms.can_write() {
        return Err(message(
            StatusCode::FORBIDDEN,
            "You may only view this file.",
        ));
    }
    let grant = Grant {
        user_id: me.user.id.clone(),
        kind: ResourceKind::File,
        resource_id: file.id.clone(),
        perms,
        expires_ms: crate::ops::ecosystem::fresh_expiry(state),
        client: None,
        epoch: me.epoch,
        link: None,
        token_ref: String::new(),
    };
    Ok((file, grant))
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
    crate::http::send_file(&state, &file).await
}

// ---- changes ----

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

fn back(folder: &str, done: &str) -> Response {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("done", done)
        .finish();
    see_other(&format!("/browse/{folder}?{q}"))
}

fn refusal(e: ApiError) -> Response {
    let text = match &e {
        ApiError::Proto(ProtoError::LockConflict(_)) => {
            "The file is open in an editor (locked); try again when it is closed.".to_owned()
        }
        ApiError::Proto(ProtoError::NameExists { .. }) => {
            "That name is taken in this folder.".to_owned()
        }
        ApiError::Proto(p) if p.status() < 500 => p.to_string(),
        _ => return e.into_response(),
    };
    message(StatusCode::CONFLICT, &text)
}

pub(crate) async fn rename(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, ApiError> {
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (file, _) = match file_grant(&state, &me, &id, true).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let name = f.name.trim().to_owned();
    if let Some(why) = wopid_proto::names::invalid_reason(&name) {
        return Ok(message(StatusCode::BAD_REQUEST, why));
    }
    let done = ops::update(&state, &id, |cur, now| {
        wopid_proto::lock::check_rename(
            None,
            ops::content::stored_lock(cur).as_ref(),
            now,
            state.lock_match(),
        )?;
        Ok(ops::Step::Apply(FileUpdate::Rename(name.clone()), ()))
    })
    .await;
    Ok(match done {
        Ok(Some(_)) => back(&file.container_id, "Renamed."),
        Ok(None) => message(StatusCode::CONFLICT, "That name is taken in this folder."),
        Err(e) => refusal(e),
    })
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
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (file, _) = match file_grant(&state, &me, &id, true).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    // Taking a file out of a folder changes that folder: a share of the file alone is not enough.
    if file.owner_id != me.user.id
        && access::container_access(&state, &me.user.id, &file.container_id).await? != Access::Write
    {
        return Ok(message(
            StatusCode::FORBIDDEN,
            "You may not move files out of this folder.",
        ));
    }
    if access::container_access(&state, &me.user.id, &f.container).await? != Access::Write {
        return Ok(message(StatusCode::NOT_FOUND, "No such folder."));
    }
    let to = f.container.clone();
    let done = ops::update(&state, &id, |cur, now| {
        wopid_proto::lock::check_unlocked(ops::content::stored_lock(cur).as_ref(), now)?;
        Ok(ops::Step::Apply(
            FileUpdate::Move {
                container_id: to.clone(),
            },
            (),
        ))
    })
    .await;
    Ok(match done {
        Ok(Some(_)) => back(&file.container_id, "Moved."),
        Ok(None) => message(
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
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (file, grant) = match file_grant(&state, &me, &id, true).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    Ok(match ops::relative::delete(&state, &grant, &id).await {
        Ok(()) => back(&file.container_id, "Deleted."),
        Err(e) => refusal(e),
    })
}

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
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    let (file, _) = match file_grant(&state, &me, &id, true).await {
        Ok(g) => g,
        Err(r) => return Ok(r),
    };
    let Some(other) = state.meta.user_by_login(f.user.trim()).await? else {
        return Ok(message(StatusCode::NOT_FOUND, "No such user."));
    };
    let can_write = f.mode == "write";
    state
        .meta
        .put_share(&Share {
            resource_id: file.id.clone(),
            user_id: other.id,
            can_write,
        })
        .await?;
    Ok(back(&file.container_id, "Shared."))
}

#[derive(Template)]
#[template(path = "versions.html")]
struct Versions<'a> {
    name: &'a str,
    file_id: &'a str,
    folder_id: &'a str,
    csrf: &'a str,
    current: i64,
    writable: bool,
    versions: Vec<VersionRow>,
}

struct VersionRow {
    version: i64,
    modified: String,
    size: u64,
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
    let mut rows = Vec::new();
    for v in state.meta.versions(&id).await?.into_iter().rev() {
        let author = state
            .meta
            .user(&v.author_id)
            .await?
            .map_or(v.author_id.clone(), |u| u.display_name);
        let kind = if v.info.exit_save {
            "closing save"
        } else if v.info.autosave {
            "autosave"
        } else {
            "save"
        };
        rows.push(VersionRow {
            version: v.version,
            modified: iso8601(v.modified_ms),
            size: v.size,
            author,
            kind,
        });
    }
    let page = Versions {
        name: &file.name,
        file_id: &file.id,
        folder_id: &file.container_id,
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
    if let Err(r) = me.check_csrf(&f.csrf) {
        return Ok(r);
    }
    if let Err(r) = file_grant(&state, &me, &id, true).await {
        return Ok(r);
    }
    Ok(match ops::files::restore(&state, &id, f.version).await {
        Ok(_) => see_other(&format!("/files/{id}/versions")),
        Err(e) => refusal(e),
    })
}

// ---- creating ----

/// The signed-in user's writable container, or the page to answer instead.
async fn writable_container(
    state: &AppState,
    me: &SignedIn,
    id: &str,
) -> Result<Container, Response> {
    let acc = access::container_access(state, &me.user.id, id)
        .await
        .map_err(IntoResponse::into_response)?;
    match (acc, ops::containers::load(state, id).await) {
        (Access::Write, Ok(c)) => Ok(c),
        _ => Err(message(StatusCode::NOT_FOUND, "No such folder.")),
    }
}

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
        match state
            .meta
            .create_container(
                &wopid_store::new_id(),
                &parent.id,
                &me.user.id,
                name,
                state.now_ms(),
            )
            .await?
        {
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

#[derive(Template)]
#[template(path = "sharing.html")]
struct Sharing<'a> {
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
            name: &file.name,
            file_id: &file.id,
            csrf: &me.csrf,
        }
        .render(),
    ))
}

/// Exposed for the host page: the grant of the signed-in user on a file, or the page to answer.
pub(crate) async fn grant_for(
    state: &AppState,
    me: &SignedIn,
    id: &str,
    write: bool,
) -> Result<(FileRecord, Grant), Response> {
    file_grant(state, me, id, write).await
}
